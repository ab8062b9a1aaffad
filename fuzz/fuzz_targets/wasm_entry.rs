//! The WASM filter's entry point (`svcshell_filter` of `wasm/filter`, built natively here) on arbitrary bytes,
//! as Fluent Bit's `filter_wasm` hands a record over: the bytes up to the first NUL, followed by a NUL.
//! - The exported function (default settings, tag mode): the answer is the host's own copy of the record (the
//!   same pointer) or a NUL-terminated alert; never an empty string (a drop) in tag mode; an alert is a JSON
//!   object that aligns with its input (`fuzzref::align`) when serde_json reads the input as an object.
//! - The answer logic (`svcshell_wasm::reply`) with `sources=ecs`, no cap, in tag and alerts_only mode: on an
//!   object serde_json reads (no duplicate keys) the verdict is the independent ECS reference's; on the rest,
//!   never an alert (and a drop in alerts_only).
#![no_main]

use fuzzref::{alert_fields, assert_aligned, parse_object, reference_ecs, serde_view, Serde};
use libfuzzer_sys::fuzz_target;
use svcshell::Filter;
use svcshell_wasm::{reply, svcshell_filter, Reply};

fn filters() -> &'static [Filter; 2] {
    static F: std::sync::OnceLock<[Filter; 2]> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        [
            Filter::from_properties(&[("sources", "ecs"), ("max_alerts", "0")]).unwrap(),
            Filter::from_properties(&[("sources", "ecs"), ("max_alerts", "0"), ("mode", "alerts_only")]).unwrap(),
        ]
    })
}

fn fields() -> &'static [fuzzref::align::Field] {
    static F: std::sync::OnceLock<Vec<fuzzref::align::Field>> = std::sync::OnceLock::new();
    F.get_or_init(|| alert_fields(&Filter::from_properties::<&str, &str>(&[]).unwrap()))
}

fuzz_target!(|data: &[u8]| {
    let record = data.split(|&b| b == 0).next().unwrap_or_default();
    let mut host_copy = record.to_vec();
    host_copy.push(0);
    // Event times far apart: the default cap (100 per 5 minutes) never applies.
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let sec = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed).wrapping_mul(600);
    // SAFETY: `host_copy` holds `record.len()` bytes and a NUL, as the host's copy does.
    let at = unsafe { svcshell_filter(b"t\0".as_ptr(), 1, sec, 0, host_copy.as_ptr(), record.len() as u32) };
    assert!(!at.is_null());
    if at != host_copy.as_ptr() {
        // SAFETY: the function answers a NUL-terminated string it holds until the next call.
        let answer = unsafe { std::ffi::CStr::from_ptr(at.cast()) }.to_bytes().to_vec();
        assert!(!answer.is_empty(), "a drop in tag mode");
        assert!(answer.len() > record.len(), "an alert adds fields");
        if let Serde::Object(_) = serde_view(record) {
            assert!(parse_object(&answer).is_some(), "alert is not a JSON object");
            assert_aligned(record, &answer, fields());
        }
    }

    let [tag, only] = filters();
    let t = reply(Some(tag), record, 0);
    let o = reply(Some(only), record, 0);
    assert_eq!(reply(None, record, 0), Reply::Same, "refused settings pass every record");
    match serde_view(record) {
        Serde::Object(v) => {
            let alert = reference_ecs(&v);
            assert_eq!(matches!(t, Reply::Alert(_)), alert, "verdict differs from the reference");
            assert_eq!(t != Reply::Same, alert);
            match &o {
                Reply::Alert(a) => {
                    assert!(alert);
                    assert_eq!(Reply::Alert(a.clone()), t);
                }
                Reply::Drop => assert!(!alert),
                Reply::Same => panic!("alerts_only passed a record"),
            }
        }
        Serde::Duplicates => assert_eq!(matches!(t, Reply::Alert(_)), matches!(o, Reply::Alert(_))),
        Serde::Rejected => {
            assert_eq!(t, Reply::Same);
            assert_eq!(o, Reply::Drop);
        }
    }
});
