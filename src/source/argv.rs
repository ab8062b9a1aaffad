//! Deriving ECS process fields from raw Windows command lines and image paths, the way Elastic's
//! ingest pipelines do (docs/shapes.md, "Derivations").
//!
//! A shipper-side filter sees raw records (Sysmon / Security 4688 event data, SentinelOne Cloud
//! Funnel, Microsoft Defender), while Elastic evaluates the rule on the ECS fields its ingest
//! pipelines derive from them. The functions here reproduce those derivations byte for byte:
//!
//! | function | used for | ported from (elastic/integrations) |
//! |---|---|---|
//! | [`basename_sysmon`] | Sysmon `Image` / `ParentImage` → `process[.parent].name` | `packages/windows/data_stream/sysmon_operational/elasticsearch/ingest_pipeline/default.yml`, script "Adds process name information" |
//! | [`basename_4688`] | 4688 `NewProcessName` / `ParentProcessName` → names | `packages/system/data_stream/security/elasticsearch/ingest_pipeline/standard.yml`, script "Process Event 4688" (`splitOnToken("\\")`, last part) |
//! | [`argv_windows`] | Sysmon `CommandLine`, SentinelOne `tgt.process.cmdline`, CrowdStrike FDR `CommandLine` → `process.args` | the sysmon `default.yml` above and `packages/sentinel_one_cloud_funnel/data_stream/event/elasticsearch/ingest_pipeline/default.yml`, script "Implements Windows-like SplitCommandLine" (a Painless port of Go's `syscall` `commandLineToArgv`, golang/go commit 39c8d2b7); the same script in `packages/crowdstrike/data_stream/fdr/elasticsearch/ingest_pipeline/default.yml` (`split_command_line`, which drops empty arguments) |
//! | [`argv_4688`] | 4688 `CommandLine` → `process.args` | `standard.yml` above, script "Process Event 4688" |
//! | [`argv_m365`] | Defender `ProcessCommandLine` → `process.args` | `packages/m365_defender/data_stream/event/elasticsearch/ingest_pipeline/pipeline_device.yml`, `script_split_command_line` |
//! | [`strip_outer_quotes`] | SentinelOne command lines, before [`argv_windows`] | the SentinelOne `default.yml` above, `script_to_remove_quotes_from_begining_and_end` |
//!
//! Everything works on bytes: the input is the decoded UTF-8 text of a JSON string. The pipelines
//! work on Java UTF-16 `char`s, but every character they test is either ASCII or (for 4688
//! whitespace) a BMP character with one fixed UTF-8 encoding, so the byte-level walk gives the
//! same splits. The splitters hand each argument to a callback (no allocation except
//! [`argv_windows`]'s caller-provided scratch buffer); the callback returns `true` to stop early,
//! which is what an "any element matches" test needs. The `*_vec` wrappers collect everything
//! (tests, `explain`).
//!
//! An empty argument list means the field is absent: Elasticsearch indexes `[]` as no value.

/// `basename_sysmon`: the text after the last `\`; `None` when there is no `\` or the path is
/// 1 byte or shorter.
///
/// Also `None` when the path ends with `\` (empty name): the pipeline only sets `process.name`
/// when the derived name is not `""`. Case is kept; `/` is not a separator.
pub fn basename_sysmon(path: &[u8]) -> Option<&[u8]> {
    if path.len() <= 1 {
        return None;
    }
    let idx = path.iter().rposition(|&b| b == b'\\')?;
    let name = &path[idx + 1..];
    if name.is_empty() {
        None
    } else {
        Some(name)
    }
}

/// `basename_4688`: the text after the last `\`, or the whole string when there is none.
///
/// A path ending with `\` gives `""` (Painless `splitOnToken` keeps a trailing empty part and
/// the pipeline sets the name to it).
pub fn basename_4688(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'\\') {
        Some(idx) => &path[idx + 1..],
        None => path,
    }
}

/// Pushes `n` backslashes (Go's `appendBSBytes`).
fn push_backslashes(buf: &mut Vec<u8>, n: usize) {
    buf.resize(buf.len() + n, b'\\');
}

