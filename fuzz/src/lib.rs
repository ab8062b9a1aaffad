//! Shared pieces of the fuzz targets (and of `tests/differential.rs`, which includes this file): an
//! independent reference for the rule (docs/semantics.md §1, ECS fields only) over a `serde_json::Value`, duplicate-key
//! detection (serde_json keeps the last value of a duplicated key, the
//! scanner sees every value: docs/semantics.md §2 leaves the choice free, so such records are not compared), and the
//! filter configurations the targets share; [`align`] checks an alert's bytes against its input.

use serde_json::Value;

pub mod align;

/// The input as serde_json reads it, when that is an object.
pub fn parse_object(data: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(data)
        .ok()
        .filter(Value::is_object)
}

/// True when an object of `data` (valid JSON) holds the same decoded key twice (the library's detector).
pub fn has_duplicate_keys(data: &[u8]) -> bool {
    svcshell_cli::fuzz::has_duplicate_keys(data)
}

/// Every leaf value at dotted `path`: keys are split at their dots (so `{"a.b":x}`, `{"a":{"b":x}}` and
/// mixtures reach `a.b`); arrays on the way and at the end are flattened.
fn values_at<'a>(v: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|e| values_at(e, path, out)),
        Value::Object(m) => {
            for (k, child) in m {
                let segs: Vec<&str> = k.split('.').collect();
                if segs.len() > path.len() || segs[..] != path[..segs.len()] {
                    continue;
                }
                if segs.len() == path.len() {
                    flatten(child, out);
                } else {
                    values_at(child, &path[segs.len()..], out);
                }
            }
        }
        _ => {}
    }
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|e| flatten(e, out)),
        other => out.push(other),
    }
}

/// Every leaf value at `dotted` (see `values_at`).
pub fn leaf_values<'a>(v: &'a Value, dotted: &str) -> Vec<&'a Value> {
    let path: Vec<&str> = dotted.split('.').collect();
    let mut out = Vec::new();
    values_at(v, &path, &mut out);
    out
}

/// The string values at `dotted` (numbers, booleans, `null`, objects are not keyword values).
pub fn strings<'a>(v: &'a Value, dotted: &str) -> Vec<&'a str> {
    leaf_values(v, dotted)
        .into_iter()
        .filter_map(Value::as_str)
        .collect()
}

/// Whole-string equality folding ASCII letters only, character by character.
pub fn ascii_ieq(a: &str, b: &str) -> bool {
    let fold = |c: char| {
        if c.is_ascii_uppercase() {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| fold(x) == fold(y))
}

/// docs/semantics.md §1 on the ECS fields of an object, by hand.
pub fn reference_ecs(v: &Value) -> bool {
    let any = |field: &str, pred: &dyn Fn(&str) -> bool| strings(v, field).into_iter().any(pred);
    v.is_object()
        && any("event.category", &|s| s == "process")
        && any("host.os.type", &|s| s == "windows")
        && any("event.type", &|s| s == "start")
        && any("process.parent.name", &|s| ascii_ieq(s, "services.exe"))
        && any("process.name", &|s| {
            [
                "cmd.exe",
                "powershell.exe",
                "pwsh.exe",
                "powershell_ise.exe",
            ]
            .iter()
            .any(|n| ascii_ieq(s, n))
        })
        && !any("process.args", &|s| {
            ascii_ieq(s, "NVDisplay.ContainerLocalSystem")
        })
}

/// The alert fields a filter writes, for [`align::check`].
pub fn alert_fields(f: &svcshell::Filter) -> Vec<align::Field> {
    f.alert_spec()
        .leaves
        .iter()
        .map(|l| align::Field {
            path: l.path.clone(),
            json: l.json.clone(),
            only_if_absent: l.only_if_absent,
        })
        .collect()
}

/// Panics unless `alert` is `input` with only the alert's splices (for inputs serde_json reads as an object
/// without duplicate keys).
pub fn assert_aligned(input: &[u8], alert: &[u8], fields: &[align::Field]) {
    if let Err(e) = align::check(input, alert, fields) {
        panic!(
            "alert is not its input plus the alert fields: {e}\ninput:  {}\noutput: {}",
            String::from_utf8_lossy(input),
            String::from_utf8_lossy(alert)
        );
    }
}

/// What serde_json makes of a record, as far as the verdict is concerned.
pub enum Serde {
    /// Not JSON, or not an object: must pass unchanged (never alert).
    Rejected,
    /// An object with a duplicated key: not compared (any consistent choice is fine, docs/semantics.md §2).
    Duplicates,
    /// An object: the verdicts must agree.
    Object(Value),
}

pub fn serde_view(data: &[u8]) -> Serde {
    match parse_object(data) {
        None => Serde::Rejected,
        Some(_) if has_duplicate_keys(data) => Serde::Duplicates,
        Some(v) => Serde::Object(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates() {
        assert!(has_duplicate_keys(br#"{"a":1,"a":2}"#));
        assert!(has_duplicate_keys(br#"{"x":[{"a":1,"\u0061":2}]}"#));
        assert!(!has_duplicate_keys(br#"{"a":{"a":1}}"#));
    }

    #[test]
    fn fold() {
        assert!(ascii_ieq("SERVICES.exe", "services.exe"));
        assert!(!ascii_ieq("\u{17f}ervices.exe", "services.exe"));
    }
}
