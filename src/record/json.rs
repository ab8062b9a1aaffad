//! The JSON record scanner: one forward pass over a record, no recursion, no allocation (after warm-up),
//! validating the whole record exactly as strictly as `serde_json::from_slice::<Value>` (the same syntax
//! errors, UTF-8 and surrogate checks, number range and nesting limit), so a record that serde_json would
//! reject is never mistaken for an alert, and every record serde_json reads gets the same field values.
//!
//! Strings are skipped eight bytes at a time (SWAR: a word is searched for `"`, `\` and control bytes at
//! once); keys are compared against the wanted paths only inside objects that lead to a wanted path, through
//! the [`FieldSet`] hash index; escapes are decoded only in wanted keys and values that hold a backslash.

use super::{FieldSet, Hit, Hits, Kind, RecordError, ROOT};

/// The deepest nesting accepted: serde_json's recursion limit (it fails on the 128th nested container).
pub const MAX_DEPTH: usize = 127;

const NO_SLOT: u16 = u16::MAX;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Level {
    array: bool,
    /// Keys of this object (or objects in this array) may lead to wanted paths.
    relevant: bool,
    /// For arrays: the slot its scalar elements belong to.
    slot: u16,
    /// The [`FieldSet`] trie node of this level's path.
    node: u32,
    /// Index + 1 of the hit recorded for this container (to patch its end), or 0.
    hit: u32,
    /// Offset of the `{` of the object whose keys live here (for arrays: of the enclosing object).
    obj: u32,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Index of the first `"`, `\\` or control byte at or after `j` (or `rec.len()`); sets `high` when a byte
/// >= 0x80 was passed over on the way (possibly a few bytes past the result: only a hint to validate UTF-8).
#[inline(always)]
fn find_special(rec: &[u8], mut j: usize, high: &mut bool) -> usize {
    let n = rec.len();
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SSE2 is part of the x86-64 baseline: 16 bytes per step, measured ~2x the SWAR loop on records
        // whose strings average 20-60 bytes.
        while j + 16 <= n {
            // SAFETY: `j + 16 <= rec.len()`, so the unaligned 16-byte load stays inside `rec`; SSE2 is always
            // available on x86-64.
            let (m, h) = unsafe {
                let v = _mm_loadu_si128(rec.as_ptr().add(j) as *const __m128i);
                let q = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let b = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                let lo = _mm_set1_epi8(0x1f);
                let c = _mm_cmpeq_epi8(_mm_max_epu8(v, lo), lo);
                (
                    _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c)) as u32,
                    _mm_movemask_epi8(v),
                )
            };
            if h != 0 {
                *high = true;
            }
            if m != 0 {
                return j + m.trailing_zeros() as usize;
            }
            j += 16;
        }
    }
    while j + 8 <= n {
        let w = u64::from_le_bytes([
            rec[j],
            rec[j + 1],
            rec[j + 2],
            rec[j + 3],
            rec[j + 4],
            rec[j + 5],
            rec[j + 6],
            rec[j + 7],
        ]);
        let q = w ^ (LO * b'"' as u64);
        let b = w ^ (LO * b'\\' as u64);
        // The lowest flagged byte of each term is exact (borrows only run upwards).
        let m = (q.wrapping_sub(LO) & !q)
            | (b.wrapping_sub(LO) & !b)
            | (w.wrapping_sub(LO * 0x20) & !w);
        let m = m & HI;
        if w & HI != 0 {
            *high = true;
        }
        if m != 0 {
            return j + (m.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < n {
        let c = rec[j];
        if c == b'"' || c == b'\\' || c < 0x20 {
            return j;
        }
        if c >= 0x80 {
            *high = true;
        }
        j += 1;
    }
    n
}

#[inline]
fn hex4(rec: &[u8], at: usize) -> Option<u32> {
    let d = rec.get(at..at + 4)?;
    let mut v = 0u32;
    for &c in d {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// Validates the escape whose backslash is at `k`; returns the offset just past it.
#[inline]
fn escape(rec: &[u8], k: usize) -> Result<usize, RecordError> {
    let off = k as u32;
    match rec.get(k + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(k + 2),
        Some(b'u') => {
            let cp = hex4(rec, k + 2).ok_or(RecordError::Syntax { offset: off })?;
            match cp {
                0xDC00..=0xDFFF => Err(RecordError::Utf8 { offset: off }),
                0xD800..=0xDBFF => {
                    if rec.get(k + 6) != Some(&b'\\') || rec.get(k + 7) != Some(&b'u') {
                        return Err(RecordError::Utf8 { offset: off });
                    }
                    match hex4(rec, k + 8) {
                        Some(0xDC00..=0xDFFF) => Ok(k + 12),
                        Some(_) => Err(RecordError::Utf8 { offset: off }),
                        None => Err(RecordError::Syntax { offset: off }),
                    }
                }
                _ => Ok(k + 6),
            }
        }
        _ => Err(RecordError::Syntax { offset: off }),
    }
}

/// Scans the string whose opening quote is at `i`: returns (offset of the closing quote, has escapes).
#[inline]
fn string(rec: &[u8], i: usize) -> Result<(usize, bool), RecordError> {
    let mut j = i + 1;
    let mut esc = false;
    let mut high = false;
    loop {
        j = find_special(rec, j, &mut high);
        match rec.get(j) {
            Some(b'"') => break,
            Some(b'\\') => {
                esc = true;
                j = escape(rec, j)?;
            }
            Some(_) => return Err(RecordError::Syntax { offset: j as u32 }),
            None => {
                return Err(RecordError::Syntax {
                    offset: rec.len() as u32,
                })
            }
        }
    }
    if high {
        if let Err(e) = std::str::from_utf8(&rec[i + 1..j]) {
            return Err(RecordError::Utf8 {
                offset: (i + 1 + e.valid_up_to()) as u32,
            });
        }
    }
    Ok((j, esc))
}

/// Decodes the (already validated) JSON string body `s` into `out`.
pub fn unescape_into(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            let next = memchr::memchr(b'\\', &s[i..]).map_or(s.len(), |k| i + k);
            out.extend_from_slice(&s[i..next]);
            i = next;
            continue;
        }
        let e = s.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        let byte = match e {
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let mut cp = hex4(s, i).unwrap_or(0xFFFD);
                i += 4;
                if (0xD800..0xDC00).contains(&cp) {
                    let lo = hex4(s, i + 2).unwrap_or(0xDC00);
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                }
                let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                let mut b = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                continue;
            }
            other => other,
        };
        out.push(byte);
    }
}

/// Validates a number starting at `i`; returns the offset just past it.
#[inline]
fn number(rec: &[u8], i: usize) -> Result<usize, RecordError> {
    let n = rec.len();
    let s = i;
    let mut j = i;
    let bad = |j: usize| RecordError::Syntax { offset: j as u32 };
    if rec[j] == b'-' {
        j += 1;
    }
    match rec.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => {
            while j < n && rec[j].is_ascii_digit() {
                j += 1;
            }
        }
        _ => return Err(bad(j)),
    }
    let mut float = false;
    if j < n && rec[j] == b'.' {
        float = true;
        j += 1;
        if !matches!(rec.get(j), Some(b'0'..=b'9')) {
            return Err(bad(j));
        }
        while j < n && rec[j].is_ascii_digit() {
            j += 1;
        }
    }
    if j < n && (rec[j] == b'e' || rec[j] == b'E') {
        float = true;
        j += 1;
        if j < n && (rec[j] == b'+' || rec[j] == b'-') {
            j += 1;
        }
        if !matches!(rec.get(j), Some(b'0'..=b'9')) {
            return Err(bad(j));
        }
        while j < n && rec[j].is_ascii_digit() {
            j += 1;
        }
    }
    // serde_json rejects numbers that overflow an f64: only an exponent, or more than 300 digits, can.
    if (float && rec[s..j].iter().any(|&c| c == b'e' || c == b'E')) || j - s > 300 {
        let text = std::str::from_utf8(&rec[s..j]).unwrap_or("0");
        if !text.parse::<f64>().is_ok_and(f64::is_finite) {
            return Err(RecordError::NumberOutOfRange { offset: s as u32 });
        }
    }
    Ok(j)
}

