//! NDJSON as every face of svcshell reads it — the C API's `svcshell_filter_process_ndjson`, `svcshell replay`,
//! `bench`, `explain` and the seeds of `fuzz` — so a buffer of lines means one thing everywhere:
//!
//! - records are separated by `\n`; a last line without `\n` is a record too;
//! - a line that is empty or holds only JSON whitespace other than `\n` (spaces, tabs, `\r`) holds no record: it is
//!   skipped, neither counted nor written;
//! - every other line is one record, passed on with its own bytes (a trailing `\r` included: it is JSON
//!   whitespace, so CRLF files read like LF files and come out as they went in).

/// True when `line` (without its `\n`) holds no record: empty, or only spaces, tabs and `\r`.
#[inline]
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'))
}

/// The records of an NDJSON buffer, each with its 1-based line number (blank lines count as lines).
pub fn records(buf: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut lines = buf.split(|&b| b == b'\n');
    // A buffer ending with `\n` has no line after it (`split` would yield one empty slice).
    let n_lines = memchr::memchr_iter(b'\n', buf).count() + usize::from(!buf.ends_with(b"\n"));
    (1..=n_lines as u64)
        .map(move |n| (n, lines.next().unwrap_or_default()))
        .filter(|(_, l)| !is_blank(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_hold_no_record() {
        let got: Vec<(u64, &[u8])> = records(b"{\"a\":1}\n\n   \n{\"b\":2}\n").collect();
        assert_eq!(got, [(1, &b"{\"a\":1}"[..]), (4, &b"{\"b\":2}"[..])]);
        let got: Vec<(u64, &[u8])> = records(b"\t\r\n{}\r\n x\n{}").collect();
        assert_eq!(got, [(2, &b"{}\r"[..]), (3, &b" x"[..]), (4, &b"{}"[..])]);
        assert_eq!(records(b"").count(), 0);
        assert_eq!(records(b"\n\n").count(), 0);
        // A form feed is not JSON whitespace: the line is a (bad) record.
        assert_eq!(records(b"\x0c\n").count(), 1);
        assert!(is_blank(b"") && is_blank(b" \t\r") && !is_blank(b"\x0c") && !is_blank(b"{}"));
    }
}
