//! Writes a labelled corpus of generated records, for `svcshell bench`, `svcshell replay` and Fluent Bit runs:
//! the test suite's own deterministic generator (`tests/support/gen.rs`), labelled by its independent reference
//! of the rule (`tests/support/reference.rs`), which shares no code with the library.
//!
//!   cargo run --release --example corpus -- [--shapes ecs,nxlog,...] [--records N] [--seed N]
//!                                            [--process RATE] [--attacks RATE] [--labels LABELS] OUT
//!
//! `--shapes`: the record shapes to draw from (the `sources` names; default: all); `--records`: how many
//! (default 100000); `--seed`: the generator's seed (default 1; the output is a function of the arguments);
//! `--process`: the share of records that are process events (default 0.6; the rest are network, file, logon
//! and other events of the same shapes); `--attacks`: the share of records that are attacks (default 0.01; the
//! other process events are ordinary starts, near misses and look-alikes, many of them naming `services.exe`
//! or a shell, so the prefilter lets them through — the fewer process events, the more records it rules out); `--labels`: also write one `1`/`0` per line,
//! the reference's verdict. Prints the counts.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;

use support::gen::{self, Rates};
use support::reference::Shape;

fn usage(why: &str) -> ! {
    eprintln!(
        "corpus: {why}\nusage: corpus [--shapes LIST] [--records N] [--seed N] [--process RATE] [--attacks RATE] [--labels FILE] OUT"
    );
    std::process::exit(2)
}

/// A share between 0 and 1.
fn rate(v: &str, what: &str) -> f64 {
    v.parse()
        .ok()
        .filter(|r: &f64| (0.0..=1.0).contains(r))
        .unwrap_or_else(|| usage(&format!("{what} RATE, between 0 and 1")))
}

fn main() {
    let mut shapes: Vec<Shape> = Shape::ALL.to_vec();
    let (mut records, mut seed) = (100_000usize, 1u64);
    let (mut process, mut attacks) = (Rates::default().process, 0.01f64);
    let (mut labels, mut out): (Option<String>, Option<String>) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--shapes" => {
                shapes = value()
                    .split(',')
                    .map(|n| {
                        let n = n.trim();
                        *Shape::ALL
                            .iter()
                            .find(|s| s.name() == n)
                            .unwrap_or_else(|| usage(&format!("unknown shape `{n}`")))
                    })
                    .collect()
            }
            "--records" => records = value().parse().unwrap_or_else(|_| usage("--records N")),
            "--seed" => seed = value().parse().unwrap_or_else(|_| usage("--seed N")),
            "--process" => process = rate(&value(), "--process"),
            "--attacks" => attacks = rate(&value(), "--attacks"),
            "--labels" => labels = Some(value()),
            _ if a.starts_with("--") => usage(&format!("unknown option {a}")),
            _ if out.is_none() => out = Some(a),
            _ => usage("one output file"),
        }
    }
    let out = out.unwrap_or_else(|| usage("no output file"));
    if attacks > process {
        usage("--attacks cannot exceed --process (attacks are process events)");
    }
    // `attack` is a share of process events; the other kinds keep the generator's proportions.
    let rates = Rates {
        process,
        attack: if process > 0.0 {
            attacks / process
        } else {
            0.0
        },
        ..Rates::default()
    };
    let c = gen::corpus(&shapes, records, seed, rates);
    let write = |path: &str, bytes: &[u8]| {
        std::fs::write(path, bytes).unwrap_or_else(|e| {
            eprintln!("corpus: {path}: {e}");
            std::process::exit(1)
        })
    };
    let mut text = Vec::new();
    for l in &c.lines {
        text.extend_from_slice(l);
        text.push(b'\n');
    }
    write(&out, &text);
    if let Some(path) = labels {
        let mut l = Vec::new();
        for &x in &c.labels {
            writeln!(l, "{}", x as u8).expect("in memory");
        }
        write(&path, &l);
    }
    println!(
        "{out}: {} records, {} bytes, {} labelled alerts (seed {seed})",
        c.lines.len(),
        text.len(),
        c.positives()
    );
}
