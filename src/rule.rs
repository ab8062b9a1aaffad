//! The rule svcshell runs, as data: [`Rule`] holds the query and the metadata the alert fields carry.
//!
//! The default is the embedded rule, Elastic's prebuilt "System Shells via Services" version 313 (the
//! constants below: its query text exactly as published, comments included, and the alert metadata svcshell
//! has always written). The `rule_file` property replaces it with a rule loaded at start-up ([`load`]) from
//! - an Elastic detection-rules TOML file (`[metadata]`, `[rule]`, `[[rule.threat]]` ...),
//! - a Kibana rule export (NDJSON: one rule object a line, then the `{"exported_count":..}` summary; `rule_id`
//!   picks one when the file holds several), or
//! - one rule JSON object (as Kibana's rules API returns it).
//!
//! The format is recognised from the content. Only single-event EQL rules in the supported subset
//! ([`crate::eql`]) load; every refusal ([`RuleError`]) names the file, the line and column in the file and,
//! for a query error, the line and column within the query.

use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::eql::{FieldTable, Pos, Program};

/// The rule's EQL query, verbatim from the v313 rule file.
pub const QUERY: &str = r#"process where host.os.type == "windows" and event.type == "start" and
  process.parent.name : "services.exe" and
  process.name : ("cmd.exe", "powershell.exe", "pwsh.exe", "powershell_ise.exe") and

  /* Third party FP's */
  not process.args : "NVDisplay.ContainerLocalSystem"
"#;

pub const RULE_ID: &str = "0022d47d-39c7-4f69-a232-4fe9dc7a3acd";
pub const NAME: &str = "System Shells via Services";
pub const VERSION: &str = "313";
pub const AUTHOR: &[&str] = &["Elastic"];
pub const LICENSE: &str = "Elastic License v2";
pub const SEVERITY: &str = "medium";
pub const RISK_SCORE: u32 = 47;
/// ECS `event.severity` of a medium alert: Elastic's External Alerts rule maps 21/47/73/99 to
/// low/medium/high/critical.
pub const SEVERITY_NUMBER: u32 = 47;
pub const RULESET: &str = "Elastic detection-rules (prebuilt)";
pub const CATEGORY: &str = "Persistence";
pub const REFERENCE: &str =
    "https://github.com/elastic/detection-rules/blob/main/rules/windows/persistence_system_shells_via_services.toml";
pub const DESCRIPTION: &str = "A Windows service (services.exe) started a system shell (cmd.exe, powershell.exe, \
pwsh.exe or powershell_ise.exe): services run as SYSTEM, so attackers and penetration tools use a shell started as \
a service to gain SYSTEM rights or to persist.";
/// Elastic's schedule for the rule: runs every 5 minutes, at most 100 alerts a run.
pub const MAX_SIGNALS: u64 = 100;
pub const INTERVAL_SECS: u64 = 300;

/// One MITRE ATT&CK entry: id, name, reference.
pub type Attack = (&'static str, &'static str, &'static str);

pub const FRAMEWORK: &str = "MITRE ATT&CK";
pub const TACTICS: &[Attack] = &[
    (
        "TA0003",
        "Persistence",
        "https://attack.mitre.org/tactics/TA0003/",
    ),
    (
        "TA0002",
        "Execution",
        "https://attack.mitre.org/tactics/TA0002/",
    ),
];
pub const TECHNIQUES: &[Attack] = &[
    (
        "T1543",
        "Create or Modify System Process",
        "https://attack.mitre.org/techniques/T1543/",
    ),
    (
        "T1059",
        "Command and Scripting Interpreter",
        "https://attack.mitre.org/techniques/T1059/",
    ),
];
pub const SUBTECHNIQUES: &[Attack] = &[
    (
        "T1543.003",
        "Windows Service",
        "https://attack.mitre.org/techniques/T1543/003/",
    ),
    (
        "T1059.001",
        "PowerShell",
        "https://attack.mitre.org/techniques/T1059/001/",
    ),
    (
        "T1059.003",
        "Windows Command Shell",
        "https://attack.mitre.org/techniques/T1059/003/",
    ),
];

/// The committed copy of Elastic's v313 detection-rules file, the embedded rule's source: its investigation
/// guide (`note`) is read from here, and a test pins the constants above to it.
pub const V313_TOML: &str =
    include_str!("../rules/persistence_system_shells_via_services.v313.toml");

/// One MITRE ATT&CK entry of a loaded rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub reference: String,
}

