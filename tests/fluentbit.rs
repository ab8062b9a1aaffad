//! The Fluent Bit filter plugin (`src/ffi/fluentbit.rs`).
//!
//! Always (CI, no Fluent Bit needed):
//! - `tests/c/fluentbit_host.c`, an emulated Fluent Bit host, compiled once per layout (80/88-byte plugin struct x
//!   96/104-byte config map, each exporting the symbols of its line), loads a copy of the built library named
//!   `flb-filter_svcshell.so` exactly as Fluent Bit does and runs chunks built here from the recorded events
//!   (`tests/data/events.ndjson`): v2 and legacy records, all three timestamp encodings, group markers, malformed
//!   records, alerts_only, the alert cap, exceptions. It checks NOTOUCH vs MODIFIED and the output record by
//!   record; this file then decodes every alert and compares it with the JSON path's alert for the same event.
//!   Two more hosts (a 2.1 layout, a program that exports nothing) must be refused with one error line.
//! - the shipped configs (`plugin-config/`): their svcshell properties are accepted by [`svcshell::Config`]; the
//!   WASM configs (`fluent-bit-wasm*.conf/.yaml`) use `Name wasm`, `Function_Name svcshell_filter` and only keys
//!   every line has (no `Event_Format`); `svcshell.conf` names every property at its default and loads.
//!
//! With real Fluent Bit binaries (`FLUENT_BIT_BINS=/a/fluent-bit:/b/fluent-bit` and/or `FLUENT_BIT_BIN=<one>`;
//! otherwise these say "SKIPPED"): on each, every shipped config runs unmodified over the recorded events (YAML
//! where the version has `plugins:`), plus `-e`, `-F svcshell -h`, refused keys, two instances as processors on
//! threaded inputs, hot reload with records flowing (`SVCSHELL_FB_RELOADS`, default 4), and a labelled corpus of
//! every shape (10,000 records from the in-repo generator, or `SVCSHELL_FB_CORPUS=<ndjson>` with
//! `SVCSHELL_FB_CORPUS_LABELS=<1/0 per line>`); the tests print the table
//! of versions they proved. `SVCSHELL_FB_LONG=1` adds a run of 1,000,000 records; `SVCSHELL_FB_BENCH=<ndjson>`
//! measures records/s with svcshell vs no filter vs the Lua equivalent (`tests/data/svcshell_rule.lua`).
//! `SVCSHELL_FB_PLUGIN=<flb-filter_svcshell.so>` selects the plugin those runs load (default: a copy of the library
//! this test was built with; use a release build for timings).
//!
//! svcshell.wasm in Fluent Bit's wasm filter, with real binaries: the shipped `fluent-bit-wasm.conf` and `.yaml`
//! unmodified over the recorded events (records equal the library's), the labelled corpus with `max_alerts=0`
//! (alerts exactly where labelled), an invalid `svcshell.conf` (4.0 and later refuse to start, 2.2 and 3.1 pass
//! every record unchanged; both log svcshell's message) and `mode=alerts_only` with an exception. The module is
//! `SVCSHELL_WASM=<svcshell.wasm>`, or built by the test in `wasm/target` (skipped, loudly, without the Rust
//! target wasm32-wasip1). `SVCSHELL_FB_BENCH` also times the wasm filter.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use svcshell::record::msgpack;
use svcshell::{Action, Config, Filter};

mod common;
mod runner;
use common::{decode_msgpack, lib_dir, C_WARNINGS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("fluentbit")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A copy of the library named as Fluent Bit requires, in its own directory; returns the directory.
fn plugin_dir(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    match std::env::var_os("SVCSHELL_FB_PLUGIN") {
        Some(p) => std::fs::copy(&p, dir.join("flb-filter_svcshell.so")),
        None => std::fs::copy(
            lib_dir().join("libsvcshell.so"),
            dir.join("flb-filter_svcshell.so"),
        ),
    }
    .unwrap();
    dir
}

fn show(what: &str, o: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The recorded events: each line, its JSON value (None for the deliberately broken ones), its expected verdict.
fn events() -> Vec<(String, Option<Value>, bool)> {
    let text = std::fs::read_to_string(root().join("tests/data/events.ndjson")).unwrap();
    let expected = std::fs::read_to_string(root().join("tests/data/events.expected")).unwrap();
    let verdicts: Vec<bool> = expected
        .lines()
        .map(|l| l.split('\t').next().unwrap() == "1")
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), verdicts.len());
    lines
        .iter()
        .zip(verdicts)
        .map(|(l, v)| {
            let value = serde_json::from_str::<Value>(l)
                .ok()
                .filter(Value::is_object);
            (l.to_string(), value, v)
        })
        .collect()
}

// ---- msgpack chunks -------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Ts {
    Event(u32, u32),
    Int(u64),
    Float(f64),
}

fn ts(t: Ts, out: &mut Vec<u8>) {
    match t {
        Ts::Event(s, ns) => {
            out.extend_from_slice(&[0xd7, 0x00]);
            out.extend_from_slice(&s.to_be_bytes());
            out.extend_from_slice(&ns.to_be_bytes());
        }
        Ts::Int(s) => msgpack::encode(&Value::from(s), out),
        Ts::Float(f) => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
    }
}

/// One record: (bytes, header length = everything before the body map).
fn record(v2: bool, t: Ts, body: &Value) -> (Vec<u8>, usize) {
    let mut r = vec![0x92];
    if v2 {
        r.push(0x92);
        ts(t, &mut r);
        r.extend_from_slice(&[0x81, 0xa1, b'm', 0x01]); // metadata {"m": 1}
    } else {
        ts(t, &mut r);
    }
    let hdr = r.len();
    msgpack::encode(body, &mut r);
    (r, hdr)
}

fn group_marker(start: bool) -> Vec<u8> {
    let mut r = vec![0x92, 0x92];
    ts(
        Ts::Event(if start { 0xFFFF_FFFF } else { 0xFFFF_FFFE }, 0),
        &mut r,
    );
    r.extend_from_slice(&[0x80, 0x80]);
    r
}

/// Records that cannot be read; each is kept in place untouched. The last one (garbage whose extent is unknown)
/// keeps the rest of the chunk, so it goes last.
fn malformed() -> Vec<Vec<u8>> {
    vec![
        vec![0x93, 0x01, 0x02, 0x03],                   // a 3-element array
        vec![0x92, 0xa3, b'a', b'b', b'c', 0x80],       // timestamp is a string
        vec![0x92, 0x01, 0xa1, b'x'],                   // body is not a map
        vec![0x92, 0x93, 0x01, 0x80, 0x80, 0x80],       // v2 header with 3 elements
        vec![0x92, 0x92, 0xc3, 0x80, 0x81, 0xa1, b'a'], // v2 with a boolean timestamp, truncated body
    ]
}

/// A timestamp encoding for a time in seconds.
type MakeTs = fn(u32) -> Ts;

/// What the host must find at each place of the output.
enum Expect {
    Keep,
    Alert(usize),
    Drop,
}

struct Case {
    name: String,
    props: Vec<(String, String)>,
    chunk: Vec<u8>,
    /// (start, end, header length, fate) of each input record.
    records: Vec<(usize, usize, usize, Expect)>,
    /// For each expected alert: the event it comes from.
    alerts: Vec<usize>,
}

impl Case {
    fn new(name: &str, props: &[(&str, &str)]) -> Case {
        Case {
            name: name.to_string(),
            props: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            chunk: Vec::new(),
            records: Vec::new(),
            alerts: Vec::new(),
        }
    }

    fn push(&mut self, bytes: &[u8], hdr: usize, e: Expect) {
        let start = self.chunk.len();
        self.chunk.extend_from_slice(bytes);
        if let Expect::Alert(ev) = e {
            self.alerts.push(ev);
        }
        self.records.push((start, self.chunk.len(), hdr, e));
    }

    fn expect(&self) -> &'static str {
        if self.records.iter().all(|r| matches!(r.3, Expect::Keep)) {
            "notouch"
        } else if self.records.iter().all(|r| matches!(r.3, Expect::Drop)) {
            "dropall"
        } else {
            "modified"
        }
    }
}

/// The chunk cases: every layout and timestamp encoding, markers, malformed records, modes, cap, exceptions.
fn cases() -> Vec<Case> {
    let ev = events();
    let valid: Vec<(usize, &Value, bool)> = ev
        .iter()
        .enumerate()
        .filter_map(|(i, (_, v, a))| v.as_ref().map(|v| (i, v, *a)))
        .collect();
    assert_eq!(valid.len(), 14);
    assert_eq!(valid.iter().filter(|v| v.2).count(), 6);
    let base = 1_715_580_550u32;
    let mut out = Vec::new();

    // Tag mode, max_alerts=0: every layout and timestamp encoding, between group markers, with malformed records.
    let layouts: [(&str, bool, MakeTs); 6] = [
        ("v2-eventtime", true, |s| Ts::Event(s, 123_456_789)),
        ("v2-int", true, |s| Ts::Int(s as u64)),
        ("v2-float", true, |s| Ts::Float(s as f64 + 0.25)),
        ("legacy-eventtime", false, |s| Ts::Event(s, 1)),
        ("legacy-int", false, |s| Ts::Int(s as u64)),
        ("legacy-float", false, |s| Ts::Float(s as f64 + 0.5)),
    ];
    for (name, v2, t) in layouts {
        let mut c = Case::new(&format!("tag-{name}"), &[("max_alerts", "0")]);
        c.push(&group_marker(true), 0, Expect::Keep);
        for (k, &(i, v, alert)) in valid.iter().enumerate() {
            let (r, hdr) = record(v2, t(base + k as u32), v);
            c.push(
                &r,
                hdr,
                if alert {
                    Expect::Alert(i)
                } else {
                    Expect::Keep
                },
            );
            if k == 6 {
                for m in &malformed()[..4] {
                    c.push(m, 0, Expect::Keep);
                }
            }
        }
        c.push(&group_marker(false), 0, Expect::Keep);
        c.push(&malformed()[4], 0, Expect::Keep);
        out.push(c);
    }

    // No alert anywhere: NOTOUCH (markers and malformed records included).
    let mut c = Case::new("notouch", &[]);
    c.push(&group_marker(true), 0, Expect::Keep);
    for &(_, v, alert) in &valid {
        if !alert {
            let (r, hdr) = record(true, Ts::Event(base, 0), v);
            c.push(&r, hdr, Expect::Keep);
        }
    }
    for m in malformed() {
        c.push(&m, 0, Expect::Keep);
    }
    out.push(c);

    // alerts_only: only alerts pass; group markers and unreadable records stay in place.
    let mut c = Case::new("alerts-only", &[("mode", "alerts_only")]);
    c.push(&group_marker(true), 0, Expect::Keep);
    for &(i, v, alert) in &valid {
        let (r, hdr) = record(true, Ts::Event(base, 0), v);
        c.push(
            &r,
            hdr,
            if alert {
                Expect::Alert(i)
            } else {
                Expect::Drop
            },
        );
    }
    for m in &malformed()[..4] {
        c.push(m, 0, Expect::Keep);
    }
    c.push(&group_marker(false), 0, Expect::Keep);
    out.push(c);

    // alerts_only without alerts: MODIFIED with no buffer at all.
    let mut c = Case::new("alerts-only-none", &[("mode", "alerts_only")]);
    for &(_, v, alert) in &valid {
        if !alert {
            let (r, hdr) = record(false, Ts::Float(base as f64), v);
            c.push(&r, hdr, Expect::Drop);
        }
    }
    out.push(c);

    // The alert cap on the records' EventTime: 2 per 5 minutes; the third window opens again.
    let mut c = Case::new(
        "cap",
        &[("max_alerts", "2"), ("alert_window", "5m"), ("Mode", "tag")],
    );
    let w = 1_715_580_000u32; // a multiple of 300
    let alerts: Vec<(usize, &Value)> = valid.iter().filter(|v| v.2).map(|v| (v.0, v.1)).collect();
    let times = [w + 1, w + 2, w + 3, w + 299, w + 300, w + 301];
    for (k, (&(i, v), t)) in alerts.iter().zip(times).enumerate() {
        let (r, hdr) = record(true, Ts::Event(t, 0), v);
        let admitted = matches!(k, 0 | 1 | 4 | 5);
        c.push(
            &r,
            hdr,
            if admitted {
                Expect::Alert(i)
            } else {
                Expect::Keep
            },
        );
    }
    out.push(c);

    // Exceptions, through the single key and the numbered ones.
    let mut c = Case::new(
        "exceptions",
        &[
            ("max_alerts", "0"),
            ("exception", "host.name == \"dc01\""),
            ("exception_2", "process.args : \"*a1b2c3\""),
        ],
    );
    for &(i, v, alert) in &valid {
        let (r, hdr) = record(true, Ts::Event(base, 0), v);
        let host = v["host"]["name"].as_str().unwrap_or("");
        let pipe = v.to_string().contains("a1b2c3");
        c.push(
            &r,
            hdr,
            if alert && host != "dc01" && !pipe {
                Expect::Alert(i)
            } else {
                Expect::Keep
            },
        );
    }
    assert_eq!(c.alerts.len(), 4);
    out.push(c);
    out
}

