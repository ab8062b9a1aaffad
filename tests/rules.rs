//! Rules as data (`rule_file`, `rule_id`): the committed rule files under `rules/` load, their alerts carry their
//! own metadata, and the verdicts are right for each loaded rule.
//!
//! - The embedded constants are pinned to the committed v313 detection-rules file.
//! - The latest detection-rules TOML gives the labels of the in-repo generator (`tests/support/`) and alerts
//!   with T1569.002.
//! - A tuned copy exported from Kibana gives the verdicts its query means: an independent predicate written
//!   here by hand over the reference's derived fields (`tests/support/reference.rs`) and the record's own
//!   `host.name`, never the library.
//! - Differential: for every loaded rule, the fast path (literal prefilter, `validate=matches`), `validate=all`,
//!   the serde_json `Value` path and the Fluent Bit msgpack chunk path agree record by record.
//! - Refusals name the file, the line and column in it and in the query; bad files (truncated, binary, huge,
//!   deeply nested) are refused without a crash.

mod common;

use std::path::PathBuf;

use common::support::gen::{self, Rates, Rng};
use common::support::reference::{self, Fields, Shape};
use common::{rule_path, toml_rule, write};
use serde_json::{json, Value};
use svcshell::filter::ChunkResult;
use svcshell::record::msgpack;
use svcshell::{Action, Config, Filter};

const V313_ID: &str = "0022d47d-39c7-4f69-a232-4fe9dc7a3acd";
const TUNED_ID: &str = "b7e3c1a0-5d2f-4e8a-9c61-2f0d4a6b8e17";
const DC_ID: &str = "e41c9a27-0b6d-4f3e-8a5c-93d2b7f10c66";

fn latest() -> String {
    rule_path("persistence_system_shells_via_services.latest.toml")
}

fn v313() -> String {
    rule_path("persistence_system_shells_via_services.v313.toml")
}

fn export() -> String {
    rule_path("kibana-export-tuned.ndjson")
}

fn filter(props: &[(&str, &str)]) -> Filter {
    Filter::from_properties(props).unwrap_or_else(|e| panic!("{props:?}: {e}"))
}

/// The alert a filter writes for `line`, parsed.
fn alert_of(f: &Filter, line: &[u8]) -> Value {
    match f.process(line).action {
        Action::Alert(a) => serde_json::from_slice(&a).expect("alert is JSON"),
        other => panic!("no alert: {other:?}"),
    }
}

fn at<'v>(v: &'v Value, path: &str) -> &'v Value {
    path.split('.').fold(v, |v, k| &v[k])
}

const ATTACK: &[u8] = br#"{"@timestamp":"2026-05-04T10:00:00Z","event":{"category":["process"],"type":["start"]},"host":{"name":"ws-1","os":{"type":"windows"}},"process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"services.exe"}}}"#;

// ------------------------------------------------------------------------------------------- metadata

#[test]
fn embedded_constants_are_the_committed_v313_file() {
    let file = svcshell::rule::load(&v313(), None).unwrap();
    let e = svcshell::rule::Rule::embedded();
    assert_eq!(file.query, e.query, "the query, byte for byte");
    assert_eq!(
        (&file.rule_id, &file.name, &file.severity, file.risk_score),
        (&e.rule_id, &e.name, &e.severity, e.risk_score)
    );
    assert_eq!((&file.author, &file.license), (&e.author, &e.license));
    assert_eq!(
        (
            &file.frameworks,
            &file.tactics,
            &file.techniques,
            &file.subtechniques
        ),
        (&e.frameworks, &e.tactics, &e.techniques, &e.subtechniques)
    );
    assert_eq!(file.version, None, "a detection-rules TOML has no version");
    assert_eq!(e.note, file.note, "the embedded guide is the file's");
    assert!(e
        .note
        .as_deref()
        .unwrap()
        .starts_with("## Triage and analysis"));
}

