//! Settings files (`svcshell::settings`, read by the WASM filter) on arbitrary bytes, against a model of the
//! format written here: UTF-8 after an optional byte order mark; lines split on `\n`, trimmed; blank lines and
//! `#` lines skipped; every other line `KEY=VALUE` split at its first `=`, key not empty. When the model reads
//! the file, the outcome is exactly `Filter::from_properties` on the model's pairs (the same filter, or the
//! same message at the line of the refused key's last occurrence); when it does not, the error names the first
//! line the model cannot read. Inputs setting `rule_file` are skipped (that surface is the `rule_file` target's,
//! and a fuzzed path must not read the machine's files).
#![no_main]

use libfuzzer_sys::fuzz_target;
use svcshell::settings::{filter, MAX_BYTES};
use svcshell::Filter;

/// The model: `Ok(entries (line, key, value))` or `Err(line)` of the first unreadable line (0: the whole file).
fn model(data: &[u8]) -> Result<Vec<(usize, String, String)>, usize> {
    if data.len() > MAX_BYTES {
        return Err(0);
    }
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data);
    let mut out = Vec::new();
    for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
        let Ok(line) = std::str::from_utf8(raw) else {
            return Err(i + 1);
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(eq) = line.find('=') else {
            return Err(i + 1);
        };
        let (k, v) = (line[..eq].trim(), line[eq + 1..].trim());
        if k.is_empty() {
            return Err(i + 1);
        }
        out.push((i + 1, k.to_string(), v.to_string()));
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let m = model(data);
    if let Ok(entries) = &m {
        if entries.iter().any(|(_, k, _)| k.eq_ignore_ascii_case("rule_file")) {
            return;
        }
    }
    let got = filter(data, None);
    match m {
        Err(line) => {
            let e = got.err().expect("the model cannot read the file, svcshell must refuse it");
            assert_eq!(e.line, line, "{e}");
        }
        Ok(entries) => {
            let pairs: Vec<(&str, &str)> = entries.iter().map(|(_, k, v)| (k.as_str(), v.as_str())).collect();
            match (got, Filter::from_properties(&pairs)) {
                (Ok(a), Ok(b)) => assert_eq!(a.config(), b.config()),
                (Err(e), Err(p)) => {
                    assert_eq!(e.message, p.to_string());
                    let line = entries
                        .iter()
                        .rev()
                        .find(|(_, k, _)| k.eq_ignore_ascii_case(&p.key))
                        .map_or(0, |(l, _, _)| *l);
                    assert_eq!(e.line, line, "{e}");
                }
                (Ok(_), Err(p)) => panic!("settings accepted what properties refuse: {p}"),
                (Err(e), Ok(_)) => panic!("settings refused what properties accept: {e}"),
            }
        }
    }
});
