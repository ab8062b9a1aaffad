//! The msgpack path checked with an independent msgpack implementation (`rmpv`): test chunks are built with
//! `rmpv` (never with the library's encoder) and the output chunks are decoded with it. Covered: both record
//! forms (v2 `[[ts, meta], body]`, legacy `[ts, body]`), every timestamp type (positive integer in each width,
//! float64, EventTime ext 0), group markers (passed through in place, not counted), records `rmpv` writes that
//! cannot be records (kept byte for byte, counted). For each record out: in order; non-alerts byte for byte;
//! the header of an alert byte for byte and its body = the input body plus the alert fields (as values); the
//! verdict equal to the JSON path's on the same record, to the labels of `tests/data/events.expected` and, for
//! generated ECS records, to an independent reference of the rule.

use std::io::Cursor;

use proptest::prelude::*;
use rmpv::Value as Mp;
use serde_json::{json, Map, Value};
use svcshell::filter::ChunkResult;
use svcshell::{Action, Filter};

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzzref;

const RULE_ID: &str = "0022d47d-39c7-4f69-a232-4fe9dc7a3acd";

// ---------------------------------------------------------------------------------------------------------
// Building and reading chunks with rmpv.

/// serde_json → rmpv, keeping the object's member order.
fn to_mp(v: &Value) -> Mp {
    match v {
        Value::Null => Mp::Nil,
        Value::Bool(b) => Mp::Boolean(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Mp::from(u)
            } else if let Some(i) = n.as_i64() {
                Mp::from(i)
            } else {
                Mp::F64(n.as_f64().unwrap())
            }
        }
        Value::String(s) => Mp::from(s.as_str()),
        Value::Array(a) => Mp::Array(a.iter().map(to_mp).collect()),
        Value::Object(m) => Mp::Map(
            m.iter()
                .map(|(k, v)| (Mp::from(k.as_str()), to_mp(v)))
                .collect(),
        ),
    }
}

/// rmpv → serde_json (bodies hold string keys, numbers, strings, booleans, nil, arrays and maps only).
fn to_json(v: &Mp) -> Value {
    match v {
        Mp::Nil => Value::Null,
        Mp::Boolean(b) => Value::Bool(*b),
        Mp::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => json!(u),
            (None, Some(s)) => json!(s),
            _ => unreachable!("an integer fits u64 or i64"),
        },
        Mp::F64(f) => json!(f),
        Mp::F32(f) => json!(*f as f64),
        Mp::String(s) => Value::String(s.as_str().expect("UTF-8 string").to_string()),
        Mp::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Mp::Map(m) => {
            let mut o = Map::new();
            for (k, v) in m {
                let k = k.as_str().expect("string key").to_string();
                assert!(
                    o.insert(k.clone(), to_json(v)).is_none(),
                    "duplicate key {k} in an output map"
                );
            }
            Value::Object(o)
        }
        other => panic!("unexpected msgpack value in a body: {other:?}"),
    }
}

fn write(v: &Mp) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).unwrap();
    out
}

/// A record timestamp, in each encoding Fluent Bit reads.
#[derive(Debug, Clone, Copy)]
enum Ts {
    /// EventTime: ext type 0, 8 bytes (u32 BE seconds, u32 BE nanoseconds).
    Event(u32, u32),
    /// A positive integer, in rmpv's smallest unsigned form (fixint, uint8/16/32/64).
    Uint(u64),
    /// A positive integer written as a signed int64 (`d3`): msgpack readers such as Fluent Bit's see a
    /// positive integer.
    Int64(u64),
    Float(f64),
}

fn ts_bytes(t: Ts) -> Vec<u8> {
    match t {
        Ts::Event(s, ns) => {
            let mut d = s.to_be_bytes().to_vec();
            d.extend_from_slice(&ns.to_be_bytes());
            write(&Mp::Ext(0, d))
        }
        Ts::Uint(u) => write(&Mp::from(u)),
        Ts::Int64(u) => {
            let mut out = Vec::new();
            rmp::encode::write_i64(&mut out, u as i64).unwrap();
            assert_eq!(out[0], 0xd3);
            out
        }
        Ts::Float(f) => write(&Mp::F64(f)),
    }
}

