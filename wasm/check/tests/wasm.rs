//! `svcshell.wasm` under a WASM runtime, called as Fluent Bit's `filter_wasm` calls it (`src/lib.rs`), against
//! the svcshell library built natively (the oracle: the same settings, the same records, `Filter::process_at`)
//! and, on the generated corpus, against the labels of the project's independent reference
//! (`tests/support/reference.rs`).
//!
//! Records: a generated corpus of every shape (`tests/support/gen.rs`, 20,000 records), the recorded events,
//! the fuzz seeds and fixtures that are JSON objects, and JSON-aware mutants of those (`svcshell_cli::fuzz::Mutator`),
//! each under several settings files (defaults; `alerts_only` with an exception and a rule file read beside the
//! settings; the alert cap). Then the settings file itself: found in the first accessible directory holding one,
//! refused with svcshell's message (the instantiation traps), and records far beyond Fluent Bit's 8 KB heap.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use svcshell::{Action, Filter};
use svcshell_wasm_check::{module_path, Answer, Host};

fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| Host::new(&module_path()).expect("svcshell.wasm compiles"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory holding `svcshell.conf` with `settings` (none when `None`).
fn settings_dir(name: &str, settings: Option<&str>) -> PathBuf {
    let d = std::env::temp_dir().join(format!("svcshell-wasm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    if let Some(s) = settings {
        std::fs::write(d.join("svcshell.conf"), s).unwrap();
    }
    d
}

/// What Fluent Bit does with a record the library processed: the host's copy, the alert, or nothing. An empty
/// record is dropped whatever the answer: an empty string is how a filter drops one (Fluent Bit never hands
/// over an empty body: it writes `{}` at least).
fn native(f: &Filter, record: &[u8], sec: u32) -> Answer {
    match f.process_at(record, i64::from(sec)).action {
        Action::Pass if record.is_empty() => Answer::Dropped,
        Action::Pass => Answer::Record(record.to_vec()),
        Action::Alert(out) => Answer::Record(out),
        Action::Drop => Answer::Dropped,
    }
}

fn json_objects_in(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_objects_in(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            for l in b.split(|&c| c == b'\n') {
                if serde_json::from_slice::<serde_json::Value>(l).is_ok_and(|v| v.is_object()) {
                    out.push(l.to_vec());
                }
            }
        }
    }
}

/// Records, and the reference's label where there is one.
type Records = (Vec<Vec<u8>>, Vec<Option<bool>>);

/// The records: generated (with the reference's labels), recorded, seeds and fixtures, and mutants.
fn records() -> &'static Records {
    static R: OnceLock<Records> = OnceLock::new();
    R.get_or_init(|| {
        use support::reference::Shape;
        let rates = support::gen::Rates {
            process: 0.8,
            attack: 0.3,
            ..Default::default()
        };
        let c = support::gen::corpus(&Shape::ALL, 20_000, 17, rates);
        let mut lines = c.lines;
        let mut labels: Vec<Option<bool>> = c.labels.into_iter().map(Some).collect();
        let mut seeds: Vec<Vec<u8>> = std::fs::read(root().join("tests/data/events.ndjson"))
            .unwrap()
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        json_objects_in(&root().join("fuzz/seeds"), &mut seeds);
        json_objects_in(&root().join("tests/data/fixtures"), &mut seeds);
        let mut m = svcshell_cli::fuzz::Mutator::new(seeds.clone());
        let mut rng = svcshell_cli::fuzz::Rng::new(17);
        let mutants: Vec<Vec<u8>> = (0..10_000)
            .map(|_| {
                let (b, _) = m.mutant(&mut rng);
                if serde_json::from_slice::<serde_json::Value>(&b).is_ok_and(|v| v.is_object()) {
                    m.keep(&b, &mut rng);
                }
                b
            })
            .collect();
        labels.extend(std::iter::repeat_n(None, seeds.len() + mutants.len()));
        lines.extend(seeds);
        lines.extend(mutants);
        (lines, labels)
    })
}