/// The alert the JSON path writes for event `i` (the reference for the plugin's msgpack alerts).
fn json_alert(line: &str) -> Value {
    let f = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    match f.process(line.as_bytes()).action {
        Action::Alert(b) => serde_json::from_slice(&b).unwrap(),
        other => panic!("expected an alert for {line}: {other:?}"),
    }
}

/// One emulated Fluent Bit line: how `tests/c/fluentbit_host.c` is compiled for it.
struct HostLine {
    name: &'static str,
    defines: &'static [&'static str],
    /// Linked with `-rdynamic` (the host functions visible to the plugin, as in every Fluent Bit).
    exports: bool,
    /// For a host the plugin must refuse: a word of the reason it must give.
    refused: Option<&'static str>,
}

/// Every layout combination of the lines the plugin serves (80/88-byte plugin struct x 96/104-byte config map;
/// 80 x 104 is no release, and served all the same), and the hosts it must refuse.
const HOST_LINES: &[HostLine] = &[
    HostLine {
        name: "2.2-3.1 (struct 80, map 96)",
        defines: &["-DHOST_PLUGIN_SIZE=80", "-DHOST_MAP_SIZE=96"],
        exports: true,
        refused: None,
    },
    HostLine {
        name: "3.2-5.0.2 (struct 88, map 96)",
        defines: &["-DHOST_PLUGIN_SIZE=88", "-DHOST_MAP_SIZE=96"],
        exports: true,
        refused: None,
    },
    HostLine {
        name: "5.0.3-5.1 (struct 88, map 104)",
        defines: &["-DHOST_PLUGIN_SIZE=88", "-DHOST_MAP_SIZE=104"],
        exports: true,
        refused: None,
    },
    HostLine {
        name: "struct 80, map 104",
        defines: &["-DHOST_PLUGIN_SIZE=80", "-DHOST_MAP_SIZE=104"],
        exports: true,
        refused: None,
    },
    HostLine {
        name: "2.1 (struct 72 without cb_pre_run, map 96)",
        defines: &[
            "-DHOST_LEGACY_2_1",
            "-DHOST_MAP_SIZE=96",
            "-DHOST_EXPECT_REFUSAL",
        ],
        exports: true,
        refused: Some("older than 2.2"),
    },
    HostLine {
        name: "not a Fluent Bit (exports nothing)",
        defines: &["-DHOST_EXPECT_REFUSAL"],
        exports: false,
        refused: Some("exports no flb_filter_get_property"),
    },
];

fn compile_host(dir: &Path, line: &HostLine, k: usize) -> PathBuf {
    let exe = dir.join(format!("fluentbit_host_{k}"));
    let mut flags = [&["-std=c11", "-O1"], C_WARNINGS, line.defines].concat();
    if line.exports {
        flags.push("-rdynamic");
    }
    cc(&flags, "fluentbit_host.c", &exe, &["-ldl"]);
    exe
}

/// The command that runs an emulated host: under `SVCSHELL_FB_HOST_WRAPPER` when set (tests/c/valgrind.sh sets it
/// to its Valgrind command line), else as every program built for the target (`tests/runner`).
fn host_command(exe: &Path) -> Command {
    match std::env::var("SVCSHELL_FB_HOST_WRAPPER") {
        Ok(w) if !w.trim().is_empty() => {
            let mut parts = w.split_whitespace();
            let mut c = Command::new(parts.next().unwrap());
            c.args(parts).arg(exe);
            c
        }
        _ => runner::command(exe),
    }
}

/// Compiles tests/c/`source` to `out` with the C compiler (`CC`, default `cc`).
fn cc(flags: &[&str], source: &str, out: &Path, libs: &[&str]) {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let o = Command::new(&cc)
        .args(flags)
        .arg(root().join("tests/c").join(source))
        .arg("-o")
        .arg(out)
        .args(libs)
        .output()
        .unwrap_or_else(|e| panic!("running {cc}: {e}"));
    assert!(
        o.status.success(),
        "{}",
        show(&format!("compiling {source}"), &o)
    );
}

#[test]
fn emulated_host_runs_recorded_events_through_the_plugin() {
    let _alone = alone();
    let dir = temp_dir("emulated");
    let plugin = plugin_dir("emulated-plugin").join("flb-filter_svcshell.so");
    let cases = cases();
    let mut manifest = String::new();
    for c in &cases {
        std::fs::write(dir.join(format!("{}.in", c.name)), &c.chunk).unwrap();
        manifest += &format!("case {}\n", c.name);
        for (k, v) in &c.props {
            manifest += &format!("prop {k} {v}\n");
        }
        manifest += &format!(
            "input {}.in\nexpect {}\noutput {}.out\n",
            c.name,
            c.expect(),
            c.name
        );
        for (s, e, hdr, x) in &c.records {
            match x {
                Expect::Keep => manifest += &format!("keep {s} {e}\n"),
                Expect::Alert(_) => manifest += &format!("alert {s} {e} {hdr}\n"),
                Expect::Drop => {}
            }
        }
        manifest += "end\n";
    }
    std::fs::write(dir.join("manifest.txt"), manifest).unwrap();
    let ev = events();
    let mut served = 0;
    for (k, line) in HOST_LINES.iter().enumerate() {
        if line.refused.is_some() {
            continue;
        }
        let exe = compile_host(&dir, line, k);
        for c in &cases {
            let _ = std::fs::remove_file(dir.join(format!("{}.out", c.name)));
        }
        let o = host_command(&exe).arg(&plugin).arg(&dir).output().unwrap();
        assert!(
            o.status.success(),
            "{}",
            show(&format!("fluentbit_host, {}", line.name), &o)
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains(&format!("{} chunk cases", cases.len())),
            "{}: {stdout}",
            line.name
        );
        // The plugin's start-up line names the layout it recognised.
        let stderr = String::from_utf8_lossy(&o.stderr);
        let lines = if line.name.starts_with("2.2") {
            "Fluent Bit 2.2 - 3.1 layout"
        } else if line.name.starts_with("3.2") {
            "Fluent Bit 3.2 - 5.0.2 layout"
        } else if line.name.starts_with("5.0.3") {
            "Fluent Bit 5.0.3 or later layout"
        } else {
            "an unreleased Fluent Bit layout"
        };
        assert!(stderr.contains(lines), "{}: {stderr}", line.name);
        eprintln!("{}: {}", line.name, stdout.trim().replace('\n', ", "));

        // The alerts, decoded: the JSON path's alert for the same event, field for field.
        for c in &cases {
            let out = std::fs::read(dir.join(format!("{}.out", c.name))).unwrap();
            let mut bodies = Vec::new();
            for (_, r) in msgpack::records(&out) {
                let Ok(r) = r else { continue };
                if r.time.is_group_marker() {
                    continue;
                }
                let mut i = r.body;
                let body = decode_msgpack(&out, &mut i);
                if body["rule"]["id"] == "0022d47d-39c7-4f69-a232-4fe9dc7a3acd" {
                    bodies.push(body);
                }
            }
            assert_eq!(bodies.len(), c.alerts.len(), "{}: alerts", c.name);
            for (body, &e) in bodies.iter().zip(&c.alerts) {
                assert_eq!(body["event"]["kind"], "alert", "{}", c.name);
                assert_eq!(
                    *body,
                    json_alert(&ev[e].0),
                    "{}: alert of event {e}",
                    c.name
                );
            }
        }
        served += 1;
    }
    assert_eq!(served, 4, "every layout combination");
}

#[test]
fn emulated_hosts_the_plugin_must_refuse() {
    let _alone = alone();
    let dir = temp_dir("emulated-refused");
    let plugin = plugin_dir("emulated-refused-plugin").join("flb-filter_svcshell.so");
    let mut refused = 0;
    for (k, line) in HOST_LINES.iter().enumerate() {
        let Some(why) = line.refused else { continue };
        let exe = compile_host(&dir, line, k);
        let o = host_command(&exe).arg(&plugin).output().unwrap();
        assert!(
            o.status.success(),
            "{}",
            show(&format!("fluentbit_host, {}", line.name), &o)
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        // One error line, in the host's log (stdout says "refused: <line>") or, when the plugin cannot reach the
        // host's log, on stderr.
        let said: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| l.contains("cannot run in this process"))
            .filter(|l| !l.starts_with("  host log:"))
            .collect();
        assert_eq!(said.len(), 1, "{}: {stdout}\n{stderr}", line.name);
        assert!(said[0].contains(why), "{}: {}", line.name, said[0]);
        eprintln!("{}: {}", line.name, said[0]);
        refused += 1;
    }
    assert_eq!(refused, 2);
}

// ---- the shipped configs ----------------------------------------------------------------------------------------

/// Keys of a filter section that belong to Fluent Bit, not to svcshell.
const HOST_KEYS: &[&str] = &[
    "name",
    "match",
    "match_regex",
    "alias",
    "log_level",
    "log_suppress_interval",
];

/// The svcshell `[FILTER]` sections of a classic config: each section's (key, value) lines.
fn classic_filters(text: &str) -> Vec<Vec<(String, String)>> {
    classic_filters_named(text, "svcshell")
}

/// The `[FILTER]` sections of a classic config whose `Name` is `name`: each section's (key, value) lines.
fn classic_filters_named(text: &str, name: &str) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    let mut section: Option<Vec<(String, String)>> = None;
    let flush = |s: Option<Vec<(String, String)>>, out: &mut Vec<_>| {
        if let Some(s) = s {
            if s.iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("name") && v == name)
            {
                out.push(s);
            }
        }
    };
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.starts_with('[') {
            flush(section.take(), &mut out);
            if t.eq_ignore_ascii_case("[filter]") {
                section = Some(Vec::new());
            }
            continue;
        }
        if let Some(s) = section.as_mut() {
            let (k, v) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
            s.push((k.to_string(), v.trim().to_string()));
        }
    }
    flush(section, &mut out);
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('\'') && v.ends_with('\'')) || (v.starts_with('"') && v.ends_with('"')))
    {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

/// The svcshell entries of the YAML `filters:` list (the subset of YAML the shipped file uses).
fn yaml_filters(text: &str) -> Vec<Vec<(String, String)>> {
    yaml_filters_named(text, "svcshell")
}

/// The entries of the YAML `filters:` list whose `name` is `name` (the subset of YAML the shipped files use).
fn yaml_filters_named(text: &str, name: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut in_filters = false;
    let mut filters_indent = 0;
    let mut item: Option<Vec<(String, String)>> = None;
    let push = |item: Option<Vec<(String, String)>>, out: &mut Vec<Vec<(String, String)>>| {
        if let Some(i) = item {
            if i.iter().any(|(k, v)| k == "name" && v == name) {
                out.push(i);
            }
        }
    };
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if t == "filters:" {
            in_filters = true;
            filters_indent = indent;
            continue;
        }
        if !in_filters {
            continue;
        }
        if indent <= filters_indent {
            in_filters = false;
            push(item.take(), &mut out);
            continue;
        }
        let t = match t.strip_prefix("- ") {
            Some(rest) => {
                push(item.take(), &mut out);
                item = Some(Vec::new());
                rest
            }
            None => t,
        };
        if let (Some(i), Some((k, v))) = (item.as_mut(), t.split_once(':')) {
            i.push((k.trim().to_string(), unquote(v)));
        }
    }
    push(item, &mut out);
    out
}

/// The svcshell properties of a filter section, as the plugin passes them to the core.
fn plugin_props(section: &[(String, String)]) -> Vec<(String, String)> {
    section
        .iter()
        .filter(|(k, _)| !HOST_KEYS.contains(&k.to_ascii_lowercase().as_str()))
        .map(|(k, v)| {
            let k = k.to_ascii_lowercase();
            (
                svcshell::ffi::fluentbit::core_key(&k).to_string(),
                v.clone(),
            )
        })
        .collect()
}

