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

/// What a property's default is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// A value the parser accepts, and which gives the same configuration as leaving the key out.
    Value(&'static str),
    /// No value: the text says what happens when the key is left out.
    Unset(&'static str),
}

impl DefaultValue {
    /// The default as users read it.
    pub const fn text(self) -> &'static str {
        match self {
            DefaultValue::Value(t) | DefaultValue::Unset(t) => t,
        }
    }
}

/// One configuration property. [`PROPERTIES`] is the one list of them: the parser checks keys against it, the
/// Fluent Bit configuration map is built from it, the CLI's `--set` help is rendered from it, and tests compare
/// the C header's and the docs' lists with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    /// The key, lower case.
    pub key: &'static str,
    /// The values accepted, comma-separated as users write them.
    pub values: &'static str,
    /// The default.
    pub default: DefaultValue,
    /// One line: what the property does.
    pub meaning: &'static str,
    /// May be given more than once (each value adds to the list); such a key also has the numbered siblings
    /// `<key>_1` ..= `<key>_`[`NUMBERED`], each given at most once, for hosts that cannot repeat a key.
    pub repeatable: bool,
    /// The value's words are read ASCII case-insensitively (`TAG` is `tag`); otherwise the value is taken as
    /// written.
    pub fold_case: bool,
    /// `key`, NUL-terminated (for C hosts).
    pub key_nul: &'static str,
    /// `meaning`, values and default in one NUL-terminated line (for the Fluent Bit configuration map).
    pub description_nul: &'static str,
}

macro_rules! property {
    ($key:literal, $values:literal, $default:ident($dtext:literal), $repeatable:literal, $fold:literal, $meaning:literal) => {
        Property {
            key: $key,
            values: $values,
            default: DefaultValue::$default($dtext),
            meaning: $meaning,
            repeatable: $repeatable,
            fold_case: $fold,
            key_nul: concat!($key, "\0"),
            description_nul: concat!($meaning, " Values: ", $values, ". Default: ", $dtext, ".\0"),
        }
    };
}

/// Every configuration property, in the order they are documented.
pub const PROPERTIES: &[Property] = &[
    property!(
        "mode",
        "tag, alerts_only",
        Value("tag"),
        false,
        true,
        "tag: every record passes, matches carry the alert fields; alerts_only: only alerts pass."
    ),
    property!(
        "exception",
        "an EQL condition",
        Unset("none"),
        true,
        false,
        "A match that also matches an exception is not an alert (counted in excepted)."
    ),
    property!(
        "max_alerts",
        "a whole number, 0 = no cap",
        Value("100"),
        false,
        false,
        "Alerts allowed per window; matches over the cap pass untagged (counted in suppressed)."
    ),
    property!(
        "alert_window",
        "300, 300s, 5m, 1h, 1d",
        Value("5m"),
        false,
        false,
        "Window of the alert cap, keyed on the record's own time; a bare number is seconds."
    ),
    property!(
        "sources",
        "a comma list of record shapes",
        Unset("all"),
        false,
        true,
        "The record shapes to recognise; an unknown name is an error."
    ),
    property!(
        "validate",
        "matches, all",
        Value("matches"),
        false,
        true,
        "matches: read in full the records that could match; all: every record."
    ),
    property!(
        "rule_file",
        "a path",
        Unset("the embedded v313"),
        false,
        false,
        "Run the rule in this file (detection-rules TOML, Kibana export NDJSON or rule JSON)."
    ),
    property!(
        "rule_id",
        "a rule_id",
        Unset("none"),
        false,
        false,
        "Picks the rule of rule_file when it holds several (a Kibana export)."
    ),
];

/// The property names svcshell accepts, in [`PROPERTIES`] order.
pub const KEYS: [&str; PROPERTIES.len()] = {
    let mut keys = [""; PROPERTIES.len()];
    let mut i = 0;
    while i < PROPERTIES.len() {
        keys[i] = PROPERTIES[i].key;
        i += 1;
    }
    keys
};

/// The property of a key (lower case), if it is one.
pub fn property(key: &str) -> Option<&'static Property> {
    PROPERTIES.iter().find(|p| p.key == key)
}

/// How many numbered siblings (`exception_1` ..= `exception_16`) a repeatable key has. Some hosts cannot give a
/// key twice (Fluent Bit hands a filter only the first value of a repeated key), so every host accepts these.
pub const NUMBERED: usize = 16;

/// The key a property name stands for (lower case): `<key>_<n>` (1 ..= [`NUMBERED`]) of a repeatable key is that
/// key; every other name is itself.
pub fn core_key(key: &str) -> &str {
    for p in PROPERTIES.iter().filter(|p| p.repeatable) {
        if let Some(n) = key
            .strip_prefix(p.key)
            .and_then(|rest| rest.strip_prefix('_'))
        {
            if !n.starts_with('0')
                && n.parse::<usize>()
                    .is_ok_and(|n| (1..=NUMBERED).contains(&n))
            {
                return p.key;
            }
        }
    }
    key
}

