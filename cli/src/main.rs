//! The `svcshell` command: `replay` recorded NDJSON events through the filter, `bench` its speed against a
//! serde_json `Value` baseline, `explain` why records did or did not alert, `fuzz` it with mutants of the
//! user's own recorded events against the same baseline; `rule show` prints the rule in effect and `rule check`
//! checks rule files (as `rule_file` would load them) for detection engineers' own CI; `export vrl` writes the
//! rule as a VRL program for Vector's `remap` transform, `export vector` a Vector config fragment around it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use svcshell::filter::ChunkResult;
use svcshell::record::{msgpack, ndjson};
use svcshell::{Action, Filter};

#[derive(Parser)]
#[command(
    name = "svcshell",
    version,
    about = "Elastic's \"System Shells via Services\" rule, run on every record in flight"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args)]
struct Settings {
    /// A filter property, as a shipper would pass it (repeatable); `--help` lists them.
    #[arg(
        long = "set",
        value_name = "KEY=VALUE",
        help = set_help(),
        long_help = svcshell::config::properties_help()
    )]
    set: Vec<String>,
    /// Shorthand for --set mode=alerts_only: only alerts are written.
    #[arg(long)]
    alerts_only: bool,
}

/// The `--set` short help: every key of the property table.
fn set_help() -> String {
    format!(
        "A filter property, as a shipper would pass it (repeatable): {}",
        svcshell::config::KEYS.join(", ")
    )
}

