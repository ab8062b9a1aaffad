//! A literal prefilter: a record that does not contain the literals every match must contain (ASCII
//! case-insensitively) can skip the field scan. The literals come from the compiled rule
//! ([`crate::eql::Program::required_literals`]): one set per required exact test, of which the record must
//! contain at least one member — for the embedded rule `services.exe`, then one of `cmd.exe`,
//! `powershell.exe`, `pwsh.exe`, `powershell_ise.exe`. A JSON record whose `\u` escapes spell a letter of a
//! set's literals always passes that set, since an escape can hide the letter.
//!
//! The search is the "packed pair" technique (as in the memchr crate's memmem): two rare bytes of the needle
//! are compared at their offsets for 16, 32 or 64 positions at once, and only candidate positions are verified.
//! Each target has its loops: AVX-512BW and AVX2 (detected at run time) and SSE2 on x86-64, NEON on aarch64
//! (both baseline), and everywhere the portable loop ([`Needle::find_portable`]), which searches what the
//! vector loops leave and is the whole search on other targets. Every path is tested on its own against a
//! naive search on the machine that runs the tests.

use memchr::memmem;

/// English-text letter frequency, most frequent first: a cheap guess at which needle bytes are rare.
const FREQ: &[u8] = b"etaoinsrhldcumfpgwybvkxjqz";

fn rarity(c: u8) -> usize {
    match FREQ.iter().position(|&f| f == c.to_ascii_lowercase()) {
        Some(k) => k,
        None if c.is_ascii_digit() => 5,
        None => 12, // punctuation: `.`, `_`, `-` are common enough in JSON
    }
}

/// A compiled literal prefilter: every set must have a member in the record.
#[derive(Debug, Clone)]
pub struct Prefilter {
    sets: Vec<Vec<Needle>>,
    /// Finds `\u`, built once.
    escape: memmem::Finder<'static>,
}

impl Prefilter {
    /// A prefilter requiring, for each set, one of its literals. Sets with a literal under 2 bytes are left
    /// out (too short to search for cheaply); `None` when no set is left.
    pub fn new(sets: &[Vec<&[u8]>]) -> Option<Prefilter> {
        let sets: Vec<Vec<Needle>> = sets
            .iter()
            .filter_map(|s| s.iter().map(|n| Needle::new(n)).collect::<Option<Vec<_>>>())
            .filter(|s| !s.is_empty())
            .collect();
        if sets.is_empty() {
            return None;
        }
        Some(Prefilter {
            sets,
            escape: memmem::Finder::new(b"\\u").into_owned(),
        })
    }

    /// The literal sets, lowercase, in the order they are tried.
    pub fn literals(&self) -> Vec<Vec<&[u8]>> {
        self.sets
            .iter()
            .map(|s| s.iter().map(|n| &*n.needle).collect())
            .collect()
    }

    /// True when the raw bytes hold a member of every set (exact for msgpack, whose strings are raw text).
    #[inline]
    pub fn contains(&self, rec: &[u8]) -> bool {
        self.sets.iter().all(|s| s.iter().any(|n| n.contains(rec)))
    }

    /// Where a literal of the first (most selective) set first occurs in `hay` at or after `from`: for a
    /// chunk of msgpack records, one search serves every record up to the hit.
    pub fn find_first(&self, hay: &[u8], from: usize) -> Option<usize> {
        let hay = hay.get(from..)?;
        self.sets[0]
            .iter()
            .filter_map(|n| n.find(hay))
            .min()
            .map(|k| from + k)
    }

    /// True when `rec` holds a member of every set after the first (see [`Prefilter::contains`]).
    #[inline]
    pub fn contains_rest(&self, rec: &[u8]) -> bool {
        self.sets[1..]
            .iter()
            .all(|s| s.iter().any(|n| n.contains(rec)))
    }

    /// True when the JSON record `rec` may hold a match: for every set, it contains a member (ASCII
    /// case-insensitively) or a `\u` escape that spells a character of one (another escape, such as `\u00ae`,
    /// cannot complete it: folding is ASCII-only).
    #[inline]
    pub fn may_match(&self, rec: &[u8]) -> bool {
        let mut escaped: Option<u128> = None;
        self.sets.iter().all(|s| {
            s.iter().any(|n| n.contains(rec)) || {
                let e = *escaped.get_or_insert_with(|| self.escaped_chars(rec));
                s.iter().any(|n| n.chars & e != 0)
            }
        })
    }

