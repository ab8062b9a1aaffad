//! The JSON record scanner and `Filter::process`, differentially: on every input the strict scanner accepts
//! exactly what serde_json accepts as an object; where serde_json reads an object (without duplicate keys),
//! the verdict equals the independent ECS reference (`sources=ecs`) and `svcshell_cli::baseline::matches_value` (all
//! sources); where it does not, the record passes unchanged (never alerts). Alerts are valid JSON objects
//! without duplicate keys, and align with their input: every byte outside the alert's splices is the
//! input's (`fuzzref::align`).
#![no_main]

use std::sync::OnceLock;

use fuzzref::{
    align, alert_fields, assert_aligned, has_duplicate_keys, parse_object, reference_ecs, serde_view, Serde,
};
use libfuzzer_sys::fuzz_target;
use svcshell::record::{json, Hits};
use svcshell::{Action, Filter};

struct Filters {
    /// sources=ecs, validate=all: strict everywhere.
    ecs_all: Filter,
    /// sources=ecs, validate=matches (default).
    ecs_matches: Filter,
    /// Every shape, default validation.
    shapes: Filter,
    /// Every shape, validate=all, alerts_only.
    shapes_alerts_only: Filter,
}

fn filters() -> &'static Filters {
    static F: OnceLock<Filters> = OnceLock::new();
    F.get_or_init(|| {
        let mk = |p: &[(&str, &str)]| {
            let mut v = vec![("max_alerts", "0")];
            v.extend_from_slice(p);
            Filter::from_properties(&v).expect("filter")
        };
        Filters {
            ecs_all: mk(&[("sources", "ecs"), ("validate", "all")]),
            ecs_matches: mk(&[("sources", "ecs")]),
            shapes: mk(&[]),
            shapes_alerts_only: mk(&[("validate", "all"), ("mode", "alerts_only")]),
        }
    })
}

fn fields() -> &'static [align::Field] {
    static F: OnceLock<Vec<align::Field>> = OnceLock::new();
    F.get_or_init(|| alert_fields(&filters().shapes))
}

fn is_alert(a: &Action) -> bool {
    matches!(a, Action::Alert(_))
}

fn check_alert(input: &[u8], a: &Action) {
    if let Action::Alert(out) = a {
        let v = parse_object(out).unwrap_or_else(|| {
            panic!("alert is not a JSON object: {}", String::from_utf8_lossy(out))
        });
        // The input's own duplicate keys stay as they are (Elasticsearch rejects such documents; serde_json
        // keeps the last, which may not be the object the alert fields went into).
        if has_duplicate_keys(input) {
            return;
        }
        assert!(!has_duplicate_keys(out), "alert has a duplicate key");
        assert_eq!(v["event"]["kind"], "alert", "input {}", String::from_utf8_lossy(input));
        // Every byte outside the splices is the input's.
        assert_aligned(input, out, fields());
    }
}

fuzz_target!(|data: &[u8]| {
    let f = filters();
    let view = serde_view(data);
    let serde_ok = !matches!(view, Serde::Rejected);

    // The scanner itself, strict and lenient, with the largest field set.
    let mut hits = Hits::default();
    let strict = json::scan(data, f.shapes.field_set(), &mut hits);
    assert_eq!(
        strict.is_ok(),
        serde_ok,
        "strict scan {:?} but serde_json object: {serde_ok}",
        strict
    );
    let _ = json::scan_fast(data, f.shapes.field_set(), &mut hits);

    // validate=all: an error exactly when serde_json rejects; the verdict is the reference's.
    let o = f.ecs_all.process(data);
    assert_eq!(o.error.is_some(), !serde_ok, "validate=all error {:?}", o.error);
    check_alert(data, &o.action);
    let m = f.ecs_matches.process(data);
    assert!(m.error.is_none() || !serde_ok, "validate=matches error on a valid object: {:?}", m.error);
    check_alert(data, &m.action);
    assert_eq!(is_alert(&o.action), is_alert(&m.action), "validate modes disagree");

    let s = f.shapes.process(data);
    assert!(s.error.is_none() || !serde_ok, "error on a valid object: {:?}", s.error);
    check_alert(data, &s.action);
    let a = f.shapes_alerts_only.process(data);
    assert_eq!(a.error.is_some(), !serde_ok);
    assert!(matches!(a.action, Action::Drop | Action::Alert(_)));
    assert_eq!(is_alert(&a.action), is_alert(&s.action), "alerts_only/tag disagree");
    assert_eq!(f.shapes.matches(data).unwrap_or(false), is_alert(&s.action));

    match view {
        Serde::Rejected => {
            assert_eq!(o.action, Action::Pass);
            assert_eq!(m.action, Action::Pass);
            assert_eq!(s.action, Action::Pass);
            assert_eq!(svcshell_cli::baseline::matches_value(&f.shapes, data), None);
        }
        Serde::Duplicates => {}
        Serde::Object(v) => {
            let want = reference_ecs(&v);
            assert_eq!(is_alert(&o.action), want, "ecs verdict differs from the reference");
            let base = svcshell_cli::baseline::matches_value(&f.shapes, data);
            assert_eq!(base, Some(is_alert(&s.action)), "verdict differs from matches_value");
        }
    }
});