/// Where a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Compiled in (the default).
    Embedded,
    /// An Elastic detection-rules TOML file.
    Toml,
    /// A Kibana rule export (NDJSON).
    KibanaNdjson,
    /// One rule JSON object.
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Embedded => "embedded",
            Format::Toml => "detection-rules TOML",
            Format::KibanaNdjson => "Kibana export (NDJSON)",
            Format::Json => "rule JSON object",
        }
    }
}

/// A rule: its EQL query and the metadata its alerts carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub rule_id: String,
    pub name: String,
    /// `rule.version`: the JSON `version`; `None` for a detection-rules TOML, which has none (Elastic assigns
    /// versions when it packages the rules), so no `rule.version` is written.
    pub version: Option<String>,
    pub description: String,
    pub author: Vec<String>,
    pub license: String,
    /// `rule.reference`: one (written as a string) or several (an array); none = not written.
    pub references: Vec<String>,
    pub ruleset: Option<String>,
    /// `rule.category`: the first tactic's name.
    pub category: Option<String>,
    /// low, medium, high or critical.
    pub severity: String,
    pub risk_score: u32,
    pub query: String,
    /// The distinct frameworks of the threat list (`threat.framework`).
    pub frameworks: Vec<String>,
    /// The threat list, flattened as ECS writes it: tactics, techniques, subtechniques, each in file order,
    /// each entry once.
    pub tactics: Vec<Technique>,
    pub techniques: Vec<Technique>,
    pub subtechniques: Vec<Technique>,
    /// Default of `max_alerts`.
    pub max_signals: u64,
    /// Default of `alert_window`, in seconds.
    pub interval_secs: u64,
    /// The investigation guide (Markdown), when the rule has one.
    pub note: Option<String>,
    pub format: Format,
    /// The file the rule was loaded from (`None` for the embedded rule).
    pub file: Option<String>,
}

impl Default for Rule {
    fn default() -> Self {
        Rule::embedded()
    }
}

fn attacks(list: &[Attack]) -> Vec<Technique> {
    list.iter()
        .map(|a| Technique {
            id: a.0.into(),
            name: a.1.into(),
            reference: a.2.into(),
        })
        .collect()
}

impl Rule {
    /// The embedded rule (v313).
    pub fn embedded() -> Rule {
        static NOTE: OnceLock<Option<String>> = OnceLock::new();
        let note = NOTE
            .get_or_init(|| {
                parse(V313_TOML, "embedded v313", None)
                    .ok()
                    .and_then(|r| r.note)
            })
            .clone();
        Rule {
            rule_id: RULE_ID.into(),
            name: NAME.into(),
            version: Some(VERSION.into()),
            description: DESCRIPTION.into(),
            author: AUTHOR.iter().map(|s| s.to_string()).collect(),
            license: LICENSE.into(),
            references: vec![REFERENCE.into()],
            ruleset: Some(RULESET.into()),
            category: Some(CATEGORY.into()),
            severity: SEVERITY.into(),
            risk_score: RISK_SCORE,
            query: QUERY.into(),
            frameworks: vec![FRAMEWORK.into()],
            tactics: attacks(TACTICS),
            techniques: attacks(TECHNIQUES),
            subtechniques: attacks(SUBTECHNIQUES),
            max_signals: MAX_SIGNALS,
            interval_secs: INTERVAL_SECS,
            note,
            format: Format::Embedded,
            file: None,
        }
    }

