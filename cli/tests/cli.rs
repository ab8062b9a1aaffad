//! End-to-end tests of the `svcshell` command on the recorded events in `tests/data/`: `replay` writes every
//! record in input order with exactly the expected ones tagged, `--alerts-only` keeps only those, bad
//! configuration exits 2 naming the key, and `bench` reports both speeds and agreeing verdicts.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[path = "../../tests/runner/mod.rs"]
mod runner;

fn bin() -> Command {
    runner::command(env!("CARGO_BIN_EXE_svcshell"))
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .join("tests/data")
        .join(name)
}

/// (expected alert?, why) per line of events.ndjson.
fn expected() -> Vec<(bool, String)> {
    std::fs::read_to_string(data("events.expected"))
        .unwrap()
        .lines()
        .map(|l| {
            let (a, why) = l.split_once('\t').unwrap();
            (a == "1", why.to_string())
        })
        .collect()
}

fn is_alert(line: &str) -> bool {
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(v) => {
            v["event"]["kind"] == "alert"
                && v["rule"]["id"] == "0022d47d-39c7-4f69-a232-4fe9dc7a3acd"
        }
        Err(_) => false,
    }
}

#[test]
fn replay_tags_exactly_the_expected_records_in_order() {
    let input = std::fs::read_to_string(data("events.ndjson")).unwrap();
    let out = bin()
        .arg("replay")
        .arg(data("events.ndjson"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let outs: Vec<&str> = stdout.lines().collect();
    let ins: Vec<&str> = input.lines().collect();
    let exp = expected();
    assert_eq!(outs.len(), ins.len(), "one output line per input line");
    assert_eq!(exp.len(), ins.len());
    for (k, ((i, o), (alert, why))) in ins.iter().zip(&outs).zip(&exp).enumerate() {
        if *alert {
            assert!(
                is_alert(o),
                "line {}: expected an alert ({why}): {o}",
                k + 1
            );
            // The rest of the record is preserved: every input key is still there with its value.
            let iv: serde_json::Value = serde_json::from_str(i).unwrap();
            let ov: serde_json::Value = serde_json::from_str(o).unwrap();
            for (key, val) in iv.as_object().unwrap() {
                if key != "event" {
                    assert_eq!(&ov[key], val, "line {}: key {key} changed", k + 1);
                }
            }
        } else {
            assert_eq!(i, o, "line {}: expected unchanged ({why})", k + 1);
        }
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let alerts = exp.iter().filter(|e| e.0).count();
    assert!(
        stderr.contains(&format!("records={}", ins.len())),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("alerts={alerts}")), "{stderr}");
    assert!(
        stderr.contains("errors=2"),
        "the truncated line and the non-JSON line: {stderr}"
    );
}

#[test]
fn replay_reads_stdin_and_alerts_only_keeps_alerts() {
    let input = std::fs::read(data("events.ndjson")).unwrap();
    let mut child = bin()
        .args(["replay", "--alerts-only", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let n = expected().iter().filter(|e| e.0).count();
    assert_eq!(stdout.lines().count(), n);
    assert!(stdout.lines().all(is_alert));
}

#[test]
fn exceptions_and_caps_apply_from_the_command_line() {
    let out = bin()
        .args([
            "replay",
            "--alerts-only",
            "--set",
            "exception=host.name == \"dc01\"",
            "--set",
            "MAX_ALERTS=3",
        ])
        .arg(data("events.ndjson"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        3,
        "capped at 3 of 5 remaining alerts"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("suppressed=2") && stderr.contains("excepted=1"),
        "{stderr}"
    );
}

#[test]
fn configuration_errors_exit_2_and_name_the_key() {
    for (kv, key) in [
        ("colour=blue", "colour"),
        ("mode=loud", "mode"),
        ("max_alerts=many", "max_alerts"),
        ("alert_window=soon", "alert_window"),
        ("exception=process.name like \"x\"", "exception"),
    ] {
        let out = bin()
            .args(["replay", "--set", kv])
            .arg(data("events.ndjson"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{kv}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(key), "{kv}: {stderr}");
        assert!(out.stdout.is_empty(), "nothing starts half-configured");
    }
    let out = bin().args(["replay", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_reports_both_speeds_and_agreeing_verdicts() {
    let out = bin()
        .args(["bench", "--passes", "1", "--baseline-passes", "1"])
        .arg(data("events.ndjson"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        s.contains("svcshell filter")
            && s.contains("serde_json Value")
            && s.contains("x the baseline"),
        "{s}"
    );
    assert!(s.contains("0 records disagree"), "{s}");
}

#[test]
fn explain_prints_shape_derived_values_and_clause_results_per_record() {
    let input = concat!(
        r#"{"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1","event_data":{"#,
        r#""Image":"C:\\Windows\\System32\\cmd.exe","ParentImage":"C:\\Windows\\System32\\services.exe","#,
        r#""CommandLine":"cmd.exe /c \"echo hi\""}}}"#,
        "\n",
        r#"{"category":"AdvancedHunting-DeviceProcessEvents","properties":{"ActionType":"ProcessCreated","#,
        r#""OSPlatform":"Linux","FileName":"pwsh.exe","InitiatingProcessFileName":"services.exe"}}"#,
        "\n",
        "not json\n",
    );
    let mut child = bin()
        .args(["explain", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let (a, b) = (&lines[0], &lines[1]);
    assert_eq!(a["shape"], "winlogbeat_sysmon");
    assert_eq!(a["alert"], true);
    assert_eq!(a["values"]["process.name"], serde_json::json!(["cmd.exe"]));
    assert_eq!(
        a["values"]["process.parent.name"],
        serde_json::json!(["services.exe"])
    );
    assert_eq!(
        a["values"]["process.args"],
        serde_json::json!(["cmd.exe", "/c", "echo hi"])
    );
    assert_eq!(a["values"]["host.os.type"], serde_json::json!(["windows"]));
    assert!(a["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["result"] == true));
    // The Linux device fails exactly the host.os.type clause.
    assert_eq!(b["shape"], "m365");
    assert_eq!(b["alert"], false);
    let failed: Vec<&serde_json::Value> = b["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == false)
        .map(|c| &c["fields"])
        .collect();
    assert_eq!(failed, vec![&serde_json::json!(["host.os.type"])]);
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].is_string());
}

/// Runs the CLI with `args`, `input` on stdin; (exit success, stdout, stderr).
fn run_stdin(args: &[&str], input: &[u8]) -> (bool, Vec<u8>, String) {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn blank_lines_hold_no_record_in_every_subcommand_as_in_the_c_api() {
    // The C API's case (tests/c/link_test.c): match, no match, blank, blank with \r, malformed, no match with
    // CRLF, match without a final '\n'.
    let m = r#"{"@timestamp":"2024-05-01T12:00:00Z","event":{"category":["process"],"type":["start"]},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"services.exe"}}}"#;
    let n = r#"{"process":{"name":"notepad.exe"}}"#;
    let input = format!("{m}\n{n}\n\n  \r\n{{\"a\":\n{n}\r\n{m}");
    let (ok, out, err) = run_stdin(&["replay", "-"], input.as_bytes());
    assert!(ok, "{err}");
    assert!(
        err.contains("records=5 alerts=2 suppressed=0 excepted=0 errors=1"),
        "{err}"
    );
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.split_terminator('\n').collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(is_alert(lines[0]) && is_alert(lines[4]));
    assert_eq!(&lines[1..4], [n, "{\"a\":", &format!("{n}\r")]);
    // The issue's example.
    let (_, out, err) = run_stdin(&["replay", "-"], b"{\"a\":1}\n\n   \n{\"b\":2}\n");
    assert!(
        err.contains("records=2 ") && err.contains("errors=0"),
        "{err}"
    );
    assert_eq!(out, b"{\"a\":1}\n{\"b\":2}\n");
    // explain: one line per record, numbered by its line in the input.
    let (ok, out, _) = run_stdin(&["explain", "-"], input.as_bytes());
    assert!(ok);
    let numbers: Vec<u64> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["line"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(numbers, [1, 2, 5, 6, 7]);
}

#[test]
fn export_vrl_writes_a_program_for_the_configured_shapes() {
    // The program's verdicts are checked against the library by `vrl-check/` (it needs the vrl crate); here:
    // the command's contract.
    let out = bin()
        .args(["export", "vrl", "--set", "sources=ecs", "--alerts-only"])
        .args(["--set", "exception=process.args : \"/c\""])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vrl = String::from_utf8(out.stdout).unwrap();
    assert!(vrl.contains("mode: alerts_only"), "{vrl}");
    assert!(vrl.contains("# exception: process.args : \"/c\""), "{vrl}");
    assert!(vrl.contains("abort"), "alerts_only aborts non-alerts");
    // `:` folds ASCII letters only: no Unicode-folding `(?i)` or `downcase` in the rule's comparisons (the
    // literal test ahead of them lowercases the event's text: it only lets more records through).
    assert!(!vrl.contains("(?i"), "{vrl}");
    assert_eq!(
        vrl.matches("downcase").count(),
        vrl.matches("sv_text = downcase(encode_json(.))").count(),
        "{vrl}"
    );
    assert!(
        vrl.contains("[sS][eE][rR][vV][iI][cC][eE][sS]\\.[eE][xX][eE]"),
        "{vrl}"
    );
    // `sources` decides which shapes the program recognises: the raw shapes' keys appear only when enabled.
    let program = |set: Option<&str>| {
        let mut c = bin();
        c.args(["export", "vrl"]);
        if let Some(s) = set {
            c.args(["--set", s]);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{set:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let every = program(None);
    for key in [
        "\"winlog.channel\"",
        "\"Event.System.Channel\"",
        "\"StringInserts\"",
        "\"meta.event.name\"",
        "\"properties.ActionType\"",
        "\"event_simpleName\"",
        "\"provider_name\"",
    ] {
        assert!(every.contains(key), "{key} read by default");
        assert!(!vrl.contains(key), "{key} not read with sources=ecs");
    }
    let vector = program(Some("sources=vector_winevtlog"));
    assert!(vector.contains("sources: vector_winevtlog,"), "{vector}");
    assert!(vector.contains("\"event_data.CommandLine\""), "{vector}");
    assert!(!vector.contains("\"winlog.channel\""), "{vector}");
    // An unknown source is refused like the filter refuses it.
    let out = bin()
        .args(["export", "vrl", "--set", "sources=ecs,nosuch"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn export_vector_writes_the_remap_route_throttle_and_unit_tests() {
    // The fragment's unit tests are run (without a Vector binary) by `vrl-check/`; here: the command's contract.
    let (code, yaml, err) = run(&["export", "vector", "--input", "win_logs"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        yaml.contains("    type: remap\n    inputs: [\"win_logs\"]"),
        "{yaml}"
    );
    assert!(yaml.contains("    type: route\n"), "{yaml}");
    assert!(yaml.contains("%svcshell_alert == true"), "{yaml}");
    // The default cap (the rule's max_signals per interval) as a throttle on the alert route.
    assert!(
        yaml.contains("    type: throttle\n    inputs: [svcshell_route.alert]\n    threshold: 100\n    window_secs: 300\n"),
        "{yaml}"
    );
    let events = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/events.ndjson"),
    )
    .unwrap();
    assert_eq!(
        yaml.matches("\n  - name: ").count(),
        events
            .lines()
            .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.is_object()))
            .count(),
        "one unit test per recorded event that is a JSON object"
    );
    assert!(yaml.contains("extract_from: svcshell_alerts\n"), "{yaml}");
    // No cap: no throttle, the alerts leave by the route.
    let (code, yaml, _) = run(&["export", "vector", "--set", "max_alerts=0"]);
    assert_eq!(code, 0);
    assert!(!yaml.contains("type: throttle"), "{yaml}");
    assert!(
        yaml.contains("extract_from: svcshell_route.alert\n"),
        "{yaml}"
    );
    assert!(yaml.contains("    inputs: [\"events\"]"), "{yaml}");
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `explain --alerts-only` (and `--set mode=alerts_only`) explains only the records that alert, as replay would
/// write only them.
#[test]
fn explain_alerts_only_explains_the_alerts() {
    let events = data("events.ndjson");
    let events = events.to_str().unwrap();
    let wanted: Vec<u64> = expected()
        .iter()
        .enumerate()
        .filter(|(_, (a, _))| *a)
        .map(|(i, _)| i as u64 + 1)
        .collect();
    for args in [
        vec!["explain", "--alerts-only", events],
        vec!["explain", "--set", "mode=alerts_only", events],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        let lines: Vec<u64> = out
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert_eq!(v["alert"], true, "{l}");
                v["line"].as_u64().unwrap()
            })
            .collect();
        assert_eq!(lines, wanted, "{args:?}");
    }
    let (_, all, _) = run(&["explain", events]);
    assert_eq!(all.lines().count(), expected().len());
}

/// `explain` shows each clause's text (EQL that compiles to that clause) and, when an exception turned a match
/// off, which one.
#[test]
fn explain_names_clauses_and_the_exception() {
    let events = data("events.ndjson");
    let (code, out, err) = run(&[
        "explain",
        "--set",
        r#"exception=user.name == "nobody""#,
        "--set",
        r#"exception_1=process.name : "CMD.exe""#,
        events.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: Vec<&str> = v[1]["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clause"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            r#"event.category == "process""#,
            r#"host.os.type == "windows""#,
            r#"event.type == "start""#,
            r#"process.parent.name : "services.exe""#,
            r#"process.name : ("cmd.exe", "powershell.exe", "pwsh.exe", "powershell_ise.exe")"#,
            r#"not process.args : "NVDisplay.ContainerLocalSystem""#,
        ]
    );
    let mut excepted = 0;
    for (i, (alert, why)) in expected().iter().enumerate() {
        let e = &v[i];
        if e.get("error").is_some() {
            continue;
        }
        let cmd = e["values"]["process.name"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().eq_ignore_ascii_case("cmd.exe"));
        let exceptions = e["exceptions"].as_array().unwrap();
        assert_eq!(exceptions.len(), 2);
        assert_eq!(exceptions[0]["result"], false, "{why}");
        assert_eq!(exceptions[1]["exception"], r#"process.name : "CMD.exe""#);
        assert_eq!(exceptions[1]["result"], cmd, "{why}");
        if *alert && cmd {
            assert_eq!(e["matched"], true, "{why}");
            assert_eq!(e["alert"], false, "{why}");
            assert_eq!(e["excepted_by"], r#"process.name : "CMD.exe""#, "{why}");
            excepted += 1;
        } else {
            assert_eq!(e["excepted_by"], serde_json::Value::Null, "{why}");
            assert_eq!(e["alert"], *alert, "{why}");
        }
    }
    assert!(excepted >= 2, "{excepted}");
}

/// A directory given as a file is refused with its path named.
#[test]
fn a_directory_argument_is_named() {
    let dir = std::env::temp_dir();
    let d = dir.to_str().unwrap();
    for args in [vec!["replay", d], vec!["explain", d], vec!["bench", d]] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains(d), "{args:?}: {err}");
    }
}

/// When a later file fails, what came before is written and the summary line is still printed.
#[test]
fn a_failing_later_file_still_gets_the_summary() {
    let events = data("events.ndjson");
    let (code, out, err) = run(&["replay", events.to_str().unwrap(), "/nonexistent/x.ndjson"]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), expected().len());
    assert!(err.contains("/nonexistent/x.ndjson"), "{err}");
    assert!(
        err.contains("svcshell replay: records=16 alerts=6 "),
        "{err}"
    );
}

/// Every counter of the summary line is defined in `replay --help` (`bytes=` leaves out the newlines), and the
/// definition of `bytes=` is what is counted.
#[test]
fn replay_help_defines_every_summary_counter() {
    let (_, help, _) = run(&["replay", "--help"]);
    let events = data("events.ndjson");
    let (_, _, err) = run(&["replay", events.to_str().unwrap()]);
    let summary = err
        .lines()
        .find(|l| l.starts_with("svcshell replay: "))
        .unwrap();
    let mut keys = 0;
    for kv in summary["svcshell replay: ".len()..].split(' ') {
        let key = &kv[..=kv.find('=').unwrap()];
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(key) && l.len() > key.len() + 8),
            "{key} is not defined in:\n{help}"
        );
        keys += 1;
    }
    assert_eq!(keys, 8);
    let input = std::fs::read(&events).unwrap();
    let newlines = input.iter().filter(|&&b| b == b'\n').count();
    assert!(
        summary.contains(&format!(" bytes={} ", input.len() - newlines)),
        "{summary}"
    );
}

/// Every subcommand's positional arguments carry a description in its help.
#[test]
fn every_argument_is_described() {
    for sub in [
        &["replay"][..],
        &["bench"],
        &["explain"],
        &["fuzz"],
        &["rule", "show"],
        &["rule", "check"],
        &["export", "vrl"],
        &["export", "vector"],
    ] {
        let mut args = sub.to_vec();
        args.push("--help");
        let (code, help, _) = run(&args);
        assert_eq!(code, 0);
        let Some(start) = help.find("Arguments:\n") else {
            continue;
        };
        let lines: Vec<&str> = help[start..]
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        assert!(!lines.is_empty());
        for (i, l) in lines.iter().enumerate() {
            let l = l.trim();
            if l.starts_with(['<', '[']) {
                // The description follows on the same line (after two spaces) or on the next one.
                let same = l.split_once("  ").map_or("", |(_, d)| d.trim());
                let next = lines.get(i + 1).map_or("", |n| n.trim());
                assert!(
                    !same.is_empty() || (!next.is_empty() && !next.starts_with(['<', '['])),
                    "{sub:?}: {l} has no description:\n{help}"
                );
            }
        }
    }
}

/// The CLI accepts the numbered exceptions the Fluent Bit plugin accepts, and values in any case where the help
/// says so.
#[test]
fn cli_takes_what_the_plugin_takes() {
    let events = data("events.ndjson");
    let (code, out, err) = run(&[
        "replay",
        "--set",
        r#"exception_1=process.name : "cmd.exe""#,
        "--set",
        "MODE=ALERTS_ONLY",
        events.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(" alerts=3 suppressed=0 excepted=3 "), "{err}");
    assert_eq!(out.lines().count(), 3);
    let (_, help, _) = run(&["replay", "--help"]);
    assert!(
        help.contains(
            "Keys are case-insensitive, and so are the values of mode, sources, validate"
        ),
        "{help}"
    );
    assert!(help.contains("exception_1 … exception_16: "), "{help}");
}

/// `docs/cli.md` documents every option of every subcommand (`--max-mutants` included): each `--long` option a
/// subcommand's help lists appears in the page.
#[test]
fn docs_name_every_option() {
    let page = std::fs::read_to_string(
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("docs/cli.md"),
    )
    .unwrap();
    let mut checked = 0;
    for sub in [
        &["replay"][..],
        &["bench"],
        &["explain"],
        &["fuzz"],
        &["rule", "show"],
        &["rule", "check"],
        &["export", "vrl"],
        &["export", "vector"],
    ] {
        let mut args = sub.to_vec();
        args.push("--help");
        let (_, help, _) = run(&args);
        for word in help.split_whitespace() {
            let Some(opt) = word.strip_prefix("--") else {
                continue;
            };
            let opt: String = opt
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                .collect();
            if opt.is_empty() || opt == "help" {
                continue;
            }
            assert!(
                page.contains(&format!("--{opt}")),
                "docs/cli.md does not name `svcshell {} --{opt}`",
                sub.join(" ")
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked}");
}