/// The committed rule file the `rule_file` example runs in the tests.
fn latest_rule() -> PathBuf {
    root().join("rules/persistence_system_shells_via_services.latest.toml")
}

/// `props` with `${SVCSHELL_RULE_FILE}` resolved to [`latest_rule`], as Fluent Bit resolves it in the tests.
fn with_rule_file(props: Vec<(String, String)>) -> Vec<(String, String)> {
    props
        .into_iter()
        .map(|(k, v)| {
            let v = v.replace("${SVCSHELL_RULE_FILE}", &latest_rule().to_string_lossy());
            (k, v)
        })
        .collect()
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(root().join("plugin-config").join(name)).unwrap()
}

#[test]
fn shipped_configs_properties_are_accepted() {
    let _alone = alone();
    let mut seen = 0;
    for (file, sections) in [
        (
            "fluent-bit.conf",
            classic_filters(&shipped("fluent-bit.conf")),
        ),
        (
            "fluent-bit-alerts.conf",
            classic_filters(&shipped("fluent-bit-alerts.conf")),
        ),
        ("fluent-bit.yaml", yaml_filters(&shipped("fluent-bit.yaml"))),
        (
            "fluent-bit-rule-file.conf",
            classic_filters(&shipped("fluent-bit-rule-file.conf")),
        ),
    ] {
        assert!(!sections.is_empty(), "{file}: no svcshell filter found");
        for s in sections {
            let keys = svcshell::ffi::fluentbit::property_keys();
            for (k, _) in &s {
                let k = k.to_ascii_lowercase();
                assert!(
                    HOST_KEYS.contains(&k.as_str()) || keys.contains(&k),
                    "{file}: `{k}` is neither a host key nor a plugin key"
                );
            }
            let props = with_rule_file(plugin_props(&s));
            Config::from_properties(&props)
                .unwrap_or_else(|e| panic!("{file}: {e} (properties {props:?})"));
            seen += 1;
        }
    }
    assert_eq!(seen, 4);
    // The classic and YAML configs describe the same filter.
    assert_eq!(
        plugin_props(&classic_filters(&shipped("fluent-bit.conf"))[0]),
        plugin_props(&yaml_filters(&shipped("fluent-bit.yaml"))[0])
    );
    // Never a [PLUGINS] section inside a main classic config (it crashes v5.1.1).
    for f in ["fluent-bit.conf", "fluent-bit-alerts.conf"] {
        assert!(
            !shipped(f).to_ascii_lowercase().contains("[plugins]"),
            "{f} holds [PLUGINS]"
        );
    }
    assert!(shipped("plugins.conf").contains("flb-filter_svcshell.so"));
}

#[test]
fn config_parsers_read_what_fluent_bit_reads() {
    let _alone = alone();
    let classic = "[SERVICE]\n  Flush 1\n[FILTER]\n  Name svcshell\n  Match *\n  # c\n  Exception_1  a == \"b c\"\n[OUTPUT]\n  Name null\n";
    assert_eq!(
        plugin_props(&classic_filters(classic)[0]),
        vec![("exception".to_string(), "a == \"b c\"".to_string())]
    );
    let yaml = "pipeline:\n  filters:\n    - name: grep\n      regex: a b\n    - name: svcshell\n      match: '*'\n      mode: 'alerts_only'\n  outputs:\n    - name: null\n      mode: x\n";
    let f = yaml_filters(yaml);
    assert_eq!(f.len(), 1);
    assert_eq!(
        plugin_props(&f[0]),
        vec![("mode".to_string(), "alerts_only".to_string())]
    );
}

// ---- a real Fluent Bit --------------------------------------------------------------------------------------------

/// Writes a line straight to the process's stderr, past the test harness's output capture, so a skipped test is
/// visible in a plain `cargo test` run.
fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// One real Fluent Bit binary and the version it reports.
struct FluentBit {
    bin: PathBuf,
    /// (major, minor, patch) from `fluent-bit --version`.
    version: (u32, u32, u32),
}

impl FluentBit {
    fn tag(&self) -> String {
        let (a, b, c) = self.version;
        format!("v{a}.{b}.{c}")
    }

    /// YAML top-level `plugins:` (from 3.2.0); before, the plugin is loaded with `-e`.
    fn has_yaml_plugins(&self) -> bool {
        self.version >= (3, 2, 0)
    }

    /// The layout the plugin must recognise in this version (as its start-up line names it): from the version
    /// number, independently of the symbols the plugin probes.
    fn layout(&self) -> &'static str {
        if self.version >= (5, 0, 3) {
            "Fluent Bit 5.0.3 or later"
        } else if self.version >= (3, 2, 0) {
            "Fluent Bit 3.2 - 5.0.2"
        } else {
            "Fluent Bit 2.2 - 3.1"
        }
    }

    /// A directory name for this binary's runs.
    fn dir(&self, what: &str) -> PathBuf {
        temp_dir(&format!("{}-{what}", self.tag()))
    }
}

/// The real Fluent Bit binaries to test: `FLUENT_BIT_BINS` (paths separated by `:`) and `FLUENT_BIT_BIN` (one
/// path). Empty (and a loud SKIPPED line) when neither is set.
fn fluent_bits() -> Vec<FluentBit> {
    let mut paths: Vec<PathBuf> = Vec::new();
    if let Some(list) = std::env::var_os("FLUENT_BIT_BINS") {
        paths.extend(std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()));
    }
    if let Some(p) = std::env::var_os("FLUENT_BIT_BIN").filter(|p| !p.is_empty()) {
        paths.push(PathBuf::from(p));
    }
    if paths.is_empty() {
        loud(
            "SKIPPED: neither FLUENT_BIT_BINS nor FLUENT_BIT_BIN is set (set them to Fluent Bit 2.2 - 5.1 binaries to run \
             the real-Fluent-Bit tests)",
        );
    }
    paths
        .into_iter()
        .map(|bin| {
            let o = Command::new(&bin)
                .arg("--version")
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let version = text
                .split_whitespace()
                .find_map(|w| {
                    let mut n = w.strip_prefix('v')?.split('.').map(|x| x.parse::<u32>());
                    Some((n.next()?.ok()?, n.next()?.ok()?, n.next()?.ok()?))
                })
                .unwrap_or_else(|| panic!("{}: no version in `--version`: {text}", bin.display()));
            assert!(
                version >= (2, 2, 0),
                "{}: Fluent Bit {version:?} is older than 2.2, which svcshell does not support",
                bin.display()
            );
            FluentBit { bin, version }
        })
        .collect()
}

/// Runs `cmd` to completion (output collected through files, so nothing blocks on a full pipe); kills it and
/// fails after `secs` seconds.
fn output_within(mut cmd: Command, secs: u64) -> Output {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fluentbit");
    std::fs::create_dir_all(&dir).unwrap();
    let (out, err) = (
        dir.join(format!("run-{}-{n}.out", std::process::id())),
        dir.join(format!("run-{}-{n}.err", std::process::id())),
    );
    let mut child = cmd
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed().as_secs() > secs {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} still running after {secs}s; stderr:\n{}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let o = Output {
        status,
        stdout: std::fs::read(&out).unwrap(),
        stderr: std::fs::read(&err).unwrap(),
    };
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&err);
    o
}

/// Runs Fluent Bit on `config` with the plugin's directory on LD_LIBRARY_PATH and `env`.
fn run_fluent_bit(bin: &Path, plugin: &Path, config: &Path, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.arg("-c").arg(config).env("LD_LIBRARY_PATH", plugin);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env("SVCSHELL_EXIT_ON_EOF", "on");
    let o = output_within(cmd, 600);
    assert!(
        o.status.success(),
        "{}",
        show(&config.display().to_string(), &o)
    );
    o
}

fn read_json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// What the shipped config's filter should turn each recorded event into: (expected output, is an alert).
fn expected_outputs(props: &[(String, String)]) -> Vec<(Value, bool)> {
    let f = Filter::from_properties(props).unwrap();
    events()
        .into_iter()
        .map(|(line, v, alert)| match v {
            // Not a JSON object: the tail input keeps the raw line under `log`.
            None => (serde_json::json!({ "log": line }), false),
            Some(v) => match f.process(line.as_bytes()).action {
                Action::Alert(b) => {
                    assert!(alert, "unexpected alert: {line}");
                    (serde_json::from_slice(&b).unwrap(), true)
                }
                _ => {
                    assert!(!alert, "missing alert: {line}");
                    (v, false)
                }
            },
        })
        .collect()
}

/// The log of a run (stderr then stdout).
fn log_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout)
}

/// What Fluent Bit should write for `lines` (NDJSON as tail reads it) through a svcshell with `props`: (record,
/// is an alert) for each record that comes out. A line that is not a JSON object reaches the filter as
/// `{"log": line}` (the tail input keeps the raw line).
fn expected_for(lines: &[String], props: &[(String, String)]) -> Vec<(Value, bool)> {
    let f = Filter::from_properties(props).unwrap();
    lines
        .iter()
        .filter_map(|line| {
            let record = serde_json::from_str::<Value>(line)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| serde_json::json!({ "log": line }));
            match f.process(record.to_string().as_bytes()).action {
                Action::Alert(b) => Some((serde_json::from_slice(&b).unwrap(), true)),
                Action::Drop => None,
                _ => Some((record, false)),
            }
        })
        .collect()
}

/// The recorded events' lines.
fn event_lines() -> Vec<String> {
    events().into_iter().map(|e| e.0).collect()
}

/// Checks one output file against the expectation, record for record; returns the number of alerts.
fn check_records(what: &str, got: &[Value], want: &[(Value, bool)]) -> usize {
    assert_eq!(got.len(), want.len(), "{what}: every record comes out");
    for (k, (g, (w, _))) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{what}: record {k}");
    }
    got.iter().filter(|v| v["event"]["kind"] == "alert").count()
}

/// The counters of an instance's exit line (`records=16 alerts=6 ...`), or None.
fn exit_counters(log: &str, instance: &str) -> Option<String> {
    let line = log
        .lines()
        .find(|l| l.contains(&format!("[filter:svcshell:{instance}] stopping: ")))?;
    let rest = line.split("stopping: ").nth(1)?;
    Some(rest.split(" dropped=").next()?.to_string())
}

/// `config` of plugin-config/, unmodified, over the recorded events: one output file, record for record.
fn check_single_output(fb: &FluentBit, config: &str, props: &[(String, String)]) -> String {
    let dir = fb.dir(config);
    let plugin = plugin_dir(&format!("{}-{config}-plugin", fb.tag()));
    let input = root().join("tests/data/events.ndjson");
    let o = run_fluent_bit(
        &fb.bin,
        &plugin,
        &root().join("plugin-config").join(config),
        &[
            ("SVCSHELL_INPUT", &input),
            ("SVCSHELL_OUTPUT_DIR", &dir),
            ("SVCSHELL_OUTPUT_FILE", Path::new("out.ndjson")),
        ],
    );
    let log = log_of(&o);
    assert!(
        log.contains("[filter:svcshell:svcshell.0] svcshell ") && log.contains("version 313"),
        "{}: no start-up line: {log}",
        fb.tag()
    );
    assert!(
        log.contains(&format!("(host: {} layout)", fb.layout())),
        "{}: the plugin did not recognise the layout of its version ({}): {log}",
        fb.tag(),
        fb.layout()
    );
    assert_eq!(
        exit_counters(&log, "svcshell.0").as_deref(),
        Some("records=16 alerts=6 suppressed=0 excepted=0 errors=0"),
        "{}: exit line with the counters: {log}",
        fb.tag()
    );
    let got = read_json_lines(&dir.join("out.ndjson"));
    let alerts = check_records(config, &got, &expected_outputs(props));
    assert_eq!(alerts, 6, "{config}");
    format!("{} records, {alerts} alerts", got.len())
}

