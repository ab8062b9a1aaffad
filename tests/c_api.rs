//! The C API from C: compiles the programs in `tests/c/` with the system `cc` against `include/svcshell.h` and the
//! `libsvcshell.so` that `cargo test` built (linked with `-lsvcshell`, or loaded with `dlopen`), runs them and
//! checks they succeed. Also keeps the hand-written header honest: it compiles as C and C++, it declares exactly
//! the `svcshell_*` functions that `src/ffi/` exports, each with a comment, and the C programs call every one.
//!
//! `CC` overrides the compiler. `tests/c/valgrind.sh` runs the same programs under Valgrind.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
mod runner;
use common::{lib_dir, C_WARNINGS};

/// C99 with the shared warnings (`tests/common`).
fn cflags() -> Vec<&'static str> {
    let mut f = vec!["-std=c99", "-O1"];
    f.extend_from_slice(C_WARNINGS);
    f
}

const MATCH: &str = r#"{"@timestamp":"2024-05-01T12:00:00Z","event":{"category":["process"],"type":["start"],"kind":"event"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"services.exe"}}}"#;
const NOMATCH: &str = r#"{"@timestamp":"2024-05-01T12:00:00Z","event":{"category":["process"],"type":["start"],"kind":"event"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"svchost.exe"}}}"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_api");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

fn show(what: &str, o: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Compiles `tests/c/<name>.c`; `link` adds `-lsvcshell` with an rpath to the built library.
fn compile(name: &str, link: bool) -> PathBuf {
    let exe = out_dir().join(name);
    let mut cmd = Command::new(cc());
    cmd.args(cflags())
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join("tests/c").join(format!("{name}.c")))
        .arg("-o")
        .arg(&exe);
    if link {
        let dir = lib_dir();
        cmd.arg(format!("-L{}", dir.display()))
            .arg("-lsvcshell")
            .arg(format!("-Wl,-rpath,{}", dir.display()));
    } else {
        cmd.arg("-ldl");
    }
    cmd.arg("-pthread");
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", cc()));
    assert!(
        o.status.success(),
        "{}",
        show(&format!("compiling {name}.c"), &o)
    );
    exe
}

/// A compiled program, run with the library it was linked against: `cargo test` puts `target/<profile>` on the
/// loader's path ahead of the program's own rpath, and a `libsvcshell.so` left there by an earlier `cargo build`
/// would be loaded instead of the one under test.
fn linked(exe: &Path) -> Command {
    let mut c = runner::command(exe);
    c.env("LD_LIBRARY_PATH", lib_dir());
    c
}

