//! The alert a matching record becomes (docs/semantics.md §3), on hand-written records: the output is one valid JSON
//! object without duplicate keys; it carries `event.kind: "alert"` (replacing any existing value, nested or
//! dotted), `event.severity` / `event.risk_score` 47 as JSON integers, the `rule.*` fields and the `threat.*`
//! fields of rule v313's MITRE ATT&CK mapping (TA0003/TA0002, T1543/T1059, T1543.003/T1059.001/T1059.003),
//! and `message` set to the rule name only when the record has none; and every byte of the input outside the
//! replaced values is still in the output, in order, with the document otherwise unchanged.

use std::collections::{BTreeSet, HashSet};

use serde_json::{json, Value};
use svcshell::{Action, Filter};

const RULE_ID: &str = "0022d47d-39c7-4f69-a232-4fe9dc7a3acd";
const RULE_NAME: &str = "System Shells via Services";

/// The rule's own fields of a matching record, without `event` (the tests vary it).
const PROC: &str = r#""host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"services.exe"}}"#;

/// A matching record: `{<event>, PROC, <extra>}`.
fn rec(event: &str, extra: &str) -> String {
    let mut s = format!("{{{event},{PROC}");
    if !extra.is_empty() {
        s.push(',');
        s.push_str(extra);
    }
    s.push('}');
    s
}

const EVENT: &str = r#""event":{"category":"process","type":"start","kind":"KIND_OLD"}"#;

/// Runs `input` through a filter without a cap; it must alert. Returns the output and its JSON value, after
/// checking the output has no duplicate key.
fn alert(input: &str) -> (String, Value) {
    let f = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    let out = match f.process(input.as_bytes()).action {
        Action::Alert(out) => out,
        other => panic!("no alert for {input}: {other:?}"),
    };
    let text = String::from_utf8(out).expect("alert is UTF-8");
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("alert is not JSON ({e}):\n{text}\ninput:\n{input}"));
    assert!(v.is_object(), "{text}");
    if let Some(k) = duplicate_key(text.as_bytes()) {
        panic!("duplicate key {k:?} in\n{text}\ninput:\n{input}");
    }
    (text, v)
}

// Every leaf value at a dotted path (keys split at dots; arrays flattened): the fuzz targets' reference walk.
#[allow(dead_code)] // the fuzz targets use more of it than this test does
#[path = "../fuzz/src/lib.rs"]
mod fuzzref;
use fuzzref::leaf_values as values;

fn strs<'a>(v: &'a Value, dotted: &str) -> Vec<&'a str> {
    values(v, dotted)
        .into_iter()
        .map(|x| {
            x.as_str()
                .unwrap_or_else(|| panic!("{dotted}: {x} is not a string"))
        })
        .collect()
}

/// The first duplicated (decoded) key of any object in `b` (valid JSON).
fn duplicate_key(b: &[u8]) -> Option<String> {
    fn ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }
    fn string_end(b: &[u8], mut i: usize) -> usize {
        i += 1;
        while b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    }
    fn value(b: &[u8], i: usize) -> Result<usize, String> {
        let i = ws(b, i);
        match b[i] {
            b'{' => {
                let mut keys = HashSet::new();
                let mut i = ws(b, i + 1);
                if b[i] == b'}' {
                    return Ok(i + 1);
                }
                loop {
                    let e = string_end(b, i);
                    let key: String = serde_json::from_slice(&b[i..e]).expect("valid key");
                    if !keys.insert(key.clone()) {
                        return Err(key);
                    }
                    i = ws(b, e) + 1;
                    i = ws(b, value(b, i)?);
                    if b[i] == b'}' {
                        return Ok(i + 1);
                    }
                    i = ws(b, i + 1);
                }
            }
            b'[' => {
                let mut i = ws(b, i + 1);
                if b[i] == b']' {
                    return Ok(i + 1);
                }
                loop {
                    i = ws(b, value(b, i)?);
                    if b[i] == b']' {
                        return Ok(i + 1);
                    }
                    i += 1;
                }
            }
            b'"' => Ok(string_end(b, i)),
            _ => {
                let mut i = i;
                while i < b.len()
                    && !matches!(b[i], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    i += 1;
                }
                Ok(i)
            }
        }
    }
    value(b, 0).err()
}

