//! The msgpack path (Fluent Bit chunks) gives the same verdicts and alert fields as the JSON path: v2 and
//! legacy records, all three timestamp encodings, group markers kept in place, NOTOUCH when nothing changes,
//! bad records kept and counted, alerts_only dropping the rest; and, over generated telemetry of every shape
//! (the in-repo generator), each record's verdict equals the JSON path's and the reference's label.

use serde_json::Value;
use svcshell::filter::ChunkResult;
use svcshell::record::msgpack;
use svcshell::{Action, Filter};

mod common;
use common::decode_msgpack;

fn data() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/events.ndjson"
    ))
    .unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[derive(Clone, Copy)]
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

fn record_v2(t: Ts, body: &Value) -> Vec<u8> {
    let mut r = vec![0x92, 0x92];
    ts(t, &mut r);
    r.push(0x80); // empty metadata map
    msgpack::encode(body, &mut r);
    r
}

fn record_legacy(t: Ts, body: &Value) -> Vec<u8> {
    let mut r = vec![0x92];
    ts(t, &mut r);
    msgpack::encode(body, &mut r);
    r
}

/// Builds one record from a timestamp and a body.
type MakeRecord = fn(Ts, &Value) -> Vec<u8>;

fn group_marker(start: bool) -> Vec<u8> {
    let mut r = vec![0x92, 0x92];
    ts(
        Ts::Event(if start { 0xFFFF_FFFF } else { 0xFFFF_FFFE }, 0),
        &mut r,
    );
    r.push(0x80);
    r.push(0x80);
    r
}

/// The records of a chunk as (record bytes, body as JSON).
fn split(chunk: &[u8]) -> Vec<(Vec<u8>, Value)> {
    msgpack::records(chunk)
        .map(|(_, r)| {
            let r = r.unwrap();
            let mut i = r.body;
            (
                chunk[r.start..r.end].to_vec(),
                decode_msgpack(chunk, &mut i),
            )
        })
        .collect()
}

fn is_alert(v: &Value) -> bool {
    // A record that had a dotted `event.kind` keeps it dotted.
    (v["event"]["kind"] == "alert" || v["event.kind"] == "alert")
        && v["rule"]["id"] == "0022d47d-39c7-4f69-a232-4fe9dc7a3acd"
}

fn nocap() -> Filter {
    Filter::from_properties(&[("max_alerts", "0")]).unwrap()
}

#[test]
fn chunk_alerts_match_json_verdicts_in_every_record_layout() {
    let events = data();
    let f = nocap();
    let layouts: [(&str, MakeRecord, Ts); 4] = [
        ("v2 EventTime", record_v2, Ts::Event(1_715_580_550, 123)),
        ("v2 integer", record_v2, Ts::Int(1_715_580_550)),
        ("legacy float", record_legacy, Ts::Float(1_715_580_550.25)),
        (
            "legacy EventTime",
            record_legacy,
            Ts::Event(1_715_580_550, 0),
        ),
    ];
    for (name, make, t) in layouts {
        let mut chunk = group_marker(true);
        let mut inputs = Vec::new();
        for e in &events {
            let r = make(t, e);
            chunk.extend_from_slice(&r);
            inputs.push(r);
        }
        chunk.extend_from_slice(&group_marker(false));
        let ChunkResult::Modified(out) = f.process_chunk(&chunk) else {
            panic!("{name}: expected alerts")
        };
        let recs = split(&out);
        assert_eq!(
            recs.len(),
            events.len() + 2,
            "{name}: every record kept, markers included"
        );
        assert_eq!(
            recs[0].0,
            group_marker(true),
            "{name}: start marker in place"
        );
        assert_eq!(
            recs.last().unwrap().0,
            group_marker(false),
            "{name}: end marker in place"
        );
        for (k, e) in events.iter().enumerate() {
            let json = serde_json::to_vec(e).unwrap();
            let want = matches!(f.process(&json).action, Action::Alert(_));
            let (bytes, body) = &recs[k + 1];
            assert_eq!(is_alert(body), want, "{name}: record {k}");
            if want {
                assert_eq!(body["event"]["severity"], 47);
                assert_eq!(
                    body["threat"]["technique"]["subtechnique"]["id"][2],
                    "T1059.003"
                );
                for (key, val) in e.as_object().unwrap() {
                    if key != "event" {
                        assert_eq!(&body[key], val, "{name}: record {k} key {key}");
                    }
                }
                // The record's header (timestamp, metadata) is untouched.
                let mut enc = Vec::new();
                msgpack::encode(e, &mut enc);
                let hdr = inputs[k].len() - enc.len();
                assert_eq!(&bytes[..hdr], &inputs[k][..hdr], "{name}: header kept");
            } else {
                assert_eq!(bytes, &inputs[k], "{name}: record {k} byte for byte");
            }
        }
    }
}