/// Every record through the module and through the library under the same settings: the answers must be equal
/// byte for byte, in order (the cap's state carries from record to record in both). Returns the alerts.
fn same_as_library(name: &str, settings: &str, files: &[(&str, &Path)]) -> usize {
    let dir = settings_dir(name, Some(settings));
    for (to, from) in files {
        std::fs::create_dir_all(dir.join(to).parent().unwrap()).unwrap();
        std::fs::copy(from, dir.join(to)).unwrap();
    }
    let lib =
        svcshell::settings::load(&dir.join("svcshell.conf")).expect("the settings load natively");
    let mut wasm = host()
        .instantiate(&[&dir])
        .unwrap_or_else(|r| panic!("{name}: refused: {r:?}"));
    let (lines, _) = records();
    let (mut diffs, mut alerts, mut dropped) = (0, 0, 0);
    for (k, line) in lines.iter().enumerate() {
        // Event times 2 s apart from 2024-05-01, as Fluent Bit passes them.
        let sec = 1_714_521_600 + 2 * k as u32;
        let cut = line.split(|&b| b == 0).next().unwrap();
        let want = native(&lib, cut, sec);
        let got = wasm
            .call("events", sec, line)
            .unwrap_or_else(|e| panic!("{name} #{k}: {e:#}"));
        if got != want {
            diffs += 1;
            if diffs <= 5 {
                eprintln!(
                    "{name} #{k}: wasm {:?}\n  library {:?}\n  record {}",
                    show(&got),
                    show(&want),
                    String::from_utf8_lossy(line)
                );
            }
        }
        match &want {
            Answer::Record(r) if r.as_slice() != cut => alerts += 1,
            Answer::Dropped => dropped += 1,
            _ => {}
        }
    }
    println!(
        "{name}: {} records, {alerts} alerts, {dropped} dropped, {diffs} differences; module memory {} KB",
        lines.len(),
        wasm.memory_bytes() / 1024
    );
    assert_eq!(diffs, 0, "{name}: the module and the library differ");
    let warnings: String = lib
        .warnings()
        .iter()
        .map(|w| format!("[svcshell] warning: {w}\n"))
        .collect();
    assert_eq!(
        wasm.stderr(),
        warnings,
        "{name}: standard error holds the library's warnings"
    );
    alerts
}