#[test]
fn latest_toml_alerts_carry_t1569_and_no_version() {
    let f = filter(&[("rule_file", &latest())]);
    let a = alert_of(&f, ATTACK);
    assert_eq!(a["rule"]["id"], V313_ID);
    assert_eq!(a["rule"]["name"], "System Shells via Services");
    assert!(a["rule"].get("version").is_none(), "{}", a["rule"]);
    assert_eq!(a["event"]["severity"], 47);
    assert_eq!(a["event"]["risk_score"], 47);
    assert_eq!(a["event"]["kind"], "alert");
    assert_eq!(
        at(&a, "threat.technique.id"),
        &json!(["T1543", "T1059", "T1569"])
    );
    assert_eq!(
        at(&a, "threat.technique.subtechnique.id"),
        &json!(["T1543.003", "T1059.001", "T1059.003", "T1569.002"])
    );
    assert_eq!(
        at(&a, "threat.technique.subtechnique.name")[3],
        "Service Execution"
    );
    assert_eq!(at(&a, "threat.tactic.id"), &json!(["TA0003", "TA0002"]));
    assert_eq!(a["threat"]["framework"], "MITRE ATT&CK");
    assert_eq!(a["rule"]["category"], "Persistence");
    assert_eq!(a["rule"]["license"], "Elastic License v2");
    assert_eq!(a["rule"]["author"], json!(["Elastic"]));
    assert!(a["rule"]["description"]
        .as_str()
        .unwrap()
        .starts_with("Windows services typically run as SYSTEM"));
    // Defaults: no max_signals / interval in the file → Kibana's 100 per 5m.
    assert_eq!((f.config().max_alerts, f.config().alert_window), (100, 300));
}

#[test]
fn tuned_export_alerts_carry_its_own_metadata_and_schedule() {
    let f = filter(&[("rule_file", &export()), ("rule_id", TUNED_ID)]);
    let a = alert_of(&f, ATTACK);
    assert_eq!(a["rule"]["id"], TUNED_ID);
    assert_eq!(a["rule"]["uuid"], TUNED_ID);
    assert_eq!(a["rule"]["name"], "System Shells via Services (tuned)");
    assert_eq!(a["message"], "System Shells via Services (tuned)");
    assert_eq!(a["rule"]["version"], "7");
    assert_eq!(a["event"]["severity"], 73);
    assert_eq!(a["event"]["risk_score"], 73);
    assert_eq!(a["rule"]["author"], json!(["Corp Detection Engineering"]));
    assert!(
        a["rule"].get("license").is_none(),
        "empty license: not written"
    );
    assert!(
        a["rule"].get("ruleset").is_none(),
        "a custom rule has no ruleset"
    );
    assert_eq!(a["rule"]["category"], "Privilege Escalation");
    assert_eq!(
        a["rule"]["reference"],
        json!([
            "https://wiki.corp.example.org/detections/svc-shells",
            "https://attack.mitre.org/techniques/T1569/002/"
        ])
    );
    assert_eq!(at(&a, "threat.tactic.id"), &json!(["TA0004", "TA0002"]));
    assert_eq!(
        at(&a, "threat.technique.id"),
        &json!(["T1543", "T1569", "T1059"])
    );
    assert_eq!(
        at(&a, "threat.technique.subtechnique.id"),
        &json!(["T1543.003", "T1569.002"])
    );
    // max_signals 250 and interval 10m are the cap's defaults; explicit properties still win.
    assert_eq!((f.config().max_alerts, f.config().alert_window), (250, 600));
    let g = filter(&[
        ("rule_file", &export()),
        ("rule_id", TUNED_ID),
        ("max_alerts", "3"),
        ("alert_window", "1h"),
    ]);
    assert_eq!((g.config().max_alerts, g.config().alert_window), (3, 3600));
    // The other rule of the export.
    let dc = filter(&[("rule_file", &export()), ("rule_id", DC_ID)]);
    assert!(
        matches!(dc.process(ATTACK).action, Action::Pass),
        "ws-1 is no dc"
    );
    let on_dc = String::from_utf8_lossy(ATTACK).replace("ws-1", "DC02");
    let a = alert_of(&dc, on_dc.as_bytes());
    assert_eq!(
        (&a["event"]["severity"], &a["rule"]["version"]),
        (&json!(99), &json!("2"))
    );
    assert!(
        a.get("threat").is_none(),
        "no threat list, no threat fields"
    );
}

