//! Evasion tests: every way of writing a document that Elasticsearch reads as the same field values gets the
//! same verdict — `\u` escapes of any character in keys and values (one at a time and all at once, surrogate
//! pairs beyond the BMP, upper- and lower-case hex), `\/`, dotted vs nested vs mixed keys, key order,
//! whitespace, scalar vs array (and nested arrays), upper/lower case where `:` folds — for ECS records and
//! Winlogbeat Sysmon raw records (`winlog.event_data.ParentImage` etc.). Decoys (`"process": {...}` or
//! `ParentImage` text inside other string values, rule fields under other parents) never alert, and
//! non-ASCII look-alikes (`ſ` U+017F, Kelvin sign U+212A, `İ` U+0130, dotless `ı`) do not fold.
//!
//! Every variant is checked through [`Filter::process`] (validate=matches and validate=all, with all source
//! shapes and with only the record's own shape) and against the serde_json baseline `svcshell_cli::baseline::matches_value`.

use svcshell::{Action, Filter};
use svcshell_cli::fuzz::Rng;

/// A JSON document with its member order kept.
#[derive(Debug, Clone, PartialEq)]
enum J {
    S(String),
    /// A literal written as is (number, `true`, `null`).
    L(&'static str),
    A(Vec<J>),
    O(Vec<(String, J)>),
}

fn s(x: &str) -> J {
    J::S(x.to_string())
}

fn o(members: &[(&str, J)]) -> J {
    J::O(
        members
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

fn a(items: &[J]) -> J {
    J::A(items.to_vec())
}

/// How a document is written.
#[derive(Clone, Copy)]
enum Esc {
    None,
    /// Every character of every key and string value as `\u` escapes.
    All,
    /// Only the n-th character (counted over all strings, keys included).
    Nth(usize),
    /// Only non-ASCII characters.
    NonAscii,
}

#[derive(Clone, Copy)]
struct Style {
    esc: Esc,
    upper_hex: bool,
    slash: bool,
    ws: &'static str,
}

const PLAIN: Style = Style {
    esc: Esc::None,
    upper_hex: false,
    slash: false,
    ws: "",
};

struct Writer {
    st: Style,
    /// Characters of strings written so far.
    chars: usize,
    out: Vec<u8>,
}

impl Writer {
    fn string(&mut self, text: &str) {
        self.out.push(b'"');
        for c in text.chars() {
            let esc = match self.st.esc {
                Esc::None => false,
                Esc::All => true,
                Esc::Nth(n) => n == self.chars,
                Esc::NonAscii => !c.is_ascii(),
            };
            self.chars += 1;
            if esc {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units).iter() {
                    let hex = if self.st.upper_hex {
                        format!("\\u{u:04X}")
                    } else {
                        format!("\\u{u:04x}")
                    };
                    self.out.extend_from_slice(hex.as_bytes());
                }
                continue;
            }
            match c {
                '"' => self.out.extend_from_slice(b"\\\""),
                '\\' => self.out.extend_from_slice(b"\\\\"),
                '/' if self.st.slash => self.out.extend_from_slice(b"\\/"),
                c => {
                    let mut b = [0u8; 4];
                    self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
        self.out.push(b'"');
    }

    fn value(&mut self, j: &J) {
        let ws = self.st.ws.as_bytes();
        match j {
            J::S(t) => self.string(t),
            J::L(l) => self.out.extend_from_slice(l.as_bytes()),
            J::A(items) => {
                self.out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.out.extend_from_slice(ws);
                    self.value(v);
                    self.out.extend_from_slice(ws);
                }
                self.out.push(b']');
            }
            J::O(m) => {
                self.out.push(b'{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.out.extend_from_slice(ws);
                    self.string(k);
                    self.out.extend_from_slice(ws);
                    self.out.push(b':');
                    self.out.extend_from_slice(ws);
                    self.value(v);
                    self.out.extend_from_slice(ws);
                }
                self.out.push(b'}');
            }
        }
    }
}

fn render(j: &J, st: Style) -> Vec<u8> {
    let mut w = Writer {
        st,
        chars: 0,
        out: Vec::new(),
    };
    let ws = st.ws.as_bytes().to_vec();
    w.out.extend_from_slice(&ws);
    w.value(j);
    w.out.extend_from_slice(&ws);
    w.out
}

/// Characters in all keys and string values.
fn char_count(j: &J) -> usize {
    match j {
        J::S(t) => t.chars().count(),
        J::L(_) => 0,
        J::A(items) => items.iter().map(char_count).sum(),
        J::O(m) => m
            .iter()
            .map(|(k, v)| k.chars().count() + char_count(v))
            .sum(),
    }
}

// ------------------------------------------------------------------------------------------ rewritings

/// Every nested object member written as dotted keys, down to the leaves: `{"a":{"b":x}}` → `{"a.b":x}`.
fn dotted(j: &J) -> J {
    fn into(prefix: &str, j: &J, out: &mut Vec<(String, J)>) {
        match j {
            J::O(m) if !m.is_empty() => {
                for (k, v) in m {
                    into(&format!("{prefix}.{k}"), v, out)
                }
            }
            other => out.push((prefix.to_string(), other.clone())),
        }
    }
    match j {
        J::O(m) => {
            let mut out = Vec::new();
            for (k, v) in m {
                into(k, v, &mut out);
            }
            J::O(out)
        }
        other => other.clone(),
    }
}

/// Randomly flattens some object members one level (`{"a":{"b":x,"c":y}}` → `{"a.b":x,"a.c":y}`), at
/// every depth: mixed dotted and nested keys.
fn mixed(j: &J, rng: &mut Rng) -> J {
    match j {
        J::O(m) => {
            let mut out = Vec::new();
            for (k, v) in m {
                let v = mixed(v, rng);
                match v {
                    J::O(children) if !children.is_empty() && rng.pct(50) => {
                        for (ck, cv) in children {
                            out.push((format!("{k}.{ck}"), cv));
                        }
                    }
                    v => out.push((k.clone(), v)),
                }
            }
            J::O(out)
        }
        J::A(items) => J::A(items.iter().map(|i| mixed(i, rng)).collect()),
        other => other.clone(),
    }
}

/// Members in a random order, at every depth.
fn shuffled(j: &J, rng: &mut Rng) -> J {
    match j {
        J::O(m) => {
            let mut m: Vec<(String, J)> = m
                .iter()
                .map(|(k, v)| (k.clone(), shuffled(v, rng)))
                .collect();
            for i in (1..m.len()).rev() {
                m.swap(i, rng.below(i + 1));
            }
            J::O(m)
        }
        J::A(items) => J::A(items.iter().map(|i| shuffled(i, rng)).collect()),
        other => other.clone(),
    }
}

fn reversed(j: &J) -> J {
    match j {
        J::O(m) => J::O(
            m.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        J::A(items) => J::A(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

/// Every string leaf (not inside an array) rewritten by `f`: scalar ↔ array.
fn map_scalars(j: &J, f: &dyn Fn(J) -> J) -> J {
    match j {
        J::O(m) => J::O(
            m.iter()
                .map(|(k, v)| (k.clone(), map_scalars(v, f)))
                .collect(),
        ),
        J::S(_) => f(j.clone()),
        other => other.clone(),
    }
}

/// Every one-element array of a scalar unwrapped: `["start"]` → `"start"`.
fn unwrapped(j: &J) -> J {
    match j {
        J::O(m) => J::O(m.iter().map(|(k, v)| (k.clone(), unwrapped(v))).collect()),
        J::A(items) if items.len() == 1 && !matches!(items[0], J::O(_) | J::A(_)) => {
            items[0].clone()
        }
        other => other.clone(),
    }
}

/// Sets the value at a dotted path of nested objects (the path must exist).
fn set(j: &J, path: &str, v: J) -> J {
    let mut j = j.clone();
    let mut cur = &mut j;
    for seg in path.split('.') {
        let J::O(m) = cur else {
            panic!("{path}: not an object at {seg}")
        };
        let i = m
            .iter()
            .position(|(k, _)| k == seg)
            .unwrap_or_else(|| panic!("{path}: no {seg}"));
        cur = &mut m[i].1;
    }
    *cur = v;
    j
}

/// Adds a top-level member.
fn with(j: &J, k: &str, v: J) -> J {
    let J::O(m) = j else { panic!("not an object") };
    let mut m = m.clone();
    m.push((k.to_string(), v));
    J::O(m)
}

// ------------------------------------------------------------------------------------------ documents

fn ecs(child: &str, parent: &str) -> J {
    o(&[
        ("@timestamp", s("2024-05-13T06:09:11.120Z")),
        (
            "event",
            o(&[
                ("category", a(&[s("process")])),
                ("type", a(&[s("start")])),
                ("kind", s("event")),
            ]),
        ),
        (
            "host",
            o(&[
                ("name", s("ws-017")),
                ("os", o(&[("type", s("windows")), ("family", s("windows"))])),
            ]),
        ),
        ("user", o(&[("name", s("SYSTEM")), ("id", s("S-1-5-18"))])),
        (
            "process",
            o(&[
                ("pid", J::L("4242")),
                ("name", s(child)),
                ("executable", s(&format!("C:\\Windows\\System32\\{child}"))),
                ("args", a(&[s(child), s("/c"), s("whoami")])),
                (
                    "parent",
                    o(&[
                        ("pid", J::L("688")),
                        ("name", s(parent)),
                        ("executable", s(&format!("C:\\Windows\\System32\\{parent}"))),
                    ]),
                ),
            ]),
        ),
    ])
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

fn sysmon(image: &str, parent_image: &str, cmd: &str) -> J {
    o(&[
        ("@timestamp", s("2024-05-13T06:09:11.120Z")),
        ("host", o(&[("name", s("ws-017"))])),
        (
            "winlog",
            o(&[
                ("channel", s(SYSMON)),
                ("event_id", s("1")),
                ("provider_name", s("Microsoft-Windows-Sysmon")),
                (
                    "event_data",
                    o(&[
                        ("Image", s(image)),
                        ("ParentImage", s(parent_image)),
                        ("CommandLine", s(cmd)),
                        ("User", s("NT AUTHORITY\\SYSTEM")),
                    ]),
                ),
            ]),
        ),
    ])
}

fn sysmon_shell(parent: &str) -> J {
    sysmon(
        "C:\\Windows\\System32\\cmd.exe",
        &format!("C:\\Windows\\System32\\{parent}"),
        "cmd.exe /c \"echo a1b2 > \\\\.\\pipe\\a1b2\"",
    )
}

struct Filters {
    /// (name, filter): every shape and validate=matches; every shape, validate=all; the record's own shape.
    all: Vec<(&'static str, Filter)>,
}

fn filters(own_shape: &str) -> Filters {
    let mk = |p: &[(&str, &str)]| {
        let mut v = vec![("max_alerts", "0")];
        v.extend_from_slice(p);
        Filter::from_properties(&v).unwrap()
    };
    Filters {
        all: vec![
            ("all shapes", mk(&[])),
            ("all shapes, validate=all", mk(&[("validate", "all")])),
            ("own shape", mk(&[("sources", own_shape)])),
        ],
    }
}

fn show(rec: &[u8]) -> String {
    String::from_utf8_lossy(rec).into_owned()
}

/// The verdict of `rec` through every filter (they must agree with each other and with the baseline).
fn verdict(f: &Filters, rec: &[u8]) -> bool {
    let mut first = None;
    for (name, filter) in &f.all {
        let o = filter.process(rec);
        assert!(
            o.error.is_none(),
            "{name}: error {:?} on {}",
            o.error,
            show(rec)
        );
        let alert = matches!(o.action, Action::Alert(_));
        assert_eq!(
            svcshell_cli::baseline::matches_value(filter, rec),
            Some(alert),
            "{name}: the serde_json baseline disagrees on {}",
            show(rec)
        );
        assert_eq!(
            *first.get_or_insert(alert),
            alert,
            "{name} disagrees with the other filters on {}",
            show(rec)
        );
    }
    first.expect("filters")
}

/// Every rewriting of `doc` that Elasticsearch reads as the same values; (description, record).
fn rewritings(doc: &J) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = Vec::new();
    let mut push = |what: String, j: &J, st: Style| v.push((what, render(j, st)));
    push("as written".into(), doc, PLAIN);
    // \u escapes: each character alone, then all of them, in both hex cases; non-ASCII only.
    let n = char_count(doc);
    for k in 0..n {
        let st = Style {
            esc: Esc::Nth(k),
            upper_hex: k % 2 == 1,
            ..PLAIN
        };
        push(format!("character {k} as \\u"), doc, st);
    }
    for upper_hex in [false, true] {
        let st = Style {
            esc: Esc::All,
            upper_hex,
            ..PLAIN
        };
        push(
            format!("every character as \\u (upper hex {upper_hex})"),
            doc,
            st,
        );
    }
    push(
        "non-ASCII as \\u".into(),
        doc,
        Style {
            esc: Esc::NonAscii,
            ..PLAIN
        },
    );
    push(
        "\\/ for every /".into(),
        doc,
        Style {
            slash: true,
            ..PLAIN
        },
    );
    for ws in [" ", "\t", "\r\n", "  \t\r\n "] {
        push(
            format!("whitespace {ws:?} between all tokens"),
            doc,
            Style { ws, ..PLAIN },
        );
    }
    // Key spelling and order.
    push("fully dotted keys".into(), &dotted(doc), PLAIN);
    push("reversed key order".into(), &reversed(doc), PLAIN);
    push(
        "fully dotted keys, reversed".into(),
        &reversed(&dotted(doc)),
        PLAIN,
    );
    let mut rng = Rng::new(2024);
    for k in 0..40 {
        let j = mixed(doc, &mut rng);
        let j = shuffled(&j, &mut rng);
        let st = Style {
            esc: if k % 3 == 0 { Esc::All } else { Esc::None },
            upper_hex: k % 2 == 0,
            slash: k % 4 == 1,
            ws: ["", " ", "\t"][k % 3],
        };
        push(format!("mixed dotted/nested keys, shuffled (#{k})"), &j, st);
    }
    // Scalar vs array.
    push(
        "one-element arrays unwrapped".into(),
        &unwrapped(doc),
        PLAIN,
    );
    push(
        "every string scalar in an array".into(),
        &map_scalars(doc, &|x| J::A(vec![x])),
        PLAIN,
    );
    push(
        "every string scalar in a nested array".into(),
        &map_scalars(doc, &|x| J::A(vec![J::A(vec![x])])),
        PLAIN,
    );
    push(
        "arrays unwrapped and dotted".into(),
        &dotted(&unwrapped(doc)),
        PLAIN,
    );
    v
}

/// Every rewriting of `doc` gets `want` through every filter.
fn same_verdict_for_every_rewriting(doc: &J, shape: &str, want: bool) -> usize {
    let f = filters(shape);
    let all = rewritings(doc);
    for (what, rec) in &all {
        assert_eq!(verdict(&f, rec), want, "{shape}: {what}: {}", show(rec));
    }
    all.len()
}

#[test]
fn ecs_rewritings_keep_the_verdict() {
    let n = same_verdict_for_every_rewriting(&ecs("cmd.exe", "services.exe"), "ecs", true);
    assert!(n > 300, "{n} rewritings");
    same_verdict_for_every_rewriting(&ecs("cmd.exe", "svchost.exe"), "ecs", false);
    same_verdict_for_every_rewriting(&ecs("notepad.exe", "services.exe"), "ecs", false);
    // Non-BMP text elsewhere in the record: surrogate pairs when escaped.
    let emoji = with(
        &ecs("powershell.exe", "services.exe"),
        "message",
        s("shell \u{1F600} from a service"),
    );
    same_verdict_for_every_rewriting(&emoji, "ecs", true);
    // The NVDisplay exclusion holds however it is written.
    let nv = set(
        &ecs("cmd.exe", "services.exe"),
        "process.args",
        a(&[s("cmd.exe"), s("NVDisplay.ContainerLocalSystem")]),
    );
    same_verdict_for_every_rewriting(&nv, "ecs", false);
}

#[test]
fn winlogbeat_sysmon_rewritings_keep_the_verdict() {
    let n =
        same_verdict_for_every_rewriting(&sysmon_shell("services.exe"), "winlogbeat_sysmon", true);
    assert!(n > 300, "{n} rewritings");
    same_verdict_for_every_rewriting(&sysmon_shell("svchost.exe"), "winlogbeat_sysmon", false);
    let pwsh = sysmon(
        "C:\\Program Files\\PowerShell\\7\\pwsh.exe",
        "C:\\Windows\\System32\\services.exe",
        "\"C:\\Program Files\\PowerShell\\7\\pwsh.exe\" -enc SQBFAFgA",
    );
    same_verdict_for_every_rewriting(&pwsh, "winlogbeat_sysmon", true);
    let nv = sysmon(
        "C:\\Windows\\System32\\cmd.exe",
        "C:\\Windows\\System32\\services.exe",
        "cmd.exe /c NVDisplay.ContainerLocalSystem",
    );
    same_verdict_for_every_rewriting(&nv, "winlogbeat_sysmon", false);
    // Winlogbeat 7: a numeric event id.
    let wlb7 = set(&sysmon_shell("services.exe"), "winlog.event_id", J::L("1"));
    same_verdict_for_every_rewriting(&wlb7, "winlogbeat_sysmon", true);
}

#[test]
fn case_folds_only_where_the_rule_uses_colon() {
    let f = filters("ecs");
    let base = ecs("cmd.exe", "services.exe");
    // `:` folds ASCII case: process.name, process.parent.name (and the NVDisplay exclusion).
    for (path, value) in [
        ("process.name", "CMD.EXE"),
        ("process.name", "Cmd.Exe"),
        ("process.name", "POWERSHELL_ISE.EXE"),
        ("process.name", "PwSh.ExE"),
        ("process.parent.name", "SERVICES.EXE"),
        ("process.parent.name", "sErViCeS.eXe"),
    ] {
        let j = set(&base, path, s(value));
        for st in [
            PLAIN,
            Style {
                esc: Esc::All,
                ..PLAIN
            },
        ] {
            assert!(verdict(&f, &render(&j, st)), "{path} = {value}");
        }
    }
    let nv = set(
        &base,
        "process.args",
        a(&[s("cmd.exe"), s("nvdisplay.CONTAINERLOCALSYSTEM")]),
    );
    assert!(!verdict(&f, &render(&nv, PLAIN)), "exclusion folds case");
    // `==` does not: event.category, event.type, host.os.type.
    for (path, value) in [
        ("event.category", a(&[s("Process")])),
        ("event.type", a(&[s("START")])),
        ("event.type", a(&[s("Start")])),
        ("host.os.type", s("Windows")),
        ("host.os.type", s("WINDOWS")),
    ] {
        let j = set(&base, path, value.clone());
        for st in [
            PLAIN,
            Style {
                esc: Esc::All,
                ..PLAIN
            },
        ] {
            assert!(!verdict(&f, &render(&j, st)), "{path} = {value:?}");
        }
    }
    // Keys never fold.
    let J::O(m) = &base else { unreachable!() };
    for key in ["Process", "PROCESS", "Event", "Host"] {
        let lower = key.to_ascii_lowercase();
        let j = J::O(
            m.iter()
                .map(|(k, v)| (if *k == lower { key.into() } else { k.clone() }, v.clone()))
                .collect(),
        );
        assert!(!verdict(&f, &render(&j, PLAIN)), "key {key}");
    }
    // Sysmon: the basename keeps its case and `:` folds it.
    let f = filters("winlogbeat_sysmon");
    let j = sysmon(
        "C:\\WINDOWS\\SYSTEM32\\CMD.EXE",
        "C:\\WINDOWS\\system32\\SERVICES.EXE",
        "CMD.EXE /C WHOAMI",
    );
    assert!(verdict(&f, &render(&j, PLAIN)));
    // ... but the channel is compared exactly.
    let j = set(
        &sysmon_shell("services.exe"),
        "winlog.channel",
        s("microsoft-windows-sysmon/operational"),
    );
    assert!(!verdict(&f, &render(&j, PLAIN)));
}

#[test]
fn non_ascii_look_alikes_do_not_fold() {
    let f = filters("ecs");
    let base = ecs("cmd.exe", "services.exe");
    for (path, value) in [
        ("process.parent.name", "\u{17F}ervices.exe"), // ſ long s
        ("process.parent.name", "servi\u{17F}es.exe"), // not even in place of s: c
        ("process.parent.name", "SERVICES.EXE\u{17F}"),
        ("process.parent.name", "serv\u{130}ces.exe"), // İ dotted capital I
        ("process.parent.name", "serv\u{131}ces.exe"), // ı dotless i
        ("process.name", "pw\u{17F}h.exe"),
        ("process.name", "powershell_\u{130}se.exe"),
        ("process.name", "POWERSHELL_\u{130}SE.EXE"),
        ("process.name", "cmd.\u{212A}xe"), // Kelvin sign where no k folds
        ("process.name", "cmd.exe\u{200B}"), // zero-width space
        ("process.name", "c\u{1D5BA}d.exe"), // mathematical sans-serif m
    ] {
        let j = set(&base, path, s(value));
        for st in [
            PLAIN,
            Style {
                esc: Esc::NonAscii,
                ..PLAIN
            },
            Style {
                esc: Esc::All,
                ..PLAIN
            },
        ] {
            assert!(
                !verdict(&f, &render(&j, st)),
                "{path} = {value:?} must not fold"
            );
        }
    }
    // A look-alike in the exclusion's argument means the exclusion does not hold: an alert.
    let nv = set(
        &base,
        "process.args",
        a(&[
            s("cmd.exe"),
            s("NVDi\u{17F}play.ContainerLocalSy\u{17F}tem"),
        ]),
    );
    assert!(verdict(&f, &render(&nv, PLAIN)));
    // Kelvin sign in an exception's value: the exception (ASCII `k`) does not hold, so the alert stays.
    let fx = Filter::from_properties(&[
        ("max_alerts", "0"),
        ("exception", r#"user.name : "backup""#),
    ])
    .unwrap();
    for (name, alert) in [
        ("backup", false),
        ("BACKUP", false),
        ("bac\u{212A}up", true),
        ("BAC\u{212A}UP", true),
    ] {
        let j = set(&base, "user.name", s(name));
        for st in [
            PLAIN,
            Style {
                esc: Esc::All,
                ..PLAIN
            },
        ] {
            let rec = render(&j, st);
            let o = fx.process(&rec);
            assert_eq!(
                matches!(o.action, Action::Alert(_)),
                alert,
                "user.name = {name:?}"
            );
            assert_eq!(
                svcshell_cli::baseline::matches_value(&fx, &rec),
                Some(alert)
            );
        }
    }
    // Sysmon: the same look-alikes in the raw paths.
    let f = filters("winlogbeat_sysmon");
    for (image, parent) in [
        (
            "C:\\Windows\\System32\\cmd.exe",
            "C:\\Windows\\System32\\\u{17F}ervices.exe",
        ),
        (
            "C:\\Windows\\System32\\cmd.exe",
            "C:\\Windows\\System32\\SERV\u{130}CES.EXE",
        ),
        (
            "C:\\Windows\\System32\\pw\u{17F}h.exe",
            "C:\\Windows\\System32\\services.exe",
        ),
        (
            "C:\\Windows\\System32\\cmd.\u{212A}xe",
            "C:\\Windows\\System32\\services.exe",
        ),
    ] {
        let j = sysmon(image, parent, "cmd.exe /c whoami");
        for st in [
            PLAIN,
            Style {
                esc: Esc::All,
                ..PLAIN
            },
        ] {
            assert!(!verdict(&f, &render(&j, st)), "{image} <- {parent}");
        }
    }
}

#[test]
fn decoys_inside_other_values_never_alert() {
    let f = filters("ecs");
    let quiet = ecs("notepad.exe", "explorer.exe");
    let decoy_json = r#"{"event":{"category":["process"],"type":["start"]},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}}}"#;
    let decoys: Vec<(&str, J)> = vec![
        ("message", s(decoy_json)),
        ("message", s(&format!("\"process\": {decoy_json}"))),
        (
            "message",
            s("Process Create: Image: C:\\Windows\\System32\\cmd.exe ParentImage: C:\\Windows\\System32\\services.exe"),
        ),
        ("tags", a(&[s("process.parent.name:services.exe"), s("process.name:cmd.exe")])),
        ("error", o(&[("message", s(decoy_json))])),
        // The rule's fields under another parent are other fields.
        (
            "file",
            o(&[("process", o(&[("name", s("cmd.exe")), ("parent", o(&[("name", s("services.exe"))]))]))]),
        ),
        (
            "related",
            a(&[o(&[("process.parent.name", s("services.exe")), ("process.name", s("cmd.exe"))])]),
        ),
        ("process_", o(&[("parent", o(&[("name", s("services.exe"))]))])),
        ("xprocess.parent.name", s("services.exe")),
        ("process.parent.name.keyword", s("services.exe")),
    ];
    for (k, v) in &decoys {
        let j = with(&quiet, k, v.clone());
        for st in [
            PLAIN,
            Style {
                esc: Esc::All,
                ..PLAIN
            },
            Style {
                slash: true,
                ws: " ",
                ..PLAIN
            },
        ] {
            let rec = render(&j, st);
            assert!(!verdict(&f, &rec), "decoy {k}: {}", show(&rec));
        }
        // A decoy under every spelling of keys.
        assert!(
            !verdict(&f, &render(&dotted(&j), PLAIN)),
            "decoy {k}, dotted"
        );
    }
    // Sysmon: ParentImage text in other event data values, or under another channel.
    let f = filters("winlogbeat_sysmon");
    let quiet = sysmon_shell("explorer.exe");
    let j = set(
        &quiet,
        "winlog.event_data.User",
        s(
            r#"ParentImage: C:\Windows\System32\services.exe {"winlog":{"event_data":{"ParentImage":"C:\\Windows\\System32\\services.exe"}}}"#,
        ),
    );
    assert!(!verdict(&f, &render(&j, PLAIN)));
    assert!(!verdict(
        &f,
        &render(
            &j,
            Style {
                esc: Esc::All,
                ..PLAIN
            }
        )
    ));
    let other_channel = set(
        &sysmon_shell("services.exe"),
        "winlog.channel",
        s("Application"),
    );
    assert!(!verdict(&f, &render(&other_channel, PLAIN)));
    // And the real record still alerts with the decoys around it.
    let loud = with(&sysmon_shell("services.exe"), "message", s(decoy_json));
    assert!(verdict(&f, &render(&loud, PLAIN)));
}
