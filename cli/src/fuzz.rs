//! Mutation fuzzing of the filter on a user's own recorded events (`svcshell fuzz`): every mutant of the
//! seed records goes through [`Filter::process`] (inside `catch_unwind`) and through the serde_json
//! baseline [`crate::baseline::matches_value`] (same rule, exceptions and source profiles on a `Value`), and any panic
//! or disagreement is a finding.
//!
//! Mutations are of two kinds:
//! - JSON-aware, on a parsed copy of the record, re-encoded afterwards: `\u` escapes of any character
//!   (surrogate pairs beyond the BMP) and `\/`, dotted ↔ nested keys, member order, whitespace, ASCII case
//!   changes and non-ASCII look-alikes (`ſ`, Kelvin sign, `İ`), scalar ↔ array, values and keys replaced by
//!   ones the rule reads (`services.exe`, `process.parent.name`, ...), non-strings where strings are expected,
//!   members deleted or added;
//! - byte-level, on the encoded bytes: bit flips, cuts, inserted tokens (quotes, backslashes, brackets,
//!   `\u` surrogates, NUL, invalid UTF-8), duplicated ranges, splices of two records.
//!
//! Case changes and replaced values change verdicts legitimately (`==` is case-sensitive): the property is
//! the fast path == the baseline *on the mutant*, never mutant == seed. A mutant serde_json rejects (or that
//! is not an object) must pass unchanged and never alert. Objects with a duplicated key are not compared (the
//! baseline keeps the last value, the scanner sees all; docs/semantics.md §2 allows either). Mutants never contain `\n`,
//! so every finding is one NDJSON line that `svcshell replay` can read back.
//!
//! The random numbers come from a small deterministic generator ([`Rng`], SplitMix64): the same seed and
//! records give the same mutants.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use serde_json::Value;

use svcshell::config::Validate;
use svcshell::{Action, Filter};

/// SplitMix64: small, fast, deterministic, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `pct`/100.
    pub fn pct(&mut self, pct: u32) -> bool {
        self.below(100) < pct as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A JSON value that keeps member order (serde_json's `Value` sorts keys) and numbers as written.
#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn from_value(v: &Value) -> J {
        match v {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => J::Num(n.to_string()),
            Value::String(s) => J::Str(s.clone()),
            Value::Array(a) => J::Arr(a.iter().map(J::from_value).collect()),
            Value::Object(m) => J::Obj(
                m.iter()
                    .map(|(k, v)| (k.clone(), J::from_value(v)))
                    .collect(),
            ),
        }
    }

    fn at_mut(&mut self, path: &[usize]) -> &mut J {
        match (path.split_first(), self) {
            (None, j) => j,
            (Some((&i, rest)), J::Arr(a)) => a[i].at_mut(rest),
            (Some((&i, rest)), J::Obj(m)) => m[i].1.at_mut(rest),
            (Some(_), j) => j,
        }
    }
}

/// Paths (child indexes from the root) of every value, and of every object.
fn paths(j: &J, here: &mut Vec<usize>, all: &mut Vec<Vec<usize>>, objects: &mut Vec<Vec<usize>>) {
    all.push(here.clone());
    let children: Vec<&J> = match j {
        J::Arr(a) => a.iter().collect(),
        J::Obj(m) => {
            objects.push(here.clone());
            m.iter().map(|(_, v)| v).collect()
        }
        _ => return,
    };
    for (i, c) in children.into_iter().enumerate() {
        here.push(i);
        paths(c, here, all, objects);
        here.pop();
    }
}

/// Values the rule and the raw shapes read, so that mutants reach matches and near misses.
const VALUES: &[&str] = &[
    "services.exe",
    "SERVICES.EXE",
    "C:\\Windows\\System32\\services.exe",
    "cmd.exe",
    "powershell.exe",
    "pwsh.exe",
    "powershell_ise.exe",
    "C:\\Windows\\System32\\cmd.exe",
    "start",
    "process",
    "windows",
    "NVDisplay.ContainerLocalSystem",
    "cmd.exe /c whoami",
    "Microsoft-Windows-Sysmon/Operational",
    "Security",
    "1",
    "4688",
    "",
];

