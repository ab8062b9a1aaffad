//! The same verdicts and the same bytes on every architecture. The generated corpus of each record shape
//! (`tests/support/gen.rs`, labelled by the independent reference) goes through the `svcshell` binary built
//! for the target (`replay`, run as `tests/runner` says): every record comes out once, in order; exactly the
//! labelled ones are alerts; every other one is its input, byte for byte.
//!
//! With `SVCSHELL_ARCH_OUTPUTS=<dir>`, each shape's input and output are kept as `<dir>/<shape>.ndjson` and
//! `<dir>/<shape>.out`: `.ci/run` keeps them from its x86-64 run and its aarch64 run (under emulation) and
//! compares the two directories byte for byte.

use std::path::PathBuf;

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/runner/mod.rs"]
mod runner;

use common::generate;
use common::support::gen::Rates;
use common::support::reference::Shape;

/// Records per shape: every shape's attacks, near misses and look-alikes, and the rest of its events.
const PER_SHAPE: usize = 1500;

#[test]
fn replay_of_every_shape_alerts_exactly_the_labelled_records() {
    let dir = std::env::var_os("SVCSHELL_ARCH_OUTPUTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("arch_outputs"));
    std::fs::create_dir_all(&dir).unwrap();
    let rates = Rates {
        process: 0.6,
        attack: 0.2,
        nv: 0.1,
        lookalike: 0.3,
        ..Rates::default()
    };
    for (k, shape) in Shape::ALL.into_iter().enumerate() {
        let name = shape.name();
        let (lines, labels) = generate(&[shape], PER_SHAPE, 16 + k as u64, rates);
        let mut input = lines.join(&b'\n');
        input.push(b'\n');
        let path = dir.join(format!("{name}.ndjson"));
        std::fs::write(&path, &input).unwrap();

        let o = runner::command(env!("CARGO_BIN_EXE_svcshell"))
            .args(["replay", "--set", "max_alerts=0"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{name}: replay failed: {stderr}");
        std::fs::write(dir.join(format!("{name}.out")), &o.stdout).unwrap();

        let out: Vec<&[u8]> = o
            .stdout
            .strip_suffix(b"\n")
            .unwrap_or(&o.stdout)
            .split(|&b| b == b'\n')
            .collect();
        assert_eq!(out.len(), lines.len(), "{name}: one output line per record");
        let positives = labels.iter().filter(|&&l| l).count();
        assert!(
            positives > 0 && positives < lines.len(),
            "{name}: {positives} positives"
        );
        for (i, ((got, line), &label)) in out.iter().zip(&lines).zip(&labels).enumerate() {
            let alert = *got != line.as_slice();
            assert_eq!(
                alert,
                label,
                "{name} record {i}: {}",
                String::from_utf8_lossy(line)
            );
            if alert {
                let text = String::from_utf8_lossy(got);
                assert!(
                    serde_json::from_slice::<serde_json::Value>(got).is_ok()
                        && text.contains("\"alert\"")
                        && text.contains("\"System Shells via Services\""),
                    "{name} record {i}: not an alert: {text}"
                );
            }
        }
        eprintln!(
            "{name}: {} records, {positives} alerts, {} output bytes",
            lines.len(),
            o.stdout.len()
        );
    }
}
