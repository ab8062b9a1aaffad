//! `Filter::process_chunk` on arbitrary bytes: never panics; the output chunk holds the input's records in
//! order (unreadable ones byte for byte, alerts as readable records carrying the rule id); in tag mode no
//! record is lost. When the input is a JSON object, it is also encoded as a one-record Fluent Bit chunk and
//! the chunk's verdict must equal `svcshell_cli::baseline::matches_value` on the JSON.
#![no_main]

use std::sync::OnceLock;

use fuzzref::{has_duplicate_keys, parse_object};
use libfuzzer_sys::fuzz_target;
use svcshell::filter::ChunkResult;
use svcshell::record::{msgpack, Hits};
use svcshell::Filter;

fn filters() -> &'static (Filter, Filter) {
    static F: OnceLock<(Filter, Filter)> = OnceLock::new();
    F.get_or_init(|| {
        (
            Filter::from_properties(&[("max_alerts", "0")]).expect("filter"),
            Filter::from_properties(&[("max_alerts", "0"), ("mode", "alerts_only")]).expect("filter"),
        )
    })
}

const RULE_ID: &[u8] = b"0022d47d-39c7-4f69-a232-4fe9dc7a3acd";

fn contains(h: &[u8], n: &[u8]) -> bool {
    h.windows(n.len()).any(|w| w == n)
}

/// The records of a chunk as (bytes, readable, group marker).
fn split(chunk: &[u8]) -> Vec<(&[u8], bool, bool)> {
    msgpack::records(chunk)
        .map(|(at, r)| match r {
            Ok(rec) => (&chunk[at..rec.end], true, rec.time.is_group_marker()),
            Err((_, next)) => (&chunk[at..next.unwrap_or(chunk.len())], false, false),
        })
        .collect()
}

fn check_alert_record(rec: &[u8]) {
    let r = msgpack::record_at(rec, 0).expect("an alert is a readable record");
    assert_eq!(r.end, rec.len());
    let mut hits = Hits::default();
    msgpack::scan(&rec[r.body..], filters().0.field_set(), &mut hits).expect("alert body scans");
    assert!(contains(rec, RULE_ID), "alert without the rule id");
}

fn check_chunk(input: &[u8]) -> (usize, usize) {
    let (tag, only) = filters();
    let ins = split(input);
    let mut alerts = 0;
    match tag.process_chunk(input) {
        ChunkResult::NoTouch => {}
        ChunkResult::Modified(out) => {
            let outs = split(&out);
            assert_eq!(ins.len(), outs.len(), "tag mode lost or gained records");
            for (i, o) in ins.iter().zip(&outs) {
                if i.0 != o.0 {
                    assert!(i.1, "an unreadable record was changed");
                    check_alert_record(o.0);
                    alerts += 1;
                }
            }
            assert!(alerts > 0, "Modified without a change");
        }
    }
    let mut kept = 0;
    match only.process_chunk(input) {
        ChunkResult::NoTouch => {
            // Nothing dropped: every readable record is a group marker (or the chunk holds none).
            assert!(ins.iter().all(|r| !r.1 || r.2), "alerts_only kept a plain record");
        }
        ChunkResult::Modified(out) => {
            let outs = split(&out);
            let mut it = ins.iter();
            for o in &outs {
                // Each output record is an input record kept as is (unreadable or marker), or an alert.
                if o.1 && !o.2 {
                    check_alert_record(o.0);
                    kept += 1;
                }
                assert!(it.any(|i| i.0 == o.0 || (i.1 && !i.2 && contains(o.0, RULE_ID))), "output out of order");
            }
        }
    }
    (alerts, kept)
}

fuzz_target!(|data: &[u8]| {
    let (a, k) = check_chunk(data);
    assert_eq!(a, k, "tag and alerts_only modes alert on different records");

    // The JSON reading of the input, as a Fluent Bit record: [[EventTime, {}], body].
    if let Some(v) = parse_object(data) {
        if has_duplicate_keys(data) {
            return;
        }
        let mut chunk = vec![0x92, 0x92, 0xd7, 0x00, 0x66, 0x41, 0xb0, 0x00, 0, 0, 0, 0, 0x80];
        msgpack::encode(&v, &mut chunk);
        let want = svcshell_cli::baseline::matches_value(&filters().0, data) == Some(true);
        let (a, _) = check_chunk(&chunk);
        assert_eq!(a == 1, want, "msgpack verdict differs from matches_value on the JSON");
    }
});