const KEYS: &[&str] = &[
    "event.category",
    "event.type",
    "host.os.type",
    "process.name",
    "process.parent.name",
    "process.args",
    "event",
    "process",
    "parent",
    "name",
    "type",
    "winlog.channel",
    "winlog.event_id",
    "winlog.event_data.Image",
    "winlog.event_data.ParentImage",
    "winlog.event_data.CommandLine",
    "message",
];

/// Non-ASCII letters that must not fold to ASCII (docs/semantics.md §2): long s, Kelvin sign, dotted capital I, dotless i.
const LOOKALIKES: &[(char, char)] = &[('s', 'ſ'), ('k', 'K'), ('K', 'K'), ('i', 'İ'), ('i', 'ı')];

fn interesting_value(rng: &mut Rng) -> J {
    match rng.below(12) {
        0 => J::Null,
        1 => J::Bool(rng.pct(50)),
        2 => J::Num(
            rng.pick(&["0", "1", "-1", "1.5", "1e3", "4688"])
                .to_string(),
        ),
        3 => J::Obj(vec![]),
        4 => J::Arr(vec![]),
        _ => J::Str(rng.pick(VALUES).to_string()),
    }
}

fn change_case(s: &str, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => s.to_ascii_uppercase(),
        1 => s.to_ascii_lowercase(),
        2 => s
            .chars()
            .map(|c| {
                if c.is_ascii_alphabetic() && rng.pct(30) {
                    (c as u8 ^ 0x20) as char
                } else {
                    c
                }
            })
            .collect(),
        _ => {
            // One non-ASCII look-alike.
            let spots: Vec<(usize, char)> = s
                .char_indices()
                .filter(|(_, c)| LOOKALIKES.iter().any(|(a, _)| a == c))
                .collect();
            if spots.is_empty() {
                return s.to_string();
            }
            let (at, c) = *rng.pick(&spots);
            let subs: Vec<char> = LOOKALIKES
                .iter()
                .filter(|(a, _)| *a == c)
                .map(|(_, b)| *b)
                .collect();
            format!("{}{}{}", &s[..at], rng.pick(&subs), &s[at + c.len_utf8()..])
        }
    }
}

