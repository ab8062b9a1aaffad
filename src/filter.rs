//! The filter: the compiled rule and exceptions, the record scanner's field set, the alert writer, the alert
//! cap and the counters. Every face (Rust API, C ABI, Fluent Bit plugin, CLI) calls [`Filter::process`] or
//! its msgpack twin; none re-implements matching, configuration or alert writing.
//!
//! The rule is the configuration's ([`crate::rule::Rule`]: the embedded v313 or one loaded from `rule_file`);
//! [`Filter::warnings`] says what a loaded rule asks that the enabled shapes cannot give, and when the prefilter
//! is off.
//!
//! Per record: the literal prefilter (the rule's exact top-level tests on `process.parent.name` and
//! `process.name` — for v313 `services.exe` and one of the four shells; every derived name is a contiguous slice
//! of one raw string value, so it stays valid for every shape; literals JSON could spell in a way the search
//! cannot see are left out, see [`searchable`]), one `scan_fast` pass collecting the
//! rule's fields and the raw fields of the enabled [`crate::source`] profiles, shape detection, the rule on a
//! [`SourceDoc`], and a strict re-scan only on a match.
//!
//! A `Filter` is `Send + Sync`: counters are atomics, the alert cap sits behind a mutex touched only by
//! matches, and per-call scratch space is thread-local, so one filter serves many threads at once.

use std::cell::RefCell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use crate::alert::{self, AlertSpec};
use crate::config::{Config, ConfigError, Mode, Validate};
use crate::eql::{Document, FieldTable, Program};
use crate::record::prefilter::Prefilter;
use crate::record::{json, FieldSet, Hits, RecordError};
use crate::source::{self, ArgBufs, HitsRaw, Profiles, RawRecord, SourceDoc};

#[path = "chunk.rs"]
mod chunk;
pub use chunk::ChunkResult;

/// What the rule and the exceptions say of one record, before the alert cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The rule does not match.
    NoMatch,
    /// The rule matches and so does an exception: no alert (counted as `excepted`).
    Excepted,
    /// The rule matches and no exception does: an alert, unless the cap suppresses it.
    Alert,
}

/// What the caller does with a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Emit the input record unchanged.
    Pass,
    /// Emit these bytes instead: the record with the alert fields spliced in.
    Alert(Vec<u8>),
    /// Emit nothing (alerts_only mode, for a record that is not an alert).
    Drop,
}

/// The result of processing one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub action: Action,
    /// Set when the record could not be read (it passes unchanged, or is dropped in alerts_only mode).
    pub error: Option<RecordError>,
}

/// Counters, readable at any time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records processed.
    pub records: u64,
    /// Bytes of those records.
    pub bytes: u64,
    /// Records emitted as alerts.
    pub alerts: u64,
    /// Matches over the alert cap: passed untagged (tag mode) or dropped (alerts_only mode).
    pub suppressed: u64,
    /// Matches that an exception turned off.
    pub excepted: u64,
    /// Records that could not be read (not a JSON object, invalid JSON or msgpack).
    pub errors: u64,
    /// Records dropped (alerts_only mode).
    pub dropped: u64,
}

impl Stats {
    /// The counters as the summaries print them (`records=`, `alerts=`, ...), in this order; `bytes` is left to
    /// the summaries that want it.
    pub fn counters(&self) -> [(&'static str, u64); 6] {
        [
            ("records", self.records),
            ("alerts", self.alerts),
            ("suppressed", self.suppressed),
            ("excepted", self.excepted),
            ("errors", self.errors),
            ("dropped", self.dropped),
        ]
    }
}

/// `records=N alerts=N suppressed=N excepted=N errors=N dropped=N`: the one way the summaries (the Fluent Bit
/// exit line, `svcshell replay`) write the counters.
impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, n)) in self.counters().iter().enumerate() {
            write!(f, "{}{name}={n}", if i == 0 { "" } else { " " })?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Counters {
    records: AtomicU64,
    bytes: AtomicU64,
    alerts: AtomicU64,
    suppressed: AtomicU64,
    excepted: AtomicU64,
    errors: AtomicU64,
    dropped: AtomicU64,
}

/// Alert counts of the most recent windows (by window number), so a replay with mildly out-of-order records
/// still counts each window once.
struct Cap {
    windows: [(i64, u64); 8],
}

#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) hits: Hits,
    pub(crate) alert_hits: Hits,
    /// Buffers for splitting command lines (only when evaluation reaches `process.args`).
    pub(crate) args: RefCell<ArgBufs>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch space (a fresh one if it is already in use further up the stack).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut f = Some(f);
    let r = SCRATCH.try_with(|s| match s.try_borrow_mut() {
        Ok(mut s) => Some((f.take().expect("once"))(&mut s)),
        Err(_) => None,
    });
    match r {
        Ok(Some(r)) => r,
        _ => (f.take().expect("once"))(&mut Scratch::default()),
    }
}

