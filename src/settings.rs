//! Settings files: svcshell's properties written one `KEY=VALUE` per line, for hosts that pass a plugin no
//! properties (Fluent Bit's WASM filter reads `svcshell.conf`, see `docs/wasm.md`).
//!
//! The keys, values, validation and error messages are the properties' own ([`crate::config`]); this module only
//! splits the file into pairs and says on which line a refused key was. The format:
//!
//! ```text
//! # a comment; blank lines are skipped
//! mode = alerts_only
//! exception = process.args : "*\\trusted-agent\\*"
//! exception = host.name : "build-01"
//! rule_file = rules/system-shells-latest.toml
//! ```
//!
//! A line is split at its first `=`; spaces around the key and the value are trimmed (so a value can't start or
//! end with a space, as with every other way of setting a property). A UTF-8 byte order mark and CRLF line ends
//! are accepted. A relative `rule_file` is read from the settings file's directory.

use std::fmt;
use std::path::Path;

use crate::config::{Config, ConfigError};
use crate::Filter;

/// The file name the WASM filter looks for in each of its accessible directories.
pub const FILE_NAME: &str = "svcshell.conf";

/// The largest settings file read (a rule belongs in a `rule_file`, not here).
pub const MAX_BYTES: usize = 1 << 20;

/// A settings file that is refused: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// 1-based line of the offending entry; 0 when the file as a whole is refused.
    pub line: usize,
    /// What is wrong, as the properties say it (`key: message`) for a refused key or value.
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.message),
            n => write!(f, "line {n}: {}", self.message),
        }
    }
}

impl std::error::Error for SettingsError {}

/// One `KEY=VALUE` entry and its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// Splits a settings file into its entries, in file order. Keys and values are not checked here.
pub fn parse(text: &[u8]) -> Result<Vec<Entry>, SettingsError> {
    let whole = |message: String| SettingsError { line: 0, message };
    if text.len() > MAX_BYTES {
        return Err(whole(format!(
            "{} bytes; a settings file is at most {MAX_BYTES} bytes",
            text.len()
        )));
    }
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let mut entries = Vec::new();
    // Line by line, so that the first problem in the file is the one reported.
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let Ok(raw) = std::str::from_utf8(raw) else {
            return Err(SettingsError {
                line: i + 1,
                message: "not UTF-8 text".into(),
            });
        };
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            return Err(SettingsError {
                line: i + 1,
                message: format!("`{l}` is not KEY=VALUE"),
            });
        };
        let key = k.trim();
        if key.is_empty() {
            return Err(SettingsError {
                line: i + 1,
                message: "no key before `=`".into(),
            });
        }
        entries.push(Entry {
            line: i + 1,
            key: key.to_string(),
            value: v.trim().to_string(),
        });
    }
    Ok(entries)
}

/// Reads a settings file's text into a configuration: the same validation as properties set any other way.
/// A relative `rule_file` is resolved against `dir` (the settings file's directory) when given.
pub fn config(text: &[u8], dir: Option<&Path>) -> Result<Config, SettingsError> {
    let entries = parse(text)?;
    let pairs: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            let value = match dir {
                Some(d)
                    if e.key.eq_ignore_ascii_case("rule_file")
                        && Path::new(&e.value).is_relative() =>
                {
                    d.join(&e.value).to_string_lossy().into_owned()
                }
                _ => e.value.clone(),
            };
            (e.key.clone(), value)
        })
        .collect();
    Config::from_properties(&pairs).map_err(|e| locate(&entries, e))
}

/// Reads a settings file's text into a filter (see [`config`]): also refused are what [`Filter::new`]
/// refuses (an exception that does not compile, an unknown shape in `sources`).
pub fn filter(text: &[u8], dir: Option<&Path>) -> Result<Filter, SettingsError> {
    let c = config(text, dir)?;
    Filter::new(c).map_err(|e| locate(&parse(text).unwrap_or_default(), e))
}

/// The refused key's line: its last occurrence, since a repeat is what "set more than once" refuses and values
/// are checked in file order.
fn locate(entries: &[Entry], e: ConfigError) -> SettingsError {
    let line = entries
        .iter()
        .rev()
        .find(|en| en.key.eq_ignore_ascii_case(&e.key))
        .map_or(0, |en| en.line);
    SettingsError {
        line,
        message: e.to_string(),
    }
}

