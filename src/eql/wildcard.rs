//! Wildcard patterns of EQL's `:` operator: `*` matches any run of characters, `?` exactly one character
//! (a Unicode scalar value, as Lucene's wildcard automaton counts), anchored to the whole value; letters fold
//! ASCII-only (`ſ`, `İ` and the Kelvin sign stay distinct). Wildcards cannot be escaped.

/// A compiled `:` pattern (stored ASCII-lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pat: Box<[u8]>,
}

#[inline]
fn char_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xFF => 4,
        _ => 1,
    }
}

impl Pattern {
    pub fn new(text: &str) -> Pattern {
        Pattern {
            pat: text.as_bytes().to_ascii_lowercase().into_boxed_slice(),
        }
    }

    /// The pattern text, ASCII-lowercased.
    pub fn text(&self) -> &[u8] {
        &self.pat
    }

    /// True when the whole of `v` matches (ASCII case-insensitive).
    pub fn matches(&self, v: &[u8]) -> bool {
        let pat = &self.pat;
        let (mut p, mut s) = (0usize, 0usize);
        // The last `*` seen and the value position it is currently matched up to.
        let mut star: Option<(usize, usize)> = None;
        while s < v.len() {
            if p < pat.len() {
                match pat[p] {
                    b'*' => {
                        star = Some((p, s));
                        p += 1;
                        continue;
                    }
                    b'?' => {
                        s = (s + char_len(v[s])).min(v.len());
                        p += 1;
                        continue;
                    }
                    c if c == v[s].to_ascii_lowercase() => {
                        p += 1;
                        s += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            match star {
                Some((sp, ss)) => {
                    // The last `*` takes one more character: it is read again (recording the new start) from
                    // the character after the ones it had.
                    p = sp;
                    s = (ss + char_len(v[ss])).min(v.len());
                }
                None => return false,
            }
        }
        while p < pat.len() && pat[p] == b'*' {
            p += 1;
        }
        p == pat.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    /// A naive reference: recursion over characters (not bytes), ASCII-only case folding.
    fn naive(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|k| naive(rest, &v[k..])),
            Some(('?', rest)) => !v.is_empty() && naive(rest, &v[1..]),
            Some((c, rest)) => {
                !v.is_empty() && c.eq_ignore_ascii_case(&v[0]) && naive(rest, &v[1..])
            }
        }
    }

    /// Every pattern over `a A * ?` and every value over `a A b ä` up to five characters: the matcher equals the
    /// naive reference.
    #[test]
    fn exhaustive_small_patterns_equal_the_naive_reference() {
        fn all(alphabet: &[char], max: usize) -> Vec<String> {
            let mut out = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                    .collect();
                out.extend(last.iter().cloned());
            }
            out
        }
        let (pats, vals) = (all(&['a', 'A', '*', '?'], 5), all(&['a', 'A', 'b', 'ä'], 5));
        for p in &pats {
            let pc: Vec<char> = p.chars().collect();
            let pattern = Pattern::new(p);
            for v in &vals {
                let vc: Vec<char> = v.chars().collect();
                assert_eq!(
                    pattern.matches(v.as_bytes()),
                    naive(&pc, &vc),
                    "{p:?} on {v:?}"
                );
            }
        }
    }

    fn m(p: &str, v: &str) -> bool {
        Pattern::new(p).matches(v.as_bytes())
    }

    #[test]
    fn anchored_wildcards() {
        assert!(m("cmd.exe", "CMD.EXE"));
        assert!(!m("cmd.exe", "xcmd.exe"));
        assert!(m("*.exe", "cmd.exe"));
        assert!(m("*.exe", ".exe"));
        assert!(!m("*.exe", "cmd.exe2"));
        assert!(m("c?d.exe", "cmd.exe"));
        assert!(!m("c?d.exe", "cd.exe"));
        assert!(m("c?d", "cäd"), "? is one character, not one byte");
        assert!(!m("c??d", "cäd"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(m("a*a*a", "aaaaa"));
        assert!(!m("a*a*a", "aa"));
        assert!(m("*", ""));
        assert!(!m("?", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("**x", "abx"));
        assert!(m("*ä*", "xÄäy"));
        assert!(!m("*Ä*", "xäy"), "non-ASCII letters do not fold");
        assert!(!m("services.exe", "ſervices.exe"));
        assert!(!m("*k*", "\u{212A}"), "Kelvin sign is not k");
    }
}