/// A record: `v2` = `[[ts, meta], body]`, else `[ts, body]`. Written piecewise so the timestamp keeps its
/// exact encoding.
fn record(v2: bool, t: Ts, meta: &Mp, body: &Mp) -> Vec<u8> {
    let mut r = Vec::new();
    rmp::encode::write_array_len(&mut r, 2).unwrap();
    if v2 {
        rmp::encode::write_array_len(&mut r, 2).unwrap();
        r.extend_from_slice(&ts_bytes(t));
        r.extend_from_slice(&write(meta));
    } else {
        r.extend_from_slice(&ts_bytes(t));
    }
    r.extend_from_slice(&write(body));
    r
}

fn marker(start: bool) -> Vec<u8> {
    let sec = if start { 0xFFFF_FFFF } else { 0xFFFF_FFFE };
    record(true, Ts::Event(sec, 0), &Mp::Map(vec![]), &Mp::Map(vec![]))
}

/// What went into a chunk, record by record.
#[derive(Debug, Clone)]
enum In {
    /// A record with this JSON body (and its JSON text, for the JSON path).
    Rec {
        bytes: Vec<u8>,
        body: Value,
        text: String,
    },
    /// A group marker.
    Marker(Vec<u8>),
    /// A complete msgpack value that is not a record.
    Junk(Vec<u8>),
}

impl In {
    fn bytes(&self) -> &[u8] {
        match self {
            In::Rec { bytes, .. } | In::Marker(bytes) | In::Junk(bytes) => bytes,
        }
    }
}

/// Splits a chunk into its top-level msgpack values with rmpv: (bytes, value).
fn values(chunk: &[u8]) -> Vec<(&[u8], Mp)> {
    let mut c = Cursor::new(chunk);
    let mut out = Vec::new();
    while (c.position() as usize) < chunk.len() {
        let at = c.position() as usize;
        let v = rmpv::decode::read_value(&mut c).expect("output chunk is valid msgpack");
        out.push((&chunk[at..c.position() as usize], v));
    }
    out
}

/// The timestamp-and-metadata part of a record's bytes and the body value (record = `[head, body]`).
fn header_and_body(bytes: &[u8]) -> (&[u8], Value) {
    let mut c = Cursor::new(bytes);
    assert_eq!(rmp::decode::read_array_len(&mut c).unwrap(), 2);
    let start = c.position() as usize;
    rmpv::decode::read_value(&mut c).unwrap();
    let body_at = c.position() as usize;
    let body = rmpv::decode::read_value(&mut c).unwrap();
    assert_eq!(c.position() as usize, bytes.len());
    (&bytes[start..body_at], to_json(&body))
}

// ---------------------------------------------------------------------------------------------------------
// What an alert must be: the input body plus the alert fields, compared as values.

/// Every (dotted path, value) of an object: keys joined with dots down through objects; arrays, scalars,
/// empty objects and the values at `stop` paths are leaves. Dotted keys and nested objects give the same
/// paths.
fn flatten(v: &Value, prefix: &str, stop: &dyn Fn(&str) -> bool, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() && !stop(prefix) => {
            for (k, c) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(c, &p, stop, out);
            }
        }
        other => out.push((prefix.to_string(), other.clone())),
    }
}

/// The alert fields (docs/semantics.md §3): dotted path → value, and whether the field is only written when absent.
fn alert_fields(f: &Filter) -> Vec<(String, Value, bool)> {
    let leaves: Vec<(String, Value, bool)> = f
        .alert_spec()
        .leaves
        .iter()
        .map(|l| (l.path.clone(), l.value.clone(), l.only_if_absent))
        .collect();
    // The facts docs/semantics.md §3 fixes, pinned here rather than taken from the library.
    let get = |p: &str| leaves.iter().find(|l| l.0 == p).map(|l| l.1.clone());
    assert_eq!(get("event.kind"), Some(json!("alert")));
    assert_eq!(get("event.severity"), Some(json!(47)));
    assert_eq!(get("event.risk_score"), Some(json!(47)));
    assert_eq!(get("rule.id"), Some(json!(RULE_ID)));
    assert_eq!(get("rule.uuid"), Some(json!(RULE_ID)));
    assert_eq!(get("rule.version"), Some(json!("313")));
    assert_eq!(get("message"), get("rule.name"));
    assert!(leaves.iter().all(|l| l.2 == (l.0 == "message")));
    leaves
}