/// Asserts that `input`, with each of `replaced` (substrings of it: the values the alert replaces) cut out,
/// is a subsequence of `out`: every other input byte is in the output, in order.
fn assert_preserved(input: &str, out: &str, replaced: &[&str]) {
    let mut kept = input.to_string();
    for r in replaced {
        let at = kept
            .find(r)
            .unwrap_or_else(|| panic!("{r:?} is not in the input"));
        kept.replace_range(at..at + r.len(), "");
    }
    let mut it = out.bytes();
    for (k, b) in kept.bytes().enumerate() {
        if !it.any(|o| o == b) {
            panic!(
                "input byte {k} ({:?}) and what follows are not in the output in order:\n{}\ninput:\n{input}\noutput:\n{out}",
                b as char,
                &kept[k..]
            );
        }
    }
}

/// The alert fields' paths, removed before comparing an alert with its input as documents.
const ALERT_PATHS: &[&str] = &[
    "event.kind",
    "event.severity",
    "event.risk_score",
    "rule.id",
    "rule.uuid",
    "rule.name",
    "rule.version",
    "rule.author",
    "rule.license",
    "rule.ruleset",
    "rule.category",
    "rule.reference",
    "rule.description",
    "threat.framework",
    "threat.tactic.id",
    "threat.tactic.name",
    "threat.tactic.reference",
    "threat.technique.id",
    "threat.technique.name",
    "threat.technique.reference",
    "threat.technique.subtechnique.id",
    "threat.technique.subtechnique.name",
    "threat.technique.subtechnique.reference",
];

fn strip(v: &mut Value, path: &[&str]) {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let segs: Vec<&str> = k.split('.').collect();
                if segs.len() > path.len() || segs[..] != path[..segs.len()] {
                    continue;
                }
                if segs.len() == path.len() {
                    m.remove(&k);
                } else {
                    strip(m.get_mut(&k).unwrap(), &path[segs.len()..]);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|e| strip(e, path)),
        _ => {}
    }
}

fn prune(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.values_mut().for_each(prune);
            m.retain(|_, c| !matches!(c, Value::Object(o) if o.is_empty()));
        }
        Value::Array(a) => a.iter_mut().for_each(prune),
        _ => {}
    }
}

/// Asserts the alert is its input plus the alert fields (and `message` when the input had none).
fn assert_same_document(input: &str, out: &Value, input_had_message: bool) {
    let mut a: Value = serde_json::from_str(input).unwrap();
    let mut b = out.clone();
    for p in ALERT_PATHS {
        let segs: Vec<&str> = p.split('.').collect();
        strip(&mut a, &segs);
        strip(&mut b, &segs);
    }
    if !input_had_message {
        strip(&mut b, &["message"]);
    }
    prune(&mut a);
    prune(&mut b);
    assert_eq!(a, b, "input:\n{input}");
}