#[test]
fn embedded_alert_is_unchanged_by_the_rule_representation() {
    let a = alert_of(&filter(&[]), ATTACK);
    assert_eq!(a["rule"]["version"], "313");
    assert_eq!(a["rule"]["ruleset"], "Elastic detection-rules (prebuilt)");
    assert_eq!(
        a["rule"]["reference"],
        "https://github.com/elastic/detection-rules/blob/main/rules/windows/persistence_system_shells_via_services.toml"
    );
    assert_eq!(
        at(&a, "threat.technique.subtechnique.id"),
        &json!(["T1543.003", "T1059.001", "T1059.003"])
    );
}

#[test]
fn one_rule_json_object_loads() {
    let dir = tmp("one-json");
    let line = std::fs::read_to_string(export()).unwrap();
    let obj: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let p = dir.join("rule.json");
    std::fs::write(&p, serde_json::to_string_pretty(&obj).unwrap()).unwrap();
    let r = svcshell::rule::load(p.to_str().unwrap(), None).unwrap();
    assert_eq!(r.format, svcshell::rule::Format::Json);
    assert_eq!(
        (r.rule_id.as_str(), r.version.as_deref()),
        (TUNED_ID, Some("7"))
    );
}

// ------------------------------------------------------------------------------------------- verdicts

/// EQL `:` by hand: ASCII case folded, `*` any run of characters, `?` one character.
fn like(value: &str, pattern: &str) -> bool {
    fn go(v: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|k| go(&v[k..], rest)),
            Some(('?', rest)) => !v.is_empty() && go(&v[1..], rest),
            Some((c, rest)) => {
                v.first().is_some_and(|x| x.eq_ignore_ascii_case(c)) && go(&v[1..], rest)
            }
        }
    }
    let v: Vec<char> = value.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    go(&v, &p)
}

/// What the tuned export's query means, over the reference's six derived fields and the record's host names.
fn tuned_rule(f: &Fields, hosts: &[String]) -> bool {
    let any_eq = |vals: &[String], want: &str| vals.iter().any(|v| v == want);
    let any_like =
        |vals: &[String], pats: &[&str]| vals.iter().any(|v| pats.iter().any(|p| like(v, p)));
    any_eq(&f.os, "windows")
        && any_eq(&f.event_type, "start")
        && any_eq(&f.category, "process")
        && any_like(&f.parent, &["services.exe"])
        && any_like(
            &f.name,
            &[
                "cmd.exe",
                "powershell*.exe",
                "pwsh.exe",
                "wscript.exe",
                "cscript.exe",
                "mshta.exe",
                "conhost.exe",
            ],
        )
        && !any_like(
            &f.args,
            &["NVDisplay.ContainerLocalSystem", "*\\Tool\\*.bat", "-enc"],
        )
        && !any_like(hosts, &["jump-*.corp.example.org", "backup01"])
}

fn tuned_label(line: &[u8]) -> bool {
    let v: Value = serde_json::from_slice(line).expect("generated records are JSON");
    let (shape, fields) = reference::derive(&v);
    let hosts = reference::Doc::new(&v).strings("host.name");
    shape.is_some() && tuned_rule(&fields, &hosts)
}

const HOSTS: [&str; 7] = [
    "ws-0142.corp.example.org",
    "ws-0142.corp.example.org",
    "JUMP-07.corp.example.org",
    "jump-.corp.example.org",
    "xjump-1.corp.example.org",
    "backup01",
    "BACKUP01.corp.example.org",
];

/// Generated records of every shape, hot (many attacks, near misses and look-alikes), with the generator's
/// one host name replaced by one of [`HOSTS`] in a seeded choice of records.
fn corpus(n: usize, seed: u64) -> gen::Corpus {
    let rates = Rates {
        process: 0.7,
        attack: 0.3,
        nv: 0.1,
        lookalike: 0.35,
        ..Rates::default()
    };
    let mut c = gen::corpus(&Shape::ALL, n, seed, rates);
    let mut rng = Rng::new(seed ^ 0xC0FFEE);
    let from = HOSTS[0].as_bytes();
    for line in &mut c.lines {
        let to = rng.pick(&HOSTS).as_bytes();
        if let Some(k) = line.windows(from.len()).position(|w| w == from) {
            line.splice(k..k + from.len(), to.iter().copied());
        }
    }
    c
}

fn alerts(f: &Filter, line: &[u8]) -> bool {
    matches!(f.process(line).action, Action::Alert(_))
}