    /// ECS `event.severity`: 21/47/73/99 for low/medium/high/critical, as Elastic's External Alerts rule maps
    /// them back.
    pub fn severity_number(&self) -> u32 {
        severity_number(&self.severity).unwrap_or(SEVERITY_NUMBER)
    }

    /// Compiles the query into a program over `fields`.
    pub fn compile(&self, fields: &mut FieldTable) -> Result<Program, crate::eql::CompileError> {
        Program::compile_query(&self.query, fields)
    }
}

fn severity_number(s: &str) -> Option<u32> {
    Some(match s {
        "low" => 21,
        "medium" => 47,
        "high" => 73,
        "critical" => 99,
        _ => return None,
    })
}

/// A rule file that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    /// Line and column in the file (1-based; columns in characters), when the problem has a place.
    pub at: Option<Pos>,
    /// Line and column within the rule's query, for a query that does not compile.
    pub query_at: Option<Pos>,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(p) = self.at {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        if let Some(q) = self.query_at {
            write!(f, ": query line {}, column {}", q.line, q.column)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RuleError {}

/// Loads the rule in `path`; `rule_id` picks one when the file holds several (and must match otherwise).
pub fn load(path: &str, rule_id: Option<&str>) -> Result<Rule, RuleError> {
    parse(&read(path)?, path, rule_id)
}

/// Loads every rule in `path` (a Kibana export may hold several); each must be usable.
pub fn load_all(path: &str) -> Result<Vec<Rule>, RuleError> {
    let text = read(path)?;
    let cands = candidates(&text, path)?;
    if cands.is_empty() {
        return Err(no_rule(path, &text));
    }
    cands.iter().map(|c| c.to_rule(&text, path)).collect()
}

/// The largest rule file read (Elastic's rule files are a few kB; a Kibana export of every prebuilt rule is
/// about 10 MB): a path to a device or a huge file is refused instead of read without end.
pub const MAX_FILE_BYTES: u64 = 32 << 20;

fn read(path: &str) -> Result<String, RuleError> {
    use std::io::Read;
    let fail = |message: String| RuleError {
        file: path.into(),
        at: None,
        query_at: None,
        message,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(format!(
            "larger than {MAX_FILE_BYTES} bytes: not a rule file"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let off = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.as_bytes()[..off]).into_owned();
        RuleError {
            file: path.into(),
            at: Some(pos_of(&text, off)),
            query_at: None,
            message: "not UTF-8 text".into(),
        }
    })
}

/// Parses rule file text (`file` names it in errors).
pub fn parse(text: &str, file: &str, rule_id: Option<&str>) -> Result<Rule, RuleError> {
    let cands = candidates(text, file)?;
    let err = |at: Option<usize>, message: String| RuleError {
        file: file.into(),
        at: at.map(|o| pos_of(text, o)),
        query_at: None,
        message,
    };
    let chosen: Vec<&Candidate> = match rule_id {
        Some(id) => cands.iter().filter(|c| c.rule_id() == Some(id)).collect(),
        None => cands.iter().collect(),
    };
    match (chosen.len(), rule_id) {
        (1, _) => chosen[0].to_rule(text, file),
        (0, None) => Err(no_rule(file, text)),
        (0, Some(id)) => Err(err(
            None,
            format!(
                "no rule with rule_id `{id}` (the file holds: {})",
                ids(&cands)
            ),
        )),
        (_, None) => Err(err(
            Some(chosen[1].start),
            format!(
                "the file holds {} rules ({}): set rule_id to choose one",
                chosen.len(),
                ids(&cands)
            ),
        )),
        (_, Some(id)) => Err(err(
            Some(chosen[1].start),
            format!("rule_id `{id}` is in the file more than once"),
        )),
    }
}

fn ids(c: &[Candidate]) -> String {
    if c.is_empty() {
        return "no rule".into();
    }
    c.iter()
        .map(|c| c.rule_id().unwrap_or("?").to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn no_rule(file: &str, text: &str) -> RuleError {
    let what = if text.trim_start().starts_with('{') {
        "no rule in the file (no object with a `rule_id`)"
    } else {
        "no rule in the file (no `[rule]` table with a `rule_id`)"
    };
    RuleError {
        file: file.into(),
        at: None,
        query_at: None,
        message: what.into(),
    }
}

/// One rule object found in a file, not yet checked.
struct Candidate {
    format: Format,
    /// The rule's fields (`[rule]` of a TOML file; the object of a JSON one).
    obj: Map<String, Value>,
    /// Byte offset in the file where each top-level key's value starts.
    value_at: Vec<(String, usize)>,
    /// Byte offset of the rule in the file.
    start: usize,
}

impl Candidate {
    fn rule_id(&self) -> Option<&str> {
        self.obj.get("rule_id").and_then(Value::as_str)
    }

    fn offset(&self, key: &str) -> usize {
        self.value_at
            .iter()
            .find(|(k, _)| k == key)
            .map_or(self.start, |(_, o)| *o)
    }

    fn to_rule(&self, text: &str, file: &str) -> Result<Rule, RuleError> {
        let err = |key: &str, message: String| RuleError {
            file: file.into(),
            at: Some(pos_of(text, self.offset(key))),
            query_at: None,
            message,
        };
        let o = &self.obj;
        let string = |key: &str| -> Result<Option<String>, RuleError> {
            match o.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(err(key, format!("`{key}` must be a string"))),
            }
        };
        let required = |key: &str| -> Result<String, RuleError> {
            string(key)?.ok_or_else(|| err(key, format!("the rule has no `{key}`")))
        };
        let strings = |key: &str| -> Result<Vec<String>, RuleError> {
            match o.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| err(key, format!("`{key}` must be a list of strings")))
                    })
                    .collect(),
                Some(_) => Err(err(key, format!("`{key}` must be a list of strings"))),
            }
        };
        let ty = required("type")?;
        if ty != "eql" {
            return Err(err(
                "type",
                format!("`type = \"{ty}\"`: only EQL rules (type \"eql\") can run in svcshell"),
            ));
        }
        if let Some(lang) = string("language")? {
            if lang != "eql" {
                return Err(err(
                    "language",
                    format!("`language = \"{lang}\"`: only EQL rules can run in svcshell"),
                ));
            }
        }
        // Settings that change what the query means: refused rather than ignored.
        if o.get("filters")
            .is_some_and(|f| !matches!(f, Value::Array(a) if a.is_empty()))
        {
            return Err(err(
                "filters",
                "`filters` (Kibana query filters added to the EQL query) are not supported".into(),
            ));
        }
        if let Some(f) = string("event_category_override")? {
            if f != crate::eql::CATEGORY_FIELD {
                return Err(err(
                    "event_category_override",
                    format!("`event_category_override = \"{f}\"` is not supported (the category is read from event.category)"),
                ));
            }
        }
        let rule_id = required("rule_id")?;
        let name = required("name")?;
        let query = required("query")?;
        let severity = required("severity")?.to_ascii_lowercase();
        if severity_number(&severity).is_none() {
            return Err(err(
                "severity",
                format!("`severity = \"{severity}\"` is not one of low, medium, high, critical"),
            ));
        }
        let risk_score = match o.get("risk_score") {
            Some(v) => v.as_u64().filter(|&r| r <= 100).ok_or_else(|| {
                err(
                    "risk_score",
                    "`risk_score` must be a whole number 0 to 100".into(),
                )
            })? as u32,
            None => return Err(err("risk_score", "the rule has no `risk_score`".into())),
        };
        let version = match o.get("version") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => return Err(err("version", "`version` must be a whole number".into())),
        };
        let max_signals = match o.get("max_signals") {
            None | Some(Value::Null) => MAX_SIGNALS,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| err("max_signals", "`max_signals` must be a whole number".into()))?,
        };
        let interval_secs = match string("interval")? {
            None => INTERVAL_SECS,
            Some(i) => crate::config::parse_duration(&i)
                .filter(|&s| s > 0)
                .ok_or_else(|| {
                    err(
                        "interval",
                        format!("`interval = \"{i}\"` is not a duration like 5m"),
                    )
                })?,
        };
        let mut frameworks: Vec<String> = Vec::new();
        let (mut tactics, mut techniques, mut subtechniques) = (Vec::new(), Vec::new(), Vec::new());
        let bad_threat = || {
            err("threat", "`threat` entries must hold `framework`, `tactic` {id, name, reference} and `technique` lists".into())
        };
        let entry = |v: &Value| -> Option<Technique> {
            let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            Some(Technique {
                id: s("id")?,
                name: s("name")?,
                reference: s("reference").unwrap_or_default(),
            })
        };
        let push = |list: &mut Vec<Technique>, t: Technique| {
            if !list.contains(&t) {
                list.push(t);
            }
        };
        let list = |v: Option<&Value>| -> Option<Vec<Value>> {
            match v {
                None | Some(Value::Null) => Some(Vec::new()),
                Some(Value::Array(a)) => Some(a.clone()),
                Some(_) => None,
            }
        };
        for t in list(o.get("threat")).ok_or_else(bad_threat)? {
            let fw = t
                .get("framework")
                .and_then(Value::as_str)
                .ok_or_else(bad_threat)?;
            if !frameworks.iter().any(|f| f == fw) {
                frameworks.push(fw.to_string());
            }
            let tactic = t.get("tactic").and_then(entry).ok_or_else(bad_threat)?;
            push(&mut tactics, tactic);
            for te in list(t.get("technique")).ok_or_else(bad_threat)? {
                push(&mut techniques, entry(&te).ok_or_else(bad_threat)?);
                for st in list(te.get("subtechnique")).ok_or_else(bad_threat)? {
                    push(&mut subtechniques, entry(&st).ok_or_else(bad_threat)?);
                }
            }
        }
        let rule = Rule {
            category: tactics.first().map(|t| t.name.clone()),
            ruleset: (o.get("immutable") == Some(&Value::Bool(true))).then(|| RULESET.to_string()),
            rule_id,
            name,
            version,
            description: string("description")?.unwrap_or_default(),
            author: strings("author")?,
            license: string("license")?.unwrap_or_default(),
            references: strings("references")?,
            severity,
            risk_score,
            frameworks,
            tactics,
            techniques,
            subtechniques,
            max_signals,
            interval_secs,
            note: string("note")?.filter(|n| !n.trim().is_empty()),
            format: self.format,
            file: Some(file.into()),
            query,
        };
        if let Err(e) = rule.compile(&mut FieldTable::default()) {
            let at = self.offset("query");
            return Err(RuleError {
                file: file.into(),
                at: Some(pos_of(text, query_offset(text, at, e.pos))),
                query_at: Some(e.pos),
                message: e.message,
            });
        }
        Ok(rule)
    }
}