#[derive(Subcommand)]
enum RuleCmd {
    /// Print the rule in effect (the embedded one, or --set rule_file=PATH): metadata, query, the fields it reads
    /// per record shape, start-up warnings and the investigation guide.
    Show {
        #[command(flatten)]
        settings: Settings,
    },
    /// Check rule files as rule_file loads them (every rule of a Kibana export): one line per file; exit 2 when
    /// any file is refused.
    Check {
        /// Rule files: detection-rules TOML, Kibana export NDJSON, or one rule JSON object.
        #[arg(required = true)]
        files: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// Write the rule (with its exceptions, sources and mode) as a VRL program for Vector's `remap` transform
    /// to stdout (docs/vector.md).
    Vrl {
        #[command(flatten)]
        settings: Settings,
    },
    /// Write a vector.yaml fragment to stdout: the VRL program as a `remap` transform, a `route` for its
    /// alerts, a `throttle` for the alert cap, and unit tests from the bundled recorded events (docs/vector.md).
    Vector {
        /// The component(s) feeding the remap transform (its `inputs`).
        #[arg(long, default_value = "events")]
        input: String,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
enum Cmd {
    /// Export the rule for pipelines that cannot load svcshell (Vector: VRL, a Vector config).
    Export {
        #[command(subcommand)]
        cmd: ExportCmd,
    },
    /// Show the rule in effect, or check rule files.
    Rule {
        #[command(subcommand)]
        cmd: RuleCmd,
    },
    /// Read NDJSON records, write every passing record (alerts tagged) to stdout in input order.
    #[command(after_long_help = REPLAY_SUMMARY)]
    Replay {
        #[command(flatten)]
        settings: Settings,
        /// Input files; `-` or none reads standard input.
        files: Vec<String>,
    },
    /// Measure the filter's throughput on a file held in memory, next to a serde_json Value baseline.
    Bench {
        #[command(flatten)]
        settings: Settings,
        /// Passes over the file (the median is reported).
        #[arg(long, default_value_t = 5)]
        passes: usize,
        /// Passes of the (slow) baseline.
        #[arg(long, default_value_t = 3)]
        baseline_passes: usize,
        /// Measure the Fluent Bit path instead: the records as Fluent Bit msgpack chunks (v2 records with an
        /// EventTime, about 32 KB per chunk as `tail` appends them), each run through `process_chunk`.
        #[arg(long)]
        chunks: bool,
        /// NDJSON records to measure, read into memory first.
        file: String,
    },
    /// For each NDJSON record, print one JSON object: the detected shape, the rule's six fields as the shape
    /// derives them, each top-level clause (its text, fields and result), each exception's result, and the
    /// verdict (`excepted_by` names the exception that turned a match off). With --alerts-only (or
    /// --set mode=alerts_only), only the records that alert.
    Explain {
        #[command(flatten)]
        settings: Settings,
        /// Input file; `-` or none reads standard input.
        file: Option<String>,
    },
    /// Mutate recorded NDJSON events (JSON-aware: escapes, dotted/nested keys, order, case, scalar/array;
    /// byte-level: flips, cuts, inserts) and run every mutant through the filter and the serde_json baseline:
    /// a panic or a disagreement is a finding, written to svcshell-fuzz-findings.ndjson (exit 1).
    Fuzz {
        #[command(flatten)]
        settings: Settings,
        /// How long to run: 300, 300s, 5m, 1h.
        #[arg(long, default_value = "60s")]
        duration: String,
        /// Seed of the mutation generator (default: from the clock; printed, so a run can be repeated).
        #[arg(long)]
        seed: Option<u64>,
        /// Stop after this many mutants.
        #[arg(long, value_name = "N")]
        max_mutants: Option<u64>,
        /// Directory for the findings files (default: the current directory).
        #[arg(long, value_name = "DIR")]
        out: Option<String>,
        /// Recorded events (NDJSON), the seeds of the mutations.
        #[arg(required = true)]
        files: Vec<String>,
    },
}

fn filter_from(s: &Settings) -> Result<Filter, String> {
    let mut props: Vec<(String, String)> = Vec::new();
    for kv in &s.set {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(format!("--set {kv}: expected KEY=VALUE"));
        };
        props.push((k.to_string(), v.to_string()));
    }
    if s.alerts_only {
        props.push(("mode".into(), "alerts_only".into()));
    }
    Filter::from_properties(&props).map_err(|e| format!("configuration error: {e}"))
}

/// The `replay --help` text after the options: what the summary line's counters mean.
const REPLAY_SUMMARY: &str = "\
The summary line (stderr) after the last file, also when a file fails:
  records=     records read (blank lines are not records)
  alerts=      records written as alerts
  suppressed=  matches over the alert cap (max_alerts per alert_window), written untagged (dropped in alerts_only)
  excepted=    matches an exception turned off, written untagged (dropped in alerts_only)
  errors=      records that could not be read (not a JSON object, invalid JSON), written unchanged
  dropped=     records not written (alerts_only mode)
  bytes=       the bytes of those records, without the \\n that ends each line (a \\r before it counts)
  seconds=     wall-clock time of the whole replay";

/// An I/O error that names the file it happened on.
fn at(path: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{path}: {e}"))
}

fn open(path: &str) -> io::Result<(Box<dyn Read>, Option<u64>)> {
    if path == "-" {
        return Ok((Box::new(io::stdin().lock()), None));
    }
    let f = File::open(path).map_err(|e| at(path, e))?;
    let meta = f.metadata().map_err(|e| at(path, e))?;
    if meta.is_dir() {
        return Err(at(path, io::Error::other("is a directory, not a file")));
    }
    Ok((Box::new(f), Some(meta.len())))
}

fn replay(filter: &Filter, files: &[String]) -> io::Result<()> {
    let files: Vec<String> = if files.is_empty() {
        vec!["-".into()]
    } else {
        files.to_vec()
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let start = Instant::now();
    let result = replay_files(filter, &files, &mut out).and_then(|()| out.flush());
    // The summary also when a file fails: the records before it were written.
    let s = filter.stats();
    let secs = start.elapsed().as_secs_f64();
    eprintln!("svcshell replay: {s} bytes={} seconds={secs:.3}", s.bytes);
    result
}

fn replay_files(filter: &Filter, files: &[String], out: &mut impl Write) -> io::Result<()> {
    for path in files {
        let (reader, len) = open(path)?;
        let bar = match len {
            Some(len) if io::stderr().is_terminal() => {
                let b = indicatif::ProgressBar::new(len);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                Some(b)
            }
            _ => None,
        };
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut line = Vec::with_capacity(1 << 16);
        let mut done: u64 = 0;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| at(path, e))?;
            if n == 0 {
                break;
            }
            done += n as u64;
            if let Some(b) = &bar {
                if done & 0xFFFFF < n as u64 {
                    b.set_position(done);
                }
            }
            let rec = line.strip_suffix(b"\n").unwrap_or(&line);
            if ndjson::is_blank(rec) {
                continue;
            }
            match filter.process(rec).action {
                Action::Pass => {
                    out.write_all(rec)?;
                    out.write_all(b"\n")?;
                }
                Action::Alert(a) => {
                    out.write_all(&a)?;
                    out.write_all(b"\n")?;
                }
                Action::Drop => {}
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench(filter: &Filter, path: &str, passes: usize, baseline_passes: usize) -> io::Result<()> {
    let data = std::fs::read(path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    let lines: Vec<&[u8]> = ndjson::records(&data).map(|(_, l)| l).collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let (mb, recs) = (bytes as f64 / 1e6, lines.len() as f64);
    let mut alerts = 0usize;
    for l in &lines {
        if matches!(filter.process(l).action, Action::Alert(_)) {
            alerts += 1;
        }
    }
    let mut times = Vec::new();
    for _ in 0..passes.max(1) {
        let t = Instant::now();
        for l in &lines {
            std::hint::black_box(filter.process(std::hint::black_box(l)));
        }
        times.push(t.elapsed());
    }
    let fast = median(times).as_secs_f64();
    let mut base_times = Vec::new();
    let mut base_matches = 0usize;
    let mut fast_matches = 0usize;
    let mut disagree = 0usize;
    for pass in 0..baseline_passes.max(1) {
        let t = Instant::now();
        for l in &lines {
            let m = std::hint::black_box(svcshell_cli::baseline::matches_value(
                filter,
                std::hint::black_box(l),
            ));
            if pass == 0 {
                let f = filter.matches(l);
                base_matches += (m == Some(true)) as usize;
                fast_matches += matches!(f, Ok(true)) as usize;
                // A key written twice may legitimately differ (serde_json keeps the last value).
                disagree += (m != f.ok() && !svcshell_cli::fuzz::has_duplicate_keys(l)) as usize;
            }
        }
        base_times.push(t.elapsed());
    }
    let base = median(base_times).as_secs_f64();
    println!(
        "svcshell bench: {path}: {mb:.1} MB, {} records, {} alerts (first pass, cap applied), median of {} passes",
        lines.len(),
        alerts,
        passes.max(1)
    );
    println!(
        "  svcshell filter     {:>8.1} MB/s  {:>10.0} records/s",
        mb / fast,
        recs / fast
    );
    println!(
        "  serde_json Value    {:>8.1} MB/s  {:>10.0} records/s  svcshell is {:.1}x the baseline",
        mb / base,
        recs / base,
        base / fast
    );
    println!(
        "  verdicts: svcshell {fast_matches} matches, baseline {base_matches}, {disagree} records disagree"
    );
    if disagree > 0 {
        return Err(io::Error::other(format!(
            "{disagree} records got different verdicts"
        )));
    }
    Ok(())
}

/// The Fluent Bit path: NDJSON records transcoded to msgpack chunks (lines that are not JSON objects become
/// `{"log": line}`, as `tail` wraps them), timed through `process_chunk` chunk by chunk; the matches must equal
/// the JSON path's.
fn bench_chunks(filter: &Filter, path: &str, passes: usize) -> io::Result<()> {
    let data = std::fs::read(path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    let mut chunks: Vec<Vec<u8>> = vec![Vec::new()];
    let (mut records, mut json_matches) = (0usize, 0usize);
    let mut body = Vec::new();
    for (_, l) in ndjson::records(&data) {
        body.clear();
        if !l.starts_with(b"{") || msgpack::from_json(l, &mut body).is_err() {
            body.clear();
            msgpack::map_header(1, &mut body);
            msgpack::encode_str(b"log", &mut body);
            msgpack::encode_str(l, &mut body);
        } else {
            json_matches += matches!(filter.matches(l), Ok(true)) as usize;
        }
        let c = chunks.last_mut().expect("one chunk at least");
        let t = records as u32;
        c.extend_from_slice(&[0x92, 0x92, 0xd7, 0x00]);
        c.extend_from_slice(&t.to_be_bytes());
        c.extend_from_slice(&[0, 0, 0, 0, 0x80]);
        c.extend_from_slice(&body);
        records += 1;
        if c.len() >= 32 * 1024 {
            chunks.push(Vec::new());
        }
    }
    let bytes: usize = chunks.iter().map(|c| c.len()).sum();
    let before = filter.stats();
    let mut modified = 0usize;
    for c in &chunks {
        modified += matches!(filter.process_chunk(c), ChunkResult::Modified(_)) as usize;
    }
    let after = filter.stats();
    let matched = (after.alerts + after.suppressed + after.excepted)
        - (before.alerts + before.suppressed + before.excepted);
    // Fluent Bit hands the filter a chunk it has just written: each chunk is copied into one reused buffer
    // (bringing it into cache) and only `process_chunk` on it is timed.
    let mut hot = Vec::with_capacity(64 * 1024);
    let mut times = Vec::new();
    for _ in 0..passes.max(1) {
        let mut total = Duration::ZERO;
        for c in &chunks {
            hot.clear();
            hot.extend_from_slice(c);
            let t = Instant::now();
            std::hint::black_box(filter.process_chunk(std::hint::black_box(&hot)));
            total += t.elapsed();
        }
        times.push(total);
    }
    let secs = median(times).as_secs_f64();
    println!(
        "svcshell bench --chunks: {path}: {:.1} MB of msgpack, {records} records in {} chunks ({modified} modified), median of {} passes",
        bytes as f64 / 1e6,
        chunks.len(),
        passes.max(1)
    );
    println!(
        "  process_chunk       {:>8.1} MB/s  {:>10.0} records/s  {:>6.0} ns/record",
        bytes as f64 / 1e6 / secs,
        records as f64 / secs,
        secs * 1e9 / records as f64
    );
    println!(
        "  verdicts: msgpack {matched} matches, JSON {json_matches}; records counted {} of {records}",
        after.records - before.records
    );
    if matched as usize != json_matches {
        return Err(io::Error::other("msgpack and JSON verdicts differ"));
    }
    Ok(())
}

fn explain(filter: &Filter, file: Option<&str>) -> io::Result<()> {
    let path = file.unwrap_or("-");
    let alerts_only = filter.config().mode == svcshell::config::Mode::AlertsOnly;
    let (reader, _) = open(path)?;
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .map_err(|e| at(path, e))?
            == 0
        {
            break;
        }
        n += 1;
        let rec = line.strip_suffix(b"\n").unwrap_or(&line);
        if ndjson::is_blank(rec) {
            continue;
        }
        let obj = match filter.explain(rec) {
            // alerts_only: what the filter would write, the alerts.
            Ok(e) if alerts_only && !e.alert => continue,
            Err(_) if alerts_only => continue,
            Ok(e) => {
                let mut v = e.to_json();
                v["line"] = n.into();
                v
            }
            Err(e) => serde_json::json!({"line": n, "error": e.to_string()}),
        };
        serde_json::to_writer(&mut out, &obj)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Where the last panic happened (the fuzz subcommand's quiet panic hook records it).
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The seed records of `svcshell fuzz`: the non-blank lines of `files`.
fn read_seeds(files: &[String]) -> io::Result<Vec<Vec<u8>>> {
    let mut seeds = Vec::new();
    for path in files {
        let data =
            std::fs::read(path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
        seeds.extend(ndjson::records(&data).map(|(_, l)| l.to_vec()));
    }
    if seeds.is_empty() {
        return Err(io::Error::other("no records in the input files"));
    }
    Ok(seeds)
}

fn fuzz(
    filter: &Filter,
    files: &[String],
    opts: svcshell_cli::fuzz::Options,
    out: &str,
) -> io::Result<()> {
    let seeds = read_seeds(files)?;
    let n_seeds = seeds.len();
    let dir = std::path::Path::new(out);
    let ndjson_path = dir.join("svcshell-fuzz-findings.ndjson");
    let why_path = dir.join("svcshell-fuzz-findings.txt");
    let mut files_out: Option<(io::BufWriter<File>, io::BufWriter<File>)> = None;
    let mut write_err: Option<io::Error> = None;
    let mut shown = 0u64;
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut p) = LAST_PANIC.lock() {
            *p = info.location().map(|l| l.to_string());
        }
    }));
    eprintln!(
        "svcshell fuzz: {n_seeds} seed records, seed={}, for {:?}",
        opts.seed, opts.duration
    );
    let report = svcshell_cli::fuzz::run(filter, seeds, opts, &mut |rec, finding, names| {
        let mut why = finding.to_string();
        if finding.kind == svcshell_cli::fuzz::FindingKind::Panic {
            if let Some(at) = LAST_PANIC.lock().ok().and_then(|mut p| p.take()) {
                why.push_str(&format!(" (at {at})"));
            }
        }
        let how = if names.is_empty() {
            "seed record".to_string()
        } else {
            format!("mutations: {}", names.join(", "))
        };
        shown += 1;
        if shown <= 20 {
            eprintln!("svcshell fuzz: finding {shown}: {why}; {how}");
        }
        if write_err.is_some() {
            return;
        }
        let r = (|| -> io::Result<()> {
            if files_out.is_none() {
                let create = |p: &std::path::Path| {
                    File::create(p)
                        .map(io::BufWriter::new)
                        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))
                };
                files_out = Some((create(&ndjson_path)?, create(&why_path)?));
            }
            let (rec_out, why_out) = files_out.as_mut().expect("opened");
            rec_out.write_all(rec)?;
            rec_out.write_all(b"\n")?;
            writeln!(why_out, "line {shown}: {why}; {how}")
        })();
        if let Err(e) = r {
            write_err = Some(e);
        }
    });
    std::panic::set_hook(previous_hook);
    if let Some((mut a, mut b)) = files_out {
        a.flush()?;
        b.flush()?;
    }
    if let Some(e) = write_err {
        return Err(e);
    }
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    println!(
        "svcshell fuzz: seed={} records={} (seeds {}, mutants {}) records/s={:.0} MB/s={:.1} compared={} alerts={} \
         rejected={} duplicate_keys={} findings={} seconds={:.1}",
        opts.seed,
        report.tried,
        n_seeds,
        report.tried - n_seeds as u64,
        report.tried as f64 / secs,
        report.bytes as f64 / 1e6 / secs,
        report.compared,
        report.alerts,
        report.rejected,
        report.duplicates,
        report.findings,
        secs
    );
    if report.findings > 0 {
        return Err(io::Error::other(format!(
            "{} findings: the records are in {} (replay them with `svcshell replay`), the reasons in {}",
            report.findings,
            ndjson_path.display(),
            why_path.display()
        )));
    }
    Ok(())
}

/// A subcommand's work, run once the filter is configured.
type Job<'a> = dyn Fn(&Filter) -> io::Result<()> + 'a;

/// `export vrl`: the VRL program on stdout.
fn export_vrl(filter: &Filter) -> io::Result<()> {
    let program = svcshell::export::vrl::program(filter).map_err(io::Error::other)?;
    io::stdout().lock().write_all(program.as_bytes())
}

/// `export vector`: the Vector config fragment on stdout.
fn export_vector(filter: &Filter, input: &str) -> io::Result<()> {
    let config = svcshell::export::vector::config(filter, input).map_err(io::Error::other)?;
    io::stdout().lock().write_all(config.as_bytes())
}

/// `rule check`: each file loaded as `rule_file` would load it, every rule of it compiled into a filter.
fn rule_check(files: &[String]) -> ExitCode {
    let mut refused = 0;
    for path in files {
        let result = svcshell::rule::load_all(path).and_then(|rules| {
            let mut warnings = 0;
            for r in &rules {
                let config = svcshell::Config {
                    rule: r.clone(),
                    ..svcshell::Config::default()
                };
                let f = Filter::new(config).map_err(|e| svcshell::rule::RuleError {
                    file: path.clone(),
                    at: None,
                    query_at: None,
                    message: e.to_string(),
                })?;
                warnings += f.warnings().len();
            }
            Ok((rules, warnings))
        });
        match result {
            Ok((rules, warnings)) => {
                let names: Vec<String> = rules
                    .iter()
                    .map(|r| format!("\"{}\" ({})", r.name, r.rule_id))
                    .collect();
                println!(
                    "{path}: ok: {} ({} rule{}: {}){}",
                    rules[0].format.name(),
                    rules.len(),
                    if rules.len() == 1 { "" } else { "s" },
                    names.join(", "),
                    if warnings > 0 {
                        format!(", {warnings} warning(s): see `svcshell rule show`")
                    } else {
                        String::new()
                    }
                );
            }
            Err(e) => {
                refused += 1;
                println!("{e}");
            }
        }
    }
    if refused > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `rule show`: the rule in effect, as text.
fn rule_show(filter: &Filter) -> io::Result<()> {
    use svcshell::rule::Technique;
    use svcshell::source::{Shape, ECS_FIELDS};
    let c = filter.config();
    let r = &c.rule;
    let mut o = String::new();
    let list = |t: &[Technique]| -> String {
        t.iter()
            .map(|t| format!("{} {}", t.id, t.name))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let or_none = |s: String| {
        if s.is_empty() {
            "(none)".to_string()
        } else {
            s
        }
    };
    o += &format!("name:          {}\n", r.name);
    o += &format!("rule_id:       {}\n", r.rule_id);
    o += &format!(
        "version:       {}\n",
        r.version.clone().unwrap_or_else(|| {
            "(none: a detection-rules TOML has no version; no rule.version is written)".into()
        })
    );
    o += &format!(
        "source:        {}\n",
        match &r.file {
            Some(f) => format!("{f} ({})", r.format.name()),
            None => "embedded (Elastic prebuilt, v313)".into(),
        }
    );
    o += &format!(
        "severity:      {} (event.severity {}), risk_score {}\n",
        r.severity,
        r.severity_number(),
        r.risk_score
    );
    o += &format!("author:        {}\n", or_none(r.author.join(", ")));
    o += &format!("license:       {}\n", or_none(r.license.clone()));
    o += &format!("references:    {}\n", or_none(r.references.join(" ")));
    o += &format!("frameworks:    {}\n", or_none(r.frameworks.join(", ")));
    o += &format!("tactics:       {}\n", or_none(list(&r.tactics)));
    o += &format!("techniques:    {}\n", or_none(list(&r.techniques)));
    o += &format!("subtechniques: {}\n", or_none(list(&r.subtechniques)));
    o += &format!(
        "schedule:      max_signals {}, interval {}s; in effect: max_alerts={}, alert_window={}s\n",
        r.max_signals, r.interval_secs, c.max_alerts, c.alert_window
    );
    let lits = filter.prefilter_literals();
    o += &format!(
        "prefilter:     {}\n",
        if lits.is_empty() {
            "off".to_string()
        } else {
            lits.iter()
                .map(|s| {
                    s.iter()
                        .map(|l| String::from_utf8_lossy(l).into_owned())
                        .collect::<Vec<_>>()
                        .join(" | ")
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        }
    );
    o += "query:\n";
    for l in r.query.trim_end().lines() {
        o += &format!("    {l}\n");
    }
    let mut table = svcshell::eql::FieldTable::default();
    r.compile(&mut table)
        .map_err(|e| io::Error::other(e.to_string()))?;
    let fields = table.names();
    o += "fields read, per enabled shape (derived: from the shape's raw fields; as is: from the record itself):\n";
    for s in Shape::ALL
        .into_iter()
        .filter(|&s| filter.profiles().enabled(s))
    {
        let (derived, as_is): (Vec<&String>, Vec<&String>) = fields
            .iter()
            .partition(|f| s != Shape::Ecs && ECS_FIELDS.contains(&f.as_str()));
        let join =
            |v: &[&String]| or_none(v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "));
        o += &format!(
            "    {:<20} derived: {}; as is: {}\n",
            s.name(),
            join(&derived),
            join(&as_is)
        );
    }
    if !filter.warnings().is_empty() {
        o += "warnings:\n";
        for w in filter.warnings() {
            o += &format!("    {w}\n");
        }
    }
    match &r.note {
        Some(n) => {
            o += "investigation guide:\n";
            o += n.trim_end();
            o += "\n";
        }
        None => o += "investigation guide: (none)\n",
    }
    io::stdout().write_all(o.as_bytes())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let fuzz_settings;
    let (settings, run): (&Settings, Box<Job>) = match &cli.cmd {
        Cmd::Rule {
            cmd: RuleCmd::Check { files },
        } => return rule_check(files),
        Cmd::Rule {
            cmd: RuleCmd::Show { settings },
        } => (settings, Box::new(rule_show)),
        Cmd::Export {
            cmd: ExportCmd::Vrl { settings },
        } => (settings, Box::new(export_vrl)),
        Cmd::Export {
            cmd: ExportCmd::Vector { settings, input },
        } => (settings, Box::new(move |f| export_vector(f, input))),
        Cmd::Replay { settings, files } => (settings, Box::new(move |f| replay(f, files))),
        Cmd::Bench {
            settings,
            passes,
            baseline_passes,
            chunks,
            file,
        } => (
            settings,
            Box::new(move |f| {
                if *chunks {
                    bench_chunks(f, file, *passes)
                } else {
                    bench(f, file, *passes, *baseline_passes)
                }
            }),
        ),
        Cmd::Explain { settings, file } => {
            (settings, Box::new(move |f| explain(f, file.as_deref())))
        }
        Cmd::Fuzz {
            settings,
            duration,
            seed,
            max_mutants,
            out,
            files,
        } => {
            let Some(secs) = svcshell::config::parse_duration(duration) else {
                eprintln!(
                    "svcshell: --duration {duration}: expected a duration like 60, 60s, 5m, 1h"
                );
                return ExitCode::from(2);
            };
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
            let opts = svcshell_cli::fuzz::Options {
                duration: Duration::from_secs(secs),
                seed,
                max_mutants: *max_mutants,
            };
            // No alert cap: a capped match would look like a disagreement with the baseline.
            let mut set: Vec<String> = settings
                .set
                .iter()
                .filter(|kv| {
                    let k = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
                    !k.trim().eq_ignore_ascii_case("max_alerts")
                })
                .cloned()
                .collect();
            set.push("max_alerts=0".into());
            fuzz_settings = Settings {
                set,
                alerts_only: settings.alerts_only,
            };
            let out = out.clone().unwrap_or_else(|| ".".into());
            (
                &fuzz_settings,
                Box::new(move |f| fuzz(f, files, opts, &out)),
            )
        }
    };
    let filter = match filter_from(settings) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("svcshell: {e}");
            return ExitCode::from(2);
        }
    };
    for w in filter.warnings() {
        eprintln!("svcshell: warning: {w}");
    }
    match run(&filter) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("svcshell: {e}");
            ExitCode::from(1)
        }
    }
}
