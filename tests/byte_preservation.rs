//! Byte preservation as a property: for generated JSON records (random whitespace between every two tokens,
//! number spellings such as `1`, `1.0`, `1e2`, `-0`, string escapes such as `\u0063`, `\/`, `\"`, escaped
//! keys, random key order, nesting, dotted keys, arrays, values already at the paths the alert writes), most of
//! them matching the rule in ECS or a raw Windows event-log shape, every alert is the input with only the
//! alert's splices: checked by aligning the output to the input (`fuzz/src/align.rs`, shared with the fuzz
//! targets), never by comparing parsed values.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use svcshell::{Action, Filter};

// The aligner and the alert-field list the fuzz targets check with (`fuzz/src/`).
#[allow(dead_code)] // the fuzz targets use more of it than this test does
#[path = "../fuzz/src/lib.rs"]
mod fuzzref;
use fuzzref::{alert_fields, align};

/// A JSON string: its text and, per character, a choice of spelling.
#[derive(Debug, Clone)]
struct S {
    text: String,
    spell: Vec<u8>,
}

#[derive(Debug, Clone)]
enum J {
    Obj(Vec<(S, J)>),
    Arr(Vec<J>),
    Str(S),
    /// A number as written.
    Num(&'static str),
    Lit(&'static str),
}

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "1.0",
    "1e2",
    "1E+2",
    "10e-1",
    "-12.5e-3",
    "47",
    "47.0",
    "4.7e1",
    "0.1",
    "123456789012345678901234567890",
    "-9223372036854775809",
    "18446744073709551616",
    "1.7976931348623157e308",
];

fn s(text: &str, spell: Vec<u8>) -> S {
    S {
        text: text.to_string(),
        spell,
    }
}

fn render_str(x: &S, out: &mut String) {
    out.push('"');
    for (k, c) in x.text.chars().enumerate() {
        let e = x.spell.get(k % x.spell.len().max(1)).copied().unwrap_or(0);
        let u = |c: char, out: &mut String| {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                if e % 2 == 0 {
                    out.push_str(&format!("\\u{unit:04x}"));
                } else {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
        };
        match c {
            '"' if e % 2 == 0 => out.push_str("\\\""),
            '\\' if e % 2 == 0 => out.push_str("\\\\"),
            '/' if e % 3 == 1 => out.push_str("\\/"),
            '\n' if e % 2 == 0 => out.push_str("\\n"),
            '\t' if e % 2 == 0 => out.push_str("\\t"),
            '"' | '\\' | '\u{0}'..='\u{1f}' => u(c, out),
            _ if e % 4 == 3 => u(c, out),
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Renders `v`, taking the whitespace before each token from `ws` in turn.
fn render(v: &J, ws: &[&str], k: &mut usize, out: &mut String) {
    let gap = |out: &mut String, k: &mut usize| {
        out.push_str(ws[*k % ws.len()]);
        *k += 1;
    };
    match v {
        J::Obj(m) => {
            out.push('{');
            for (n, (key, val)) in m.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                gap(out, k);
                render_str(key, out);
                gap(out, k);
                out.push(':');
                gap(out, k);
                render(val, ws, k, out);
                gap(out, k);
            }
            if m.is_empty() {
                gap(out, k);
            }
            out.push('}');
        }
        J::Arr(a) => {
            out.push('[');
            for (n, val) in a.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                gap(out, k);
                render(val, ws, k, out);
                gap(out, k);
            }
            if a.is_empty() {
                gap(out, k);
            }
            out.push(']');
        }
        J::Str(x) => render_str(x, out),
        J::Num(n) => out.push_str(n),
        J::Lit(l) => out.push_str(l),
    }
}

fn spelling() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..6)
}

fn string(text: impl Strategy<Value = String>) -> impl Strategy<Value = S> {
    (text, spelling()).prop_map(|(text, spell)| S { text, spell })
}

/// Any JSON value, with the characters the splitters and the scanner care about.
fn any_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        proptest::sample::select(NUMBERS).prop_map(J::Num),
        proptest::sample::select(&["true", "false", "null"][..]).prop_map(J::Lit),
        string("[ a-z\"\\\\/\t\n\u{e9}\u{2028}\u{1f600}.]{0,10}").prop_map(J::Str),
    ];
    leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            prop::collection::btree_map("[a-z.]{1,5}", (inner, spelling()), 0..4).prop_map(|m| {
                J::Obj(m.into_iter().map(|(k, (v, sp))| (s(&k, sp), v)).collect())
            }),
        ]
    })
}