/// One JSON-aware mutation in place; returns its name.
fn mutate_tree(root: &mut J, rng: &mut Rng) -> &'static str {
    let (mut all, mut objects) = (Vec::new(), Vec::new());
    paths(root, &mut Vec::new(), &mut all, &mut objects);
    let p = rng.pick(&all).clone();
    let o = if objects.is_empty() {
        Vec::new()
    } else {
        rng.pick(&objects).clone()
    };
    match rng.below(11) {
        0 => {
            if let J::Obj(m) = root.at_mut(&o) {
                for i in (1..m.len()).rev() {
                    m.swap(i, rng.below(i + 1));
                }
            }
            "reorder"
        }
        1 => {
            // Nested -> dotted: {"a":{"b":x}} -> {"a.b":x}.
            if let J::Obj(m) = root.at_mut(&o) {
                let cands: Vec<usize> = (0..m.len())
                    .filter(|&i| matches!(&m[i].1, J::Obj(c) if !c.is_empty()))
                    .collect();
                if !cands.is_empty() {
                    let i = *rng.pick(&cands);
                    let (k, v) = m.remove(i);
                    if let J::Obj(children) = v {
                        for (n, (ck, cv)) in children.into_iter().enumerate() {
                            m.insert(i + n, (format!("{k}.{ck}"), cv));
                        }
                    }
                }
            }
            "dotted"
        }
        2 => {
            // Dotted -> nested: {"a.b":x} -> {"a":{"b":x}}, merged into an existing "a" object.
            if let J::Obj(m) = root.at_mut(&o) {
                let cands: Vec<usize> = (0..m.len()).filter(|&i| m[i].0.contains('.')).collect();
                if !cands.is_empty() {
                    let i = *rng.pick(&cands);
                    let dots: Vec<usize> = m[i].0.match_indices('.').map(|(d, _)| d).collect();
                    let d = *rng.pick(&dots);
                    let (head, tail) = (m[i].0[..d].to_string(), m[i].0[d + 1..].to_string());
                    match m.iter().position(|(k, _)| *k == head) {
                        None => {
                            let v = std::mem::replace(&mut m[i].1, J::Null);
                            m[i] = (head, J::Obj(vec![(tail, v)]));
                        }
                        Some(h) => {
                            let fits =
                                matches!(&m[h].1, J::Obj(c) if c.iter().all(|(k, _)| *k != tail));
                            if fits {
                                let (_, v) = m.remove(i);
                                let h = if h > i { h - 1 } else { h };
                                if let J::Obj(c) = &mut m[h].1 {
                                    c.push((tail, v));
                                }
                            }
                        }
                    }
                }
            }
            "nested"
        }
        3 => {
            // Case change or look-alike in a key or a string value.
            let node = root.at_mut(&p);
            match node {
                J::Str(s) => *s = change_case(s, rng),
                J::Obj(m) if !m.is_empty() => {
                    let i = rng.below(m.len());
                    let k = change_case(&m[i].0, rng);
                    if m.iter().all(|(x, _)| *x != k) {
                        m[i].0 = k;
                    }
                }
                _ => {}
            }
            "case"
        }
        4 => {
            let node = root.at_mut(&p);
            let v = std::mem::replace(node, J::Null);
            *node = match rng.below(4) {
                0 => J::Arr(vec![v]),
                1 => J::Arr(vec![v, interesting_value(rng)]),
                2 => J::Arr(vec![interesting_value(rng), v]),
                _ => J::Arr(vec![J::Arr(vec![v])]),
            };
            "scalar-to-array"
        }
        5 => {
            let node = root.at_mut(&p);
            if let J::Arr(a) = node {
                if !a.is_empty() {
                    let k = rng.below(a.len());
                    *node = a.swap_remove(k);
                }
            }
            "array-to-scalar"
        }
        6 | 7 => {
            if !p.is_empty() {
                *root.at_mut(&p) = interesting_value(rng);
            }
            "value"
        }
        8 => {
            if let J::Obj(m) = root.at_mut(&o) {
                let k = rng.pick(KEYS).to_string();
                if m.iter().all(|(x, _)| *x != k) {
                    let v = interesting_value(rng);
                    let at = rng.below(m.len() + 1);
                    m.insert(at, (k, v));
                }
            }
            "add-member"
        }
        9 => {
            if let J::Obj(m) = root.at_mut(&o) {
                if !m.is_empty() {
                    let i = rng.below(m.len());
                    let k = rng.pick(KEYS).to_string();
                    if m.iter().all(|(x, _)| *x != k) {
                        m[i].0 = k;
                    }
                }
            }
            "rename-key"
        }
        _ => {
            match root.at_mut(&o) {
                J::Obj(m) if !m.is_empty() => {
                    let i = rng.below(m.len());
                    m.remove(i);
                }
                _ => {}
            }
            "delete-member"
        }
    }
}

/// How a mutant is written out.
struct Style {
    /// Percent of characters written as `\u` escapes.
    escape: u32,
    /// Write `/` as `\/`.
    slash: bool,
    upper_hex: bool,
    /// Percent of token gaps that get whitespace.
    ws: u32,
}

fn ws(rng: &mut Rng, st: &Style, out: &mut Vec<u8>) {
    if st.ws > 0 && rng.pct(st.ws) {
        for _ in 0..=rng.below(3) {
            out.push(*rng.pick(b" \t\r"));
        }
    }
}

fn push_u(out: &mut Vec<u8>, unit: u16, upper: bool) {
    let s = if upper {
        format!("\\u{unit:04X}")
    } else {
        format!("\\u{unit:04x}")
    };
    out.extend_from_slice(s.as_bytes());
}