/// The keys accepted, as an error message lists them: every key, a repeatable one followed by its numbered
/// siblings' range.
pub fn keys_text() -> String {
    PROPERTIES
        .iter()
        .map(|p| {
            if p.repeatable {
                format!("{0}, {0}_1 … {0}_{NUMBERED}", p.key)
            } else {
                p.key.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The keys whose values are read case-insensitively, as the help and the docs name them.
pub fn fold_case_keys() -> Vec<&'static str> {
    PROPERTIES
        .iter()
        .filter(|p| p.fold_case)
        .map(|p| p.key)
        .collect()
}

/// The units a duration may end with, and their length in seconds; a duration without one is in seconds.
pub const DURATION_UNITS: &[(char, u64)] = &[('s', 1), ('m', 60), ('h', 3600), ('d', 86400)];

/// Parses a duration: `300`, `300s`, `5m`, `1h`, `1d` (whole units, [`DURATION_UNITS`]; seconds when no unit).
pub fn parse_duration(v: &str) -> Option<u64> {
    let v = v.trim();
    let last = v.chars().last()?;
    let (num, mult) = match DURATION_UNITS.iter().find(|(u, _)| *u == last) {
        Some(&(_, mult)) => (&v[..v.len() - 1], mult),
        None => (v, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// The `--set` help of the CLI: one line per property with its values and default.
pub fn properties_help() -> String {
    let mut s = format!(
        "A filter property, as a shipper would pass it (repeatable). Keys are case-insensitive, and so are \
         the values of {}:",
        fold_case_keys().join(", ")
    );
    for p in PROPERTIES {
        s.push_str(&format!(
            "\n  {}: {} (default: {}){}",
            p.key,
            p.values,
            p.default.text(),
            if p.repeatable { "; repeatable" } else { "" }
        ));
    }
    for p in PROPERTIES.iter().filter(|p| p.repeatable) {
        s.push_str(&format!(
            "\n  {0}_1 … {0}_{NUMBERED}: one more {0} each, for hosts that cannot repeat a key",
            p.key
        ));
    }
    s
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
            let (name, v) = (k.as_ref().trim().to_ascii_lowercase(), v.as_ref());
            let k = core_key(&name).to_string();
            if !KEYS.contains(&k.as_str()) {
                return Err(err(
                    &name,
                    format!("unknown property (known: {})", keys_text()),
                ));
            }
            // A repeatable key may be given again; its numbered siblings (like every other key) only once.
            let repeatable = name == k && property(&k).is_some_and(|p| p.repeatable);
            if !repeatable {
                if seen.contains(&name) {
                    return Err(err(&name, "set more than once".into()));
                }
                seen.push(name.clone());
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
                        return Err(err(&name, "empty condition".into()));
                    }
                    c.exceptions.push(vt.to_string());
                }
                "max_alerts" => {
                    c.max_alerts = vt.parse::<u64>().map_err(|_| {
                        err(&k, format!("`{vt}` is not a whole number (0 = no cap)"))
                    })?
                }
                "alert_window" => match parse_duration(vt) {
                    Some(0) => {
                        return Err(err(
                            &k,
                            format!("`{vt}` is no window: it must be at least 1s"),
                        ))
                    }
                    Some(s) => c.alert_window = s,
                    None => {
                        return Err(err(
                            &k,
                            format!("`{vt}` is not a duration like 300s, 5m, 1h, 1d"),
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

    /// A default written as a value is the value the parser gives when the key is left out.
    #[test]
    fn written_defaults_are_the_defaults() {
        let mut checked = 0;
        for p in PROPERTIES {
            if let DefaultValue::Value(v) = p.default {
                let c = Config::from_properties(&[(p.key, v)]).unwrap();
                assert_eq!(c, Config::default(), "{}", p.key);
                checked += 1;
            }
        }
        assert_eq!(checked, 4);
    }

    /// `alert_window`'s values name exactly the units the parser accepts, and a bare number.
    #[test]
    fn alert_window_values_name_every_duration_unit() {
        let values = property("alert_window").unwrap().values;
        let mut named: Vec<Option<char>> = Vec::new();
        for example in values.split(", ") {
            let digits = example.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let unit = example[digits.len()..].chars().next();
            assert!(parse_duration(example).is_some(), "{example}");
            named.push(unit);
        }
        let mut accepted: Vec<Option<char>> = vec![None];
        for c in 'a'..='z' {
            if parse_duration(&format!("2{c}")).is_some() {
                accepted.push(Some(c));
            }
        }
        named.sort();
        accepted.sort();
        assert_eq!(named, accepted);
        assert_eq!(accepted.len(), DURATION_UNITS.len() + 1);
    }

    /// A repeatable key may be given twice; any other is refused the second time.
    #[test]
    fn only_repeatable_keys_repeat() {
        for p in PROPERTIES {
            let v = match p.default {
                DefaultValue::Value(v) => v,
                DefaultValue::Unset(_) if p.key == "exception" => "host.name == \"a\"",
                DefaultValue::Unset(_) => continue,
            };
            let r = Config::from_properties(&[(p.key, v), (p.key, v)]);
            assert_eq!(r.is_ok(), p.repeatable, "{}", p.key);
        }
        assert_eq!(
            PROPERTIES
                .iter()
                .filter(|p| p.repeatable)
                .map(|p| p.key)
                .collect::<Vec<_>>(),
            ["exception"]
        );
    }

    #[test]
    fn every_key_is_parsed() {
        for p in PROPERTIES {
            let e = Config::from_properties(&[(p.key, "")]);
            if let Err(e) = e {
                assert!(!e.message.contains("unknown property"), "{}", p.key);
            }
        }
        let e = Config::from_properties(&[("bogus", "1")]).unwrap_err();
        assert!(e.message.contains(&keys_text()));
        for k in KEYS {
            assert!(keys_text().contains(k), "{k}");
        }
    }
}