/// `out` is `input` with every alert field set and nothing else changed: each value the input has at an alert
/// path is replaced (`message` only when every one is null), a missing field is added once; paths through
/// arrays are left alone (they are not the record's fields).
fn assert_alert_of(input: &Value, out: &Value, fields: &[(String, Value, bool)], what: &str) {
    let stop = |p: &str| fields.iter().any(|f| f.0 == p);
    // An empty object on an alert path may receive the fields (or another object of that path does): not
    // compared as a leaf (the fields themselves are).
    let empty_on_alert_path = |p: &str, v: &Value| {
        v == &json!({}) && fields.iter().any(|f| f.0.starts_with(&format!("{p}.")))
    };
    let (mut fi, mut fo) = (Vec::new(), Vec::new());
    flatten(input, "", &stop, &mut fi);
    flatten(out, "", &stop, &mut fo);
    let keeps_message = fi.iter().any(|(p, v)| p == "message" && !v.is_null());
    let mut want: Vec<(String, Value)> = fi
        .iter()
        .filter(|(p, v)| match fields.iter().find(|f| f.0 == *p) {
            Some(f) => f.2 && keeps_message,
            None => !empty_on_alert_path(p, v),
        })
        .cloned()
        .collect();
    fo.retain(|(p, v)| !empty_on_alert_path(p, v));
    for (p, v, only_if_absent) in fields {
        if *only_if_absent && keeps_message {
            continue;
        }
        let had = fi.iter().filter(|(q, _)| q == p).count();
        want.extend(std::iter::repeat_n((p.clone(), v.clone()), had.max(1)));
    }
    let key = |x: &(String, Value)| (x.0.clone(), x.1.to_string());
    want.sort_by_key(key);
    fo.sort_by_key(key);
    assert_eq!(
        fo, want,
        "{what}: alert is not the input plus the alert fields"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Running a chunk and checking everything about the output.

fn filter(props: &[(&str, &str)]) -> Filter {
    let mut p = vec![("max_alerts", "0")];
    p.extend_from_slice(props);
    Filter::from_properties(&p).unwrap()
}

/// The JSON path's verdict on a record's text.
fn json_verdict(f: &Filter, text: &str) -> bool {
    match f.process(text.as_bytes()).action {
        Action::Alert(_) => true,
        Action::Pass => false,
        Action::Drop => unreachable!("tag mode"),
    }
}

/// Runs `ins` as one chunk through a tag-mode and an alerts_only filter with the same `props`, checks the
/// outputs record by record, and returns the chunk's verdicts (one per `In::Rec`).
fn check_chunk(ins: &[In], props: &[(&str, &str)]) -> Vec<bool> {
    let tag = filter(props);
    let json_path = filter(props);
    let only = filter(&[props, &[("mode", "alerts_only")]].concat());
    let fields = alert_fields(&tag);
    let chunk: Vec<u8> = ins.iter().flat_map(|i| i.bytes().to_vec()).collect();
    let records = ins.iter().filter(|i| !matches!(i, In::Marker(_))).count() as u64;
    let junk = ins.iter().filter(|i| matches!(i, In::Junk(_))).count() as u64;

    // Tag mode: one output record per input record, in order.
    let out = match tag.process_chunk(&chunk) {
        ChunkResult::NoTouch => chunk.clone(),
        ChunkResult::Modified(o) => {
            assert_ne!(o, chunk, "Modified with the same bytes");
            o
        }
    };
    let outs = values(&out);
    assert_eq!(outs.len(), ins.len(), "tag mode: records lost or gained");
    let mut verdicts = Vec::new();
    let mut alerts = 0u64;
    for (k, (i, (ob, _))) in ins.iter().zip(&outs).enumerate() {
        match i {
            In::Marker(b) | In::Junk(b) => {
                assert_eq!(ob, b, "record {k}: marker/junk not byte for byte")
            }
            In::Rec { bytes, body, text } => {
                let alert = *ob != bytes.as_slice();
                assert_eq!(
                    alert,
                    json_verdict(&json_path, text),
                    "record {k}: msgpack ≠ JSON verdict: {text}"
                );
                if alert {
                    alerts += 1;
                    let (ih, _) = header_and_body(bytes);
                    let (oh, ov) = header_and_body(ob);
                    assert_eq!(
                        oh, ih,
                        "record {k}: alert header (timestamp, metadata) changed"
                    );
                    assert_alert_of(body, &ov, &fields, &format!("record {k}"));
                    // The JSON path's alert holds the same values.
                    let Action::Alert(j) = json_path.process(text.as_bytes()).action else {
                        unreachable!()
                    };
                    let jv: Value = serde_json::from_slice(&j).unwrap();
                    assert_eq!(ov, jv, "record {k}: msgpack alert ≠ JSON alert as values");
                }
                verdicts.push(alert);
            }
        }
    }
    // Tag mode passes the records after the chunk's last possible match on unread, counted by their
    // `[[EventTime` marks (`msgpack::count_marks`): exact for chunks of such records (what Fluent Bit writes).
    let s = tag.stats();
    assert_eq!(s.alerts, alerts);
    let fluent_bit_form = ins
        .iter()
        .all(|i| matches!(i, In::Marker(_)) || i.bytes().starts_with(&[0x92, 0x92, 0xd7, 0x00]));
    if fluent_bit_form {
        assert_eq!(
            s.records, records,
            "tag: records counted (group markers are not records)"
        );
        assert_eq!(s.errors, junk, "tag: unreadable records counted as errors");
    }
    // validate=all reads every record: the same output, exact counts.
    let strict = filter(&[props, &[("validate", "all")]].concat());
    let strict_out = match strict.process_chunk(&chunk) {
        ChunkResult::NoTouch => chunk.clone(),
        ChunkResult::Modified(o) => o,
    };
    assert_eq!(
        strict_out, out,
        "validate=all output differs from validate=matches"
    );
    let s = strict.stats();
    assert_eq!(
        s.records, records,
        "records counted (group markers are not records)"
    );
    assert_eq!(s.alerts, alerts);
    assert_eq!(s.errors, junk, "unreadable records counted as errors");

    // alerts_only: the alerts, the markers and the unreadable records, in order, nothing else.
    let want: Vec<Vec<u8>> = ins
        .iter()
        .zip(&outs)
        .filter(|(i, (ob, _))| !matches!(i, In::Rec { bytes, .. } if *ob == bytes.as_slice()))
        .map(|(_, (ob, _))| ob.to_vec())
        .collect();
    let got: Vec<Vec<u8>> = match only.process_chunk(&chunk) {
        ChunkResult::NoTouch => values(&chunk).iter().map(|(b, _)| b.to_vec()).collect(),
        ChunkResult::Modified(o) => values(&o).iter().map(|(b, _)| b.to_vec()).collect(),
    };
    assert_eq!(got, want, "alerts_only output");
    let s = only.stats();
    assert_eq!(s.records, records);
    assert_eq!(
        s.dropped,
        records - alerts - junk,
        "alerts_only: dropped = plain records"
    );
    verdicts
}

// ---------------------------------------------------------------------------------------------------------
// tests/data/events.ndjson and its labels.

fn events() -> Vec<(Option<Value>, String, bool, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let text = std::fs::read_to_string(format!("{dir}events.ndjson")).unwrap();
    let labels = std::fs::read_to_string(format!("{dir}events.expected")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let labels: Vec<&str> = labels.lines().collect();
    assert_eq!(lines.len(), labels.len());
    assert!(lines.len() >= 16);
    lines
        .iter()
        .zip(&labels)
        .map(|(l, lab)| {
            let (bit, why) = lab.split_once('\t').unwrap();
            let v = serde_json::from_str::<Value>(l)
                .ok()
                .filter(Value::is_object);
            (v, l.to_string(), bit == "1", why.to_string())
        })
        .collect()
}

fn rec(v2: bool, t: Ts, meta: &Mp, body: &Value) -> In {
    In::Rec {
        bytes: record(v2, t, meta, &to_mp(body)),
        body: body.clone(),
        text: body.to_string(),
    }
}

#[test]
fn events_in_every_record_form_and_timestamp_type() {
    let ev = events();
    let meta = Mp::Map(vec![(
        Mp::from("otlp"),
        Mp::Map(vec![(Mp::from("k"), Mp::from(1))]),
    )]);
    let layouts: Vec<(bool, Ts)> = vec![
        (true, Ts::Event(1_715_580_550, 123_456_789)),
        (false, Ts::Event(1_715_580_550, 0)),
        (true, Ts::Uint(7)),                 // positive fixint
        (false, Ts::Uint(200)),              // uint8
        (true, Ts::Uint(40_000)),            // uint16
        (false, Ts::Uint(1_715_580_550)),    // uint32
        (true, Ts::Uint(1_715_580_550_123)), // uint64 (milliseconds): not a group marker
        (true, Ts::Uint(0xFFFF_FFFF)),       // an integer, not an EventTime: not a group marker
        (false, Ts::Int64(1_715_580_550)),
        (true, Ts::Float(1_715_580_550.25)),
        (false, Ts::Float(0.0)),
    ];
    let mut seen_alert = false;
    for (v2, t) in layouts {
        let mut ins = vec![marker(true)]
            .into_iter()
            .map(In::Marker)
            .collect::<Vec<_>>();
        let mut labels = Vec::new();
        for (k, (v, line, label, why)) in ev.iter().enumerate() {
            match v {
                Some(v) => {
                    let m = if k % 2 == 0 {
                        meta.clone()
                    } else {
                        Mp::Map(vec![])
                    };
                    ins.push(rec(v2, t, &m, v));
                    // The JSON path agrees with the label on the line as written.
                    assert_eq!(
                        json_verdict(&filter(&[]), line),
                        *label,
                        "events line {}: {why}",
                        k + 1
                    );
                    labels.push((*label, why.clone()));
                }
                // Not a JSON object: as msgpack, a value that is not a record, in its place.
                None => ins.push(In::Junk(write(&Mp::from(line.as_str())))),
            }
            if k == 7 {
                ins.push(In::Marker(marker(false)));
                ins.push(In::Marker(marker(true)));
            }
        }
        ins.push(In::Marker(marker(false)));
        let verdicts = check_chunk(&ins, &[]);
        assert_eq!(verdicts.len(), labels.len());
        for (got, (want, why)) in verdicts.iter().zip(&labels) {
            assert_eq!(got, want, "v2={v2} {t:?}: {why}");
        }
        seen_alert |= verdicts.iter().any(|&a| a);
    }
    assert!(seen_alert);
}

#[test]
fn the_real_fluent_bit_record_bytes() {
    // What Fluent Bit v5.1.1 writes for `{"a":1}`; rmpv reads it as [[ext0, {}], {"a": 1}].
    let real = [
        0x92, 0x92, 0xd7, 0x00, 0x6b, 0x0b, 0x61, 0x79, 0x17, 0x3c, 0x76, 0xf0, 0x80, 0x81, 0xa1,
        0x61, 0x01,
    ];
    assert_eq!(
        record(
            true,
            Ts::Event(0x6b0b_6179, 0x173c_76f0),
            &Mp::Map(vec![]),
            &to_mp(&json!({"a": 1}))
        ),
        real
    );
    assert_eq!(filter(&[]).process_chunk(&real), ChunkResult::NoTouch);
}

/// Records rmpv writes that Fluent Bit could not read as records stay where they are, byte for byte.
#[test]
fn values_that_are_not_records_are_kept_and_counted() {
    let ev = events();
    let alert = ev.iter().find(|e| e.2).unwrap().0.clone().unwrap();
    let body = to_mp(&alert);
    let junk = [
        Mp::Array(vec![Mp::from(1), Mp::from(2), Mp::from(3)]),
        Mp::Array(vec![Mp::from(-5), body.clone()]), // negative timestamp
        Mp::Array(vec![Mp::from("2024-05-01"), body.clone()]), // string timestamp
        Mp::Array(vec![Mp::Ext(0, vec![0; 4]), body.clone()]), // EventTime of 4 bytes
        Mp::Array(vec![Mp::from(1), Mp::Array(vec![])]), // body not a map
        Mp::Map(vec![]),
        Mp::Nil,
    ];
    let mut ins = Vec::new();
    for j in &junk {
        ins.push(In::Junk(write(j)));
        ins.push(rec(
            true,
            Ts::Event(1_715_580_550, 1),
            &Mp::Map(vec![]),
            &alert,
        ));
    }
    let verdicts = check_chunk(&ins, &[]);
    assert!(verdicts.iter().all(|&v| v));
}

// ---------------------------------------------------------------------------------------------------------
// Generated records.

/// One of `xs`.
fn pick<T: Clone + std::fmt::Debug + 'static>(xs: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(xs)
}

/// Values for a rule field: matching, near-miss, non-string, array, absent (`None`).
fn field(
    good: &'static [&'static str],
    bad: &'static [&'static str],
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        12 => pick(good).prop_map(|s| Some(json!(s))),
        2 => pick(good).prop_map(|s| Some(json!([s]))),
        2 => pick(bad).prop_map(|s| Some(json!(s))),
        1 => pick(bad).prop_map(|s| Some(json!([s, "x"]))),
        1 => Just(Some(json!(5))),
        1 => Just(Some(Value::Null)),
        1 => Just(None),
    ]
}