    /// The ASCII characters (lowercased) that `\u` escapes in `rec` spell, as a bit set.
    fn escaped_chars(&self, rec: &[u8]) -> u128 {
        let mut set = 0u128;
        for k in self.escape.find_iter(rec) {
            let Some(hex) = rec.get(k + 2..k + 6) else {
                continue;
            };
            let cp = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            if let Some(cp @ 0..=0x7f) = cp {
                set |= 1u128 << (cp as u8).to_ascii_lowercase();
            }
        }
        set
    }
}

/// Where a vector loop stopped.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
enum Step {
    /// The block at this offset has candidate positions (bit k: offset + k) to verify.
    Candidates(usize, u64),
    /// Fewer than a block of candidate positions remain from this offset.
    Done(usize),
}

/// One literal, with its search anchors.
#[derive(Debug, Clone)]
struct Needle {
    /// Lowercase.
    needle: Box<[u8]>,
    /// Its characters (lowercase ASCII) as a bit set; non-ASCII bytes are left out (an escape spelling
    /// non-ASCII text cannot fold into an ASCII literal, and a literal's own non-ASCII bytes are searched).
    chars: u128,
    /// Offsets of the two anchor bytes in the needle (distinct, in either order, both below its length).
    i1: usize,
    i2: usize,
    /// The widest search loop used (checked once); each narrower one continues where it left off.
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(dead_code) // only the vector loops read it
    )]
    path: Path,
}

/// A search path of [`Needle::find`]: the widest loop it runs, each narrower one taking over where the wider
/// one left off, the portable loop last. Ordered narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Path {
    /// The portable loop alone (every target; the only one where neither x86-64 nor aarch64).
    #[cfg_attr(
        all(not(test), any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(dead_code) // there, only the tests search with it alone
    )]
    Portable,
    /// 16 positions per step: SSE2 on x86-64, NEON on aarch64 (both part of the baseline).
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    Vector16,
    /// 32 positions per step (AVX2, detected at run time).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// 64 positions per step (AVX-512BW, detected at run time).
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Path {
    /// The widest path this CPU runs.
    fn detect() -> Path {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512bw") {
                Path::Avx512
            } else if std::is_x86_feature_detected!("avx2") {
                Path::Avx2
            } else {
                Path::Vector16
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            Path::Vector16
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            Path::Portable
        }
    }
}

