//! Zero-copy msgpack: the record walker for Fluent Bit chunks, and the msgpack twin of the JSON scanner.
//!
//! A Fluent Bit chunk is records back to back, each `[[timestamp, metadata], body]` (v2) or
//! `[timestamp, body]` (legacy), the timestamp an integer, a float or EventTime (ext type 0: big-endian u32
//! seconds, u32 nanoseconds). [`records`] walks a chunk and yields each record's byte ranges; [`scan`] walks a
//! body map and leaves [`Hit`]s exactly like the JSON scanner (strings are raw UTF-8 in msgpack, so their text
//! is always a slice of the chunk; wanted numbers are written in decimal into the decode buffer, so shape
//! checks such as `EventID == 1` read alike in both formats). Values nothing asks for are skipped by their
//! length prefixes, iteratively: no recursion, any nesting depth passes.

use super::{FieldSet, Hit, Hits, Kind, RecordError, ROOT};
use std::io::Write;

/// What a msgpack head says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Nil,
    Bool,
    Uint,
    Int,
    Float,
    Str,
    Bin,
    Array,
    Map,
    Ext(i8),
}

/// A decoded head: type, `n` (element count for containers, payload length for str/bin/ext, the value for
/// integers and booleans, the bits for floats), and the head's length in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Head {
    pub ty: Ty,
    pub n: u64,
    pub len: usize,
}

impl Head {
    /// Bytes of payload after the head (strings, bins, exts).
    #[inline]
    pub fn payload(&self) -> usize {
        match self.ty {
            Ty::Str | Ty::Bin | Ty::Ext(_) => self.n as usize,
            _ => 0,
        }
    }
}

#[inline]
fn be(b: &[u8], i: usize, w: usize) -> Result<u64, RecordError> {
    let s = b
        .get(i..i + w)
        .ok_or(RecordError::Msgpack { offset: i as u32 })?;
    Ok(s.iter().fold(0u64, |a, &c| (a << 8) | c as u64))
}

/// Decodes the head at `i`; the payload is not checked to be in bounds here.
#[inline]
pub fn head(b: &[u8], i: usize) -> Result<Head, RecordError> {
    let c = *b.get(i).ok_or(RecordError::Msgpack { offset: i as u32 })?;
    let h = |ty, n, len| Ok(Head { ty, n, len });
    match c {
        0x00..=0x7f => h(Ty::Uint, c as u64, 1),
        0x80..=0x8f => h(Ty::Map, (c & 0x0f) as u64, 1),
        0x90..=0x9f => h(Ty::Array, (c & 0x0f) as u64, 1),
        0xa0..=0xbf => h(Ty::Str, (c & 0x1f) as u64, 1),
        0xc0 => h(Ty::Nil, 0, 1),
        0xc2 => h(Ty::Bool, 0, 1),
        0xc3 => h(Ty::Bool, 1, 1),
        0xc4 => h(Ty::Bin, be(b, i + 1, 1)?, 2),
        0xc5 => h(Ty::Bin, be(b, i + 1, 2)?, 3),
        0xc6 => h(Ty::Bin, be(b, i + 1, 4)?, 5),
        0xc7 => h(Ty::Ext(be(b, i + 2, 1)? as u8 as i8), be(b, i + 1, 1)?, 3),
        0xc8 => h(Ty::Ext(be(b, i + 3, 1)? as u8 as i8), be(b, i + 1, 2)?, 4),
        0xc9 => h(Ty::Ext(be(b, i + 5, 1)? as u8 as i8), be(b, i + 1, 4)?, 6),
        0xca => h(
            Ty::Float,
            (f32::from_bits(be(b, i + 1, 4)? as u32) as f64).to_bits(),
            5,
        ),
        0xcb => h(Ty::Float, be(b, i + 1, 8)?, 9),
        0xcc => h(Ty::Uint, be(b, i + 1, 1)?, 2),
        0xcd => h(Ty::Uint, be(b, i + 1, 2)?, 3),
        0xce => h(Ty::Uint, be(b, i + 1, 4)?, 5),
        0xcf => h(Ty::Uint, be(b, i + 1, 8)?, 9),
        0xd0 => h(Ty::Int, be(b, i + 1, 1)? as u8 as i8 as i64 as u64, 2),
        0xd1 => h(Ty::Int, be(b, i + 1, 2)? as u16 as i16 as i64 as u64, 3),
        0xd2 => h(Ty::Int, be(b, i + 1, 4)? as u32 as i32 as i64 as u64, 5),
        0xd3 => h(Ty::Int, be(b, i + 1, 8)?, 9),
        0xd4 => h(Ty::Ext(be(b, i + 1, 1)? as u8 as i8), 1, 2),
        0xd5 => h(Ty::Ext(be(b, i + 1, 1)? as u8 as i8), 2, 2),
        0xd6 => h(Ty::Ext(be(b, i + 1, 1)? as u8 as i8), 4, 2),
        0xd7 => h(Ty::Ext(be(b, i + 1, 1)? as u8 as i8), 8, 2),
        0xd8 => h(Ty::Ext(be(b, i + 1, 1)? as u8 as i8), 16, 2),
        0xd9 => h(Ty::Str, be(b, i + 1, 1)?, 2),
        0xda => h(Ty::Str, be(b, i + 1, 2)?, 3),
        0xdb => h(Ty::Str, be(b, i + 1, 4)?, 5),
        0xdc => h(Ty::Array, be(b, i + 1, 2)?, 3),
        0xdd => h(Ty::Array, be(b, i + 1, 4)?, 5),
        0xde => h(Ty::Map, be(b, i + 1, 2)?, 3),
        0xdf => h(Ty::Map, be(b, i + 1, 4)?, 5),
        0xe0..=0xff => h(Ty::Int, c as i8 as i64 as u64, 1),
        _ => Err(RecordError::Msgpack { offset: i as u32 }), // 0xc1 is never used
    }
}