/// Anything a record may carry besides the rule's fields (including the paths the alert writes).
fn other() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        // Floats serde_json reads back exactly (its default parser may be one ulp off on long ones).
        (-1e300f64..1e300)
            .prop_filter("round-trips", |f| serde_json::from_str::<f64>(
                &json!(f).to_string()
            )
            .ok()
                == Some(*f))
            .prop_map(|f| json!(f)),
        "[ -~\\\\\"é\u{2028}\t]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z.]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Sets `path` (dotted) in `obj`, as nested objects or (when `dotted`) as one dotted key.
fn set(obj: &mut Map<String, Value>, path: &str, v: Value, dotted: bool) {
    if dotted || !path.contains('.') {
        obj.insert(path.to_string(), v);
        return;
    }
    let (head, rest) = path.split_once('.').unwrap();
    let e = obj.entry(head.to_string()).or_insert_with(|| json!({}));
    if !e.is_object() {
        *e = json!({});
    }
    set(e.as_object_mut().unwrap(), rest, v, false);
}

/// An ECS process record, often matching the rule, with extra members at the paths the alert writes.
fn ecs_record() -> impl Strategy<Value = Value> {
    let rule_fields = (
        field(&["process"], &["Process", "network"]),
        field(&["start"], &["end", "Start"]),
        field(&["windows"], &["Windows", "linux"]),
        field(
            &["services.exe", "SERVICES.EXE", "Services.Exe"],
            &["svchost.exe", "\u{17f}ervices.exe"],
        ),
        field(
            &[
                "cmd.exe",
                "powershell.exe",
                "pwsh.exe",
                "POWERSHELL_ISE.EXE",
            ],
            &["notepad.exe", "cmd.exe "],
        ),
        prop_oneof![
            Just(None),
            Just(Some(json!(["cmd.exe", "/c", "whoami"]))),
            Just(Some(json!(["nvdisplay.containerlocalsystem"]))),
            Just(Some(json!("-s NVDisplay.ContainerLocalSystem"))),
        ],
    );
    let extras = prop::collection::vec(
        (
            pick(&[
                "event.kind",
                "event.severity",
                "event",
                "rule",
                "rule.id",
                "rule.author",
                "threat.tactic",
                "threat.technique.subtechnique",
                "message",
                "@timestamp",
                "user.name",
                "tags",
            ]),
            other(),
            any::<bool>(),
        ),
        0..4,
    );
    (rule_fields, extras, prop::collection::vec(any::<bool>(), 6)).prop_map(
        |((c, t, os, pn, n, args), extras, dotted)| {
            let mut m = Map::new();
            for (path, v, dotted) in extras {
                set(&mut m, path, v, dotted);
            }
            for (k, (path, v)) in [
                ("event.category", c),
                ("event.type", t),
                ("host.os.type", os),
                ("process.parent.name", pn),
                ("process.name", n),
                ("process.args", args),
            ]
            .into_iter()
            .enumerate()
            {
                if let Some(v) = v {
                    set(&mut m, path, v, dotted[k]);
                }
            }
            Value::Object(m)
        },
    )
}