fn render_str(rng: &mut Rng, st: &Style, s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        if st.escape > 0 && rng.pct(st.escape) {
            let mut units = [0u16; 2];
            for &u in c.encode_utf16(&mut units).iter() {
                push_u(out, u, st.upper_hex);
            }
            continue;
        }
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '/' if st.slash => out.extend_from_slice(b"\\/"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => push_u(out, c as u16, st.upper_hex),
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn render(rng: &mut Rng, st: &Style, j: &J, out: &mut Vec<u8>) {
    match j {
        J::Null => out.extend_from_slice(b"null"),
        J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        J::Num(n) => out.extend_from_slice(n.as_bytes()),
        J::Str(s) => render_str(rng, st, s, out),
        J::Arr(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                ws(rng, st, out);
                render(rng, st, v, out);
                ws(rng, st, out);
            }
            out.push(b']');
        }
        J::Obj(m) => {
            out.push(b'{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                ws(rng, st, out);
                render_str(rng, st, k, out);
                ws(rng, st, out);
                out.push(b':');
                ws(rng, st, out);
                render(rng, st, v, out);
                ws(rng, st, out);
            }
            out.push(b'}');
        }
    }
}

/// Tokens inserted by the byte-level mutations.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\u",
    b"\\ud800",
    b"\\udc00",
    b"\\u0000",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b" ",
    b"\t",
    b"1e999",
    b"-",
    b"null",
    b"services.exe",
    b"\"process.parent.name\":\"services.exe\",",
];

fn mutate_bytes(b: &mut Vec<u8>, other: &[u8], rng: &mut Rng) -> &'static str {
    let n = b.len();
    match rng.below(7) {
        0 if n > 0 => {
            let i = rng.below(n);
            b[i] ^= 1 << rng.below(8);
            "flip"
        }
        1 => {
            b.truncate(rng.below(n + 1));
            "truncate"
        }
        2 if n > 0 => {
            let a = rng.below(n);
            let e = (a + 1 + rng.below(16)).min(n);
            b.drain(a..e);
            "cut"
        }
        3 => {
            let t = rng.pick(TOKENS);
            let at = rng.below(n + 1);
            b.splice(at..at, t.iter().copied());
            "insert"
        }
        4 if n > 0 => {
            let a = rng.below(n);
            let e = (a + 1 + rng.below(32)).min(n);
            let chunk = b[a..e].to_vec();
            let at = rng.below(n + 1);
            b.splice(at..at, chunk);
            "duplicate-range"
        }
        5 => {
            let cut = rng.below(n + 1);
            let from = rng.below(other.len() + 1);
            b.truncate(cut);
            b.extend_from_slice(&other[from..]);
            "splice"
        }
        _ if n > 0 => {
            let i = rng.below(n);
            b[i] = *rng.pick(b"\"\\{}[],: \x00\x7f\x80\xffaA0");
            "replace-byte"
        }
        _ => "none",
    }
}

/// The seed records and their parsed forms; makes mutants.
pub struct Mutator {
    seeds: Vec<Vec<u8>>,
    trees: Vec<Option<J>>,
    /// Mutants worth mutating further (alerts), parsed.
    pool: Vec<J>,
}

/// The most mutants kept for further mutation.
const POOL: usize = 1024;

impl Mutator {
    /// Seeds are records (one NDJSON line each, without the newline); any bytes do.
    pub fn new(seeds: Vec<Vec<u8>>) -> Mutator {
        let trees = seeds
            .iter()
            .map(|s| {
                serde_json::from_slice::<Value>(s)
                    .ok()
                    .map(|v| J::from_value(&v))
            })
            .collect();
        Mutator {
            seeds,
            trees,
            pool: Vec::new(),
        }
    }

    pub fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    /// Keeps `rec` (a valid JSON record) as a base for further mutants.
    pub fn keep(&mut self, rec: &[u8], rng: &mut Rng) {
        if let Ok(v) = serde_json::from_slice::<Value>(rec) {
            let j = J::from_value(&v);
            if self.pool.len() < POOL {
                self.pool.push(j);
            } else {
                let i = rng.below(POOL);
                self.pool[i] = j;
            }
        }
    }

