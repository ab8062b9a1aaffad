//! Build script: gives the C library (the cdylib) its soname, `libsvcshell.so.<API major>`, so programs linked
//! against it record the ABI they were built for and `make install` can install it as a versioned file with
//! symlinks. The major is the C API's (`svcshell::ffi::API_VERSION_MAJOR`); `tests/install.rs` checks they agree.
//!
//! A program linked against the build directory (`-L target/release -lsvcshell`: the C tests, Valgrind, users
//! trying the library in place) then needs `libsvcshell.so.<major>` at run time, so the build directory gets that
//! name too: a symlink to `libsvcshell.so` beside it, in `target/<profile>/` and its `deps/`.

use std::path::{Path, PathBuf};

/// The C API's major version: bump it with `API_VERSION_MAJOR` in src/ffi/mod.rs.
const API_MAJOR: u32 = 1;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let soname = format!("libsvcshell.so.{API_MAJOR}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    // OUT_DIR is <target dir>/[<triple>/]<profile>/build/<package>-<hash>/out.
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    if let Some(profile) = out.ancestors().nth(3) {
        for dir in [profile.to_path_buf(), profile.join("deps")] {
            link(&dir, &soname);
        }
    }
}

/// `dir/soname` → `libsvcshell.so`, unless it is there already.
fn link(dir: &Path, soname: &str) {
    let at = dir.join(soname);
    if at.symlink_metadata().is_ok() || !dir.is_dir() {
        return;
    }
    if let Err(e) = std::os::unix::fs::symlink("libsvcshell.so", &at) {
        println!("cargo:warning=could not create {}: {e}", at.display());
    }
}
