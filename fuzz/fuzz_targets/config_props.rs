//! `Config::from_properties` on arbitrary key/value pairs (one `key=value` per line of the input), against a
//! small model of the documented properties written here: the outcome is the model's (a configuration with
//! exactly the values given, defaults elsewhere; or an error naming the first offending key); keys are
//! case-insensitive (upper-casing them gives the same result). A configuration that parses builds a filter
//! exactly when its exceptions compile and its sources are known (else an error naming `exception` or
//! `sources`), and the filter honours its mode and sources on a matching and a plain record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcshell::config::Validate;
use svcshell::eql::{FieldTable, Program};
use svcshell::{Action, Config, Filter, Mode};

const MATCH: &[u8] = include_bytes!("../seeds/common/match.json");
const PLAIN: &[u8] = include_bytes!("../seeds/common/plain.json");

/// The source shapes `sources` accepts.
const SHAPES: &[&str] = &[
    "ecs",
    "winlogbeat_sysmon",
    "winlogbeat_security",
    "nxlog",
    "evtx",
    "winevtlog",
    "sentinelone",
    "m365",
    "crowdstrike_fdr",
    "vector_winevtlog",
];

/// A whole number of seconds, minutes, hours or days (`300`, `300s`, `5m`, `1h`, `1d`), above zero.
fn duration(v: &str) -> Option<u64> {
    let (digits, unit) = match v.as_bytes().last()? {
        b's' => (&v[..v.len() - 1], 1),
        b'm' => (&v[..v.len() - 1], 60),
        b'h' => (&v[..v.len() - 1], 3600),
        b'd' => (&v[..v.len() - 1], 86400),
        _ => (v, 1),
    };
    let n = whole(digits, false)?;
    n.checked_mul(unit).filter(|&s| s > 0)
}

/// Decimal digits (optionally after one `+`) that fit a u64.
fn whole(v: &str, plus: bool) -> Option<u64> {
    let d = if plus { v.strip_prefix('+').unwrap_or(v) } else { v };
    if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    d.bytes().try_fold(0u64, |n, b| n.checked_mul(10)?.checked_add((b - b'0') as u64))
}

fn set<T>(slot: &mut T, v: T) -> bool {
    *slot = v;
    true
}

/// The model: the configuration the properties describe, or the (lower-case) key of the first bad one.
fn model(props: &[(&str, &str)]) -> Result<Config, String> {
    let mut c = Config::default();
    let mut seen: Vec<String> = Vec::new();
    let (mut rule_file, mut rule_id): (Option<String>, Option<String>) = (None, None);
    for (k, v) in props {
        let key = k.trim().to_ascii_lowercase();
        let v = v.trim();
        let lower = v.to_ascii_lowercase();
        if key != "exception" {
            if seen.contains(&key) {
                return Err(key);
            }
            seen.push(key.clone());
        }
        let ok = match key.as_str() {
            "mode" if lower == "tag" => set(&mut c.mode, Mode::Tag),
            "mode" if lower == "alerts_only" => set(&mut c.mode, Mode::AlertsOnly),
            "validate" if lower == "matches" => set(&mut c.validate, Validate::Matches),
            "validate" if lower == "all" => set(&mut c.validate, Validate::All),
            "exception" if !v.is_empty() => {
                c.exceptions.push(v.to_string());
                true
            }
            "max_alerts" => whole(v, true).is_some_and(|n| set(&mut c.max_alerts, n)),
            "alert_window" => duration(v).is_some_and(|s| set(&mut c.alert_window, s)),
            "sources" => {
                let list: Vec<String> =
                    lower.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                !list.is_empty() && set(&mut c.sources, Some(list))
            }
            "rule_file" if !v.is_empty() => set(&mut rule_file, Some(v.to_string())),
            "rule_id" if !v.is_empty() => set(&mut rule_id, Some(v.to_string())),
            _ => false,
        };
        if !ok {
            return Err(key);
        }
    }
    // After every key: the rule file is loaded (the rule_file target checks loading itself); its schedule is the
    // default of the cap.
    match (rule_file, rule_id) {
        (Some(path), id) => {
            let rule = svcshell::rule::load(&path, id.as_deref()).map_err(|_| "rule_file".to_string())?;
            if !seen.iter().any(|k| k == "max_alerts") {
                c.max_alerts = rule.max_signals;
            }
            if !seen.iter().any(|k| k == "alert_window") {
                c.alert_window = rule.interval_secs;
            }
            c.rule = rule;
        }
        (None, Some(_)) => return Err("rule_id".into()),
        (None, None) => {}
    }
    Ok(c)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let props: Vec<(&str, &str)> =
        text.split('\n').filter(|l| !l.is_empty()).map(|l| l.split_once('=').unwrap_or((l, ""))).collect();
    let r = Config::from_properties(&props);
    let upper: Vec<(String, &str)> = props.iter().map(|(k, v)| (k.to_ascii_uppercase(), *v)).collect();
    assert_eq!(Config::from_properties(&upper), r, "keys are not case-insensitive");
    let c = match (r, model(&props)) {
        (Ok(c), Ok(want)) => {
            assert_eq!(c, want, "configuration differs from the model");
            c
        }
        (Err(e), Err(key)) => {
            assert_eq!(e.key, key, "error names the wrong key: {e}");
            assert!(!e.message.is_empty());
            return;
        }
        (got, want) => panic!("from_properties {got:?}, model {want:?}"),
    };
    // Building: the first exception that does not compile, then an unknown source, is the error.
    let bad_exception = c.exceptions.iter().any(|x| Program::compile_condition(x, &mut FieldTable::default()).is_err());
    let bad_source = c.sources.iter().flatten().any(|s| !SHAPES.contains(&s.as_str()));
    match Filter::new(c.clone()) {
        Ok(f) => {
            assert!(!bad_exception && !bad_source, "built a filter from a bad exception or source");
            assert_eq!(f.config(), &c);
            let dropped = if c.mode == Mode::AlertsOnly { Action::Drop } else { Action::Pass };
            for rec in [PLAIN, b"{".as_slice(), b"".as_slice()] {
                assert_eq!(f.process(rec).action, dropped, "mode {:?}", c.mode);
            }
            // The matching record is an ECS record: it alerts when ECS is enabled and no exception applies.
            let ecs = c.sources.as_ref().is_none_or(|l| l.iter().any(|s| s == "ecs"));
            if ecs && c.exceptions.is_empty() {
                assert!(matches!(f.process(MATCH).action, Action::Alert(_)), "no alert with sources {:?}", c.sources);
            }
            if !ecs {
                assert_eq!(f.process(MATCH).action, dropped, "alert with ECS disabled: {:?}", c.sources);
            }
        }
        Err(e) => {
            let want = if bad_exception {
                "exception"
            } else if bad_source {
                "sources"
            } else {
                // Only the field set can still fail (too many fields from the exceptions).
                "exception"
            };
            assert_eq!(e.key, want, "filter error names the wrong key: {e}");
        }
    }
});