/// fluent-bit-rule-file.conf with the latest detection-rules TOML: the same verdicts as the embedded rule on the
/// recorded events, and alerts that carry the file's metadata (T1569.002, no version).
fn check_rule_file(fb: &FluentBit) -> String {
    let config = "fluent-bit-rule-file.conf";
    let dir = fb.dir(config);
    let plugin = plugin_dir(&format!("{}-rule-file-plugin", fb.tag()));
    let input = root().join("tests/data/events.ndjson");
    let rule = latest_rule();
    let o = run_fluent_bit(
        &fb.bin,
        &plugin,
        &root().join("plugin-config").join(config),
        &[
            ("SVCSHELL_INPUT", &input),
            ("SVCSHELL_OUTPUT_DIR", &dir),
            ("SVCSHELL_OUTPUT_FILE", Path::new("out.ndjson")),
            ("SVCSHELL_RULE_FILE", &rule),
        ],
    );
    let log = log_of(&o);
    assert!(
        log.contains(&format!("no version, from {})", rule.display())),
        "{}: no start-up line naming the rule file: {log}",
        fb.tag()
    );
    assert_eq!(
        exit_counters(&log, "svcshell.0").as_deref(),
        Some("records=16 alerts=6 suppressed=0 excepted=0 errors=0"),
        "{}: exit line with the counters: {log}",
        fb.tag()
    );
    let props = with_rule_file(plugin_props(&classic_filters(&shipped(config))[0]));
    let got = read_json_lines(&dir.join("out.ndjson"));
    let alerts = check_records(config, &got, &expected_outputs(&props));
    assert_eq!(alerts, 6, "{config}");
    for a in got.iter().filter(|v| v["event"]["kind"] == "alert") {
        let subs = &a["threat"]["technique"]["subtechnique"]["id"];
        assert!(
            subs.as_array()
                .is_some_and(|s| s.contains(&Value::from("T1569.002"))),
            "{}: {a}",
            fb.tag()
        );
        assert!(a["rule"].get("version").is_none(), "{}: {a}", fb.tag());
    }
    format!("{} records, {alerts} alerts with T1569.002", got.len())
}

/// fluent-bit-alerts.conf: alerts to one output, the rest to the other.
fn check_alert_routing(fb: &FluentBit) -> String {
    let config = "fluent-bit-alerts.conf";
    let props = plugin_props(&classic_filters(&shipped(config))[0]);
    let dir = fb.dir(config);
    let plugin = plugin_dir(&format!("{}-alerts-plugin", fb.tag()));
    let input = root().join("tests/data/events.ndjson");
    run_fluent_bit(
        &fb.bin,
        &plugin,
        &root().join("plugin-config").join(config),
        &[
            ("SVCSHELL_INPUT", &input),
            ("SVCSHELL_OUTPUT_DIR", &dir),
            ("SVCSHELL_ALERTS_FILE", Path::new("alerts.ndjson")),
            ("SVCSHELL_EVENTS_FILE", Path::new("events.ndjson")),
        ],
    );
    let want = expected_outputs(&props);
    let want_alerts: Vec<&Value> = want.iter().filter(|w| w.1).map(|w| &w.0).collect();
    let want_rest: Vec<&Value> = want.iter().filter(|w| !w.1).map(|w| &w.0).collect();
    let alerts = read_json_lines(&dir.join("alerts.ndjson"));
    let rest = read_json_lines(&dir.join("events.ndjson"));
    assert_eq!(
        alerts.iter().collect::<Vec<_>>(),
        want_alerts,
        "{}: alerts output",
        fb.tag()
    );
    assert_eq!(
        rest.iter().collect::<Vec<_>>(),
        want_rest,
        "{}: events output",
        fb.tag()
    );
    format!("{} alerts + {} others", alerts.len(), rest.len())
}

/// Runs `fb` with `args` and the plugin directory on LD_LIBRARY_PATH; the output, whatever the exit status.
fn run_args(fb: &FluentBit, plugin: &Path, args: &[&std::ffi::OsStr], secs: u64) -> Output {
    let mut cmd = Command::new(&fb.bin);
    cmd.args(args).env("LD_LIBRARY_PATH", plugin);
    output_within(cmd, secs)
}

/// Runs `fb` with `args` until `done()` holds, then stops it with SIGTERM (as a service manager does) and returns
/// its output; fails if it exits before, or does not stop within 30 s of the signal.
fn run_until(
    fb: &FluentBit,
    plugin: &Path,
    args: &[&std::ffi::OsStr],
    done: &dyn Fn() -> bool,
) -> Output {
    let dir = fb.dir("run-until");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(&fb.bin)
        .args(args)
        .env("LD_LIBRARY_PATH", plugin)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let log = || std::fs::read_to_string(&err).unwrap_or_default();
    let t = std::time::Instant::now();
    while !done() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{}: exited ({status}) before the end; log:\n{}",
                fb.tag(),
                log()
            );
        }
        if t.elapsed().as_secs() > 120 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{}: not done within 120 s; log:\n{}", fb.tag(), log());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Give the last flush a moment, then stop.
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: kill(2) on our own child's pid with a valid signal.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let t = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed().as_secs() > 30 {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{}: still running 30 s after SIGTERM; log:\n{}",
                fb.tag(),
                log()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Output {
        status,
        stdout: std::fs::read(&out).unwrap(),
        stderr: std::fs::read(&err).unwrap(),
    }
}

/// The plugin loaded with `-e`, the whole pipeline on the command line.
fn check_command_line(fb: &FluentBit) -> String {
    let dir = fb.dir("command-line");
    let plugin = plugin_dir(&format!("{}-command-line-plugin", fb.tag()));
    let so = plugin.join("flb-filter_svcshell.so");
    let input = root().join("tests/data/events.ndjson");
    let parsers = root().join("plugin-config/parsers.conf");
    let args: Vec<String> = vec![
        "-e".into(),
        so.display().to_string(),
        "-R".into(),
        parsers.display().to_string(),
        "-f".into(),
        "1".into(),
        "-i".into(),
        "tail".into(),
        "-t".into(),
        "events".into(),
        "-p".into(),
        format!("path={}", input.display()),
        "-p".into(),
        "parser=svcshell_json".into(),
        "-p".into(),
        "read_from_head=on".into(),
        "-p".into(),
        "exit_on_eof=on".into(),
        "-F".into(),
        "svcshell".into(),
        "-m".into(),
        "events".into(),
        "-p".into(),
        "max_alerts=0".into(),
        "-p".into(),
        "exception_3=host.name == \"build01\"".into(),
        "-o".into(),
        "file".into(),
        "-m".into(),
        "events".into(),
        "-p".into(),
        format!("path={}", dir.display()),
        "-p".into(),
        "file=out.ndjson".into(),
        "-p".into(),
        "format=plain".into(),
    ];
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    let o = run_args(fb, &plugin, &args, 120);
    assert!(
        o.status.success(),
        "{}",
        show(&format!("{} -e", fb.tag()), &o)
    );
    let props = [
        ("max_alerts".to_string(), "0".to_string()),
        (
            "exception".to_string(),
            "host.name == \"build01\"".to_string(),
        ),
    ];
    let got = read_json_lines(&dir.join("out.ndjson"));
    let alerts = check_records("-e", &got, &expected_for(&event_lines(), &props));
    format!("{} records, {alerts} alerts", got.len())
}

/// `text` without terminal colour sequences (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `-F svcshell -h`: Fluent Bit prints the plugin's properties from its configuration map.
fn check_help(fb: &FluentBit) -> String {
    let plugin = plugin_dir(&format!("{}-help-plugin", fb.tag()));
    let so = plugin.join("flb-filter_svcshell.so");
    let o = run_args(
        fb,
        &plugin,
        &[
            "-e".as_ref(),
            so.as_os_str(),
            "-F".as_ref(),
            "svcshell".as_ref(),
            "-h".as_ref(),
        ],
        60,
    );
    let text = strip_ansi(&log_of(&o));
    let keys = svcshell::ffi::fluentbit::property_keys();
    for k in &keys {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(k.as_str())),
            "{}: `-F svcshell -h` does not list {k}:\n{text}",
            fb.tag()
        );
    }
    assert!(
        text.contains("System Shells via Services"),
        "{}: {text}",
        fb.tag()
    );
    format!("{} properties", keys.len())
}

/// `dir/plugins.conf`: the classic `[PLUGINS]` file that loads the plugin copy in `plugin`.
fn write_plugins_file(dir: &Path, plugin: &Path) {
    std::fs::write(
        dir.join("plugins.conf"),
        format!(
            "[PLUGINS]\n    Path {}\n",
            plugin.join("flb-filter_svcshell.so").display()
        ),
    )
    .unwrap();
}

/// A classic config with one svcshell section of `lines`, over the recorded events; the run's output.
fn run_classic_with(fb: &FluentBit, name: &str, lines: &str) -> Output {
    let dir = fb.dir(name);
    let plugin = plugin_dir(&format!("{}-{name}-plugin", fb.tag()));
    let conf = dir.join("fluent-bit.conf");
    write_plugins_file(&dir, &plugin);
    std::fs::write(
        &conf,
        format!(
            "[SERVICE]\n    Flush 1\n    Parsers_File {}\n    Plugins_File plugins.conf\n\
             [INPUT]\n    Name tail\n    Path {}\n    Parser svcshell_json\n    Read_From_Head On\n    Exit_On_Eof On\n    Tag events\n\
             [FILTER]\n    Name svcshell\n    Match *\n{lines}\n\
             [OUTPUT]\n    Name null\n    Match *\n",
            root().join("plugin-config/parsers.conf").display(),
            root().join("tests/data/events.ndjson").display()
        ),
    )
    .unwrap();
    run_args(fb, &plugin, &["-c".as_ref(), conf.as_os_str()], 60)
}

/// Keys Fluent Bit must refuse before the filter runs (unknown, repeated), and values svcshell must refuse with
/// an error line that names the key: each makes Fluent Bit exit with an error.
fn check_refusals(fb: &FluentBit) -> String {
    let cases: [(&str, &str, &str); 4] = [
        (
            "unknown",
            "    Bogus_Key 1",
            "unknown configuration property 'bogus_key'",
        ),
        (
            "repeated",
            "    Exception host.name == \"a\"\n    Exception host.name == \"b\"",
            "configuration property 'exception' is set 2 times",
        ),
        (
            "bad-value",
            "    Max_Alerts -1",
            "[filter:svcshell:svcshell.0] invalid configuration: max_alerts",
        ),
        (
            "bad-exception",
            "    Exception_2 host.name ==",
            "[filter:svcshell:svcshell.0] invalid configuration: exception",
        ),
    ];
    for (name, lines, said) in cases {
        let o = run_classic_with(fb, &format!("refuse-{name}"), lines);
        let log = log_of(&o);
        assert!(
            !o.status.success(),
            "{} {name}: Fluent Bit started: {log}",
            fb.tag()
        );
        assert!(
            log.to_ascii_lowercase()
                .contains(&said.to_ascii_lowercase()),
            "{} {name}: no `{said}` in the log:\n{log}",
            fb.tag()
        );
        assert!(
            !log.contains("stopping: records="),
            "{} {name}: the filter ran: {log}",
            fb.tag()
        );
    }
    "unknown, repeated, 2 bad values".to_string()
}

