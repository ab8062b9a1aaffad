//! Differential tests: the filter's verdict on generated ECS process records equals an independent reference
//! that evaluates the rule of docs/semantics.md §1 by hand over a `serde_json::Value`, and every alert it writes is a valid
//! JSON object that carries the alert fields and keeps everything else of the input.
//!
//! The generator ([`gen_record`]) writes records the way real shippers and attackers can: random key order;
//! nested, dotted and mixed keys; arrays of objects; random whitespace; JSON escapes (`\u00XX`, surrogate
//! pairs, `\/`) in keys and values; scalars vs arrays; case variants and non-ASCII look-alikes (`ſ`, `İ`,
//! Kelvin sign); missing fields, `null` and numbers in place of strings; the NVDisplay argument exact, in
//! another case and as a substring; decoys inside other strings and under other keys; unrelated nested objects.
//! It is biased so that about a third of the records match ([`generator_produces_both_verdicts`] pins the
//! ratio), and driven by a byte string that proptest shrinks toward zeros, i.e. toward the simplest record.
//!
//! The reference ([`reference`]) shares no code with the library: its own field resolution over the `Value`
//! (keys split at dots; arrays flattened, any-of) and its own ASCII case-insensitive comparison.
//!
//! A second property mutates generated records (truncation, a flipped bit, an inserted byte): whenever
//! serde_json rejects the bytes (or they are not an object) the record passes unchanged and never alerts;
//! whenever serde_json reads an object, the verdict still equals the reference.

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use svcshell::{Action, Filter};

const RULE_ID: &str = "0022d47d-39c7-4f69-a232-4fe9dc7a3acd";
const RULE_NAME: &str = "System Shells via Services";
const ENTROPY: usize = 2048;

// ------------------------------------------------------------------------------------------------------------
// The reference: docs/semantics.md §1 by hand over serde_json::Value, the same one the fuzz targets use; duplicate keys
// (serde_json's Value keeps the last; Elasticsearch rejects such documents) found by the library's detector.
// ------------------------------------------------------------------------------------------------------------

#[allow(dead_code)] // the fuzz targets use more of it than this test does
#[path = "../fuzz/src/lib.rs"]
mod fuzzref;
use fuzzref::{leaf_values, reference_ecs as reference, strings};
use svcshell_cli::fuzz::duplicate_key;

// ------------------------------------------------------------------------------------------------------------
// The generator.
// ------------------------------------------------------------------------------------------------------------

/// Decisions drawn from a byte string; past its end every decision is 0 (the simplest choice).
struct Ent<'a> {
    b: &'a [u8],
    i: usize,
}

impl Ent<'_> {
    fn byte(&mut self) -> u8 {
        let v = self.b.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        v
    }
    /// 0..n (n <= 256); byte 0 gives 0.
    fn pick(&mut self, n: usize) -> usize {
        (self.byte() as usize * n) >> 8
    }
    /// 0..n for larger n.
    fn pick_wide(&mut self, n: usize) -> usize {
        let v = ((self.byte() as usize) << 8) | self.byte() as usize;
        (v * n) >> 16
    }
    /// True with probability `pct`%; byte 0 gives false.
    fn chance(&mut self, pct: u32) -> bool {
        self.byte() as u32 * 100 >= (100 - pct) * 256
    }
}