/// Offset just past the whole value at `i` (iterative, bounded by the input length). The heads Fluent Bit
/// writes most (fix-size maps, arrays, strings and integers, `str8`) are decoded inline; the rest through
/// [`head`].
pub fn skip(b: &[u8], mut i: usize) -> Result<usize, RecordError> {
    let mut left: u64 = 1;
    while left > 0 {
        let at = i;
        let c = *b.get(i).ok_or(RecordError::Msgpack { offset: i as u32 })?;
        left -= 1;
        match c {
            0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => i += 1,
            0xa0..=0xbf => i += 1 + (c & 0x1f) as usize,
            0x80..=0x8f => {
                left += 2 * (c & 0x0f) as u64;
                i += 1;
            }
            0x90..=0x9f => {
                left += (c & 0x0f) as u64;
                i += 1;
            }
            0xd9 => {
                i += 2 + *b
                    .get(i + 1)
                    .ok_or(RecordError::Msgpack { offset: i as u32 })?
                    as usize
            }
            _ => {
                let h = head(b, i)?;
                match h.ty {
                    Ty::Array => left += h.n,
                    Ty::Map => left += 2 * h.n,
                    _ => {}
                }
                i = i
                    .checked_add(h.len + h.payload())
                    .ok_or(RecordError::Msgpack { offset: i as u32 })?;
            }
        }
        if i > b.len() {
            return Err(RecordError::Msgpack { offset: at as u32 });
        }
    }
    Ok(i)
}

/// A record's timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Time {
    /// EventTime: seconds and nanoseconds.
    Event(u32, u32),
    /// Integer seconds (any width; a group marker is always an EventTime, never an integer).
    Int(u64),
    Float(f64),
}

impl Time {
    pub fn seconds(&self) -> i64 {
        match *self {
            Time::Event(s, _) => s as i64,
            Time::Int(s) => s.min(i64::MAX as u64) as i64,
            Time::Float(f) => f.floor() as i64,
        }
    }