/// Sets `path` in object `obj`: as nested objects, or with the first `dotted` segments joined into one key.
fn set(obj: &mut Vec<(S, J)>, path: &[&str], v: J, dotted: usize, spell: &[u8]) {
    let take = (dotted + 1).min(path.len());
    let key = path[..take].join(".");
    let rest = &path[take..];
    let pos = obj.iter().position(|(k, _)| k.text == key);
    if rest.is_empty() {
        match pos {
            Some(p) => obj[p].1 = v,
            None => obj.push((s(&key, spell.to_vec()), v)),
        }
        return;
    }
    let p = match pos {
        Some(p) => p,
        None => {
            obj.push((s(&key, spell.to_vec()), J::Obj(Vec::new())));
            obj.len() - 1
        }
    };
    if !matches!(obj[p].1, J::Obj(_)) {
        obj[p].1 = J::Obj(Vec::new());
    }
    if let J::Obj(inner) = &mut obj[p].1 {
        set(inner, rest, v, 0, spell);
    }
}

/// Reorders every object's members by a keyed hash.
fn shuffle(v: &mut J, seed: u64) {
    use std::hash::{Hash, Hasher};
    match v {
        J::Obj(m) => {
            m.sort_by_key(|(k, _)| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (seed, &k.text).hash(&mut h);
                h.finish()
            });
            m.iter_mut().for_each(|(_, c)| shuffle(c, seed));
        }
        J::Arr(a) => a.iter_mut().for_each(|c| shuffle(c, seed)),
        _ => {}
    }
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// A string value, mostly `good`.
fn text(good: &'static [&'static str], bad: &'static [&'static str]) -> impl Strategy<Value = J> {
    prop_oneof![
        6 => string(proptest::sample::select(good).prop_map(str::to_string)).prop_map(J::Str),
        1 => string(proptest::sample::select(good).prop_map(str::to_string)).prop_map(|s| J::Arr(vec![J::Str(s)])),
        1 => string(proptest::sample::select(bad).prop_map(str::to_string)).prop_map(J::Str),
    ]
}