/// Line numbers (1-based) where `got` differs from `want`, with the first line for the message.
fn check(what: &str, lines: &[Vec<u8>], got: impl Fn(&[u8]) -> bool, want: &[bool]) {
    let wrong: Vec<usize> = (0..lines.len())
        .filter(|&k| got(&lines[k]) != want[k])
        .collect();
    assert!(
        wrong.is_empty(),
        "{what}: {} of {} lines disagree, first line {}: {}",
        wrong.len(),
        lines.len(),
        wrong[0] + 1,
        String::from_utf8_lossy(&lines[wrong[0]])
    );
}

/// The Fluent Bit path: each record in a chunk of its own; true when the chunk comes back modified (tag mode:
/// only an alert modifies it).
fn chunk_alerts(f: &Filter, line: &[u8]) -> bool {
    let mut body = Vec::new();
    msgpack::from_json(line, &mut body).expect("generated records are JSON objects");
    let mut c = vec![0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x80];
    c.extend_from_slice(&body);
    matches!(f.process_chunk(&c), ChunkResult::Modified(_))
}

/// Every way into the filter agrees on every record with `want`: the default fast path (literal prefilter),
/// `validate=all` (no prefilter), the serde_json `Value` path and the msgpack chunk path.
fn differential(what: &str, props: &[(&str, &str)], lines: &[Vec<u8>], want: &[bool]) {
    let mut p = vec![("max_alerts", "0")];
    p.extend_from_slice(props);
    let fast = filter(&p);
    check(
        &format!("{what}, validate=matches"),
        lines,
        |l| alerts(&fast, l),
        want,
    );
    assert_eq!(fast.stats().errors, 0, "{what}");
    p.push(("validate", "all"));
    let all = filter(&p);
    assert!(all.prefilter_literals().is_empty());
    check(
        &format!("{what}, validate=all"),
        lines,
        |l| alerts(&all, l),
        want,
    );
    check(
        &format!("{what}, Value path"),
        lines,
        |l| svcshell_cli::baseline::matches_value(&fast, l) == Some(true),
        want,
    );
    p.pop();
    let chunks = filter(&p);
    check(
        &format!("{what}, msgpack chunks"),
        lines,
        |l| chunk_alerts(&chunks, l),
        want,
    );
}

#[test]
fn latest_toml_gives_the_embedded_verdicts() {
    let c = corpus(30_000, 1201);
    assert!(c.positives() > 2_000, "{}", c.positives());
    differential(
        "latest TOML",
        &[("rule_file", &latest())],
        &c.lines,
        &c.labels,
    );
    differential("v313 TOML", &[("rule_file", &v313())], &c.lines, &c.labels);
    differential("embedded", &[], &c.lines, &c.labels);
}

#[test]
fn tuned_export_gives_the_verdicts_its_query_means() {
    let c = corpus(30_000, 1202);
    let want: Vec<bool> = c.lines.iter().map(|l| tuned_label(l)).collect();
    let n = want.iter().filter(|&&w| w).count();
    // The tuned rule is another rule: it alerts where v313 does not and the other way round.
    let only_tuned = (0..want.len()).filter(|&k| want[k] && !c.labels[k]).count();
    let only_v313 = (0..want.len()).filter(|&k| !want[k] && c.labels[k]).count();
    assert!(
        n > 1_000 && only_tuned > 100 && only_v313 > 100,
        "{n} {only_tuned} {only_v313}"
    );
    differential(
        "tuned export",
        &[("rule_file", &export()), ("rule_id", TUNED_ID)],
        &c.lines,
        &want,
    );
}

