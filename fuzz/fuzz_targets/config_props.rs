//! `Config::from_properties` on arbitrary key/value pairs (one `key=value` per line of the input): never
//! panics; keys are case-insensitive (upper-casing the keys gives the same result); a configuration that
//! parses builds a filter or fails with an error naming a key, and a built filter processes records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcshell::{Action, Config, Filter};

const MATCH: &[u8] = include_bytes!("../seeds/common/match.json");
const PLAIN: &[u8] = include_bytes!("../seeds/common/plain.json");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let props: Vec<(&str, &str)> = text
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .collect();
    let r = Config::from_properties(&props);
    let upper: Vec<(String, &str)> = props.iter().map(|(k, v)| (k.to_ascii_uppercase(), *v)).collect();
    assert_eq!(Config::from_properties(&upper), r, "keys are not case-insensitive");
    let Ok(c) = r else {
        return;
    };
    match Filter::new(c.clone()) {
        Ok(f) => {
            for rec in [MATCH, PLAIN, b"{".as_slice(), b"".as_slice()] {
                let o = f.process(rec);
                if rec != MATCH {
                    assert!(!matches!(o.action, Action::Alert(_)));
                }
            }
            let _ = f.stats();
        }
        Err(e) => assert!(
            ["exception", "sources", "rule"].contains(&e.key.as_str()),
            "filter error with an unexpected key: {e}"
        ),
    }
});
