//! Byte preservation of an alert, checked by aligning the output to the input (shared by the fuzz targets and,
//! through `#[path]`, by `tests/byte_preservation.rs`; needs only `serde_json`).
//!
//! [`check`] walks the input record and the alert text side by side and accepts the output only when it is the
//! input with nothing but these splices:
//! - the value of an alert field the record already has (reached through objects only, under a nested, dotted
//!   or mixed spelling of its path) replaced by the field's JSON (`message`: only a `null` one);
//! - right after the `{` of an object reached through objects only, members inserted: alert fields (or objects
//!   grouping them) whose paths continue the object's path, followed by a `,` exactly when the object already
//!   had members. An inserted key never repeats a key of that object, goes into an existing object of its
//!   path rather than beside it, and is a dotted key only where the object holds a non-object under its first
//!   segment.
//!
//! Every other byte (whitespace, number and string spellings, escapes, key order) must be the input's, in
//! order. Afterwards every alert field must be present: written once where the record lacked it, and with
//! the field's value at every place the record had it. It knows nothing of how the library finds these
//! places: it reads both texts with its own small JSON walker.

use std::collections::BTreeSet;

/// One alert field: dotted path, its value as compact JSON, and whether it is only written when the record
/// has no (non-null) value there.
#[derive(Debug, Clone)]
pub struct Field {
    pub path: String,
    pub json: Vec<u8>,
    pub only_if_absent: bool,
}

/// Why an output is not the input plus the alert fields; `at` is the offset in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub at: usize,
    pub what: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "output offset {}: {}", self.at, self.what)
    }
}

type R<T> = Result<T, Mismatch>;

fn ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// End of the JSON string starting at `i` (a `"`), or `None`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut k = i + 1;
    while k < b.len() {
        match b[k] {
            b'"' => return Some(k + 1),
            b'\\' => k += 2,
            _ => k += 1,
        }
    }
    None
}

/// End of the JSON value starting at `i` (no leading whitespace), or `None`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        open @ (b'{' | b'[') => {
            let close = if open == b'{' { b'}' } else { b']' };
            let mut k = i + 1;
            loop {
                while k < b.len() && (ws(b[k]) || b[k] == b',' || b[k] == b':') {
                    k += 1;
                }
                match b.get(k)? {
                    c if *c == close => return Some(k + 1),
                    b'}' | b']' => return None,
                    _ => k = value_end(b, k)?,
                }
            }
        }
        _ => {
            let n = b[i..]
                .iter()
                .take_while(|c| !ws(**c) && !b",:]}[{\"".contains(c))
                .count();
            (n > 0).then_some(i + n)
        }
    }
}

/// The decoded key of the string at `b[i..j]`.
fn key_text(b: &[u8], i: usize, j: usize) -> Option<String> {
    serde_json::from_slice::<String>(&b[i..j]).ok()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

struct Walk<'a> {
    input: &'a [u8],
    output: &'a [u8],
    i: usize,
    j: usize,
    fields: &'a [Field],
    /// The record has a non-null `message` at its top level.
    has_message: bool,
    /// Per field: places the record had it (replaced or kept), and inserts.
    had: Vec<usize>,
    inserted: Vec<usize>,
}

