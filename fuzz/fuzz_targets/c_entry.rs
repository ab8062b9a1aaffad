//! The C entry points (`svcshell_filter_process`, `svcshell_filter_process_ndjson`) on arbitrary bytes,
//! differentially: where serde_json reads the input as an object (no duplicate keys) the C verdict equals the
//! independent ECS reference and an alert aligns with its input (every byte outside the splices is the
//! input's, `fuzzref::align`; line by line in the batch call too); where it does not, the record is never an
//! alert (`SVCSHELL_ERROR` with validate=all, which counts it; `PASS` or `ERROR` by default). Buffers come back
//! malloc'd and are freed with the library's free functions.
#![no_main]

use std::ffi::CString;
use std::os::raw::c_char;
use std::ptr;

use fuzzref::{align, alert_fields, assert_aligned, parse_object, reference_ecs, serde_view, Serde};
use libfuzzer_sys::fuzz_target;
use svcshell::ffi::{
    svcshell_buffer_free, svcshell_filter_new, svcshell_filter_process, svcshell_filter_process_ndjson,
    svcshell_filter_stats, CBatchCounts, CStats, FilterHandle, SVCSHELL_ALERT, SVCSHELL_DROP, SVCSHELL_ERROR,
    SVCSHELL_OK, SVCSHELL_PASS,
};

struct Handle(*mut FilterHandle);
// SAFETY: the library documents handles as usable from any thread.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

fn handle(props: &[(&str, &str)]) -> Handle {
    let keys: Vec<CString> = props.iter().map(|(k, _)| CString::new(*k).unwrap()).collect();
    let vals: Vec<CString> = props.iter().map(|(_, v)| CString::new(*v).unwrap()).collect();
    let kp: Vec<*const c_char> = keys.iter().map(|s| s.as_ptr()).collect();
    let vp: Vec<*const c_char> = vals.iter().map(|s| s.as_ptr()).collect();
    // SAFETY: `count` valid NUL-terminated strings each; err may be NULL.
    let h = unsafe { svcshell_filter_new(kp.as_ptr(), vp.as_ptr(), props.len(), ptr::null_mut()) };
    assert!(!h.is_null());
    Handle(h)
}

fn handles() -> &'static [Handle; 3] {
    static H: std::sync::OnceLock<[Handle; 3]> = std::sync::OnceLock::new();
    H.get_or_init(|| {
        [
            handle(&[("sources", "ecs"), ("validate", "all"), ("max_alerts", "0")]),
            handle(&[("sources", "ecs"), ("max_alerts", "0")]),
            handle(&[("sources", "ecs"), ("max_alerts", "0"), ("mode", "alerts_only"), ("validate", "all")]),
        ]
    })
}

fn fields() -> &'static [align::Field] {
    static F: std::sync::OnceLock<Vec<align::Field>> = std::sync::OnceLock::new();
    F.get_or_init(|| alert_fields(&svcshell::Filter::from_properties(&[("sources", "ecs")]).expect("filter")))
}

fn errors(h: &Handle) -> u64 {
    let mut s = CStats {
        size: std::mem::size_of::<CStats>() as u64,
        ..Default::default()
    };
    // SAFETY: live handle, writable struct with its size set.
    assert_eq!(unsafe { svcshell_filter_stats(h.0, &mut s) }, SVCSHELL_OK);
    s.errors
}

/// One record through `svcshell_filter_process`: the code, and the alert bytes (freed here).
fn process(h: &Handle, data: &[u8]) -> (i32, Option<Vec<u8>>) {
    let mut out: *mut u8 = ptr::null_mut();
    let mut out_len = 0usize;
    // SAFETY: live handle; `data` readable; out pointers writable.
    let code = unsafe { svcshell_filter_process(h.0, data.as_ptr(), data.len(), &mut out, &mut out_len) };
    let bytes = if code == SVCSHELL_ALERT {
        assert!(!out.is_null());
        // SAFETY: the library wrote `out_len` bytes at `out`.
        let v = unsafe { std::slice::from_raw_parts(out, out_len) }.to_vec();
        // SAFETY: malloc'd by the library, released once.
        unsafe { svcshell_buffer_free(out) };
        Some(v)
    } else {
        assert!(out.is_null(), "out set for code {code}");
        None
    };
    (code, bytes)
}

fuzz_target!(|data: &[u8]| {
    let [all, matches, only] = handles();
    let view = serde_view(data);
    let before = errors(all);
    let (c_all, alert) = process(all, data);
    let (c_m, _) = process(matches, data);
    let (c_o, _) = process(only, data);
    let counted = errors(all) - before;
    match &view {
        Serde::Rejected => {
            assert_eq!(c_all, SVCSHELL_ERROR, "validate=all: a record serde_json rejects is an ERROR");
            assert_eq!(counted, 1);
            assert!(c_m == SVCSHELL_PASS || c_m == SVCSHELL_ERROR, "code {c_m}");
            assert_eq!(c_o, SVCSHELL_DROP);
        }
        Serde::Duplicates => {
            assert!(c_all == SVCSHELL_PASS || c_all == SVCSHELL_ALERT);
            assert_eq!(c_all, c_m);
        }
        Serde::Object(v) => {
            let want = if reference_ecs(v) { SVCSHELL_ALERT } else { SVCSHELL_PASS };
            assert_eq!(c_all, want, "C verdict differs from the reference");
            assert_eq!(c_m, want);
            assert_eq!(c_o, if want == SVCSHELL_ALERT { SVCSHELL_ALERT } else { SVCSHELL_DROP });
            assert_eq!(counted, 0);
            if let Some(a) = alert {
                assert!(parse_object(&a).is_some(), "alert is not a JSON object");
                assert_aligned(data, &a, fields());
            }
        }
    }

    // The batch call: one line per record; the output holds every non-dropped line, in order.
    let mut out: *mut u8 = ptr::null_mut();
    let mut out_len = 0usize;
    let mut counts = CBatchCounts {
        size: std::mem::size_of::<CBatchCounts>() as u64,
        ..Default::default()
    };
    // SAFETY: as above.
    let code = unsafe {
        svcshell_filter_process_ndjson(all.0, data.as_ptr(), data.len(), &mut out, &mut out_len, &mut counts)
    };
    assert_eq!(code, SVCSHELL_OK);
    let lines = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')))
        .count() as u64;
    assert_eq!(counts.records, lines);
    assert_eq!(counts.dropped, 0);
    if !out.is_null() {
        // SAFETY: the library wrote `out_len` bytes at `out`.
        let o = unsafe { std::slice::from_raw_parts(out, out_len) };
        assert_eq!(o.iter().filter(|&&b| b == b'\n').count() as u64, lines, "tag mode: one line per record");
        assert!(o.is_empty() || o.ends_with(b"\n"));
        // Line by line: the input line, or (for an object serde_json reads) its alert, aligned.
        let ins = data.split(|&b| b == b'\n').filter(|l| !l.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')));
        for (i, o) in ins.zip(o.split(|&b| b == b'\n')) {
            if i != o {
                match serde_view(i) {
                    Serde::Rejected => panic!("a line serde_json does not read as an object was changed"),
                    Serde::Duplicates => {}
                    Serde::Object(_) => assert_aligned(i, o, fields()),
                }
            }
        }
        // SAFETY: malloc'd by the library, released once.
        unsafe { svcshell_buffer_free(out) };
    }
});
