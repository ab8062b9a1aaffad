//! `fuzz/ci.sh` is a gate that can fail: when the nightly toolchain or cargo-fuzz is missing it fails under CI
//! (`CI=true`) and is a loud skip (exit 0) elsewhere. Runs the script with stand-in `rustup` and `cargo`
//! commands first on `PATH`, so no real toolchain is touched.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory holding executable stand-ins (name, shell body).
fn stand_ins(name: &str, tools: &[(&str, &str)]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("svcshell-fuzz-gate-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (tool, body) in tools {
        let p = dir.join(tool);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// Runs `fuzz/ci.sh` with `dir` first on PATH and CI set as given: (exit code, stderr).
fn run(dir: &Path, ci: Option<&str>) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/ci.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
        .env_remove("CI");
    if let Some(v) = ci {
        cmd.env("CI", v);
    }
    let out = cmd.output().expect("bash runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn missing_nightly_fails_in_ci_and_skips_loudly_elsewhere() {
    let dir = stand_ins("nightly", &[("rustup", "exit 1"), ("cargo", "exit 1")]);
    let (code, err) = run(&dir, Some("true"));
    assert_eq!(code, 1, "CI=true without nightly must fail: {err}");
    assert!(err.contains("FAILED") && err.contains("nightly"), "{err}");
    let (code, err) = run(&dir, None);
    assert_eq!(code, 0, "without CI a missing nightly is a skip: {err}");
    assert!(err.contains("SKIPPED") && err.contains("nightly"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_cargo_fuzz_fails_in_ci_and_skips_loudly_elsewhere() {
    // Nightly is there; `cargo fuzz` is not, and installing it fails.
    let dir = stand_ins(
        "cargo-fuzz",
        &[
            ("rustup", "echo rustc 1.0.0-nightly"),
            ("cargo", "echo \"cargo $*: no such command\" >&2; exit 101"),
        ],
    );
    let (code, err) = run(&dir, Some("true"));
    assert_eq!(code, 1, "CI=true without cargo-fuzz must fail: {err}");
    assert!(
        err.contains("FAILED") && err.contains("cargo-fuzz"),
        "{err}"
    );
    assert!(
        err.contains("cargo install cargo-fuzz"),
        "it tried to install cargo-fuzz: {err}"
    );
    let (code, err) = run(&dir, None);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("SKIPPED") && err.contains("cargo-fuzz"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
