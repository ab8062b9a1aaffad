//! Build script: gives the C library (the cdylib) its soname, `libsvcshell.so.<API major>`, so programs linked
//! against it record the ABI they were built for and `make install` can install it as a versioned file with
//! symlinks. The major is the C API's (`svcshell::ffi::API_VERSION_MAJOR`); `tests/install.rs` checks they agree.

fn main() {
    // The C API's major version: bump it with `API_VERSION_MAJOR` in src/ffi/mod.rs.
    const API_MAJOR: u32 = 1;
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsvcshell.so.{API_MAJOR}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
