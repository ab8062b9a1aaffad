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
                    let next = (ss + char_len(v[ss])).min(v.len());
                    star = Some((sp, next));
                    p = sp + 1;
                    s = next;
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
