//! Zero-copy access to a record's fields. A [`FieldSet`] names the dotted field paths some consumer needs
//! (the compiled rule, the source profiles, the alert writer); a scanner makes one pass over the record bytes
//! and leaves a [`Hit`] in [`Hits`] for every value found at one of those paths, whether the path was written
//! nested (`{"process":{"name":...}}`), dotted (`{"process.name":...}`) or mixed. Hits borrow the record:
//! they are offsets into it, or into a reused decode buffer for the rare string that holds escapes.

pub mod json;

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
        self.hits.iter().any(|h| h.slot as usize == slot && h.kind == Kind::Str && pred(self.text(record, h)))
    }

    /// The first string value of `slot`.
    pub fn first_str<'a>(&'a self, record: &'a [u8], slot: usize) -> Option<&'a [u8]> {
        self.of(slot).find(|h| h.kind == Kind::Str).map(|h| self.text(record, h))
    }
}

/// The longest path (in bytes) a [`FieldSet`] can hold.
pub const MAX_PATH: usize = 255;

#[derive(Debug, Clone)]
struct Entry {
    path: Box<[u8]>,
    /// The slot when the path itself is wanted.
    slot: Option<u16>,
    /// Some wanted path extends this one: descend into an object value.
    descend: bool,
}

/// A set of wanted dotted paths, with a hash index over every path and every prefix of one (at a `.`), so
/// that the scanner can decide in one probe whether a key is wanted, leads to a wanted key, or neither.
#[derive(Debug, Clone)]
pub struct FieldSet {
    names: Vec<String>,
    entries: Vec<Entry>,
    table: Vec<u16>,
    mask: usize,
}

const EMPTY: u16 = u16::MAX;

#[inline]
fn hash(b: &[u8]) -> usize {
    // FNV-1a over 8-byte words: keys are short, the table is tiny; any decent mix will do.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
    let mut last = 0u64;
    for (i, &x) in chunks.remainder().iter().enumerate() {
        last |= (x as u64) << (8 * i);
    }
    h = (h ^ last).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h ^ (h >> 32)) as usize
}

impl FieldSet {
    /// Builds the set; paths longer than [`MAX_PATH`] bytes are rejected. The slot of a path is its index.
    pub fn new<S: AsRef<str>>(paths: &[S]) -> Result<FieldSet, String> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut names = Vec::new();
        for (slot, p) in paths.iter().enumerate() {
            let p = p.as_ref();
            if p.is_empty() || p.len() > MAX_PATH || p.starts_with('.') || p.ends_with('.') || p.contains("..") {
                return Err(format!("invalid field path `{p}`"));
            }
            names.push(p.to_string());
            let b = p.as_bytes();
            let mut cuts: Vec<usize> = b.iter().enumerate().filter(|(_, c)| **c == b'.').map(|(i, _)| i).collect();
            cuts.push(b.len());
            for (k, &cut) in cuts.iter().enumerate() {
                let prefix = &b[..cut];
                let last = k + 1 == cuts.len();
                let idx = match entries.iter().position(|e| &*e.path == prefix) {
                    Some(i) => i,
                    None => {
                        entries.push(Entry { path: prefix.into(), slot: None, descend: false });
                        entries.len() - 1
                    }
                };
                if last {
                    if entries[idx].slot.is_none() {
                        entries[idx].slot = Some(slot as u16);
                    }
                } else {
                    entries[idx].descend = true;
                }
            }
        }
        let size = (entries.len() * 4).next_power_of_two().max(16);
        let mut table = vec![EMPTY; size];
        for (i, e) in entries.iter().enumerate() {
            let mut j = hash(&e.path) & (size - 1);
            while table[j] != EMPTY {
                j = (j + 1) & (size - 1);
            }
            table[j] = i as u16;
        }
        Ok(FieldSet { names, entries, table, mask: size - 1 })
    }

    /// Looks up a full path: `(slot, descend)`.
    #[inline]
    pub fn lookup(&self, path: &[u8]) -> (Option<u16>, bool) {
        let mut j = hash(path) & self.mask;
        loop {
            let e = self.table[j];
            if e == EMPTY {
                return (None, false);
            }
            let entry = &self.entries[e as usize];
            if *entry.path == *path {
                return (entry.slot, entry.descend);
            }
            j = (j + 1) & self.mask;
        }
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
            RecordError::Utf8 { offset } => write!(f, "invalid UTF-8 or unpaired surrogate at byte {offset}"),
            RecordError::TooDeep { offset } => write!(f, "nesting deeper than {} at byte {offset}", json::MAX_DEPTH),
            RecordError::NumberOutOfRange { offset } => write!(f, "number out of range at byte {offset}"),
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
