//! vrl-check: runs the program `svcshell export vrl` writes with the `vrl` crate Vector 0.57 builds
//! (0.34.0), exactly as Vector's `remap` runs it, and compares it record by record with the svcshell library
//! (the oracle here): the same verdict, and the same output record as JSON values (svcshell's alert fields
//! included; keys compared as dotted paths, since VRL re-serialises the record). A record the program
//! `abort`s is dropped, as `remap` does with its default `drop_on_abort`.
//!
//! Records: the generated corpus of every shape (`tests/support/gen.rs`, its labels from the independent
//! reference `tests/support/reference.rs`: the library must agree with them too), the bundled recorded
//! events (`tests/data/events.ndjson`), the fuzz seeds that are JSON objects (`fuzz/seeds/`), and JSON-aware
//! mutants of all of those (`svcshell_cli::fuzz::Mutator`). Each is checked under several configurations
//! (the embedded rule; a loaded rule file with wildcards; an exception with `mode=alerts_only`). Usage:
//! `vrl-check [RECORDS] [SEED] [MUTANTS] [CONFIG]` (default 20000 generated records, RECORDS/2 mutants, every
//! configuration; CONFIG runs only the configuration of that name, or `samples` the single-shape ones).
//! The `svcshell export vector` fragment is checked for each configuration too (see [`check_vector`]).
//! `vrl-check bench [RECORDS]` measures the program's cost per record; `vrl-check compile FILE` prints a VRL
//! program's diagnostics. Exit status 1 on any difference.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use svcshell::{Action, Filter};
use vrl::compiler::ExpressionError;
use vrl::compiler::{state::RuntimeState, Context, Program, TargetValue, TimeZone};
use vrl::value::{Secrets, Value};

/// What happened to one record.
#[derive(Debug, PartialEq)]
enum Out {
    Dropped,
    Kept(Json),
}

fn svcshell_out(f: &Filter, line: &[u8], input: &Json) -> Option<Out> {
    let o = f.process(line);
    if o.error.is_some() {
        return None;
    }
    Some(match o.action {
        Action::Alert(bytes) => {
            Out::Kept(serde_json::from_slice(&bytes).expect("svcshell writes JSON"))
        }
        Action::Pass => Out::Kept(input.clone()),
        Action::Drop => Out::Dropped,
    })
}

fn vrl_out(p: &Program, input: &Json) -> Result<Out, String> {
    let mut target = TargetValue {
        value: Value::from(input.clone()),
        metadata: Value::Object(BTreeMap::new()),
        secrets: Secrets::default(),
    };
    let mut state = RuntimeState::default();
    let tz = TimeZone::default();
    let mut ctx = Context::new(&mut target, &mut state, &tz);
    match p.resolve(&mut ctx) {
        Ok(_) => Ok(Out::Kept(
            serde_json::to_value(&target.value).map_err(|e| e.to_string())?,
        )),
        Err(ExpressionError::Abort { .. }) => Ok(Out::Dropped),
        Err(e) => Err(e.to_string()),
    }
}

/// A record as (dotted path, value) pairs, sorted: nested, dotted and mixed keys of the same path compare
/// equal; arrays stay arrays (their object elements canonical too).
fn canon(v: &Json) -> Json {
    fn walk(prefix: &str, v: &Json, out: &mut Vec<(String, Json)>) {
        match v {
            Json::Object(m) if !m.is_empty() || prefix.is_empty() => {
                for (k, c) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&p, c, out);
                }
            }
            Json::Array(a) => out.push((
                prefix.to_string(),
                Json::Array(a.iter().map(canon).collect()),
            )),
            other => out.push((prefix.to_string(), other.clone())),
        }
    }
    if !v.is_object() {
        return v.clone();
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out.sort_by(|a, b| (a.0.as_str(), a.1.to_string()).cmp(&(b.0.as_str(), b.1.to_string())));
    out.dedup();
    Json::Array(
        out.into_iter()
            .map(|(k, v)| Json::Array(vec![Json::String(k), v]))
            .collect(),
    )
}

fn same(a: &Out, b: &Out) -> bool {
    match (a, b) {
        (Out::Dropped, Out::Dropped) => true,
        (Out::Kept(x), Out::Kept(y)) => canon(x) == canon(y),
        _ => false,
    }
}

