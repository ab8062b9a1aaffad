//! ECS alert fields, and how they are written into a matching record.
//!
//! The output is the input record with edits spliced in; every byte outside an edit is the input's:
//! - a field the record already has (nested, dotted or mixed) gets its value replaced in place
//!   (`event.kind` becomes `"alert"`), except `message`, which is only added when absent;
//! - a missing field is inserted into the deepest object of its path the record already has (`"kind":"alert"`
//!   goes inside an existing `"event":{...}`), as nested objects for the rest of the path, and at the top level
//!   when no part of the path exists. A key is never written twice into one object: where the record holds a
//!   non-object under the next path segment, the rest of the path is written as one dotted key.
//!
//! The edit plan is computed from scanner hits (byte offsets), so JSON ([`splice_json`]) and msgpack share it.

use crate::record::{msgpack, FieldSet, Hit, Hits, Kind};
use crate::rule::{Rule, Technique};

/// One field the alert writes: dotted path and its value as JSON text.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub path: String,
    pub value: serde_json::Value,
    pub json: Vec<u8>,
    /// Only written when the record has no value there (`message`).
    pub only_if_absent: bool,
}

/// The alert fields of the rule and the field set that finds where they go in a record.
#[derive(Debug, Clone)]
pub struct AlertSpec {
    pub leaves: Vec<Leaf>,
    pub fields: FieldSet,
    /// Slot of each leaf in `fields`.
    leaf_slot: Vec<usize>,
    /// Slot of `@timestamp` in `fields` (the record's own time, for the alert cap).
    pub timestamp_slot: usize,
}

/// Where an edit goes, in the record's own byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replace `start..end` with leaf `leaf`'s value.
    Replace { start: u32, end: u32, leaf: usize },
    /// Insert members into the object whose `{` is at `object`; `entries` are (key path, leaf index, dotted):
    /// dotted = write the whole path as one key.
    Insert {
        object: u32,
        entries: Vec<(String, usize, bool)>,
    },
}

impl AlertSpec {
    /// The ECS alert fields of `rule` (docs/semantics.md §3): `event.kind`, `event.severity` (21/47/73/99),
    /// `event.risk_score`, `rule.*` and the flattened `threat.*` lists, then `message` (the rule name, only where
    /// the record has none). A field the rule has no value for (no version, references, author, ruleset or
    /// threat) is not written; a list of one (`rule.reference`, `threat.framework`) is written as a string.
    pub fn for_rule(rule: &Rule) -> AlertSpec {
        use serde_json::{json, Value};
        let one_or_many = |v: &[String]| -> Option<Value> {
            match v {
                [] => None,
                [one] => Some(json!(one)),
                many => Some(json!(many)),
            }
        };
        let text = |s: &str| (!s.is_empty()).then(|| json!(s));
        let fields: [(&str, Option<Value>); 14] = [
            ("event.kind", Some(json!("alert"))),
            ("event.severity", Some(json!(rule.severity_number()))),
            ("event.risk_score", Some(json!(rule.risk_score))),
            ("rule.id", Some(json!(rule.rule_id))),
            ("rule.uuid", Some(json!(rule.rule_id))),
            ("rule.name", Some(json!(rule.name))),
            ("rule.version", rule.version.as_ref().map(|v| json!(v))),
            (
                "rule.author",
                (!rule.author.is_empty()).then(|| json!(rule.author)),
            ),
            ("rule.license", text(&rule.license)),
            ("rule.ruleset", rule.ruleset.as_ref().map(|v| json!(v))),
            ("rule.category", rule.category.as_ref().map(|v| json!(v))),
            ("rule.reference", one_or_many(&rule.references)),
            ("rule.description", text(&rule.description)),
            ("threat.framework", one_or_many(&rule.frameworks)),
        ];
        let mut leaves: Vec<(String, Value, bool)> = fields
            .into_iter()
            .filter_map(|(p, v)| Some((p.to_string(), v?, false)))
            .collect();
        for (group, list) in [
            ("threat.tactic", &rule.tactics),
            ("threat.technique", &rule.techniques),
            ("threat.technique.subtechnique", &rule.subtechniques),
        ] {
            if list.is_empty() {
                continue;
            }
            let column = |f: fn(&Technique) -> &String| -> Value {
                list.iter().map(|t| f(t).clone()).collect::<Vec<_>>().into()
            };
            leaves.push((format!("{group}.id"), column(|t| &t.id), false));
            leaves.push((format!("{group}.name"), column(|t| &t.name), false));
            leaves.push((
                format!("{group}.reference"),
                column(|t| &t.reference),
                false,
            ));
        }
        leaves.push(("message".to_string(), json!(rule.name), true));
        let leaves: Vec<Leaf> = leaves
            .into_iter()
            .map(|(path, v, only_if_absent)| Leaf {
                json: serde_json::to_vec(&v).expect("JSON of strings and numbers"),
                path,
                value: v,
                only_if_absent,
            })
            .collect();
        AlertSpec::new(leaves)
    }