/// The values at a dotted path, whichever way the record spells it (nested objects, dotted keys, or both;
/// through arrays of objects).
fn dotted<'v>(v: &'v serde_json::Value, path: &str) -> Vec<&'v serde_json::Value> {
    let mut out = Vec::new();
    match v {
        serde_json::Value::Object(m) => {
            for (k, c) in m {
                if k == path {
                    out.push(c);
                } else if let Some(rest) = path
                    .strip_prefix(k.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                {
                    out.extend(dotted(c, rest));
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|e| out.extend(dotted(e, path))),
        _ => {}
    }
    out
}

fn show(a: &Answer) -> String {
    match a {
        Answer::Dropped => "dropped".into(),
        Answer::Record(r) => {
            let s = String::from_utf8_lossy(r);
            s.chars().take(300).collect()
        }
    }
}

#[test]
fn module_exports_what_filter_wasm_calls() {
    let e = host().exports();
    for name in ["svcshell_filter", "malloc", "free", "_initialize", "memory"] {
        assert!(e.iter().any(|x| x == name), "{name} not exported: {e:?}");
    }
}

/// The generated records' labels, from the independent reference, are what the module answers.
#[test]
fn generated_corpus_alerts_exactly_where_labelled() {
    let dir = settings_dir("labels", Some("max_alerts = 0\n"));
    let mut wasm = host().instantiate(&[&dir]).expect("instantiates");
    let (lines, labels) = records();
    let (mut checked, mut positives, mut wrong) = (0, 0, 0);
    for (k, (line, label)) in lines.iter().zip(labels).enumerate() {
        let Some(label) = label else { continue };
        let got = wasm.call("events", 1_714_521_600, line).unwrap();
        let alert = match &got {
            Answer::Record(r) => r != line,
            Answer::Dropped => panic!("#{k} dropped in tag mode"),
        };
        if alert {
            let v: serde_json::Value = serde_json::from_slice(match &got {
                Answer::Record(r) => r,
                Answer::Dropped => unreachable!(),
            })
            .expect("an alert is JSON");
            assert_eq!(
                dotted(&v, "event.kind"),
                vec![&serde_json::json!("alert")],
                "#{k}: {v}"
            );
        }
        checked += 1;
        positives += usize::from(*label);
        if alert != *label {
            wrong += 1;
            eprintln!(
                "#{k}: label {label}, wasm alert {alert}: {}",
                String::from_utf8_lossy(line)
            );
        }
    }
    println!("labelled: {checked} records, {positives} positives, {wrong} differences");
    assert!(checked >= 20_000 && positives > 1_000);
    assert_eq!(wrong, 0);
}

#[test]
fn defaults_without_a_settings_file() {
    // No settings file: the embedded v313 rule, tag mode, the default cap (100 per 5 minutes of event time).
    let dir = settings_dir("none", None);
    let mut wasm = host().instantiate(&[&dir]).expect("instantiates");
    let lib = Filter::from_properties::<&str, &str>(&[]).unwrap();
    let (lines, _) = records();
    let mut alerts = 0;
    for (k, line) in lines.iter().enumerate() {
        let sec = 1_714_521_600 + (k as u32 / 50);
        let cut = line.split(|&b| b == 0).next().unwrap();
        let want = native(&lib, cut, sec);
        alerts += usize::from(matches!(&want, Answer::Record(r) if r.as_slice() != cut));
        assert_eq!(wasm.call("t", sec, line).unwrap(), want, "#{k}");
    }
    // About 600 s of event time: three 5-minute windows of at most 100 alerts each.
    assert!(alerts > 200 && alerts <= 300, "{alerts}");
    assert!(lib.stats().suppressed > 0, "the cap was reached");
    assert_eq!(wasm.stderr(), "");
}

#[test]
fn tag_mode_without_a_cap() {
    let n = same_as_library("tag", "# every match alerts\nmax_alerts = 0\n", &[]);
    assert!(n > 1_000, "{n}");
}

#[test]
fn alerts_only_with_an_exception_and_a_rule_file() {
    let latest = root().join("rules/persistence_system_shells_via_services.latest.toml");
    let n = same_as_library(
        "alerts-only",
        "mode = alerts_only\nexception = process.args : \"/c\"\nmax_alerts=0\nrule_file = rules/latest.toml\n",
        &[("rules/latest.toml", &latest)],
    );
    assert!(n > 500, "{n}");
}

#[test]
fn the_cap_is_keyed_on_the_event_time() {
    let n = same_as_library("cap", "max_alerts = 3\nalert_window = 60s\n", &[]);
    // 30 s of event time per 15 records: at most 3 alerts per 60 s window.
    let windows = records().0.len() * 2 / 60 + 1;
    assert!(
        n <= 3 * windows && n > windows,
        "{n} alerts over {windows} windows"
    );
}

#[test]
fn a_tuned_rule_from_a_kibana_export() {
    let tuned = root().join("rules/kibana-export-tuned.ndjson");
    same_as_library(
        "tuned",
        "rule_file = tuned.ndjson\nrule_id = b7e3c1a0-5d2f-4e8a-9c61-2f0d4a6b8e17\nmax_alerts = 0\n",
        &[("tuned.ndjson", &tuned)],
    );
}

/// The first accessible directory that holds `svcshell.conf` is the one read.
#[test]
fn settings_come_from_the_first_directory_holding_them() {
    let empty = settings_dir("first-empty", None);
    let only = settings_dir("first-only", Some("mode = alerts_only\n"));
    let tag = settings_dir("first-tag", Some("mode = tag\n"));
    let plain = br#"{"process":{"name":"notepad.exe"}}"#;
    let mut a = host().instantiate(&[&empty, &only, &tag]).unwrap();
    assert_eq!(a.call("t", 0, plain).unwrap(), Answer::Dropped);
    let mut b = host().instantiate(&[&empty, &tag, &only]).unwrap();
    assert_eq!(
        b.call("t", 0, plain).unwrap(),
        Answer::Record(plain.to_vec())
    );
    let mut c = host().instantiate(&[]).unwrap();
    assert_eq!(
        c.call("t", 0, plain).unwrap(),
        Answer::Record(plain.to_vec())
    );
}

/// An invalid settings file: the instantiation traps (so Fluent Bit refuses the module), with svcshell's own
/// message, naming the file and line, on standard error.
#[test]
fn invalid_settings_refuse_the_module() {
    for (i, (text, message)) in [
        (
            "mode = loud\n",
            ":1: mode: `loud` is not a mode (tag, alerts_only)",
        ),
        (
            "max_alerts=1\nmax_alerts=2\n",
            ":2: max_alerts: set more than once",
        ),
        ("colour = red\n", ":1: colour: unknown property"),
        ("just words\n", ":1: `just words` is not KEY=VALUE"),
        ("exception = process.name : (\n", ":1: exception: "),
        ("rule_file = absent.toml\n", ":1: rule_file: "),
        ("sources = ecs, nope\n", ":1: sources: "),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = settings_dir(&format!("bad-{i}"), Some(text));
        let r = host()
            .instantiate(&[&dir])
            .err()
            .unwrap_or_else(|| panic!("{text:?} was accepted"));
        let conf = dir.join("svcshell.conf");
        let want = format!("[svcshell] error: {}{message}", conf.display());
        assert!(
            r.stderr.starts_with(&want),
            "{text:?}: {:?} (want {want:?})",
            r.stderr
        );
        assert!(
            r.stderr.contains("the settings are refused"),
            "{:?}",
            r.stderr
        );
        assert!(
            r.error.contains("unreachable") || r.error.contains("trap"),
            "{}",
            r.error
        );
    }
}

/// Records far larger than Fluent Bit's default 8 KB WASM heap: the module's own allocator takes them.
#[test]
fn large_records() {
    let dir = settings_dir("large", Some("max_alerts = 0\n"));
    let mut wasm = host().instantiate(&[&dir]).unwrap();
    let lib = svcshell::settings::load(&dir.join("svcshell.conf")).unwrap();
    let pad = "x".repeat(4 << 20);
    let plain = format!(r#"{{"message":"{pad}","process":{{"name":"cmd.exe"}}}}"#);
    let attack = format!(
        r#"{{"@timestamp":"2024-05-01T12:00:00Z","event":{{"category":["process"],"type":["start"]}},"host":{{"os":{{"type":"windows"}}}},"message":"{pad}","process":{{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{{"name":"services.exe"}}}}}}"#
    );
    for r in [plain.as_bytes(), attack.as_bytes()] {
        assert_eq!(wasm.call("t", 1, r).unwrap(), native(&lib, r, 1));
    }
    assert!(
        matches!(wasm.call("t", 1, attack.as_bytes()).unwrap(), Answer::Record(r) if r.len() > attack.len())
    );
    // Deep nesting, as deep as svcshell reads records.
    let deep = format!("{}{}", "{\"a\":".repeat(5000), "}".repeat(5000));
    assert_eq!(
        wasm.call("t", 1, deep.as_bytes()).unwrap(),
        native(&lib, deep.as_bytes(), 1)
    );
}

/// A rule reading a field no enabled shape derives loads with svcshell's warning on standard error.
#[test]
fn rule_warnings_are_reported() {
    let rule = root().join("rules/kibana-export-tuned.ndjson");
    let dir = settings_dir(
        "warn",
        Some("rule_file = tuned.ndjson\nrule_id = b7e3c1a0-5d2f-4e8a-9c61-2f0d4a6b8e17\nsources = winevtlog\n"),
    );
    std::fs::copy(rule, dir.join("tuned.ndjson")).unwrap();
    let lib = svcshell::settings::load(&dir.join("svcshell.conf")).unwrap();
    let wasm = host().instantiate(&[&dir]).unwrap();
    let mut want = String::new();
    for w in lib.warnings() {
        want.push_str(&format!("[svcshell] warning: {w}\n"));
    }
    assert!(
        !want.is_empty(),
        "the library warns about this rule and shape"
    );
    assert_eq!(wasm.stderr(), want);
}