#[test]
fn chunk_without_matches_is_not_touched_and_costs_no_copy() {
    let f = nocap();
    let mut chunk = Vec::new();
    for e in data().iter().filter(|e| {
        !matches!(
            f.process(&serde_json::to_vec(e).unwrap()).action,
            Action::Alert(_)
        )
    }) {
        chunk.extend_from_slice(&record_v2(Ts::Event(1, 2), e));
    }
    let before = f.stats().records;
    assert_eq!(f.process_chunk(&chunk), ChunkResult::NoTouch);
    assert!(f.stats().records > before);
}

#[test]
fn alerts_only_keeps_alerts_and_markers() {
    let f = Filter::from_properties(&[("max_alerts", "0"), ("mode", "alerts_only")]).unwrap();
    let mut chunk = group_marker(true);
    for e in data() {
        chunk.extend_from_slice(&record_v2(Ts::Event(1_715_580_550, 0), &e));
    }
    chunk.extend_from_slice(&group_marker(false));
    let ChunkResult::Modified(out) = f.process_chunk(&chunk) else {
        panic!()
    };
    let recs = split(&out);
    let alerts = recs.iter().filter(|r| is_alert(&r.1)).count();
    assert!(alerts >= 5);
    assert_eq!(
        recs.len(),
        alerts + 2,
        "only alerts and the two markers remain"
    );
}

#[test]
fn bad_records_stay_in_place_and_are_counted() {
    let f = nocap();
    let good = record_v2(Ts::Event(5, 0), &data()[1]);
    // A record whose body is not a map, then a valid match, then a truncated tail that still holds the
    // literals (so it must be read).
    let mut chunk = vec![0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 5, 0, 0, 0, 0, 0x80, 0x01];
    let bad_len = chunk.len();
    chunk.extend_from_slice(&good);
    let tail = &good[..good.len() - 2];
    chunk.extend_from_slice(tail);
    let ChunkResult::Modified(out) = f.process_chunk(&chunk) else {
        panic!("the match is tagged")
    };
    assert_eq!(
        &out[..bad_len],
        &chunk[..bad_len],
        "bad record kept in place"
    );
    assert!(out.ends_with(tail), "unreadable tail kept");
    assert_eq!(f.stats().errors, 2);
    assert_eq!(f.stats().alerts, 1);
    // Garbage alone: untouched.
    assert_eq!(f.process_chunk(&[0xc1, 0xc1]), ChunkResult::NoTouch);
}

#[test]
fn records_after_the_last_candidate_pass_unread_in_tag_mode() {
    let matching = record_v2(Ts::Event(5, 0), &data()[1]);
    let plain = record_v2(
        Ts::Event(6, 0),
        &serde_json::json!({"event": {"kind": "event"}, "n": 1}),
    );
    let marker = {
        let mut m = vec![
            0x92, 0x92, 0xd7, 0x00, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x80,
        ];
        m.push(0x80);
        m
    };
    // A bad record without the literals after the last candidate: its first bytes look like a record.
    let bad = &plain[..plain.len() - 1];
    let mut chunk = matching.clone();
    chunk.extend_from_slice(&plain);
    chunk.extend_from_slice(&marker);
    chunk.extend_from_slice(&plain);
    chunk.extend_from_slice(bad);
    // tag mode (default): the tail after the match is passed on unread; its records are counted by their marks
    // (the group marker is not a record), the bad one is not noticed.
    let f = nocap();
    let ChunkResult::Modified(out) = f.process_chunk(&chunk) else {
        panic!("the match is tagged")
    };
    assert!(
        out.ends_with(&chunk[matching.len()..]),
        "the tail is copied byte for byte"
    );
    let st = f.stats();
    assert_eq!((st.records, st.alerts, st.errors), (4, 1, 0));
    assert_eq!(
        st.bytes as usize,
        chunk.len(),
        "read bytes plus the unread tail"
    );
    // Without any candidate the whole chunk is passed unread: NOTOUCH.
    let f = nocap();
    assert_eq!(
        f.process_chunk(&chunk[matching.len()..]),
        ChunkResult::NoTouch
    );
    assert_eq!((f.stats().records, f.stats().errors), (3, 0));
    // validate=all reads every record: the bad one is counted.
    let all = Filter::from_properties(&[("max_alerts", "0"), ("validate", "all")]).unwrap();
    let ChunkResult::Modified(_) = all.process_chunk(&chunk) else {
        panic!("the match is tagged")
    };
    assert_eq!((all.stats().records, all.stats().errors), (4, 1));
    // alerts_only reads every record too: the plain ones are dropped, the marker and the bad one kept.
    let only = Filter::from_properties(&[("max_alerts", "0"), ("mode", "alerts_only")]).unwrap();
    let ChunkResult::Modified(out) = only.process_chunk(&chunk) else {
        panic!("dropped records")
    };
    assert!(out.ends_with(bad) && out.windows(marker.len()).any(|w| w == marker));
    assert_eq!(
        (
            only.stats().records,
            only.stats().errors,
            only.stats().dropped
        ),
        (4, 1, 2)
    );
}