/// A JSON value to render: strings are rendered with random escapes, `Lit` verbatim (numbers, literals).
#[derive(Debug, Clone)]
enum J {
    S(String),
    Lit(&'static str),
    A(Vec<J>),
    O(Vec<(String, J)>),
}

fn s(x: &str) -> J {
    J::S(x.to_string())
}

fn arr(items: &[&str]) -> J {
    J::A(items.iter().map(|x| s(x)).collect())
}

/// One of `good` (probability 100 - bad_pct) or one of `bad`; `None` = the field is missing.
fn choose(ent: &mut Ent, good: Vec<J>, bad: Vec<Option<J>>, bad_pct: u32) -> Option<J> {
    if ent.chance(bad_pct) {
        let k = ent.pick(bad.len());
        bad.into_iter().nth(k).unwrap()
    } else {
        let k = ent.pick(good.len());
        good.into_iter().nth(k)
    }
}

const NV: &str = "NVDisplay.ContainerLocalSystem";

fn rule_fields(ent: &mut Ent) -> Vec<(&'static str, Option<J>)> {
    let null = || Some(J::Lit("null"));
    let category = choose(
        ent,
        vec![
            s("process"),
            arr(&["process"]),
            arr(&["network", "process"]),
            J::A(vec![s("process"), J::Lit("null")]),
            J::A(vec![arr(&["process"])]),
        ],
        vec![
            None,
            Some(s("Process")),
            Some(s("network")),
            null(),
            Some(J::Lit("5")),
            Some(arr(&["PROCESS"])),
            Some(s("process ")),
            Some(J::A(vec![])),
            Some(s("")),
        ],
        15,
    );
    let etype = choose(
        ent,
        vec![
            s("start"),
            arr(&["start"]),
            arr(&["start", "process_start"]),
            arr(&["info", "start"]),
            J::A(vec![J::Lit("1"), s("start")]),
        ],
        vec![
            None,
            Some(s("Start")),
            Some(arr(&["Start"])),
            Some(s("end")),
            null(),
            Some(arr(&["end", "info"])),
            Some(s("START")),
            Some(s("starts")),
            Some(J::Lit("1")),
            Some(J::Lit("true")),
        ],
        15,
    );
    let os = choose(
        ent,
        vec![s("windows"), arr(&["windows"]), arr(&["linux", "windows"])],
        vec![
            None,
            Some(s("Windows")),
            Some(s("linux")),
            null(),
            Some(s("windows ")),
            Some(s("WINDOWS")),
            Some(s("macos")),
            Some(J::Lit("0")),
        ],
        15,
    );
    let parent = choose(
        ent,
        vec![
            s("services.exe"),
            s("SERVICES.EXE"),
            s("Services.Exe"),
            s("sErViCeS.eXe"),
            arr(&["x.exe", "services.exe"]),
            arr(&["Services.exe"]),
        ],
        vec![
            None,
            Some(s("ſervices.exe")),
            Some(s("SERVİCES.EXE")),
            Some(s("serviceſ.exe")),
            Some(s("services.exe ")),
            Some(s("xservices.exe")),
            Some(s("services.ex")),
            Some(s("svchost.exe")),
            null(),
            Some(J::Lit("7")),
            Some(s("C:\\Windows\\System32\\services.exe")),
            Some(arr(&["svchost.exe"])),
            Some(s("services.exe\n")),
            Some(s("services\u{212A}exe")),
        ],
        20,
    );
    let name = choose(
        ent,
        vec![
            s("cmd.exe"),
            s("CMD.EXE"),
            s("Cmd.Exe"),
            s("powershell.exe"),
            s("PowerShell.EXE"),
            s("pwsh.exe"),
            s("PWSH.exe"),
            s("powershell_ise.exe"),
            s("POWERSHELL_ISE.EXE"),
            arr(&["cmd.exe"]),
            arr(&["a.exe", "pwsh.exe"]),
            arr(&["conhost.exe", "PowerShell.exe"]),
        ],
        vec![
            None,
            Some(s("cmd.e\u{212A}e")),
            Some(s("cmd.exe.bak")),
            Some(s("xcmd.exe")),
            Some(s("conhost.exe")),
            Some(s("powerſhell.exe")),
            Some(s("pwſh.exe")),
            null(),
            Some(J::Lit("5")),
            Some(arr(&["notepad.exe"])),
            Some(s("cmd")),
            Some(s("cmd.exe ")),
            Some(s("powershell")),
            Some(s("CMD.EXE\t")),
        ],
        20,
    );
    let args = choose(
        ent,
        vec![
            J::Lit("null"), // rendered; "missing" is below
            arr(&["cmd.exe", "/c", "whoami"]),
            J::A(vec![]),
            arr(&["powershell.exe", "-nop", "-c", "Get-Service"]),
            s("cmd.exe /c NVDisplay.ContainerLocalSystem"),
            arr(&["-cfg", "NVDisplay.ContainerLocalSystem\\LocalSystem"]),
            arr(&["NVDisplay.ContainerLocalſystem"]),
            arr(&["NVDisplay.ContainerLocalSystem "]),
            J::A(vec![J::Lit("1"), J::Lit("null"), J::Lit("true")]),
            arr(&["NVDisplay.Container.exe", "-s"]),
            arr(&["NVDisplay.ContainerLocal"]),
            arr(&["xNVDisplay.ContainerLocalSystem"]),
            s("whoami"),
        ],
        vec![
            Some(arr(&["NVDisplay.Container.exe", "-s", NV])),
            Some(s(NV)),
            Some(arr(&["nvdisplay.containerlocalsystem"])),
            Some(arr(&["NVDISPLAY.CONTAINERLOCALSYSTEM", "x"])),
            Some(J::A(vec![arr(&[NV])])),
            Some(J::A(vec![
                J::Lit("null"),
                s("NvDisplay.ContainerLocalSystem"),
            ])),
        ],
        15,
    );
    // Missing args is common in real records (about a quarter here).
    let args = if ent.chance(25) { None } else { args };
    vec![
        ("event.category", category),
        ("event.type", etype),
        ("host.os.type", os),
        ("process.parent.name", parent),
        ("process.name", name),
        ("process.args", args),
    ]
}

/// Unrelated fields, decoys and fields the alert writer touches.
fn extra_fields(ent: &mut Ent) -> Vec<(&'static str, J)> {
    let mut out: Vec<(&'static str, J)> = Vec::new();
    let mut maybe = |ent: &mut Ent, pct: u32, path: &'static str, v: J| {
        if ent.chance(pct) {
            out.push((path, v));
        }
    };
    maybe(ent, 80, "@timestamp", s("2024-05-01T12:00:00.000Z"));
    let messages = [
        "{\"process\":{\"parent\":{\"name\":\"services.exe\"}},\"process.name\":\"cmd.exe\"}",
        "Service Control Manager (services.exe) started cmd.exe /c whoami",
        "C:\\Windows\\System32\\services.exe -> \"C:\\Windows\\System32\\cmd.exe\" ä ſ 😀",
        "event.category: process, host.os.type: windows, event.type: start",
    ];
    let k = ent.pick(messages.len());
    maybe(ent, 40, "message", s(messages[k]));
    maybe(
        ent,
        40,
        "agent",
        J::O(vec![
            ("type".into(), s("endpoint")),
            ("version".into(), s("8.13.0")),
            ("id".into(), s("0b1e")),
        ]),
    );
    maybe(
        ent,
        20,
        "tags",
        J::A(vec![s("services.exe"), J::Lit("1"), s("a/b")]),
    );
    maybe(ent, 40, "process.pid", J::Lit("4242"));
    maybe(
        ent,
        30,
        "process.executable",
        s("C:\\Windows\\System32\\cmd.exe"),
    );
    maybe(
        ent,
        30,
        "process.command_line",
        s("\"C:\\Windows\\system32\\cmd.exe\" /c echo services.exe"),
    );
    maybe(
        ent,
        30,
        "process.parent.executable",
        s("C:\\Windows\\System32\\services.exe"),
    );
    maybe(ent, 20, "process.parent.pid", J::Lit("612"));
    maybe(
        ent,
        15,
        "process.parent.args",
        arr(&["C:\\Windows\\system32\\services.exe", NV]),
    );
    maybe(ent, 10, "process.Name", s("cmd.exe"));
    maybe(ent, 10, "process.parent.Name", s("services.exe"));
    maybe(
        ent,
        10,
        "Process",
        J::O(vec![("name".into(), s("cmd.exe"))]),
    );
    maybe(
        ent,
        10,
        "parent",
        J::O(vec![("name".into(), s("services.exe"))]),
    );
    maybe(ent, 10, "x.process.name", s("cmd.exe"));
    maybe(ent, 10, "process_name", s("cmd.exe"));
    maybe(
        ent,
        15,
        "user",
        J::O(vec![
            ("name".into(), s("SYSTEM")),
            ("domain".into(), s("NT AUTHORITY")),
        ]),
    );
    maybe(
        ent,
        15,
        "labels",
        J::O(vec![(
            "k".into(),
            J::A(vec![
                J::Lit("1"),
                J::Lit("2.5"),
                J::Lit("-3e2"),
                J::O(vec![("x".into(), J::Lit("null"))]),
                J::A(vec![]),
                J::O(vec![]),
            ]),
        )]),
    );
    maybe(
        ent,
        10,
        "data",
        J::A(vec![
            J::A(vec![J::A(vec![])]),
            J::O(vec![(
                "process".into(),
                J::O(vec![
                    ("name".into(), s("cmd.exe")),
                    ("parent.name".into(), s("services.exe")),
                ]),
            )]),
        ]),
    );
    maybe(ent, 20, "event.kind", s("event"));
    maybe(ent, 15, "event.code", s("1"));
    maybe(ent, 10, "event.severity", J::Lit("3"));
    maybe(ent, 15, "host.name", s("WIN-01"));
    maybe(ent, 15, "host.os.family", s("windows"));
    maybe(ent, 8, "rule.name", s("Some other rule"));
    maybe(ent, 5, "threat.framework", s("other"));
    maybe(ent, 10, "process.thread.id", J::Lit("1E+2"));
    maybe(ent, 10, "emoji", s("😀 ä ſ İ \u{212A} \u{7f} \u{1} /"));
    out
}

/// Adds `value` at the path given as key groups (each group one key, possibly dotted), reusing objects.
fn insert(root: &mut Vec<(String, J)>, groups: &[String], value: J) {
    let mut obj = root;
    for g in &groups[..groups.len() - 1] {
        let k = match obj.iter().position(|(k, _)| k == g) {
            Some(k) => k,
            None => {
                obj.push((g.clone(), J::O(Vec::new())));
                obj.len() - 1
            }
        };
        obj = match &mut obj[k].1 {
            J::O(m) => m,
            other => panic!("generator: {g} already holds {other:?}"),
        };
    }
    let last = groups.last().unwrap();
    assert!(
        !obj.iter().any(|(k, _)| k == last),
        "generator: duplicate key {last}"
    );
    obj.push((last.clone(), value));
}

/// Splits a dotted path into key groups: at each dot, nest (a new object) or keep the dot in the key.
fn spell(ent: &mut Ent, path: &str, dotted_pct: u32) -> Vec<String> {
    let mut groups = vec![String::new()];
    for (k, seg) in path.split('.').enumerate() {
        if k > 0 {
            if ent.chance(dotted_pct) {
                groups.last_mut().unwrap().push('.');
            } else {
                groups.push(String::new());
            }
        }
        groups.last_mut().unwrap().push_str(seg);
    }
    groups
}

/// Rarely turns an inner object into an array of objects (one, or its members split over two).
fn wrap_arrays(ent: &mut Ent, v: &mut J, depth: usize) {
    if let J::O(m) = v {
        for (_, child) in m.iter_mut() {
            wrap_arrays(ent, child, depth + 1);
        }
    }
    if depth > 0 && matches!(v, J::O(m) if !m.is_empty()) && ent.chance(5) {
        let J::O(m) = std::mem::replace(v, J::Lit("null")) else {
            unreachable!()
        };
        *v = if m.len() >= 2 && ent.chance(50) {
            let cut = 1 + ent.pick(m.len() - 1);
            let (a, b) = m.split_at(cut);
            J::A(vec![J::O(a.to_vec()), J::O(b.to_vec())])
        } else {
            J::A(vec![J::O(m)])
        };
    }
}

struct Style {
    /// 0 = none, 1 = sparse, 2 = heavy.
    ws: u8,
    /// Percent of strings written with optional escapes.
    escape_pct: u32,
}

fn ws(ent: &mut Ent, st: &Style, out: &mut Vec<u8>) {
    let pct = match st.ws {
        0 => return,
        1 => 25,
        _ => 70,
    };
    if ent.chance(pct) {
        for _ in 0..=ent.pick(3) {
            out.push([b' ', b'\n', b'\t', b'\r'][ent.pick(4)]);
        }
    }
}

fn push_u(out: &mut Vec<u8>, unit: u16, upper: bool) {
    let t = if upper {
        format!("\\u{unit:04X}")
    } else {
        format!("\\u{unit:04x}")
    };
    out.extend_from_slice(t.as_bytes());
}

fn render_str(ent: &mut Ent, st: &Style, text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let escaping = ent.chance(st.escape_pct);
    for ch in text.chars() {
        let optional = escaping && ent.chance(30);
        let upper = optional && ent.chance(50);
        match ch {
            '"' | '\\' if !optional => {
                out.push(b'\\');
                out.push(ch as u8);
            }
            '\n' if !optional => out.extend_from_slice(b"\\n"),
            '\t' if !optional => out.extend_from_slice(b"\\t"),
            '\r' if !optional => out.extend_from_slice(b"\\r"),
            '/' if optional && ent.chance(50) => out.extend_from_slice(b"\\/"),
            c if optional || (c as u32) < 0x20 => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    push_u(out, *u, upper);
                }
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn render(ent: &mut Ent, st: &Style, v: &J, out: &mut Vec<u8>) {
    match v {
        J::S(t) => render_str(ent, st, t, out),
        J::Lit(t) => out.extend_from_slice(t.as_bytes()),
        J::A(items) => {
            out.push(b'[');
            for (k, e) in items.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                ws(ent, st, out);
                render(ent, st, e, out);
                ws(ent, st, out);
            }
            out.push(b']');
        }
        J::O(members) => {
            // Random key order.
            let mut order: Vec<usize> = (0..members.len()).collect();
            for k in (1..order.len()).rev() {
                let j = k - ent.pick(k + 1);
                order.swap(k, j);
            }
            out.push(b'{');
            ws(ent, st, out);
            for (n, &k) in order.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                    ws(ent, st, out);
                }
                let (key, val) = &members[k];
                render_str(ent, st, key, out);
                ws(ent, st, out);
                out.push(b':');
                ws(ent, st, out);
                render(ent, st, val, out);
                ws(ent, st, out);
            }
            out.push(b'}');
        }
    }
}