/// The filter. See the module docs.
pub struct Filter {
    config: Config,
    fields: FieldTable,
    set: FieldSet,
    profiles: Profiles,
    rule: Program,
    exceptions: Vec<Program>,
    spec: AlertSpec,
    prefilter: Option<Prefilter>,
    warnings: Vec<String>,
    cap: Mutex<Cap>,
    last_time: AtomicI64,
    counters: Counters,
}

/// A record's scanned fields, as the EQL evaluator reads them (scan with a [`FieldSet`] built from the same
/// [`FieldTable`] the program was compiled against, so slots and field indexes agree).
pub struct HitsDoc<'a> {
    pub record: &'a [u8],
    pub hits: &'a Hits,
}

impl Document for HitsDoc<'_> {
    #[inline]
    fn any_str(&self, field: usize, pred: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.hits.any_str(self.record, field, pred)
    }
}

impl Filter {
    /// Creates a filter from a validated configuration: compiles the rule and every exception.
    pub fn new(config: Config) -> Result<Filter, ConfigError> {
        let mut fields = FieldTable::default();
        let rule = config.rule.compile(&mut fields).map_err(|e| ConfigError {
            key: "rule".into(),
            message: e.to_string(),
        })?;
        // The rule's own fields (before the exceptions add theirs).
        let rule_fields: Vec<String> = fields.names().to_vec();
        let mut exceptions = Vec::new();
        for (i, x) in config.exceptions.iter().enumerate() {
            let p = Program::compile_condition(x, &mut fields).map_err(|e| ConfigError {
                key: "exception".into(),
                message: format!("exception #{} `{}`: {e}", i + 1, x),
            })?;
            exceptions.push(p);
        }
        let profiles =
            Profiles::new(config.sources.as_deref(), &fields).map_err(|m| ConfigError {
                key: "sources".into(),
                message: m,
            })?;
        // The table's fields keep their slots (so `HitsDoc` lookups work); the raw paths follow.
        let set = FieldSet::new(profiles.paths()).map_err(|m| ConfigError {
            key: "exception".into(),
            message: m,
        })?;
        // Only fields every shape derives as one contiguous slice of a raw value can anchor the prefilter.
        let mut warnings = unreadable_fields(&rule_fields, &profiles);
        let prefilter = match config.validate {
            Validate::Matches => {
                let p = Prefilter::new(&searchable(profiles.prefilter_sets(&rule, &fields)));
                if p.is_none() {
                    warnings.push(format!(
                        "literal prefilter off: rule \"{}\" has no exact test on {} at its top level whose \
                         values are found in every record's raw text, so every record is scanned",
                        config.rule.name,
                        source::SLICED_FIELDS.join(" or ")
                    ));
                }
                p
            }
            Validate::All => None,
        };
        Ok(Filter {
            spec: AlertSpec::for_rule(&config.rule),
            prefilter,
            config,
            fields,
            set,
            profiles,
            rule,
            exceptions,
            warnings,
            cap: Mutex::new(Cap {
                windows: [(i64::MIN, 0); 8],
            }),
            last_time: AtomicI64::new(i64::MIN),
            counters: Counters::default(),
        })
    }