/// The rule objects in a file, recognised by content: JSON (`{` first) is one object, or NDJSON when its first
/// line alone is an object and more lines follow; anything else is TOML.
fn candidates(text: &str, file: &str) -> Result<Vec<Candidate>, RuleError> {
    let err = |off: usize, message: String| RuleError {
        file: file.into(),
        at: Some(pos_of(text, off)),
        query_at: None,
        message,
    };
    if !text.trim_start().starts_with('{') {
        return toml_candidates(text, file);
    }
    let lines: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .scan(0usize, |off, l| {
            let at = *off;
            *off += l.len();
            Some((at, l))
        })
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let first_alone = lines
        .first()
        .is_some_and(|(_, l)| matches!(serde_json::from_str::<Value>(l), Ok(Value::Object(_))));
    if lines.len() > 1 && first_alone {
        let mut out = Vec::new();
        for (at, line) in lines {
            let v: Value = serde_json::from_str(line).map_err(|e| {
                err(
                    at + json_error_offset(line, &e),
                    format!("not a JSON object: {e}"),
                )
            })?;
            let Value::Object(obj) = v else {
                return Err(err(at, "not a JSON object".into()));
            };
            // The export summary (`exported_count`, ...) and exception lists (no `rule_id`) are not rules.
            if !obj.contains_key("rule_id") || obj.keys().any(|k| k.starts_with("exported_")) {
                continue;
            }
            out.push(Candidate {
                format: Format::KibanaNdjson,
                value_at: json_value_offsets(line, at),
                obj,
                start: at,
            });
        }
        return Ok(out);
    }
    let v: Value = serde_json::from_str(text).map_err(|e| {
        err(
            json_error_offset(text, &e),
            format!("not a JSON object: {e}"),
        )
    })?;
    let Value::Object(obj) = v else {
        return Err(err(0, "not a JSON object".into()));
    };
    if !obj.contains_key("rule_id") {
        return Ok(Vec::new());
    }
    let start = text.len() - text.trim_start().len();
    Ok(vec![Candidate {
        format: Format::Json,
        value_at: json_value_offsets(&text[start..], start),
        obj,
        start,
    }])
}

