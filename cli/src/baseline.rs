//! The serde_json baseline: a record parsed into a `serde_json::Value` and read the plain way, for
//! `svcshell bench` (what the zero-copy scanner saves) and for the tests and fuzz targets that compare the
//! scanner with it.
//!
//! It reads values from the `Value` and hands them to the library's own shape detection, derivations, rule and
//! exceptions ([`Filter::verdict_of`]): so it is a **scanner check**, not an independent oracle. It shows that
//! the scanner finds the values serde_json does; a bug in the rule, a shape or a derivation is in both and
//! agrees with itself. The semantics are checked against a separate reference that shares no code with the
//! library (the repository's `tests/support/`).

use serde_json::Value;
use svcshell::eql::{Document, FieldTable};
use svcshell::source::RawRecord;
use svcshell::{Filter, Verdict};

/// The verdict on a record parsed into a `serde_json::Value` instead of scanned: `None` when serde_json
/// rejects the record or it is not an object, else whether it alerts (rule matched, no exception did; the cap
/// is not applied).
pub fn matches_value(filter: &Filter, record: &[u8]) -> Option<bool> {
    let v: Value = serde_json::from_slice(record).ok()?;
    if !v.is_object() {
        return None;
    }
    let raw = ValueRaw {
        value: &v,
        paths: filter.raw_paths(),
    };
    Some(filter.verdict_of(&raw) == Verdict::Alert)
}

/// A record parsed into a `Value`, as the evaluator reads it: the plain way (the baseline that
/// `svcshell bench` compares against). Dotted and nested keys resolve alike; arrays are any-of.
pub struct ValueDoc<'a> {
    pub value: &'a Value,
    pub fields: &'a FieldTable,
}

/// Calls `f` on every value at dotted `path` under `v` (nested, dotted or mixed keys; arrays flattened).
pub fn value_at<'v>(v: &'v Value, path: &str, f: &mut dyn FnMut(&'v Value) -> bool) -> bool {
    match v {
        Value::Array(a) => a.iter().any(|e| value_at(e, path, f)),
        Value::Object(m) => m.iter().any(|(k, child)| {
            if k == path {
                match child {
                    Value::Array(a) => flatten(a, f),
                    other => f(other),
                }
            } else if path.len() > k.len()
                && path.starts_with(k.as_str())
                && path.as_bytes()[k.len()] == b'.'
            {
                value_at(child, &path[k.len() + 1..], f)
            } else {
                false
            }
        }),
        _ => false,
    }
}

fn flatten<'v>(a: &'v [Value], f: &mut dyn FnMut(&'v Value) -> bool) -> bool {
    a.iter().any(|e| match e {
        Value::Array(inner) => flatten(inner, f),
        other => f(other),
    })
}

impl Document for ValueDoc<'_> {
    fn any_str(&self, field: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let path = &self.fields.names()[field];
        value_at(
            self.value,
            path,
            &mut |v| matches!(v, Value::String(s) if pred(s.as_bytes())),
        )
    }
}

/// A record parsed into a `Value`; `paths` are [`Filter::raw_paths`].
pub struct ValueRaw<'a> {
    pub value: &'a Value,
    pub paths: &'a [String],
}

impl ValueRaw<'_> {
    fn each<'v>(&'v self, slot: usize, f: &mut dyn FnMut(&'v Value) -> bool) -> bool {
        match self.paths.get(slot) {
            Some(p) => value_at(self.value, p, f),
            None => false,
        }
    }
}

impl RawRecord for ValueRaw<'_> {
    fn any_str(&self, slot: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.each(
            slot,
            &mut |v| matches!(v, Value::String(s) if pred(s.as_bytes())),
        )
    }
    fn present(&self, slot: usize) -> bool {
        self.each(slot, &mut |v| {
            matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
        })
    }
    fn has_object(&self, slot: usize) -> bool {
        self.each(slot, &mut |v| v.is_object())
    }
    fn is_id(&self, slot: usize, id: &[u8]) -> bool {
        self.each(slot, &mut |v| match v {
            Value::String(s) => s.as_bytes() == id,
            Value::Number(n) => n.to_string().as_bytes() == id,
            _ => false,
        })
    }
    fn count(&self, slot: usize) -> usize {
        let mut n = 0;
        self.each(slot, &mut |_| {
            n += 1;
            false
        });
        n
    }
    fn nth_str(&self, slot: usize, n: usize) -> Option<&[u8]> {
        let mut k = 0;
        let mut out = None;
        self.each(slot, &mut |v| {
            if k == n {
                out = Some(v);
                return true;
            }
            k += 1;
            false
        });
        match out {
            Some(Value::String(s)) => Some(s.as_bytes()),
            _ => None,
        }
    }
}