/// A generated record, as bytes.
fn gen_record(entropy: &[u8]) -> Vec<u8> {
    let ent = &mut Ent { b: entropy, i: 0 };
    let dotted_pct = [0, 30, 60][ent.pick(3)];
    let st = Style {
        ws: [0, 0, 1, 1, 2][ent.pick(5)],
        escape_pct: [0, 0, 15, 40][ent.pick(4)],
    };
    let mut root: Vec<(String, J)> = Vec::new();
    let mut paths: Vec<(String, J)> = Vec::new();
    for (path, v) in rule_fields(ent) {
        if let Some(v) = v {
            paths.push((path.to_string(), v));
        }
    }
    for (path, v) in extra_fields(ent) {
        paths.push((path.to_string(), v));
    }
    for (path, v) in paths {
        let groups = spell(ent, &path, dotted_pct);
        insert(&mut root, &groups, v);
    }
    let mut top = J::O(root);
    wrap_arrays(ent, &mut top, 0);
    let mut out = Vec::with_capacity(1024);
    ws(ent, &st, &mut out);
    render(ent, &st, &top, &mut out);
    ws(ent, &st, &mut out);
    out
}

/// Byte strings that sit on the edges of JSON's grammar (numbers, literals, escapes, UTF-8, whitespace).
const SNIPPETS: &[&[u8]] = &[
    b"01",
    b"1.",
    b"-",
    b".5",
    b"1e",
    b"+1",
    b"1e400",
    b"-0",
    b"-1.5e-3",
    b"1E+2",
    b"tru",
    b"nul",
    b"null",
    b"true",
    b"false",
    b",}",
    b",]",
    b",",
    b":",
    b"\\u0000",
    b"\\uD800",
    b"\\uDC00",
    b"\\ud83d\\ude00",
    b"\\u00e4",
    b"\\u0073",
    b"\\x",
    b"\\",
    b"\"",
    b"\x1f",
    b"\x7f",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xff",
    b"\xe2\x80\xa8",
    b"\xc5\xbf",
    b"\x0b",
    b"\x0c",
    b"\t",
    b"{}",
    b"[]",
    b"{\"a\":1}",
    b"\"services.exe\"",
    b"\"process.name\":\"cmd.exe\",",
];