/// Checks the alert fields docs/semantics.md §3 prescribes for rule v313.
fn assert_alert_fields(v: &Value) {
    assert_eq!(strs(v, "event.kind"), ["alert"], "{v}");
    for f in ["event.severity", "event.risk_score"] {
        let x = values(v, f);
        assert_eq!(x.len(), 1, "{f}: {x:?}");
        assert!(x[0].is_u64() && x[0].as_u64() == Some(47), "{f}: {x:?}");
    }
    assert_eq!(strs(v, "rule.id"), [RULE_ID]);
    assert_eq!(strs(v, "rule.uuid"), [RULE_ID]);
    assert_eq!(strs(v, "rule.name"), [RULE_NAME]);
    assert_eq!(strs(v, "rule.version"), ["313"]);
    assert_eq!(strs(v, "rule.author"), ["Elastic"]);
    assert_eq!(strs(v, "rule.license"), ["Elastic License v2"]);
    for f in [
        "rule.ruleset",
        "rule.category",
        "rule.reference",
        "rule.description",
    ] {
        let x = strs(v, f);
        assert!(x.len() == 1 && !x[0].trim().is_empty(), "{f}: {x:?}");
    }
    assert!(strs(v, "rule.reference")[0].starts_with("https://"));
    assert_eq!(strs(v, "threat.framework"), ["MITRE ATT&CK"]);
    let triples = |group: &str| -> BTreeSet<(String, String, String)> {
        let ids = strs(v, &format!("{group}.id"));
        let names = strs(v, &format!("{group}.name"));
        let refs = strs(v, &format!("{group}.reference"));
        assert!(
            ids.len() == names.len() && ids.len() == refs.len(),
            "{group}: {ids:?} {names:?} {refs:?}"
        );
        (0..ids.len())
            .map(|k| (ids[k].into(), names[k].into(), refs[k].into()))
            .collect()
    };
    let set = |items: &[(&str, &str, &str)]| -> BTreeSet<(String, String, String)> {
        items
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    };
    // From the v313 rule file (id, name and reference aligned index by index).
    assert_eq!(
        triples("threat.tactic"),
        set(&[
            (
                "TA0003",
                "Persistence",
                "https://attack.mitre.org/tactics/TA0003/"
            ),
            (
                "TA0002",
                "Execution",
                "https://attack.mitre.org/tactics/TA0002/"
            ),
        ])
    );
    assert_eq!(
        triples("threat.technique"),
        set(&[
            (
                "T1543",
                "Create or Modify System Process",
                "https://attack.mitre.org/techniques/T1543/"
            ),
            (
                "T1059",
                "Command and Scripting Interpreter",
                "https://attack.mitre.org/techniques/T1059/"
            ),
        ])
    );
    assert_eq!(
        triples("threat.technique.subtechnique"),
        set(&[
            (
                "T1543.003",
                "Windows Service",
                "https://attack.mitre.org/techniques/T1543/003/"
            ),
            (
                "T1059.001",
                "PowerShell",
                "https://attack.mitre.org/techniques/T1059/001/"
            ),
            (
                "T1059.003",
                "Windows Command Shell",
                "https://attack.mitre.org/techniques/T1059/003/"
            ),
        ])
    );
    // v313, not the latest revision: no T1569 System Services.
    assert!(!v.to_string().contains("T1569"), "{v}");
}

