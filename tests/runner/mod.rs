//! Running programs built for the target under test (the `svcshell` binary, the C test hosts): directly, or
//! under `SVCSHELL_TARGET_RUNNER` when set — the command that runs a target program on this machine, e.g.
//! `qemu-aarch64 -L /usr/aarch64-linux-gnu` when the suite is cross-built for aarch64 and run under
//! emulation (cargo's own runner wraps only the test binaries, and a program an emulated test starts is not
//! emulated unless the kernel is set up to do it). `.ci/run` sets it for its aarch64 run.
#![allow(dead_code)] // each test binary uses a different subset

use std::ffi::OsStr;
use std::process::Command;

/// The runner's words (program, then arguments), when one is set.
pub fn runner() -> Option<Vec<String>> {
    let r = std::env::var("SVCSHELL_TARGET_RUNNER").ok()?;
    let words: Vec<String> = r.split_whitespace().map(str::to_string).collect();
    (!words.is_empty()).then_some(words)
}

/// A command running `exe`, a program built for the target, under the runner when one is set.
pub fn command(exe: impl AsRef<OsStr>) -> Command {
    match runner() {
        Some(words) => {
            let mut c = Command::new(&words[0]);
            c.args(&words[1..]).arg(exe);
            c
        }
        None => Command::new(exe),
    }
}