impl Walk<'_> {
    fn fail<T>(&self, what: impl Into<String>) -> R<T> {
        Err(Mismatch {
            at: self.j,
            what: what.into(),
        })
    }

    /// The next `n` bytes are the same on both sides.
    fn same(&mut self, n: usize, what: &str) -> R<()> {
        let (a, b) = (
            self.input.get(self.i..self.i + n),
            self.output.get(self.j..self.j + n),
        );
        if a.is_none() || a != b {
            return self.fail(format!("{what} differs from the input's"));
        }
        self.i += n;
        self.j += n;
        Ok(())
    }

    fn same_ws(&mut self) -> R<()> {
        let n = self.input[self.i..].iter().take_while(|c| ws(**c)).count();
        self.same(n, "whitespace")
    }

    fn field(&self, path: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.path == path)
    }

    /// A proper prefix of some field's path (an object that groups fields).
    fn groups(&self, path: &str) -> bool {
        self.fields.iter().any(|f| {
            f.path.len() > path.len()
                && f.path.starts_with(path)
                && f.path.as_bytes()[path.len()] == b'.'
        })
    }

    /// One value on each side; `path` is `None` below an array (not a record field).
    fn value(&mut self, path: Option<&str>, depth: usize) -> R<()> {
        if depth > 200 {
            return self.fail("too deep");
        }
        let Some(ie) = value_end(self.input, self.i) else {
            return self.fail("input value unreadable (the input must be valid JSON)");
        };
        if let Some(f) = path.and_then(|p| self.field(p)) {
            let Some(oe) = value_end(self.output, self.j) else {
                return self.fail(format!("unreadable value for {}", self.fields[f].path));
            };
            let old = &self.input[self.i..ie];
            let new = &self.output[self.j..oe];
            let field = &self.fields[f];
            let want: &[u8] = if field.only_if_absent && self.has_message {
                old
            } else {
                &field.json
            };
            if new != want {
                return self.fail(format!(
                    "{}: {} where {} was expected",
                    field.path,
                    String::from_utf8_lossy(new),
                    String::from_utf8_lossy(want)
                ));
            }
            self.had[f] += 1;
            self.i = ie;
            self.j = oe;
            return Ok(());
        }
        match self.input[self.i] {
            b'{' => {
                self.same(1, "{")?;
                self.object(path, depth)
            }
            b'[' => {
                self.same(1, "[")?;
                self.same_ws()?;
                if self.input[self.i] == b']' {
                    return self.same(1, "]");
                }
                loop {
                    self.value(None, depth + 1)?;
                    self.same_ws()?;
                    let c = self.input[self.i];
                    self.same(1, "array punctuation")?;
                    if c == b']' {
                        return Ok(());
                    }
                    self.same_ws()?;
                }
            }
            _ => self.same(ie - self.i, "a string, number or literal"),
        }
    }

    /// After the `{` of an object on both sides.
    fn object(&mut self, path: Option<&str>, depth: usize) -> R<()> {
        let inserts = self.inserted_members(path, depth)?;
        // The object's own members, as the input has them: (key, value is an object).
        let mut keys: Vec<(String, bool)> = Vec::new();
        self.same_ws()?;
        if self.input[self.i] != b'}' {
            loop {
                let Some(ke) = string_end(self.input, self.i) else {
                    return self.fail("input key unreadable");
                };
                let Some(key) = key_text(self.input, self.i, ke) else {
                    return self.fail("input key undecodable");
                };
                self.same(ke - self.i, "a key")?;
                self.same_ws()?;
                self.same(1, ":")?;
                self.same_ws()?;
                keys.push((key.clone(), self.input[self.i] == b'{'));
                let child = path.map(|p| join(p, &key));
                self.value(child.as_deref(), depth + 1)?;
                self.same_ws()?;
                let c = self.input[self.i];
                self.same(1, "object punctuation")?;
                if c == b'}' {
                    break;
                }
                self.same_ws()?;
            }
        } else {
            self.same(1, "}")?;
        }
        for (k, is_group) in inserts {
            let first = k.split('.').next().unwrap_or(&k);
            let existing = keys.iter().find(|(key, _)| key == first);
            if keys.iter().any(|(key, _)| *key == k) {
                return self.fail(format!("inserted key {k:?} repeats a key of its object"));
            }
            if k.contains('.') && !is_group {
                // A dotted key only where the object holds a non-object under its first segment.
                if !matches!(existing, Some((_, false))) {
                    return self.fail(format!(
                        "dotted key {k:?} inserted without a non-object {first:?} beside it"
                    ));
                }
            } else if existing.is_some_and(|(_, obj)| *obj) {
                return self.fail(format!(
                    "{k:?} inserted beside the existing object {first:?}"
                ));
            }
        }
        Ok(())
    }

    /// Members inserted right after an object's `{`: returns their keys (and whether each is a group).
    fn inserted_members(&mut self, path: Option<&str>, depth: usize) -> R<Vec<(String, bool)>> {
        // An insert starts with a key the input does not have here: the input continues with whitespace, `}`,
        // or a different key.
        let next_in = self.input[self.i..]
            .iter()
            .position(|c| !ws(*c))
            .map(|k| self.i + k);
        let input_key = string_end(self.input, self.i).map(|e| &self.input[self.i..e]);
        let output_key = string_end(self.output, self.j).map(|e| &self.output[self.j..e]);
        if output_key.is_none() || output_key == input_key {
            return Ok(Vec::new());
        }
        let Some(path) = path else {
            return self.fail("members inserted into an object inside an array");
        };
        let (keys, end) = self.members(path, self.j, depth)?;
        self.j = end;
        let input_empty = next_in.is_none_or(|k| self.input[k] == b'}');
        if input_empty {
            if self.output.get(self.j) == Some(&b',') {
                return self.fail("a comma after members inserted into an empty object");
            }
        } else {
            if self.output.get(self.j) != Some(&b',') {
                return self.fail("no comma between inserted and existing members");
            }
            self.j += 1;
        }
        Ok(keys)
    }

    /// Inserted members from output offset `j` (compact: no whitespace): alert fields below `path` or objects
    /// grouping them, one or more, separated by commas. Stops before a `,` that is not followed by another
    /// inserted member, or before `}`.
    fn members(
        &mut self,
        path: &str,
        mut j: usize,
        depth: usize,
    ) -> R<(Vec<(String, bool)>, usize)> {
        let mut keys = Vec::new();
        loop {
            let at = j;
            let fail = |what: String| Err(Mismatch { at, what });
            let Some(ke) = string_end(self.output, j) else {
                return fail("inserted key unreadable".into());
            };
            let Some(key) = key_text(self.output, j, ke) else {
                return fail("inserted key undecodable".into());
            };
            if self.output.get(ke) != Some(&b':') {
                return fail("inserted member without `:` (or with whitespace)".into());
            }
            let full = join(path, &key);
            let v = ke + 1;
            if let Some(f) = self.field(&full) {
                let field = &self.fields[f];
                let want = &field.json;
                if self.output.get(v..v + want.len()) != Some(want.as_slice()) {
                    return fail(format!(
                        "inserted {full} does not hold {}",
                        String::from_utf8_lossy(want)
                    ));
                }
                if field.only_if_absent && self.has_message {
                    return fail(format!("{full} inserted although the record has one"));
                }
                self.inserted[f] += 1;
                keys.push((key, false));
                j = v + want.len();
            } else if self.groups(&full) && self.output.get(v) == Some(&b'{') && depth < 200 {
                let (inner, end) = self.members(&full, v + 1, depth + 1)?;
                if self.output.get(end) != Some(&b'}') {
                    return fail(format!("inserted group {full} not closed"));
                }
                let mut seen = BTreeSet::new();
                if !inner.iter().all(|(k, _)| seen.insert(k.clone())) {
                    return fail(format!("inserted group {full} repeats a key"));
                }
                keys.push((key, true));
                j = end + 1;
            } else {
                return fail(format!("inserted member {full:?} is not an alert field"));
            }
            // Another inserted member follows only after a comma, with a key the input does not have next.
            if self.output.get(j) != Some(&b',') {
                return Ok((keys, j));
            }
            let next = string_end(self.output, j + 1).map(|e| &self.output[j + 1..e]);
            let input_key = string_end(self.input, self.i).map(|e| &self.input[self.i..e]);
            if next.is_none() || next == input_key {
                return Ok((keys, j));
            }
            j += 1;
        }
    }
}

