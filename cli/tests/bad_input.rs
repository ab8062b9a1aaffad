//! Bad-input catalogue: every kind of unreadable or hostile record passes unchanged (or is dropped in
//! alerts_only mode), never alerts, never panics, and moves the `errors` counter where serde_json rejects it
//! (validate=all; with the default validate=matches only unframed records are sure to be counted), with the
//! same verdict through the Rust API ([`Filter::process`]), the C ABI (`svcshell_filter_process`, called
//! through `svcshell::ffi`) and the CLI (`svcshell replay`).
//!
//! The catalogue ([`cases`]): truncation of a real matching record (tests/data/events.ndjson line 2) at every
//! byte offset from either end, invalid UTF-8, NUL bytes, lone/reversed/paired `\u` surrogates, unterminated
//! strings and escapes, 100,000-deep nesting, a 64 MiB string value, empty and whitespace-only input,
//! top-level arrays/numbers/strings/literals, trailing garbage, duplicate keys, non-strings where strings are
//! expected, keys that differ only by case, 100,000 keys. Every case is one line (NDJSON can carry it);
//! the only multi-line case (a pretty-printed record) is skipped by the CLI check, as NDJSON cannot carry it.

use std::ffi::CString;
use std::io::Write;
use std::os::raw::c_char;
use std::process::Stdio;
use std::ptr;

use serde_json::Value;
use svcshell::ffi::{
    svcshell_buffer_free, svcshell_filter_free, svcshell_filter_last_error, svcshell_filter_new,
    svcshell_filter_process, svcshell_filter_stats, CStats, FilterHandle, SVCSHELL_ALERT,
    SVCSHELL_DROP, SVCSHELL_ERROR, SVCSHELL_OK, SVCSHELL_PASS,
};
use svcshell::{Action, Filter, Outcome};

#[path = "../../tests/runner/mod.rs"]
mod runner;

/// tests/data/events.ndjson line 2: `services.exe` starting `cmd.exe` (an alert).
fn base() -> Vec<u8> {
    let all = std::fs::read(concat!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/.."),
        "/tests/data/events.ndjson"
    ))
    .expect("events.ndjson");
    all.split(|&b| b == b'\n').nth(1).expect("line 2").to_vec()
}

/// The base record with `from` (which occurs once) replaced by `to`.
fn edit(from: &str, to: &[u8]) -> Vec<u8> {
    let b = base();
    let at = b
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("`{from}` not in the base record"));
    assert!(
        b[at + 1..]
            .windows(from.len())
            .all(|w| w != from.as_bytes()),
        "`{from}` occurs twice"
    );
    [&b[..at], to, &b[at + from.len()..]].concat()
}

/// The base record with process.name's value (`"cmd.exe"`) replaced by the JSON text `value`.
fn with_name(value: &[u8]) -> Vec<u8> {
    edit(r#""name":"cmd.exe""#, &[br#""name":"#, value].concat())
}

/// What serde_json (and so every face of the filter) must make of a case.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// serde_json rejects it or it is not an object: passes unchanged, never alerts; counted by validate=all.
    Reject,
    /// A valid object that is an alert.
    Alert,
    /// A valid object that is not an alert.
    NoAlert,
    /// A valid object whose verdict is implementation-defined (duplicate keys: docs/semantics.md §2 allows any consistent
    /// choice); it must not be an error and must be the same through every face.
    Either,
}

struct Case {
    name: String,
    rec: Vec<u8>,
    want: Want,
}

fn case(name: impl Into<String>, rec: impl Into<Vec<u8>>, want: Want) -> Case {
    Case {
        name: name.into(),
        rec: rec.into(),
        want,
    }
}

const MATCH_FIELDS: &str = r#""event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}}"#;

