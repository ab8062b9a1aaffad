//! A literal prefilter: a record that does not contain a literal every match must contain (ASCII
//! case-insensitively) can skip the field scan. The literal comes from the compiled rule (the most selective
//! required `:`/`==` test, `services.exe` for the embedded rule); a record holding any `\u` escape is always
//! scanned, since an escape can spell a letter of the literal.
//!
//! The search is the "packed pair" technique (as in the memchr crate's memmem): two rare bytes of the needle
//! are compared at their offsets for 16 positions at once, and only candidate positions are verified.

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

/// A compiled literal prefilter.
#[derive(Debug, Clone)]
pub struct Prefilter {
    needle: Box<[u8]>,
    /// Offsets of the two anchor bytes in the needle (i1 < i2).
    i1: usize,
    i2: usize,
    /// Finds `\u`, built once.
    escape: memmem::Finder<'static>,
    /// The CPU has AVX2 (checked once): 32 positions per step instead of 16.
    avx2: bool,
}

impl Prefilter {
    /// A prefilter for `needle` (compared ASCII case-insensitively); `None` for needles under 2 bytes.
    pub fn new(needle: &[u8]) -> Option<Prefilter> {
        if needle.len() < 2 {
            return None;
        }
        let mut idx: Vec<usize> = (0..needle.len()).collect();
        idx.sort_by_key(|&k| std::cmp::Reverse(rarity(needle[k])));
        let (mut i1, mut i2) = (idx[0], idx[1]);
        if i1 > i2 {
            std::mem::swap(&mut i1, &mut i2);
        }
        Some(Prefilter {
            needle: needle.to_ascii_lowercase().into_boxed_slice(),
            i1,
            i2,
            escape: memmem::Finder::new(b"\\u").into_owned(),
            #[cfg(target_arch = "x86_64")]
            avx2: std::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            avx2: false,
        })
    }

    pub fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// True when `rec` may hold a match: it contains the needle (ASCII case-insensitively), or a `\u` escape
    /// that spells one of the needle's characters (another escape, such as `\u00ae`, cannot complete it:
    /// folding is ASCII-only).
    #[inline]
    pub fn may_match(&self, rec: &[u8]) -> bool {
        self.contains(rec)
            || self
                .escape
                .find_iter(rec)
                .any(|k| self.spells_needle_char(rec, k + 2))
    }

    /// The four hex digits at `at` name an ASCII character of the needle (either case).
    fn spells_needle_char(&self, rec: &[u8], at: usize) -> bool {
        let Some(hex) = rec.get(at..at + 4) else {
            return false;
        };
        let Ok(cp) = u32::from_str_radix(std::str::from_utf8(hex).unwrap_or("x"), 16) else {
            return false;
        };
        cp < 0x80 && self.needle.contains(&(cp as u8).to_ascii_lowercase())
    }

    #[inline]
    fn verify(&self, rec: &[u8], at: usize) -> bool {
        rec.get(at..at + self.needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(&self.needle))
    }

    /// True when `rec` contains the needle, ASCII case-insensitively.
    #[inline]
    pub fn contains(&self, rec: &[u8]) -> bool {
        let m = self.needle.len();
        if rec.len() < m {
            return false;
        }
        let last = rec.len() - m; // last candidate start
        let mut at = 0usize;
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: AVX2 support was detected at run time in `new`.
            match unsafe { self.contains_avx2(rec, last) } {
                Ok(found) => return found,
                Err(next) => at = next,
            }
        }
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            let (b1, b2) = (self.needle[self.i1], self.needle[self.i2]);
            let fold = |b: u8| if b.is_ascii_lowercase() { 0x20i8 } else { 0 };
            // SAFETY: SSE2 is part of the x86-64 baseline; these only build constants.
            let (n1, n2, f1, f2) = unsafe {
                (
                    _mm_set1_epi8(b1 as i8),
                    _mm_set1_epi8(b2 as i8),
                    _mm_set1_epi8(fold(b1)),
                    _mm_set1_epi8(fold(b2)),
                )
            };
            while at + 16 <= last + 1 {
                // SAFETY: `at + 15 <= last`, so `at + 15 + i2 <= last + m - 1 < rec.len()`: both 16-byte loads
                // (at `at + i1` and `at + i2`, i1 < i2 < m) stay inside `rec`.
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
                        return true;
                    }
                    mask &= mask - 1;
                }
                at += 16;
            }
        }
        (at..=last).any(|k| self.verify(rec, k))
    }

    /// The AVX2 loop of [`Prefilter::contains`]: `Ok(found)`, or `Err(at)` where fewer than 32 candidate
    /// positions remain (the caller finishes from there).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn contains_avx2(&self, rec: &[u8], last: usize) -> Result<bool, usize> {
        use std::arch::x86_64::*;
        let (b1, b2) = (self.needle[self.i1], self.needle[self.i2]);
        let fold = |b: u8| if b.is_ascii_lowercase() { 0x20i8 } else { 0 };
        let (n1, n2) = (_mm256_set1_epi8(b1 as i8), _mm256_set1_epi8(b2 as i8));
        let (f1, f2) = (_mm256_set1_epi8(fold(b1)), _mm256_set1_epi8(fold(b2)));
        let mut at = 0usize;
        while at + 32 <= last + 1 {
            // SAFETY: `at + 31 <= last`, so `at + 31 + i2 <= last + m - 1 < rec.len()`: both 32-byte loads
            // (at `at + i1` and `at + i2`, i1 < i2 < m) stay inside `rec`.
            let v1 = _mm256_loadu_si256(rec.as_ptr().add(at + self.i1) as *const __m256i);
            let v2 = _mm256_loadu_si256(rec.as_ptr().add(at + self.i2) as *const __m256i);
            let e1 = _mm256_cmpeq_epi8(_mm256_or_si256(v1, f1), n1);
            let e2 = _mm256_cmpeq_epi8(_mm256_or_si256(v2, f2), n2);
            let mut mask = _mm256_movemask_epi8(_mm256_and_si256(e1, e2)) as u32;
            while mask != 0 {
                let k = mask.trailing_zeros() as usize;
                if self.verify(rec, at + k) {
                    return Ok(true);
                }
                mask &= mask - 1;
            }
            at += 32;
        }
        Err(at)
    }
}

#[cfg(test)]
mod tests {
    use super::Prefilter;
    use proptest::prelude::*;

    fn naive(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    }

    #[test]
    fn finds_case_variants_anywhere() {
        let p = Prefilter::new(b"services.exe").unwrap();
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn agrees_with_naive(prefix in proptest::collection::vec(any::<u8>(), 0..70),
                             mid in prop::sample::select(vec!["services.exe", "SERVICES.EXE", "services.exf", "servicesxexe", "", "sErViCeS.eXe"]),
                             suffix in proptest::collection::vec(any::<u8>(), 0..70)) {
            let p = Prefilter::new(b"services.exe").unwrap();
            let mut hay = prefix.clone();
            hay.extend_from_slice(mid.as_bytes());
            hay.extend_from_slice(&suffix);
            prop_assert_eq!(p.contains(&hay), naive(&hay, b"services.exe"));
        }
    }
}