#[test]
fn prefilter_literals_come_from_the_loaded_rule() {
    let lits = |f: &Filter| -> Vec<Vec<String>> {
        f.prefilter_literals()
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|l| String::from_utf8(l).unwrap())
                    .collect()
            })
            .collect()
    };
    // With crowdstrike_fdr enabled (the default: every shape) the name set also lets through records with the
    // key `ImageFileName`, whose `process.name` that shape may build from an argument.
    assert_eq!(
        lits(&filter(&[("rule_file", &latest())])),
        [
            vec!["services.exe"],
            vec![
                "cmd.exe",
                "powershell.exe",
                "pwsh.exe",
                "powershell_ise.exe",
                "imagefilename"
            ]
        ]
    );
    assert_eq!(
        lits(&filter(&[
            ("rule_file", &latest()),
            ("sources", "ecs,winlogbeat_sysmon")
        ])),
        [
            vec!["services.exe"],
            vec![
                "cmd.exe",
                "powershell.exe",
                "pwsh.exe",
                "powershell_ise.exe"
            ]
        ]
    );
    // A wildcard among the names (`powershell*.exe`) leaves only the parent to anchor on.
    let tuned = filter(&[("rule_file", &export()), ("rule_id", TUNED_ID)]);
    assert_eq!(lits(&tuned), [vec!["services.exe"]]);
    // `==` tests anchor too.
    let dc = filter(&[("rule_file", &export()), ("rule_id", DC_ID)]);
    assert_eq!(
        lits(&dc),
        [vec!["services.exe"], vec!["cmd.exe", "imagefilename"]]
    );
}

// ----------------------------------------------------------------------- hand-made rules and files

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("svcshell-rules-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn refusal(path: &str, rule_id: Option<&str>) -> String {
    let mut p = vec![("rule_file", path)];
    if let Some(id) = rule_id {
        p.push(("rule_id", id));
    }
    match Filter::from_properties(&p) {
        Ok(_) => panic!("{path}: loaded"),
        Err(e) => {
            assert_eq!(e.key, "rule_file");
            e.message
        }
    }
}

#[test]
fn refusals_name_the_file_line_and_column() {
    let d = tmp("refusals");
    // `sequence`: line 10 of the file (the query starts on line 10), query line 1, column 1.
    let p = write(
        &d,
        "seq.toml",
        toml_rule("sequence by host.id\n  [process where true]").as_bytes(),
    );
    let m = refusal(&p, None);
    assert!(
        m.starts_with(&format!("{p}:10:1: query line 1, column 1: ")),
        "{m}"
    );
    assert!(m.contains("`sequence`"), "{m}");
    // A function, on the query's second line.
    let p = write(
        &d,
        "fn.toml",
        toml_rule("process where\n    startsWith(process.name, \"cmd\")").as_bytes(),
    );
    let m = refusal(&p, None);
    assert!(
        m.starts_with(&format!("{p}:11:15: query line 2, column 15: ")),
        "{m}"
    );
    assert!(m.contains("startsWith"), "{m}");
    // Unsupported syntax in a Kibana export (JSON escapes walked to the column in the file).
    let obj = json!({"rule_id": "r1", "name": "n", "type": "eql", "language": "eql", "severity": "low",
        "risk_score": 1, "query": "process where\n  process.pid == 4"});
    let line = serde_json::to_string(&obj).unwrap();
    let col = line.find("4\"").unwrap() + 1;
    let p = write(
        &d,
        "x.ndjson",
        format!("{line}\n{{\"exported_count\":1}}\n").as_bytes(),
    );
    let m = refusal(&p, None);
    assert!(
        m.starts_with(&format!("{p}:1:{col}: query line 2, column 18: ")),
        "{m}"
    );
    // A TOML basic string: its escapes are walked too (`\"` is two characters in the file, one in the query).
    let basic = toml_rule("X").replace(
        "query = '''\nX\n'''",
        r#"query = "process where a == \"x\" and b == 4""#,
    );
    let p = write(&d, "basic.toml", basic.as_bytes());
    let m = refusal(&p, None);
    assert!(
        m.starts_with(&format!("{p}:9:44: query line 1, column 33: ")),
        "{m}"
    );
    // Not EQL: the place of `type`.
    let kql = toml_rule("process where true")
        .replace("type = \"eql\"", "type = \"query\"")
        .replace("language = \"eql\"", "language = \"kuery\"");
    let p = write(&d, "kql.toml", kql.as_bytes());
    let m = refusal(&p, None);
    assert!(
        m.starts_with(&format!("{p}:14:8: `type = \"query\"`")),
        "{m}"
    );
    // Kibana filters would change the query's meaning.
    let mut o = obj.clone();
    o["query"] = json!("process where true");
    o["filters"] = json!([{"query": {"match_phrase": {"host.name": "x"}}}]);
    let p = write(
        &d,
        "filters.json",
        serde_json::to_string_pretty(&o).unwrap().as_bytes(),
    );
    assert!(refusal(&p, None).contains("`filters`"));
    // Severity out of the four.
    let p = write(
        &d,
        "sev.toml",
        toml_rule("process where true")
            .replace("\"low\"", "\"severe\"")
            .as_bytes(),
    );
    assert!(
        refusal(&p, None).contains(":13:12: `severity = \"severe\"`"),
        "{}",
        refusal(&p, None)
    );
}

