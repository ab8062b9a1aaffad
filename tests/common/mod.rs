//! Helpers shared by the integration tests that use the shared workspace beside the checkout (the `gen-corpus`
//! generator and the real fixtures). When it is absent they say SKIPPED on stderr — past the test harness's
//! output capture, so a skip is never silent — and the test returns early.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Prints a line on stderr that `cargo test` does not capture.
pub fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// `../shared/<rel>` beside the checkout, if it exists.
pub fn shared(rel: &str, what: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        loud(&format!("SKIPPED: {} not found; {what}", p.display()));
        None
    }
}

/// The generator, if present.
pub fn gen_corpus() -> Option<PathBuf> {
    shared(
        "tools/gen-corpus",
        "corpus tests need the shared gen-corpus tool",
    )
}

/// Generates `records` records of `mix` (plus `extra` generator options): (lines, labels).
pub fn generate(
    mix: &str,
    records: usize,
    seed: u64,
    extra: &[&str],
) -> Option<(Vec<Vec<u8>>, Vec<bool>)> {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let tool = gen_corpus()?;
    let dir = std::env::temp_dir().join(format!(
        "svcshell-corpus-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, labels) = (dir.join("c.ndjson"), dir.join("c.labels"));
    let st = Command::new("python3")
        .arg(&tool)
        .args([
            "--records",
            &records.to_string(),
            "--seed",
            &seed.to_string(),
            "--mix",
            mix,
        ])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .arg("--labels")
        .arg(&labels)
        .stderr(Stdio::null())
        .status()
        .expect("run gen-corpus with python3");
    assert!(st.success());
    let data = std::fs::read(&out).unwrap();
    let lines: Vec<Vec<u8>> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let labels: Vec<bool> = std::fs::read_to_string(&labels)
        .unwrap()
        .lines()
        .map(|l| l.trim() == "1")
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(lines.len(), labels.len());
    Some((lines, labels))
}