/// `argv_windows` (Sysmon, SentinelOne): Go's Windows command-line splitting as in docs/shapes.md.
///
/// Calls `f` for each argument in order; stops early and returns true as soon as `f` returns
/// true; returns false otherwise. `buf` is caller-provided scratch (cleared and reused; no other
/// allocation). A CommandLine of `""` or `"-"` has no arguments (f is never called: the field is
/// absent).
///
/// Rules (the Painless `readNextArg` / `commandLineToArgv` of the Sysmon and SentinelOne
/// pipelines, themselves a port of Go's `syscall/exec_windows.go` at golang/go 39c8d2b7):
/// - only space and tab separate arguments; runs are skipped, leading and trailing ones ignored
///   (CR, LF and other whitespace are ordinary characters);
/// - `2n` backslashes then `"` → `n` backslashes, and the quote toggles quoting;
///   `2n+1` backslashes then `"` → `n` backslashes and a literal `"`;
///   backslashes not followed by `"` are literal;
/// - inside quotes, `""` → a literal `"` and quoting turns **off** ("prior to 2008" rule);
/// - quotes are removed; an empty quoted token (`""`) is an empty-string argument;
/// - an unclosed quote runs to the end of the line; argv\[0\] follows the same rules.
///
/// An argument without any `"` is passed as a sub-slice of `cmd` (no copy); one with quotes is
/// built in `buf`.
pub fn argv_windows(cmd: &[u8], buf: &mut Vec<u8>, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    // The Sysmon pipeline first drops event_data values "" and "-" (script "Remove all empty
    // values from event_data"), so such a CommandLine never becomes process.command_line.
    if cmd.is_empty() || cmd == b"-" {
        return false;
    }
    let n = cmd.len();
    let mut i = 0;
    while i < n {
        let c = cmd[i];
        if c == b' ' || c == b'\t' {
            i += 1;
            continue;
        }
        // An argument starts at i. Fast path: up to the next separator or quote.
        let start = i;
        let mut j = i;
        while j < n && !matches!(cmd[j], b' ' | b'\t' | b'"') {
            j += 1;
        }
        if j == n || cmd[j] != b'"' {
            // No quote in this argument: backslashes are all literal, the bytes are the argument.
            if f(&cmd[start..j]) {
                return true;
            }
            i = j; // the separator, if any, is skipped at the top of the loop
            continue;
        }
        // Slow path: a quote at j. Backslashes right before it are counted, not copied yet.
        let mut run = 0;
        while j - run > start && cmd[j - run - 1] == b'\\' {
            run += 1;
        }
        buf.clear();
        buf.extend_from_slice(&cmd[start..j - run]);
        let mut nslash = run;
        let mut inquote = false;
        let mut k = j;
        while k < n {
            let c = cmd[k];
            match c {
                b' ' | b'\t' if !inquote => break,
                b'"' => {
                    push_backslashes(buf, nslash / 2);
                    if nslash % 2 == 0 {
                        // "Prior to 2008" rule: `""` inside quotes is a literal quote, and the
                        // second quote is consumed before quoting toggles (so it turns off).
                        if inquote && k + 1 < n && cmd[k + 1] == b'"' {
                            buf.push(b'"');
                            k += 1;
                        }
                        inquote = !inquote;
                    } else {
                        buf.push(b'"');
                    }
                    nslash = 0;
                    k += 1;
                    continue;
                }
                b'\\' => {
                    nslash += 1;
                    k += 1;
                    continue;
                }
                _ => {}
            }
            // Any other byte (and a space or tab inside quotes): pending backslashes are literal.
            push_backslashes(buf, nslash);
            nslash = 0;
            buf.push(c);
            k += 1;
        }
        push_backslashes(buf, nslash);
        if f(buf) {
            return true;
        }
        i = k; // the separator that ended the argument (skipped at the top of the loop), or n
    }
    false
}

/// Byte length of the Java-whitespace character starting at `cmd[i]`, or 0 when it is not one.
///
/// Java's `Character.isWhitespace` (the JDK Elasticsearch ships, Unicode ≥ 6.3): `\t \n \v \f \r`,
/// U+001C..U+001F, and the space / line / paragraph separators (Zs, Zl, Zp) except the no-break
/// spaces U+00A0, U+2007, U+202F: U+0020, U+1680, U+2000..U+2006, U+2008..U+200A, U+2028,
/// U+2029, U+205F, U+3000. Not whitespace: U+0085, U+180E (Cf since Unicode 6.3), U+200B,
/// U+FEFF. All multi-byte ones are 3-byte UTF-8 sequences led by E1, E2 or E3, which can never
/// be continuation bytes, so matching them anywhere equals decoding; other (or invalid) bytes
/// are ordinary.
fn java_whitespace_len(cmd: &[u8], i: usize) -> usize {
    let b = cmd[i];
    if b.is_ascii() {
        return matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | 0x1C..=0x1F | b' ') as usize;
    }
    match (b, cmd.get(i + 1..i + 3)) {
        (0xE1, Some(&[0x9A, 0x80])) => 3, // U+1680
        // U+2000..U+2006, U+2008..U+200A (not U+2007), U+2028, U+2029
        (0xE2, Some(&[0x80, 0x80..=0x86 | 0x88..=0x8A | 0xA8 | 0xA9])) => 3,
        (0xE2, Some(&[0x81, 0x9F])) => 3, // U+205F
        (0xE3, Some(&[0x80, 0x80])) => 3, // U+3000
        _ => 0,
    }
}