    /// Creates a filter from shipper-style key/value properties.
    pub fn from_properties<K: AsRef<str>, V: AsRef<str>>(
        props: &[(K, V)],
    ) -> Result<Filter, ConfigError> {
        Filter::new(Config::from_properties(props)?)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What the faces log at start-up (not errors: the filter runs): fields of the rule that enabled raw shapes
    /// do not derive, and a prefilter the rule leaves nothing to anchor on.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The literal prefilter's sets (lowercase), empty when it is off.
    pub fn prefilter_literals(&self) -> Vec<Vec<Vec<u8>>> {
        self.prefilter.as_ref().map_or(Vec::new(), |p| {
            p.literals()
                .into_iter()
                .map(|s| s.into_iter().map(<[u8]>::to_vec).collect())
                .collect()
        })
    }

    /// The compiled rule.
    pub fn rule(&self) -> &Program {
        &self.rule
    }

    /// The compiled exceptions (a record matching any of them is not an alert).
    pub fn exceptions(&self) -> &[Program] {
        &self.exceptions
    }

    /// The fields the rule and exceptions read.
    pub fn fields(&self) -> &FieldTable {
        &self.fields
    }

    /// The enabled record shapes and the raw paths they read.
    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// The scanner's field set: [`Filter::fields`] (same slots), then the raw paths of the enabled shapes.
    pub fn field_set(&self) -> &FieldSet {
        &self.set
    }

    /// Why a JSON record does or does not alert: its shape, the six derived values and each top-level
    /// clause's result (read strictly, as an alert would be).
    pub fn explain(&self, record: &[u8]) -> Result<Explanation, RecordError> {
        let mut hits = Hits::default();
        json::scan(record, &self.set, &mut hits)?;
        let raw = HitsRaw {
            record,
            hits: &hits,
        };
        let bufs = RefCell::new(ArgBufs::default());
        let doc = SourceDoc {
            raw: &raw,
            profiles: &self.profiles,
            detected: source::detect(&raw, &self.profiles),
            bufs: &bufs,
        };
        let names = self.fields.names();
        let clauses = self
            .rule
            .clause_texts()
            .iter()
            .zip(self.rule.clause_fields())
            .zip(self.rule.eval_clauses(&doc))
            .map(|((text, f), result)| Clause {
                text: text.clone(),
                fields: f.iter().map(|&k| names[k].clone()).collect(),
                result,
            })
            .collect();
        let exceptions: Vec<(String, bool)> = self
            .exceptions
            .iter()
            .map(|x| (x.source().to_string(), x.eval(&doc)))
            .collect();
        let verdict = self.verdict(&doc);
        Ok(Explanation {
            shape: doc.shape().map(|s| s.name()),
            values: (0..6)
                .map(|k| (source::ECS_FIELDS[k], doc.values(k)))
                .collect(),
            clauses,
            excepted_by: match verdict {
                Verdict::Excepted => exceptions.iter().find(|(_, r)| *r).map(|(t, _)| t.clone()),
                _ => None,
            },
            exceptions,
            matched: verdict != Verdict::NoMatch,
            alert: verdict == Verdict::Alert,
        })
    }

    /// The alert fields writer.
    pub fn alert_spec(&self) -> &AlertSpec {
        &self.spec
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            records: c.records.load(Relaxed),
            bytes: c.bytes.load(Relaxed),
            alerts: c.alerts.load(Relaxed),
            suppressed: c.suppressed.load(Relaxed),
            excepted: c.excepted.load(Relaxed),
            errors: c.errors.load(Relaxed),
            dropped: c.dropped.load(Relaxed),
        }
    }

    /// Evaluates the rule and exceptions on a document.
    pub(crate) fn verdict<D: Document + ?Sized>(&self, doc: &D) -> Verdict {
        if !self.rule.eval(doc) {
            Verdict::NoMatch
        } else if self.exceptions.iter().any(|x| x.eval(doc)) {
            Verdict::Excepted
        } else {
            Verdict::Alert
        }
    }

