//! Every place that lists the configuration properties lists the same ones as the library's property table
//! (`svcshell::config::PROPERTIES`): the C header's list, the two tables of the docs (`docs/configuration.md` and
//! the Fluent Bit one in `docs/fluentbit.md`) and the CLI's `--set` help; and each says which values are
//! case-insensitive and names the numbered exceptions as the table and the parser have them. Each is read as text here and compared key by key, with its values
//! and default, so a key, value, duration unit or default that changes in one place and not the others fails.
//! (The Fluent Bit configuration map is compared with the table in `src/ffi/fluentbit.rs`'s unit tests.)

use std::path::PathBuf;

use svcshell::config::{DefaultValue, PROPERTIES};

#[path = "../../tests/runner/mod.rs"]
mod runner;

fn read(rel: &str) -> String {
    std::fs::read_to_string(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(rel))
        .unwrap()
}

/// `key: values (default: d)[; repeatable]`, the form the header and the CLI help list a property in.
fn line_of(p: &svcshell::config::Property) -> String {
    let d = match p.default {
        DefaultValue::Value(v) | DefaultValue::Unset(v) => v,
    };
    format!(
        "{}: {} (default: {}){}",
        p.key,
        p.values,
        d,
        if p.repeatable { "; repeatable" } else { "" }
    )
}

#[test]
fn header_lists_the_table() {
    let h = read("include/svcshell.h");
    let start = h
        .find(" * Properties (keys case-insensitive;")
        .expect("the header's property list");
    let mut lines = h[start..].lines().skip(1);
    let mut listed: Vec<(String, String)> = Vec::new();
    while let Some(l) = lines.next() {
        let Some(entry) = l.strip_prefix(" *   ") else {
            break;
        };
        assert!(!entry.starts_with(' '), "a property line: {l:?}");
        let meaning = lines
            .next()
            .and_then(|m| m.strip_prefix(" *       "))
            .unwrap_or_else(|| panic!("no meaning line after {l:?}"));
        listed.push((entry.to_string(), meaning.to_string()));
    }
    let expected: Vec<(String, String)> = PROPERTIES
        .iter()
        .map(|p| (line_of(p), p.meaning.to_string()))
        .collect();
    assert_eq!(listed, expected);
}

/// The rows of the Markdown table whose header row is `header`: cells with backticks removed.
fn table(md: &str, header: &str) -> Vec<Vec<String>> {
    let start = md
        .lines()
        .position(|l| l == header)
        .unwrap_or_else(|| panic!("no table {header}"));
    md.lines()
        .skip(start + 2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().replace('`', ""))
                .collect()
        })
        .collect()
}

#[test]
fn docs_configuration_table_lists_the_table() {
    let rows = table(
        &read("docs/configuration.md"),
        "| key | values | default | meaning |",
    );
    let listed: Vec<[String; 3]> = rows
        .iter()
        .map(|r| [r[0].clone(), r[1].clone(), r[2].clone()])
        .collect();
    let expected: Vec<[String; 3]> = PROPERTIES
        .iter()
        .map(|p| {
            [
                p.key.to_string(),
                p.values.to_string(),
                p.default.text().to_string(),
            ]
        })
        .collect();
    assert_eq!(listed, expected);
    for (r, p) in rows.iter().zip(PROPERTIES) {
        assert_eq!(r[3].starts_with("Repeatable."), p.repeatable, "{}", p.key);
    }
}

#[test]
fn docs_fluent_bit_table_lists_the_table() {
    let rows = table(&read("docs/fluentbit.md"), "| key | values | default |");
    let mut expected: Vec<Vec<String>> = Vec::new();
    for p in PROPERTIES {
        expected.push(vec![
            p.key.to_string(),
            p.values.to_string(),
            p.default.text().to_string(),
        ]);
        if p.repeatable {
            let n = svcshell::ffi::fluentbit::NUMBERED_EXCEPTIONS;
            expected.push(vec![
                format!("{0}_1 … {0}_{n}", p.key),
                "more EQL conditions".into(),
                "none".into(),
            ]);
        }
    }
    assert_eq!(rows, expected);
}

#[test]
fn cli_help_lists_the_table() {
    let out = runner::command(env!("CARGO_BIN_EXE_svcshell"))
        .args(["replay", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = help.lines().map(str::trim).collect();
    for p in PROPERTIES {
        assert!(
            lines.contains(&line_of(p).as_str()),
            "{}:\n{help}",
            line_of(p)
        );
    }
    let listed = lines
        .iter()
        .filter(|l| {
            l.split_once(": ").is_some_and(|(k, _)| {
                !k.contains(' ') && k.chars().all(|c| c == '_' || c.is_ascii_lowercase())
            }) && l.contains("(default: ")
        })
        .count();
    assert_eq!(listed, PROPERTIES.len(), "{help}");

    let out = runner::command(env!("CARGO_BIN_EXE_svcshell"))
        .args(["bench", "-h"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // The short help names every key.
    let short = String::from_utf8(out.stdout).unwrap();
    let set = short
        .lines()
        .find(|l| l.contains("as a shipper would pass it (repeatable): "))
        .expect("--set help");
    let (_, keys) = set.rsplit_once("(repeatable): ").unwrap();
    let keys: Vec<&str> = keys.split(", ").collect();
    assert_eq!(keys, svcshell::config::KEYS);
}

/// The case-insensitive values and the numbered exceptions, as the table and the parser have them, are named in
/// the header, the CLI help and the configuration page.
#[test]
fn case_folding_and_numbered_keys_are_documented_everywhere() {
    use svcshell::config::{fold_case_keys, NUMBERED};
    let keys = fold_case_keys();
    assert_eq!(keys, ["mode", "sources", "validate"]);
    let h = read("include/svcshell.h");
    assert!(
        h.contains(&format!(
            " * The values of {} are case-insensitive",
            keys.join(", ")
        )),
        "header"
    );
    assert!(h.contains(&format!(
        "exception_1 ... exception_{NUMBERED} each add one"
    )));
    let page = read("docs/configuration.md");
    let ticked: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    let (last, rest) = ticked.split_last().unwrap();
    assert!(
        page.contains(&format!(
            "and so are the values of {} and {last}",
            rest.join(", ")
        )),
        "docs/configuration.md"
    );
    assert!(
        page.contains(&format!("`exception_1` …\n`exception_{NUMBERED}`"))
            || page.contains(&format!("`exception_1` … `exception_{NUMBERED}`"))
    );
    let out = runner::command(env!("CARGO_BIN_EXE_svcshell"))
        .args(["replay", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains(&format!("the values of {}:", keys.join(", "))),
        "{help}"
    );
    assert!(
        help.contains(&format!("exception_1 … exception_{NUMBERED}: ")),
        "{help}"
    );
}