/// Runs a compiled test and returns its stdout; the number of C checks it reports is printed.
fn run_checks(exe: &Path, args: &[&str], name: &str) -> String {
    let o = linked(exe).args(args).output().unwrap();
    assert!(o.status.success(), "{}", show(name, &o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = stdout
        .lines()
        .find(|l| l.ends_with("checks passed"))
        .unwrap_or_else(|| panic!("{}", show(name, &o)));
    eprintln!("{line}");
    stdout
}

#[test]
fn linked_host_passes_every_check() {
    let exe = compile("link_test", true);
    // 4 threads x 100,000 records on one handle, plus every function and argument check.
    let out = run_checks(&exe, &["100000"], "link_test");
    assert!(out.contains("4 threads x 100000 records: records=400000 alerts=100000 errors=50000"));
}

#[test]
fn dlopen_host_passes_every_check() {
    let exe = compile("dlopen_test", false);
    let lib = lib_dir().join("libsvcshell.so");
    run_checks(&exe, &[lib.to_str().unwrap()], "dlopen_test");
}

fn run_example(exe: &Path, args: &[&str], input: &str) -> Output {
    let mut child = linked(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn readme_example_filters_ndjson() {
    let exe = compile("example", true);
    let input = format!("{MATCH}\n{NOMATCH}\n{{\"a\":\n");

    let o = run_example(&exe, &["mode=tag"], &input);
    assert!(o.status.success(), "{}", show("example", &o));
    let stdout = String::from_utf8(o.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", show("example", &o));
    let alert: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(alert["event"]["kind"], "alert");
    assert_eq!(alert["rule"]["name"], "System Shells via Services");
    assert_eq!(alert["process"]["parent"]["name"], "services.exe");
    assert_eq!(lines[1], NOMATCH);
    assert_eq!(lines[2], "{\"a\":");
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Cut short after 5 bytes: the error is at the end, where a value was due (as `explain` says).
    assert!(stderr.contains("invalid JSON at byte 5"), "{stderr}");
    assert!(
        stderr.contains("records=3 alerts=1 errors=1 dropped=0"),
        "{stderr}"
    );

    let o = run_example(&exe, &["mode=alerts_only", "max_alerts=0"], &input);
    assert!(o.status.success(), "{}", show("example", &o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);

    let o = run_example(&exe, &["mode=loud"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad configuration: mode: `loud`"));
}

#[test]
fn header_compiles_as_c_and_cpp() {
    let header = root().join("include/svcshell.h");
    let o = Command::new(cc())
        .args(cflags())
        .args(["-fsyntax-only", "-x", "c"])
        .arg(&header)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show("cc svcshell.h", &o));
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    match Command::new(&cxx)
        .args([
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-fsyntax-only",
            "-x",
            "c++",
        ])
        .arg(&header)
        .output()
    {
        Ok(o) => assert!(o.status.success(), "{}", show("c++ svcshell.h", &o)),
        Err(e) => common::skip(&format!("the C++ check of the header: {cxx}: {e}")),
    }
}

/// Identifiers `svcshell_<lowercase>` directly followed by `(` (after optional blanks).
fn calls(text: &str) -> BTreeSet<String> {
    let b = text.as_bytes();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while let Some(k) = text[i..].find("svcshell_") {
        let start = i + k;
        let mut end = start + "svcshell_".len();
        while end < b.len()
            && (b[end].is_ascii_lowercase() || b[end] == b'_' || b[end].is_ascii_digit())
        {
            end += 1;
        }
        let prev_ok = start == 0 || !(b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_');
        let mut j = end;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if prev_ok && j < b.len() && b[j] == b'(' {
            out.insert(text[start..end].to_string());
        }
        i = end;
    }
    out
}

/// The header's function declarations (comments and preprocessor lines removed), and any that lack a comment
/// right above them.
fn header_functions() -> (BTreeSet<String>, Vec<String>) {
    let text = std::fs::read_to_string(root().join("include/svcshell.h")).unwrap();
    let mut code = String::new();
    let mut in_comment = false;
    let mut continued = false;
    let mut undocumented = Vec::new();
    let mut prev_line = "";
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_comment {
                match rest.find("*/") {
                    Some(e) => {
                        in_comment = false;
                        rest = &rest[e + 2..];
                    }
                    None => break,
                }
            } else {
                match rest.find("/*") {
                    Some(s) => {
                        kept.push_str(&rest[..s]);
                        in_comment = true;
                        rest = &rest[s + 2..];
                    }
                    None => {
                        kept.push_str(rest);
                        break;
                    }
                }
            }
        }
        let is_pp = continued || kept.trim_start().starts_with('#');
        continued = is_pp && line.trim_end().ends_with('\\');
        if !is_pp {
            let decls = calls(&kept);
            if !decls.is_empty() && !line.starts_with(' ') && !prev_line.trim_end().ends_with("*/")
            {
                undocumented.extend(decls);
            }
            code.push_str(&kept);
            code.push('\n');
        }
        if !line.trim().is_empty() {
            prev_line = line;
        }
    }
    (calls(&code), undocumented)
}

/// Functions exported by `src/ffi/` (the generic C API; the Fluent Bit plugin in `fluentbit.rs` has its own ABI).
fn rust_exports() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("src/ffi")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("fluentbit.rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                if let Some(k) = line.find("extern \"C\" fn svcshell_") {
                    let name = &line[k + "extern \"C\" fn ".len()..];
                    let end = name.find('(').unwrap();
                    names.insert(name[..end].to_string());
                }
            }
        }
    }
    names
}

#[test]
fn header_declares_and_documents_every_export_and_tests_call_them() {
    let (declared, undocumented) = header_functions();
    assert!(declared.len() >= 13, "{declared:?}");
    assert!(
        undocumented.is_empty(),
        "declarations without a comment above: {undocumented:?}"
    );
    assert_eq!(declared, rust_exports(), "include/svcshell.h vs src/ffi/");

    // What the built library really exports.
    let lib = lib_dir().join("libsvcshell.so");
    match Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
    {
        Ok(o) if o.status.success() => {
            let exported: BTreeSet<String> = String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().nth(2))
                .filter(|s| s.starts_with("svcshell_"))
                .map(str::to_string)
                .collect();
            assert_eq!(
                declared, exported,
                "include/svcshell.h vs nm -D libsvcshell.so"
            );
        }
        other => common::skip(&format!("the nm check of the exports: {other:?}")),
    }

    // Together the C programs call every function; the dlopen host resolves every one.
    let read = |f: &str| std::fs::read_to_string(root().join("tests/c").join(f)).unwrap();
    let linked: BTreeSet<String> = calls(&read("link_test.c"))
        .union(&calls(&read("example.c")))
        .cloned()
        .collect();
    let missing: Vec<_> = declared.difference(&linked).collect();
    assert!(
        missing.is_empty(),
        "not called by link_test.c or example.c: {missing:?}"
    );
    let dl = read("dlopen_test.c");
    let missing: Vec<_> = declared
        .iter()
        .filter(|n| !dl.contains(&format!("LOAD({});", &n["svcshell_".len()..])))
        .collect();
    assert!(
        missing.is_empty(),
        "not resolved by dlopen_test.c: {missing:?}"
    );
}

#[test]
fn extern_c_lives_only_in_src_ffi() {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("src/ffi") {
                    walk(&path, found);
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && std::fs::read_to_string(&path).unwrap().lines().any(|l| {
                    !l.trim_start().starts_with("//") && l.contains(concat!("extern ", "\"C\""))
                })
            {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root().join("src"), &mut found);
    assert!(
        found.is_empty(),
        "extern \"C\" (outside comments) outside src/ffi/: {found:?}"
    );
}