#[test]
fn no_rule_ambiguous_rule_and_unknown_rule_id_are_refused() {
    let d = tmp("choice");
    let m = refusal(&export(), None);
    assert!(
        m.contains(":2:1: the file holds 2 rules") && m.contains(TUNED_ID) && m.contains(DC_ID),
        "{m}"
    );
    let m = refusal(&export(), Some("nope"));
    assert!(m.contains("no rule with rule_id `nope`"), "{m}");
    let m = refusal(&latest(), Some(TUNED_ID));
    assert!(m.contains("no rule with rule_id"), "{m}");
    for (name, text) in [
        ("empty.toml", ""),
        (
            "summary.ndjson",
            "{\"exported_count\":0}\n{\"exported_rules_count\":0}\n",
        ),
        (
            "metadata.toml",
            "[metadata]\ncreation_date = \"2020/01/01\"\n",
        ),
    ] {
        let p = write(&d, name, text.as_bytes());
        assert!(refusal(&p, None).contains("no rule in the file"), "{name}");
    }
    let e = Filter::from_properties(&[("rule_id", TUNED_ID)])
        .err()
        .unwrap();
    assert_eq!(e.key, "rule_id");
    let e = Filter::from_properties(&[("rule_file", "/nonexistent/rule.toml")])
        .err()
        .unwrap();
    assert!(e.message.contains("cannot read"), "{e}");
}

