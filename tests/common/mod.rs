//! Helpers shared by the integration tests that use the shared workspace beside the checkout (the `gen-corpus`
//! generator and the real fixtures). When it is absent they say SKIPPED on stderr — past the test harness's
//! output capture, so a skip is never silent — and the test returns early.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use svcshell::record::msgpack::{self, Ty};

/// Prints a line on stderr that `cargo test` does not capture.
pub fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// `../shared/<rel>` beside the checkout, if it exists.
pub fn shared(rel: &str, what: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        loud(&format!("SKIPPED: {} not found; {what}", p.display()));
        None
    }
}

/// The generator, if present.
pub fn gen_corpus() -> Option<PathBuf> {
    shared(
        "tools/gen-corpus",
        "corpus tests need the shared gen-corpus tool",
    )
}

/// Generates `records` records of `mix` (plus `extra` generator options): (lines, labels).
pub fn generate(
    mix: &str,
    records: usize,
    seed: u64,
    extra: &[&str],
) -> Option<(Vec<Vec<u8>>, Vec<bool>)> {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let tool = gen_corpus()?;
    let dir = std::env::temp_dir().join(format!(
        "svcshell-corpus-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, labels) = (dir.join("c.ndjson"), dir.join("c.labels"));
    let st = Command::new("python3")
        .arg(&tool)
        .args([
            "--records",
            &records.to_string(),
            "--seed",
            &seed.to_string(),
            "--mix",
            mix,
        ])
        .args(extra)
        .arg("--out")
        .arg(&out)
        .arg("--labels")
        .arg(&labels)
        .stderr(Stdio::null())
        .status()
        .expect("run gen-corpus with python3");
    assert!(st.success());
    let data = std::fs::read(&out).unwrap();
    let lines: Vec<Vec<u8>> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let labels: Vec<bool> = std::fs::read_to_string(&labels)
        .unwrap()
        .lines()
        .map(|l| l.trim() == "1")
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(lines.len(), labels.len());
    Some((lines, labels))
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
