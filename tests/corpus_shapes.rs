//! Verdicts on generated telemetry of every raw shape equal the labels, line by line: a weighted all-shape
//! mix (200,000 records, the default `validate=matches` with its literal prefilter, and `validate=all`), each
//! single shape with many positives, look-alikes and NVDisplay near misses (and the serde_json `Value` path
//! agreeing), and the `sources` property restricting detection. The corpus comes from the in-repo generator
//! (`tests/support/gen.rs`); its labels from the independent reference (`tests/support/reference.rs`).

mod common;
use common::generate;
use common::support::gen::Rates;
use common::support::reference::Shape;

use svcshell::{Action, Filter};

/// The shapes weighted like a mixed deployment: ECS 40, Winlogbeat Sysmon 25, Security 10, NXLog 8, evtx 5,
/// Fluent Bit 5, SentinelOne 4, Defender 3, CrowdStrike FDR 3, Vector windows_event_log 3.
fn default_mix() -> Vec<Shape> {
    let w = [40, 25, 10, 8, 5, 5, 4, 3, 3, 3];
    Shape::ALL
        .iter()
        .zip(w)
        .flat_map(|(&s, n)| std::iter::repeat_n(s, n))
        .collect()
}

const SHAPES: [Shape; 10] = Shape::ALL;

/// Rates with many positives, look-alikes and near misses.
fn hot() -> Rates {
    Rates {
        process: 0.8,
        attack: 0.3,
        nv: 0.15,
        lookalike: 0.35,
        ..Rates::default()
    }
}

/// Line numbers (1-based) where the filter's verdict differs from `want`.
fn disagreements(filter: &Filter, lines: &[Vec<u8>], want: &[bool]) -> Vec<usize> {
    lines
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (l, &w))| matches!(filter.process(l).action, Action::Alert(_)) != w)
        .map(|(k, _)| k + 1)
        .collect()
}

fn assert_agree(what: &str, filter: &Filter, lines: &[Vec<u8>], want: &[bool]) {
    let wrong = disagreements(filter, lines, want);
    assert!(
        wrong.is_empty(),
        "{what}: {} of {} lines disagree with the labels, first: {:?}; line {}: {}",
        wrong.len(),
        lines.len(),
        &wrong[..wrong.len().min(10)],
        wrong[0],
        String::from_utf8_lossy(&lines[wrong[0] - 1])
    );
    assert_eq!(filter.stats().errors, 0, "{what}");
}

fn filter(props: &[(&str, &str)]) -> Filter {
    let mut p = vec![("max_alerts", "0")];
    p.extend_from_slice(props);
    Filter::from_properties(&p).unwrap()
}

#[test]
fn all_shapes_default_mix_200k_verdicts_equal_labels() {
    let rates = Rates {
        process: 0.35,
        attack: 0.05,
        nv: 0.02,
        lookalike: 0.1,
        ..Rates::default()
    };
    let (lines, labels) = generate(&default_mix(), 200_000, 5, rates);
    assert!(lines.len() >= 200_000);
    let positives = labels.iter().filter(|&&l| l).count();
    assert!(
        positives > 1_000,
        "the corpus holds positives ({positives})"
    );
    // The default (`validate=matches`, literal prefilter on `services.exe`) and full validation.
    assert_agree("validate=matches", &filter(&[]), &lines, &labels);
    assert_agree(
        "validate=all",
        &filter(&[("validate", "all")]),
        &lines,
        &labels,
    );
}

#[test]
fn each_shape_with_many_positives_and_near_misses() {
    for (k, &s) in SHAPES.iter().enumerate() {
        let shape = s.name();
        let c = common::support::gen::corpus(&[s], 12_000, 100 + k as u64, hot());
        let (lines, labels) = (&c.lines, &c.labels);
        let positives = labels.iter().filter(|&&l| l).count();
        assert!(positives >= 500, "{shape}: {positives} positives");
        for validate in ["matches", "all"] {
            let f = filter(&[("validate", validate)]);
            assert_agree(&format!("{shape}, validate={validate}"), &f, lines, labels);
        }
        // The shape enabled alone gives the same verdicts on the records of that shape (a few records made
        // as one shape are another: ECS records carrying Winlogbeat 7's raw `winlog` without `process`).
        let f = filter(&[("sources", shape)]);
        let only: Vec<bool> = (0..lines.len())
            .map(|k| labels[k] && c.shapes[k] == Some(s))
            .collect();
        assert_agree(&format!("{shape}, sources={shape}"), &f, lines, &only);
        // The serde_json Value path runs the same detection and derivations (a scanner check).
        let f = filter(&[]);
        for (n, l) in lines.iter().enumerate().take(4000) {
            assert_eq!(
                svcshell_cli::baseline::matches_value(&f, l),
                Some(labels[n]),
                "{shape}: baseline verdict of line {}",
                n + 1
            );
        }
    }
}

#[test]
fn sources_restrict_detection() {
    // Every shape's positives, filtered with each single source enabled: only that shape alerts.
    let mut corpora = Vec::new();
    for (k, &shape) in SHAPES.iter().enumerate() {
        let c = common::support::gen::corpus(&[shape], 2_000, 300 + k as u64, hot());
        assert!(c.positives() > 50, "{shape:?} has positives");
        // Records the reference detects as another shape (ECS precedence: Winlogbeat 7 output) or as none
        // are left out: "only that shape alerts" is about records of that shape.
        let keep: Vec<usize> = (0..c.lines.len())
            .filter(|&k| c.shapes[k] == Some(shape))
            .collect();
        corpora.push((
            keep.iter().map(|&k| c.lines[k].clone()).collect::<Vec<_>>(),
            keep.iter().map(|&k| c.labels[k]).collect::<Vec<_>>(),
        ));
    }
    for enabled in SHAPES {
        let f = filter(&[("sources", enabled.name())]);
        for (shape, (lines, labels)) in SHAPES.iter().zip(&corpora) {
            let want: Vec<bool> = if *shape == enabled {
                labels.clone()
            } else {
                vec![false; labels.len()]
            };
            assert_agree(
                &format!("sources={enabled:?} on {shape:?}"),
                &f,
                lines,
                &want,
            );
        }
    }
    // A list of two (any spelling of case and spaces) enables both.
    let f = filter(&[("sources", " NXLog , evtx")]);
    for (shape, (lines, labels)) in SHAPES.iter().zip(&corpora) {
        let want: Vec<bool> = if *shape == Shape::Nxlog || *shape == Shape::Evtx {
            labels.clone()
        } else {
            vec![false; labels.len()]
        };
        assert_agree(
            &format!("sources=nxlog,evtx on {shape:?}"),
            &f,
            lines,
            &want,
        );
    }
}
