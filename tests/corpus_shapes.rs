//! Verdicts on generated telemetry of every raw shape equal the generator's labels, line by line: the default
//! all-shape mix (200,000 records, the default `validate=matches` with its literal prefilter, and
//! `validate=all`), each single shape with many positives, look-alikes and NVDisplay near misses (and the
//! serde_json `Value` baseline agreeing), and the `sources` property restricting detection. Uses the shared
//! `gen-corpus` tool beside the checkout; skipped (loudly) when it is absent.

mod common;
use common::generate;

use svcshell::{Action, Filter};

const DEFAULT_MIX: &str =
    "ecs=40,winlogbeat_sysmon=25,winlogbeat_security=10,nxlog=8,evtx=5,winevtlog=5,sentinelone=4,m365=3";

const SHAPES: [&str; 8] = [
    "ecs",
    "winlogbeat_sysmon",
    "winlogbeat_security",
    "nxlog",
    "evtx",
    "winevtlog",
    "sentinelone",
    "m365",
];

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
    let Some((lines, labels)) = generate(DEFAULT_MIX, 200_000, 5, &[]) else {
        return;
    };
    assert!(lines.len() >= 200_000);
    let positives = labels.iter().filter(|&&l| l).count();
    assert!(positives > 20, "the corpus holds positives ({positives})");
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
    for (k, shape) in SHAPES.iter().enumerate() {
        let Some((lines, labels)) = generate(
            &format!("{shape}=1"),
            12_000,
            100 + k as u64,
            &[
                "--tp-rate",
                "0.05",
                "--lookalike-rate",
                "0.2",
                "--nv-rate",
                "0.02",
                "--decoy-rate",
                "0.03",
            ],
        ) else {
            return;
        };
        let positives = labels.iter().filter(|&&l| l).count();
        assert!(positives >= 20, "{shape}: {positives} positives");
        for validate in ["matches", "all"] {
            let f = filter(&[("validate", validate)]);
            assert_agree(
                &format!("{shape}, validate={validate}"),
                &f,
                &lines,
                &labels,
            );
        }
        // The shape enabled alone gives the same verdicts.
        let f = filter(&[("sources", shape)]);
        assert_agree(&format!("{shape}, sources={shape}"), &f, &lines, &labels);
        // The serde_json Value baseline runs the same detection and derivations.
        let f = filter(&[]);
        for (n, l) in lines.iter().enumerate().take(4000) {
            assert_eq!(
                f.matches_value(l),
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
    for (k, shape) in SHAPES.iter().enumerate() {
        let Some(c) = generate(
            &format!("{shape}=1"),
            2_000,
            300 + k as u64,
            &["--tp-rate", "0.2", "--process-share", "0.8"],
        ) else {
            return;
        };
        assert!(c.1.iter().any(|&l| l), "{shape} has positives");
        corpora.push(c);
    }
    for enabled in SHAPES {
        let f = filter(&[("sources", enabled)]);
        for (shape, (lines, labels)) in SHAPES.iter().zip(&corpora) {
            let want: Vec<bool> = if *shape == enabled {
                labels.clone()
            } else {
                vec![false; labels.len()]
            };
            assert_agree(&format!("sources={enabled} on {shape}"), &f, lines, &want);
        }
    }
    // A list of two (any spelling of case and spaces) enables both.
    let f = filter(&[("sources", " NXLog , evtx")]);
    for (shape, (lines, labels)) in SHAPES.iter().zip(&corpora) {
        let want: Vec<bool> = if *shape == "nxlog" || *shape == "evtx" {
            labels.clone()
        } else {
            vec![false; labels.len()]
        };
        assert_agree(&format!("sources=nxlog,evtx on {shape}"), &f, lines, &want);
    }
}
