//! Bad-input catalogue: every kind of unreadable or hostile record passes unchanged (or is dropped in
//! alerts_only mode), never alerts, never panics, and moves the `errors` counter where serde_json rejects it
//! (validate=all), with the same verdict through the Rust API, the C ABI and the CLI.

use svcshell::{Action, Filter};

/// validate=all reads every record strictly: a record serde_json rejects is an error even when it cannot
/// match (found by the json_scanner fuzz target: a missing `:` in a non-matching record passed uncounted).
#[test]
fn validate_all_counts_a_malformed_record_that_cannot_match() {
    let f = Filter::from_properties(&[("validate", "all")]).unwrap();
    for rec in [
        &br#"{"agent":{"version""8.15.0"},"process":{"name":"cmd.exe"}}"#[..],
        br#"{"a":1,}"#,
        br#"{"a":01}"#,
        br#"{"a":"\x"}"#,
        br#"{"a":1e400}"#,
    ] {
        assert!(serde_json::from_slice::<serde_json::Value>(rec).is_err());
        let o = f.process(rec);
        assert_eq!(o.action, Action::Pass);
        assert!(o.error.is_some(), "{}", String::from_utf8_lossy(rec));
    }
    assert_eq!(f.stats().errors, 5);
}