    /// Reads a JSON record far enough to decide it; on a match (excepted or not) `s.alert_hits` holds the
    /// strict scan for the alert writer.
    fn decide(&self, record: &[u8], s: &mut Scratch) -> Result<Verdict, RecordError> {
        if let Some(p) = &self.prefilter {
            if !p.may_match(record) {
                // Cannot match: pass it on after checking it is framed as an object. A record that is not says
                // why as the strict reader does (the same error, at the same byte, as `explain`).
                return framing(record).map(|()| Verdict::NoMatch).map_err(|e| {
                    json::scan(record, &self.set, &mut s.hits)
                        .err()
                        .unwrap_or(e)
                });
            }
        }
        match self.config.validate {
            Validate::Matches => json::scan_fast(record, &self.set, &mut s.hits)?,
            // Every record is read strictly, so `errors` counts every record serde_json would reject.
            Validate::All => json::scan(record, &self.set, &mut s.hits)?,
        }
        let verdict = self.verdict_on(record, s);
        if verdict == Verdict::NoMatch {
            return Ok(verdict);
        }
        // A match (rare): read the record again strictly, finding where the alert fields go and the record's
        // time. A record serde_json would reject never alerts.
        json::scan(record, &self.spec.fields, &mut s.alert_hits)?;
        Ok(verdict)
    }

    /// The rule and exceptions on a record scanned into `s.hits` (JSON or msgpack), through its detected shape.
    pub(crate) fn verdict_on(&self, record: &[u8], s: &Scratch) -> Verdict {
        let raw = HitsRaw {
            record,
            hits: &s.hits,
        };
        let doc = SourceDoc {
            raw: &raw,
            profiles: &self.profiles,
            detected: source::detect(&raw, &self.profiles),
            bufs: &s.args,
        };
        self.verdict(&doc)
    }

    /// True when a JSON record is an alert (rule matches, no exception does). Ignores the cap and counters.
    pub fn matches(&self, record: &[u8]) -> Result<bool, RecordError> {
        with_scratch(|s| Ok(self.decide(record, s)? == Verdict::Alert))
    }

    /// The action for a record that is not forwarded as an alert: passed on in `tag` mode; dropped, and
    /// counted as dropped, in `alerts_only` mode.
    fn pass_or_drop(&self) -> Action {
        match self.config.mode {
            Mode::Tag => Action::Pass,
            Mode::AlertsOnly => {
                self.counters.dropped.fetch_add(1, Relaxed);
                Action::Drop
            }
        }
    }

    /// Admits one alert at record time `t` (seconds) under the cap; false = suppressed.
    pub(crate) fn admit(&self, t: Option<i64>) -> bool {
        let t = match t {
            Some(t) => {
                self.last_time.store(t, Relaxed);
                t
            }
            None => match self.last_time.load(Relaxed) {
                i64::MIN => std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
                t => t,
            },
        };
        if self.config.max_alerts == 0 {
            return true;
        }
        let w = t.div_euclid(self.config.alert_window as i64);
        let mut cap = self.cap.lock().unwrap_or_else(|p| p.into_inner());
        let slot = match cap.windows.iter().position(|(id, _)| *id == w) {
            Some(k) => k,
            None => {
                // Evict the oldest window.
                let k = (0..cap.windows.len())
                    .min_by_key(|&k| cap.windows[k].0)
                    .unwrap_or(0);
                cap.windows[k] = (w, 0);
                k
            }
        };
        if cap.windows[slot].1 >= self.config.max_alerts {
            return false;
        }
        cap.windows[slot].1 += 1;
        true
    }

    /// Counts a match (`verdict` is `Alert` or `Excepted`) and decides its fate: `Some(action)` when it is
    /// excepted or suppressed by the cap, `None` when it is forwarded as an alert.
    pub(crate) fn record_match(&self, verdict: Verdict, time: Option<i64>) -> Option<Action> {
        if verdict != Verdict::Alert {
            self.counters.excepted.fetch_add(1, Relaxed);
            return Some(self.pass_or_drop());
        }
        if !self.admit(time) {
            self.counters.suppressed.fetch_add(1, Relaxed);
            return Some(self.pass_or_drop());
        }
        self.counters.alerts.fetch_add(1, Relaxed);
        None
    }