#[test]
fn cap_uses_event_time() {
    let f = Filter::from_properties(&[("max_alerts", "1"), ("alert_window", "60s")]).unwrap();
    let m = &data()[1];
    let mut chunk = Vec::new();
    for t in [0u32, 10, 59, 60, 61] {
        chunk.extend_from_slice(&record_v2(Ts::Event(1_700_000_040 + t, 0), m));
    }
    let ChunkResult::Modified(out) = f.process_chunk(&chunk) else {
        panic!()
    };
    let flags: Vec<bool> = split(&out).iter().map(|r| is_alert(&r.1)).collect();
    // Windows are aligned to the epoch: 1_700_000_040 starts a minute, so +0/+10/+59 share one window.
    assert_eq!(flags, vec![true, false, false, true, false]);
    assert_eq!(f.stats().suppressed, 3);
}

#[test]
fn generated_telemetry_of_every_shape_gets_the_json_verdict() {
    // The in-repo generator's corpus of every shape; labels from the independent reference.
    let rates = common::support::gen::Rates {
        attack: 0.1,
        lookalike: 0.2,
        ..Default::default()
    };
    let (lines, labels) =
        common::generate(&common::support::reference::Shape::ALL, 20_000, 5, rates);
    let f = nocap();
    let mut chunk = Vec::new();
    let mut want = Vec::new();
    for line in &lines {
        let v: Value = serde_json::from_slice(line).unwrap();
        want.push(matches!(f.process(line).action, Action::Alert(_)));
        chunk.extend_from_slice(&record_v2(Ts::Event(1_715_580_550, 0), &v));
    }
    // An `event` that is an array of objects gets `kind` in its objects.
    let alerted = |v: &Value| {
        is_alert(v)
            || (v["rule"]["id"] == "0022d47d-39c7-4f69-a232-4fe9dc7a3acd"
                && v["event"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|e| e["kind"] == "alert")))
    };
    let got: Vec<bool> = match f.process_chunk(&chunk) {
        ChunkResult::Modified(o) => split(&o).iter().map(|r| alerted(&r.1)).collect(),
        ChunkResult::NoTouch => vec![false; want.len()],
    };
    assert_eq!(got.len(), want.len());
    let diff: Vec<usize> = (0..want.len()).filter(|&k| got[k] != want[k]).collect();
    assert!(
        diff.is_empty(),
        "{} records differ, first {:?}: {}",
        diff.len(),
        &diff[..diff.len().min(5)],
        String::from_utf8_lossy(&lines[diff[0]])
    );
    assert!(want.iter().filter(|&&w| w).count() > 500);
    // And both equal the reference's labels.
    let wrong: Vec<usize> = (0..want.len()).filter(|&k| want[k] != labels[k]).collect();
    assert!(
        wrong.is_empty(),
        "{} JSON verdicts differ from the labels, first {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}

/// A record that frames but cannot be read (a field the rule reads, nested deeper than the scanner follows),
/// holding `text`.
fn too_deep(text: &str) -> Vec<u8> {
    let mut body = serde_json::json!(0);
    for _ in 0..=msgpack::MAX_DEPTH {
        body = serde_json::json!([body]);
    }
    record_v2(
        Ts::Event(7, 0),
        &serde_json::json!({"p": text, "process": {"args": body}}),
    )
}

#[test]
fn a_record_is_read_only_when_it_holds_a_literal_of_every_set() {
    // Under validate=matches a record is read (so a bad one is counted) only when it holds the first literal
    // set's `services.exe` and one of the shells of the second; holding only the first is not enough.
    let f = nocap();
    let only_parent = too_deep(r"C:\Windows\System32\services.exe");
    assert_eq!(f.process_chunk(&only_parent), ChunkResult::NoTouch);
    assert_eq!((f.stats().records, f.stats().errors), (1, 0));
    let both = too_deep(r"C:\Windows\System32\services.exe started cmd.exe");
    assert_eq!(f.process_chunk(&both), ChunkResult::NoTouch);
    assert_eq!((f.stats().records, f.stats().errors), (2, 1));
}
