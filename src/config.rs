//! Configuration as shippers pass it: a list of key/value strings (keys case-insensitive, `exception`
//! repeatable). Every key and value is checked when the filter is created; an error names the key, so a
//! shipper refuses to start rather than run half-configured.
//!
//! `rule_file` (with `rule_id` to pick one rule of a Kibana export) replaces the embedded rule with one loaded
//! from a file ([`crate::rule::load`]) while the configuration is read; the loaded rule's `max_signals` and
//! `interval` become the defaults of `max_alerts` and `alert_window`.

use std::fmt;

/// What happens to records that are not alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every record passes; matches carry the alert fields.
    Tag,
    /// Only alerts pass; every other record is dropped.
    AlertsOnly,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub mode: Mode,
    /// EQL conditions; a record matching any of them is not an alert (like an Elastic rule exception).
    pub exceptions: Vec<String>,
    /// Alerts allowed per window; 0 = no cap.
    pub max_alerts: u64,
    /// Window length in seconds, keyed on the record's own time.
    pub alert_window: u64,
    /// Record shapes to recognise (`None` = all).
    pub sources: Option<Vec<String>>,
    /// Which records are fully validated.
    pub validate: Validate,
    /// The rule to run: the embedded one, or the one `rule_file` loaded.
    pub rule: crate::rule::Rule,
}

/// How much of each record is validated as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validate {
    /// Records that cannot match (they lack the rule's required literals) are passed on after a framing check
    /// (a `{...}` object; in Fluent Bit chunks, records after the last possible match are passed unread); the
    /// others are read fully and strictly before they can alert. The default.
    Matches,
    /// Every record is read fully and strictly, so `errors` counts every record serde_json would reject.
    All,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Tag,
            exceptions: Vec::new(),
            max_alerts: crate::rule::MAX_SIGNALS,
            alert_window: crate::rule::INTERVAL_SECS,
            sources: None,
            validate: Validate::Matches,
            rule: crate::rule::Rule::embedded(),
        }
    }
}

/// A configuration key or value that is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The property names svcshell accepts.
pub const KEYS: &[&str] = &[
    "mode",
    "exception",
    "max_alerts",
    "alert_window",
    "sources",
    "validate",
    "rule_file",
    "rule_id",
];

/// Parses a duration: `300`, `300s`, `5m`, `1h`, `1d` (whole units; seconds when no unit).
pub fn parse_duration(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = match v.char_indices().last()? {
        (i, 's') => (&v[..i], 1),
        (i, 'm') => (&v[..i], 60),
        (i, 'h') => (&v[..i], 3600),
        (i, 'd') => (&v[..i], 86400),
        _ => (v, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

impl Config {
    /// Builds a configuration from key/value properties, as a shipper passes them.
    pub fn from_properties<K: AsRef<str>, V: AsRef<str>>(
        props: &[(K, V)],
    ) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        let err = |k: &str, m: String| ConfigError {
            key: k.to_string(),
            message: m,
        };
        let mut seen: Vec<String> = Vec::new();
        let (mut rule_file, mut rule_id): (Option<String>, Option<String>) = (None, None);
        for (k, v) in props {
            let (k, v) = (k.as_ref().trim().to_ascii_lowercase(), v.as_ref());
            if !KEYS.contains(&k.as_str()) {
                return Err(err(
                    &k,
                    format!("unknown property (known: {})", KEYS.join(", ")),
                ));
            }
            if k != "exception" {
                if seen.contains(&k) {
                    return Err(err(&k, "set more than once".into()));
                }
                seen.push(k.clone());
            }
            let vt = v.trim();
            match k.as_str() {
                "mode" => {
                    c.mode = match vt.to_ascii_lowercase().as_str() {
                        "tag" => Mode::Tag,
                        "alerts_only" => Mode::AlertsOnly,
                        _ => {
                            return Err(err(&k, format!("`{vt}` is not a mode (tag, alerts_only)")))
                        }
                    }
                }
                "exception" => {
                    if vt.is_empty() {
                        return Err(err(&k, "empty condition".into()));
                    }
                    c.exceptions.push(vt.to_string());
                }
                "max_alerts" => {
                    c.max_alerts = vt.parse::<u64>().map_err(|_| {
                        err(&k, format!("`{vt}` is not a whole number (0 = no cap)"))
                    })?
                }
                "alert_window" => match parse_duration(vt) {
                    Some(s) if s > 0 => c.alert_window = s,
                    _ => {
                        return Err(err(
                            &k,
                            format!("`{vt}` is not a duration like 300s, 5m, 1h"),
                        ))
                    }
                },
                "validate" => {
                    c.validate = match vt.to_ascii_lowercase().as_str() {
                        "matches" => Validate::Matches,
                        "all" => Validate::All,
                        _ => return Err(err(&k, format!("`{vt}` is not one of: matches, all"))),
                    }
                }
                "sources" => {
                    let list: Vec<String> = vt
                        .split(',')
                        .map(|s| s.trim().to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect();
                    if list.is_empty() {
                        return Err(err(&k, "empty list".into()));
                    }
                    c.sources = Some(list);
                }
                "rule_file" => {
                    if vt.is_empty() {
                        return Err(err(&k, "empty path".into()));
                    }
                    rule_file = Some(vt.to_string());
                }
                "rule_id" => {
                    if vt.is_empty() {
                        return Err(err(&k, "empty rule_id".into()));
                    }
                    rule_id = Some(vt.to_string());
                }
                _ => unreachable!("checked against KEYS"),
            }
        }
        match (rule_file, rule_id) {
            (Some(path), id) => {
                let rule = crate::rule::load(&path, id.as_deref()).map_err(|e| ConfigError {
                    key: "rule_file".into(),
                    message: e.to_string(),
                })?;
                if !seen.iter().any(|k| k == "max_alerts") {
                    c.max_alerts = rule.max_signals;
                }
                if !seen.iter().any(|k| k == "alert_window") {
                    c.alert_window = rule.interval_secs;
                }
                c.rule = rule;
            }
            (None, Some(_)) => {
                return Err(err(
                    "rule_id",
                    "picks a rule of `rule_file`, which is not set".into(),
                ))
            }
            (None, None) => {}
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Some(300));
        assert_eq!(parse_duration("300s"), Some(300));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("1d"), Some(86400));
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("5 m"), None);
        assert_eq!(parse_duration("-5m"), None);
        assert_eq!(parse_duration("1.5m"), None);
    }
}
