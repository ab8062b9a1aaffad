//! `svcshell fuzz`: mutates recorded events and checks each mutant against the serde_json baseline; exits 0
//! with a summary when the filter agrees everywhere, is deterministic for a given seed and mutant count, and
//! rejects bad arguments with exit 2 (usage) or 1 (unreadable input).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../tests/runner/mod.rs"]
mod runner;

fn bin() -> Command {
    runner::command(env!("CARGO_BIN_EXE_svcshell"))
}

fn events() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("tests/data/events.ndjson")
}

/// A fresh scratch directory under the target directory.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz_cli-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn field(out: &Output, key: &str) -> u64 {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in {stdout}"))
        .parse()
        .unwrap()
}

#[test]
fn a_short_run_on_the_recorded_events_is_clean() {
    let dir = scratch("clean");
    let out = bin()
        .args(["fuzz", "--duration", "2s", "--seed", "1", "--out"])
        .arg(&dir)
        .arg(events())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert_eq!(field(&out, "findings"), 0);
    assert_eq!(field(&out, "seed"), 1);
    // The 16 seeds, then mutants; some are alerts, some are rejected, all compared ones agree.
    assert!(
        field(&out, "records") > 100,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(field(&out, "alerts") > 0);
    assert!(field(&out, "rejected") > 0);
    assert!(field(&out, "compared") > field(&out, "alerts"));
    assert!(stderr.contains("16 seed records"), "{stderr}");
    // No findings, no findings file.
    assert!(!dir.join("svcshell-fuzz-findings.ndjson").exists());
}

#[test]
fn the_same_seed_and_mutant_count_give_the_same_run() {
    let run = || {
        let out = bin()
            .args([
                "fuzz",
                "--seed",
                "99",
                "--max-mutants",
                "3000",
                "--set",
                "max_alerts=1",
                "--set",
                "sources=ecs",
                "--out",
            ])
            .arg(scratch("same"))
            .arg(events())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        [
            "records",
            "compared",
            "alerts",
            "rejected",
            "duplicate_keys",
            "findings",
        ]
        .map(|k| field(&out, k))
    };
    let a = run();
    assert_eq!(a[0], 3016, "16 seeds + 3000 mutants");
    assert_eq!(a, run());
}

#[test]
fn bad_arguments() {
    // No input file: usage error.
    let out = bin().args(["fuzz", "--duration", "1s"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A bad duration names the option.
    let out = bin()
        .args(["fuzz", "--duration", "soon"])
        .arg(events())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--duration"));
    // A bad property is a configuration error naming the key.
    let out = bin()
        .args(["fuzz", "--duration", "1s", "--set", "mode=loud"])
        .arg(events())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mode"));
    // An unreadable file, or one without records: exit 1.
    let out = bin()
        .args(["fuzz", "--duration", "1s", "/nonexistent/events.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let empty = scratch("empty").join("empty.ndjson");
    std::fs::write(&empty, "\n \n").unwrap();
    let out = bin()
        .args(["fuzz", "--duration", "1s"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no records"));
}
