//! Helpers shared by the integration tests: the loud skip (and the rule that CI allows none), the labelled
//! corpus from the in-repo generator (`tests/support/`), the library directory for the C tests, and a
//! msgpack decoder.
#![allow(dead_code)] // each test binary uses a different subset

#[path = "../support/mod.rs"]
pub mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::gen::{self, Rates};
use support::reference::Shape;
use svcshell::record::msgpack::{self, Ty};

/// Prints a line on stderr that `cargo test` does not capture.
pub fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// A test that cannot run here says `SKIPPED: <why>` on stderr (past the harness's capture, so a skip is
/// never silent) and the caller returns early. In CI (`CI=true`) a skip is a failure: there every test must
/// run. (The real-Fluent-Bit tests, which need a binary CI may not have, keep their own skip.)
pub fn skip(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("SKIPPED in CI (CI=true), where every test must run: {why}");
    }
    loud(&format!("SKIPPED: {why}"));
}

/// `records` generated records of `shapes` (each equally likely; repeat a shape to weigh it), seeded, with
/// the reference's labels: (lines, labels).
pub fn generate(
    shapes: &[Shape],
    records: usize,
    seed: u64,
    rates: Rates,
) -> (Vec<Vec<u8>>, Vec<bool>) {
    let c = gen::corpus(shapes, records, seed, rates);
    (c.lines, c.labels)
}

/// The directory holding the `libsvcshell.so` built together with this test binary. `cargo test` compiles the
/// library (crate types cdylib + rlib) into `<target>/<profile>/deps/`, next to this binary, but copies it up to
/// `<target>/<profile>/` only on `cargo build`; so `deps/` is the fresh one.
/// The warnings every C test source is compiled with (each adds its `-std=` and what it builds).
#[allow(dead_code)] // not every test binary compiles C
pub const C_WARNINGS: &[&str] = &["-Wall", "-Wextra", "-Werror", "-pedantic", "-g"];

pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("target/<profile>/deps");
    let candidates = [deps, deps.parent().expect("target/<profile>")];
    candidates
        .iter()
        .find(|d| d.join("libsvcshell.so").exists())
        .unwrap_or_else(|| panic!("libsvcshell.so not found in {candidates:?}"))
        .to_path_buf()
}

/// Decodes one msgpack value to JSON (test-side, independent of the library's walker beyond `head`).
pub fn decode_msgpack(b: &[u8], i: &mut usize) -> Value {
    let h = msgpack::head(b, *i).unwrap();
    *i += h.len;
    match h.ty {
        Ty::Nil => Value::Null,
        Ty::Bool => Value::Bool(h.n == 1),
        Ty::Uint => Value::from(h.n),
        Ty::Int => Value::from(h.n as i64),
        Ty::Float => Value::from(f64::from_bits(h.n)),
        Ty::Str => {
            let s = String::from_utf8(b[*i..*i + h.n as usize].to_vec()).unwrap();
            *i += h.n as usize;
            Value::String(s)
        }
        Ty::Array => Value::Array((0..h.n).map(|_| decode_msgpack(b, i)).collect()),
        Ty::Map => {
            let mut m = serde_json::Map::new();
            for _ in 0..h.n {
                let k = decode_msgpack(b, i);
                let v = decode_msgpack(b, i);
                m.insert(k.as_str().unwrap().to_string(), v);
            }
            Value::Object(m)
        }
        Ty::Bin | Ty::Ext(_) => {
            *i += h.n as usize;
            Value::Null
        }
    }
}

/// The repository's root (the workspace's, where `Cargo.lock` is), for the library's tests and the command's
/// (`cli/tests`) alike.
pub fn repo() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match dir.join("Cargo.lock").exists() {
        true => dir.to_path_buf(),
        false => dir
            .parent()
            .expect("cli/ is in the repository")
            .to_path_buf(),
    }
}

/// The path of `name` in the repository's `rules/` directory (Elastic's rule files and a tuned Kibana export).
pub fn rule_path(name: &str) -> String {
    repo()
        .join("rules")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A detection-rules TOML holding `query` (as a literal multi-line string, starting on line 9).
pub fn toml_rule(query: &str) -> String {
    format!(
        "[metadata]\ncreation_date = \"2026/01/01\"\n\n[rule]\nauthor = [\"Test\"]\ndescription = \"d\"\nname = \"t\"\nrisk_score = 21\nquery = '''\n{query}\n'''\nrule_id = \"11111111-2222-3333-4444-555555555555\"\nseverity = \"low\"\ntype = \"eql\"\nlanguage = \"eql\"\n"
    )
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}
