//! `svcshell rule check`, `svcshell rule show` and `replay` with a rule file: the command's face of the rules
//! as data (the library's side is `tests/rules.rs`).

use std::path::PathBuf;

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/runner/mod.rs"]
mod runner;

use common::{rule_path, toml_rule, write};

const TUNED_ID: &str = "b7e3c1a0-5d2f-4e8a-9c61-2f0d4a6b8e17";
const ATTACK: &[u8] = br#"{"@timestamp":"2026-05-04T10:00:00Z","event":{"category":["process"],"type":["start"]},"host":{"name":"ws-1","os":{"type":"windows"}},"process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"services.exe"}}}"#;

fn latest() -> String {
    rule_path("persistence_system_shells_via_services.latest.toml")
}

fn v313() -> String {
    rule_path("persistence_system_shells_via_services.v313.toml")
}

fn export() -> String {
    rule_path("kibana-export-tuned.ndjson")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("svcshell-rule-cmd-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn svcshell(args: &[&str]) -> (i32, String, String) {
    let o = runner::command(env!("CARGO_BIN_EXE_svcshell"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn cli_rule_check_and_show() {
    let (code, out, _) = svcshell(&["rule", "check", &latest(), &v313(), &export()]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.lines().all(|l| l.contains(": ok: ")), "{out}");
    let d = tmp("cli");
    let seq = write(
        &d,
        "seq.toml",
        toml_rule("sequence [process where true]").as_bytes(),
    );
    let (code, out, _) = svcshell(&["rule", "check", &latest(), &seq]);
    assert_eq!(code, 2, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[1].starts_with(&format!("{seq}:10:1: query line 1, column 1:")),
        "{out}"
    );

    let (code, out, err) = svcshell(&[
        "rule",
        "show",
        "--set",
        &format!("rule_file={}", export()),
        "--set",
        &format!("rule_id={TUNED_ID}"),
    ]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "name:          System Shells via Services (tuned)",
        "version:       7",
        "severity:      high (event.severity 73), risk_score 73",
        "T1569.002 Service Execution",
        "not host.name : (\"jump-*.corp.example.org\", \"backup01\")",
        "winlogbeat_sysmon    derived: ",
        "as is: host.name",
        "investigation guide:\n## Triage",
        "max_alerts=250, alert_window=600s",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    assert!(err.contains("warning: the rule reads `host.name`"), "{err}");
    let (code, out, _) = svcshell(&["rule", "show"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("version:       313") && out.contains("## Triage and analysis"),
        "{out}"
    );
    let (code, _, err) = svcshell(&["rule", "show", "--set", &format!("rule_file={seq}")]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{seq}:10:1: query line 1, column 1")),
        "{err}"
    );
    // replay follows the rule file.
    let input = write(&d, "in.ndjson", ATTACK);
    let (code, out, _) = svcshell(&[
        "replay",
        "--set",
        &format!("rule_file={}", latest()),
        &input,
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("T1569.002"), "{out}");
}
