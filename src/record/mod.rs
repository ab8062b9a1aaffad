//! Zero-copy access to a record's fields. A [`FieldSet`] names the dotted field paths some consumer needs
//! (the compiled rule, the source profiles, the alert writer); a scanner makes one pass over the record bytes
//! and leaves a [`Hit`] in [`Hits`] for every value found at one of those paths, whether the path was written
//! nested (`{"process":{"name":...}}`), dotted (`{"process.name":...}`) or mixed. Hits borrow the record:
//! they are offsets into it, or into a reused decode buffer for the rare string that holds escapes.

pub mod json;
pub mod msgpack;
pub mod ndjson;
pub mod prefilter;

/// What kind of JSON value a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Number,
    Bool,
    Null,
    Object,
    Array,
}

/// One value found at a wanted path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the path in the [`FieldSet`].
    pub slot: u16,
    pub kind: Kind,
    /// The value is an element of an array (the field is multi-valued).
    pub in_array: bool,
    /// For strings: the decoded text lives in [`Hits::decoded`] at `text`, not in the record.
    pub decoded: bool,
    /// The value's bytes in the record: `start..end` (strings include their quotes).
    pub start: u32,
    pub end: u32,
    /// For strings: the text range (without quotes), in the record or in the decode buffer.
    pub text: (u32, u32),
    /// Offset of the `{` of the object whose key holds this value (for array elements, of the object
    /// holding the array's key).
    pub container: u32,
}

/// The hits of one scan, plus the buffer decoded strings live in. Reused from record to record so that a
/// steady stream of records allocates nothing.
#[derive(Debug, Default)]
pub struct Hits {
    pub hits: Vec<Hit>,
    pub decoded: Vec<u8>,
    /// Offset of the record's top-level `{`.
    pub root: u32,
    /// The scanner's container stack, kept to avoid re-initialising it per record.
    pub(crate) stack: Vec<json::Level>,
    /// The msgpack walker's container stack, likewise.
    pub(crate) mstack: Vec<msgpack::Frame>,
}

impl Hits {
    pub fn clear(&mut self) {
        self.hits.clear();
        self.decoded.clear();
        self.root = 0;
    }

    /// The text of a string hit, decoded.
    #[inline]
    pub fn text<'a>(&'a self, record: &'a [u8], h: &Hit) -> &'a [u8] {
        let (s, e) = (h.text.0 as usize, h.text.1 as usize);
        if h.decoded {
            &self.decoded[s..e]
        } else {
            &record[s..e]
        }
    }

    /// Hits of one slot.
    #[inline]
    pub fn of(&self, slot: usize) -> impl Iterator<Item = &Hit> {
        self.hits.iter().filter(move |h| h.slot as usize == slot)
    }

    /// True when any string value of `slot` satisfies `pred`.
    #[inline]
    pub fn any_str(&self, record: &[u8], slot: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.hits
            .iter()
            .any(|h| h.slot as usize == slot && h.kind == Kind::Str && pred(self.text(record, h)))
    }

    /// The first string value of `slot`.
    pub fn first_str<'a>(&'a self, record: &'a [u8], slot: usize) -> Option<&'a [u8]> {
        self.of(slot)
            .find(|h| h.kind == Kind::Str)
            .map(|h| self.text(record, h))
    }
}

/// The longest path (in bytes) a [`FieldSet`] can hold.
pub const MAX_PATH: usize = 255;

/// Why a dotted field path cannot be held by a [`FieldSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// The path is empty, or a segment is (`a..b`, `.a`, `a.`).
    EmptySegment,
    /// Longer than [`MAX_PATH`] bytes.
    TooLong,
}

/// The reason `p` is not a path a [`FieldSet`] holds, if any: the one rule for field sets and for the EQL
/// compiler, so that whatever compiles can be read.
pub fn path_problem(p: &str) -> Option<PathProblem> {
    if p.split('.').any(str::is_empty) {
        Some(PathProblem::EmptySegment)
    } else if p.len() > MAX_PATH {
        Some(PathProblem::TooLong)
    } else {
        None
    }
}