/// Two svcshell instances with different settings as YAML input processors (`processors: logs:`) on two
/// `threaded: true` inputs of one pipeline, each to its own output: each with its own counters and cap.
fn check_processors(fb: &FluentBit) -> String {
    let dir = fb.dir("processors");
    let plugin = plugin_dir(&format!("{}-processors-plugin", fb.tag()));
    let so = plugin.join("flb-filter_svcshell.so");
    let input = root().join("tests/data/events.ndjson");
    let conf = dir.join("fluent-bit.yaml");
    let plugins = if fb.has_yaml_plugins() {
        format!("plugins:\n  - {}\n", so.display())
    } else {
        String::new()
    };
    let tail = |tag: &str, processor: &str| {
        format!(
            "    - name: tail\n      tag: {tag}\n      path: {}\n      parser: svcshell_json\n      read_from_head: on\n      \
             threaded: true\n      processors:\n        logs:\n          - name: svcshell\n{processor}",
            input.display()
        )
    };
    let output = |tag: &str| {
        format!(
            "    - name: file\n      match: {tag}\n      path: {}\n      file: {tag}.ndjson\n      format: plain\n",
            dir.display()
        )
    };
    std::fs::write(
        &conf,
        format!(
            "service:\n  flush: 1\n  log_level: info\n  parsers_file: {}\n{plugins}pipeline:\n  inputs:\n{}{}  outputs:\n{}{}",
            root().join("plugin-config/parsers.conf").display(),
            tail("tagged", "            alias: tagger\n            mode: tag\n            max_alerts: 0\n"),
            tail(
                "alerts",
                "            alias: alerter\n            mode: alerts_only\n            max_alerts: 2\n            alert_window: 1h\n"
            ),
            output("tagged"),
            output("alerts"),
        ),
    )
    .unwrap();
    let mut args: Vec<&std::ffi::OsStr> = vec!["-c".as_ref(), conf.as_os_str()];
    if !fb.has_yaml_plugins() {
        args.extend(["-e".as_ref(), so.as_os_str()]);
    }
    // Stopped with SIGTERM once both outputs are complete, not with exit_on_eof: two threaded inputs reaching
    // their end together deadlock Fluent Bit 5.0.2's shutdown.
    let lines = event_lines();
    let count = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let o = run_until(fb, &plugin, &args, &|| {
        count("tagged.ndjson") >= lines.len() && count("alerts.ndjson") >= 2
    });
    let log = log_of(&o);
    assert!(
        o.status.success(),
        "{}",
        show(&format!("{} processors", fb.tag()), &o)
    );
    let tagged = read_json_lines(&dir.join("tagged.ndjson"));
    let a = check_records(
        "processor tagger",
        &tagged,
        &expected_for(&lines, &[("max_alerts".into(), "0".into())]),
    );
    let alerts = read_json_lines(&dir.join("alerts.ndjson"));
    let b = check_records(
        "processor alerter",
        &alerts,
        &expected_for(
            &lines,
            &[
                ("mode".into(), "alerts_only".into()),
                ("max_alerts".into(), "2".into()),
                ("alert_window".into(), "1h".into()),
            ],
        ),
    );
    assert_eq!((a, b), (6, 2), "{}", fb.tag());
    assert_eq!(
        exit_counters(&log, "tagger").as_deref(),
        Some("records=16 alerts=6 suppressed=0 excepted=0 errors=0"),
        "{}: {log}",
        fb.tag()
    );
    assert_eq!(
        exit_counters(&log, "alerter").as_deref(),
        Some("records=16 alerts=2 suppressed=4 excepted=0 errors=0"),
        "{}: {log}",
        fb.tag()
    );
    format!("2 instances: {a} alerts / {b} (cap 2)")
}

/// The labelled corpus the Fluent Bit runs read, written into `dir` when generated: the NDJSON file and one
/// label per line (see [`check_labelled_corpus`]).
fn labelled_corpus(dir: &Path) -> (PathBuf, Vec<bool>) {
    match std::env::var_os("SVCSHELL_FB_CORPUS") {
        Some(input) => {
            let labels = std::fs::read_to_string(
                std::env::var_os("SVCSHELL_FB_CORPUS_LABELS").expect("SVCSHELL_FB_CORPUS_LABELS"),
            )
            .unwrap();
            let labels: Vec<bool> = labels.lines().map(|l| l.trim() == "1").collect();
            (PathBuf::from(input), labels)
        }
        None => {
            let (lines, labels) = common::generate(
                &common::support::reference::Shape::ALL,
                10_000,
                7,
                // Fewer attacks and near misses than the generator's default (look-alikes that are attacks
                // remain: about 285 alerts, so the shipped cap of 100 per window suppresses some).
                common::support::gen::Rates {
                    attack: 0.006,
                    nv: 0.006,
                    ..Default::default()
                },
            );
            let input = dir.join("corpus.ndjson");
            // The cap counts alerts per window of each record's own time: `@timestamp` in-process, and the time
            // the shipped parser takes from `@timestamp` in Fluent Bit. A record without a readable one (CrowdStrike
            // FDR lines have none; the generator's odd values put numbers and nulls there) gets the read time in
            // Fluent Bit but the previous record's time in-process, so the two would cap different records: every
            // record gets the corpus's time (inserted as text where the key is missing, else the record is
            // re-serialised and relabelled by the reference).
            const TIME: &str = "2024-05-13T06:16:14.123Z";
            let mut labels = labels;
            let mut text = Vec::new();
            for (l, label) in lines.iter().zip(labels.iter_mut()) {
                let mut v: Value = serde_json::from_slice(l).unwrap();
                match v.get("@timestamp") {
                    Some(t) if t == TIME => text.extend_from_slice(l),
                    None => {
                        let at = l.iter().position(|&b| b == b'{').unwrap() + 1;
                        text.extend_from_slice(&l[..at]);
                        text.extend_from_slice(format!(r#""@timestamp":"{TIME}","#).as_bytes());
                        text.extend_from_slice(&l[at..]);
                    }
                    Some(_) => {
                        v["@timestamp"] = Value::from(TIME);
                        let line = serde_json::to_vec(&v).unwrap();
                        *label = common::support::reference::evaluate_line(&line)
                            .expect("a JSON object")
                            .alert;
                        text.extend_from_slice(&line);
                    }
                }
                text.push(b'\n');
            }
            std::fs::write(&input, text).unwrap();
            (input, labels)
        }
    }
}

/// A labelled corpus through fluent-bit.conf: every record comes out, the alerts exactly where the labels put
/// them less those the shipped cap suppresses (as the exit line counts them), and exactly on the records the
/// library alerts on when it runs the same records with the same properties in-process. The corpus is 10,000 records of
/// every shape from the in-repo generator, labelled by the independent reference (`tests/support/`), or one
/// given as `SVCSHELL_FB_CORPUS=<ndjson>` with `SVCSHELL_FB_CORPUS_LABELS=<one 1/0 per line>`.
fn check_labelled_corpus(fb: &FluentBit, props: &[(String, String)]) -> Option<String> {
    let dir = fb.dir("corpus");
    let (input, labels) = labelled_corpus(&dir);
    let lines: Vec<String> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), labels.len(), "one label per record");
    let plugin = plugin_dir(&format!("{}-corpus-plugin", fb.tag()));
    let o = run_fluent_bit(
        &fb.bin,
        &plugin,
        &root().join("plugin-config/fluent-bit.conf"),
        &[
            ("SVCSHELL_INPUT", &input),
            ("SVCSHELL_OUTPUT_DIR", &dir),
            ("SVCSHELL_OUTPUT_FILE", Path::new("out.ndjson")),
        ],
    );
    let log = log_of(&o);
    let got = read_json_lines(&dir.join("out.ndjson"));
    assert_eq!(
        got.len(),
        lines.len(),
        "{}: every record comes out",
        fb.tag()
    );
    let counters = exit_counters(&log, "svcshell.0").expect("exit line");
    let num = |k: &str| -> usize {
        counters
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    // Which records the library, configured as the shipped config, alerts on in this order (the cap included).
    let f = Filter::from_properties(props).unwrap();
    let library: Vec<bool> = lines
        .iter()
        .map(|l| matches!(f.process(l.as_bytes()).action, Action::Alert(_)))
        .collect();
    let mut alerts = 0;
    for (k, ((g, &label), &lib)) in got.iter().zip(&labels).zip(&library).enumerate() {
        // The alert fields land where the record keeps its `event` / `rule` objects: nested, dotted
        // (`"event.kind": "alert"`), or inside an array of objects; the reference's document view reads them all.
        let doc = common::support::reference::Doc::new(g);
        let alert = doc.strings("event.kind").iter().any(|k| k == "alert")
            && doc
                .strings("rule.id")
                .iter()
                .any(|id| id == "0022d47d-39c7-4f69-a232-4fe9dc7a3acd");
        assert!(
            !alert || label,
            "{}: record {k} is an alert the labels do not have",
            fb.tag()
        );
        assert_eq!(
            alert,
            lib,
            "{}: record {k}: Fluent Bit's output and the library disagree on the alert",
            fb.tag()
        );
        alerts += usize::from(alert);
    }
    let labelled = labels.iter().filter(|&&l| l).count();
    let excepted = num("excepted");
    assert_eq!(
        alerts + num("suppressed") + excepted,
        labelled,
        "{}: alerts + suppressed + excepted = labelled ({counters})",
        fb.tag()
    );
    assert_eq!(num("records"), lines.len(), "{}: {counters}", fb.tag());
    Some(format!(
        "{} records, {alerts} alerts of {labelled} labelled ({counters})",
        lines.len()
    ))
}

/// Every way of loading and configuring the plugin, on every Fluent Bit given: the shipped configs unmodified
/// (classic everywhere, YAML `plugins:` from 3.2), `-e` with the pipeline on the command line, `-F svcshell -h`,
/// the refusal of unknown, repeated and bad keys, two differently configured instances as processors on threaded
/// inputs, and (when given) a labelled corpus. Prints the table of what each version proved.
#[test]
fn real_fluent_bit_every_version() {
    let _alone = alone();
    let fbs = fluent_bits();
    let classic = plugin_props(&classic_filters(&shipped("fluent-bit.conf"))[0]);
    let yaml = plugin_props(&yaml_filters(&shipped("fluent-bit.yaml"))[0]);
    let mut table = String::from(
        "| Fluent Bit | fluent-bit.conf | fluent-bit-alerts.conf | fluent-bit.yaml | fluent-bit-rule-file.conf | -e | processors (threaded) | -F svcshell -h | refused keys | labelled corpus |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for fb in &fbs {
        let row = [
            check_single_output(fb, "fluent-bit.conf", &classic),
            check_alert_routing(fb),
            if fb.has_yaml_plugins() {
                check_single_output(fb, "fluent-bit.yaml", &yaml)
            } else {
                "n/a (no `plugins:` before 3.2)".to_string()
            },
            check_rule_file(fb),
            check_command_line(fb),
            check_processors(fb),
            check_help(fb),
            check_refusals(fb),
            check_labelled_corpus(fb, &classic).unwrap_or_else(|| "not given".to_string()),
        ];
        table += &format!("| {} | {} |\n", fb.tag(), row.join(" | "));
        loud(&format!("{}: every check passed", fb.tag()));
    }
    if !fbs.is_empty() {
        loud(&format!("Fluent Bit versions proved:\n{table}"));
    }
}

/// Does this build's tail input have `db` (builds without SQLite do not)?
fn tail_has_db(fb: &FluentBit) -> bool {
    let o = Command::new(&fb.bin)
        .args(["-i", "tail", "-h"])
        .output()
        .unwrap();
    strip_ansi(&log_of(&o))
        .lines()
        .any(|l| l.split_whitespace().next() == Some("db"))
}

/// The resident memory of process `pid` in kB (`VmRSS`).
fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// `POST /api/v2/reload` on 127.0.0.1:`port`; the response's status line.
fn http_reload(port: u16) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    c.write_all(
        b"POST /api/v2/reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut r = String::new();
    let _ = c.read_to_string(&mut r);
    r.lines().next().unwrap_or("").to_string()
}

/// Appends records `from..to` (the readable recorded events, cycled, each with `seq`) to `path`, one `write` per
/// line, as a logger does.
fn append_records(path: &Path, valid: &[Value], from: usize, to: usize) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for n in from..to {
        let mut v = valid[n % valid.len()].clone();
        v["seq"] = Value::from(n);
        f.write_all(format!("{v}\n").as_bytes()).unwrap();
    }
}

