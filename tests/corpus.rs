//! Verdicts on generated telemetry equal the generator's labels, line by line. Uses the `gen-corpus` tool of
//! the shared workspace beside this checkout when it is there; skipped (loudly) when it is not, so a lone
//! clone still passes its tests.

mod common;
use common::generate;

use svcshell::{Action, Filter};

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