fn is_alert(o: &Out, input: &Json) -> bool {
    matches!(o, Out::Kept(v) if canon(v) != canon(input))
}

#[derive(Default)]
struct Tally {
    records: usize,
    alerts: usize,
    skipped: usize,
    diffs: usize,
}

fn check(name: &str, props: &[(&str, &str)], lines: &[(String, Vec<u8>)], t: &mut Tally) {
    let filter = Filter::from_properties(props).expect("valid properties");
    let src = svcshell::export::vrl::program(&filter).expect("exportable configuration");
    let fns = vrl::stdlib::all();
    let program = match vrl::compiler::compile(&src, &fns) {
        Ok(r) => r.program,
        Err(diags) => {
            let text = vrl::diagnostic::Formatter::new(&src, diags).to_string();
            eprintln!("{name}: the exported program does not compile:\n{text}");
            t.diffs += 1;
            return;
        }
    };
    let (mut n, mut alerts, mut diffs) = (0, 0, 0);
    for (what, line) in lines {
        let Ok(input) = serde_json::from_slice::<Json>(line) else {
            continue;
        };
        if !input.is_object() || svcshell_cli::fuzz::has_duplicate_keys(line) {
            // Not a record Vector can hold as it is (a duplicate key is one value in Vector).
            t.skipped += 1;
            continue;
        }
        let Some(want) = svcshell_out(&filter, line, &input) else {
            t.skipped += 1;
            continue;
        };
        n += 1;
        if is_alert(&want, &input) {
            alerts += 1;
        }
        let got = vrl_out(&program, &input);
        let ok = matches!(&got, Ok(g) if same(g, &want));
        if !ok {
            diffs += 1;
            if diffs <= 5 {
                eprintln!(
                    "{name}: {what}: differs\n  record: {}\n  svcshell: {want:?}\n  vrl:      {got:?}",
                    String::from_utf8_lossy(line)
                );
            }
        }
    }
    println!("{name}: {n} records, {alerts} alerts (svcshell), {diffs} differences");
    t.records += n;
    t.alerts += alerts;
    t.diffs += diffs;
}

/// A VRL program run on `value` (and `metadata`) as Vector runs one: `Err` on a compile error or a runtime
/// error other than `abort`; `Ok(None)` when it aborts.
fn run_vrl(
    src: &str,
    value: Value,
    metadata: Value,
) -> Result<Option<(Value, Value, Value)>, String> {
    let program = vrl::compiler::compile(src, &vrl::stdlib::all())
        .map_err(|d| vrl::diagnostic::Formatter::new(src, d).to_string())?
        .program;
    run_program(&program, value, metadata)
}