/// Hot reload with records flowing: Fluent Bit runs with `--enable-hot-reload` and the HTTP server on 127.0.0.1;
/// records are appended between reloads, which alternate SIGHUP and `POST /api/v2/reload`. Each reload must stop
/// the old instance (its exit line) and start a new one; at the end every record has come out, alerts where the
/// recorded labels put them. `SVCSHELL_FB_RELOADS` sets the number of reloads (default 4); the resident memory
/// after each reload is printed.
fn check_hot_reload(fb: &FluentBit, reloads: usize) -> String {
    // Without tail's `db` (Fluent Bit built without SQLite) a new tail instance cannot go on where the old one
    // stopped: then records are written only between reloads, each batch once the new instance watches the file
    // (`Read_From_Head Off`: it starts at the end).
    let flowing = tail_has_db(fb);
    const BATCH: usize = 200;
    let dir = fb.dir("reload");
    let plugin = plugin_dir(&format!("{}-reload-plugin", fb.tag()));
    let input = dir.join("in.ndjson");
    let ev = events();
    let valid: Vec<Value> = ev.iter().filter_map(|e| e.1.clone()).collect();
    let labels: Vec<bool> = ev.iter().filter(|e| e.1.is_some()).map(|e| e.2).collect();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    write_plugins_file(&dir, &plugin);
    let conf = dir.join("fluent-bit.conf");
    std::fs::write(
        &conf,
        format!(
            "[SERVICE]\n    Flush 1\n    Grace 2\n    Log_Level info\n    HTTP_Server On\n    HTTP_Listen 127.0.0.1\n    HTTP_Port {port}\n\
             \x20   Parsers_File {}\n    Plugins_File {}\n\
             [INPUT]\n    Name tail\n    Path {}\n    {}\n    Parser svcshell_json\n    Refresh_Interval 1\n    Tag events\n\
             [FILTER]\n    Name svcshell\n    Match events\n    Max_Alerts 0\n\
             [OUTPUT]\n    Name file\n    Match events\n    Path {}\n    File out.ndjson\n    Format plain\n",
            root().join("plugin-config/parsers.conf").display(),
            // Absolute: Fluent Bit (5.1.1) cannot resolve a relative Plugins_File when it reloads.
            dir.join("plugins.conf").display(),
            input.display(),
            if flowing {
                format!("DB {}\n    Read_From_Head On", dir.join("tail.db").display())
            } else {
                "Read_From_Head Off".to_string()
            },
            dir.display()
        ),
    )
    .unwrap();
    if flowing {
        append_records(&input, &valid, 0, BATCH);
    } else {
        std::fs::write(&input, "").unwrap();
    }
    let log_path = dir.join("fluent-bit.log");
    let mut child = Command::new(&fb.bin)
        .arg("--enable-hot-reload")
        .arg("-c")
        .arg(&conf)
        .env("LD_LIBRARY_PATH", &plugin)
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let log = || {
        std::fs::read_to_string(&log_path).unwrap_or_default()
            + &std::fs::read_to_string(dir.join("stdout")).unwrap_or_default()
    };
    let starts = |l: &str| l.matches("[filter:svcshell:svcshell.0] svcshell ").count();
    let out_lines = || {
        std::fs::read_to_string(dir.join("out.ndjson"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    let wait = |what: &str, cond: &dyn Fn() -> bool| {
        let t = std::time::Instant::now();
        while !cond() {
            if t.elapsed().as_secs() > 90 {
                let _ = Command::new("kill").arg(pid.to_string()).status();
                panic!("{}: {what} within 90 s; log:\n{}", fb.tag(), log());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let watches = |l: &str| l.matches("inotify_fs_add()").count();
    wait("the start", &|| starts(&log()) == 1);
    if !flowing {
        wait("the watch", &|| watches(&log()) == 1);
        append_records(&input, &valid, 0, BATCH);
        wait("the first batch", &|| out_lines() >= BATCH);
    }
    let mut total = BATCH;
    let mut rss = vec![rss_kb(pid)];
    let mut http = 0;
    for r in 0..reloads {
        // Records flow while the reload happens: one batch before the signal, one right after.
        if flowing {
            append_records(&input, &valid, total, total + BATCH / 2);
        }
        if r % 2 == 0 {
            // SAFETY: kill(2) on our own child's pid with a valid signal.
            assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGHUP) }, 0);
        } else {
            let status = http_reload(port);
            assert!(
                status.contains(" 200"),
                "{}: POST /api/v2/reload: {status}",
                fb.tag()
            );
            http += 1;
        }
        if flowing {
            append_records(&input, &valid, total + BATCH / 2, total + BATCH);
            wait("a reload", &|| starts(&log()) == r + 2);
        } else {
            wait("a reload", &|| {
                starts(&log()) == r + 2 && watches(&log()) == r + 2
            });
            append_records(&input, &valid, total, total + BATCH);
            wait("the batch", &|| out_lines() >= total + BATCH);
        }
        total += BATCH;
        rss.push(rss_kb(pid));
    }
    wait("every record", &|| out_lines() >= total);
    // SAFETY: kill(2) on our own child's pid with a valid signal.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    let log = log();
    assert!(status.success(), "{}: exit {status}; log:\n{log}", fb.tag());
    // Every record once, alerts where the labels put them. One exception, not svcshell's: the line tail is reading
    // when a reload stops it can be cut (seen in 4.2.8 at most reloads, never in 5.1.1: the old instance drops the
    // part it read, the DB offset moves past it, the new one starts mid-line and emits the rest as
    // `{"log": "<rest>"}`). svcshell never saw the first part (its counters prove it, below) and passed the rest on;
    // such lines are reported.
    let got = read_json_lines(&dir.join("out.ndjson"));
    let mut seen = vec![0usize; total];
    let mut fragments: Vec<String> = Vec::new();
    for v in &got {
        let Some(n) = v["seq"].as_u64() else {
            fragments.push(
                v["log"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}: {v}", fb.tag()))
                    .to_string(),
            );
            continue;
        };
        let n = n as usize;
        seen[n] += 1;
        let alert = v["event"]["kind"] == "alert";
        assert_eq!(alert, labels[n % labels.len()], "{}: record {n}", fb.tag());
    }
    let twice = seen.iter().filter(|&&c| c > 1).count();
    assert_eq!(
        twice,
        0,
        "{}: records written twice across reloads",
        fb.tag()
    );
    let lost: Vec<usize> = (0..total).filter(|&n| seen[n] == 0).collect();
    let cut_by_tail: Vec<usize> = lost
        .iter()
        .copied()
        .filter(|&n| {
            let mut v = valid[n % valid.len()].clone();
            v["seq"] = Value::from(n);
            let line = v.to_string();
            fragments
                .iter()
                .any(|f| !f.is_empty() && line.ends_with(f.as_str()))
        })
        .collect();
    assert_eq!(
        lost,
        cut_by_tail,
        "{}: records lost across reloads (not cut by tail)",
        fb.tag()
    );
    assert_eq!(
        fragments.len(),
        cut_by_tail.len(),
        "{}: fragments {fragments:?}",
        fb.tag()
    );
    // Each instance, old and new, stopped with its exit line; together they counted every record they were
    // handed, and every one of those came out.
    let exits: Vec<String> = log
        .lines()
        .filter(|l| l.contains("[filter:svcshell:svcshell.0] stopping: "))
        .map(String::from)
        .collect();
    assert_eq!(exits.len(), reloads + 1, "{}: exit lines:\n{log}", fb.tag());
    let counted: usize = exits
        .iter()
        .filter_map(|l| {
            l.split("records=")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert_eq!(
        counted,
        got.len(),
        "{}: records counted by the instances",
        fb.tag()
    );
    let mb = |k: u64| k as f64 / 1024.0;
    loud(&format!(
        "{}: {reloads} reloads ({} SIGHUP, {http} POST /api/v2/reload), {total} records, none lost or doubled by svcshell \
         ({} lines cut by tail at a reload: {cut_by_tail:?}); RSS MB after each reload: {}",
        fb.tag(),
        reloads - http,
        cut_by_tail.len(),
        rss.iter().map(|&k| format!("{:.1}", mb(k))).collect::<Vec<_>>().join(" ")
    ));
    format!(
        "{reloads} reloads, {total} records{}, none lost by svcshell{}; RSS {:.1} -> {:.1} MB",
        if flowing {
            ""
        } else {
            " written between reloads (no tail `db` in this build)"
        },
        if cut_by_tail.is_empty() {
            String::new()
        } else {
            format!(" ({} lines cut by tail at a reload)", cut_by_tail.len())
        },
        mb(rss[1.min(rss.len() - 1)]),
        mb(*rss.last().unwrap())
    )
}

/// Hot reload on every Fluent Bit given (see [`check_hot_reload`]).
#[test]
fn real_fluent_bit_hot_reload() {
    let _alone = alone();
    let reloads = std::env::var("SVCSHELL_FB_RELOADS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(4);
    let mut table = String::from("| Fluent Bit | hot reload |\n|---|---|\n");
    let fbs = fluent_bits();
    for fb in &fbs {
        table += &format!("| {} | {} |\n", fb.tag(), check_hot_reload(fb, reloads));
    }
    if !fbs.is_empty() {
        loud(&format!(
            "Fluent Bit versions proved (hot reload):\n{table}"
        ));
    }
}

#[test]
fn real_fluent_bit_million_records_none_lost() {
    let _alone = alone();
    let fbs = fluent_bits();
    if fbs.is_empty() {
        return;
    }
    if std::env::var("SVCSHELL_FB_LONG").as_deref() != Ok("1") {
        loud("SKIPPED: set SVCSHELL_FB_LONG=1 for the 1,000,000-record run");
        return;
    }
    for fb in &fbs {
        million_records(&fb.bin, &fb.tag());
    }
}

fn million_records(bin: &Path, tag: &str) {
    const N: usize = 1_000_000;
    let dir = temp_dir("million");
    let plugin = plugin_dir("million-plugin");
    // The 14 readable recorded events, cycled, each with a sequence number.
    let valid: Vec<Value> = events().into_iter().filter_map(|e| e.1).collect();
    let input = dir.join("input.ndjson");
    let mut text = String::with_capacity(N * 700);
    for n in 0..N {
        let mut v = valid[n % valid.len()].clone();
        v["seq"] = Value::from(n);
        text += &v.to_string();
        text.push('\n');
    }
    std::fs::write(&input, &text).unwrap();
    // The same filter in-process, record by record (the cap counts the same records in the same order).
    let props = plugin_props(&classic_filters(&shipped("fluent-bit.conf"))[0]);
    let f = Filter::from_properties(&props).unwrap();
    let expected_alerts: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| matches!(f.process(l.as_bytes()).action, Action::Alert(_)))
        .map(|(n, _)| n)
        .collect();
    drop(text);
    let t = std::time::Instant::now();
    run_fluent_bit(
        bin,
        &plugin,
        &root().join("plugin-config/fluent-bit.conf"),
        &[
            ("SVCSHELL_INPUT", &input),
            ("SVCSHELL_OUTPUT_DIR", &dir),
            ("SVCSHELL_OUTPUT_FILE", Path::new("out.ndjson")),
        ],
    );
    let secs = t.elapsed().as_secs_f64();
    let out = std::fs::read_to_string(dir.join("out.ndjson")).unwrap();
    let mut seen = vec![false; N];
    let mut alerts = Vec::new();
    let mut count = 0;
    for l in out.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        let n = v["seq"].as_u64().unwrap() as usize;
        assert!(!seen[n], "record {n} twice");
        seen[n] = true;
        count += 1;
        if v["event"]["kind"] == "alert" {
            alerts.push(n);
        }
    }
    assert_eq!(count, N, "records out");
    assert_eq!(
        alerts, expected_alerts,
        "alerts (under the cap of the config)"
    );
    eprintln!(
        "{tag}: 1,000,000 records through fluent-bit.conf in {secs:.1}s: none lost, {} alerts (cap: 100 per 5 minutes of record time)",
        alerts.len()
    );
}

/// Records/s of one pipeline over `input`: tail + JSON parser -> [filter] -> null output, until tail's
/// `exit_on_eof` reports the end of the file (timestamps of Fluent Bit's own log lines).
/// Builds tests/c/empty_filter.c as `flb-filter_empty.so` in `dir`: the floor of any native filter.
fn compile_empty_filter(dir: &Path) {
    let flags = [&["-std=c11", "-O2", "-shared", "-fPIC"], C_WARNINGS].concat();
    cc(
        &flags,
        "empty_filter.c",
        &dir.join("flb-filter_empty.so"),
        &[],
    );
}

fn pipeline_rate(
    bin: &Path,
    plugin: &Path,
    dir: &Path,
    filter: &str,
    input: &Path,
    records: usize,
) -> Rate {
    pipeline_rate_with(bin, plugin, dir, filter, "", input, records).0
}

/// [`pipeline_rate`] with more lines for the tail input (`tail` ends with a newline); also returns the log.
fn pipeline_rate_with(
    bin: &Path,
    plugin: &Path,
    dir: &Path,
    filter: &str,
    tail: &str,
    input: &Path,
    records: usize,
) -> (Rate, String) {
    let conf = dir.join("bench.conf");
    std::fs::write(
        dir.join("parsers.conf"),
        "[PARSER]\n    Name json\n    Format json\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("plugins.conf"),
        format!(
            "[PLUGINS]\n    Path {}\n    Path {}\n",
            plugin.join("flb-filter_svcshell.so").display(),
            plugin.join("flb-filter_empty.so").display()
        ),
    )
    .unwrap();
    std::fs::write(
        &conf,
        format!(
            "[SERVICE]\n    Flush 1\n    Log_Level info\n    Parsers_File parsers.conf\n    Plugins_File plugins.conf\n\
             [INPUT]\n    Name tail\n    Path {}\n    Parser json\n    Read_From_Head On\n    Exit_On_Eof On\n    Tag bench\n{tail}\
             {filter}\n[OUTPUT]\n    Name null\n    Match *\n",
            input.display()
        ),
    )
    .unwrap();
    let before = children_cpu();
    let mut cmd = Command::new(bin);
    cmd.arg("-c").arg(&conf);
    let o = output_within(cmd, 600);
    let cpu = children_cpu() - before;
    assert!(o.status.success(), "{}", show("bench", &o));
    let log = String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout);
    let stamp = |needle: &str| -> f64 {
        let line = log
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in the log:\n{log}"));
        // [2026/11/29 00:55:55.253] -> seconds of the day (Fluent Bit 2.2 writes whole seconds: [... 00:55:55])
        let t = &line[12..line.find(']').unwrap()];
        let h: f64 = t[0..2].parse().unwrap();
        let m: f64 = t[3..5].parse().unwrap();
        let s: f64 = t[6..].parse().unwrap();
        h * 3600.0 + m * 60.0 + s
    };
    let start = stamp("[input:tail:tail.0] initializing");
    let mut end = stamp("ended, stop");
    if end < start {
        end += 86_400.0; // the run crossed midnight
    }
    // svcshell's exit line says how long it ran: `... time=0.123s (...)`.
    let own = log
        .lines()
        .find(|l| l.contains("[filter:svcshell:svcshell.0] stopping:"))
        .and_then(|l| l.split(" time=").nth(1))
        .and_then(|t| t.split('s').next())
        .and_then(|t| t.parse::<f64>().ok());
    (
        Rate {
            wall: records as f64 / (end - start).max(0.001),
            cpu: records as f64 / cpu.max(0.001),
            own_share: own.map(|t| 100.0 * t / cpu.max(0.001)),
        },
        log,
    )
}

/// A pipeline's speed: records per second of wall time while tail reads the file, and records per CPU second of
/// the whole Fluent Bit process (start to exit; steadier than wall time on a busy machine).
#[derive(Clone, Copy, Debug)]
struct Rate {
    wall: f64,
    cpu: f64,
    /// svcshell's own time in `cb_filter` as a share of the process's CPU time (percent), when it ran.
    own_share: Option<f64>,
}

/// Every test here takes this lock, so they run one at a time: `cargo test` runs tests side by side, and the
/// timed run would otherwise share the CPU with the others and count their child processes' CPU time as
/// Fluent Bit's (`children_cpu`).
fn alone() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// User + system CPU seconds used by this process's waited-for children so far.
fn children_cpu() -> f64 {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid `who` and a pointer to a local.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

#[test]
fn real_fluent_bit_throughput() {
    let _alone = alone();
    let fbs = fluent_bits();
    if fbs.is_empty() {
        return;
    }
    let Some(input) = std::env::var_os("SVCSHELL_FB_BENCH").map(PathBuf::from) else {
        loud("SKIPPED: set SVCSHELL_FB_BENCH=<ECS NDJSON file> for the throughput comparison");
        return;
    };
    for fb in &fbs {
        loud(&format!("== {} ({})", fb.tag(), fb.bin.display()));
        throughput(fb, &input);
    }
}

fn throughput(fb: &FluentBit, input: &Path) {
    let bin = &fb.bin;
    let records = std::fs::read(input)
        .unwrap()
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    let dir = temp_dir("bench");
    let plugin = plugin_dir("bench-plugin");
    compile_empty_filter(&plugin);
    let lua = root().join("tests/data/svcshell_rule.lua");
    // svcshell.wasm in the wasm filter, with the defaults (an Accessible_Paths without svcshell.conf), as the
    // native plugin runs here.
    let module = wasm_module();
    let no_settings = dir.join("no-settings");
    std::fs::create_dir_all(&no_settings).unwrap();
    let wasm_filter = |module: &Path, settings: &Path| {
        format!(
            "[FILTER]\n    Name wasm\n    Match *\n    WASM_Path {}\n    Function_Name svcshell_filter\n    Accessible_Paths {}",
            module.display(),
            settings.display()
        )
    };
    let mut pipelines = vec![
        ("no filter", String::new()),
        (
            "empty native filter",
            "[FILTER]\n    Name empty\n    Match *".to_string(),
        ),
        (
            "svcshell",
            "[FILTER]\n    Name svcshell\n    Match *".to_string(),
        ),
        (
            "Lua, full condition",
            format!(
                "[FILTER]\n    Name lua\n    Match *\n    Script {}\n    Call svcshell",
                lua.display()
            ),
        ),
    ];
    if let Some(m) = &module {
        pipelines.push(("svcshell.wasm", wasm_filter(m, &no_settings)));
    }
    let rounds: usize = std::env::var("SVCSHELL_FB_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut table: BTreeMap<&str, Vec<Rate>> = BTreeMap::new();
    for round in 0..rounds {
        // Interleaved, so a change in the machine's load hits every pipeline alike; the order rotates each round
        // so that no pipeline always runs after the same one (the page cache and the disk remember).
        for k in 0..pipelines.len() {
            let (name, filter) = &pipelines[(k + round) % pipelines.len()];
            let r = pipeline_rate(bin, &plugin, &dir, filter, input, records);
            eprintln!(
                "round {round}: {name}: {:.0} records/s, {:.0} records/CPU-s",
                r.wall, r.cpu
            );
            table.entry(*name).or_default().push(r);
        }
    }
    let median = |v: Vec<f64>| {
        let mut v = v;
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let wall = |name: &str| median(table[name].iter().map(|r| r.wall).collect());
    let cpu = |name: &str| median(table[name].iter().map(|r| r.cpu).collect());
    // Each round's pipelines ran back to back, so a round's ratio to its own no-filter run cancels most of the
    // machine's drift; the median of those ratios is the figure, their range its spread.
    let ratios = |name: &str, f: fn(&Rate) -> f64| -> Vec<f64> {
        let mut v: Vec<f64> = table[name]
            .iter()
            .zip(&table["no filter"])
            .map(|(r, base)| 100.0 * f(r) / f(base))
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    };
    eprintln!(
        "{} {records} records, {rounds} rounds\n\
         | pipeline | records/s (median) | vs no filter: median of rounds (range) | records per CPU-second (median) | vs no filter: median (range) | CPU µs per record (median) |\n\
         |---|---|---|---|---|---|",
        fb.tag()
    );
    for (name, _) in &pipelines {
        let (w, c) = (ratios(name, |r| r.wall), ratios(name, |r| r.cpu));
        eprintln!(
            "| {name} | {:.1}k | {:.1}% ({:.1}–{:.1}%) | {:.1}k | {:.1}% ({:.1}–{:.1}%) | {:.2} |",
            wall(name) / 1000.0,
            w[w.len() / 2],
            w[0],
            w[w.len() - 1],
            cpu(name) / 1000.0,
            c[c.len() / 2],
            c[0],
            c[c.len() - 1],
            1e6 / cpu(name),
        );
    }
    // A benchmark, not a timed test: it reports against the 95% target and never fails on speed (a shared
    // machine's noise is larger than the margin).
    let mut own: Vec<f64> = table["svcshell"]
        .iter()
        .filter_map(|r| r.own_share)
        .collect();
    own.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if !own.is_empty() {
        eprintln!(
            "svcshell's own time in cb_filter: {:.1}% of Fluent Bit's CPU time (median; {:.1}–{:.1}%)",
            own[own.len() / 2],
            own[0],
            own[own.len() - 1]
        );
    }
    // The whole run as one: every round's records over the pipeline's total time, against the no-filter
    // pipeline's (slow rounds weigh by their length, as in a long-running pipeline). Steadier from run to run
    // than the median of the per-round ratios, so the verdict uses it.
    let total_time = |name: &str| table[name].iter().map(|r| 1.0 / r.wall).sum::<f64>();
    let whole = |name: &str| 100.0 * total_time("no filter") / total_time(name);
    let svc = whole("svcshell");
    eprintln!(
        "svcshell keeps {svc:.1}% of the no-filter records/s over the whole run (empty native filter: {:.1}%; \
         target: 95%): {}",
        whole("empty native filter"),
        if svc >= 95.0 {
            "met"
        } else {
            "NOT met in this run"
        }
    );
    // Fluent Bit 2.2 and 3.1 load and instantiate the module for every chunk the filter gets. Its cost: the same
    // records in smaller chunks (tail reading 4 KB at a time instead of 32 KB), the extra CPU time over the extra
    // chunks. The chunks are counted with an invalid svcshell.conf, whose error the module logs once per instance.
    if let (Some(m), true) = (&module, fb.version < (4, 0, 0)) {
        let invalid = dir.join("invalid-settings");
        std::fs::create_dir_all(&invalid).unwrap();
        std::fs::write(invalid.join("svcshell.conf"), "max_alerts = invalid\n").unwrap();
        let mut per: Vec<(f64, usize)> = Vec::new();
        for tail in ["", "    Buffer_Chunk_Size 4k\n    Buffer_Max_Size 1M\n"] {
            let mut cpu_s: Vec<f64> = (0..rounds)
                .map(|_| {
                    let (r, _) = pipeline_rate_with(
                        bin,
                        &plugin,
                        &dir,
                        &wasm_filter(m, &no_settings),
                        tail,
                        input,
                        records,
                    );
                    records as f64 / r.cpu
                })
                .collect();
            cpu_s.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let (_, log) = pipeline_rate_with(
                bin,
                &plugin,
                &dir,
                &wasm_filter(m, &invalid),
                tail,
                input,
                records,
            );
            let chunks = log.matches("[svcshell] error: ").count();
            eprintln!(
                "svcshell.wasm, tail {}: {chunks} chunks ({:.1} records each), {:.2} CPU-s (median)",
                if tail.is_empty() { "reading 32 KB" } else { "reading 4 KB" },
                records as f64 / chunks.max(1) as f64,
                cpu_s[cpu_s.len() / 2]
            );
            per.push((cpu_s[cpu_s.len() / 2], chunks));
        }
        let ((big_s, big_n), (small_s, small_n)) = (per[0], per[1]);
        if small_n > big_n {
            eprintln!(
                "{}: instantiating svcshell.wasm per chunk costs {:.0} µs of CPU per chunk (({small_s:.2} - {big_s:.2}) s / ({small_n} - {big_n}) chunks)",
                fb.tag(),
                1e6 * (small_s - big_s) / (small_n - big_n) as f64
            );
        }
    }
}

// ---- the WASM filter (svcshell.wasm in Fluent Bit's filter_wasm) ---------------------------------------------

/// The shipped configs that run svcshell.wasm: (file, is YAML, is for Windows).
const WASM_CONFIGS: &[(&str, bool, bool)] = &[
    ("fluent-bit-wasm.conf", false, false),
    ("fluent-bit-wasm.yaml", true, false),
    ("fluent-bit-wasm-windows.conf", false, true),
    ("fluent-bit-wasm-windows.yaml", true, true),
];

/// The keys filter_wasm has on every line from 2.2 (`wasm_heap_size` and `wasm_stack_size` came in 3.0, and
/// 2.2 refuses `event_format`), plus the host's own.
const WASM_KEYS: &[&str] = &[
    "name",
    "match",
    "wasm_path",
    "function_name",
    "accessible_paths",
];

/// The one wasm filter of a shipped config, keys lower-cased.
fn wasm_filter(file: &str, yaml: bool) -> Vec<(String, String)> {
    let text = shipped(file);
    let sections = if yaml {
        yaml_filters_named(&text, "wasm")
    } else {
        classic_filters_named(&text, "wasm")
    };
    assert_eq!(sections.len(), 1, "{file}: one wasm filter");
    sections[0]
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}

fn get<'a>(section: &'a [(String, String)], key: &str) -> Option<&'a str> {
    section
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn shipped_wasm_configs_use_the_wasm_filter_as_every_line_reads_it() {
    let _alone = alone();
    let mut filters = BTreeMap::new();
    for &(file, yaml, windows) in WASM_CONFIGS {
        let f = wasm_filter(file, yaml);
        for (k, _) in &f {
            assert!(
                WASM_KEYS.contains(&k.as_str()),
                "{file}: `{k}` is not a key filter_wasm has on every line from 2.2"
            );
        }
        assert_eq!(get(&f, "function_name"), Some("svcshell_filter"), "{file}");
        // Fluent Bit 2.2 refuses the key; json is the default everywhere. Not even in another section.
        let text = shipped(file);
        assert!(
            !text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .any(|l| l.to_ascii_lowercase().contains("event_format")),
            "{file}: sets event_format"
        );
        let (path, dirs) = (
            get(&f, "wasm_path").unwrap_or_else(|| panic!("{file}: no wasm_path")),
            get(&f, "accessible_paths").unwrap_or_else(|| panic!("{file}: no accessible_paths")),
        );
        if windows {
            assert_eq!(
                path, r"C:\Program Files\fluent-bit\svcshell\svcshell.wasm",
                "{file}"
            );
            assert_eq!(dirs, r"C:\Program Files\fluent-bit\svcshell", "{file}");
            let t = text.to_ascii_lowercase();
            assert!(
                t.contains("winevtlog")
                    && t.contains("microsoft-windows-sysmon/operational,security"),
                "{file}: the winevtlog input reads Sysmon and Security"
            );
        } else {
            assert_eq!(path, "${SVCSHELL_WASM}", "{file}");
            assert_eq!(dirs, "${SVCSHELL_SETTINGS_DIR}", "{file}");
            for var in [
                "SVCSHELL_INPUT",
                "SVCSHELL_OUTPUT_DIR",
                "SVCSHELL_OUTPUT_FILE",
                "SVCSHELL_EXIT_ON_EOF",
            ] {
                assert!(text.contains(&format!("${{{var}}}")), "{file}: no {var}");
            }
            assert!(text.contains("svcshell_json"), "{file}: the JSON parser");
        }
        filters.insert(file, f);
    }
    // Each YAML file describes the same filter as its classic twin.
    for (classic, yaml) in [
        ("fluent-bit-wasm.conf", "fluent-bit-wasm.yaml"),
        (
            "fluent-bit-wasm-windows.conf",
            "fluent-bit-wasm-windows.yaml",
        ),
    ] {
        let sorted = |f: &Vec<(String, String)>| {
            let mut f = f.clone();
            f.sort();
            f
        };
        assert_eq!(sorted(&filters[classic]), sorted(&filters[yaml]));
    }
}

#[test]
fn shipped_settings_file_names_every_property_with_its_default() {
    let _alone = alone();
    let text = shipped("svcshell.conf");
    // As shipped (every key commented out) the file loads, and gives the defaults.
    svcshell::settings::filter(text.as_bytes(), None).expect("svcshell.conf loads as shipped");
    assert_eq!(
        svcshell::settings::config(text.as_bytes(), None).unwrap(),
        Config::default()
    );
    // Every commented `# key = value` line names a property; those with a default value show that value.
    let mut mentioned = std::collections::BTreeSet::new();
    for line in text.lines() {
        let Some(c) = line.strip_prefix('#') else {
            assert!(line.trim().is_empty(), "an uncommented line: {line}");
            continue;
        };
        let Some((k, v)) = c.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_') {
            continue;
        }
        let p = svcshell::config::property(k)
            .unwrap_or_else(|| panic!("svcshell.conf: `{k}` is not a property"));
        if let svcshell::config::DefaultValue::Value(d) = p.default {
            assert_eq!(v.trim(), d, "svcshell.conf: the default of {k}");
        }
        // Each example, uncommented on its own, is a valid setting (the rule file's two need the file: skipped).
        if !matches!(k, "rule_file" | "rule_id") {
            svcshell::settings::filter(format!("{k} = {}", v.trim()).as_bytes(), None)
                .unwrap_or_else(|e| panic!("svcshell.conf: `{c}`: {e}"));
        }
        mentioned.insert(k.to_string());
    }
    for p in svcshell::config::PROPERTIES {
        assert!(mentioned.contains(p.key), "svcshell.conf: no `{}`", p.key);
    }
}

/// svcshell.wasm for the real-Fluent-Bit runs: `SVCSHELL_WASM=<path>`, else built here (release, wasm32-wasip1,
/// in `wasm/target`); None (with a loud reason) when the Rust target is not installed.
fn wasm_module() -> Option<PathBuf> {
    static MODULE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    MODULE
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("SVCSHELL_WASM").filter(|p| !p.is_empty()) {
                return Some(PathBuf::from(p));
            }
            let sysroot = Command::new("rustc")
                .args(["--print", "sysroot"])
                .output()
                .unwrap();
            let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
            if !sysroot.join("lib/rustlib/wasm32-wasip1").is_dir() {
                loud(
                    "SKIPPED: the WASM filter runs: the Rust target wasm32-wasip1 is not installed \
                     (`rustup target add wasm32-wasip1`, or set SVCSHELL_WASM=<svcshell.wasm>)",
                );
                return None;
            }
            let target = root().join("wasm/target");
            let o = Command::new(env!("CARGO"))
                .current_dir(root().join("wasm"))
                .args([
                    "build",
                    "--profile",
                    "module",
                    "-p",
                    "svcshell-wasm",
                    "--target",
                    "wasm32-wasip1",
                ])
                .env("CARGO_TARGET_DIR", &target)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", show("building svcshell.wasm", &o));
            Some(target.join("wasm32-wasip1/module/svcshell_wasm.wasm"))
        })
        .clone()
}

/// Runs a shipped WASM config, unmodified, over `input` with `settings` as svcshell.conf (None: no settings
/// file); returns the run and its output records (empty when it wrote none).
fn run_wasm_config(
    fb: &FluentBit,
    module: &Path,
    config: &str,
    what: &str,
    input: &Path,
    settings: Option<&str>,
) -> (Output, Vec<Value>) {
    let dir = fb.dir(&format!("wasm-{what}"));
    let set = dir.join("settings");
    std::fs::create_dir_all(&set).unwrap();
    if let Some(s) = settings {
        std::fs::write(set.join("svcshell.conf"), s).unwrap();
    }
    let mut cmd = Command::new(&fb.bin);
    cmd.arg("-c")
        .arg(root().join("plugin-config").join(config))
        .env("SVCSHELL_WASM", module)
        .env("SVCSHELL_SETTINGS_DIR", &set)
        .env("SVCSHELL_INPUT", input)
        .env("SVCSHELL_OUTPUT_DIR", &dir)
        .env("SVCSHELL_OUTPUT_FILE", "out.ndjson")
        .env("SVCSHELL_EXIT_ON_EOF", "on");
    let o = output_within(cmd, 600);
    let out = dir.join("out.ndjson");
    let got = if out.exists() {
        read_json_lines(&out)
    } else {
        Vec::new()
    };
    (o, got)
}

/// The recorded events through a shipped WASM config with the shipped svcshell.conf: every output record equals
/// the library's answer for its line.
fn check_wasm_events(fb: &FluentBit, module: &Path, config: &str) -> String {
    let input = root().join("tests/data/events.ndjson");
    let (o, got) = run_wasm_config(
        fb,
        module,
        config,
        config,
        &input,
        Some(&shipped("svcshell.conf")),
    );
    assert!(o.status.success(), "{}", show(config, &o));
    let log = log_of(&o);
    assert!(!log.contains("[svcshell]"), "{}: {config}: {log}", fb.tag());
    let alerts = check_records(
        &format!("{} {config}", fb.tag()),
        &got,
        &expected_outputs(&[]),
    );
    assert_eq!(alerts, 6, "{} {config}", fb.tag());
    format!("{} records, {alerts} alerts", got.len())
}

/// The labelled corpus through fluent-bit-wasm.conf with `max_alerts=0`: every record comes out, alerts exactly
/// where the labels put them and where the library alerts.
fn check_wasm_corpus(fb: &FluentBit, module: &Path) -> String {
    let (input, labels) = labelled_corpus(&fb.dir("wasm-corpus-input"));
    let lines: Vec<String> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), labels.len(), "one label per record");
    let (o, got) = run_wasm_config(
        fb,
        module,
        "fluent-bit-wasm.conf",
        "corpus",
        &input,
        Some("max_alerts = 0\n"),
    );
    assert!(o.status.success(), "{}", show("corpus", &o));
    assert_eq!(
        got.len(),
        lines.len(),
        "{}: every record comes out",
        fb.tag()
    );
    let f = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    let mut alerts = 0;
    for (k, ((g, &label), line)) in got.iter().zip(&labels).zip(&lines).enumerate() {
        let doc = common::support::reference::Doc::new(g);
        let alert = doc.strings("event.kind").iter().any(|k| k == "alert")
            && doc
                .strings("rule.id")
                .iter()
                .any(|id| id == "0022d47d-39c7-4f69-a232-4fe9dc7a3acd");
        assert_eq!(alert, label, "{}: record {k}: the label", fb.tag());
        let lib = matches!(f.process(line.as_bytes()).action, Action::Alert(_));
        assert_eq!(alert, lib, "{}: record {k}: the library", fb.tag());
        alerts += usize::from(alert);
    }
    assert!(alerts > 0, "{}: the corpus has alerts", fb.tag());
    format!("{} records, {alerts} alerts = labelled", lines.len())
}

