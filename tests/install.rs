//! The installs, as a user runs them: `make install PREFIX=...` puts the C library (a versioned file whose soname
//! carries the C API's major, with its symlinks), the header and `svcshell.pc` under a temporary prefix; the C
//! example is compiled through `pkg-config --cflags --libs svcshell` and its output compared with the library's
//! own verdicts; the installed library must be stripped with its debug information beside it; `make uninstall`
//! must leave no file behind. Then `plugin-config/install.sh` installs the Fluent Bit plugin (stripped, the symbol
//! Fluent Bit looks up still exported, the installed file loaded with `dlopen` by `tests/c/dlopen_test.c` and
//! passing its checks) and `--uninstall` removes it.
//!
//! Needs `make`, `cc`, `pkg-config` and binutils (`objcopy`, `readelf`): without one the test prints SKIPPED and
//! why (and fails under `CI=true`). Installs are for the machine that builds them, so the test also skips when
//! the suite runs under a target runner (the aarch64 run under emulation).

use std::path::{Path, PathBuf};
use std::process::Command;

use svcshell::{Action, Filter};

mod common;
mod runner;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Why this machine cannot run the test, if it cannot.
fn missing_tools() -> Option<String> {
    if runner::runner().is_some() {
        return Some(
            "the suite runs under a target runner: installs are tested on the build machine".into(),
        );
    }
    for tool in ["make", "cc", "pkg-config", "objcopy", "readelf"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

fn skip_unless_tools() -> bool {
    match missing_tools() {
        None => true,
        // Not a gap in CI: the build machine's run covers the installs.
        Some(why) if runner::runner().is_some() => {
            common::loud(&format!("SKIPPED: {why}"));
            false
        }
        Some(why) => {
            common::skip(&why);
            false
        }
    }
}

/// Runs `cmd`, which must succeed; returns its stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Lossy: a string dump of `.gnu_debuglink` ends with the debug file's CRC, arbitrary bytes.
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh temporary directory.
fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("svcshell-install-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every file and symlink under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.symlink_metadata().unwrap().is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The section names of an ELF file.
fn sections(file: &Path) -> String {
    run(Command::new("readelf").args(["-S", "-W"]).arg(file))
}

/// Stripped: no debug information and no static symbol table, a `.gnu_debuglink` to `debug`, which holds it.
fn assert_stripped(file: &Path, debug: &Path) {
    let s = sections(file);
    assert!(
        !s.contains(".debug_info"),
        "{} has debug info",
        file.display()
    );
    assert!(
        !s.contains(".symtab"),
        "{} has a symbol table",
        file.display()
    );
    assert!(
        s.contains(".gnu_debuglink"),
        "{} has no debug link",
        file.display()
    );
    let link = run(Command::new("readelf")
        .args(["--string-dump=.gnu_debuglink"])
        .arg(file));
    let name = debug.file_name().unwrap().to_str().unwrap();
    assert!(link.contains(name), "{}: {link}", file.display());
    assert!(
        sections(debug).contains(".debug_info"),
        "{}",
        debug.display()
    );
    let small = std::fs::metadata(file).unwrap().len();
    assert!(small < 4 << 20, "{}: {small} bytes", file.display());
}

#[test]
fn make_install_pkg_config_and_uninstall() {
    if !skip_unless_tools() {
        return;
    }
    let prefix = temp("prefix");
    let p = prefix.to_str().unwrap();
    run(Command::new("make")
        .current_dir(repo())
        .arg("install")
        .arg(format!("PREFIX={p}")));

    let lib = prefix.join("lib");
    let major = svcshell::ffi::API_VERSION_MAJOR;
    let version = format!(
        "{major}.{}.{}",
        svcshell::ffi::API_VERSION_MINOR,
        svcshell::ffi::API_VERSION_PATCH
    );
    let real = lib.join(format!("libsvcshell.so.{version}"));
    let soname = format!("libsvcshell.so.{major}");
    // The soname carries the C API's major; the symlinks lead from the link name to the file.
    let dynamic = run(Command::new("readelf").arg("-d").arg(&real));
    assert!(
        dynamic.contains(&format!("Library soname: [{soname}]")),
        "{dynamic}"
    );
    assert_eq!(
        std::fs::read_link(lib.join(&soname)).unwrap(),
        PathBuf::from(format!("libsvcshell.so.{version}"))
    );
    assert_eq!(
        std::fs::read_link(lib.join("libsvcshell.so")).unwrap(),
        PathBuf::from(&soname)
    );
    assert_stripped(
        &real,
        &lib.join(format!(".debug/libsvcshell.so.{version}.debug")),
    );
    assert_eq!(
        std::fs::read(prefix.join("include/svcshell.h")).unwrap(),
        std::fs::read(repo().join("include/svcshell.h")).unwrap()
    );

    // The C example, built only through pkg-config.
    let pc_path = lib.join("pkgconfig");
    let flags = run(Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &pc_path)
        .args(["--cflags", "--libs", "svcshell"]));
    assert!(flags.contains(&format!("-I{p}/include")), "{flags}");
    let version_pc = run(Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &pc_path)
        .args(["--modversion", "svcshell"]));
    assert_eq!(version_pc.trim(), env!("CARGO_PKG_VERSION"));
    let exe = prefix.join("example");
    run(Command::new("cc")
        .args(["-std=c99", "-Wall", "-Werror"])
        .arg(repo().join("tests/c/example.c"))
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-o")
        .arg(&exe));
    let needed = run(Command::new("readelf").arg("-d").arg(&exe));
    assert!(
        needed.contains(&format!("Shared library: [{soname}]")),
        "{needed}"
    );
    let events = repo().join("tests/data/events.ndjson");
    // Without `cargo test`'s loader path (the build directory's library would be found before the rpath's).
    let out = Command::new(&exe)
        .env_remove("LD_LIBRARY_PATH")
        .arg("max_alerts=0")
        .stdin(std::fs::File::open(&events).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let f = Filter::from_properties(&[("max_alerts", "0")]).unwrap();
    let input = std::fs::read(&events).unwrap();
    let mut want = Vec::new();
    for rec in input.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        match f.process(rec).action {
            Action::Alert(a) => want.extend_from_slice(&a),
            Action::Pass => want.extend_from_slice(rec),
            Action::Drop => continue,
        }
        want.push(b'\n');
    }
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&want)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("records=16 alerts=6 errors=2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&exe).unwrap();

    run(Command::new("make")
        .current_dir(repo())
        .arg("uninstall")
        .arg(format!("PREFIX={p}")));
    assert_eq!(files(&prefix), Vec::<PathBuf>::new(), "left behind");
    std::fs::remove_dir_all(&prefix).unwrap();
}

#[test]
fn plugin_install_is_stripped_and_uninstalls() {
    if !skip_unless_tools() {
        return;
    }
    let dest = temp("plugins");
    let d = dest.join("fluent-bit");
    let out = run(Command::new("bash")
        .arg(repo().join("plugin-config/install.sh"))
        .arg(&d)
        .env("SVCSHELL_PLAIN_BUILD", "1"));
    let plugin = d.join("flb-filter_svcshell.so");
    assert!(
        out.contains(&format!("installed {}", plugin.display())),
        "{out}"
    );
    assert_stripped(&plugin, &d.join("flb-filter_svcshell.so.debug"));
    // What Fluent Bit looks up is still there.
    let dynsyms = run(Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(&plugin));
    assert!(dynsyms.contains(" filter_svcshell_plugin"), "{dynsyms}");
    // The installed, stripped file loads with dlopen, as a host loads it, and every C function works from it.
    let host = dest.join("dlopen_test");
    run(Command::new("cc")
        .args(["-std=c99", "-I"])
        .arg(repo().join("include"))
        .arg(repo().join("tests/c/dlopen_test.c"))
        .args(["-ldl", "-pthread", "-o"])
        .arg(&host));
    let checks = run(Command::new(&host)
        .env_remove("LD_LIBRARY_PATH")
        .arg(&plugin));
    assert!(
        checks.lines().any(|l| l.ends_with("checks passed")),
        "{checks}"
    );
    std::fs::remove_file(&host).unwrap();

    run(Command::new("bash")
        .arg(repo().join("plugin-config/install.sh"))
        .arg("--uninstall")
        .arg(&d));
    assert!(!d.exists(), "the plugin directory is left");
    assert_eq!(files(&dest), Vec::<PathBuf>::new());
    std::fs::remove_dir_all(&dest).unwrap();
}