/// [`run_vrl`] with the program compiled.
fn run_program(
    program: &Program,
    value: Value,
    metadata: Value,
) -> Result<Option<(Value, Value, Value)>, String> {
    let mut target = TargetValue {
        value,
        metadata,
        secrets: Secrets::default(),
    };
    let mut state = RuntimeState::default();
    let tz = TimeZone::default();
    let mut ctx = Context::new(&mut target, &mut state, &tz);
    match program.resolve(&mut ctx) {
        Ok(result) => Ok(Some((target.value, target.metadata, result))),
        Err(ExpressionError::Abort { .. }) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Checks the `svcshell export vector` fragment for one configuration without a Vector binary: the YAML
/// parses; the remap source is the exported program; each unit test is run as `vector test` runs it (its
/// `vrl` input program builds the event, the remap runs on it, the route's condition picks the output, a
/// throttle passes a single event) and its `outputs` conditions and `no_outputs_from` must hold. The tests'
/// expectations are svcshell's own outputs, so this also compares the program with svcshell on them.
/// Returns the number of failures.
fn check_vector(name: &str, props: &[(&str, &str)]) -> usize {
    let filter = Filter::from_properties(props).expect("valid properties");
    let yaml = svcshell::export::vector::config(&filter, "events").expect("exportable");
    let program = svcshell::export::vrl::program(&filter).expect("exportable");
    let compiled = match vrl::compiler::compile(&program, &vrl::stdlib::all()) {
        Ok(c) => c.program,
        Err(_) => {
            eprintln!("{name}: vector config: the program does not compile");
            return 1;
        }
    };
    let fail = |why: String| {
        eprintln!("{name}: vector config: {why}");
        1
    };
    let doc: Json = match serde_yaml_ng::from_str(&yaml) {
        Ok(d) => d,
        Err(e) => return fail(format!("not YAML: {e}")),
    };
    let t = &doc["transforms"];
    let remap = &t[svcshell::export::vector::REMAP];
    if remap["type"] != "remap" || remap["source"].as_str() != Some(program.as_str()) {
        return fail("the remap transform does not hold the exported program".into());
    }
    let route = &t[svcshell::export::vector::ROUTE];
    let Some(cond) = route["route"]["alert"]["source"].as_str() else {
        return fail("no alert route".into());
    };
    let cap = filter.config().max_alerts;
    let throttle = &t[svcshell::export::vector::CAP];
    let alerts_out = if cap > 0 {
        if throttle["type"] != "throttle"
            || throttle["threshold"].as_u64() != Some(cap)
            || throttle["window_secs"].as_u64() != Some(filter.config().alert_window)
        {
            return fail("the throttle does not carry max_alerts / alert_window".into());
        }
        svcshell::export::vector::CAP.to_string()
    } else {
        format!("{}.alert", svcshell::export::vector::ROUTE)
    };
    let unmatched = format!("{}._unmatched", svcshell::export::vector::ROUTE);
    let Some(tests) = doc["tests"].as_array() else {
        return fail("no tests".into());
    };
    let mut failures = 0;
    let (mut alerts, mut passes, mut dropped) = (0, 0, 0);
    for test in tests {
        let tname = test["name"].as_str().unwrap_or("?");
        let mut why = |w: String| {
            eprintln!("{name}: vector test {tname}: {w}");
            failures += 1;
        };
        let input = &test["inputs"][0];
        if input["insert_at"] != svcshell::export::vector::REMAP || input["type"] != "vrl" {
            why("the input is not a vrl event at the remap".into());
            continue;
        }
        let event = match run_vrl(
            input["source"].as_str().unwrap_or(""),
            Value::Object(BTreeMap::new()),
            Value::Object(BTreeMap::new()),
        ) {
            Ok(Some((v, _, _))) => v,
            other => {
                why(format!("input program: {other:?}"));
                continue;
            }
        };
        // Where the event goes.
        let reached: Option<(String, Value)> =
            match run_program(&compiled, event, Value::Object(BTreeMap::new())) {
                Err(e) => {
                    why(format!("remap: {e}"));
                    continue;
                }
                Ok(None) => None,
                Ok(Some((v, meta, _))) => match run_vrl(cond, v.clone(), meta) {
                    Ok(Some((_, _, Value::Boolean(true)))) => Some((alerts_out.clone(), v)),
                    Ok(Some((_, _, Value::Boolean(false)))) => Some((unmatched.clone(), v)),
                    other => {
                        why(format!("route condition: {other:?}"));
                        continue;
                    }
                },
            };
        match &reached {
            None => dropped += 1,
            Some((o, _)) if *o == alerts_out => alerts += 1,
            Some(_) => passes += 1,
        }
        for out in test["outputs"].as_array().into_iter().flatten() {
            let from = out["extract_from"].as_str().unwrap_or("");
            let Some((_, v)) = reached.as_ref().filter(|(o, _)| o == from) else {
                why(format!(
                    "expects output from {from}, the event went to {:?}",
                    reached.as_ref().map(|r| &r.0)
                ));
                continue;
            };
            for c in out["conditions"].as_array().into_iter().flatten() {
                match run_vrl(
                    c["source"].as_str().unwrap_or(""),
                    v.clone(),
                    Value::Object(BTreeMap::new()),
                ) {
                    Ok(Some((_, _, Value::Boolean(true)))) => {}
                    other => why(format!("condition on {from}: {other:?}")),
                }
            }
        }
        for none in test["no_outputs_from"].as_array().into_iter().flatten() {
            let none = none.as_str().unwrap_or("");
            let hit = match &reached {
                None => false,
                Some((o, _)) => o == none || none == svcshell::export::vector::REMAP,
            };
            if hit {
                why(format!("expects no output from {none}"));
            }
        }
    }
    println!(
        "{name}: vector config: {} unit tests ({alerts} alerts, {passes} passed on, {dropped} dropped), {failures} failures",
        tests.len()
    );
    failures
}

/// `vrl-check bench [RECORDS [FILE]]`: the cost per record of the exported program (every shape; tag mode; or
/// the program in FILE) against
/// a no-op remap program, both run as `vrl_out` runs them, over generated records of every shape (release
/// build: `cargo run --release -- bench`). Prints ns per record for each and the difference.
fn bench(n: usize, file: Option<&String>) {
    let filter = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    let src = match file {
        Some(f) => std::fs::read_to_string(f).expect("FILE"),
        None => svcshell::export::vrl::program(&filter).unwrap(),
    };
    let fns = vrl::stdlib::all();
    let exported = vrl::compiler::compile(&src, &fns).unwrap().program;
    let noop = vrl::compiler::compile(".", &fns).unwrap().program;
    let sets = filter.prefilter_literals();
    // Whether the program's literal test lets the record through to the walk and the rule (as it tests it:
    // every set has a member in the lowercased JSON text).
    let through = |v: &Json| {
        let text = v.to_string().to_lowercase();
        sets.iter().all(|set| {
            set.iter()
                .any(|l| text.contains(std::str::from_utf8(l).unwrap()))
        })
    };
    let rates = support::gen::Rates {
        process: 0.8,
        attack: 0.3,
        ..Default::default()
    };
    let c = support::gen::corpus(&support::reference::Shape::ALL, n, 11, rates);
    let inputs: Vec<Json> = c
        .lines
        .iter()
        .filter_map(|l| serde_json::from_slice::<Json>(l).ok())
        .filter(Json::is_object)
        .collect();
    let (read, ruled_out): (Vec<Json>, Vec<Json>) = inputs.iter().cloned().partition(through);
    let time = |p: &Program, inputs: &[Json]| {
        let t = std::time::Instant::now();
        for _ in 0..3 {
            for v in inputs {
                std::hint::black_box(vrl_out(p, v).is_ok());
            }
        }
        t.elapsed().as_nanos() as f64 / (3 * inputs.len().max(1)) as f64
    };
    let avg = inputs.iter().map(|v| v.to_string().len()).sum::<usize>() / inputs.len().max(1);
    println!(
        "{} records of every shape ({avg} bytes on average; most of them process starts), 3 passes:",
        inputs.len()
    );
    for (what, part) in [
        ("all", &inputs),
        ("ruled out by the literal test", &ruled_out),
        ("read in full (they hold the literals)", &read),
    ] {
        let base = time(&noop, part);
        let cost = time(&exported, part);
        println!(
            "  {what} ({}): no-op remap {base:.0} ns/record, exported program {cost:.0} ns/record, the rule's cost {:.0} ns/record",
            part.len(),
            cost - base
        );
    }
}

/// Winlogbeat records (svcshell's shape `winlogbeat_*`, nested keys only) as Vector's `windows_event_log` source writes the
/// same event (System values top-level in snake_case, `event_id` an integer, named data in `event_data`):
/// the program's verdict on the twin must be its verdict on the Winlogbeat record, and svcshell's on both.
/// Returns (twins, alerts, differences).
fn check_twins(lines: &[(String, Vec<u8>)]) -> (usize, usize, usize) {
    let filter = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    let src = svcshell::export::vrl::program(&filter).unwrap();
    let program = vrl::compiler::compile(&src, &vrl::stdlib::all())
        .unwrap()
        .program;
    let verdict = |v: &Json| -> Option<bool> {
        match run_program(
            &program,
            Value::from(v.clone()),
            Value::Object(BTreeMap::new()),
        ) {
            Ok(Some((_, meta, _))) => Some(
                matches!(&meta, Value::Object(m) if m.get("svcshell_alert") == Some(&Value::Boolean(true))),
            ),
            _ => None,
        }
    };
    let (mut n, mut alerts, mut diffs) = (0, 0, 0);
    for (what, line) in lines {
        let Ok(w) = serde_json::from_slice::<Json>(line) else {
            continue;
        };
        let wl = &w["winlog"];
        // Only nested records: a dotted key (`winlog.event_data.Image`) is not rewritten here.
        fn dotted(v: &Json) -> bool {
            match v {
                Json::Object(m) => m.iter().any(|(k, c)| k.contains('.') || dotted(c)),
                Json::Array(a) => a.iter().any(dotted),
                _ => false,
            }
        }
        let winlogbeat = filter
            .explain(line)
            .is_ok_and(|e| e.shape.is_some_and(|s| s.starts_with("winlogbeat_")));
        if !winlogbeat
            || !wl["channel"].is_string()
            || dotted(&w)
            || svcshell_cli::fuzz::has_duplicate_keys(line)
        {
            continue;
        }
        let mut v = serde_json::json!({
            "message": w["message"], "channel": wl["channel"], "provider_name": wl["provider_name"],
            "computer": wl["computer_name"], "record_id": wl["record_id"],
            "event_id": wl["event_id"].as_str().and_then(|s| s.parse::<u64>().ok()).map_or_else(|| wl["event_id"].clone(), Json::from),
        });
        if !v["provider_name"].is_string() {
            v["provider_name"] = Json::from("Microsoft-Windows-Sysmon");
        }
        if let Some(d) = wl.get("event_data") {
            v["event_data"] = d.clone();
        }
        if let Some(os) = w.get("host").and_then(|h| h.get("os")) {
            v["host"] = serde_json::json!({ "os": os });
        }
        let twin = v.to_string();
        let want = filter.matches(line).ok();
        let got = (
            verdict(&w),
            verdict(&v),
            filter.matches(twin.as_bytes()).ok(),
        );
        n += 1;
        if got != (want, want, want) {
            diffs += 1;
            if diffs <= 5 {
                eprintln!("twin of {what} differs: svcshell {want:?}, (vrl, vrl on the twin, svcshell on the twin) {got:?}\n  {twin}");
            }
        } else if want == Some(true) {
            alerts += 1;
        }
    }
    (n, alerts, diffs)
}

fn json_objects_in(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_objects_in(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            if serde_json::from_slice::<Json>(&b).is_ok_and(|v| v.is_object()) {
                out.push((p.display().to_string(), b.clone()));
            }
            for (k, l) in b.split(|&c| c == b'\n').enumerate() {
                if serde_json::from_slice::<Json>(l).is_ok_and(|v| v.is_object()) {
                    out.push((format!("{}:{}", p.display(), k + 1), l.to_vec()));
                }
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("compile") {
        // `vrl-check compile FILE`: the diagnostics of one VRL program (for working on the generator).
        let src = std::fs::read_to_string(&args[2]).expect("FILE");
        match vrl::compiler::compile(&src, &vrl::stdlib::all()) {
            Ok(_) => println!("ok"),
            Err(d) => println!("{}", vrl::diagnostic::Formatter::new(&src, d)),
        }
        return;
    }
    if args.get(1).map(String::as_str) == Some("bench") {
        bench(
            args.get(2).map_or(20_000, |a| a.parse().expect("RECORDS")),
            args.get(3),
        );
        return;
    }
    let n: usize = args.get(1).map_or(20_000, |a| a.parse().expect("RECORDS"));
    let seed: u64 = args.get(2).map_or(11, |a| a.parse().expect("SEED"));
    let n_mutants: usize = args.get(3).map_or(n / 2, |a| a.parse().expect("MUTANTS"));
    let only = args.get(4).cloned().unwrap_or_default();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");

    // Generated records of every shape; the library must agree with the reference's labels first.
    let rates = support::gen::Rates {
        process: 0.8,
        attack: 0.3,
        ..Default::default()
    };
    // Every shape alike.
    let shapes = support::reference::Shape::ALL;
    let c = support::gen::corpus(&shapes, n, seed, rates);
    let all = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    let label_diffs = c
        .lines
        .iter()
        .zip(&c.labels)
        .filter(|(l, &want)| all.matches(l).unwrap_or(false) != want)
        .count();
    println!(
        "generated: {} records, {} positives (reference labels), {label_diffs} library/label differences",
        c.lines.len(),
        c.positives()
    );
    let mut lines: Vec<(String, Vec<u8>)> = c
        .lines
        .into_iter()
        .enumerate()
        .map(|(k, l)| (format!("generated #{}", k + 1), l))
        .collect();
    let events = root.join("tests/data/events.ndjson");
    let ev = std::fs::read(&events).expect("tests/data/events.ndjson");
    let mut seeds: Vec<(String, Vec<u8>)> = ev
        .split(|&c| c == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(k, l)| (format!("events.ndjson:{}", k + 1), l.to_vec()))
        .collect();
    json_objects_in(&root.join("fuzz/seeds"), &mut seeds);
    json_objects_in(&root.join("tests/data/fixtures"), &mut seeds);
    // JSON-aware mutants of the recorded events and seeds.
    let mut m = svcshell_cli::fuzz::Mutator::new(seeds.iter().map(|(_, l)| l.clone()).collect());
    let mut rng = svcshell_cli::fuzz::Rng::new(seed);
    let mutants: Vec<(String, Vec<u8>)> = (0..n_mutants)
        .map(|k| {
            let (b, ops) = m.mutant(&mut rng);
            if serde_json::from_slice::<Json>(&b).is_ok_and(|v| v.is_object()) {
                m.keep(&b, &mut rng);
            }
            (format!("mutant #{k} ({})", ops.join(",")), b)
        })
        .collect();
    lines.extend(seeds);
    lines.extend(mutants);

    let mut t = Tally::default();
    let x = "process.args : \"/c\"";
    // A loaded rule with wildcards (`powershell*.exe`, `*\\Tool\\*.bat`) and more fields.
    let tuned = root.join("rules/kibana-export-tuned.ndjson");
    let tuned = tuned.to_str().expect("UTF-8 path");
    for (name, props) in [
        ("every shape, tag", vec![("max_alerts", "0")]),
        (
            "every shape, alerts_only, exception",
            vec![
                ("max_alerts", "0"),
                ("mode", "alerts_only"),
                ("exception", x),
            ],
        ),
        (
            "every shape, tag, tuned rule file",
            vec![
                ("max_alerts", "0"),
                ("rule_file", tuned),
                ("rule_id", "b7e3c1a0-5d2f-4e8a-9c61-2f0d4a6b8e17"),
            ],
        ),
        ("ecs, tag", vec![("sources", "ecs"), ("max_alerts", "0")]),
        (
            "ecs, tag, tuned rule file",
            vec![
                ("sources", "ecs"),
                ("max_alerts", "0"),
                ("rule_file", tuned),
                ("rule_id", "b7e3c1a0-5d2f-4e8a-9c61-2f0d4a6b8e17"),
            ],
        ),
        (
            "ecs, alerts_only, exception",
            vec![
                ("sources", "ecs"),
                ("max_alerts", "0"),
                ("mode", "alerts_only"),
                ("exception", x),
            ],
        ),
    ] {
        if !only.is_empty() && name != only {
            continue;
        }
        check(name, &props, &lines, &mut t);
        t.diffs += check_vector(name, &props);
    }
    if only.is_empty() || only == "twins" {
        let (n, alerts, diffs) = check_twins(&lines);
        println!("vector_winevtlog twins of Winlogbeat records: {n} pairs, {alerts} alerts, {diffs} differences");
        t.diffs += diffs + usize::from(alerts == 0);
    }
    if only.is_empty() || only == "samples" {
        // Each shape alone (the program differs by `sources`: a record of a shape not enabled gets no shape),
        // on a sample of the records.
        let step = (lines.len() / 3000).max(1);
        let sample: Vec<(String, Vec<u8>)> = lines.iter().step_by(step).cloned().collect();
        for shape in svcshell::source::Shape::ALL {
            let name = format!("sources={}, tag, sample", shape.name());
            let props = [("sources", shape.name()), ("max_alerts", "0")];
            check(&name, &props, &sample, &mut t);
        }
        // The default cap: the throttle on the alert route.
        t.diffs += check_vector("every shape, default cap", &[]);
    }
    println!(
        "total: {} record checks, {} alerts, {} skipped (not JSON objects / duplicate keys / svcshell errors), {} differences",
        t.records, t.alerts, t.skipped, t.diffs
    );
    if t.diffs > 0 || label_diffs > 0 {
        std::process::exit(1);
    }
}