/// `argv_4688` (Security 4688): every `"` toggles quoting and stays in the token; whitespace
/// outside quotes ends a token (Java `Character.isWhitespace` set, see docs/shapes.md; double spaces give
/// empty args, trailing whitespace a trailing `""`). No allocation: arguments are sub-slices of
/// `cmd`.
///
/// Port of the "Process Event 4688" script (elastic/integrations
/// `packages/system/data_stream/security/elasticsearch/ingest_pipeline/standard.yml`). As that
/// script does: no backslash rules; every whitespace character outside quotes ends a token, so a
/// leading space gives a leading `""` and a lone space gives `["", ""]`; an empty command line
/// gives `[]` (f never called: the field is absent). `-` is an ordinary argument here.
pub fn argv_4688(cmd: &[u8], f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let n = cmd.len();
    if n == 0 {
        return false;
    }
    let mut start = 0;
    let mut inquote = false;
    let mut i = 0;
    while i < n {
        if cmd[i] == b'"' {
            inquote = !inquote;
            i += 1;
            continue;
        }
        let w = java_whitespace_len(cmd, i);
        if w > 0 && !inquote {
            if f(&cmd[start..i]) {
                return true;
            }
            start = i + w;
        }
        i += w.max(1);
    }
    // The script always adds the tail at the last character: "" after trailing whitespace.
    f(&cmd[start..])
}

/// `argv_m365` (Defender): trim, split on single spaces, drop empty tokens, quotes kept.
/// Sub-slices of `cmd`.
///
/// Port of `script_split_command_line` (elastic/integrations
/// `packages/m365_defender/data_stream/event/elasticsearch/ingest_pipeline/pipeline_device.yml`):
/// `commandLine.trim()` is Java's `String.trim`, which strips every character ≤ U+0020 (all ASCII
/// control characters and space) from both ends; `/ /.split(...)` splits on the space character
/// only, so tabs and other whitespace inside the line stay inside tokens.
pub fn argv_m365(cmd: &[u8], f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let first = match cmd.iter().position(|&b| b > b' ') {
        Some(p) => p,
        None => return false,
    };
    // A byte > 0x20 exists, so rposition finds one too.
    let last = cmd.iter().rposition(|&b| b > b' ').unwrap_or(first);
    cmd[first..=last]
        .split(|&b| b == b' ')
        .filter(|tok| !tok.is_empty())
        .any(f)
}

/// SentinelOne: strip one pair of outer `"` when the command line starts and ends with `"` (and
/// is at least 2 bytes).
///
/// Port of `script_to_remove_quotes_from_begining_and_end` (SentinelOne Cloud Funnel
/// `default.yml`). A lone `"` is kept: there the script's `substring(1, 0)` throws and the
/// processor's `on_failure` leaves the value unchanged.
pub fn strip_outer_quotes(cmd: &[u8]) -> &[u8] {
    if cmd.len() >= 2 && cmd[0] == b'"' && cmd[cmd.len() - 1] == b'"' {
        &cmd[1..cmd.len() - 1]
    } else {
        cmd
    }
}

/// Collects every argument of [`argv_windows`] (allocates; for tests and `explain`).
pub fn argv_windows_vec(cmd: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    argv_windows(cmd, &mut buf, &mut |a| {
        out.push(a.to_vec());
        false
    });
    out
}

/// Collects every argument of [`argv_4688`] (allocates; for tests and `explain`).
pub fn argv_4688_vec(cmd: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    argv_4688(cmd, &mut |a| {
        out.push(a.to_vec());
        false
    });
    out
}

