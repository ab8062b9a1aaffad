//! Configuration as shippers pass it, and what each setting does to a stream of records: every bad key or
//! value is refused with an error that names the key (an exception that does not compile names its line and
//! column); keys are case-insensitive and `exception` repeats; `alerts_only` drops everything that is not an
//! alert; exceptions turn matches off; the alert cap (`max_alerts` per `alert_window`) counts alerts per
//! window of the records' own `@timestamp`, so replaying the same records gives the same outputs.

use svcshell::{Action, ConfigError, Filter, Mode};

fn err(props: &[(&str, &str)]) -> ConfigError {
    match Filter::from_properties(props) {
        Ok(_) => panic!("{props:?} was accepted"),
        Err(e) => e,
    }
}

/// A matching record at `time`, with `args`.
fn matching(time: &str, args: &str) -> String {
    format!(
        r#"{{"@timestamp":"{time}","event":{{"category":"process","type":"start"}},"host":{{"os":{{"type":"windows"}}}},"process":{{"name":"cmd.exe","args":{args},"parent":{{"name":"services.exe"}}}},"user":{{"name":"SYSTEM"}}}}"#
    )
}

fn hit(time: &str) -> String {
    matching(time, r#"["cmd.exe","/c","echo"]"#)
}

const NOT_MATCHING: &str = r#"{"@timestamp":"2024-05-01T12:00:00Z","event":{"category":"process","type":"start"},"host":{"os":{"type":"windows"}},"process":{"name":"notepad.exe","parent":{"name":"explorer.exe"}}}"#;

#[test]
fn unknown_key_is_named() {
    let e = err(&[("mode", "tag"), ("max_alert", "3")]);
    assert_eq!(e.key, "max_alert");
    assert!(e.to_string().contains("max_alert"), "{e}");
    let e = err(&[("bogus", "")]);
    assert_eq!(e.key, "bogus");
}

#[test]
fn bad_mode() {
    for v in ["loud", "", "tags", "alerts only", "alertsonly"] {
        let e = err(&[("mode", v)]);
        assert_eq!(e.key, "mode", "{v:?}: {e}");
        assert!(e.to_string().starts_with("mode"), "{e}");
    }
}

#[test]
fn bad_max_alerts() {
    for v in [
        "-1",
        "ten",
        "1.5",
        "",
        "1e3",
        "0x10",
        "18446744073709551616",
    ] {
        let e = err(&[("max_alerts", v)]);
        assert_eq!(e.key, "max_alerts", "{v:?}: {e}");
    }
}

#[test]
fn bad_alert_window() {
    for v in [
        "0", "0s", "5x", "", "-5m", "m", "1.5m", "5 m", "forever", "+5m", "+300",
    ] {
        let e = err(&[("alert_window", v)]);
        assert_eq!(e.key, "alert_window", "{v:?}: {e}");
    }
}

#[test]
fn empty_exception() {
    for v in ["", "   ", "\t\n"] {
        let e = err(&[("exception", v)]);
        assert_eq!(e.key, "exception", "{v:?}: {e}");
    }
}

#[test]
fn exception_that_does_not_compile_names_line_and_column() {
    let e = err(&[("exception", r#"process.name like "x""#)]);
    assert_eq!(e.key, "exception");
    let shown = e.to_string();
    assert!(shown.contains("line 1, column 14"), "{shown}");

    let e = err(&[
        ("exception", r#"user.name == "bob""#),
        ("exception", "process.args : \"a\" and\n  process.pid == 4"),
    ]);
    assert_eq!(e.key, "exception");
    let shown = e.to_string();
    assert!(shown.contains("line 2, column 18"), "{shown}");
    // The message says which exception it is (the second).
    assert!(
        shown.contains("#2") || shown.contains("process.pid"),
        "{shown}"
    );

    let e = err(&[("exception", "process.name == 'cmd.exe'")]);
    assert!(e.to_string().contains("line 1, column 17"), "{e}");
}

#[test]
fn keys_are_case_insensitive() {
    let f = Filter::from_properties(&[
        ("MODE", "alerts_only"),
        ("Max_Alerts", "7"),
        ("ALERT_WINDOW", "1h"),
    ])
    .unwrap();
    assert_eq!(f.config().mode, Mode::AlertsOnly);
    assert_eq!(f.config().max_alerts, 7);
    assert_eq!(f.config().alert_window, 3600);
    // And the setting takes effect: a non-match is dropped.
    assert_eq!(f.process(NOT_MATCHING.as_bytes()).action, Action::Drop);
}

#[test]
fn exception_repeats() {
    let f = Filter::from_properties(&[
        ("exception", r#"process.args : "whoami""#),
        ("Exception", r#"user.name == "bob""#),
        ("EXCEPTION", r#"host.name : "lab-*""#),
    ])
    .unwrap();
    assert_eq!(f.config().exceptions.len(), 3);
    let whoami = matching("2024-05-01T12:00:00Z", r#"["cmd.exe","/c","whoami"]"#);
    assert_eq!(f.process(whoami.as_bytes()).action, Action::Pass);
    let bob = hit("2024-05-01T12:00:00Z").replace("SYSTEM", "bob");
    assert_eq!(f.process(bob.as_bytes()).action, Action::Pass);
    let lab = hit("2024-05-01T12:00:00Z").replace(r#""user""#, r#""host.name":"LAB-07","user""#);
    assert_eq!(f.process(lab.as_bytes()).action, Action::Pass);
    let other = hit("2024-05-01T12:00:00Z");
    assert!(matches!(
        f.process(other.as_bytes()).action,
        Action::Alert(_)
    ));
    let st = f.stats();
    assert_eq!((st.excepted, st.alerts), (3, 1), "{st:?}");
}

#[test]
fn alerts_only_drops_non_matches() {
    let f = Filter::from_properties(&[("mode", "alerts_only")]).unwrap();
    assert_eq!(f.process(NOT_MATCHING.as_bytes()).action, Action::Drop);
    assert_eq!(f.process(b"not json").action, Action::Drop);
    assert_eq!(f.process(b"[1,2]").action, Action::Drop);
    let a = f.process(hit("2024-05-01T12:00:00Z").as_bytes());
    assert!(matches!(a.action, Action::Alert(_)), "{a:?}");
    let st = f.stats();
    assert_eq!((st.records, st.alerts, st.dropped), (4, 1, 3), "{st:?}");

    // In tag mode the same records pass.
    let f = Filter::from_properties(&[("mode", "tag")]).unwrap();
    assert_eq!(f.process(NOT_MATCHING.as_bytes()).action, Action::Pass);
    assert_eq!(f.process(b"not json").action, Action::Pass);
}

#[test]
fn exception_turns_a_match_off() {
    let whoami = matching("2024-05-01T12:00:00Z", r#"["cmd.exe","/c","WHOAMI"]"#);
    let plain = Filter::from_properties::<&str, &str>(&[]).unwrap();
    assert!(matches!(
        plain.process(whoami.as_bytes()).action,
        Action::Alert(_)
    ));
    assert_eq!(plain.matches(whoami.as_bytes()), Ok(true));

    let f = Filter::from_properties(&[("exception", r#"process.args : "whoami""#)]).unwrap();
    assert_eq!(f.process(whoami.as_bytes()).action, Action::Pass);
    assert_eq!(f.matches(whoami.as_bytes()), Ok(false));
    // A substring of an argument is not the argument.
    let near = matching("2024-05-01T12:00:00Z", r#"["cmd.exe","/c","whoami /all"]"#);
    assert!(matches!(
        f.process(near.as_bytes()).action,
        Action::Alert(_)
    ));
    let st = f.stats();
    assert_eq!((st.excepted, st.alerts), (1, 1), "{st:?}");

    let f = Filter::from_properties(&[
        ("mode", "alerts_only"),
        ("exception", r#"process.args : "whoami""#),
    ])
    .unwrap();
    assert_eq!(f.process(whoami.as_bytes()).action, Action::Drop);
}

#[test]
fn cap_suppresses_within_a_window_and_resets_in_the_next() {
    let f = Filter::from_properties(&[("max_alerts", "2"), ("alert_window", "5m")]).unwrap();
    // 12:00:00 to 12:04:59 is one 5-minute window; 12:05:00 starts the next.
    let first = [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:01:00Z",
        "2024-05-01T12:02:30Z",
        "2024-05-01T12:03:00Z",
        "2024-05-01T12:04:59Z",
    ];
    let mut alerts = 0;
    for (k, t) in first.iter().enumerate() {
        let r = hit(t);
        match f.process(r.as_bytes()).action {
            Action::Alert(_) => {
                assert!(k < 2, "record {k} alerted over the cap");
                alerts += 1;
            }
            // Suppressed in tag mode: passed on untagged.
            Action::Pass => assert!(k >= 2, "record {k} suppressed under the cap"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(alerts, 2);
    let st = f.stats();
    assert_eq!((st.alerts, st.suppressed), (2, 3), "{st:?}");

    let next = [
        "2024-05-01T12:05:00Z",
        "2024-05-01T12:06:00Z",
        "2024-05-01T12:09:59Z",
    ];
    let actions: Vec<bool> = next
        .iter()
        .map(|t| matches!(f.process(hit(t).as_bytes()).action, Action::Alert(_)))
        .collect();
    assert_eq!(actions, [true, true, false]);
    let st = f.stats();
    assert_eq!((st.alerts, st.suppressed), (4, 4), "{st:?}");
    // Non-matching records do not use up the cap.
    let g = Filter::from_properties(&[("max_alerts", "1")]).unwrap();
    for _ in 0..5 {
        assert_eq!(g.process(NOT_MATCHING.as_bytes()).action, Action::Pass);
    }
    assert!(matches!(
        g.process(hit("2024-05-01T12:00:00Z").as_bytes()).action,
        Action::Alert(_)
    ));
}

#[test]
fn cap_in_alerts_only_mode_drops_suppressed_matches() {
    let f = Filter::from_properties(&[
        ("mode", "alerts_only"),
        ("max_alerts", "1"),
        ("alert_window", "300"),
    ])
    .unwrap();
    let a = f.process(hit("2024-05-01T12:00:00Z").as_bytes()).action;
    let b = f.process(hit("2024-05-01T12:00:01Z").as_bytes()).action;
    assert!(matches!(a, Action::Alert(_)));
    assert_eq!(b, Action::Drop);
}

#[test]
fn suppressed_matches_pass_unchanged() {
    let f = Filter::from_properties(&[("max_alerts", "1")]).unwrap();
    let r1 = hit("2024-05-01T12:00:00Z");
    let r2 = hit("2024-05-01T12:00:01Z");
    assert!(matches!(f.process(r1.as_bytes()).action, Action::Alert(_)));
    // `Pass` means: the caller emits the input bytes as they are.
    let o = f.process(r2.as_bytes());
    assert_eq!(o.action, Action::Pass);
    assert_eq!(o.error, None);
}

#[test]
fn replay_through_a_fresh_filter_is_identical() {
    let props = [("max_alerts", "2"), ("alert_window", "5m")];
    // Two windows, records slightly out of order, plus non-matching records in between.
    let times = [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:04:00Z",
        "2024-05-01T12:01:00Z",
        "2024-05-01T12:05:01Z",
        "2024-05-01T12:03:00Z",
        "2024-05-01T12:06:00Z",
        "2024-05-01T12:07:00Z",
        "2024-05-01T12:02:00Z",
    ];
    let mut records: Vec<String> = times.iter().map(|t| hit(t)).collect();
    records.insert(3, NOT_MATCHING.to_string());
    let run = || -> Vec<Action> {
        let f = Filter::from_properties(&props).unwrap();
        records
            .iter()
            .map(|r| f.process(r.as_bytes()).action)
            .collect()
    };
    let first = run();
    // The records' time decides, not the wall clock: replay later gives the same outputs.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = run();
    assert_eq!(first, second);
    // Hand-computed: window 12:00 holds 12:00, 12:04 (alerts) then 12:01, 12:03, 12:02 (suppressed);
    // window 12:05 holds 12:05:01, 12:06 (alerts) then 12:07 (suppressed).
    let alerted: Vec<bool> = first
        .iter()
        .map(|a| matches!(a, Action::Alert(_)))
        .collect();
    assert_eq!(
        alerted,
        [true, true, false, false, true, false, true, false, false]
    );
}

#[test]
fn no_cap_with_max_alerts_zero() {
    let f = Filter::from_properties(&[("max_alerts", "0"), ("alert_window", "1s")]).unwrap();
    for _ in 0..250 {
        assert!(matches!(
            f.process(hit("2024-05-01T12:00:00Z").as_bytes()).action,
            Action::Alert(_)
        ));
    }
}

#[test]
fn default_cap_is_the_rules_max_signals_per_interval() {
    // Elastic's defaults for the rule: at most 100 alerts per 5-minute run.
    let f = Filter::from_properties::<&str, &str>(&[]).unwrap();
    assert_eq!(f.config().max_alerts, 100);
    assert_eq!(f.config().alert_window, 300);
    assert_eq!(f.config().mode, Mode::Tag);
}

/// `validate=matches` (the default) reads only records holding a literal of every exact test on a sliced field:
/// `services.exe`, and one of the four shells. A broken record missing either passes unread (no error); one
/// holding both is read and counted as an error. `validate=all` reads every record.
#[test]
fn validate_matches_reads_only_records_with_both_literal_sets() {
    // Framed as objects (so the unread ones pass the framing check) but broken inside (a missing comma).
    let broken = [
        (r#"{"a": "services.exe" "b": "notepad.exe"}"#, false),
        (r#"{"a": "explorer.exe" "b": "cmd.exe"}"#, false),
        (r#"{"a": "nothing here" "b": 1}"#, false),
        (r#"{"a": "SERVICES.EXE" "b": "PowerShell_ISE.exe"}"#, true),
        (r#"{"a": "services.exe" "b": "pwsh.exe"}"#, true),
    ];
    for (rec, read) in broken {
        let f = Filter::from_properties(&[("validate", "matches")]).unwrap();
        let o = f.process(rec.as_bytes());
        assert!(matches!(o.action, Action::Pass), "{rec}");
        assert_eq!(o.error.is_some(), read, "validate=matches: {rec}");
        assert_eq!(f.stats().errors, u64::from(read), "{rec}");
        let all = Filter::from_properties(&[("validate", "all")]).unwrap();
        assert!(
            all.process(rec.as_bytes()).error.is_some(),
            "validate=all: {rec}"
        );
    }
}

/// `alert_window=0` is a well-formed duration that is no window: the message says so instead of calling it
/// malformed.
#[test]
fn zero_alert_window_is_refused_as_zero() {
    for v in ["0", "0s", "0m", "000h"] {
        let e = err(&[("alert_window", v)]);
        assert_eq!(e.key, "alert_window");
        assert!(!e.message.contains("not a duration"), "{v}: {e}");
        assert!(e.message.contains("at least 1s"), "{v}: {e}");
    }
    assert!(err(&[("alert_window", "5x")])
        .message
        .contains("not a duration"));
}

/// The values of the properties marked `fold_case` are read case-insensitively; the others as written (a
/// duration unit is lower case). Checked on each property's example values, so the flag the help and the
/// docs are written from cannot drift from what the parser does.
#[test]
fn value_case_folding_is_what_the_table_says() {
    use svcshell::config::PROPERTIES;
    let mut checked = 0;
    for p in PROPERTIES {
        let examples: Vec<String> = match p.key {
            "sources" => vec!["ecs, winlogbeat_sysmon".into()],
            // Free text: an exception is EQL (checked below), a path and a rule_id are taken as written.
            "exception" | "rule_file" | "rule_id" => continue,
            _ => p.values.split(", ").map(str::to_string).collect(),
        };
        for v in examples {
            let v = v.split(" = ").next().unwrap().to_string();
            if !v.bytes().any(|b| b.is_ascii_alphabetic()) {
                continue;
            }
            // A description ("a whole number") rather than an example value.
            let Ok(plain) = Filter::from_properties(&[(p.key, v.as_str())]) else {
                assert_eq!(p.key, "max_alerts");
                continue;
            };
            let upper = v.to_ascii_uppercase();
            match Filter::from_properties(&[(p.key, upper.as_str())]) {
                Ok(f) => {
                    assert!(p.fold_case, "{}={upper} accepted", p.key);
                    assert_eq!(f.config(), plain.config(), "{}={upper}", p.key);
                }
                Err(e) => assert!(!p.fold_case, "{}={upper} refused: {e}", p.key),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 9, "mode 2, alert_window 4, sources 1, validate 2");
    // An exception is EQL: its strings keep their case, so upper case is another condition.
    let a = Filter::from_properties(&[("exception", r#"user.name == "bob""#)]).unwrap();
    let b = Filter::from_properties(&[("exception", r#"user.name == "BOB""#)]).unwrap();
    assert_ne!(a.config(), b.config());
}

/// `exception_1` ..= `exception_16` are accepted by every host (the CLI, the C API, the Fluent Bit plugin):
/// each adds one exception, each may be given once; `exception_0`, `exception_17`, `exception_01` are unknown.
#[test]
fn numbered_exceptions_add_exceptions() {
    let f = Filter::from_properties(&[
        ("exception", r#"process.args : "whoami""#),
        ("exception_1", r#"user.name == "bob""#),
        ("EXCEPTION_16", r#"host.name : "lab-*""#),
    ])
    .unwrap();
    assert_eq!(
        f.config().exceptions,
        [
            r#"process.args : "whoami""#,
            r#"user.name == "bob""#,
            r#"host.name : "lab-*""#
        ]
    );
    let bob = hit("2024-05-01T12:00:00Z").replace("SYSTEM", "bob");
    assert_eq!(f.process(bob.as_bytes()).action, Action::Pass);
    assert_eq!(f.stats().excepted, 1);
    for k in [
        "exception_0",
        "exception_17",
        "exception_01",
        "exception_",
        "exception_x",
    ] {
        let e = err(&[(k, r#"user.name == "bob""#)]);
        assert_eq!(e.key, k);
        assert!(e.message.contains("unknown property"), "{e}");
        assert!(e.message.contains("exception_1 … exception_16"), "{e}");
    }
    let e = err(&[
        ("exception_2", r#"user.name == "bob""#),
        ("Exception_2", r#"user.name == "eve""#),
    ]);
    assert_eq!(e.key, "exception_2");
    assert!(e.message.contains("more than once"), "{e}");
    assert_eq!(err(&[("exception_3", " ")]).key, "exception_3");
}