    /// One mutant (never containing `\n`) and the names of the mutations applied.
    pub fn mutant(&self, rng: &mut Rng) -> (Vec<u8>, Vec<&'static str>) {
        let mut names = Vec::new();
        let k = rng.below(self.seeds.len());
        let tree = if !self.pool.is_empty() && rng.pct(30) {
            Some(rng.pick(&self.pool))
        } else {
            self.trees[k].as_ref()
        };
        let mut out = match tree {
            Some(t) if rng.pct(90) => {
                let mut t = t.clone();
                for _ in 0..=rng.below(4) {
                    names.push(mutate_tree(&mut t, rng));
                }
                let st = Style {
                    escape: *rng.pick(&[0, 0, 0, 2, 10, 50, 100]),
                    slash: rng.pct(20),
                    upper_hex: rng.pct(50),
                    ws: *rng.pick(&[0, 0, 5, 30, 100]),
                };
                if st.escape > 0 {
                    names.push("escape");
                }
                if st.ws > 0 {
                    names.push("whitespace");
                }
                let mut out = Vec::new();
                render(rng, &st, &t, &mut out);
                out
            }
            _ => self.seeds[k].clone(),
        };
        if names.is_empty() || rng.pct(25) {
            let other = rng.pick(&self.seeds).clone();
            for _ in 0..=rng.below(3) {
                names.push(mutate_bytes(&mut out, &other, rng));
            }
        }
        for b in out.iter_mut() {
            if *b == b'\n' {
                *b = b' ';
            }
        }
        (out, names)
    }
}

/// True when `b` (valid JSON) has an object holding the same decoded key twice.
pub fn has_duplicate_keys(b: &[u8]) -> bool {
    walk_keys(b, 0).is_err()
}

/// The first key that some object of `b` (valid JSON) holds twice, decoded.
pub fn duplicate_key(b: &[u8]) -> Option<String> {
    walk_keys(b, 0).err().flatten()
}

/// The end of the JSON value at `i`; `Err(Some(key))` at the first duplicated key, `Err(None)` where `b` is
/// not valid JSON after all.
fn walk_keys(b: &[u8], i: usize) -> Result<usize, Option<String>> {
    fn ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }
    fn string_end(b: &[u8], mut i: usize) -> usize {
        i += 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    }
    let mut i = ws(b, i);
    match b.get(i).ok_or(None)? {
        b'{' => {
            let mut keys = std::collections::HashSet::new();
            i = ws(b, i + 1);
            if b.get(i) == Some(&b'}') {
                return Ok(i + 1);
            }
            loop {
                let e = string_end(b, i);
                let key: String = b
                    .get(i..e)
                    .and_then(|k| serde_json::from_slice(k).ok())
                    .ok_or(None)?;
                if keys.contains(&key) {
                    return Err(Some(key));
                }
                keys.insert(key);
                i = ws(b, walk_keys(b, ws(b, e) + 1)?);
                if b.get(i) != Some(&b',') {
                    return Ok(i + 1);
                }
                i = ws(b, i + 1);
            }
        }
        b'[' => {
            i = ws(b, i + 1);
            if b.get(i) == Some(&b']') {
                return Ok(i + 1);
            }
            loop {
                i = ws(b, walk_keys(b, i)?);
                if b.get(i) != Some(&b',') {
                    return Ok(i + 1);
                }
                i += 1;
            }
        }
        b'"' => Ok(string_end(b, i)),
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            Ok(i)
        }
    }
}

/// What one record was, when the filter and the baseline agree on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// serde_json rejects it or it is not an object: it passed unchanged (or was dropped in alerts_only).
    Rejected,
    /// An object with a duplicated key: not compared.
    Duplicate,
    /// An object; both say alert (`true`) or not.
    Compared(bool),
}

/// A panic or a disagreement on one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// `Filter::process` (or the baseline) panicked.
    Panic,
    /// The filter's verdict differs from the baseline's.
    Verdict,
    /// `validate=all` and the record's error status differs from serde_json's verdict (or an error was
    /// reported on a record serde_json reads as an object).
    Error,
    /// An alert that is not a JSON object.
    BadAlert,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = match self.kind {
            FindingKind::Panic => "panic",
            FindingKind::Verdict => "verdict differs from the serde_json baseline",
            FindingKind::Error => "error status differs from serde_json",
            FindingKind::BadAlert => "alert is not a JSON object",
        };
        write!(f, "{k}: {}", self.detail)
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".into())
}

