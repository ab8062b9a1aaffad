//! Verdicts on generated ECS telemetry equal the labels, line by line. The corpus comes from the in-repo
//! generator (`tests/support/gen.rs`); its labels from the independent reference (`tests/support/reference.rs`).

mod common;
use common::generate;
use common::support::gen::Rates;
use common::support::reference::Shape;

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
        "{} of {} lines disagree with the labels, first: {:?}; line {}: {}",
        wrong.len(),
        lines.len(),
        &wrong[..wrong.len().min(10)],
        wrong[0],
        String::from_utf8_lossy(&lines[wrong[0] - 1])
    );
    assert!(labels.iter().any(|&l| l), "the corpus holds positives");
}

#[test]
fn ecs_corpus_verdicts_equal_labels() {
    // Plenty of positives, near misses, decoys, odd values and dotted keys.
    let (lines, labels) = generate(
        &[Shape::Ecs],
        30_000,
        11,
        Rates {
            decoy: 0.1,
            ..Rates::default()
        },
    );
    let positives = labels.iter().filter(|&&l| l).count();
    assert!(positives > 1_000, "{positives} positives");
    for validate in ["matches", "all"] {
        let f = Filter::from_properties(&[("max_alerts", "0"), ("validate", validate)]).unwrap();
        check(&f, &lines, &labels);
        assert_eq!(f.stats().errors, 0);
    }
}