#[cfg(test)]
thread_local! {
    /// The search loops the last [`Needle::find`] on this thread entered, in order (unit tests only: they check
    /// that each path runs its own loops, and only those).
    static LOOPS: std::cell::RefCell<Vec<Path>> = const { std::cell::RefCell::new(Vec::new()) };
    /// How many positions [`Needle::verify`] compared with the whole needle on this thread (unit tests only:
    /// they check that every loop verifies exactly the positions where both anchors match, no more).
    static VERIFIED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Notes (in unit tests only) that [`Needle::find`] entered the loop of `path`.
#[inline(always)]
fn entered(#[allow(unused_variables)] path: Path) {
    #[cfg(test)]
    LOOPS.with(|l| l.borrow_mut().push(path));
}

impl Needle {
    fn new(needle: &[u8]) -> Option<Needle> {
        Needle::with_path(needle, Path::detect())
    }

    /// A needle searched with at most the given path (tests run every path the machine has; `new` passes the
    /// widest).
    fn with_path(needle: &[u8], path: Path) -> Option<Needle> {
        if needle.len() < 2 {
            return None;
        }
        let mut idx: Vec<usize> = (0..needle.len()).collect();
        idx.sort_by_key(|&k| std::cmp::Reverse(rarity(needle[k])));
        let (i1, i2) = (idx[0], idx[1]);
        let needle = needle.to_ascii_lowercase().into_boxed_slice();
        let chars = needle
            .iter()
            .filter(|c| c.is_ascii())
            .fold(0u128, |m, &c| m | 1u128 << c);
        Some(Needle {
            needle,
            chars,
            i1,
            i2,
            path,
        })
    }

    /// The first candidate position `at + k` (bit k of `mask`) where the needle really is. Kept out of the
    /// vector loops, so that they hold their constants in registers.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[inline(never)]
    fn verify_mask(&self, rec: &[u8], at: usize, mut mask: u64) -> Option<usize> {
        while mask != 0 {
            let k = mask.trailing_zeros() as usize;
            if self.verify(rec, at + k) {
                return Some(at + k);
            }
            mask &= mask - 1;
        }
        None
    }

    #[inline]
    fn verify(&self, rec: &[u8], at: usize) -> bool {
        #[cfg(test)]
        VERIFIED.with(|v| v.set(v.get() + 1));
        rec.get(at..at + self.needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(&self.needle))
    }

    /// True when `rec` contains the needle, ASCII case-insensitively.
    #[inline]
    fn contains(&self, rec: &[u8]) -> bool {
        self.find(rec).is_some()
    }

    /// Where the needle first occurs in `rec`, ASCII case-insensitively.
    fn find(&self, rec: &[u8]) -> Option<usize> {
        let m = self.needle.len();
        if rec.len() < m {
            return None;
        }
        #[cfg_attr(
            not(any(target_arch = "x86_64", target_arch = "aarch64")),
            allow(unused_variables) // only the vector loops read it
        )]
        let last = rec.len() - m; // last candidate start
        #[allow(unused_mut)] // only the vector loops move it
        let mut at = 0usize;
        #[cfg(test)]
        LOOPS.with(|l| l.borrow_mut().clear());
        // The vector loops stop at the first block with candidate positions; they are verified out here, so
        // that the loops hold their constants in registers (a call inside would spill them).
        #[cfg(target_arch = "x86_64")]
        if self.path >= Path::Avx512 {
            entered(Path::Avx512);
            // SAFETY: the path is `Avx512` only where AVX-512BW was detected at run time (`Path::detect`, or a
            // test that checked first).
            match self.drive(rec, at, 64, |from| unsafe {
                self.scan_avx512(rec, from, last)
            }) {
                Ok(found) => return Some(found),
                Err(next) => at = next,
            }
        }
        #[cfg(target_arch = "x86_64")]
        if self.path >= Path::Avx2 {
            entered(Path::Avx2);
            // SAFETY: the path is `Avx2` or wider only where AVX2 was detected at run time (`Path::detect`, or a
            // test that checked first; AVX-512BW machines have it too).
            match self.drive(rec, at, 32, |from| unsafe {
                self.scan_avx2(rec, from, last)
            }) {
                Ok(found) => return Some(found),
                Err(next) => at = next,
            }
        }
        #[cfg(target_arch = "x86_64")]
        if self.path >= Path::Vector16 {
            entered(Path::Vector16);
            use std::arch::x86_64::*;
            let [(b1, c1), (b2, c2)] = self.anchors();
            // SAFETY: SSE2 is part of the x86-64 baseline; these only build constants.
            let (n1, n2, f1, f2) = unsafe {
                (
                    _mm_set1_epi8(b1),
                    _mm_set1_epi8(b2),
                    _mm_set1_epi8(c1),
                    _mm_set1_epi8(c2),
                )
            };
            while at + 16 <= last + 1 {
                // SAFETY: `at + 15 <= last`, so for each anchor offset `i < m`, `at + 15 + i <= last + m - 1 <
                // rec.len()`: both 16-byte loads (at `at + i1` and `at + i2`) stay inside `rec`.
                let mut mask = unsafe {
                    let v1 = _mm_loadu_si128(rec.as_ptr().add(at + self.i1) as *const __m128i);
                    let v2 = _mm_loadu_si128(rec.as_ptr().add(at + self.i2) as *const __m128i);
                    let e1 = _mm_cmpeq_epi8(_mm_or_si128(v1, f1), n1);
                    let e2 = _mm_cmpeq_epi8(_mm_or_si128(v2, f2), n2);
                    _mm_movemask_epi8(_mm_and_si128(e1, e2)) as u32
                };
                while mask != 0 {
                    let k = mask.trailing_zeros() as usize;
                    if self.verify(rec, at + k) {
                        return Some(at + k);
                    }
                    mask &= mask - 1;
                }
                at += 16;
            }
        }
        #[cfg(target_arch = "aarch64")]
        if self.path >= Path::Vector16 {
            entered(Path::Vector16);
            // SAFETY: NEON is part of the aarch64 baseline: every aarch64 target Rust builds for enables it, so
            // the CPU has it.
            match self.drive(rec, at, 16, |from| unsafe {
                self.scan_neon(rec, from, last)
            }) {
                Ok(found) => return Some(found),
                Err(next) => at = next,
            }
        }
        entered(Path::Portable);
        self.find_portable(rec, at)
    }

    /// The portable loop: where the needle first occurs in `rec` at or after `from`. Searches what the vector
    /// loops leave (fewer positions than a block), and everything on targets without them (WASM): the same
    /// packed pair in the bytes of a `u64` (eight positions per step, no vector instructions), then one
    /// position at a time for the last few, each checked by its two anchor bytes (ASCII-lowercased) before the
    /// whole needle.
    fn find_portable(&self, rec: &[u8], from: usize) -> Option<usize> {
        const LO: u64 = 0x0101_0101_0101_0101;
        const HI: u64 = 0x8080_8080_8080_8080;
        let last = rec.len().checked_sub(self.needle.len())?;
        let (b1, b2) = (self.needle[self.i1], self.needle[self.i2]);
        // A haystack byte ORed with 0x20 equals a lowercase letter exactly when it is that letter in either
        // case; other anchor bytes are compared as they are (as `to_ascii_lowercase` below does).
        let fold = |b: u8| if b.is_ascii_lowercase() { 0x20 * LO } else { 0 };
        let (n1, n2, f1, f2) = (u64::from(b1) * LO, u64::from(b2) * LO, fold(b1), fold(b2));
        let word = |at: usize| u64::from_le_bytes(rec[at..at + 8].try_into().expect("8 bytes"));
        let mut at = from;
        // Positions `at..at + 8` all start a possible match (`at + 7 <= last`), so both loads (8 bytes at
        // `at + i` for an anchor offset `i < m`) end at `at + 7 + i <= last + m - 1 < rec.len()`.
        while at + 8 <= last + 1 {
            // A zero byte where both anchors match; then a high bit on exactly the zero bytes (no carry crosses
            // a byte: 0x7f + 0x7f < 0x100).
            let x = ((word(at + self.i1) | f1) ^ n1) | ((word(at + self.i2) | f2) ^ n2);
            let mut zero = !(((x & !HI).wrapping_add(!HI)) | x) & HI;
            while zero != 0 {
                let k = at + (zero.trailing_zeros() / 8) as usize;
                if self.verify(rec, k) {
                    return Some(k);
                }
                zero &= zero - 1;
            }
            at += 8;
        }
        (at..=last).find(|&k| {
            rec[k + self.i1].to_ascii_lowercase() == b1
                && rec[k + self.i2].to_ascii_lowercase() == b2
                && self.verify(rec, k)
        })
    }

    /// The two anchor bytes (lowercase) and what each haystack byte is ORed with before the comparison: 0x20
    /// for a letter (ASCII case folding), else 0. Shared by every vector width.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn anchors(&self) -> [(i8, i8); 2] {
        [self.i1, self.i2].map(|i| {
            let b = self.needle[i];
            (b as i8, if b.is_ascii_lowercase() { 0x20 } else { 0 })
        })
    }

    /// Runs a vector loop (`scan`, blocks of `width` positions) from `at`, verifying each block it stops at:
    /// `Ok(position)` of the needle, or `Err(at)` where the loop left off.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[inline(always)]
    fn drive(
        &self,
        rec: &[u8],
        mut at: usize,
        width: usize,
        scan: impl Fn(usize) -> Step,
    ) -> Result<usize, usize> {
        loop {
            match scan(at) {
                Step::Candidates(block, mask) => {
                    if let Some(k) = self.verify_mask(rec, block, mask) {
                        return Ok(k);
                    }
                    at = block + width;
                }
                Step::Done(next) => return Err(next),
            }
        }
    }

    /// The AVX-512 loop of [`Needle::find`] from `at`: the first 64-position block with candidates, or where
    /// fewer than 64 candidate positions remain. About twice as fast as the AVX2 loop where the CPU has it.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw")]
    unsafe fn scan_avx512(&self, rec: &[u8], mut at: usize, last: usize) -> Step {
        use std::arch::x86_64::*;
        let [(b1, c1), (b2, c2)] = self.anchors();
        let (n1, n2) = (_mm512_set1_epi8(b1), _mm512_set1_epi8(b2));
        let (f1, f2) = (_mm512_set1_epi8(c1), _mm512_set1_epi8(c2));
        while at + 64 <= last + 1 {
            // SAFETY: `at + 63 <= last`, so for each anchor offset `i < m`, `at + 63 + i <= last + m - 1 <
            // rec.len()`: both 64-byte loads (at `at + i1` and `at + i2`) stay inside `rec`.
            let (v1, v2) = unsafe {
                (
                    _mm512_loadu_si512(rec.as_ptr().add(at + self.i1) as *const __m512i),
                    _mm512_loadu_si512(rec.as_ptr().add(at + self.i2) as *const __m512i),
                )
            };
            let mask = _mm512_cmpeq_epi8_mask(_mm512_or_si512(v1, f1), n1)
                & _mm512_cmpeq_epi8_mask(_mm512_or_si512(v2, f2), n2);
            if mask != 0 {
                return Step::Candidates(at, mask);
            }
            at += 64;
        }
        Step::Done(at)
    }

    /// The AVX2 loop of [`Needle::find`] from `at`: the first 32-position block with candidates, or where
    /// fewer than 32 candidate positions remain.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_avx2(&self, rec: &[u8], mut at: usize, last: usize) -> Step {
        use std::arch::x86_64::*;
        let [(b1, c1), (b2, c2)] = self.anchors();
        let (n1, n2) = (_mm256_set1_epi8(b1), _mm256_set1_epi8(b2));
        let (f1, f2) = (_mm256_set1_epi8(c1), _mm256_set1_epi8(c2));
        while at + 32 <= last + 1 {
            // SAFETY: `at + 31 <= last`, so for each anchor offset `i < m`, `at + 31 + i <= last + m - 1 <
            // rec.len()`: both 32-byte loads (at `at + i1` and `at + i2`) stay inside `rec`.
            let (v1, v2) = unsafe {
                (
                    _mm256_loadu_si256(rec.as_ptr().add(at + self.i1) as *const __m256i),
                    _mm256_loadu_si256(rec.as_ptr().add(at + self.i2) as *const __m256i),
                )
            };
            let e1 = _mm256_cmpeq_epi8(_mm256_or_si256(v1, f1), n1);
            let e2 = _mm256_cmpeq_epi8(_mm256_or_si256(v2, f2), n2);
            let mask = _mm256_movemask_epi8(_mm256_and_si256(e1, e2)) as u32;
            if mask != 0 {
                return Step::Candidates(at, mask as u64);
            }
            at += 32;
        }
        Step::Done(at)
    }

    /// The NEON loop of [`Needle::find`] from `at` (aarch64, where NEON is baseline): the first 16-position
    /// block with candidates, or where fewer than 16 candidate positions remain. NEON has no byte movemask:
    /// the comparison's 16 lanes (0x00 or 0xff) are narrowed to 4 bits each (`shrn` by 4), giving a 64-bit
    /// word that is zero when no lane matched; a block with candidates has its nibbles turned into bit k
    /// per lane k.
    #[cfg(target_arch = "aarch64")]
    #[target_feature(enable = "neon")]
    fn scan_neon(&self, rec: &[u8], mut at: usize, last: usize) -> Step {
        use std::arch::aarch64::*;
        let [(b1, c1), (b2, c2)] = self.anchors();
        let (n1, n2) = (vdupq_n_u8(b1 as u8), vdupq_n_u8(b2 as u8));
        let (f1, f2) = (vdupq_n_u8(c1 as u8), vdupq_n_u8(c2 as u8));
        while at + 16 <= last + 1 {
            // SAFETY: `at + 15 <= last`, so for each anchor offset `i < m`, `at + 15 + i <= last + m - 1 <
            // rec.len()`: both 16-byte loads (at `at + i1` and `at + i2`) stay inside `rec`.
            let (v1, v2) = unsafe {
                (
                    vld1q_u8(rec.as_ptr().add(at + self.i1)),
                    vld1q_u8(rec.as_ptr().add(at + self.i2)),
                )
            };
            let e1 = vceqq_u8(vorrq_u8(v1, f1), n1);
            let e2 = vceqq_u8(vorrq_u8(v2, f2), n2);
            let nibbles = vshrn_n_u16::<4>(vreinterpretq_u16_u8(vandq_u8(e1, e2)));
            let word = vget_lane_u64::<0>(vreinterpret_u64_u8(nibbles));
            if word != 0 {
                return Step::Candidates(at, lanes(word));
            }
            at += 16;
        }
        Step::Done(at)
    }
}