/// An invalid svcshell.conf: 4.0 and later refuse to start; 2.2 and 3.1 (a module instance per chunk) pass every
/// record unchanged. Both log svcshell's message.
fn check_wasm_invalid_settings(fb: &FluentBit, module: &Path) -> String {
    let input = root().join("tests/data/events.ndjson");
    let (o, got) = run_wasm_config(
        fb,
        module,
        "fluent-bit-wasm.conf",
        "invalid",
        &input,
        Some("# too many\nmax_alerts = lots\n"),
    );
    let log = log_of(&o);
    assert!(
        log.contains("[svcshell] error: ") && log.contains("svcshell.conf:2: max_alerts: "),
        "{}: svcshell's message: {log}",
        fb.tag()
    );
    if fb.version >= (4, 0, 0) {
        assert!(!o.status.success(), "{}: started: {log}", fb.tag());
        assert!(got.is_empty(), "{}: records came out", fb.tag());
        "refused at start".to_string()
    } else {
        assert!(o.status.success(), "{}", show("invalid settings", &o));
        let unchanged: Vec<(Value, bool)> = events()
            .into_iter()
            .map(|(line, v, _)| {
                (
                    v.unwrap_or_else(|| serde_json::json!({ "log": line })),
                    false,
                )
            })
            .collect();
        let alerts = check_records(&format!("{} invalid", fb.tag()), &got, &unchanged);
        assert_eq!(alerts, 0);
        format!("{} records unchanged", got.len())
    }
}