/// Runs one record through the filter and the baseline. The filter should not cap alerts (`max_alerts=0`),
/// or a capped match shows up as a disagreement.
pub fn check(filter: &Filter, rec: &[u8]) -> Result<Class, Finding> {
    let fast = catch_unwind(AssertUnwindSafe(|| filter.process(rec))).map_err(|p| Finding {
        kind: FindingKind::Panic,
        detail: format!("Filter::process: {}", panic_text(&*p)),
    })?;
    let base = catch_unwind(AssertUnwindSafe(|| {
        crate::baseline::matches_value(filter, rec)
    }))
    .map_err(|p| Finding {
        kind: FindingKind::Panic,
        detail: format!("baseline::matches_value: {}", panic_text(&*p)),
    })?;
    let alert = matches!(fast.action, Action::Alert(_));
    let err = |kind, detail: String| Err(Finding { kind, detail });
    if let Action::Alert(out) = &fast.action {
        let ok = serde_json::from_slice::<Value>(out).is_ok_and(|v| v.is_object());
        if !ok {
            return err(
                FindingKind::BadAlert,
                String::from_utf8_lossy(out).into_owned(),
            );
        }
    }
    match base {
        None => {
            if alert {
                return err(
                    FindingKind::Verdict,
                    "alert on a record serde_json rejects".into(),
                );
            }
            if filter.config().validate == Validate::All && fast.error.is_none() {
                return err(
                    FindingKind::Error,
                    "validate=all: no error on a record serde_json rejects".into(),
                );
            }
            Ok(Class::Rejected)
        }
        Some(b) => {
            if let Some(e) = &fast.error {
                return err(
                    FindingKind::Error,
                    format!("error `{e}` on a record serde_json reads as an object"),
                );
            }
            if has_duplicate_keys(rec) {
                return Ok(Class::Duplicate);
            }
            if alert != b {
                return err(
                    FindingKind::Verdict,
                    format!("filter alert={alert}, baseline alert={b}"),
                );
            }
            Ok(Class::Compared(b))
        }
    }
}

/// Limits of one run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub duration: Duration,
    pub seed: u64,
    /// Stop after this many mutants (`None`: only the duration limits the run).
    pub max_mutants: Option<u64>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Records tried: the seeds, then the mutants.
    pub tried: u64,
    pub bytes: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub compared: u64,
    /// Of the compared records, those both sides alert on.
    pub alerts: u64,
    pub findings: u64,
    pub elapsed: Duration,
}

/// Called with every offending record, its finding and the mutations that made it (empty for a seed).
pub type OnFinding<'a> = dyn FnMut(&[u8], &Finding, &[&'static str]) + 'a;

