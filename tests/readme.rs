//! The README's commands run as printed. Every block fenced as ```` ```sh ```` is run with bash from the
//! repository's root, each command checked; blocks that need Fluent Bit are fenced ```` ```sh fluent-bit ````
//! and only read. `cargo test` itself (the quick start's second command) is what runs this test, so it is the
//! one line left out. The commands run with a temporary `HOME` (what they install under `~/.local` goes there),
//! `cargo install` installs into a temporary root put first on `PATH`, and builds share the repository's
//! `target/`, so nothing outside the repository's `target/` is touched. The summary line the README shows for the
//! first command must be the one the command prints (but for the time).
//!
//! Also: neither the README nor the pages of `docs/` name a command the repository does not hold, and their
//! relative links lead to files that are there.
//!
//! Needs what the README's prerequisites name (`cc`, `make`, `pkg-config`, binutils): without one the test
//! prints SKIPPED and why (and fails under `CI=true`); skipped under a target runner, like the installs.

use std::path::PathBuf;
use std::process::Command;

mod common;
mod runner;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The README's fenced blocks: (info string, text).
fn blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in md.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some("")) => out.push(current.take().unwrap()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(current.is_none(), "an unclosed block");
    out
}

#[test]
fn readme_and_docs_name_only_what_the_repository_holds() {
    let mut pages = vec![repo().join("README.md")];
    for e in std::fs::read_dir(repo().join("docs")).unwrap() {
        pages.push(e.unwrap().path());
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        // Every relative link leads to a file of the repository.
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let target = &rest[..rest.find(')').unwrap_or(rest.len())];
            if target.contains("://") || target.starts_with('#') || target.contains(' ') {
                continue;
            }
            let file = target.split('#').next().unwrap();
            let at = page.parent().unwrap().join(file);
            assert!(
                at.exists(),
                "{}: a link to {target}, which is not there",
                page.display()
            );
        }
        // A generator that is not in the repository, and any path above its root.
        for outside in ["gen-corpus", "../.."] {
            assert!(
                !text.contains(outside),
                "{} names `{outside}`",
                page.display()
            );
        }
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.lines().count() <= 200,
        "the README is over 200 lines"
    );
    let runnable = blocks(&readme)
        .into_iter()
        .filter(|(info, _)| info == "sh")
        .count();
    assert!(runnable >= 5, "{runnable} runnable blocks");
}

#[test]
fn readme_commands_run_as_printed() {
    if runner::runner().is_some() {
        common::loud(
            "SKIPPED: the suite runs under a target runner: the README is run on the build machine",
        );
        return;
    }
    for tool in ["make", "cc", "pkg-config", "objcopy", "readelf", "bash"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            common::skip(&format!(
                "`{tool}` is not installed (see the README's prerequisites)"
            ));
            return;
        }
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let temp = std::env::temp_dir().join(format!("svcshell-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    let (home, install_root) = (temp.join("home"), temp.join("cargo-install"));
    std::fs::create_dir_all(&home).unwrap();
    let real_home = std::env::var("HOME").unwrap_or_default();
    let rustup_home =
        std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{real_home}/.rustup"));
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{real_home}/.cargo"));
    let target_dir = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join("target"));
    let path = format!(
        "{}:{}",
        install_root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut ran = 0;
    for (info, text) in blocks(&readme) {
        if info != "sh" {
            continue;
        }
        // `cargo test` is what runs this test.
        let script: String = text
            .lines()
            .filter(|l| l.split('#').next().unwrap().trim() != "cargo test")
            .map(|l| format!("{l}\n"))
            .collect();
        let out = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(repo())
            .env("HOME", &home)
            .env("RUSTUP_HOME", &rustup_home)
            .env("CARGO_HOME", &cargo_home)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("CARGO_INSTALL_ROOT", &install_root)
            .env("PATH", &path)
            // The plugin installer's plain build shares target/release (cargo-zigbuild would build apart).
            .env("SVCSHELL_PLAIN_BUILD", "1")
            .env_remove("PKG_CONFIG_PATH")
            // As a user runs them: not on `cargo test`'s loader path, which leads to the build directory.
            .env_remove("LD_LIBRARY_PATH")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "README block failed:\n{script}\n{stderr}"
        );
        if script.contains("replay tests/data/events.ndjson ") && script.starts_with("cargo run") {
            // The summary the README shows, but for the time.
            let shown = readme
                .lines()
                .find(|l| l.starts_with("svcshell replay: "))
                .unwrap();
            let printed = stderr
                .lines()
                .find(|l| l.starts_with("svcshell replay: "))
                .unwrap_or_else(|| panic!("no summary: {stderr}"));
            let cut = |s: &str| s[..s.find(" seconds=").unwrap()].to_string();
            assert_eq!(cut(printed), cut(shown));
        }
        ran += 1;
    }
    assert!(ran >= 5, "{ran}");
    // What the blocks installed under HOME, they also removed.
    let mut left = Vec::new();
    let mut dirs = vec![home.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.symlink_metadata().unwrap().is_dir() {
                dirs.push(p);
            } else {
                left.push(p);
            }
        }
    }
    assert_eq!(left, Vec::<PathBuf>::new(), "left under HOME");
    std::fs::remove_dir_all(&temp).unwrap();
}