    /// A group start or end marker (EventTime seconds 0xFFFFFFFF / 0xFFFFFFFE).
    pub fn is_group_marker(&self) -> bool {
        matches!(self, Time::Event(0xFFFF_FFFF | 0xFFFF_FFFE, _))
    }
}

/// One record of a chunk, as byte ranges of the chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record {
    /// The whole record: `start..end`.
    pub start: usize,
    pub end: usize,
    /// The body map: `body..end` (the body is the record's last element).
    pub body: usize,
    pub time: Time,
}

fn time_at(b: &[u8], i: usize) -> Result<Time, RecordError> {
    let h = head(b, i)?;
    let bad = RecordError::Msgpack { offset: i as u32 };
    match h.ty {
        Ty::Ext(0) if h.n == 8 => Ok(Time::Event(
            be(b, i + h.len, 4)? as u32,
            be(b, i + h.len + 4, 4)? as u32,
        )),
        Ty::Uint => Ok(Time::Int(h.n)),
        // A non-negative value in a signed encoding (`d0`..`d3`) is a positive integer to msgpack readers.
        Ty::Int if (h.n as i64) >= 0 => Ok(Time::Int(h.n)),
        Ty::Float => Ok(Time::Float(f64::from_bits(h.n))),
        _ => Err(bad),
    }
}

/// Reads the record at `i`: `Ok(record)`, or the error and (when its extent could still be found) where the
/// next record starts.
pub fn record_at(b: &[u8], i: usize) -> Result<Record, (RecordError, Option<usize>)> {
    let end = skip(b, i).map_err(|e| (e, None))?;
    let bad = |off: usize| (RecordError::Msgpack { offset: off as u32 }, Some(end));
    let h = head(b, i).map_err(|_| bad(i))?;
    if h.ty != Ty::Array || h.n != 2 {
        return Err(bad(i));
    }
    let first = i + h.len;
    let fh = head(b, first).map_err(|_| bad(first))?;
    let time = if fh.ty == Ty::Array {
        // v2: [[timestamp, metadata], body]
        if fh.n != 2 {
            return Err(bad(first));
        }
        time_at(b, first + fh.len).map_err(|_| bad(first))?
    } else {
        time_at(b, first).map_err(|_| bad(first))?
    };
    let body = skip(b, first).map_err(|_| bad(first))?;
    let bh = head(b, body).map_err(|_| bad(body))?;
    if bh.ty != Ty::Map {
        return Err(bad(body));
    }
    Ok(Record {
        start: i,
        end,
        body,
        time,
    })
}

/// The records of a chunk, in order; after an error whose extent is unknown, iteration stops.
pub fn records(
    chunk: &[u8],
) -> impl Iterator<Item = (usize, Result<Record, (RecordError, Option<usize>)>)> + '_ {
    let mut i = 0usize;
    std::iter::from_fn(move || {
        if i >= chunk.len() {
            return None;
        }
        let at = i;
        let r = record_at(chunk, i);
        i = match &r {
            Ok(rec) => rec.end,
            Err((_, Some(next))) => *next,
            Err((_, None)) => chunk.len(),
        };
        Some((at, r))
    })
}

/// The head every record Fluent Bit writes starts with: `[[EventTime` (a 2-array, a 2-array, ext 8 type 0).
pub const MARK: [u8; 4] = [0x92, 0x92, 0xd7, 0x00];

/// Counts the records of a chunk region without reading them, by their [`MARK`]s (group markers, whose
/// EventTime seconds are `0xFFFFFFFF`/`0xFFFFFFFE`, are not records). `None` unless the region starts with a
/// mark. The count is exact for regions of records Fluent Bit writes, unless a record holds the mark's four
/// bytes inside a value (a number or a non-UTF-8 string), which then counts once more.
pub fn count_marks(region: &[u8]) -> Option<u64> {
    if !region.starts_with(&MARK) {
        return None;
    }
    // 0xd7 (ext 8) is rare in records, so a single-byte search finds the marks' third bytes fastest.
    let n = memchr::memchr_iter(0xd7, region)
        .filter(|&k| {
            k >= 2
                && region[k - 2..k] == MARK[..2]
                && region.get(k + 1) == Some(&0x00)
                && !matches!(
                    region.get(k + 2..k + 6),
                    Some([0xff, 0xff, 0xff, 0xff | 0xfe])
                )
        })
        .count();
    Some(n as u64)
}