/// One to three mutations of `rec`: truncation, a flipped bit, an inserted byte (often a JSON structural one),
/// an inserted or overwriting snippet from [`SNIPPETS`].
fn mutate(entropy: &[u8], rec: &[u8]) -> Vec<u8> {
    let ent = &mut Ent { b: entropy, i: 0 };
    let mut m = rec.to_vec();
    let rounds = 1 + ent.pick(3);
    for _ in 0..rounds {
        let mut at = ent.pick_wide(m.len() + 1);
        // Half the time, move to the next byte where the grammar is delicate: numbers, escapes, separators.
        if ent.chance(50) {
            if let Some(k) = m[at.min(m.len())..]
                .iter()
                .position(|c| b"-0123456789\\:,".contains(c))
            {
                at += k + ent.pick(2);
            }
        }
        match ent.pick(5) {
            0 => m.truncate(at),
            1 if at < m.len() => m[at] ^= 1 << ent.pick(8),
            3 => {
                let snip = SNIPPETS[ent.pick(SNIPPETS.len())];
                m.splice(at..at, snip.iter().copied());
            }
            4 => {
                let snip = SNIPPETS[ent.pick(SNIPPETS.len())];
                let end = (at + snip.len()).min(m.len());
                m.splice(at..end, snip.iter().copied());
            }
            _ => {
                let b = if ent.chance(60) {
                    b"{}[],:\"\\u0 \n.e-x/"[ent.pick(17)]
                } else {
                    ent.byte()
                };
                m.insert(at, b);
            }
        }
    }
    m
}