fn ts() -> impl Strategy<Value = Ts> {
    prop_oneof![
        (0..0xFFFF_FFFDu32, any::<u32>()).prop_map(|(s, n)| Ts::Event(s, n)),
        any::<u64>().prop_map(Ts::Uint),
        (0..i64::MAX as u64).prop_map(Ts::Int64),
        (0.0..4e9f64).prop_map(Ts::Float),
    ]
}

/// One chunk entry: a record (v2 or legacy, any timestamp), a group marker, or a value that is not a record.
fn entry() -> impl Strategy<Value = In> {
    prop_oneof![
        8 => (any::<bool>(), ts(), ecs_record(), any::<bool>()).prop_map(|(v2, t, body, meta)| {
            let meta = if meta { Mp::Map(vec![(Mp::from("m"), Mp::from("x"))]) } else { Mp::Map(vec![]) };
            rec(v2, t, &meta, &body)
        }),
        1 => any::<bool>().prop_map(|s| In::Marker(marker(s))),
        1 => Just(In::Junk(write(&Mp::Array(vec![Mp::from(-1), Mp::Map(vec![])])))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Generated chunks: every check of `check_chunk`, and on ECS records (with `sources=ecs`) the verdicts
    /// equal an independent reference of the rule.
    #[test]
    fn generated_chunks(ins in prop::collection::vec(entry(), 1..12)) {
        let verdicts = check_chunk(&ins, &[("sources", "ecs")]);
        let bodies = ins.iter().filter_map(|i| match i { In::Rec { body, .. } => Some(body), _ => None });
        for (v, body) in verdicts.iter().zip(bodies) {
            prop_assert_eq!(*v, fuzzref::reference_ecs(body), "reference verdict on {}", body);
        }
        check_chunk(&ins, &[]);
    }
}