/// One open container of the walker.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    /// Items still to read (for maps: keys and values).
    left: u64,
    map: bool,
    relevant: bool,
    node: u32,
    slot: u16,
    hit: u32,
    obj: u32,
}

/// The deepest nesting of wanted containers followed (deeper ones are skipped as values).
pub const MAX_DEPTH: usize = 127;

const NO_SLOT: u16 = u16::MAX;

/// Scans one body map starting at `body[0]` (offsets in the hits are relative to `body`).
pub fn scan(body: &[u8], fields: &FieldSet, out: &mut Hits) -> Result<(), RecordError> {
    out.clear();
    if body.len() > u32::MAX as usize - 16 {
        return Err(RecordError::TooLarge);
    }
    let h = head(body, 0)?;
    if h.ty != Ty::Map {
        return Err(RecordError::NotObject);
    }
    let mut stack = std::mem::take(&mut out.mstack);
    stack.clear();
    stack.push(Frame {
        left: 2 * h.n,
        map: true,
        relevant: true,
        node: ROOT,
        slot: NO_SLOT,
        hit: 0,
        obj: 0,
    });
    let r = walk(body, fields, out, &mut stack, h.len);
    out.mstack = stack;
    r
}

fn walk(
    b: &[u8],
    fields: &FieldSet,
    out: &mut Hits,
    stack: &mut Vec<Frame>,
    mut i: usize,
) -> Result<(), RecordError> {
    let bad = |i: usize| RecordError::Msgpack { offset: i as u32 };
    // The wanted-ness of the next value.
    let (mut p_slot, mut p_desc, mut p_node) = (NO_SLOT, false, ROOT);
    loop {
        // Close finished containers.
        while let Some(top) = stack.last() {
            if top.left > 0 {
                break;
            }
            if top.hit != 0 {
                out.hits[top.hit as usize - 1].end = i as u32;
            }
            stack.pop();
        }
        let Some(top) = stack.last_mut() else {
            return if i == b.len() { Ok(()) } else { Err(bad(i)) };
        };
        let key_turn = top.map && top.left % 2 == 0;
        top.left -= 1;
        let top = *top;
        let h = head(b, i)?;
        let end = i
            .checked_add(h.len + h.payload())
            .filter(|&e| e <= b.len())
            .ok_or(bad(i))?;
        if key_turn {
            (p_slot, p_desc, p_node) = (NO_SLOT, false, ROOT);
            match h.ty {
                Ty::Str if top.relevant => {
                    let (node, slot, desc) = fields.lookup_key(top.node, &b[i + h.len..end]);
                    if let Some(node) = node {
                        (p_slot, p_desc, p_node) = (slot.unwrap_or(NO_SLOT), desc, node);
                    }
                    i = end;
                }
                Ty::Array | Ty::Map => i = skip(b, i)?,
                _ => i = end,
            }
            continue;
        }
        if !top.map {
            // An array element inherits the array's wanted-ness.
            (p_slot, p_desc, p_node) = (top.slot, top.relevant, top.node);
        }
        let in_array = !top.map;
        match h.ty {
            Ty::Array | Ty::Map if p_slot == NO_SLOT && !p_desc => i = skip(b, i)?,
            Ty::Array | Ty::Map => {
                if stack.len() >= MAX_DEPTH {
                    return Err(RecordError::TooDeep { offset: i as u32 });
                }
                let map = h.ty == Ty::Map;
                let mut hit = 0;
                if p_slot != NO_SLOT {
                    out.hits.push(Hit {
                        slot: p_slot,
                        kind: if map { Kind::Object } else { Kind::Array },
                        in_array,
                        decoded: false,
                        start: i as u32,
                        end: i as u32,
                        text: (0, 0),
                        container: top.obj,
                    });
                    hit = out.hits.len() as u32;
                }
                stack.push(Frame {
                    left: if map { 2 * h.n } else { h.n },
                    map,
                    relevant: p_desc,
                    node: p_node,
                    slot: if map { NO_SLOT } else { p_slot },
                    hit,
                    obj: if map { i as u32 } else { top.obj },
                });
                i += h.len;
            }
            ty => {
                if p_slot != NO_SLOT {
                    let mut hit = Hit {
                        slot: p_slot,
                        kind: Kind::Null,
                        in_array,
                        decoded: false,
                        start: i as u32,
                        end: end as u32,
                        text: (0, 0),
                        container: top.obj,
                    };
                    match ty {
                        Ty::Str => {
                            hit.kind = Kind::Str;
                            hit.text = ((i + h.len) as u32, end as u32);
                        }
                        Ty::Bool => hit.kind = Kind::Bool,
                        Ty::Uint | Ty::Int | Ty::Float => {
                            hit.kind = Kind::Number;
                            let mark = out.decoded.len();
                            let _ = match ty {
                                Ty::Uint => write!(out.decoded, "{}", h.n),
                                Ty::Int => write!(out.decoded, "{}", h.n as i64),
                                _ => write!(out.decoded, "{}", f64::from_bits(h.n)),
                            };
                            hit.decoded = true;
                            hit.text = (mark as u32, out.decoded.len() as u32);
                        }
                        _ => {} // nil, bin, ext: not a string, number or boolean
                    }
                    out.hits.push(hit);
                }
                i = end;
            }
        }
    }
}