#[inline(always)]
fn ws(rec: &[u8], mut i: usize) -> usize {
    while i < rec.len() && matches!(rec[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// Where the scanners ([`scan_inner`] and [`skip_container`]) stand between two tokens: what may come next.
/// Both close an empty container where it opens, so right after `{` comes a key and after `[` a value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// A key (a string) and its `:`.
    Key,
    /// A value: a string, number, literal, or a container to open.
    Value,
    /// After a value: `,` or the innermost container's close.
    After,
}

/// Validates and skips the container opening at `i` (`{` or `[`), inside `open` already open containers;
/// returns the offset just past its close. The same checks as the main scanner, without any field tracking.
fn skip_container(rec: &[u8], mut i: usize, open: usize) -> Result<usize, RecordError> {
    let n = rec.len();
    let syntax = |i: usize| RecordError::Syntax { offset: i as u32 };
    // Bit k of `arrays` is set when the container at relative depth k is an array; depth 0 = innermost.
    let mut arrays: u128 = 0;
    let mut depth = 0usize;
    let mut state: Expect;
    // Opens the container at `i`; an empty one is closed at once (as `scan_inner` does), so the states are
    // the main scanner's own.
    macro_rules! open {
        () => {{
            if open + depth + 1 > MAX_DEPTH {
                return Err(RecordError::TooDeep { offset: i as u32 });
            }
            let array = rec[i] == b'[';
            arrays = (arrays << 1) | array as u128;
            depth += 1;
            i = ws(rec, i + 1);
            if i < n && rec[i] == if array { b']' } else { b'}' } {
                i += 1;
                arrays >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
                state = Expect::After;
            } else if array {
                state = Expect::Value;
            } else {
                state = Expect::Key;
            }
        }};
    }
    open!();
    loop {
        i = ws(rec, i);
        if i >= n {
            return Err(syntax(i));
        }
        let c = rec[i];
        match state {
            Expect::Key => {
                if c != b'"' {
                    return Err(syntax(i));
                }
                let (end, _) = string(rec, i)?;
                i = ws(rec, end + 1);
                if i >= n || rec[i] != b':' {
                    return Err(syntax(i));
                }
                i += 1;
                state = Expect::Value;
            }
            Expect::Value => match c {
                b'"' => {
                    i = string(rec, i)?.0 + 1;
                    state = Expect::After;
                }
                b'{' | b'[' => open!(),
                b't' | b'f' | b'n' => {
                    let word: &[u8] = match c {
                        b't' => b"true",
                        b'f' => b"false",
                        _ => b"null",
                    };
                    if !rec[i..].starts_with(word) {
                        return Err(syntax(i));
                    }
                    i += word.len();
                    state = Expect::After;
                }
                b'-' | b'0'..=b'9' => {
                    i = number(rec, i)?;
                    state = Expect::After;
                }
                _ => return Err(syntax(i)),
            },
            Expect::After => {
                let array = arrays & 1 == 1;
                i += 1;
                if c == b',' {
                    state = if array { Expect::Value } else { Expect::Key };
                } else if c == if array { b']' } else { b'}' } {
                    arrays >>= 1;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i);
                    }
                } else {
                    return Err(syntax(i - 1));
                }
            }
        }
    }
}