#[test]
fn fields_of_rule_v313_on_a_nested_record() {
    let input = rec(EVENT, r#""@timestamp":"2024-05-01T12:00:00Z""#);
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert!(!out.contains("KIND_OLD"), "{out}");
    assert_eq!(strs(&v, "message"), [RULE_NAME]);
    // The rule author is an array (ECS keyword array), as in the rule file.
    assert_eq!(values(&v, "rule.author").len(), 1);
    assert!(
        out.contains(r#""author":["Elastic"]"#) || out.contains(r#""rule.author":["Elastic"]"#),
        "{out}"
    );
    assert_preserved(&input, &out, &[r#""KIND_OLD""#]);
    assert_same_document(&input, &v, false);
}

#[test]
fn nested_event_kind_is_replaced_where_it_stands() {
    let input = rec(EVENT, "");
    let (out, v) = alert(&input);
    assert_eq!(strs(&v, "event.kind"), ["alert"]);
    // The replaced value sits where the old one was: right after its own key, inside `event`.
    assert!(out.contains(r#""kind":"alert""#), "{out}");
    assert_eq!(v["event"]["kind"], json!("alert"), "{out}");
    assert_eq!(v["event"]["severity"], json!(47), "{out}");
    assert_preserved(&input, &out, &[r#""KIND_OLD""#]);
    assert_same_document(&input, &v, false);
}

#[test]
fn dotted_event_kind_key_is_replaced_and_not_duplicated() {
    let input = rec(
        r#""event.kind":"KIND_OLD","event.category":"process","event.type":"start""#,
        "",
    );
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert_eq!(v["event.kind"], json!("alert"), "{out}");
    assert_preserved(&input, &out, &[r#""KIND_OLD""#]);
    assert_same_document(&input, &v, false);
}

#[test]
fn dotted_and_nested_event_kind_are_both_replaced() {
    let input = rec(
        r#""event":{"kind":"KIND_A","type":"start"},"event.kind":"KIND_B","event.category":"process""#,
        "",
    );
    let (out, v) = alert(&input);
    assert_eq!(strs(&v, "event.kind"), ["alert", "alert"], "{out}");
    assert_alert_fields_except_kind(&v);
    assert_preserved(&input, &out, &[r#""KIND_A""#, r#""KIND_B""#]);
    assert_same_document(&input, &v, false);
}

fn assert_alert_fields_except_kind(v: &Value) {
    let mut w = v.clone();
    strip(&mut w, &["event", "kind"]);
    w["event.kind"] = json!("alert");
    assert_alert_fields(&w);
}

#[test]
fn event_kind_of_any_type_is_replaced() {
    for old in [
        r#"["KIND_OLD","x"]"#,
        r#"{"KIND_OLD":1}"#,
        "null",
        "5",
        "true",
        "[]",
        "{}",
    ] {
        let event = format!(r#""event":{{"category":"process","kind":{old},"type":"start"}}"#);
        let input = rec(&event, "");
        let (out, v) = alert(&input);
        assert_alert_fields(&v);
        assert_preserved(&input, &out, &[old]);
        assert_same_document(&input, &v, false);
    }
}

#[test]
fn event_fields_are_added_to_an_event_object_without_kind() {
    let input = rec(r#""event":{"category":"process","type":"start"}"#, "");
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    // Into the existing object: one `event` key at the top level.
    assert_eq!(v["event"]["kind"], json!("alert"), "{out}");
    assert_eq!(v["event"]["category"], json!("process"), "{out}");
    assert_preserved(&input, &out, &[]);
    assert_same_document(&input, &v, false);
}

#[test]
fn existing_severity_and_risk_score_become_integers() {
    let input = rec(
        r#""event":{"category":"process","type":"start","severity":"high","risk_score":"99.5"}"#,
        "",
    );
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert_preserved(&input, &out, &[r#""high""#, r#""99.5""#]);
    assert_same_document(&input, &v, false);
}

#[test]
fn record_with_event_as_dotted_keys_only() {
    let input = rec(r#""event.category":"process","event.type":"start""#, "");
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert_eq!(v["event.category"], json!("process"));
    assert_preserved(&input, &out, &[]);
    assert_same_document(&input, &v, false);
}

#[test]
fn empty_event_object_gets_the_fields_without_a_stray_comma() {
    for empty in ["{}", "{ }", "{\n}", "{\r\n\t}"] {
        let event = format!(r#""event":{empty},"event.category":"process","event.type":"start""#);
        let input = rec(&event, "");
        let (out, v) = alert(&input);
        assert_alert_fields(&v);
        assert_preserved(&input, &out, &[]);
        assert_same_document(&input, &v, false);
    }
}

#[test]
fn event_as_an_array_of_objects() {
    let input = rec(
        r#""event":[{"category":"process","kind":"KIND_OLD"},{"type":"start"}]"#,
        "",
    );
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert_preserved(&input, &out, &[r#""KIND_OLD""#]);
    assert_same_document(&input, &v, false);
}

#[test]
fn escaped_event_key_is_the_event_object() {
    // `ev\u0065nt` is `event`: writing a second `event` key beside it would be a duplicate key.
    let input = rec(
        r#""ev\u0065nt":{"category":"process","type":"start","\u006bind":"KIND_OLD"}"#,
        "",
    );
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert_preserved(&input, &out, &[r#""KIND_OLD""#]);
    assert_same_document(&input, &v, false);
}

#[test]
fn escaped_dotted_event_kind_key_is_replaced() {
    // `event\u002ekind` is the dotted key `event.kind`: the writer must replace it, not add a second kind.
    let input = rec(
        r#""event\u002ekind":"KIND_OLD","event":{"category":"process","type":"start"}"#,
        "",
    );
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert_preserved(&input, &out, &[r#""KIND_OLD""#]);
    assert_same_document(&input, &v, false);
}

#[test]
fn threat_with_dotted_inner_keys() {
    for threat in [
        r#""threat":{"technique.subtechnique":{"x":1}}"#,
        r#""threat.technique":{"id":"T_OLD"}"#,
        r#""threat":{"tactic":"TA_OLD"}"#,
        r#""threat":{"technique":{"subtechnique":[{"id":"S_OLD"}]}}"#,
    ] {
        let input = rec(EVENT, threat);
        let (out, v) = alert(&input);
        let set = |f: &str| strs(&v, f).into_iter().collect::<BTreeSet<&str>>();
        assert!(
            set("threat.tactic.id").is_superset(&["TA0003", "TA0002"].into()),
            "{out}"
        );
        assert!(
            set("threat.technique.id") == ["T1543", "T1059"].into(),
            "{out}"
        );
        assert!(
            set("threat.technique.subtechnique.id")
                == ["T1543.003", "T1059.001", "T1059.003"].into(),
            "{out}"
        );
        assert_same_document(&input, &v, false);
    }
}

#[test]
fn message_is_added_only_when_absent() {
    let input = rec(EVENT, "");
    let (_, v) = alert(&input);
    assert_eq!(strs(&v, "message"), [RULE_NAME]);

    let input = rec(EVENT, r#""message":"MSG_ORIG \"quoted\" \u00e4""#);
    let (out, v) = alert(&input);
    assert_eq!(strs(&v, "message"), ["MSG_ORIG \"quoted\" ä"]);
    assert!(
        out.contains(r#""message":"MSG_ORIG \"quoted\" \u00e4""#),
        "{out}"
    );
    assert_preserved(&input, &out, &[r#""KIND_OLD""#]);
    assert_same_document(&input, &v, true);

    let input = rec(EVENT, r#""message":"""#);
    let (_, v) = alert(&input);
    assert_eq!(strs(&v, "message"), [""]);
}

/// docs/semantics.md §2: "JSON `null` counts as missing"; docs/semantics.md §3: "where a record has no `message`, setting it to the rule
/// name". A record whose `message` is `null` has no message in Elasticsearch (nothing is indexed), so the alert
/// must carry the rule name there (replacing the `null`), not a `null` message External Alerts cannot name.
#[test]
fn null_message_counts_as_absent() {
    let input = rec(EVENT, r#""message":null"#);
    let (out, v) = alert(&input);
    assert_eq!(strs(&v, "message"), [RULE_NAME], "{out}");
    assert_preserved(&input, &out, &[r#""KIND_OLD""#, "null"]);
}

#[test]
fn existing_rule_object_is_updated_in_place() {
    let input = rec(
        EVENT,
        r#""rule":{"name":"RULE_NAME_OLD","id":"RULE_ID_OLD","author":"someone","foo":"bar"}"#,
    );
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert_eq!(strs(&v, "rule.foo"), ["bar"], "{out}");
    assert_eq!(v["rule"]["foo"], json!("bar"), "{out}");
    assert_preserved(
        &input,
        &out,
        &[
            r#""KIND_OLD""#,
            r#""RULE_NAME_OLD""#,
            r#""RULE_ID_OLD""#,
            r#""someone""#,
        ],
    );
    assert_same_document(&input, &v, false);
}

#[test]
fn dotted_rule_keys_are_replaced() {
    let input = rec(
        EVENT,
        r#""rule.name":"RULE_NAME_OLD","rule.version":"1","rule.x":"keep""#,
    );
    let (out, v) = alert(&input);
    assert_alert_fields(&v);
    assert_eq!(strs(&v, "rule.x"), ["keep"]);
    assert_preserved(
        &input,
        &out,
        &[r#""KIND_OLD""#, r#""RULE_NAME_OLD""#, r#""1""#],
    );
    assert_same_document(&input, &v, false);
}

#[test]
fn threat_as_an_array() {
    for threat in [
        r#""threat":[{"framework":"FW_OLD","tactic":{"id":"TA0001","name":"Initial Access"}}]"#,
        r#""threat":[{"indicator":{"type":"file"}}]"#,
        r#""threat":[]"#,
        r#""threat":[{"technique":[{"id":"T1000"}]},{"tactic":{"id":["TA0040"]}}]"#,
    ] {
        let input = rec(EVENT, threat);
        let (out, v) = alert(&input);
        // The values of each threat field are exactly the rule's: nothing stale is left.
        assert_alert_fields_as_sets(&v, &out);
        assert_same_document(&input, &v, false);
    }
}

#[test]
fn threat_object_with_other_members() {
    let input = rec(
        EVENT,
        r#""threat":{"indicator":{"type":"ipv4-addr"},"technique":{"subtechnique":{"id":"T0000.000"}}}"#,
    );
    let (out, v) = alert(&input);
    assert_alert_fields_as_sets(&v, &out);
    assert_eq!(strs(&v, "threat.indicator.type"), ["ipv4-addr"]);
    assert_preserved(&input, &out, &[r#""KIND_OLD""#, r#""T0000.000""#]);
    assert_same_document(&input, &v, false);
}

/// Like [`assert_alert_fields`] for threat fields, but as sets of values (a field replaced in several array
/// elements repeats its values).
fn assert_alert_fields_as_sets(v: &Value, out: &str) {
    let set = |f: &str| strs(v, f).into_iter().collect::<BTreeSet<&str>>();
    let want = |items: &[&'static str]| items.iter().copied().collect::<BTreeSet<&str>>();
    assert_eq!(set("threat.framework"), want(&["MITRE ATT&CK"]), "{out}");
    assert_eq!(
        set("threat.tactic.id"),
        want(&["TA0003", "TA0002"]),
        "{out}"
    );
    assert_eq!(
        set("threat.tactic.name"),
        want(&["Persistence", "Execution"]),
        "{out}"
    );
    assert_eq!(
        set("threat.technique.id"),
        want(&["T1543", "T1059"]),
        "{out}"
    );
    assert_eq!(
        set("threat.technique.subtechnique.id"),
        want(&["T1543.003", "T1059.001", "T1059.003"]),
        "{out}"
    );
    assert_eq!(
        set("threat.technique.subtechnique.name"),
        want(&["Windows Service", "PowerShell", "Windows Command Shell"]),
        "{out}"
    );
    assert_eq!(strs(v, "event.kind"), ["alert"], "{out}");
    assert_eq!(strs(v, "rule.id"), [RULE_ID], "{out}");
}

#[test]
fn pretty_printed_and_padded_input() {
    let compact = rec(
        EVENT,
        r#""@timestamp":"2024-05-01T12:00:00Z","message":"m","labels":{"a":[1,{"b":null}]}"#,
    );
    let value: Value = serde_json::from_str(&compact).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    for input in [
        pretty.clone(),
        pretty.replace('\n', "\r\n"),
        pretty.replace("  ", "\t"),
        format!(" \n\t{compact}\r\n "),
        compact.replace(':', " : ").replace(',', " ,\n "),
    ] {
        let (out, v) = alert(&input);
        assert_alert_fields(&v);
        assert_eq!(strs(&v, "message"), ["m"]);
        assert_preserved(&input, &out, &[r#""KIND_OLD""#]);
        assert_same_document(&input, &v, true);
        // The padding around the record is kept as it was.
        let lead = input.len() - input.trim_start().len();
        let trail = input.len() - input.trim_end().len();
        assert_eq!(out[..lead], input[..lead]);
        assert_eq!(out[out.len() - trail..], input[input.len() - trail..]);
    }
}

#[test]
fn mixed_spellings_and_other_top_level_keys_survive() {
    let input = r#"{"process.parent":{"name":"SERVICES.EXE"},"event":{"type":["start"]},"host.os":{"type":"windows"},"process":{"name":"PWSH.EXE","pid":77},"event.category":["process"],"@timestamp":"2024-05-01T12:00:00Z","observer":{"vendor":"x","nested":{"deep":[1,2,{"a":"b"}]}},"tags":["a","b"],"n":-1.5e3,"t":true,"z":null}"#;
    let (out, v) = alert(input);
    assert_alert_fields(&v);
    let before: Value = serde_json::from_str(input).unwrap();
    for k in [
        "process.parent",
        "host.os",
        "process",
        "event.category",
        "@timestamp",
        "observer",
        "tags",
        "n",
        "t",
        "z",
    ] {
        assert_eq!(v.get(k), before.get(k), "{k}: {out}");
    }
    // Numbers keep their spelling: the bytes are the input's.
    assert!(out.contains("\"n\":-1.5e3"), "{out}");
    assert_preserved(input, &out, &[]);
    assert_same_document(input, &v, false);
}

#[test]
fn a_record_that_does_not_match_passes_unchanged() {
    let f = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    let input = rec(EVENT, "").replace("services.exe", "svchost.exe");
    assert_eq!(f.process(input.as_bytes()).action, Action::Pass);
}

#[test]
fn duplicate_key_checker_works() {
    assert_eq!(duplicate_key(br#"{"a":1,"a":2}"#), Some("a".into()));
    assert_eq!(
        duplicate_key(br#"{"x":[{"a":1,"\u0061":2}]}"#),
        Some("a".into())
    );
    assert_eq!(duplicate_key(br#"{"a":{"a":{"a":1}},"a.a":2}"#), None);
    assert_eq!(
        duplicate_key(br#" { "a" : [ 1 , "}" , { } ] , "b" : "\"" } "#),
        None
    );
}