/// Runs the seeds, then mutants until the duration (or `max_mutants`) is reached; calls `found` with every
/// offending record, its finding and the mutations that made it (empty for a seed).
pub fn run(filter: &Filter, seeds: Vec<Vec<u8>>, opts: Options, found: &mut OnFinding) -> Report {
    let start = Instant::now();
    let mut rng = Rng::new(opts.seed);
    let mut m = Mutator::new(seeds);
    let mut r = Report::default();
    let mut one = |rec: &[u8], names: &[&'static str], r: &mut Report| -> bool {
        r.tried += 1;
        r.bytes += rec.len() as u64;
        match check(filter, rec) {
            Ok(Class::Rejected) => r.rejected += 1,
            Ok(Class::Duplicate) => r.duplicates += 1,
            Ok(Class::Compared(a)) => {
                r.compared += 1;
                r.alerts += a as u64;
                return a;
            }
            Err(f) => {
                r.findings += 1;
                found(rec, &f, names);
            }
        }
        false
    };
    for s in m.seeds().to_vec() {
        one(&s, &[], &mut r);
    }
    if m.seeds().is_empty() {
        r.elapsed = start.elapsed();
        return r;
    }
    let mut n = 0u64;
    loop {
        if opts.max_mutants.is_some_and(|max| n >= max)
            || (n.is_multiple_of(64) && start.elapsed() >= opts.duration)
        {
            break;
        }
        n += 1;
        let (rec, names) = m.mutant(&mut rng);
        if one(&rec, &names, &mut r) && rng.pct(20) {
            m.keep(&rec, &mut rng);
        }
    }
    r.elapsed = start.elapsed();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert!((0..1000).all(|_| a.below(10) < 10));
        assert_eq!(a.below(0), 0);
    }

    #[test]
    fn renders_escapes_that_decode_to_the_same_text() {
        let mut rng = Rng::new(1);
        let st = Style {
            escape: 100,
            slash: true,
            upper_hex: true,
            ws: 100,
        };
        let j = J::Obj(vec![(
            "a/ſ\u{1F600}".into(),
            J::Arr(vec![J::Str("c:\\x\"\n\u{1}".into()), J::Num("1.5".into())]),
        )]);
        let mut out = Vec::new();
        render(&mut rng, &st, &j, &mut out);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(J::from_value(&v), j);
        assert!(out.windows(2).any(|w| w == b"\\u"));
    }

    #[test]
    fn duplicate_keys() {
        assert!(has_duplicate_keys(br#"{"a":1,"a":2}"#));
        assert!(has_duplicate_keys(br#"{"x":[{"a":1, "\u0061" : 2}]}"#));
        assert!(!has_duplicate_keys(
            br#"{"a":{"a":1},"a.a":[1,{"b":2,"c":"}"}]}"#
        ));
        assert!(!has_duplicate_keys(br#" { } "#));
    }

    #[test]
    fn mutants_have_no_newline_and_vary() {
        let m = Mutator::new(vec![
            br#"{"process":{"name":"cmd.exe","parent.name":"services.exe"}}"#.to_vec(),
        ]);
        let mut rng = Rng::new(3);
        let mut distinct = std::collections::HashSet::new();
        for _ in 0..500 {
            let (b, names) = m.mutant(&mut rng);
            assert!(!b.contains(&b'\n'));
            assert!(!names.is_empty());
            distinct.insert(b);
        }
        assert!(distinct.len() > 200, "{}", distinct.len());
    }

    #[test]
    fn a_capped_match_is_a_verdict_finding() {
        // With an alert cap the second match is suppressed: the filter and the baseline then disagree, which
        // is why `svcshell fuzz` runs without a cap.
        let f = Filter::from_properties(&[("max_alerts", "1")]).unwrap();
        let rec = br#"{"@timestamp":"2024-05-01T00:00:00Z","event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"}}}"#;
        assert_eq!(check(&f, rec), Ok(Class::Compared(true)));
        let e = check(&f, rec).unwrap_err();
        assert_eq!(e.kind, FindingKind::Verdict);
        assert!(e.to_string().contains("baseline alert=true"), "{e}");
        assert_eq!(check(&f, b"[1]"), Ok(Class::Rejected));
        assert_eq!(check(&f, br#"{"a":1,"a":2}"#), Ok(Class::Duplicate));
    }

    #[test]
    fn run_finds_nothing_on_the_library_and_stops_at_max_mutants() {
        let f = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
        let seed = br#"{"event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","parent":{"name":"services.exe"},"args":["cmd.exe"]}}"#;
        let opts = Options {
            duration: Duration::from_secs(60),
            seed: 42,
            max_mutants: Some(2000),
        };
        let mut bad = Vec::new();
        let r = run(&f, vec![seed.to_vec()], opts, &mut |rec, f, _| {
            bad.push((String::from_utf8_lossy(rec).into_owned(), f.clone()))
        });
        assert_eq!(r.tried, 2001);
        assert!(bad.is_empty(), "{bad:?}");
        assert!(
            r.alerts > 0 && r.rejected > 0 && r.compared > r.alerts,
            "{r:?}"
        );
    }
}