    fn new(leaves: Vec<Leaf>) -> AlertSpec {
        // Every leaf and every proper prefix of one is a wanted path.
        let mut paths: Vec<String> = Vec::new();
        let add = |p: &str, paths: &mut Vec<String>| {
            if !paths.iter().any(|q| q == p) {
                paths.push(p.to_string());
            }
        };
        for l in &leaves {
            for (i, c) in l.path.char_indices() {
                if c == '.' {
                    add(&l.path[..i], &mut paths);
                }
            }
            add(&l.path, &mut paths);
        }
        add("@timestamp", &mut paths);
        let fields = FieldSet::new(&paths).expect("alert paths are valid");
        let leaf_slot = leaves
            .iter()
            .map(|l| fields.slot(&l.path).expect("leaf is in the set"))
            .collect();
        let timestamp_slot = fields.slot("@timestamp").expect("in the set");
        AlertSpec {
            leaves,
            fields,
            leaf_slot,
            timestamp_slot,
        }
    }

    /// Computes the edits for a record whose hits (from scanning with [`AlertSpec::fields`]) are `hits`.
    pub fn plan(&self, hits: &[Hit], root: u32) -> Vec<Edit> {
        let mut edits: Vec<Edit> = Vec::new();
        let slot = |p: &str| self.fields.slot(p);
        let direct = |h: &&Hit| !h.in_array;
        for (li, leaf) in self.leaves.iter().enumerate() {
            let s = self.leaf_slot[li] as u16;
            // `null` counts as absent: a `"message":null` is replaced like a missing one is added.
            if leaf.only_if_absent && hits.iter().any(|h| h.slot == s && h.kind != Kind::Null) {
                continue;
            }
            {
                let mut any = false;
                for h in hits.iter().filter(|h| h.slot == s).filter(direct) {
                    edits.push(Edit::Replace {
                        start: h.start,
                        end: h.end,
                        leaf: li,
                    });
                    any = true;
                }
                if any {
                    continue;
                }
            }
            // Insert: into the deepest existing object on the path, else the root.
            let cuts: Vec<usize> = leaf.path.match_indices('.').map(|(i, _)| i).collect();
            let mut target: Option<(u32, usize)> = None; // (object offset, prefix length)
            for &cut in cuts.iter().rev() {
                let ps = slot(&leaf.path[..cut]).map(|s| s as u16);
                let obj = hits
                    .iter()
                    .filter(|h| Some(h.slot) == ps && h.kind == Kind::Object)
                    .filter(direct)
                    .map(|h| h.start)
                    .min();
                if let Some(o) = obj {
                    target = Some((o, cut + 1));
                    break;
                }
            }
            let (object, skip) = target.unwrap_or((root, 0));
            let rest = &leaf.path[skip..];
            // A non-object value under the next segment in this very object forces a dotted key.
            let next = rest.split('.').next().unwrap_or(rest);
            let next_path = &leaf.path[..skip + next.len()];
            let dotted = rest.contains('.')
                && slot(next_path).is_some_and(|ns| {
                    hits.iter().any(|h| {
                        h.slot as usize == ns && h.container == object && h.kind != Kind::Object
                    })
                });
            let entry = (rest.to_string(), li, dotted);
            match edits
                .iter_mut()
                .find(|e| matches!(e, Edit::Insert { object: o, .. } if *o == object))
            {
                Some(Edit::Insert { entries, .. }) => entries.push(entry),
                _ => edits.push(Edit::Insert {
                    object,
                    entries: vec![entry],
                }),
            }
        }
        edits
    }

