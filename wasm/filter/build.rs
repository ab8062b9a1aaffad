//! Exports the C library's `malloc` and `free` from `svcshell.wasm`: Fluent Bit's WASM runtime (WAMR) then copies
//! each record into memory from the module's own allocator instead of its fixed 8 KB app heap, so records of any
//! size fit (see `docs/wasm.md`).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("wasm") {
        println!("cargo:rustc-cdylib-link-arg=--export=malloc");
        println!("cargo:rustc-cdylib-link-arg=--export=free");
        println!("cargo:rustc-cdylib-link-arg=--compress-relocations");
        println!("cargo:rustc-cdylib-link-arg=--strip-debug");
    }
}
