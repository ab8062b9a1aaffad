//! svcshell as a Fluent Bit WASM filter: `svcshell.wasm` (target `wasm32-wasip1`) exports `svcshell_filter`,
//! the function Fluent Bit's `filter_wasm` calls once per record with `Event_Format json`
//! (`docs/wasm.md` has the setup).
//!
//! The host's contract (`filter_wasm.c`, `flb_wasm.c`, every line from 2.2 to 5.1):
//! - it calls `svcshell_filter(tag, tag_len, time_sec, time_nsec, record, record_len)` with the tag and the record
//!   body as JSON text, each copied into this module's memory (through the exported `malloc`) with a NUL after
//!   it, and frees both after the call;
//! - the result is a pointer to a NUL-terminated JSON object, which the host copies (`strdup`) and re-encodes as
//!   the record's new body; an empty string drops the record; the host never frees the result.
//!
//! So a record that is not an alert is answered with the host's own copy of it (no copy here), an alert with the
//! record plus svcshell's alert fields (held in one buffer here until the next call), and a dropped record
//! (`mode = alerts_only`) with an empty string. (So an empty record could only be dropped; Fluent Bit never
//! hands one over: an empty body is written `{}`.) The verdicts and alert fields are the library's
//! ([`svcshell::Filter::process_at`], the alert cap keyed on the event time as in the native plugin).
//!
//! Settings: `filter_wasm` passes a module no properties, so the module reads `svcshell.conf`
//! ([`svcshell::settings`]) from the first of the filter's `Accessible_Paths` holding one; without one it runs
//! the defaults. The file is read when the host instantiates the module (its `_initialize`, which the host
//! runs): an invalid file is reported on standard error and the instantiation traps, so the host refuses the
//! module — Fluent Bit 4.0 and newer then refuse to start; 2.2 and 3.x instantiate per chunk and pass the
//! chunk unchanged.

use std::sync::{Mutex, OnceLock};

use svcshell::{Action, Filter};

/// What the module answers for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The record unchanged: the host's own copy is returned.
    Same,
    /// The record with the alert fields.
    Alert(Vec<u8>),
    /// No record (`mode = alerts_only` and not an alert).
    Drop,
}

/// The answer for one record body (JSON text) at event time `time_sec`. `None` as the filter means the
/// settings were refused: every record passes unchanged.
pub fn reply(filter: Option<&Filter>, record: &[u8], time_sec: u32) -> Reply {
    let Some(f) = filter else {
        return Reply::Same;
    };
    match f.process_at(record, i64::from(time_sec)).action {
        Action::Pass => Reply::Same,
        // The host reads the answer up to its first NUL: the alert holds none, since the record held none (the
        // host measured it with strlen) and svcshell's JSON escapes control characters.
        Action::Alert(out) => Reply::Alert(out),
        Action::Drop => Reply::Drop,
    }
}

/// The filter this instance runs: `None` when its settings were refused.
static FILTER: OnceLock<Option<Filter>> = OnceLock::new();

/// The last alert returned, NUL-terminated: the host copies it before the next call.
static OUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// An empty string: the answer that drops a record.
static EMPTY: [u8; 1] = [0];

fn filter() -> Option<&'static Filter> {
    FILTER.get_or_init(load).as_ref()
}

/// Builds the filter from the settings file, or the defaults; reports problems on standard error (Fluent Bit
/// shows the module's standard error in its own).
fn load() -> Option<Filter> {
    let loaded = match settings_file() {
        None => Filter::new(svcshell::Config::default()).map_err(|e| e.to_string()),
        Some(path) => svcshell::settings::load(&path),
    };
    match loaded {
        Ok(f) => {
            for w in f.warnings() {
                eprintln!("[svcshell] warning: {w}");
            }
            Some(f)
        }
        Err(e) => {
            eprintln!("[svcshell] error: {e}; the settings are refused");
            None
        }
    }
}

/// `svcshell.conf` in the first directory the host made accessible that holds one.
#[cfg(target_family = "wasm")]
fn settings_file() -> Option<std::path::PathBuf> {
    preopened_dirs()
        .into_iter()
        .map(|d| std::path::Path::new(&d).join(svcshell::settings::FILE_NAME))
        .find(|p| p.is_file())
}

#[cfg(not(target_family = "wasm"))]
fn settings_file() -> Option<std::path::PathBuf> {
    None
}

/// The directories the host preopened (Fluent Bit's `Accessible_Paths`), in order: WASI numbers them from
/// descriptor 3 up, without gaps.
#[cfg(target_family = "wasm")]
fn preopened_dirs() -> Vec<String> {
    let mut dirs = Vec::new();
    for fd in 3u32.. {
        // SAFETY: `fd_prestat_get` only writes the returned struct; an fd that is not a preopen is an error.
        let Ok(stat) = (unsafe { wasi::fd_prestat_get(fd) }) else {
            break;
        };
        if stat.tag != wasi::PREOPENTYPE_DIR.raw() {
            continue;
        }
        // SAFETY: the tag says `u` holds the directory variant.
        let len = unsafe { stat.u.dir.pr_name_len };
        let mut name = vec![0u8; len];
        // SAFETY: `name` has exactly the `len` bytes the call writes.
        if unsafe { wasi::fd_prestat_dir_name(fd, name.as_mut_ptr(), len) }.is_err() {
            continue;
        }
        // A runtime may count the NUL in the length.
        while name.last() == Some(&0) {
            name.pop();
        }
        if let Ok(n) = String::from_utf8(name) {
            dirs.push(n);
        }
    }
    dirs
}

/// The WASI reactor's start-up, which the host runs once per instance before any call: runs the C library's
/// constructors and reads the settings, trapping (so the host refuses the module) when they are invalid.
#[cfg(target_family = "wasm")]
#[unsafe(no_mangle)]
pub extern "C" fn _initialize() {
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: the linker's constructor list, run once as a reactor's `_initialize` must (the host calls it once,
    // before anything else).
    unsafe { __wasm_call_ctors() };
    if filter().is_none() {
        std::process::abort();
    }
}

/// Fluent Bit's `filter_wasm` entry point (`Function_Name svcshell_filter`, `Event_Format json`); see the
/// module documentation for the contract.
///
/// # Safety
/// `record` points to `record_len` bytes followed by a NUL, in this module's memory (or is null); the tag is
/// not read.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn svcshell_filter(
    _tag: *const u8,
    _tag_len: u32,
    time_sec: u32,
    _time_nsec: u32,
    record: *const u8,
    record_len: u32,
) -> *const u8 {
    if record.is_null() {
        // The host could not copy the record in (no memory left): nothing here can give it back.
        return EMPTY.as_ptr();
    }
    // SAFETY: the caller's contract: `record_len` readable bytes at `record`.
    let body = unsafe { std::slice::from_raw_parts(record, record_len as usize) };
    match reply(filter(), body, time_sec) {
        Reply::Same => record,
        Reply::Drop => EMPTY.as_ptr(),
        Reply::Alert(mut out) => {
            out.push(0);
            let mut held = OUT.lock().unwrap_or_else(|p| p.into_inner());
            *held = out;
            held.as_ptr()
        }
    }
}