/// Writes `v` as msgpack (the alert field values: strings, integers, arrays, maps).
pub fn encode(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match v {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => encode_uint(u, out),
            (None, Some(i)) => {
                out.push(0xd3);
                out.extend_from_slice(&i.to_be_bytes());
            }
            _ => {
                out.push(0xcb);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_bits().to_be_bytes());
            }
        },
        Value::String(s) => encode_str(s.as_bytes(), out),
        Value::Array(a) => {
            encode_len(a.len(), 0x90, 0xdc, out);
            a.iter().for_each(|e| encode(e, out));
        }
        Value::Object(m) => {
            map_header(m.len(), out);
            for (k, v) in m {
                encode_str(k.as_bytes(), out);
                encode(v, out);
            }
        }
    }
}

fn encode_uint(u: u64, out: &mut Vec<u8>) {
    if u < 0x80 {
        out.push(u as u8);
    } else if u <= 0xff {
        out.extend_from_slice(&[0xcc, u as u8]);
    } else if u <= 0xffff {
        out.push(0xcd);
        out.extend_from_slice(&(u as u16).to_be_bytes());
    } else if u <= 0xffff_ffff {
        out.push(0xce);
        out.extend_from_slice(&(u as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn encode_len(n: usize, fix: u8, wide: u8, out: &mut Vec<u8>) {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(wide);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(wide + 1);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// A map header for `n` pairs.
pub fn map_header(n: usize, out: &mut Vec<u8>) {
    encode_len(n, 0x80, 0xde, out);
}

/// A string.
pub fn encode_str(s: &[u8], out: &mut Vec<u8>) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// Transcodes one JSON text to msgpack as Fluent Bit's JSON parser writes it: key order kept, non-negative integers
/// in their smallest encoding, negative ones as int 64, other numbers as float 64. For benchmarks and tests that need realistic chunks.
pub fn from_json(text: &[u8], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    use serde::Deserializer;
    let mut de = serde_json::Deserializer::from_slice(text);
    de.deserialize_any(Transcode(out))?;
    de.end()
}

struct Transcode<'a>(&'a mut Vec<u8>);

impl<'de> serde::de::Visitor<'de> for Transcode<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.push(0xc0);
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.push(if v { 0xc3 } else { 0xc2 });
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        encode_uint(v, self.0);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        if v >= 0 {
            encode_uint(v as u64, self.0);
        } else {
            self.0.push(0xd3);
            self.0.extend_from_slice(&v.to_be_bytes());
        }
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0.push(0xcb);
        self.0.extend_from_slice(&v.to_bits().to_be_bytes());
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        encode_str(v.as_bytes(), self.0);
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        let mut n = 0;
        while seq.next_element_seed(Transcode(&mut items))?.is_some() {
            n += 1;
        }
        encode_len(n, 0x90, 0xdc, self.0);
        self.0.extend_from_slice(&items);
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        let mut n = 0;
        while map.next_key_seed(Transcode(&mut items))?.is_some() {
            map.next_value_seed(Transcode(&mut items))?;
            n += 1;
        }
        map_header(n, self.0);
        self.0.extend_from_slice(&items);
        Ok(())
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Transcode<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_marks_counts_records_not_group_markers() {
        let rec = [
            0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 5, 0, 0, 0, 0, 0x80, 0x81, 0xa1, b'a', 0xd7,
        ];
        let grp = [
            0x92, 0x92, 0xd7, 0x00, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0x80, 0x80,
        ];
        let mut region = rec.to_vec();
        region.extend_from_slice(&grp);
        region.extend_from_slice(&rec);
        assert_eq!(count_marks(&region), Some(2));
        assert_eq!(count_marks(&region[1..]), None, "must start at a mark");
        assert_eq!(count_marks(&[0x92, 0x92, 0xd7]), None);
        assert_eq!(count_marks(&MARK), Some(1));
    }

    #[test]
    fn real_fluent_bit_record() {
        // v5.1.1 bytes for a dummy {"a":1}: [[ext0(sec, nsec), {}], {"a": 1}]
        let b = [
            0x92, 0x92, 0xd7, 0x00, 0x6b, 0x0b, 0x61, 0x79, 0x17, 0x3c, 0x76, 0xf0, 0x80, 0x81,
            0xa1, 0x61, 0x01,
        ];
        let r = record_at(&b, 0).unwrap();
        assert_eq!((r.start, r.end, r.body), (0, b.len(), 13));
        assert_eq!(r.time, Time::Event(0x6b0b6179, 0x173c76f0));
        let f = FieldSet::new(&["a"]).unwrap();
        let mut hits = Hits::default();
        scan(&b[r.body..], &f, &mut hits).unwrap();
        assert_eq!(hits.hits.len(), 1);
        assert_eq!(hits.text(&b[r.body..], &hits.hits[0]), b"1");
    }

    #[test]
    fn skip_is_bounded_by_input() {
        // An array claiming 4 billion elements in 5 bytes.
        assert!(skip(&[0xdd, 0xff, 0xff, 0xff, 0xff], 0).is_err());
        assert!(skip(&[0xdb, 0, 0, 0, 9, b'a'], 0).is_err());
        assert_eq!(skip(&[0x91, 0x91, 0x91, 0xc0], 0), Ok(4));
    }

    #[test]
    fn from_json_keeps_key_order_and_agrees_with_encode() {
        let text = br#"{"z":[1,-2,3.5,"s",null,true],"a":{"k":"v"},"n":300}"#;
        let mut ours = Vec::new();
        from_json(text, &mut ours).unwrap();
        let mut hits = Hits::default();
        let f = FieldSet::new(&["z", "a.k", "n"]).unwrap();
        scan(&ours, &f, &mut hits).unwrap();
        assert_eq!(ours[..3], [0x83, 0xa1, b'z'], "first key first");
        let v: serde_json::Value = serde_json::from_slice(text).unwrap();
        assert_eq!(skip(&ours, 0), Ok(ours.len()));
        let mut theirs = Vec::new();
        encode(&v, &mut theirs);
        assert_eq!(ours.len(), theirs.len(), "same encodings, other order");
        assert!(from_json(b"{\"a\":1} x", &mut Vec::new()).is_err());
    }
}