    pub(crate) fn count_record(&self, len: usize) {
        self.count_records(1, len as u64);
    }

    pub(crate) fn count_records(&self, records: u64, bytes: u64) {
        self.counters.records.fetch_add(records, Relaxed);
        self.counters.bytes.fetch_add(bytes, Relaxed);
    }

    /// Counts a record whose extent is all that could be read: it stays in place whatever the mode, so it is
    /// an error but never a drop.
    pub(crate) fn count_unreadable(&self) {
        self.counters.errors.fetch_add(1, Relaxed);
    }

    pub(crate) fn count_error(&self, e: RecordError) -> Outcome {
        self.counters.errors.fetch_add(1, Relaxed);
        Outcome {
            action: self.pass_or_drop(),
            error: Some(e),
        }
    }

    pub(crate) fn pass(&self) -> Outcome {
        Outcome {
            action: self.pass_or_drop(),
            error: None,
        }
    }

    /// Processes one JSON record (one object, optionally surrounded by whitespace). The alert cap is keyed on
    /// the record's own `@timestamp`.
    pub fn process(&self, record: &[u8]) -> Outcome {
        self.process_timed(record, None)
    }

    /// Processes one JSON record whose event time (seconds since the epoch) the host carries beside it, as
    /// Fluent Bit does: the alert cap is keyed on `time`, as [`Filter::process_chunk`] keys it on a chunk
    /// record's event time.
    pub fn process_at(&self, record: &[u8], time: i64) -> Outcome {
        self.process_timed(record, Some(time))
    }

    fn process_timed(&self, record: &[u8], event_time: Option<i64>) -> Outcome {
        self.count_record(record.len());
        with_scratch(|s| {
            let verdict = match self.decide(record, s) {
                Err(e) => return self.count_error(e),
                Ok(Verdict::NoMatch) => return self.pass(),
                Ok(matched) => matched,
            };
            let time = event_time.or_else(|| self.spec.timestamp(record, &s.alert_hits));
            if let Some(action) = self.record_match(verdict, time) {
                return Outcome {
                    action,
                    error: None,
                };
            }
            let edits = self.spec.plan(&s.alert_hits.hits, s.alert_hits.root);
            let mut out = Vec::with_capacity(record.len() + 1536);
            alert::splice_json(&self.spec, record, edits, &mut out);
            Outcome {
                action: Action::Alert(out),
                error: None,
            }
        })
    }
}

/// What [`Filter::explain`] found out about one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The detected shape (`None`: no enabled shape recognised it).
    pub shape: Option<&'static str>,
    /// The rule's six fields and the values the shape gives them.
    pub values: Vec<(&'static str, Vec<String>)>,
    /// Each top-level clause of the rule: its text, the fields it reads and its result.
    pub clauses: Vec<Clause>,
    /// Each exception, as configured, and whether the record matches it.
    pub exceptions: Vec<(String, bool)>,
    /// The first exception that turned a match off (`None` unless the rule matched and an exception did).
    pub excepted_by: Option<String>,
    /// The rule matched.
    pub matched: bool,
    /// The rule matched and no exception did.
    pub alert: bool,
}

/// One top-level clause of the rule, as [`Filter::explain`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The clause as one line of EQL ([`crate::eql::render`]).
    pub text: String,
    /// The fields it reads.
    pub fields: Vec<String>,
    /// Whether it holds for the record.
    pub result: bool,
}

impl Explanation {
    /// One JSON object: `shape`, `values` (field → list), `clauses` (`clause`, `fields`, `result`),
    /// `exceptions` (`exception`, `result`), `matched`, `excepted_by` (the exception's text, or null), `alert`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let mut values = Map::new();
        for (k, v) in &self.values {
            values.insert((*k).to_string(), json!(v));
        }
        json!({
            "shape": self.shape,
            "values": Value::Object(values),
            "clauses": self.clauses.iter()
                .map(|c| json!({"clause": c.text, "fields": c.fields, "result": c.result}))
                .collect::<Vec<_>>(),
            "exceptions": self.exceptions.iter()
                .map(|(x, r)| json!({"exception": x, "result": r}))
                .collect::<Vec<_>>(),
            "matched": self.matched,
            "excepted_by": self.excepted_by,
            "alert": self.alert,
        })
    }
}