/// Collects every argument of [`argv_m365`] (allocates; for tests and `explain`).
pub fn argv_m365_vec(cmd: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    argv_m365(cmd, &mut |a| {
        out.push(a.to_vec());
        false
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected argument lists are written out by hand as `&str`s.
    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    fn win(cmd: &str) -> Vec<Vec<u8>> {
        argv_windows_vec(cmd.as_bytes())
    }

    fn sec(cmd: &str) -> Vec<Vec<u8>> {
        argv_4688_vec(cmd.as_bytes())
    }

    fn m365(cmd: &str) -> Vec<Vec<u8>> {
        argv_m365_vec(cmd.as_bytes())
    }

    // ---------------------------------------------------------------- basenames

    #[test]
    fn basename_sysmon_takes_text_after_last_backslash() {
        assert_eq!(
            basename_sysmon(br"C:\Windows\System32\cmd.exe"),
            Some(&b"cmd.exe"[..])
        );
        assert_eq!(
            basename_sysmon(br"\\server\share\PowerShell.EXE"),
            Some(&b"PowerShell.EXE"[..])
        );
        assert_eq!(basename_sysmon(br"\x"), Some(&b"x"[..]));
        assert_eq!(
            basename_sysmon("C:\\Users\\Jörg\\ä.exe".as_bytes()),
            Some("ä.exe".as_bytes())
        );
    }

    #[test]
    fn basename_sysmon_absent_cases() {
        assert_eq!(basename_sysmon(b""), None);
        assert_eq!(basename_sysmon(b"-"), None);
        assert_eq!(basename_sysmon(br"\"), None);
        assert_eq!(basename_sysmon(b"cmd.exe"), None);
        // Forward slashes are not separators.
        assert_eq!(basename_sysmon(b"C:/Windows/cmd.exe"), None);
        // Empty name after a trailing backslash: the pipeline does not set it.
        assert_eq!(basename_sysmon(br"C:\Windows\"), None);
    }

    #[test]
    fn basename_4688_cases() {
        assert_eq!(
            basename_4688(br"C:\Windows\System32\wevtutil.exe"),
            b"wevtutil.exe"
        );
        assert_eq!(basename_4688(b"services.exe"), b"services.exe");
        assert_eq!(basename_4688(b""), b"");
        assert_eq!(basename_4688(b"-"), b"-");
        assert_eq!(basename_4688(br"\"), b"");
        assert_eq!(basename_4688(br"C:\dir\"), b"");
        assert_eq!(basename_4688(b"C:/x/cmd.exe"), b"C:/x/cmd.exe");
    }

    // ---------------------------------------------------------------- argv_windows

    #[test]
    fn windows_spec_example_and_fixtures() {
        assert_eq!(
            win(r#""C:\Windows\system32\notepad.exe" "#),
            v(&[r"C:\Windows\system32\notepad.exe"])
        );
        assert_eq!(
            win(r"C:\Windows\system32\svchost.exe -k DcomLaunch"),
            v(&[r"C:\Windows\system32\svchost.exe", "-k", "DcomLaunch"])
        );
        assert_eq!(
            win(
                r#""C:\Program Files\NVIDIA Corporation\Display.NvContainer\NVDisplay.Container.exe" -s NVDisplay.ContainerLocalSystem -f "C:\ProgramData\NVIDIA\NVDisplay.Container.log""#
            ),
            v(&[
                r"C:\Program Files\NVIDIA Corporation\Display.NvContainer\NVDisplay.Container.exe",
                "-s",
                "NVDisplay.ContainerLocalSystem",
                "-f",
                r"C:\ProgramData\NVIDIA\NVDisplay.Container.log",
            ])
        );
    }

    #[test]
    fn windows_quotes_are_removed_anywhere_in_a_token() {
        assert_eq!(win(r#"a"b c"d e"#), v(&["ab cd", "e"]));
        assert_eq!(
            win(r#"cmd.exe /c "echo hi""#),
            v(&["cmd.exe", "/c", "echo hi"])
        );
        // An unclosed quote runs to the end.
        assert_eq!(
            win(r#""C:\Program Files\x.exe -a"#),
            v(&[r"C:\Program Files\x.exe -a"])
        );
    }

    #[test]
    fn windows_backslash_runs_before_quotes() {
        // 1 backslash: literal quote, no toggle.
        assert_eq!(win(r#"a\"b c"#), v(&[r#"a"b"#, "c"]));
        // 2 backslashes: one backslash, quote opens.
        assert_eq!(win(r#"a\\"b c" d"#), v(&[r"a\b c", "d"]));
        // 3 backslashes: one backslash and a literal quote.
        assert_eq!(win(r#"a\\\"b c"#), v(&[r#"a\"b"#, "c"]));
        // 4 backslashes: two backslashes, quote opens.
        assert_eq!(win(r#"a\\\\"b c" d"#), v(&[r"a\\b c", "d"]));
        // Escaped quotes at the start of tokens.
        assert_eq!(win(r#"\"a b\""#), v(&[r#""a"#, r#"b""#]));
        // Trailing backslashes of a quoted directory: 2 → 1, and the quote closes.
        assert_eq!(win(r#""C:\dir\\" x"#), v(&[r"C:\dir\", "x"]));
        // Inside quotes, 3 backslashes then a quote: literal quote, quoting stays on.
        assert_eq!(win(r#""a\\\" b" c"#), v(&[r#"a\" b"#, "c"]));
    }

    #[test]
    fn windows_backslashes_not_before_quotes_are_literal() {
        assert_eq!(
            win(r"C:\a\\b\\\c d\ e\\"),
            v(&[r"C:\a\\b\\\c", r"d\", r"e\\"])
        );
        assert_eq!(win(r#""C:\x y\z" w"#), v(&[r"C:\x y\z", "w"]));
        assert_eq!(win(r"\\server\share"), v(&[r"\\server\share"]));
    }

    #[test]
    fn windows_double_quote_inside_quotes_is_literal_and_ends_quoting() {
        // After `""` quoting is off, so the next quote opens again and protects the space.
        assert_eq!(win(r#""a""b" c"#), v(&[r#"a"b c"#]));
        // Prior-to-2008: quoting is OFF after `""`, so the space splits (the 2008 rule would
        // give one argument `a"b c`).
        assert_eq!(win(r#""a""b c""#), v(&[r#"a"b"#, "c"]));
        assert_eq!(win(r#""""""#), v(&[r#"""#]));
        assert_eq!(win(r#"""""#), v(&[r#"""#]));
        assert_eq!(win(r#"a"""b"#), v(&[r#"a"b"#]));
        // Backslash pairs then `""` inside quotes.
        assert_eq!(win(r#""a\\""b c"#), v(&[r#"a\"b"#, "c"]));
        // An odd run makes the first quote literal; the second then closes normally.
        assert_eq!(win(r#""a\"" b"#), v(&[r#"a""#, "b"]));
    }

    #[test]
    fn windows_empty_quoted_token_is_an_empty_argument() {
        assert_eq!(win(r#""""#), v(&[""]));
        assert_eq!(win(r#"a "" b"#), v(&["a", "", "b"]));
        assert_eq!(win(r#""" """#), v(&["", ""]));
        assert_eq!(win(r#"a """#), v(&["a", ""]));
    }

    #[test]
    fn windows_only_space_and_tab_separate() {
        assert_eq!(win("a\tb \t c"), v(&["a", "b", "c"]));
        assert_eq!(win("\"a\tb\" c"), v(&["a\tb", "c"]));
        assert_eq!(win("a\r\nb c"), v(&["a\r\nb", "c"]));
        assert_eq!(win("cmd.exe\n/c x"), v(&["cmd.exe\n/c", "x"]));
        assert_eq!(win("a\x0Bb\x0Cc"), v(&["a\x0Bb\x0Cc"]));
        assert_eq!(win("a\u{3000}b\u{a0}c"), v(&["a\u{3000}b\u{a0}c"]));
        assert_eq!(
            win("C:\\Users\\Jörg\\ä.exe \"ü x\""),
            v(&["C:\\Users\\Jörg\\ä.exe", "ü x"])
        );
    }

    #[test]
    fn windows_leading_trailing_and_repeated_separators() {
        assert_eq!(win("   a   b   "), v(&["a", "b"]));
        assert_eq!(win("\t\ta\t\t"), v(&["a"]));
        assert_eq!(win(" -"), v(&["-"]));
        assert_eq!(win("--"), v(&["--"]));
    }

    #[test]
    fn windows_empty_and_dash_command_lines_have_no_arguments() {
        let mut called = 0;
        let mut buf = Vec::new();
        for cmd in [&b""[..], b"-", b" ", b"\t \t"] {
            let stopped = argv_windows(cmd, &mut buf, &mut |_| {
                called += 1;
                true
            });
            assert!(!stopped);
        }
        assert_eq!(called, 0);
        assert!(win("-").is_empty());
        assert!(win("").is_empty());
    }

    #[test]
    fn windows_unquoted_arguments_are_not_copied() {
        let cmd = br#"C:\Windows\system32\svchost.exe -k "Dcom Launch" x\y"#;
        let range = cmd.as_ptr_range();
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        argv_windows(cmd, &mut buf, &mut |a| {
            seen.push((a.to_vec(), range.contains(&a.as_ptr())));
            false
        });
        assert_eq!(
            seen,
            vec![
                (br"C:\Windows\system32\svchost.exe".to_vec(), true),
                (b"-k".to_vec(), true),
                (b"Dcom Launch".to_vec(), false),
                (br"x\y".to_vec(), true),
            ]
        );
    }

    #[test]
    fn windows_scratch_buffer_is_cleared() {
        let mut buf = b"JUNK".to_vec();
        let mut seen = Vec::new();
        argv_windows(br#""a" "b c" d"#, &mut buf, &mut |a| {
            seen.push(a.to_vec());
            false
        });
        assert_eq!(seen, v(&["a", "b c", "d"]));
    }

    #[test]
    fn windows_early_stop() {
        let mut buf = Vec::new();
        let mut calls = Vec::new();
        let stopped = argv_windows(b"a \"b\" c d", &mut buf, &mut |a| {
            calls.push(a.to_vec());
            a == b"b"
        });
        assert!(stopped);
        assert_eq!(calls, v(&["a", "b"]));

        calls.clear();
        let stopped = argv_windows(b"a b \"c\" d", &mut buf, &mut |a| {
            calls.push(a.to_vec());
            false
        });
        assert!(!stopped);
        assert_eq!(calls, v(&["a", "b", "c", "d"]));

        // Stop on the very first (unquoted) argument.
        let mut n = 0;
        assert!(argv_windows(b"x y z", &mut buf, &mut |_| {
            n += 1;
            true
        }));
        assert_eq!(n, 1);
    }

    /// A literal transliteration of the pipeline's Painless `readNextArg` / `commandLineToArgv`
    /// (restarting on the remainder string, as the script does), used as a reference.
    fn painless_command_line_to_argv(cmd: &[u8]) -> Vec<Vec<u8>> {
        fn append_bs(b: &mut Vec<u8>, n: usize) {
            for _ in 0..n {
                b.push(b'\\');
            }
        }
        fn read_next_arg(mut cmd: &[u8]) -> (Vec<u8>, &[u8]) {
            let mut b = Vec::new();
            let mut inquote = false;
            let mut nslash = 0;
            while !cmd.is_empty() {
                let c = cmd[0];
                if c == b' ' || c == 0x09 {
                    if !inquote {
                        append_bs(&mut b, nslash);
                        return (b, &cmd[1..]);
                    }
                } else if c == b'"' {
                    append_bs(&mut b, nslash / 2);
                    if nslash % 2 == 0 {
                        if inquote && cmd.len() > 1 && cmd[1] == b'"' {
                            b.push(c);
                            cmd = &cmd[1..];
                        }
                        inquote = !inquote;
                    } else {
                        b.push(c);
                    }
                    nslash = 0;
                    cmd = &cmd[1..];
                    continue;
                } else if c == b'\\' {
                    nslash += 1;
                    cmd = &cmd[1..];
                    continue;
                }
                append_bs(&mut b, nslash);
                nslash = 0;
                b.push(c);
                cmd = &cmd[1..];
            }
            append_bs(&mut b, nslash);
            (b, &[])
        }
        let mut args = Vec::new();
        let mut cmd = cmd;
        while !cmd.is_empty() {
            if cmd[0] == b' ' || cmd[0] == 0x09 {
                cmd = &cmd[1..];
                continue;
            }
            let (arg, rest) = read_next_arg(cmd);
            args.push(arg);
            cmd = rest;
        }
        args
    }

    #[test]
    fn windows_matches_pipeline_transliteration_exhaustively() {
        // Every string of length 0..=7 over the bytes that matter.
        let alphabet = [b'a', b' ', b'\t', b'"', b'\\'];
        let mut buf = Vec::new();
        let mut checked = 0;
        for len in 0..=7u32 {
            for mut code in 0..alphabet.len().pow(len) {
                let mut s = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    s.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                let mut got = Vec::new();
                argv_windows(&s, &mut buf, &mut |a| {
                    got.push(a.to_vec());
                    false
                });
                assert_eq!(
                    got,
                    painless_command_line_to_argv(&s),
                    "{:?}",
                    String::from_utf8_lossy(&s)
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 97_656); // (5^8 - 1) / 4
    }

    // ---------------------------------------------------------------- argv_4688

    #[test]
    fn sec_spec_example() {
        assert_eq!(
            sec(r#""C:\Windows\system32\wevtutil.exe" cl Security"#),
            v(&[r#""C:\Windows\system32\wevtutil.exe""#, "cl", "Security"])
        );
    }

    #[test]
    fn sec_quotes_stay_and_protect_whitespace() {
        assert_eq!(
            sec(r#""C:\Program Files\a.exe" -x"#),
            v(&[r#""C:\Program Files\a.exe""#, "-x"])
        );
        assert_eq!(sec(r#"a"b c"d e"#), v(&[r#"a"b c"d"#, "e"]));
        assert_eq!(sec(r#""" x"#), v(&[r#""""#, "x"]));
        // Unclosed quote: the rest is one token.
        assert_eq!(sec(r#"a "b c"#), v(&["a", r#""b c"#]));
    }

    #[test]
    fn sec_has_no_backslash_rules() {
        // The backslash does not escape: the quote opens and protects the space.
        assert_eq!(sec(r#"a\" b"#), v(&[r#"a\" b"#]));
        assert_eq!(sec(r#"a\\" b" c"#), v(&[r#"a\\" b""#, "c"]));
        assert_eq!(sec(r"C:\x\ y"), v(&[r"C:\x\", "y"]));
    }

    #[test]
    fn sec_empty_arguments_from_repeated_leading_and_trailing_whitespace() {
        assert_eq!(sec("a  b"), v(&["a", "", "b"]));
        assert_eq!(sec("a   b"), v(&["a", "", "", "b"]));
        assert_eq!(sec("a "), v(&["a", ""]));
        assert_eq!(sec(" a"), v(&["", "a"]));
        assert_eq!(sec(" "), v(&["", ""]));
        assert_eq!(sec("  "), v(&["", "", ""]));
        assert_eq!(
            sec(r#""C:\Windows\notepad.exe" "#),
            v(&[r#""C:\Windows\notepad.exe""#, ""])
        );
        assert_eq!(sec("a"), v(&["a"]));
        assert_eq!(sec("-"), v(&["-"]));
    }

    #[test]
    fn sec_empty_command_line_has_no_arguments() {
        let mut called = false;
        assert!(!argv_4688(b"", &mut |_| {
            called = true;
            true
        }));
        assert!(!called);
        assert!(sec("").is_empty());
    }

    #[test]
    fn sec_ascii_whitespace_set() {
        assert_eq!(
            sec("a\tb\nc\rd\x0Be\x0Cf"),
            v(&["a", "b", "c", "d", "e", "f"])
        );
        assert_eq!(sec("a\x1Cb\x1Dc\x1Ed\x1Ff"), v(&["a", "b", "c", "d", "f"]));
        assert_eq!(sec("a\r\nb"), v(&["a", "", "b"]));
        // Other control characters are not whitespace.
        assert_eq!(sec("a\x00b\x1Bc\x7Fd"), v(&["a\x00b\x1Bc\x7Fd"]));
    }

    #[test]
    fn sec_unicode_whitespace() {
        // Split: U+3000, U+1680, U+2000, U+2006, U+2008, U+200A, U+2028, U+2029, U+205F.
        for ws in [
            '\u{3000}', '\u{1680}', '\u{2000}', '\u{2006}', '\u{2008}', '\u{200A}', '\u{2028}',
            '\u{2029}', '\u{205F}',
        ] {
            assert_eq!(
                sec(&format!("a{ws}b")),
                v(&["a", "b"]),
                "U+{:04X}",
                ws as u32
            );
        }
        // Not split: no-break spaces, NEL, Mongolian vowel separator, zero-width space, BOM.
        for not_ws in [
            '\u{A0}', '\u{2007}', '\u{202F}', '\u{85}', '\u{180E}', '\u{200B}', '\u{FEFF}',
        ] {
            let s = format!("a{not_ws}b");
            assert_eq!(sec(&s), v(&[&s]), "U+{:04X}", not_ws as u32);
        }
        assert_eq!(sec("a\u{3000}"), v(&["a", ""]));
        assert_eq!(sec("\u{3000}\u{3000}a"), v(&["", "", "a"]));
        assert_eq!(
            sec("\"a\u{3000}b\" c\u{2028}d"),
            v(&["\"a\u{3000}b\"", "c", "d"])
        );
    }

    #[test]
    fn sec_invalid_utf8_bytes_are_ordinary() {
        assert_eq!(
            argv_4688_vec(b"a\xE2\x80b c"),
            vec![b"a\xE2\x80b".to_vec(), b"c".to_vec()]
        );
        assert_eq!(argv_4688_vec(b"a\xE3\x80"), vec![b"a\xE3\x80".to_vec()]);
        assert_eq!(argv_4688_vec(b"\xE2\x80"), vec![b"\xE2\x80".to_vec()]);
        assert_eq!(
            argv_4688_vec(b"\xFF \xFE"),
            vec![b"\xFF".to_vec(), b"\xFE".to_vec()]
        );
        // A stray lead byte before a real U+3000 does not hide it.
        assert_eq!(
            argv_4688_vec(b"a\xF0\xE3\x80\x80b"),
            vec![b"a\xF0".to_vec(), b"b".to_vec()]
        );
    }

    /// Java `Character.isWhitespace` written out as code points (JDK 9+, Unicode ≥ 6.3).
    const JAVA_WHITESPACE: &[u32] = &[
        0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x1680, 0x2000, 0x2001, 0x2002,
        0x2003, 0x2004, 0x2005, 0x2006, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x205F, 0x3000,
    ];

    #[test]
    fn sec_whitespace_set_is_exactly_javas_over_all_code_points() {
        let mut splitting = Vec::new();
        let mut bytes = [0u8; 4];
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let mut s = vec![b'x'];
            s.extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
            s.push(b'y');
            let mut count = 0;
            argv_4688(&s, &mut |_| {
                count += 1;
                false
            });
            if c == '"' {
                assert_eq!(count, 1);
            } else if count == 2 {
                splitting.push(c as u32);
            } else {
                assert_eq!(count, 1, "U+{:04X}", c as u32);
            }
        }
        assert_eq!(splitting, JAVA_WHITESPACE);
    }

    /// A literal transliteration of the pipeline's 4688 loop (`start`, `end`, `in_quote`, the tail
    /// added at the last character), over Java chars, with the whitespace list above.
    fn painless_4688(cmd: &str) -> Vec<Vec<u8>> {
        let chars: Vec<char> = cmd.chars().collect();
        let sub = |a: usize, b: usize| chars[a..b].iter().collect::<String>().into_bytes();
        let mut al = Vec::new();
        let (mut start, mut in_quote) = (0, false);
        for i in 0..chars.len() {
            let end = i;
            if chars[i] == '"' {
                in_quote = !in_quote;
            }
            if JAVA_WHITESPACE.contains(&(chars[i] as u32)) && !in_quote {
                al.push(sub(start, end));
                start = i + 1;
            }
            if i == chars.len() - 1 {
                al.push(sub(start, end + 1));
            }
        }
        al
    }

    #[test]
    fn sec_matches_pipeline_transliteration_exhaustively() {
        let alphabet = ['a', ' ', '"', '\t', '\u{3000}', '\u{a0}'];
        let mut checked = 0;
        for len in 0..=6u32 {
            for mut code in 0..alphabet.len().pow(len) {
                let mut s = String::new();
                for _ in 0..len {
                    s.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                assert_eq!(argv_4688_vec(s.as_bytes()), painless_4688(&s), "{s:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 55_987); // (6^7 - 1) / 5
    }

    #[test]
    fn sec_arguments_are_subslices() {
        let cmd = br#""C:\a b.exe"  x"#;
        let range = cmd.as_ptr_range();
        let mut all_inside = true;
        argv_4688(cmd, &mut |a| {
            all_inside &= a.is_empty() || range.contains(&a.as_ptr());
            false
        });
        assert!(all_inside);
    }

    #[test]
    fn sec_early_stop() {
        let mut calls = Vec::new();
        assert!(argv_4688(b"a b c d", &mut |a| {
            calls.push(a.to_vec());
            a == b"b"
        }));
        assert_eq!(calls, v(&["a", "b"]));

        // Stopping on the trailing empty argument.
        let mut n = 0;
        assert!(argv_4688(b"a ", &mut |a| {
            n += 1;
            a.is_empty()
        }));
        assert_eq!(n, 2);

        let mut n = 0;
        assert!(!argv_4688(b"a b c", &mut |_| {
            n += 1;
            false
        }));
        assert_eq!(n, 3);
    }

    // ---------------------------------------------------------------- argv_m365

    #[test]
    fn m365_splits_on_single_spaces_and_keeps_quotes() {
        assert_eq!(
            m365(r#""C:\Windows\system32\cmd.exe" /c "echo hi""#),
            v(&[
                r#""C:\Windows\system32\cmd.exe""#,
                "/c",
                r#""echo"#,
                r#"hi""#
            ])
        );
        assert_eq!(
            m365(r#"NVDisplay.Container.exe -s NVDisplay.ContainerLocalSystem"#),
            v(&[
                "NVDisplay.Container.exe",
                "-s",
                "NVDisplay.ContainerLocalSystem"
            ])
        );
        assert_eq!(m365(r"a\ b"), v(&[r"a\", "b"]));
        assert_eq!(m365("-"), v(&["-"]));
    }

    #[test]
    fn m365_drops_empty_tokens_and_trims() {
        assert_eq!(m365("  a  b  "), v(&["a", "b"]));
        assert_eq!(m365("a    b"), v(&["a", "b"]));
        // Java trim strips every character <= U+0020 at both ends, control characters included.
        assert_eq!(m365("\t a b \r\n"), v(&["a", "b"]));
        assert_eq!(m365("\x00a b\x01\x1F"), v(&["a", "b"]));
    }

    #[test]
    fn m365_only_space_separates_inside() {
        assert_eq!(m365("a\tb c"), v(&["a\tb", "c"]));
        assert_eq!(m365("a \tb"), v(&["a", "\tb"]));
        assert_eq!(m365("a\r\nb"), v(&["a\r\nb"]));
        // Non-ASCII whitespace is neither trimmed nor a separator.
        assert_eq!(m365("\u{3000}a\u{3000}b"), v(&["\u{3000}a\u{3000}b"]));
        assert_eq!(m365("a\u{a0}b"), v(&["a\u{a0}b"]));
    }

    #[test]
    fn m365_blank_command_lines_have_no_arguments() {
        let mut called = false;
        for cmd in [&b""[..], b"   ", b"\t\r\n", b"\x00"] {
            assert!(!argv_m365(cmd, &mut |_| {
                called = true;
                true
            }));
        }
        assert!(!called);
    }

    #[test]
    fn m365_early_stop_and_subslices() {
        let cmd = b" a  b c ";
        let range = cmd.as_ptr_range();
        let mut calls = Vec::new();
        assert!(argv_m365(cmd, &mut |a| {
            assert!(range.contains(&a.as_ptr()));
            calls.push(a.to_vec());
            a == b"b"
        }));
        assert_eq!(calls, v(&["a", "b"]));

        let mut n = 0;
        assert!(!argv_m365(cmd, &mut |_| {
            n += 1;
            false
        }));
        assert_eq!(n, 3);
    }

    // ---------------------------------------------------------------- strip_outer_quotes

    #[test]
    fn strip_outer_quotes_cases() {
        assert_eq!(strip_outer_quotes(br#""a b""#), b"a b");
        assert_eq!(
            strip_outer_quotes(br#""C:\x.exe" -a "b""#),
            br#"C:\x.exe" -a "b"#
        );
        assert_eq!(strip_outer_quotes(br#""""#), b"");
        assert_eq!(strip_outer_quotes(br#"""""#), br#"""#);
        assert_eq!(strip_outer_quotes(br#"""#), br#"""#);
        assert_eq!(strip_outer_quotes(b""), b"");
        assert_eq!(strip_outer_quotes(br#"a""#), br#"a""#);
        assert_eq!(strip_outer_quotes(br#""a"#), br#""a"#);
        assert_eq!(strip_outer_quotes(b"a b"), b"a b");
    }

    #[test]
    fn sentinelone_pipeline_composition() {
        // What Elastic derives for a SentinelOne command line quoted as a whole: the outer pair
        // goes, then the Go rules apply to the rest.
        assert_eq!(
            argv_windows_vec(strip_outer_quotes(br#""C:\x.exe" -a "b""#)),
            v(&[r"C:\x.exe -a b"])
        );
        assert_eq!(
            argv_windows_vec(strip_outer_quotes(br#""C:\Windows\system32\cmd.exe""#)),
            v(&[r"C:\Windows\system32\cmd.exe"])
        );
        assert!(argv_windows_vec(strip_outer_quotes(br#""""#)).is_empty());
    }
}