fn toml_candidates(text: &str, file: &str) -> Result<Vec<Candidate>, RuleError> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).map_err(|e| RuleError {
        file: file.into(),
        at: e.span().map(|s| pos_of(text, s.start)),
        query_at: None,
        message: format!("not a TOML file: {}", e.message().trim()),
    })?;
    let Some(rule) = doc.get_ref().get("rule") else {
        return Ok(Vec::new());
    };
    let DeValue::Table(t) = rule.get_ref() else {
        return Err(RuleError {
            file: file.into(),
            at: Some(pos_of(text, rule.span().start)),
            query_at: None,
            message: "`rule` must be a table".into(),
        });
    };
    let mut obj = Map::new();
    let mut value_at = Vec::new();
    for (k, v) in t.iter() {
        value_at.push((k.get_ref().to_string(), v.span().start));
        obj.insert(k.get_ref().to_string(), toml_to_json(v.get_ref()));
    }
    if !obj.contains_key("rule_id") {
        return Ok(Vec::new());
    }
    Ok(vec![Candidate {
        format: Format::Toml,
        obj,
        value_at,
        start: rule.span().start,
    }])
}

fn toml_to_json(v: &toml::de::DeValue) -> Value {
    use toml::de::DeValue;
    match v {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|&c| c != '_').collect();
            let digits = digits
                .trim_start_matches("0x")
                .trim_start_matches("0o")
                .trim_start_matches("0b");
            match i64::from_str_radix(digits.trim_start_matches('+'), i.radix()) {
                Ok(n) => Value::from(n),
                Err(_) => Value::String(i.as_str().to_string()),
            }
        }
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(f.as_str().to_string()), Value::Number),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(a) => Value::Array(a.iter().map(|e| toml_to_json(e.get_ref())).collect()),
        DeValue::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), toml_to_json(v.get_ref())))
                .collect(),
        ),
    }
}

