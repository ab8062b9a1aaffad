//! The record's own time, which keys the alert cap's windows: `@timestamp` as RFC 3339 text (every accepted and
//! refused form) and as epoch milliseconds. Expected epoch seconds come from a naive day count written here
//! (year by year, month by month), not from the library's civil-date arithmetic.

use svcshell::alert::parse_rfc3339;
use svcshell::{Action, Filter};

/// Seconds since the epoch of a UTC civil time, counted naively.
fn epoch(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = |y: i64, m: i64| match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let mut days = 0;
    if y >= 1970 {
        for yy in 1970..y {
            days += if leap(yy) { 366 } else { 365 };
        }
    } else {
        for yy in y..1970 {
            days -= if leap(yy) { 366 } else { 365 };
        }
    }
    for m in 1..mo {
        days += month_days(y, m);
    }
    days += d - 1;
    days * 86400 + h * 3600 + mi * 60 + s
}

#[test]
fn accepted_forms() {
    let noon = epoch(2024, 5, 1, 12, 0, 0);
    assert_eq!(noon, 1_714_564_800, "the naive count itself");
    for (text, want) in [
        ("2024-05-01T12:00:00Z", noon),
        ("2024-05-01t12:00:00z", noon),
        ("2024-05-01 12:00:00", noon),
        ("2024-05-01T12:00:00.123456789Z", noon),
        ("2024-05-01T14:00:00+02:00", noon),
        ("2024-05-01T06:30:00-05:30", noon),
        ("2024-05-01T12:00:00.5+00:00", noon),
        ("2024-02-29T23:59:59Z", epoch(2024, 2, 29, 23, 59, 59)),
        ("2024-03-01T00:00:00Z", epoch(2024, 3, 1, 0, 0, 0)),
        ("2023-12-31T23:59:60Z", epoch(2023, 12, 31, 23, 59, 60)),
        ("2000-02-29T00:00:00Z", epoch(2000, 2, 29, 0, 0, 0)),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1),
        ("1900-03-01T00:00:00Z", epoch(1900, 3, 1, 0, 0, 0)),
        ("2100-01-31T01:02:03Z", epoch(2100, 1, 31, 1, 2, 3)),
    ] {
        assert_eq!(parse_rfc3339(text.as_bytes()), Some(want), "{text}");
    }
}

#[test]
fn refused_forms() {
    for text in [
        "",
        "2024-05-01T12:00:0",   // too short
        "2024/05-01T12:00:00Z", // each separator wrong on its own
        "2024-05/01T12:00:00Z",
        "2024-05-01X12:00:00Z",
        "2024-05-01T12-00:00Z",
        "2024-05-01T12:00-00Z",
        "2024-+5-01T12:00:00Z", // signs are not digits
        "+024-05-01T12:00:00Z",
        "2024-05-+1T12:00:00Z",
        "2024-05-01T+2:00:00Z",
        "2024-05-01T12:+0:00Z",
        "2024-05-01T12:00:+0Z",
        "2024-00-01T12:00:00Z", // each field out of range on its own
        "2024-13-01T12:00:00Z",
        "2024-05-00T12:00:00Z",
        "2024-05-32T12:00:00Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z",
        "2024-05-01T12:00:61Z",
        "2024-05-01T12:00:00ZZ", // trailing text, bad offsets
        "2024-05-01T12:00:00+0200",
        "2024-05-01T12:00:00+2:00",
        "2024-05-01T12:00:00+02:0x",
        "2024-05-01T12:00:00 UTC",
        "2024-05-01T12:00:00.12a",
    ] {
        assert_eq!(parse_rfc3339(text.as_bytes()), None, "{text}");
    }
}

fn attack(timestamp: &str) -> String {
    format!(
        r#"{{"@timestamp":{timestamp},"event":{{"category":"process","type":"start"}},"host":{{"os":{{"type":"windows"}}}},"process":{{"name":"cmd.exe","parent":{{"name":"services.exe"}}}}}}"#
    )
}

fn alerts(f: &Filter, lines: &[String]) -> Vec<bool> {
    lines
        .iter()
        .map(|l| matches!(f.process(l.as_bytes()).action, Action::Alert(_)))
        .collect()
}

/// A numeric `@timestamp` is epoch milliseconds: 300,000 ms apart is the next 300 s window, 500 ms later is the
/// same window.
#[test]
fn numeric_timestamps_are_milliseconds() {
    let f = Filter::from_properties(&[("max_alerts", "1"), ("alert_window", "300")]).unwrap();
    let base = epoch(2024, 5, 1, 12, 0, 0) * 1000;
    let lines = [
        attack(&base.to_string()),
        attack(&(base + 500).to_string()),
        attack(&(base + 300_000).to_string()),
        attack(&format!("{}.0", base + 300_999)),
        attack(&(base + 600_000).to_string()),
    ];
    assert_eq!(
        alerts(&f, &lines),
        [true, false, true, false, true],
        "one alert per 300 s window"
    );
}

/// Text timestamps with offsets land in the window of their UTC instant.
#[test]
fn text_timestamps_key_their_utc_window() {
    let f = Filter::from_properties(&[("max_alerts", "1"), ("alert_window", "1h")]).unwrap();
    let lines = [
        attack(r#""2024-05-01T12:59:59Z""#),
        attack(r#""2024-05-01T14:30:00+01:00""#), // 13:30 UTC: the next hour
        attack(r#""2024-05-01T08:45:00-04:15""#), // 13:00 UTC: the same hour
        attack(r#""2024-05-01T12:00:00Z""#),      // back to the first hour: its one alert is spent
    ];
    assert_eq!(alerts(&f, &lines), [true, true, false, false]);
}
