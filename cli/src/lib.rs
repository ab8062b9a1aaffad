//! The tools of the `svcshell` command, kept out of the library it runs: the serde_json baseline
//! ([`baseline`]) and the mutation fuzzer ([`fuzz`]). The library's tests, its fuzz targets and the WASM and
//! VRL checks use them too.

pub mod baseline;
pub mod fuzz;