/// Index of the first `"`, `{`, `[`, `}` or `]` at or after `j` (or `rec.len()`).
#[inline(always)]
fn find_structural(rec: &[u8], mut j: usize) -> usize {
    let n = rec.len();
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while j + 16 <= n {
            // SAFETY: `j + 16 <= rec.len()`, so the unaligned 16-byte load stays inside `rec`; SSE2 is always
            // available on x86-64.
            let m = unsafe {
                let v = _mm_loadu_si128(rec.as_ptr().add(j) as *const __m128i);
                // `{` 0x7B and `[` 0x5B differ only in bit 5, as do `}` 0x7D and `]` 0x5D.
                let f = _mm_or_si128(v, _mm_set1_epi8(0x20));
                let q = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let o = _mm_cmpeq_epi8(f, _mm_set1_epi8(0x7B));
                let c = _mm_cmpeq_epi8(f, _mm_set1_epi8(0x7D));
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, o), c)) as u32
            };
            if m != 0 {
                return j + m.trailing_zeros() as usize;
            }
            j += 16;
        }
    }
    while j < n && !matches!(rec[j], b'"' | b'{' | b'[' | b'}' | b']') {
        j += 1;
    }
    j
}

/// Skips the container opening at `i` without reading its grammar between strings: brackets must balance
/// and nest within [`MAX_DEPTH`], strings are fully checked (escapes, control bytes, UTF-8), but commas,
/// colons, numbers and literals are not. Used for containers that hold no wanted field; a record that goes
/// on to match is re-read strictly before it can alert.
fn skip_lenient(rec: &[u8], mut i: usize, open: usize) -> Result<usize, RecordError> {
    let n = rec.len();
    let mut arrays: u128 = 0;
    let mut depth = 0usize;
    loop {
        let j = find_structural(rec, i);
        if j >= n {
            return Err(RecordError::Syntax { offset: n as u32 });
        }
        match rec[j] {
            b'"' => i = string(rec, j)?.0 + 1,
            c @ (b'{' | b'[') => {
                if open + depth + 1 > MAX_DEPTH {
                    return Err(RecordError::TooDeep { offset: j as u32 });
                }
                arrays = (arrays << 1) | (c == b'[') as u128;
                depth += 1;
                i = j + 1;
            }
            c => {
                if (c == b']') != (arrays & 1 == 1) {
                    return Err(RecordError::Syntax { offset: j as u32 });
                }
                arrays >>= 1;
                depth -= 1;
                i = j + 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
        }
    }
}

/// Classifies what is wrong with a record that does not start with `{`.
fn not_object(rec: &[u8], i: usize) -> RecordError {
    if i >= rec.len() {
        return RecordError::Empty;
    }
    match rec[i] {
        b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => RecordError::NotObject,
        _ => RecordError::Syntax { offset: i as u32 },
    }
}

/// Scans one JSON record strictly (exactly serde_json's acceptance), filling `out` with the hits of `fields`. On error `out` is left in an unspecified
/// (but valid) state and the record must be treated as unreadable.
pub fn scan(rec: &[u8], fields: &FieldSet, out: &mut Hits) -> Result<(), RecordError> {
    scan_mode(rec, fields, out, true)
}

/// Like [`scan`], but containers that hold no wanted field are only checked for balanced brackets and valid
/// strings (see `skip_lenient`): the fast path for deciding whether a record can match. The hits are the same
/// as [`scan`]'s whenever [`scan`] succeeds; a record this accepts may still fail [`scan`].
pub fn scan_fast(rec: &[u8], fields: &FieldSet, out: &mut Hits) -> Result<(), RecordError> {
    scan_mode(rec, fields, out, false)
}

fn scan_mode(
    rec: &[u8],
    fields: &FieldSet,
    out: &mut Hits,
    strict: bool,
) -> Result<(), RecordError> {
    out.clear();
    if rec.len() > u32::MAX as usize - 16 {
        return Err(RecordError::TooLarge);
    }
    let n = rec.len();
    let i = ws(rec, 0);
    if i >= n || rec[i] != b'{' {
        return Err(not_object(rec, i));
    }
    out.root = i as u32;
    let mut levels = std::mem::take(&mut out.stack);
    let root = Level {
        array: false,
        relevant: true,
        slot: NO_SLOT,
        node: ROOT,
        hit: 0,
        obj: i as u32,
    };
    if levels.len() <= MAX_DEPTH {
        levels.resize(MAX_DEPTH + 1, root);
    }
    levels[0] = root;
    let r = scan_inner(rec, fields, out, &mut levels, i, strict);
    out.stack = levels;
    r
}

#[inline(always)]
fn scan_inner(
    rec: &[u8],
    fields: &FieldSet,
    out: &mut Hits,
    levels: &mut [Level],
    mut i: usize,
    strict: bool,
) -> Result<(), RecordError> {
    let n = rec.len();
    // The index of the innermost open container in `levels`.
    let mut d = 0usize;
    // What the next value belongs to: its slot, whether to descend into it, its trie node.
    let mut p_slot = NO_SLOT;
    let mut p_desc = false;
    let mut p_node = ROOT;
    let mut p_in_array = false;
    i += 1;

    let mut state: Expect;
    i = ws(rec, i);
    if i < n && rec[i] == b'}' {
        i += 1;
        state = Expect::After;
        d = usize::MAX; // the root closed
    } else {
        state = Expect::Key;
    }

    loop {
        match state {
            Expect::Key => {
                i = ws(rec, i);
                if i >= n || rec[i] != b'"' {
                    return Err(RecordError::Syntax { offset: i as u32 });
                }
                let (end, esc) = string(rec, i)?;
                let lv = levels[d];
                p_slot = NO_SLOT;
                p_desc = false;
                p_in_array = false;
                if lv.relevant {
                    let key: &[u8] = &rec[i + 1..end];
                    let (node, slot, desc) = if esc {
                        let mark = out.decoded.len();
                        unescape_into(key, &mut out.decoded);
                        let r = fields.lookup_key(lv.node, &out.decoded[mark..]);
                        out.decoded.truncate(mark);
                        r
                    } else {
                        fields.lookup_key(lv.node, key)
                    };
                    if let Some(node) = node {
                        p_slot = slot.unwrap_or(NO_SLOT);
                        p_desc = desc;
                        p_node = node;
                    }
                }
                i = ws(rec, end + 1);
                if i >= n || rec[i] != b':' {
                    return Err(RecordError::Syntax { offset: i as u32 });
                }
                i += 1;
                state = Expect::Value;
            }
            Expect::Value => {
                i = ws(rec, i);
                if i >= n {
                    return Err(RecordError::Syntax { offset: i as u32 });
                }
                let container = levels[d].obj;
                let c = rec[i];
                match c {
                    b'"' => {
                        let (end, esc) = string(rec, i)?;
                        if p_slot != NO_SLOT {
                            let mut h = Hit {
                                slot: p_slot,
                                kind: Kind::Str,
                                in_array: p_in_array,
                                decoded: esc,
                                start: i as u32,
                                end: (end + 1) as u32,
                                text: ((i + 1) as u32, end as u32),
                                container,
                            };
                            if esc {
                                let mark = out.decoded.len();
                                unescape_into(&rec[i + 1..end], &mut out.decoded);
                                h.text = (mark as u32, out.decoded.len() as u32);
                            }
                            out.hits.push(h);
                        }
                        i = end + 1;
                        state = Expect::After;
                    }
                    b'{' | b'[' if p_slot == NO_SLOT && !p_desc => {
                        // Nothing wanted inside: skip it in a tight loop.
                        i = if strict {
                            skip_container(rec, i, d + 1)?
                        } else {
                            skip_lenient(rec, i, d + 1)?
                        };
                        state = Expect::After;
                    }
                    b'{' | b'[' => {
                        if d + 1 >= MAX_DEPTH {
                            return Err(RecordError::TooDeep { offset: i as u32 });
                        }
                        let array = c == b'[';
                        let mut hit = 0;
                        if p_slot != NO_SLOT {
                            out.hits.push(Hit {
                                slot: p_slot,
                                kind: if array { Kind::Array } else { Kind::Object },
                                in_array: p_in_array,
                                decoded: false,
                                start: i as u32,
                                end: i as u32,
                                text: (0, 0),
                                container,
                            });
                            hit = out.hits.len() as u32;
                        }
                        d += 1;
                        levels[d] = Level {
                            array,
                            relevant: p_desc,
                            slot: if array { p_slot } else { NO_SLOT },
                            node: p_node,
                            hit,
                            obj: if array { container } else { i as u32 },
                        };
                        i = ws(rec, i + 1);
                        let close = if array { b']' } else { b'}' };
                        if i < n && rec[i] == close {
                            // Empty container: close it right away.
                            if hit != 0 {
                                out.hits[hit as usize - 1].end = (i + 1) as u32;
                            }
                            d -= 1;
                            i += 1;
                            state = Expect::After;
                        } else if array {
                            p_in_array = true;
                            state = Expect::Value;
                        } else {
                            state = Expect::Key;
                        }
                    }
                    b't' | b'f' | b'n' => {
                        let (word, kind): (&[u8], Kind) = match c {
                            b't' => (b"true", Kind::Bool),
                            b'f' => (b"false", Kind::Bool),
                            _ => (b"null", Kind::Null),
                        };
                        if !rec[i..].starts_with(word) {
                            return Err(RecordError::Syntax { offset: i as u32 });
                        }
                        if p_slot != NO_SLOT {
                            out.hits.push(Hit {
                                slot: p_slot,
                                kind,
                                in_array: p_in_array,
                                decoded: false,
                                start: i as u32,
                                end: (i + word.len()) as u32,
                                text: (0, 0),
                                container,
                            });
                        }
                        i += word.len();
                        state = Expect::After;
                    }
                    b'-' | b'0'..=b'9' => {
                        let end = number(rec, i)?;
                        if p_slot != NO_SLOT {
                            out.hits.push(Hit {
                                slot: p_slot,
                                kind: Kind::Number,
                                in_array: p_in_array,
                                decoded: false,
                                start: i as u32,
                                end: end as u32,
                                text: (i as u32, end as u32),
                                container,
                            });
                        }
                        i = end;
                        state = Expect::After;
                    }
                    _ => return Err(RecordError::Syntax { offset: i as u32 }),
                }
            }
            Expect::After => {
                if d == usize::MAX {
                    i = ws(rec, i);
                    if i != n {
                        return Err(RecordError::Syntax { offset: i as u32 });
                    }
                    return Ok(());
                }
                i = ws(rec, i);
                if i >= n {
                    return Err(RecordError::Syntax { offset: i as u32 });
                }
                let lv = levels[d];
                let c = rec[i];
                i += 1;
                if c == b',' {
                    if lv.array {
                        p_slot = lv.slot;
                        p_desc = lv.relevant;
                        p_node = lv.node;
                        p_in_array = true;
                        state = Expect::Value;
                    } else {
                        state = Expect::Key;
                    }
                } else if c == if lv.array { b']' } else { b'}' } {
                    if lv.hit != 0 {
                        out.hits[lv.hit as usize - 1].end = i as u32;
                    }
                    if d == 0 {
                        d = usize::MAX;
                    } else {
                        d -= 1;
                    }
                } else {
                    return Err(RecordError::Syntax {
                        offset: (i - 1) as u32,
                    });
                }
            }
        }
    }
}