// ------------------------------------------------------------------------------------------------------------
// Checks.
// ------------------------------------------------------------------------------------------------------------

fn filter() -> &'static Filter {
    static F: OnceLock<Filter> = OnceLock::new();
    F.get_or_init(|| Filter::from_properties(&[("max_alerts", "0")]).expect("filter"))
}

/// The alert fields' paths (docs/semantics.md §3), removed before comparing an alert with its input.
const ALERT_PATHS: &[&str] = &[
    "event.kind",
    "event.severity",
    "event.risk_score",
    "rule.id",
    "rule.uuid",
    "rule.name",
    "rule.version",
    "rule.author",
    "rule.license",
    "rule.ruleset",
    "rule.category",
    "rule.reference",
    "rule.description",
    "threat.framework",
    "threat.tactic.id",
    "threat.tactic.name",
    "threat.tactic.reference",
    "threat.technique.id",
    "threat.technique.name",
    "threat.technique.reference",
    "threat.technique.subtechnique.id",
    "threat.technique.subtechnique.name",
    "threat.technique.subtechnique.reference",
];

/// Removes every spelling of `path` (dotted, nested, mixed, inside arrays of objects).
fn strip(v: &mut Value, path: &[&str]) {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let segs: Vec<&str> = k.split('.').collect();
                if segs.len() > path.len() || segs[..] != path[..segs.len()] {
                    continue;
                }
                if segs.len() == path.len() {
                    m.remove(&k);
                } else {
                    strip(m.get_mut(&k).unwrap(), &path[segs.len()..]);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|e| strip(e, path)),
        _ => {}
    }
}