#[test]
fn bad_files_are_refused_without_a_crash() {
    let d = tmp("bad");
    let full = std::fs::read(latest()).unwrap();
    // Truncated anywhere: refused or (cut in the trailing threat tables) still a rule; never a panic.
    for cut in (0..full.len()).step_by(97) {
        let p = write(&d, "cut.toml", &full[..cut]);
        let _ = svcshell::rule::load(&p, None);
    }
    let p = write(&d, "cut.toml", &full[..full.len() / 3]);
    let m = refusal(&p, None);
    assert!(
        m.contains("not a TOML file") || m.contains("no rule"),
        "{m}"
    );
    // A JSON error at the start of a line (serde_json says column 0): column 1, never 0 (found by fuzzing).
    let p = write(&d, "nl.json", b"{\"rule_id\":\"a\nb\"}\n");
    let m = refusal(&p, None);
    assert!(m.starts_with(&format!("{p}:2:1: not a JSON object")), "{m}");
    // Binary junk.
    let mut rng = Rng::new(7);
    let junk: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    let p = write(&d, "junk.bin", &junk);
    assert!(refusal(&p, None).contains(":1:1: not UTF-8"));
    // A huge query (a million characters) loads and runs.
    let names: Vec<String> = (0..40_000).map(|k| format!("\"n{k}.exe\"")).collect();
    let q = format!(
        "process where process.name : ({}, \"cmd.exe\")",
        names.join(", ")
    );
    let p = write(&d, "huge.toml", toml_rule(&q).as_bytes());
    let f = filter(&[("rule_file", &p)]);
    assert!(f.matches(ATTACK).unwrap());
    // Deep nesting: refused at the first level past the limit, in the query and in the file.
    let deep = format!(
        "process where {}process.name == \"cmd.exe\"{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let p = write(&d, "deep.toml", toml_rule(&deep).as_bytes());
    let m = refusal(&p, None);
    assert!(
        m.contains(":10:115: query line 1, column 115: nested deeper than 100"),
        "{m}"
    );
    let deep = format!("process where {}true", "not ".repeat(100_000));
    let p = write(&d, "deep-not.toml", toml_rule(&deep).as_bytes());
    assert!(refusal(&p, None).contains("nested deeper"));
    // Deep TOML and JSON nesting outside the query.
    let p = write(
        &d,
        "deep.json",
        format!(
            "{{\"rule_id\":\"x\",\"a\":{}1{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        )
        .as_bytes(),
    );
    let _ = refusal(&p, None);
    let p = write(
        &d,
        "deep2.toml",
        format!("a = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000)).as_bytes(),
    );
    let _ = refusal(&p, None);
}

// ---------------------------------------------------------------- soundness of the literal prefilter

/// An ECS process start of `name` under services.exe, with `name` written as given (raw JSON string content).
fn ecs_start(raw_name: &str) -> Vec<u8> {
    format!(r#"{{"event":{{"category":"process","type":"start"}},"host":{{"os":{{"type":"windows"}}}},"process":{{"name":"{raw_name}","parent":{{"name":"services.exe"}}}}}}"#).into_bytes()
}

#[test]
fn literals_json_can_hide_are_not_searched() {
    let d = tmp("hidden");
    for (literal, raw) in [
        ("a/b.exe", "a\\/b.exe"),
        ("\u{17f}vc.exe", "\\u017fvc.exe"),
        ("\u{17f}vc.exe", "\u{17f}vc.exe"),
        ("tab\t.exe", "tab\\t.exe"),
        ("q\\\\x.exe", "q\\\\x.exe"),
    ] {
        let q = format!("process where process.parent.name == \"services.exe\" and process.name == \"{literal}\"");
        let p = write(&d, "lit.toml", toml_rule(&q).as_bytes());
        let f = filter(&[("rule_file", &p)]);
        let rec = ecs_start(raw);
        assert!(
            svcshell_cli::baseline::matches_value(&f, &rec) == Some(true),
            "{literal}: the rule holds on {}",
            String::from_utf8_lossy(&rec)
        );
        assert!(
            f.matches(&rec).unwrap(),
            "{literal}: the fast path misses {}",
            String::from_utf8_lossy(&rec)
        );
        assert_eq!(
            f.prefilter_literals(),
            [b"services.exe".to_vec()].map(|l| vec![l]),
            "{literal}"
        );
    }
}

#[test]
fn warnings_name_fields_raw_shapes_lack_and_a_prefilter_that_is_off() {
    let tuned = filter(&[("rule_file", &export()), ("rule_id", TUNED_ID)]);
    assert_eq!(tuned.warnings().len(), 1, "{:?}", tuned.warnings());
    let w = &tuned.warnings()[0];
    assert!(
        w.contains("`host.name`") && w.contains("winlogbeat_sysmon") && w.contains("m365"),
        "{w}"
    );
    // Only the enabled shapes are named; with ECS alone nothing is missing.
    let one = filter(&[
        ("rule_file", &export()),
        ("rule_id", TUNED_ID),
        ("sources", "ecs,nxlog"),
    ]);
    assert!(
        one.warnings()[0].contains("raw shapes nxlog do not"),
        "{:?}",
        one.warnings()
    );
    let ecs = filter(&[
        ("rule_file", &export()),
        ("rule_id", TUNED_ID),
        ("sources", "ecs"),
    ]);
    assert!(ecs.warnings().is_empty());
    assert!(filter(&[("rule_file", &latest())]).warnings().is_empty());
    // No exact test on a name: the prefilter is off, and says so.
    let d = tmp("warn");
    let p = write(
        &d,
        "wild.toml",
        toml_rule("process where process.name : \"cmd*\" and event.type == \"start\"").as_bytes(),
    );
    let f = filter(&[("rule_file", &p)]);
    assert!(f.prefilter_literals().is_empty());
    assert!(
        f.warnings()
            .iter()
            .any(|w| w.contains("literal prefilter off")),
        "{:?}",
        f.warnings()
    );
    let p = write(
        &d,
        "not.toml",
        toml_rule("process where not process.name != \"cmd.exe\"").as_bytes(),
    );
    assert!(
        filter(&[("rule_file", &p)]).prefilter_literals().is_empty(),
        "a negated test anchors nothing"
    );
}

#[test]
fn config_carries_the_loaded_rule() {
    let c = Config::from_properties(&[("rule_file", latest().as_str())]).unwrap();
    assert_eq!(c.rule.format, svcshell::rule::Format::Toml);
    assert_eq!(c.rule.file.as_deref(), Some(latest().as_str()));
    assert!(c.rule.note.is_some());
}