/// A node of the path trie: one segment under a parent node.
#[derive(Debug, Clone)]
struct Entry {
    parent: u32,
    seg: Box<[u8]>,
    /// The slot when the path ending here is wanted.
    slot: Option<u16>,
    /// Some wanted path continues below: descend into an object value.
    descend: bool,
}

/// The node id of the record's top level.
pub const ROOT: u32 = 0;

/// A set of wanted dotted paths, as a trie of path segments with one hash table over (parent node, segment),
/// so the scanner decides in one probe per key whether it is wanted, leads to a wanted path, or neither,
/// without building the full path. A dotted key (`"process.parent.name"`) walks one segment per dot, so
/// nested, dotted and mixed spellings reach the same node.
#[derive(Debug, Clone)]
pub struct FieldSet {
    names: Vec<String>,
    entries: Vec<Entry>,
    table: Vec<u32>,
    mask: usize,
}

const EMPTY: u32 = u32::MAX;

#[inline(always)]
fn load(k: &[u8], at: usize, width: usize) -> u64 {
    let mut v = 0u64;
    for (i, &b) in k[at..at + width].iter().enumerate() {
        v |= (b as u64) << (8 * i);
    }
    v
}

/// Hash of (parent node, segment): the first and last 8 (or 4) bytes and the length; the table compares
/// the whole segment on a hit, so a weak spot only costs a comparison.
#[inline(always)]
fn hash(parent: u32, k: &[u8]) -> usize {
    let n = k.len();
    let (a, b) = if n >= 8 {
        (
            u64::from_le_bytes([k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]]),
            u64::from_le_bytes([
                k[n - 8],
                k[n - 7],
                k[n - 6],
                k[n - 5],
                k[n - 4],
                k[n - 3],
                k[n - 2],
                k[n - 1],
            ]),
        )
    } else if n >= 4 {
        (load(k, 0, 4), load(k, n - 4, 4))
    } else {
        (load(k, 0, n), 0)
    };
    let h = (a ^ ((parent as u64) << 40) ^ (n as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (h ^ (h >> 29)) as usize
}

impl FieldSet {
    /// Builds the set; paths longer than [`MAX_PATH`] bytes are rejected. The slot of a path is its index.
    pub fn new<S: AsRef<str>>(paths: &[S]) -> Result<FieldSet, String> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut names = Vec::new();
        for (slot, p) in paths.iter().enumerate() {
            let p = p.as_ref();
            if path_problem(p).is_some() {
                return Err(format!("invalid field path `{p}`"));
            }
            names.push(p.to_string());
            let segs: Vec<&str> = p.split('.').collect();
            let mut node = ROOT;
            for (k, seg) in segs.iter().enumerate() {
                let idx = match entries
                    .iter()
                    .position(|e| e.parent == node && *e.seg == *seg.as_bytes())
                {
                    Some(i) => i,
                    None => {
                        entries.push(Entry {
                            parent: node,
                            seg: seg.as_bytes().into(),
                            slot: None,
                            descend: false,
                        });
                        entries.len() - 1
                    }
                };
                if k + 1 == segs.len() {
                    if entries[idx].slot.is_none() {
                        entries[idx].slot = Some(slot as u16);
                    }
                } else {
                    entries[idx].descend = true;
                }
                node = idx as u32 + 1;
            }
        }
        let size = (entries.len() * 4).next_power_of_two().max(16);
        let mut table = vec![EMPTY; size];
        for (i, e) in entries.iter().enumerate() {
            let mut j = hash(e.parent, &e.seg) & (size - 1);
            while table[j] != EMPTY {
                j = (j + 1) & (size - 1);
            }
            table[j] = i as u32;
        }
        Ok(FieldSet {
            names,
            entries,
            table,
            mask: size - 1,
        })
    }

    #[inline(always)]
    fn child(&self, parent: u32, seg: &[u8]) -> Option<u32> {
        let mut j = hash(parent, seg) & self.mask;
        loop {
            let e = self.table[j];
            if e == EMPTY {
                return None;
            }
            let entry = &self.entries[e as usize];
            if entry.parent == parent && *entry.seg == *seg {
                return Some(e + 1);
            }
            j = (j + 1) & self.mask;
        }
    }

    /// Looks up a key (possibly dotted) under node `parent`: `(node, slot, descend)`; node is `None` when the
    /// key leads nowhere wanted.
    #[inline(always)]
    pub fn lookup_key(&self, parent: u32, key: &[u8]) -> (Option<u32>, Option<u16>, bool) {
        let mut node = parent;
        let mut rest = key;
        loop {
            let dot = rest.iter().position(|&c| c == b'.');
            let seg = match dot {
                Some(d) => &rest[..d],
                None => rest,
            };
            match self.child(node, seg) {
                None => return (None, None, false),
                Some(c) => node = c,
            }
            match dot {
                Some(d) => rest = &rest[d + 1..],
                None => {
                    let e = &self.entries[node as usize - 1];
                    return (Some(node), e.slot, e.descend);
                }
            }
        }
    }

    /// Looks up a full dotted path from the top level: `(slot, descend)`.
    pub fn lookup(&self, path: &[u8]) -> (Option<u16>, bool) {
        let (_, slot, descend) = self.lookup_key(ROOT, path);
        (slot, descend)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The slot of a path, if it is in the set.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// Why a record could not be read. The record passes through unchanged and is counted as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// Empty, or only whitespace.
    Empty,
    /// Valid start, but the top-level value is not an object (an array, string, number...).
    NotObject,
    /// Not valid JSON (syntax, truncation, bad escape, control character in a string, trailing bytes...).
    Syntax { offset: u32 },
    /// A string holds bytes that are not UTF-8, or an unpaired surrogate escape.
    Utf8 { offset: u32 },
    /// Nested deeper than [`json::MAX_DEPTH`].
    TooDeep { offset: u32 },
    /// A number outside the range of a 64-bit float.
    NumberOutOfRange { offset: u32 },
    /// Longer than 4 GiB.
    TooLarge,
    /// Not a well-formed msgpack record.
    Msgpack { offset: u32 },
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::Empty => write!(f, "empty record"),
            RecordError::NotObject => write!(f, "record is not a JSON object"),
            RecordError::Syntax { offset } => write!(f, "invalid JSON at byte {offset}"),
            RecordError::Utf8 { offset } => {
                write!(f, "invalid UTF-8 or unpaired surrogate at byte {offset}")
            }
            RecordError::TooDeep { offset } => write!(
                f,
                "nesting deeper than {} at byte {offset}",
                json::MAX_DEPTH
            ),
            RecordError::NumberOutOfRange { offset } => {
                write!(f, "number out of range at byte {offset}")
            }
            RecordError::TooLarge => write!(f, "record larger than 4 GiB"),
            RecordError::Msgpack { offset } => write!(f, "invalid msgpack record at byte {offset}"),
        }
    }
}

impl std::error::Error for RecordError {}

#[cfg(test)]
mod tests {
    use super::FieldSet;

    #[test]
    fn lookup_paths_and_prefixes() {
        let f = FieldSet::new(&["process.parent.name", "process.name", "event.type"]).unwrap();
        assert_eq!(f.lookup(b"process"), (None, true));
        assert_eq!(f.lookup(b"process.parent"), (None, true));
        assert_eq!(f.lookup(b"process.parent.name"), (Some(0), false));
        assert_eq!(f.lookup(b"process.name"), (Some(1), false));
        assert_eq!(f.lookup(b"event.type"), (Some(2), false));
        assert_eq!(f.lookup(b"event"), (None, true));
        assert_eq!(f.lookup(b"proc"), (None, false));
        assert_eq!(f.lookup(b"process.parent.name.x"), (None, false));
        assert_eq!(f.lookup(b""), (None, false));
        let g = FieldSet::new(&["event", "event.kind"]).unwrap();
        assert_eq!(g.lookup(b"event"), (Some(0), true));
        assert!(FieldSet::new(&["a..b"]).is_err());
    }
}