/// The lanes set in a narrowed NEON comparison (lane k: bits 4k..4k+3, all set or all clear) as bit k each.
#[cfg(target_arch = "aarch64")]
fn lanes(mut word: u64) -> u64 {
    word &= 0x1111_1111_1111_1111;
    let mut mask = 0u64;
    while word != 0 {
        mask |= 1 << (word.trailing_zeros() / 4);
        word &= word - 1;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::{Needle, Path, Prefilter, LOOPS, VERIFIED};
    use proptest::prelude::*;

    fn one(needle: &[u8]) -> Prefilter {
        Prefilter::new(&[vec![needle]]).unwrap()
    }

    fn rule() -> Prefilter {
        let shells: Vec<&[u8]> = vec![
            b"cmd.exe",
            b"powershell.exe",
            b"pwsh.exe",
            b"powershell_ise.exe",
        ];
        Prefilter::new(&[vec![b"services.exe"], shells]).unwrap()
    }

    fn naive(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    }

    #[test]
    fn finds_case_variants_anywhere() {
        let p = one(b"services.exe");
        assert!(p.contains(b"services.exe"));
        assert!(p.contains(b"C:\\\\Windows\\\\System32\\\\SERVICES.EXE\""));
        let mut long = vec![b'a'; 100];
        long.extend_from_slice(b"SeRvIcEs.ExE");
        assert!(p.contains(&long));
        assert!(!p.contains(b"services.ex"));
        assert!(
            !p.contains(b"\xc5\xbfervices.exe"),
            "non-ASCII long s does not fold"
        );
        assert!(p.may_match(b"{\"a\":\"\\u0073ervices.exe\"}"));
        assert!(
            p.may_match(b"{\"a\":\"\\u0053ervices.exe\"}"),
            "an escaped capital S"
        );
        assert!(
            p.may_match(b"{\"a\":\"services\\u002eexe\"}"),
            "an escaped dot"
        );
        assert!(
            !p.may_match(b"{\"a\":\"\\u00ae svchost.exe\"}"),
            "an escape no needle character needs"
        );
        assert!(
            !p.may_match(b"{\"a\":\"C:\\\\users\"}"),
            "an escaped backslash before u"
        );
        assert!(!p.may_match(b"{\"a\":\"svchost.exe\"}"));
    }

    #[test]
    fn every_set_needs_a_member() {
        let p = rule();
        assert_eq!(p.literals().len(), 2);
        assert!(p.contains(b"SERVICES.EXE spawned CMD.exe"));
        assert!(p.contains(b"services.exe pwsh.exe"));
        assert!(p.contains(b"powershell_ise.exe <- services.exe"));
        assert!(!p.contains(b"services.exe svchost.exe"), "no shell");
        assert!(!p.contains(b"cmd.exe powershell.exe"), "no services.exe");
        assert!(!p.contains(b"services.exe cmd.ex powershell.ex pwsh.ex"));
        // An escape spelling a letter of one shell passes the shell set, but not a set it spells nothing of.
        assert!(p.may_match(b"{\"p\":\"services.exe\",\"n\":\"\\u0063md.exe\"}"));
        assert!(
            p.may_match(b"{\"p\":\"services.exe\",\"n\":\"\\u0057\"}"),
            "W of pwsh"
        );
        assert!(
            !p.may_match(b"{\"p\":\"services.exe\",\"n\":\"\\u007a\"}"),
            "z is in no shell"
        );
        assert!(
            p.may_match(b"{\"p\":\"\\u0073vchost.exe\",\"n\":\"cmd.exe\"}"),
            "an escaped s could be part of services.exe: kept (conservative)"
        );
        assert!(
            !p.may_match(b"{\"p\":\"\\u007avchost.exe\",\"n\":\"cmd.exe\"}"),
            "no services.exe, and z is not in it"
        );
        assert!(p.may_match(b"{\"p\":\"\\u0073ervices.exe\",\"n\":\"cmd.exe\"}"));
        // Sets with a literal too short to search are left out; no set left, no prefilter.
        assert!(Prefilter::new(&[vec![b"x"]]).is_none());
        assert_eq!(
            Prefilter::new(&[vec![b"x", b"cmd.exe"], vec![b"ab"]])
                .unwrap()
                .literals(),
            vec![vec![&b"ab"[..]]]
        );
    }

    /// Every search path this machine runs: portable alone; SSE2 or NEON; AVX2 and AVX-512BW where the CPU
    /// has them.
    fn paths() -> Vec<Path> {
        #[allow(unused_mut)] // only x86-64 and aarch64 add paths
        let mut v = vec![Path::Portable];
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        v.push(Path::Vector16);
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                v.push(Path::Avx2);
            }
            if std::is_x86_feature_detected!("avx512bw") {
                v.push(Path::Avx512);
            }
        }
        v
    }

    /// The needle with each search path the machine has.
    fn widths(needle: &[u8]) -> Vec<Needle> {
        paths()
            .into_iter()
            .map(|p| Needle::with_path(needle, p).unwrap())
            .collect()
    }

    /// Where `needle` first occurs in `hay` at or after `from`, ASCII case-insensitively: window by window.
    fn naive_find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
        hay.windows(needle.len())
            .enumerate()
            .skip(from)
            .find(|(_, w)| w.eq_ignore_ascii_case(needle))
            .map(|(k, _)| k)
    }

    #[test]
    fn the_paths_this_machine_runs() {
        let p = paths();
        assert_eq!(p[0], Path::Portable);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        assert!(
            p.contains(&Path::Vector16),
            "SSE2 and NEON are baseline: always tested"
        );
        assert_eq!(
            *p.last().unwrap(),
            Path::detect(),
            "the widest is what `new` picks"
        );
        eprintln!("prefilter search paths tested here: {p:?}");
    }

    /// How many positions from `from` up to `found` (or the last possible start) have both anchor bytes of `n`
    /// (ASCII case-insensitively): what a search loop must verify, no more, no fewer.
    fn anchored(n: &Needle, hay: &[u8], from: usize, found: Option<usize>) -> usize {
        let Some(last) = hay.len().checked_sub(n.needle.len()) else {
            return 0;
        };
        let end = found.unwrap_or(last);
        let (b1, b2) = (n.needle[n.i1], n.needle[n.i2]);
        (from..=end)
            .filter(|&k| {
                hay[k + n.i1].to_ascii_lowercase() == b1 && hay[k + n.i2].to_ascii_lowercase() == b2
            })
            .count()
    }

    /// Memory the test may read up to a page that it may not: a haystack placed to end at that page makes any
    /// read past the record's end fault (the loops' bounds are what keep their 16-, 32- and 64-byte loads inside
    /// the record; a wrong bound reads on without changing any answer).
    #[cfg(unix)]
    struct Fenced {
        base: *mut u8,
        page: usize,
    }

    #[cfg(unix)]
    impl Fenced {
        fn new() -> Fenced {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
            // SAFETY: an anonymous private mapping of two pages, checked below; nothing else refers to it.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    2 * page,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(base, libc::MAP_FAILED);
            let base = base as *mut u8;
            // SAFETY: the second page of the mapping just made.
            let r = unsafe { libc::mprotect(base.add(page) as *mut _, page, libc::PROT_NONE) };
            assert_eq!(r, 0);
            Fenced { base, page }
        }

        /// `data` copied to end exactly where the unreadable page begins.
        fn place(&mut self, data: &[u8]) -> &[u8] {
            assert!(data.len() <= self.page);
            // SAFETY: the last `data.len()` bytes of the first (readable, writable) page, which `&mut self`
            // holds alone; the returned slice borrows `self`, so the next `place` cannot overwrite it in use.
            unsafe {
                let start = self.base.add(self.page - data.len());
                std::ptr::copy_nonoverlapping(data.as_ptr(), start, data.len());
                std::slice::from_raw_parts(start, data.len())
            }
        }
    }

    #[cfg(unix)]
    impl Drop for Fenced {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`, no longer borrowed (`place`'s slices borrow `self`).
            unsafe { libc::munmap(self.base as *mut _, 2 * self.page) };
        }
    }

    /// No path reads past the record's end: haystacks of every length up to a few blocks, ending at an
    /// unreadable page, with and without the needle at the very end.
    #[cfg(unix)]
    #[test]
    fn no_path_reads_past_the_record() {
        let mut fence = Fenced::new();
        for needle in NEEDLES {
            let needle = needle.as_bytes();
            for len in 0..200 {
                for tail in [false, true] {
                    let mut data: Vec<u8> =
                        (0..len).map(|k| needle[k % needle.len()] ^ 0x20).collect();
                    if tail && len >= needle.len() {
                        data[len - needle.len()..].copy_from_slice(needle);
                    }
                    let want = naive_find(&data, needle, 0);
                    let hay = fence.place(&data);
                    for n in widths(needle) {
                        assert_eq!(n.find(hay), want, "{:?} len {len}", n.path);
                    }
                }
            }
        }
    }

    /// Each path enters its own loop and every narrower one, widest first, then the portable loop; never a
    /// wider one (which could use instructions the CPU lacks).
    #[test]
    fn each_path_runs_its_own_loops_and_the_narrower_ones() {
        let hay = [b'a'; 300];
        for n in widths(b"services.exe") {
            assert_eq!(n.find(&hay), None);
            // `paths()` is narrowest first and starts with the portable loop.
            let mut want: Vec<Path> = paths().into_iter().filter(|&p| p <= n.path).collect();
            want.reverse();
            assert_eq!(LOOPS.with(|l| l.borrow().clone()), want, "{:?}", n.path);
        }
    }

    /// The rule's literals and short or punctuation-anchored ones (an anchor that is not a letter is compared
    /// exactly; a 2-byte needle has both bytes as anchors).
    const NEEDLES: &[&str] = &[
        "services.exe",
        "cmd.exe",
        "powershell.exe",
        "pwsh.exe",
        "powershell_ise.exe",
        "ab",
        "x.",
        "..",
        "q_z",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Each path (the portable loop called on its own included) on haystacks drawn from the needle's
        /// letters in both cases, the bytes that differ from them by 0x20 only, and punctuation: candidate
        /// blocks, near misses and real occurrences at every offset of a block, lengths across block sizes.
        #[test]
        fn every_path_agrees_with_naive_on_dense_near_misses(
            k in 0..NEEDLES.len(),
            picks in proptest::collection::vec(any::<u8>(), 0..200),
            from in 0usize..210,
            plants in proptest::collection::vec((any::<usize>(), any::<bool>()), 0..3),
        ) {
            let needle = NEEDLES[k].as_bytes();
            let mut alphabet: Vec<u8> = needle.to_vec();
            alphabet.extend(needle.iter().map(|c| c.to_ascii_uppercase()));
            alphabet.extend(needle.iter().map(|c| c ^ 0x20)); // '.' ^ 0x20 = 0x0e, 's' ^ 0x20 = 'S'
            alphabet.extend_from_slice(b"\"\\:. \xc5\xbf\x00\xff");
            let mut hay: Vec<u8> = picks.iter().map(|&b| alphabet[b as usize % alphabet.len()]).collect();
            for (at, upper) in plants {
                if hay.len() >= needle.len() {
                    let at = at % (hay.len() - needle.len() + 1);
                    let lit = if upper { needle.to_ascii_uppercase() } else { needle.to_vec() };
                    hay[at..at + needle.len()].copy_from_slice(&lit);
                }
            }
            for n in widths(needle) {
                VERIFIED.with(|v| v.set(0));
                let found = n.find(&hay);
                prop_assert_eq!(found, naive_find(&hay, needle, 0), "{:?}", n.path);
                prop_assert_eq!(VERIFIED.with(|v| v.get()), anchored(&n, &hay, 0, found), "{:?}", n.path);
            }
            let n = Needle::with_path(needle, Path::Portable).unwrap();
            VERIFIED.with(|v| v.set(0));
            let found = n.find_portable(&hay, from);
            prop_assert_eq!(found, naive_find(&hay, needle, from));
            prop_assert_eq!(VERIFIED.with(|v| v.get()), anchored(&n, &hay, from, found));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn every_vector_width_finds_the_first_occurrence(
            prefix in proptest::collection::vec(any::<u8>(), 0..300),
            mid in prop::sample::select(vec!["services.exe", "SERVICES.EXE", "sErViCeS.eXe", "services.exf", ""]),
            gap in proptest::collection::vec(any::<u8>(), 0..200),
            second in prop::sample::select(vec!["Services.exe", "", "cmd.exe"]),
        ) {
            let mut hay = prefix.clone();
            hay.extend_from_slice(mid.as_bytes());
            hay.extend_from_slice(&gap);
            hay.extend_from_slice(second.as_bytes());
            let want = hay.windows(12).position(|w| w.eq_ignore_ascii_case(b"services.exe"));
            for n in widths(b"services.exe") {
                prop_assert_eq!(n.find(&hay), want);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn agrees_with_naive(prefix in proptest::collection::vec(any::<u8>(), 0..70),
                             mid in prop::sample::select(vec!["services.exe", "SERVICES.EXE", "services.exf", "servicesxexe", "", "sErViCeS.eXe", "services.exe CMD.EXE", "services.exe\0pwsh.exe", "PowerShell_ISE.exe services.exe", "services.exe powershell.ex"]),
                             suffix in proptest::collection::vec(any::<u8>(), 0..70)) {
            let p = one(b"services.exe");
            let mut hay = prefix.clone();
            hay.extend_from_slice(mid.as_bytes());
            hay.extend_from_slice(&suffix);
            prop_assert_eq!(p.contains(&hay), naive(&hay, b"services.exe"));
            let r = rule();
            let shell = ["cmd.exe", "powershell.exe", "pwsh.exe", "powershell_ise.exe"]
                .iter()
                .any(|n| naive(&hay, n.as_bytes()));
            prop_assert_eq!(r.contains(&hay), naive(&hay, b"services.exe") && shell);
        }
    }
}
