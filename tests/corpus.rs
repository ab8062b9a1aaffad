//! Verdicts on generated telemetry equal the generator's labels, line by line. Uses the `gen-corpus` tool of
//! the shared workspace beside this checkout when it is there; skipped (loudly) when it is not, so a lone
//! clone still passes its tests.

use std::path::PathBuf;
use std::process::Command;

use svcshell::{Action, Filter};

/// The generator, if present next to the checkout.
pub fn gen_corpus() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/gen-corpus");
    if p.exists() {
        Some(p)
    } else {
        // Straight to stderr: the test harness does not capture this, so a skip is never silent.
        std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!(
                "SKIPPED: {} not found; corpus tests need the shared gen-corpus tool\n",
                p.display()
            ),
        )
        .ok();
        None
    }
}

/// Generates `records` records of `mix` and returns (lines, labels).
pub fn generate(
    mix: &str,
    records: usize,
    seed: u64,
    extra: &[&str],
) -> Option<(Vec<Vec<u8>>, Vec<bool>)> {
    let tool = gen_corpus()?;
    let dir = std::env::temp_dir().join(format!("svcshell-corpus-{}-{seed}", std::process::id()));
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

fn check(filter: &Filter, lines: &[Vec<u8>], labels: &[bool]) {
    let mut wrong = Vec::new();
    for (k, (l, &want)) in lines.iter().zip(labels).enumerate() {
        let got = matches!(filter.process(l).action, Action::Alert(_));
        if got != want {
            wrong.push(k + 1);
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} lines disagree with the labels, first: {:?}",
        wrong.len(),
        lines.len(),
        &wrong[..wrong.len().min(10)]
    );
    assert!(labels.iter().any(|&l| l), "the corpus holds positives");
}

#[test]
fn ecs_corpus_verdicts_equal_labels() {
    // Plenty of positives so that every kind of attack line appears.
    let Some((lines, labels)) = generate(
        "ecs=1",
        30_000,
        11,
        &[
            "--tp-rate",
            "0.02",
            "--nv-rate",
            "0.01",
            "--decoy-rate",
            "0.05",
        ],
    ) else {
        return;
    };
    for validate in ["matches", "all"] {
        let f = Filter::from_properties(&[("max_alerts", "0"), ("validate", validate)]).unwrap();
        check(&f, &lines, &labels);
        assert_eq!(f.stats().errors, 0);
    }
}