    /// Renders the members of an insert as JSON text (without braces), grouping shared path segments into
    /// nested objects.
    pub fn insert_json(&self, entries: &[(String, usize, bool)], out: &mut Vec<u8>) {
        self.members_json(&tree(entries), out);
    }

    fn members_json(&self, members: &[(String, Member)], out: &mut Vec<u8>) {
        for (k, (key, m)) in members.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&serde_json::to_vec(key).expect("string"));
            out.push(b':');
            match m {
                Member::Leaf(li) => out.extend_from_slice(&self.leaves[*li].json),
                Member::Group(g) => {
                    out.push(b'{');
                    self.members_json(g, out);
                    out.push(b'}');
                }
            }
        }
    }

    fn members_msgpack(&self, members: &[(String, Member)], out: &mut Vec<u8>) {
        for (key, m) in members {
            msgpack::encode_str(key.as_bytes(), out);
            match m {
                Member::Leaf(li) => msgpack::encode(&self.leaves[*li].value, out),
                Member::Group(g) => {
                    msgpack::map_header(g.len(), out);
                    self.members_msgpack(g, out);
                }
            }
        }
    }

    /// The record's own time (seconds since the epoch) from `@timestamp`, when it has one.
    pub fn timestamp(&self, record: &[u8], hits: &Hits) -> Option<i64> {
        let h = hits.of(self.timestamp_slot).next()?;
        match h.kind {
            Kind::Str => parse_rfc3339(hits.text(record, h)),
            Kind::Number => {
                let t = std::str::from_utf8(&record[h.start as usize..h.end as usize]).ok()?;
                t.parse::<f64>().ok().map(|ms| (ms / 1000.0).floor() as i64)
            }
            _ => None,
        }
    }
}

/// The members an insert writes, with shared path segments grouped into nested objects.
#[derive(Debug, Clone)]
enum Member {
    Leaf(usize),
    Group(Vec<(String, Member)>),
}

fn tree(entries: &[(String, usize, bool)]) -> Vec<(String, Member)> {
    let mut out: Vec<(String, Member)> = Vec::new();
    for (path, li, dotted) in entries {
        let segs: Vec<&str> = if *dotted {
            vec![path.as_str()]
        } else {
            path.split('.').collect()
        };
        let mut level = &mut out;
        for (k, seg) in segs.iter().enumerate() {
            if k + 1 == segs.len() {
                level.push((seg.to_string(), Member::Leaf(*li)));
                break;
            }
            let pos = match level
                .iter()
                .position(|(key, m)| key == seg && matches!(m, Member::Group(_)))
            {
                Some(p) => p,
                None => {
                    level.push((seg.to_string(), Member::Group(Vec::new())));
                    level.len() - 1
                }
            };
            level = match &mut level[pos].1 {
                Member::Group(g) => g,
                Member::Leaf(_) => unreachable!("positioned on a group"),
            };
        }
    }
    out
}

/// Applies `edits` to `input` in offset order, copying the bytes between them: `start_of` says where an edit
/// goes, `write` renders it and says where copying resumes (`None`: leave that edit out).
fn apply(
    input: &[u8],
    mut edits: Vec<Edit>,
    out: &mut Vec<u8>,
    start_of: impl Fn(&Edit) -> usize,
    mut write: impl FnMut(&Edit, &mut Vec<u8>) -> Option<usize>,
) {
    // Inserts before replacements at the same offset.
    edits.sort_by_key(|e| (start_of(e), matches!(e, Edit::Replace { .. })));
    out.reserve(input.len() + 1024);
    let mut at = 0usize;
    for e in &edits {
        let s = start_of(e);
        if s < at {
            continue; // inside an earlier edit: cannot happen with valid plans
        }
        out.extend_from_slice(&input[at..s]);
        let mark = out.len();
        match write(e, out) {
            Some(resume) => at = resume,
            None => {
                out.truncate(mark);
                at = s;
            }
        }
    }
    out.extend_from_slice(&input[at..]);
}