/// Byte offsets (in the file: `base` + offset in `obj`) where the values of `obj`'s top-level keys start; `obj`
/// is a JSON object already known to be valid. Keys written with escapes are not found (their values are then
/// placed at the object).
fn json_value_offsets(obj: &str, base: usize) -> Vec<(String, usize)> {
    let b = obj.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut k) = (0usize, 0usize);
    // The last string seen at depth 1 and whether a `:` followed it.
    let mut key: Option<(usize, usize)> = None;
    while k < b.len() {
        match b[k] {
            b'"' => {
                let s = k + 1;
                k += 1;
                while k < b.len() && b[k] != b'"' {
                    k += if b[k] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 {
                    key = Some((s, k.min(b.len())));
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b':' if depth == 1 => {
                if let Some((s, e)) = key.take() {
                    let mut v = k + 1;
                    while v < b.len() && b[v].is_ascii_whitespace() {
                        v += 1;
                    }
                    out.push((obj[s..e].to_string(), base + v));
                }
            }
            b',' if depth == 1 => key = None,
            _ => {}
        }
        k += 1;
    }
    out
}

/// The byte offset in `text` of a serde_json error: its line (1-based) and column (bytes into the line; 0 when
/// the error is at the line's start), kept within the text.
fn json_error_offset(text: &str, e: &serde_json::Error) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    (line_start + e.column().saturating_sub(1)).min(text.len())
}

/// Line and column (1-based, columns in characters) of byte offset `off` in `text`.
pub fn pos_of(text: &str, off: usize) -> Pos {
    let mut off = off.min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line: before.matches('\n').count() as u32 + 1,
        column: before[line_start..].chars().count() as u32 + 1,
    }
}