/// Removes object members whose value is (or became) an empty object.
fn prune(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.values_mut().for_each(prune);
            m.retain(|_, c| !matches!(c, Value::Object(o) if o.is_empty()));
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

/// True when some spelling of `dotted` exists as a key (whatever its value, `null` included).
fn present(v: &Value, dotted: &str) -> bool {
    let path: Vec<&str> = dotted.split('.').collect();
    fn walk(v: &Value, path: &[&str]) -> bool {
        match v {
            Value::Array(items) => items.iter().any(|e| walk(e, path)),
            Value::Object(m) => m.iter().any(|(k, child)| {
                let segs: Vec<&str> = k.split('.').collect();
                segs.len() <= path.len()
                    && segs[..] == path[..segs.len()]
                    && (segs.len() == path.len() || walk(child, &path[segs.len()..]))
            }),
            _ => false,
        }
    }
    walk(v, &path)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The checks on an alert written for `input` (already read by serde_json as `inv`).
fn check_alert(input: &[u8], inv: &Value, out: &[u8]) -> Result<(), TestCaseError> {
    let ctx = || format!("\ninput:  {}\noutput: {}", lossy(input), lossy(out));
    let outv: Value = match serde_json::from_slice(out) {
        Ok(v) => v,
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "alert is not JSON: {e}{}",
                ctx()
            )))
        }
    };
    prop_assert!(outv.is_object(), "alert is not an object{}", ctx());
    prop_assert_eq!(
        duplicate_key(out),
        None,
        "duplicate key in the alert{}",
        ctx()
    );
    let kinds = leaf_values(&outv, "event.kind");
    prop_assert!(
        !kinds.is_empty() && kinds.iter().all(|k| k.as_str() == Some("alert")),
        "event.kind {:?}{}",
        kinds,
        ctx()
    );
    for f in ["event.severity", "event.risk_score"] {
        let v = leaf_values(&outv, f);
        prop_assert!(
            v.len() == 1 && v[0].as_u64() == Some(47) && v[0].is_u64(),
            "{} = {:?}{}",
            f,
            v,
            ctx()
        );
    }
    prop_assert_eq!(strings(&outv, "rule.id"), vec![RULE_ID], "{}", ctx());
    // The rule still holds on the alert: the writer touches none of the rule's fields.
    prop_assert!(reference(&outv), "the alert no longer matches{}", ctx());
    // message: kept when present, the rule name when absent (`null` counts as absent, docs/semantics.md §2).
    let had_message = leaf_values(inv, "message").iter().any(|m| !m.is_null());
    if had_message {
        prop_assert_eq!(
            leaf_values(&outv, "message"),
            leaf_values(inv, "message"),
            "message changed{}",
            ctx()
        );
    } else {
        prop_assert_eq!(strings(&outv, "message"), vec![RULE_NAME], "{}", ctx());
    }
    // Every other top-level key keeps its value.
    if let (Value::Object(im), Value::Object(om)) = (inv, &outv) {
        for (k, v) in im {
            let first = k.split('.').next().unwrap_or(k);
            if ["event", "rule", "threat", "message"].contains(&first) {
                continue;
            }
            prop_assert_eq!(om.get(k), Some(v), "top-level key {} changed{}", k, ctx());
        }
    }
    // Stronger: with the alert fields removed, the alert and the input are the same document.
    let (mut a, mut b) = (inv.clone(), outv.clone());
    for p in ALERT_PATHS {
        let segs: Vec<&str> = p.split('.').collect();
        strip(&mut a, &segs);
        strip(&mut b, &segs);
    }
    if !had_message {
        strip(&mut a, &["message"]);
        strip(&mut b, &["message"]);
    }
    prune(&mut a);
    prune(&mut b);
    prop_assert_eq!(
        a,
        b,
        "the alert changed more than the alert fields{}",
        ctx()
    );
    Ok(())
}

/// The filter against the reference on one record serde_json reads as an object without duplicate keys.
fn check_valid(rec: &[u8], v: &Value) -> Result<bool, TestCaseError> {
    let want = reference(v);
    let f = filter();
    prop_assert_eq!(f.matches(rec), Ok(want), "matches() on {}", lossy(rec));
    let o = f.process(rec);
    prop_assert_eq!(o.error, None, "process() error on {}", lossy(rec));
    match o.action {
        Action::Alert(out) if want => check_alert(rec, v, &out)?,
        Action::Pass if !want => {}
        other => {
            return Err(TestCaseError::fail(format!(
                "reference says {want}, process() gave {other:?} on {}",
                lossy(rec)
            )))
        }
    }
    Ok(want)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        // No regression files are written into the source tree; a failure prints the record instead.
        failure_persistence: None,
        ..ProptestConfig::with_cases(10_000)
    }
}

/// The generator's byte string, drawn as 64-bit words (an order of magnitude cheaper for proptest than bytes in
/// debug builds); shrinking moves every word, hence every byte, toward 0.
fn entropy() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(any::<u64>(), ENTROPY / 8)
}