/// Writes the alert version of a msgpack body map: `body` with `edits` applied (map headers of objects that
/// receive members are rewritten with their new counts).
pub fn splice_msgpack(spec: &AlertSpec, body: &[u8], edits: Vec<Edit>, out: &mut Vec<u8>) {
    let start_of = |e: &Edit| match e {
        Edit::Replace { start, .. } => *start as usize,
        Edit::Insert { object, .. } => *object as usize,
    };
    apply(body, edits, out, start_of, |e, out| match e {
        Edit::Replace { end, leaf, .. } => {
            msgpack::encode(&spec.leaves[*leaf].value, out);
            Some(*end as usize)
        }
        Edit::Insert { object, entries } => {
            let s = *object as usize;
            let h = msgpack::head(body, s)
                .ok()
                .filter(|h| h.ty == msgpack::Ty::Map)?;
            let members = tree(entries);
            msgpack::map_header(h.n as usize + members.len(), out);
            spec.members_msgpack(&members, out);
            Some(s + h.len)
        }
    });
}

/// Writes the alert version of a JSON record: `record` with `edits` applied.
pub fn splice_json(spec: &AlertSpec, record: &[u8], edits: Vec<Edit>, out: &mut Vec<u8>) {
    let start_of = |e: &Edit| match e {
        Edit::Replace { start, .. } => *start as usize,
        Edit::Insert { object, .. } => *object as usize + 1,
    };
    apply(record, edits, out, start_of, |e, out| match e {
        Edit::Replace { end, leaf, .. } => {
            out.extend_from_slice(&spec.leaves[*leaf].json);
            Some(*end as usize)
        }
        Edit::Insert { object, entries } => {
            let s = *object as usize + 1;
            spec.insert_json(entries, out);
            // A comma when the object already has members.
            let next = record[s..]
                .iter()
                .find(|c| !matches!(c, b' ' | b'\n' | b'\r' | b'\t'));
            if next.is_some_and(|&c| c != b'}') {
                out.push(b',');
            }
            Some(s)
        }
    });
}

/// Parses an RFC 3339 / ISO 8601 timestamp (`2024-05-01T12:00:00.123Z`, `+02:00` offsets, a space for `T`)
/// to seconds since the epoch.
pub fn parse_rfc3339(t: &[u8]) -> Option<i64> {
    let num = |s: &[u8]| -> Option<i64> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    if t.len() < 19
        || t[4] != b'-'
        || t[7] != b'-'
        || !matches!(t[10], b'T' | b't' | b' ')
        || t[13] != b':'
        || t[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?);
    let (h, mi, s) = (num(&t[11..13])?, num(&t[14..16])?, num(&t[17..19])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &t[19..];
    if rest.first() == Some(&b'.') {
        let k = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        rest = &rest[1 + k..];
    }
    let offset = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2] => {
            let v = num(&[*hh1, *hh2])? * 3600 + num(&[*mm1, *mm2])? * 60;
            if *sign == b'+' {
                v
            } else {
                -v
            }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + mi * 60 + s - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339(b"2024-05-01T12:00:00.123Z"), Some(1714564800));
        assert_eq!(
            parse_rfc3339(b"2024-05-01T14:00:00+02:00"),
            Some(1714564800)
        );
        assert_eq!(parse_rfc3339(b"2024-05-01 12:00:00"), Some(1714564800));
        assert_eq!(parse_rfc3339(b"2000-02-29T00:00:00Z"), Some(951782400));
        assert_eq!(parse_rfc3339(b"yesterday"), None);
        assert_eq!(parse_rfc3339(b"2024-13-01T00:00:00Z"), None);
    }
}
