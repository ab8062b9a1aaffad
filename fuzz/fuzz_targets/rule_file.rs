//! Rule files (`rule_file`): arbitrary UTF-8 text parsed as a rule file (detection-rules TOML, Kibana export
//! NDJSON, one rule JSON object), with and without a `rule_id`. Nothing panics; a refusal names a place inside
//! the text (a line that exists, a column within it, and a query position whenever it names a query line); a
//! rule that loads builds a filter (whatever its query), whose alert on a matching record carries the rule's id
//! and name and keeps the record's other fields, and which decides a plain record without error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use svcshell::{Action, Config, Filter};

const MATCH: &[u8] = include_bytes!("../seeds/common/match.json");
const PLAIN: &[u8] = include_bytes!("../seeds/common/plain.json");

fn check_refusal(text: &str, e: &svcshell::rule::RuleError) {
    assert!(!e.message.is_empty());
    assert_eq!(e.file, "fuzz.rule");
    if let Some(p) = e.at {
        let lines = text.split('\n').count() as u32;
        assert!(p.line >= 1 && p.line <= lines, "line {} of {lines}: {e}", p.line);
        let line = text.split('\n').nth(p.line as usize - 1).unwrap_or("");
        assert!(
            p.column >= 1 && p.column as usize <= line.chars().count() + 1,
            "column {} of a line of {}: {e}",
            p.column,
            line.chars().count()
        );
    }
    if let Some(q) = e.query_at {
        assert!(q.line >= 1 && q.column >= 1, "{e}");
        assert!(e.at.is_some(), "a query error is placed in the file too: {e}");
    }
}

fn check_rule(rule: svcshell::rule::Rule) {
    let config = Config {
        rule: rule.clone(),
        max_alerts: 0,
        ..Config::default()
    };
    let f = Filter::new(config).expect("a rule that loads builds a filter");
    assert!(f.process(PLAIN).error.is_none());
    if let Action::Alert(out) = f.process(MATCH).action {
        let v: Value = serde_json::from_slice(&out).expect("an alert is JSON");
        assert_eq!(v["rule"]["id"], rule.rule_id.as_str());
        assert_eq!(v["rule"]["name"], rule.name.as_str());
        assert_eq!(v["event"]["kind"], "alert");
        let input: Value = serde_json::from_slice(MATCH).unwrap();
        assert_eq!(v["process"], input["process"], "the record's own fields stay");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for id in [None, Some("0022d47d-39c7-4f69-a232-4fe9dc7a3acd")] {
        match svcshell::rule::parse(text, "fuzz.rule", id) {
            Ok(rule) => {
                if let Some(id) = id {
                    assert_eq!(rule.rule_id, id);
                }
                check_rule(rule);
            }
            Err(e) => check_refusal(text, &e),
        }
    }
});