/// `mode = alerts_only` and an exception in svcshell.conf: only the alerts come out, less the excepted one.
fn check_wasm_alerts_only(fb: &FluentBit, module: &Path) -> String {
    let input = root().join("tests/data/events.ndjson");
    let settings = "mode = alerts_only\nexception = host.name : \"DC01\"\n";
    let (o, got) = run_wasm_config(
        fb,
        module,
        "fluent-bit-wasm.conf",
        "alerts-only",
        &input,
        Some(settings),
    );
    assert!(o.status.success(), "{}", show("alerts_only", &o));
    let props = [
        ("mode".to_string(), "alerts_only".to_string()),
        ("exception".to_string(), "host.name : \"DC01\"".to_string()),
    ];
    let want = expected_for(&event_lines(), &props);
    let alerts = check_records(&format!("{} alerts_only", fb.tag()), &got, &want);
    // The recorded events hold 6 alerts, one of them on dc01.
    assert_eq!((got.len(), alerts), (5, 5), "{}", fb.tag());
    format!("{alerts} alerts (1 excepted)")
}

/// svcshell.wasm in Fluent Bit's wasm filter on every Fluent Bit given: the shipped Linux configs unmodified
/// (classic and YAML) over the recorded events, the labelled corpus, an invalid settings file, and alerts_only
/// with an exception. Prints the table of what each version proved.
#[test]
fn real_fluent_bit_wasm_filter() {
    let _alone = alone();
    let fbs = fluent_bits();
    if fbs.is_empty() {
        return;
    }
    let Some(module) = wasm_module() else {
        return;
    };
    let mut table = String::from(
        "| Fluent Bit | fluent-bit-wasm.conf | fluent-bit-wasm.yaml | labelled corpus (max_alerts=0) | invalid svcshell.conf | alerts_only + exception |\n\
         |---|---|---|---|---|---|\n",
    );
    for fb in &fbs {
        let row = [
            check_wasm_events(fb, &module, "fluent-bit-wasm.conf"),
            check_wasm_events(fb, &module, "fluent-bit-wasm.yaml"),
            check_wasm_corpus(fb, &module),
            check_wasm_invalid_settings(fb, &module),
            check_wasm_alerts_only(fb, &module),
        ];
        table += &format!("| {} | {} |\n", fb.tag(), row.join(" | "));
        loud(&format!("{}: every WASM filter check passed", fb.tag()));
    }
    loud(&format!(
        "Fluent Bit versions proved with svcshell.wasm ({}):\n{table}",
        module.display()
    ));
}