fn cases() -> Vec<Case> {
    use Want::*;
    let b = base();
    let mut v = vec![case("base record (line 2)", b.clone(), Alert)];

    // Truncation at every byte offset, from the end and from the front.
    for k in 0..b.len() {
        v.push(case(format!("first {k} bytes"), &b[..k], Reject));
        v.push(case(format!("from byte {}", k + 1), &b[k + 1..], Reject));
    }

    // Invalid UTF-8 (inside a matching record, so even the default mode reads it strictly).
    for (what, bytes) in [
        ("0xff", &b"cmd\xff.exe"[..]),
        ("lone continuation byte", b"cmd\x80.exe"),
        ("overlong '/'", b"cmd\xc0\xaf.exe"),
        ("UTF-8-encoded surrogate", b"cmd\xed\xa0\x80.exe"),
        ("truncated 3-byte sequence", b"cmd.exe\xe2\x82"),
        ("code point above U+10FFFF", b"cmd\xf4\x90\x80\x80.exe"),
    ] {
        v.push(case(
            format!("invalid UTF-8 in a value: {what}"),
            with_name(&[b"\"", bytes, b"\""].concat()),
            Reject,
        ));
    }
    v.push(case(
        "invalid UTF-8 in a key",
        edit(r#""user""#, b"\"us\xffer\""),
        Reject,
    ));
    v.push(case(
        "invalid UTF-8 in a record that cannot match",
        &br#"{"message":"caf\xe9"}"#[..],
        Reject,
    ));
    v.push(case(
        "valid non-ASCII UTF-8 in values and keys",
        edit(r#""user""#, "\"usér\u{1F600}\"".as_bytes()),
        Alert,
    ));

    // NUL bytes.
    v.push(case(
        "raw NUL inside a string",
        with_name(b"\"cmd.exe\x00\""),
        Reject,
    ));
    v.push(case(
        "raw NUL between tokens",
        edit(r#","user""#, b",\x00\"user\""),
        Reject,
    ));
    v.push(case(
        "NUL after the record",
        [&b[..], b"\x00"].concat(),
        Reject,
    ));
    v.push(case(
        "NUL before the record",
        [b"\x00", &b[..]].concat(),
        Reject,
    ));
    v.push(case(
        "escaped NUL: \\u0000 ends the process name",
        with_name(br#""cmd.exe\u0000""#),
        NoAlert,
    ));
    v.push(case(
        "escaped NUL in an unrelated value",
        edit(r#""SYSTEM""#, br#""SYS\u0000TEM""#),
        Alert,
    ));

    // Surrogates.
    for (what, esc, want) in [
        ("lone high", r#"\ud800"#, Reject),
        ("lone low", r#"\udc00"#, Reject),
        ("reversed pair", r#"\udc00\ud800"#, Reject),
        ("high then a letter", r#"\ud83dx"#, Reject),
        (
            "high then a non-surrogate escape",
            r#"\ud83d\u0041"#,
            Reject,
        ),
        ("high then high", r#"\ud83d\ud83d"#, Reject),
        ("high at the end of the string", r#"\ud83d"#, Reject),
        ("paired (U+1F600)", r#"\ud83d\ude00"#, NoAlert),
        ("paired, upper-case hex", r#"\uD83D\uDE00"#, NoAlert),
    ] {
        v.push(case(
            format!("{what} surrogate in process.name"),
            with_name(format!("\"cmd.exe{esc}\"").as_bytes()),
            want,
        ));
        v.push(case(
            format!("{what} surrogate in a key"),
            edit(r#""user""#, format!("\"user{esc}\"").as_bytes()),
            if want == Reject { Reject } else { Alert },
        ));
    }

    // Unterminated strings and escapes; bad escapes.
    let head = r#"{"process":{"parent":{"name":"services.exe"}},"a":"#;
    for (what, tail) in [
        ("unterminated string", r#""abc"#),
        ("unterminated string then }", r#""abc}"#),
        ("backslash at the end", r#""abc\"#),
        ("escaped quote, then the end", r#""abc\"}"#),
        ("\\u with 2 hex digits at the end", r#""\u12"#),
        ("\\u with 2 hex digits", r#""\u12"}"#),
        ("\\u with a non-hex digit", r#""\u12g4"}"#),
        ("unknown escape \\q", r#""\q"}"#),
        ("escape \\x41", r#""\x41"}"#),
        ("escaped single quote", r#""\'"}"#),
        ("unterminated key", r#"1,"b}"#),
        ("raw tab in a string", "\"a\tb\"}"),
        ("raw newline escape char 0x1f", "\"a\x1fb\"}"),
    ] {
        v.push(case(what, format!("{head}{tail}"), Reject));
    }

    // Deep nesting (serde_json's limit is 127 levels).
    let deep = |open: &str, close: &str, n: usize| {
        let mut s = String::from(r#"{"p":"services.exe","a":"#);
        s.push_str(&open.repeat(n));
        s.push_str(&close.repeat(n));
        s.push('}');
        s
    };
    v.push(case(
        "100,000 nested arrays",
        deep("[", "]", 100_000),
        Reject,
    ));
    v.push(case(
        "100,000 nested objects",
        deep(r#"{"a":"#, "}", 100_000),
        Reject,
    ));
    v.push(case(
        "100,000 nested arrays, unclosed",
        deep("[", "", 100_000),
        Reject,
    ));
    v.push(case(
        "127 levels: serde_json's limit",
        deep("[", "]", 126),
        NoAlert,
    ));
    v.push(case(
        "128 levels: one too many",
        deep("[", "]", 127),
        Reject,
    ));
    v.push(case(
        "100,000 nested arrays without the literal",
        deep("[", "]", 100_000).replace("services", "xervices"),
        Reject,
    ));

    // A 64 MiB string value in a matching record, and in a record that cannot match.
    let big = "A".repeat(64 << 20);
    v.push(case(
        "64 MiB string value in a matching record",
        edit(r#""NT AUTHORITY""#, format!("\"{big}\"").as_bytes()),
        Alert,
    ));
    v.push(case(
        "64 MiB string value, unterminated",
        format!(r#"{{"p":"services.exe","a":"{big}}}"#),
        Reject,
    ));
    drop(big);

    // Empty, blank, not an object.
    v.push(case("empty", "", Reject));
    v.push(case("whitespace only", " \t\r ", Reject));
    v.push(case(
        "top-level array of a matching record",
        [b"[", &b[..], b"]"].concat(),
        Reject,
    ));
    v.push(case("top-level empty array", "[]", Reject));
    v.push(case("top-level number", "42", Reject));
    v.push(case("top-level negative float", "-1.5e3", Reject));
    v.push(case("top-level string", r#""services.exe""#, Reject));
    v.push(case("top-level true", "true", Reject));
    v.push(case("top-level null", "null", Reject));
    v.push(case(
        "two records on one line",
        [&b[..], &b[..]].concat(),
        Reject,
    ));
    v.push(case(
        "trailing comma",
        [&b[..b.len() - 1], b",}"].concat(),
        Reject,
    ));
    v.push(case("trailing garbage", [&b[..], b"x"].concat(), Reject));
    v.push(case(
        "single quotes",
        r#"{'process':'services.exe'}"#,
        Reject,
    ));
    v.push(case(
        "number out of range",
        edit(r#""pid":4242"#, br#""pid":1e400"#),
        Reject,
    ));
    v.push(case(
        "leading zero",
        edit(r#""pid":4242"#, br#""pid":04242"#),
        Reject,
    ));
    v.push(case("NaN", edit(r#""pid":4242"#, br#""pid":NaN"#), Reject));
    v.push(case(
        "blank around the record",
        [b" \t", &b[..], b" \r"].concat(),
        Alert,
    ));
    v.push(case("empty object", "{}", NoAlert));

    // Duplicate keys: serde_json keeps the last value; the verdict is implementation-defined but consistent.
    v.push(case(
        "duplicate key: process.name cmd.exe then notepad.exe",
        edit(
            r#""name":"cmd.exe""#,
            br#""name":"cmd.exe","name":"notepad.exe""#,
        ),
        Either,
    ));
    v.push(case(
        "duplicate key: notepad.exe then cmd.exe",
        edit(
            r#""name":"cmd.exe""#,
            br#""name":"notepad.exe","name":"cmd.exe""#,
        ),
        Either,
    ));
    v.push(case(
        "duplicate key spelled with an escape",
        edit(
            r#""name":"cmd.exe""#,
            br#""name":"cmd.exe","\u006eame":"x.exe""#,
        ),
        Either,
    ));
    v.push(case(
        "duplicate key in an unrelated object",
        edit(r#""id":"S-1-5-18""#, br#""id":"S-1-5-18","id":"x""#),
        Alert,
    ));

    // Non-strings where the rule expects strings.
    for (what, lit) in [
        ("number", "1"),
        ("float", "1.5"),
        ("true", "true"),
        ("false", "false"),
        ("null", "null"),
        ("object", r#"{"name":"cmd.exe"}"#),
        ("empty array", "[]"),
        ("array of numbers", "[1,2]"),
        ("array of null", "[null]"),
    ] {
        v.push(case(
            format!("process.name is {what}"),
            with_name(lit.as_bytes()),
            NoAlert,
        ));
        v.push(case(
            format!("process.parent.name is {what}"),
            edit(
                r#""services.exe","executable""#,
                format!(r#"{lit},"executable""#).as_bytes(),
            ),
            NoAlert,
        ));
    }
    v.push(case(
        "process.name array with a string among non-strings",
        with_name(br#"[1,null,{"a":1},"cmd.exe"]"#),
        Alert,
    ));

    // Keys that differ only by case are different fields.
    v.push(case(
        "upper-case Process key",
        format!(
            r#"{{{}}}"#,
            MATCH_FIELDS.replace(r#""process":"#, r#""Process":"#)
        ),
        NoAlert,
    ));
    v.push(case(
        "PROCESS.NAME dotted key",
        format!(
            r#"{{{}}}"#,
            MATCH_FIELDS.replace(r#""name":"cmd.exe","#, r#""NAME":"cmd.exe","#)
        ),
        NoAlert,
    ));
    v.push(case(
        "Process and process both present",
        format!(r#"{{"Process":{{"name":"notepad.exe"}},{MATCH_FIELDS}}}"#),
        Alert,
    ));
    v.push(case(
        "Event.Type instead of event.type",
        format!(
            r#"{{{}}}"#,
            MATCH_FIELDS.replace(r#""type":"start""#, r#""Type":"start""#)
        ),
        NoAlert,
    ));

    // Very many keys.
    let mut many = String::from("{");
    for k in 0..100_000 {
        many.push_str(&format!(r#""k{k}":{k},"#));
    }
    v.push(case(
        "100,000 keys then the match fields",
        format!("{many}{MATCH_FIELDS}}}"),
        Alert,
    ));
    v.push(case(
        "100,000 keys without the match fields",
        format!("{}}}", &many[..many.len() - 1]),
        NoAlert,
    ));
    v.push(case(
        "100,000 keys, one duplicated",
        format!(r#"{many}"k5":1,{MATCH_FIELDS}}}"#),
        Alert,
    ));

    // Multi-line: valid JSON (serde_json allows newlines as whitespace); not carried by NDJSON.
    v.push(case(
        "pretty-printed record (multi-line)",
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&b).unwrap()).unwrap(),
        Alert,
    ));
    v
}

/// A `{...}`-framed record (the default mode's only check on records that cannot match).
fn framed(rec: &[u8]) -> bool {
    let blank = |c: &u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t');
    let first = rec.iter().position(|c| !blank(c));
    let last = rec.iter().rposition(|c| !blank(c));
    matches!((first, last), (Some(f), Some(l)) if rec[f] == b'{' && rec[l] == b'}' && f < l)
}

const CONFIGS: [(&str, &str); 4] = [
    ("tag", "matches"),
    ("tag", "all"),
    ("alerts_only", "matches"),
    ("alerts_only", "all"),
];

fn props(mode: &str, validate: &str) -> [(&'static str, String); 3] {
    [
        ("mode", mode.to_string()),
        ("validate", validate.to_string()),
        ("max_alerts", "0".to_string()),
    ]
}

struct CFilter(*mut FilterHandle);

impl CFilter {
    fn new(mode: &str, validate: &str) -> CFilter {
        let p = props(mode, validate);
        let keys: Vec<CString> = p.iter().map(|(k, _)| CString::new(*k).unwrap()).collect();
        let vals: Vec<CString> = p
            .iter()
            .map(|(_, v)| CString::new(v.as_str()).unwrap())
            .collect();
        let kp: Vec<*const c_char> = keys.iter().map(|s| s.as_ptr()).collect();
        let vp: Vec<*const c_char> = vals.iter().map(|s| s.as_ptr()).collect();
        // SAFETY: `count` NUL-terminated strings each, alive for the call; `err` may be NULL.
        let h = unsafe { svcshell_filter_new(kp.as_ptr(), vp.as_ptr(), p.len(), ptr::null_mut()) };
        assert!(!h.is_null());
        CFilter(h)
    }

    /// The code and, for an alert, the bytes (released here).
    fn process(&self, rec: &[u8]) -> (i32, Option<Vec<u8>>) {
        let (mut out, mut out_len) = (ptr::null_mut::<u8>(), 0usize);
        // SAFETY: live handle; `rec` readable for its length; out pointers writable.
        let code = unsafe {
            svcshell_filter_process(self.0, rec.as_ptr(), rec.len(), &mut out, &mut out_len)
        };
        if code != SVCSHELL_ALERT {
            assert!(out.is_null());
            return (code, None);
        }
        // SAFETY: the library wrote `out_len` bytes at `out`, which it malloc'd; released once.
        let bytes = unsafe { std::slice::from_raw_parts(out, out_len) }.to_vec();
        unsafe { svcshell_buffer_free(out) };
        (code, Some(bytes))
    }

    fn errors(&self) -> u64 {
        let mut s = CStats {
            size: std::mem::size_of::<CStats>() as u64,
            ..Default::default()
        };
        // SAFETY: live handle; writable struct with its size set.
        assert_eq!(
            unsafe { svcshell_filter_stats(self.0, &mut s) },
            SVCSHELL_OK
        );
        s.errors
    }
}

impl Drop for CFilter {
    fn drop(&mut self) {
        // SAFETY: the handle is live and not used after this.
        unsafe { svcshell_filter_free(self.0) }
    }
}

/// The C code the Rust outcome corresponds to.
fn c_code(o: &Outcome) -> i32 {
    match (&o.action, &o.error) {
        (Action::Alert(_), _) => SVCSHELL_ALERT,
        (Action::Drop, _) => SVCSHELL_DROP,
        (Action::Pass, Some(_)) => SVCSHELL_ERROR,
        (Action::Pass, None) => SVCSHELL_PASS,
    }
}

fn short(rec: &[u8]) -> String {
    let s = String::from_utf8_lossy(&rec[..rec.len().min(120)]).into_owned();
    if rec.len() > 120 {
        format!("{s}... ({} bytes)", rec.len())
    } else {
        s
    }
}

/// `svcshell replay` on `input`: stdout and the `errors=` count of the summary.
fn replay(mode: &str, validate: &str, input: &[u8]) -> (Vec<u8>, u64) {
    let mut cmd = runner::command(env!("CARGO_BIN_EXE_svcshell"));
    cmd.arg("replay");
    for (k, v) in props(mode, validate) {
        cmd.arg("--set").arg(format!("{k}={v}"));
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("svcshell");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "replay failed: {stderr}");
    let errors = stderr
        .split_whitespace()
        .find_map(|w| w.strip_prefix("errors="))
        .unwrap_or_else(|| panic!("no errors= in {stderr}"))
        .parse()
        .unwrap();
    (out.stdout, errors)
}

#[test]
fn validate_all_counts_a_malformed_record_that_cannot_match() {
    // Found by the json_scanner fuzz target: validate=all read records that could not match with the lenient
    // scanner, so a missing `:` in such a record passed without being counted.
    let f = Filter::from_properties(&[("validate", "all")]).unwrap();
    for rec in [
        &br#"{"agent":{"version""8.15.0"},"process":{"name":"cmd.exe"}}"#[..],
        br#"{"a":1,}"#,
        br#"{"a":01}"#,
        br#"{"a":"\x"}"#,
        br#"{"a":1e400}"#,
    ] {
        assert!(serde_json::from_slice::<Value>(rec).is_err());
        let o = f.process(rec);
        assert_eq!(o.action, Action::Pass);
        assert!(o.error.is_some(), "{}", String::from_utf8_lossy(rec));
    }
    assert_eq!(f.stats().errors, 5);
}

#[test]
fn catalogue_same_verdict_through_rust_c_and_cli() {
    let cases = cases();
    assert!(cases.len() > 1500, "{} cases", cases.len());

    // The catalogue's expectations agree with serde_json (and, for objects, with the Value baseline).
    let baseline = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    for c in &cases {
        let object = serde_json::from_slice::<Value>(&c.rec).is_ok_and(|v| v.is_object());
        assert_eq!(object, c.want != Want::Reject, "catalogue: {}", c.name);
        match c.want {
            Want::Alert => assert_eq!(
                svcshell_cli::baseline::matches_value(&baseline, &c.rec),
                Some(true),
                "{}",
                c.name
            ),
            Want::NoAlert => assert_eq!(
                svcshell_cli::baseline::matches_value(&baseline, &c.rec),
                Some(false),
                "{}",
                c.name
            ),
            Want::Reject => assert_eq!(
                svcshell_cli::baseline::matches_value(&baseline, &c.rec),
                None,
                "{}",
                c.name
            ),
            Want::Either => {}
        }
    }

    let mut either: Vec<Option<bool>> = vec![None; cases.len()];
    for (mode, validate) in CONFIGS {
        let tag = mode == "tag";
        let strict = validate == "all";
        let p = props(mode, validate);
        let f = Filter::from_properties(&p).unwrap();
        let c = CFilter::new(mode, validate);
        let mut errors = 0u64;
        let mut ndjson = Vec::new();
        let mut expect_out = Vec::new();
        let mut ndjson_errors = 0u64;
        for (k, case) in cases.iter().enumerate() {
            let ctx = format!(
                "[{mode}, validate={validate}] {}: {}",
                case.name,
                short(&case.rec)
            );
            let o = f.process(&case.rec);
            let not_alert = if tag { Action::Pass } else { Action::Drop };
            match case.want {
                Want::Reject => {
                    assert_eq!(o.action, not_alert, "{ctx}");
                    if strict || !framed(&case.rec) {
                        assert!(o.error.is_some(), "not counted: {ctx}");
                    }
                }
                Want::Alert => {
                    assert!(o.error.is_none(), "{ctx}: {:?}", o.error);
                    let Action::Alert(a) = &o.action else {
                        panic!("not an alert: {ctx}")
                    };
                    let v: Value = serde_json::from_slice(a).expect("alert is JSON");
                    assert_eq!(v["event"]["kind"], "alert", "{ctx}");
                }
                Want::NoAlert => {
                    assert!(o.error.is_none(), "{ctx}: {:?}", o.error);
                    assert_eq!(o.action, not_alert, "{ctx}");
                }
                Want::Either => {
                    assert!(o.error.is_none(), "{ctx}: {:?}", o.error);
                    let alert = matches!(o.action, Action::Alert(_));
                    assert!(alert || o.action == not_alert, "{ctx}");
                    // The same choice in every configuration.
                    assert_eq!(
                        *either[k].get_or_insert(alert),
                        alert,
                        "inconsistent: {ctx}"
                    );
                }
            }
            errors += o.error.is_some() as u64;

            // The C ABI: the same code, the same alert bytes.
            let (code, bytes) = c.process(&case.rec);
            assert_eq!(code, c_code(&o), "C ABI: {ctx}");
            if let Action::Alert(a) = &o.action {
                assert_eq!(bytes.as_deref(), Some(&a[..]), "C ABI alert bytes: {ctx}");
            }

            // The CLI input: one record per line. A blank line (empty, or only spaces, tabs and '\r') holds no
            // record in NDJSON, so the empty and whitespace-only cases are not carried.
            let blank = case.rec.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
            if !case.rec.contains(&b'\n') && !blank {
                ndjson.extend_from_slice(&case.rec);
                ndjson.push(b'\n');
                ndjson_errors += o.error.is_some() as u64;
                match &o.action {
                    Action::Pass => expect_out.extend_from_slice(&case.rec),
                    Action::Alert(a) => expect_out.extend_from_slice(a),
                    Action::Drop => continue,
                }
                expect_out.push(b'\n');
            }
        }
        assert_eq!(f.stats().errors, errors);
        assert_eq!(f.stats().records, cases.len() as u64);
        assert_eq!(
            c.errors(),
            errors,
            "C ABI error count [{mode}, validate={validate}]"
        );
        if strict {
            let rejects = cases.iter().filter(|c| c.want == Want::Reject).count() as u64;
            assert_eq!(errors, rejects, "validate=all counts every rejected record");
        }

        let (out, cli_errors) = replay(mode, validate, &ndjson);
        assert_eq!(
            cli_errors, ndjson_errors,
            "CLI errors [{mode}, validate={validate}]"
        );
        if out != expect_out {
            let (o, e): (Vec<&[u8]>, Vec<&[u8]>) = (
                out.split(|&b| b == b'\n').collect(),
                expect_out.split(|&b| b == b'\n').collect(),
            );
            let k = o
                .iter()
                .zip(&e)
                .position(|(a, b)| a != b)
                .unwrap_or(o.len().min(e.len()));
            panic!(
                "CLI output differs [{mode}, validate={validate}] at output line {}: got {} want {}",
                k + 1,
                o.get(k).map_or("<none>".into(), |l| short(l)),
                e.get(k).map_or("<none>".into(), |l| short(l))
            );
        }
    }
}

/// Why a record could not be read reads the same through every face: the Rust API's `Outcome::error`, the C
/// API's last error and `explain` name the same error at the same byte (0-based: the first byte that is not
/// JSON, or the record's length when it ends too early) — also for records the prefilter rules out, whose
/// framing check alone would point at the last byte instead.
#[test]
fn error_offsets_are_the_same_through_every_face() {
    let mut cases: Vec<Vec<u8>> = cases().into_iter().map(|c| c.rec).collect();
    // Truncations of a record that cannot match (the prefilter rules it out).
    let quiet = br#"{"host":{"name":"a"},"process":{"name":"notepad.exe","args":["x",1]}}"#;
    cases.extend((1..quiet.len()).map(|k| quiet[..k].to_vec()));
    let mut compared = 0;
    for validate in ["matches", "all"] {
        let f = Filter::from_properties(&props("tag", validate)).unwrap();
        let c = CFilter::new("tag", validate);
        for rec in &cases {
            let Some(e) = f.process(rec).error else {
                continue;
            };
            let explained = f.explain(rec).expect_err("explain reads it too");
            assert_eq!(e, explained, "validate={validate}: {}", short(rec));
            let (code, _) = c.process(rec);
            assert_eq!(code, SVCSHELL_ERROR);
            let mut buf = [0 as c_char; 256];
            // SAFETY: live handle; `buf` writable for its length.
            unsafe { svcshell_filter_last_error(c.0, buf.as_mut_ptr(), buf.len()) };
            // SAFETY: the library NUL-terminates what it writes into `buf`.
            let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
            assert_eq!(text.to_str().unwrap(), e.to_string(), "{}", short(rec));
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared}");
    // A record cut short is refused at its end.
    let f = Filter::from_properties(&props("tag", "matches")).unwrap();
    assert_eq!(
        f.process(&quiet[..21]).error.unwrap().to_string(),
        "invalid JSON at byte 21"
    );
}