/// A record: the rule's fields in one shape (ECS, Winlogbeat Sysmon, NXLog Sysmon), mostly matching, plus
/// random members, some at the paths the alert writes; rendered with random whitespace and spellings.
fn record() -> impl Strategy<Value = String> {
    let shells = &[
        "cmd.exe",
        "powershell.exe",
        "PwSh.exe",
        "powershell_ise.exe",
    ][..];
    let paths = &[
        r"C:\Windows\System32\cmd.exe",
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
    ][..];
    let shape = prop_oneof![
        (
            text(&["process"], &["Process"]),
            text(&["start"], &["end"]),
            text(&["windows"], &["linux"]),
            text(&["services.exe", "SERVICES.EXE"], &["svchost.exe"]),
            text(shells, &["notepad.exe"]),
            prop_oneof![
                Just(None),
                Just(Some(J::Arr(vec![
                    J::Str(s("cmd.exe", vec![0])),
                    J::Str(s("/c \"x\"", vec![1]))
                ]))),
                Just(Some(J::Arr(vec![J::Str(s(
                    "NVDisplay.ContainerLocalSystem",
                    vec![2]
                ))]))),
            ],
        )
            .prop_map(|(c, t, os, pn, n, args)| {
                let mut v = vec![
                    ("event.category", c),
                    ("event.type", t),
                    ("host.os.type", os),
                    ("process.parent.name", pn),
                    ("process.name", n),
                ];
                if let Some(a) = args {
                    v.push(("process.args", a));
                }
                v
            }),
        (
            text(
                &[r"C:\Windows\System32\services.exe"],
                &[r"C:\Windows\explorer.exe"]
            ),
            text(paths, &[r"C:\Windows\notepad.exe"]),
            text(
                &[
                    r#""C:\Windows\system32\cmd.exe" /c "echo \"hi\"""#,
                    r"cmd  /c\\ x"
                ],
                &[""]
            ),
            any::<bool>(),
        )
            .prop_map(|(parent, image, cmd, nxlog)| {
                if nxlog {
                    vec![
                        ("EventID", J::Num("1")),
                        ("Channel", J::Str(s(SYSMON, vec![1]))),
                        ("ParentImage", parent),
                        ("Image", image),
                        ("CommandLine", cmd),
                    ]
                } else {
                    vec![
                        ("winlog.channel", J::Str(s(SYSMON, vec![2]))),
                        ("winlog.event_id", J::Str(s("1", vec![1]))),
                        ("winlog.event_data.ParentImage", parent),
                        ("winlog.event_data.Image", image),
                        ("winlog.event_data.CommandLine", cmd),
                    ]
                }
            }),
    ];
    let alert_paths = &[
        "event",
        "event.kind",
        "event.severity",
        "event.risk_score",
        "rule",
        "rule.id",
        "rule.name",
        "rule.author",
        "threat",
        "threat.framework",
        "threat.tactic",
        "threat.tactic.id",
        "threat.technique.subtechnique",
        "message",
        "@timestamp",
        "user.name",
        "a.b",
        "tags",
    ][..];
    let extras = prop::collection::vec(
        (
            proptest::sample::select(alert_paths),
            any_json(),
            0..3usize,
            spelling(),
        ),
        0..5,
    );
    let ws = prop::collection::vec(
        proptest::sample::select(&["", "", " ", "  ", "\t", "\n", "\r\n", " \t "][..]),
        1..12,
    );
    (
        shape,
        extras,
        prop::collection::vec((0..3usize, spelling()), 6),
        any::<u64>(),
        ws,
    )
        .prop_map(|(fields, extras, spellings, seed, ws)| {
            let mut obj = Vec::new();
            for (path, v, dotted, sp) in extras {
                let segs: Vec<&str> = path.split('.').collect();
                set(&mut obj, &segs, v, dotted, &sp);
            }
            for (k, (path, v)) in fields.into_iter().enumerate() {
                let (dotted, sp) = &spellings[k % spellings.len()];
                let segs: Vec<&str> = path.split('.').collect();
                set(&mut obj, &segs, v, *dotted, sp);
            }
            let mut v = J::Obj(obj);
            shuffle(&mut v, seed);
            let mut out = String::new();
            let mut k = 0;
            out.push_str(ws[0]);
            render(&v, &ws, &mut k, &mut out);
            out.push_str(ws[ws.len() - 1]);
            out
        })
}

/// Runs `cases` generated records through `Filter::process`; every alert must align with its input. Returns
/// the number of alerts.
fn run(props: &[(&str, &str)], cases: u32) -> u32 {
    let f = Filter::from_properties(props).unwrap();
    let fields = alert_fields(&f);
    let alerts = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&record(), |text| {
            let v: serde_json::Value =
                serde_json::from_str(&text).expect("the generator writes valid JSON");
            prop_assert!(v.is_object());
            match f.process(text.as_bytes()).action {
                Action::Alert(out) => {
                    alerts.set(alerts.get() + 1);
                    if let Err(e) = align::check(text.as_bytes(), &out, &fields) {
                        return Err(TestCaseError::fail(format!(
                            "{e}\ninput:  {text}\noutput: {}",
                            String::from_utf8_lossy(&out)
                        )));
                    }
                }
                Action::Pass => {}
                Action::Drop => prop_assert!(false, "tag mode dropped a record"),
            }
            Ok(())
        })
        .unwrap();
    alerts.get()
}

#[test]
fn every_alert_is_its_input_plus_splices() {
    let cases = 2000;
    let alerts = run(&[("max_alerts", "0")], cases);
    // Most generated records match: the property is about alerts.
    assert!(
        alerts > cases / 4,
        "only {alerts} alerts in {cases} records"
    );
}

#[test]
fn every_alert_is_its_input_plus_splices_validate_all() {
    let alerts = run(&[("max_alerts", "0"), ("validate", "all")], 500);
    assert!(alerts > 100, "only {alerts} alerts");
}