fn bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn verdict_and_alert_equal_the_reference(words in entropy()) {
        let rec = gen_record(&bytes(&words));
        let v: Value = match serde_json::from_slice(&rec) {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("generator wrote invalid JSON ({e}): {}", lossy(&rec)))),
        };
        prop_assert_eq!(duplicate_key(&rec), None, "generator wrote a duplicate key: {}", lossy(&rec));
        check_valid(&rec, &v)?;
    }

    #[test]
    fn mutated_records_never_alert_unless_valid(
        words in entropy(),
        edits in prop::collection::vec(any::<u8>(), 24),
    ) {
        let rec = gen_record(&bytes(&words));
        let m = mutate(&edits, &rec);
        match serde_json::from_slice::<Value>(&m) {
            Ok(v) if v.is_object() => {
                if duplicate_key(&m).is_none() {
                    check_valid(&m, &v)?;
                } else if let Action::Alert(out) = filter().process(&m).action {
                    // Duplicate keys: any consistent verdict is fine (docs/semantics.md §2), but an alert is still JSON.
                    prop_assert!(serde_json::from_slice::<Value>(&out).is_ok(), "{}", lossy(&out));
                }
            }
            _ => {
                let f = filter();
                let o = f.process(&m);
                prop_assert_eq!(o.action, Action::Pass, "invalid record {} did not pass unchanged", lossy(&m));
                prop_assert!(f.matches(&m) != Ok(true), "invalid record {} matches", lossy(&m));
            }
        }
    }
}

/// A deterministic byte source for the generator checks below.
fn xorshift_entropy(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn generator_produces_both_verdicts() {
    let n = 3000;
    let (mut matches, mut dotted, mut escaped, mut arrays_of_objects, mut missing_args) =
        (0, 0, 0, 0, 0);
    for seed in 0..n {
        let rec = gen_record(&xorshift_entropy(seed, ENTROPY));
        let v: Value = serde_json::from_slice(&rec)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", lossy(&rec)));
        assert_eq!(duplicate_key(&rec), None, "{}", lossy(&rec));
        matches += reference(&v) as usize;
        let text = lossy(&rec);
        dotted += text.contains("\"process.") as usize;
        escaped += text.contains("\\u") as usize;
        arrays_of_objects += text.contains("[{") as usize;
        missing_args += !present(&v, "process.args") as usize;
    }
    let rate = matches as f64 / n as f64;
    assert!((0.2..=0.4).contains(&rate), "match rate {rate}");
    // The shapes the generator promises do occur.
    for (what, count) in [
        ("dotted keys", dotted),
        ("\\u escapes", escaped),
        ("arrays of objects", arrays_of_objects),
        ("missing process.args", missing_args),
    ] {
        assert!(count * 20 > n as usize, "{what}: only {count} of {n}");
    }
}

#[test]
fn zero_entropy_is_the_simplest_matching_record() {
    // What shrinking converges to: nested keys, no whitespace, no escapes, first choices everywhere.
    let rec = gen_record(&[]);
    assert_eq!(
        lossy(&rec),
        r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"parent":{"name":"services.exe"},"name":"cmd.exe","args":null}}"#
    );
    let v: Value = serde_json::from_slice(&rec).unwrap();
    assert!(reference(&v));
    assert_eq!(filter().matches(&rec), Ok(true));
}

#[test]
fn reference_pins_spec_examples() {
    // Hand-written cases for the reference itself, so the properties compare against something checked.
    let base = |name: &str, extra: &str| -> Value {
        serde_json::from_str(&format!(
            r#"{{"event":{{"category":"process","type":"start"}},"host":{{"os":{{"type":"windows"}}}},
               "process":{{"parent":{{"name":"services.exe"}},"name":"{name}"{extra}}}}}"#
        ))
        .unwrap()
    };
    assert!(reference(&base("cmd.exe", "")));
    assert!(reference(&base("POWERSHELL_ISE.EXE", "")));
    assert!(!reference(&base("cmd.e\u{212A}e", "")));
    assert!(!reference(&base(
        "cmd.exe",
        r#","args":["x","nvdisplay.containerlocalsystem"]"#
    )));
    assert!(reference(&base(
        "cmd.exe",
        r#","args":["-cfg","NVDisplay.ContainerLocalSystem\\LocalSystem"]"#
    )));
    assert!(reference(&base("cmd.exe", r#","args":[null,5]"#)));
    let dotted: Value = serde_json::from_str(
        r#"{"event.category":["process"],"event.type":["start","x"],"host.os.type":"windows",
            "process.parent":{"name":"Services.EXE"},"process":[{"name":"pwsh.exe"}]}"#,
    )
    .unwrap();
    assert!(reference(&dotted));
    let sharp_s: Value = serde_json::from_str(
        r#"{"event.category":"process","event.type":"start","host.os.type":"windows",
            "process.parent.name":"\u017fervices.exe","process.name":"cmd.exe"}"#,
    )
    .unwrap();
    assert!(!reference(&sharp_s));
    assert_eq!(
        duplicate_key(br#"{"a":{"b":1,"\u0062":2}}"#),
        Some("b".to_string())
    );
    assert_eq!(duplicate_key(br#"{"a":{"b":1},"c":{"b":2},"a.b":3}"#), None);
}

/// A matching record with `@@` where a fragment goes: in a number position and a string of the relevant
/// `process` object (read by the field scanner), in an unrelated nested object (skipped without field
/// lookups) and at the top level.
const TEMPLATES: &[&str] = &[
    r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","pid":@@,"parent":{"name":"services.exe"}}}"#,
    r#"{"labels":{"deep":[1,{"x":@@}]},"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}}}"#,
    r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}},"n":@@}"#,
    r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","title":"a@@b","parent":{"name":"services.exe"}}}"#,
    r#"{"labels":[{"s":"a@@b"}],"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}}}"#,
    r#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}},"a@@b":1}"#,
];