/// Checks that `output` is `input` (a JSON object text) with only the alert's splices (see the module docs).
pub fn check(input: &[u8], output: &[u8], fields: &[Field]) -> Result<(), Mismatch> {
    let has_message = serde_json::from_slice::<serde_json::Value>(input)
        .ok()
        .and_then(|v| v.get("message").map(|m| !m.is_null()))
        .unwrap_or(false);
    let mut w = Walk {
        input,
        output,
        i: 0,
        j: 0,
        fields,
        has_message,
        had: vec![0; fields.len()],
        inserted: vec![0; fields.len()],
    };
    w.same_ws()?;
    if w.input.get(w.i) != Some(&b'{') {
        return w.fail("the input is not an object");
    }
    w.value(Some(""), 0)?;
    w.same_ws()?;
    if w.i != input.len() || w.j != output.len() {
        return w.fail("trailing bytes differ");
    }
    for (k, f) in fields.iter().enumerate() {
        let (had, ins) = (w.had[k], w.inserted[k]);
        let ok = if f.only_if_absent && has_message {
            ins == 0
        } else {
            (had > 0 && ins == 0) || (had == 0 && ins == 1)
        };
        if !ok {
            return Err(Mismatch {
                at: output.len(),
                what: format!(
                    "{}: present in the record {had} times, inserted {ins} times",
                    f.path
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field> {
        [
            ("event.kind", "\"alert\"", false),
            ("event.severity", "47", false),
            ("rule.id", "\"R\"", false),
            ("threat.tactic.id", "[\"TA0003\"]", false),
            ("message", "\"M\"", true),
        ]
        .iter()
        .map(|(p, j, o)| Field {
            path: p.to_string(),
            json: j.as_bytes().to_vec(),
            only_if_absent: *o,
        })
        .collect()
    }

    fn ok(i: &str, o: &str) {
        if let Err(e) = check(i.as_bytes(), o.as_bytes(), &fields()) {
            panic!("rejected {o} for {i}: {e}");
        }
    }

    fn bad(i: &str, o: &str) {
        assert!(
            check(i.as_bytes(), o.as_bytes(), &fields()).is_err(),
            "accepted {o} for {i}"
        );
    }

    const ALL: &str = r#""event":{"kind":"alert","severity":47},"rule":{"id":"R"},"threat":{"tactic":{"id":["TA0003"]}},"message":"M""#;

    #[test]
    fn accepts_the_splices() {
        ok("{}", &format!("{{{ALL}}}"));
        ok(" { } ", &format!(" {{{ALL} }} "));
        ok(r#"{ "a" : 1e2 }"#, &format!(r#"{{{ALL}, "a" : 1e2 }}"#));
        ok(
            r#"{"event":{ "kind":"x" },"a":-0}"#,
            r#"{"rule":{"id":"R"},"threat":{"tactic":{"id":["TA0003"]}},"message":"M","event":{"severity":47, "kind":"alert" },"a":-0}"#,
        );
        // Dotted and escaped spellings of present fields, a kept message.
        ok(
            r#"{"event\u002ekind":[1],"rule.id":null,"message":"hi","event":{},"threat":{"tactic":{"id":"q"}}}"#,
            r#"{"event\u002ekind":"alert","rule.id":"R","message":"hi","event":{"severity":47},"threat":{"tactic":{"id":["TA0003"]}}}"#,
        );
        // A non-object under `event` forces a dotted key; an array is not a path.
        ok(
            r#"{"event":[{"kind":1}],"message":null,"rule":{"id":"R"},"threat.tactic":{"id":"x"}}"#,
            r#"{"event.kind":"alert","event.severity":47,"event":[{"kind":1}],"message":"M","rule":{"id":"R"},"threat.tactic":{"id":["TA0003"]}}"#,
        );
    }

    #[test]
    fn rejects_anything_else() {
        let base = format!("{{{ALL},\"a\":1.0}}");
        ok(r#"{"a":1.0}"#, &base);
        bad(r#"{"a":1.0}"#, &format!("{{{ALL},\"a\":1}}")); // a respelled number
        bad(r#"{"a":1.0}"#, &format!("{{{ALL}, \"a\":1.0}}")); // a space added
        bad(r#"{"a": 1.0}"#, &base); // a space lost
        bad(r#"{"a":"\u0063"}"#, &format!("{{{ALL},\"a\":\"c\"}}")); // an escape decoded
        bad(r#"{"a":1.0,"b":2}"#, &base); // a member lost
        bad(
            r#"{"b":2,"a":1.0}"#,
            &format!("{{{ALL},\"a\":1.0,\"b\":2}}"),
        ); // reordered
        bad(r#"{"a":1.0}"#, &format!("{{{ALL}\"a\":1.0}}")); // no comma
        bad("{}", &format!("{{{ALL},}}")); // a comma in an empty object
        bad("{}", &format!("{{{ALL},\"x\":1}}")); // a member that is not an alert field
        bad("{}", &ALL.replace("47", "\"47\"")); // a wrong value
        bad(
            "{}",
            r#"{"event":{"kind":"alert"},"rule":{"id":"R"},"threat":{"tactic":{"id":["TA0003"]}},"message":"M"}"#,
        ); // a field missing
        bad(
            r#"{"event":{"a":1}}"#,
            &format!("{{{ALL},\"event\":{{\"a\":1}}}}"),
        ); // beside the existing object
        bad(
            r#"{"event":{}}"#,
            r#"{"event.kind":"alert","event.severity":47,"rule":{"id":"R"},"threat":{"tactic":{"id":["TA0003"]}},"message":"M","event":{}}"#,
        );
        bad(r#"{"message":"hi"}"#, &format!("{{{ALL}}}")); // message replaced
        bad(
            r#"{"event":{"kind":"x"}}"#,
            r#"{"rule":{"id":"R"},"threat":{"tactic":{"id":["TA0003"]}},"message":"M","event":{"severity":47,"kind":"x"}}"#,
        );
        bad(
            r#"{"event":{"kind":"x"}}"#,
            r#"{"rule":{"id":"R"},"threat":{"tactic":{"id":["TA0003"]}},"message":"M","event":{"kind":"alert","severity":47,"kind":"alert"}}"#,
        ); // a key written twice
        bad(r#"{"a":1.0}"#, &format!("{base} ")); // trailing bytes
        bad(
            r#"{"a":[{"b":1}]}"#,
            &format!("{{{ALL},\"a\":[{{\"message\":\"M\",\"b\":1}}]}}"),
        );
    }
}