/// The file byte offset of position `p` of a query whose string value starts at byte `at` of `text` (at its
/// opening quote): the string's escapes are walked, so the place is exact for TOML literal and basic strings
/// and JSON strings alike.
fn query_offset(text: &str, at: usize, p: Pos) -> usize {
    let rest = text.get(at..).unwrap_or("");
    let (skip, escapes) = if rest.starts_with("'''") {
        (3, Escapes::None)
    } else if rest.starts_with("\"\"\"") {
        (3, Escapes::Toml)
    } else if rest.starts_with('\'') {
        (1, Escapes::None)
    } else if rest.starts_with('"') {
        (
            1,
            if text[..at].trim_end().ends_with(':') {
                Escapes::Json
            } else {
                Escapes::Toml
            },
        )
    } else {
        return at;
    };
    let mut k = at + skip;
    // A newline right after a multi-line opening delimiter is not part of the string.
    if skip == 3 {
        if text[k..].starts_with("\r\n") {
            k += 2;
        } else if text[k..].starts_with('\n') {
            k += 1;
        }
    }
    let b = text.as_bytes();
    let (mut line, mut col) = (1u32, 1u32);
    while k < text.len() && (line, col) < (p.line, p.column) {
        let c = text[k..].chars().next().unwrap_or('\0');
        let (len, decoded) = if c == '\\' && escapes != Escapes::None {
            escape_len(&text[k..], escapes)
        } else {
            (c.len_utf8(), Some(c))
        };
        match decoded {
            Some('\n') => {
                line += 1;
                col = 1;
            }
            Some(_) => col += 1,
            None => {}
        }
        k += len.max(1);
        // Never walk past the string's end on a query shorter than the position.
        if escapes == Escapes::Json && b.get(k) == Some(&b'"') && (line, col) < (p.line, p.column) {
            break;
        }
    }
    k.min(text.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escapes {
    None,
    Toml,
    Json,
}

/// The length of the escape at the start of `s` (a `\`) and the character it stands for (`None`: a TOML
/// line-ending backslash, which stands for nothing).
fn escape_len(s: &str, esc: Escapes) -> (usize, Option<char>) {
    let b = s.as_bytes();
    let hex = |from: usize, n: usize| -> Option<u32> {
        s.get(from..from + n)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    match b.get(1) {
        Some(b'n') => (2, Some('\n')),
        Some(b'u') => match hex(2, 4) {
            // A JSON surrogate pair is one character.
            Some(0xD800..=0xDBFF) if esc == Escapes::Json && s.get(6..8) == Some("\\u") => {
                (12, Some('x'))
            }
            _ => (6, Some('x')),
        },
        Some(b'U') if esc == Escapes::Toml => (10, Some('x')),
        Some(b'x') if esc == Escapes::Toml => (4, Some('x')),
        Some(c) if esc == Escapes::Toml && (c.is_ascii_whitespace()) => {
            let n = s[1..].len() - s[1..].trim_start().len();
            (1 + n, None)
        }
        Some(_) => (2, Some('x')),
        None => (1, Some('\\')),
    }
}