/// Fragments on both sides of serde_json's acceptance (numbers, literals, containers, escapes, UTF-8).
const FRAGMENTS: &[&[u8]] = &[
    b"0",
    b"01",
    b"-0",
    b"-01",
    b"00",
    b"1.",
    b"1.5",
    b".5",
    b"2.e5",
    b"1e",
    b"1e+",
    b"1E+2",
    b"-",
    b"+1",
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"0e99999999999999999999",
    b"123456789012345678901234567890",
    b"0x10",
    b"Infinity",
    b"NaN",
    b"tru",
    b"true",
    b"nul",
    b"null",
    b"fals",
    b"false",
    b"truex",
    b"[]",
    b"[1,]",
    b"[,1]",
    b"{}",
    b"{\"a\":1,}",
    b"{\"a\"}",
    b"{\"a\":}",
    b"[1 2]",
    b"1 2",
    b"\"x\"",
    b"'x'",
    b"\x01",
    b"\\u0000",
    b"\\uD800",
    b"\\uDC00",
    b"\\ud83d\\ude00",
    b"\\uD800\\u0041",
    b"\\uD83D",
    b"\\u12",
    b"\\U0041",
    b"\\x",
    b"\\'",
    b"\\/",
    b"\\",
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xe0\x80\xaf",
    b"\xf4\x90\x80\x80",
    b"\xf0\x9f\x98\x80",
    b"\x7f",
    b"\xe2\x80\xa8",
    b"\t",
    b"\n",
    b"\x0b",
    b"\x0c",
    b"\"",
    b"\xc5\xbf",
];

#[test]
fn a_record_serde_json_rejects_never_alerts() {
    let f = filter();
    let (mut accepted, mut rejected) = (0, 0);
    let mut check = |rec: &[u8]| {
        let serde_ok = serde_json::from_slice::<Value>(rec).is_ok_and(|v| v.is_object());
        let verdict = f.matches(rec);
        let alerted = matches!(f.process(rec).action, Action::Alert(_));
        if serde_ok {
            accepted += 1;
            let v: Value = serde_json::from_slice(rec).unwrap();
            let want = reference(&v);
            assert_eq!(verdict, Ok(want), "{}", lossy(rec));
            assert_eq!(alerted, want, "{}", lossy(rec));
        } else {
            rejected += 1;
            assert_ne!(verdict, Ok(true), "serde_json rejects {}", lossy(rec));
            assert!(
                !alerted,
                "serde_json rejects {}, yet it alerted",
                lossy(rec)
            );
        }
    };
    for t in TEMPLATES {
        let (head, tail) = t.split_once("@@").unwrap();
        for frag in FRAGMENTS {
            let mut rec = head.as_bytes().to_vec();
            rec.extend_from_slice(frag);
            rec.extend_from_slice(tail.as_bytes());
            check(&rec);
        }
    }
    // Framing: around and outside the object.
    let base = TEMPLATES[0].replace("@@", "1");
    for (pre, post) in [
        ("", "x"),
        ("", "{}"),
        ("", ","),
        ("\u{feff}", ""),
        ("\x0c", ""),
        ("// c\n", ""),
        (" \t\r\n", " \t\r\n"),
        ("[", "]"),
    ] {
        check(format!("{pre}{base}{post}").as_bytes());
    }
    // Nesting around serde_json's recursion limit.
    for depth in 120..=130 {
        let nest = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        check(TEMPLATES[1].replace("@@", &nest).as_bytes());
        check(TEMPLATES[0].replace("@@", &nest).as_bytes());
    }
    // Every truncation of a matching record.
    for k in 0..base.len() {
        check(&base.as_bytes()[..k]);
    }
    assert!(
        accepted > 50 && rejected > 300,
        "{accepted} accepted, {rejected} rejected"
    );
}