/// The cheap check for records the prefilter passes: first and last non-blank bytes are `{` and `}`.
fn framing(record: &[u8]) -> Result<(), RecordError> {
    let blank = |c: &u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t');
    let first = record.iter().position(|c| !blank(c));
    let last = record.iter().rposition(|c| !blank(c));
    match (first, last) {
        (None, _) | (_, None) => Err(RecordError::Empty),
        (Some(f), Some(_)) if record[f] != b'{' => {
            Err(if b"[\"-0123456789tfn".contains(&record[f]) {
                RecordError::NotObject
            } else {
                RecordError::Syntax { offset: f as u32 }
            })
        }
        (Some(_), Some(l)) if record[l] != b'}' || l == 0 => {
            Err(RecordError::Syntax { offset: l as u32 })
        }
        _ => Ok(()),
    }
}

/// The literal sets the prefilter may search raw record bytes for: a set with a literal that a JSON text can
/// spell in a way the search cannot see is left out. The search folds ASCII case and sees through `\u` escapes
/// of ASCII letters only, so a literal must be printable ASCII without `"`, `\` and `/` (which JSON may write as
/// `\"`, `\\`, `\/`): a non-ASCII letter can be written as `\u` escapes, a control character as `\n` and the
/// like. Leaving a set out only makes the prefilter pass more records, never fewer.
pub fn searchable(sets: Vec<Vec<&[u8]>>) -> Vec<Vec<&[u8]>> {
    sets.into_iter()
        .filter(|s| {
            s.iter().all(|l| {
                l.iter()
                    .all(|&b| (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b'\\' | b'/'))
            })
        })
        .collect()
}

/// One warning per field of the rule that an enabled raw shape does not derive (SourceDoc reads such a field
/// from the record as it is, where raw shapes rarely carry it).
fn unreadable_fields(rule_fields: &[String], profiles: &Profiles) -> Vec<String> {
    let raw: Vec<&str> = source::Shape::ALL
        .into_iter()
        .filter(|&s| s != source::Shape::Ecs && profiles.enabled(s))
        .map(|s| s.name())
        .collect();
    if raw.is_empty() {
        return Vec::new();
    }
    rule_fields
        .iter()
        .filter(|f| !source::ECS_FIELDS.contains(&f.as_str()))
        .map(|f| {
            format!(
                "the rule reads `{f}`, which the raw shapes {} do not derive: it is read from the record as it \
                 is (a comparison on a missing field is false, its `not` true)",
                raw.join(", ")
            )
        })
        .collect()
}

impl Filter {
    /// The field paths, by slot, that a [`RawRecord`] given to [`Filter::verdict_of`] answers.
    pub fn raw_paths(&self) -> &[String] {
        self.profiles.paths()
    }

    /// The verdict on a record read through `raw` instead of svcshell's own readers: the same shape detection,
    /// derivations, rule and exceptions as [`Filter::process`], on values the caller reads from a record it
    /// holds in another form (a parsed document, say). `raw` answers the paths of [`Filter::raw_paths`] by
    /// slot. Ignores the cap and the counters.
    pub fn verdict_of<R: RawRecord + ?Sized>(&self, raw: &R) -> Verdict {
        let bufs = RefCell::new(ArgBufs::default());
        let doc = SourceDoc {
            raw,
            profiles: &self.profiles,
            detected: source::detect(raw, &self.profiles),
            bufs: &bufs,
        };
        self.verdict(&doc)
    }
}

#[cfg(test)]
mod tests {
    use super::Stats;

    /// The summary line names each counter but `bytes` once, with its own value.
    #[test]
    fn stats_display_names_every_counter() {
        let s = Stats {
            records: 1,
            bytes: 2,
            alerts: 3,
            suppressed: 4,
            excepted: 5,
            errors: 6,
            dropped: 7,
        };
        assert_eq!(
            s.to_string(),
            "records=1 alerts=3 suppressed=4 excepted=5 errors=6 dropped=7"
        );
    }
}