/// Reads the settings file at `path` into a filter (see [`filter`]); the error names the file.
pub fn load(path: &Path) -> Result<Filter, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    filter(&text, path.parent()).map_err(|e| match e.line {
        0 => format!("{}: {}", path.display(), e.message),
        n => format!("{}:{n}: {}", path.display(), e.message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;

    #[test]
    fn entries_comments_blank_lines_bom_crlf() {
        let t = b"\xEF\xBB\xBF# c\r\n\r\n  mode = alerts_only \r\nexception=a == \"b=c\"\n#x=y\n";
        let e = parse(t).unwrap();
        assert_eq!(
            e,
            vec![
                Entry {
                    line: 3,
                    key: "mode".into(),
                    value: "alerts_only".into()
                },
                Entry {
                    line: 4,
                    key: "exception".into(),
                    value: "a == \"b=c\"".into()
                },
            ]
        );
        let c = config(t, None).unwrap();
        assert_eq!(c.mode, Mode::AlertsOnly);
        assert_eq!(c.exceptions, vec!["a == \"b=c\"".to_string()]);
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(config(b"", None).unwrap(), Config::default());
        assert_eq!(config(b"# nothing\n\n", None).unwrap(), Config::default());
    }

    #[test]
    fn refusals_name_the_line() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"mode=tag\nnonsense\n", 2, "`nonsense` is not KEY=VALUE"),
            (b"\n=tag\n", 2, "no key before `=`"),
            (
                b"mode=tag\nmax_alerts=ten\n",
                2,
                "max_alerts: `ten` is not a whole number",
            ),
            (
                b"mode=tag\n\nMODE=alerts_only\n",
                3,
                "mode: set more than once",
            ),
            (b"colour=red\n", 1, "colour: unknown property"),
            (b"mode=tag\nsources=ecs,nope\n", 2, "sources:"),
            (b"exception=process.name ==\n", 1, "exception:"),
            (b"mode=tag\n\xff\n", 2, "not UTF-8 text"),
            (b"rule_id=x\n", 1, "rule_id: picks a rule of `rule_file`"),
        ];
        for (text, line, msg) in cases {
            let e = filter(text, None).err().expect("refused");
            assert_eq!(e.line, *line, "{:?}: {e}", String::from_utf8_lossy(text));
            assert!(
                e.message.starts_with(msg),
                "{:?}: {e}",
                String::from_utf8_lossy(text)
            );
        }
        let big = vec![b'#'; MAX_BYTES + 1];
        let e = filter(&big, None).err().expect("refused");
        assert_eq!(e.line, 0);
        assert_eq!(
            e.to_string(),
            format!(
                "{} bytes; a settings file is at most {MAX_BYTES} bytes",
                MAX_BYTES + 1
            )
        );
        // The largest file read: a comment of MAX_BYTES bytes.
        assert!(filter(&big[1..], None).is_ok());
        let e = filter(
            b"mode=tag
mode=tag
",
            None,
        )
        .err()
        .expect("refused");
        assert_eq!(e.to_string(), "line 2: mode: set more than once");
    }

    /// The messages are the properties' own: a settings line and the same property set directly fail alike.
    #[test]
    fn same_messages_as_properties() {
        for (k, v) in [
            ("mode", "loud"),
            ("alert_window", "5x"),
            ("validate", "some"),
            ("exception", "process.name : ("),
            ("sources", "ecs,nope"),
        ] {
            let direct = Filter::from_properties(&[(k, v)])
                .err()
                .expect("refused")
                .to_string();
            let via = filter(format!("{k} = {v}\n").as_bytes(), None)
                .err()
                .expect("refused");
            assert_eq!(via.message, direct);
            assert_eq!(via.line, 1);
        }
    }

    #[test]
    fn relative_rule_file_is_read_beside_the_settings() {
        let dir = std::env::temp_dir().join(format!("svcshell-settings-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rules")).unwrap();
        let rule = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/rules/persistence_system_shells_via_services.v313.toml"
        ));
        let rule = rule.expect("the committed v313 rule file");
        std::fs::write(dir.join("rules/r.toml"), rule).unwrap();
        std::fs::write(
            dir.join(FILE_NAME),
            "rule_file = rules/r.toml\nmode=alerts_only\n",
        )
        .unwrap();
        let f = load(&dir.join(FILE_NAME)).unwrap();
        assert_eq!(f.config().mode, Mode::AlertsOnly);
        // Read as if the settings were elsewhere, the same text looks for the rule there, and says so.
        let e = config(
            b"rule_file = rules/r.toml\n",
            Some(Path::new("/nonexistent-dir")),
        )
        .expect_err("refused");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("/nonexistent-dir/rules/r.toml"), "{e}");
        let missing = load(&dir.join("absent.conf")).err().expect("refused");
        assert!(missing.contains("absent.conf"), "{missing}");
        std::fs::write(dir.join("bad.conf"), "mode=tag\nmode=tag\n").unwrap();
        let bad = load(&dir.join("bad.conf")).err().expect("refused");
        assert!(
            bad.ends_with("bad.conf:2: mode: set more than once"),
            "{bad}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
