//! The C ABI of svcshell: the only home of `extern "C"` in the crate.
//!
//! `include/svcshell.h` is the contract (hand-written, and compiled and exercised by the C programs in `tests/c/`,
//! which `tests/c_api.rs` builds and runs). Every function here mirrors one declaration there; the header comment
//! is the user documentation, the comments here say how the Rust side keeps the promises:
//!
//! - every exported function runs inside [`std::panic::catch_unwind`]; a panic becomes `SVCSHELL_PANIC` (or NULL),
//!   with the message stored as the handle's last error; the record passes unchanged. The `ffi_fn!` macro holds
//!   that boundary, the NULL-handle check and the export's name for all exports but `svcshell_filter_new` (which
//!   reports through `err`);
//! - NULL pointers and bad lengths are checked before any dereference and answered with
//!   `SVCSHELL_INVALID_ARGUMENT`;
//! - memory handed to the host comes from `malloc` ([`mem`]), so the host may `free()` it;
//! - a handle is `Send + Sync` ([`Filter`] is, and the last error sits behind a mutex), so one handle serves many
//!   threads at once.
//!
//! The API version ([`API_VERSION_MAJOR`], [`API_VERSION_MINOR`]) follows the header's compatibility rule: a host
//! built for `M.m` works with a library of the same major `M` and minor `>= m`. Exported structs start with a
//! `size` field and only grow at the end.

/// The Fluent Bit native plugin: its structs are the 64-bit Linux layouts, and WASM hosts load no native plugin.
#[cfg(not(target_family = "wasm"))]
pub mod fluentbit;
mod mem;

use std::any::Any;
use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;
use std::{ptr, slice};

use crate::{Action, Filter, RecordError};

/// The C API's major version: changes when a change would break a host built for an older major.
pub const API_VERSION_MAJOR: u32 = 1;
/// The C API's minor version: grows when functions or trailing struct fields are added.
pub const API_VERSION_MINOR: u32 = 0;
/// The C API's patch version: fixes without interface change.
pub const API_VERSION_PATCH: u32 = 0;
/// `MAJOR.MINOR.PATCH`, NUL-terminated (a unit test keeps it equal to the three numbers; they stay plain
/// constants, outside any macro, so that `tests/header_abi.rs` compares them with the header's).
const API_VERSION_CSTR: &[u8] = b"1.0.0\0";
/// The crate version, NUL-terminated.
const LIBRARY_VERSION_CSTR: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// Verdict: emit the input record unchanged.
pub const SVCSHELL_PASS: c_int = 0;
/// Verdict: emit the output buffer (the record with the alert fields) instead of the input.
pub const SVCSHELL_ALERT: c_int = 1;
/// Verdict: emit nothing (alerts_only mode).
pub const SVCSHELL_DROP: c_int = 2;
/// Verdict: the record could not be read; emit it unchanged; the reason is the handle's last error.
pub const SVCSHELL_ERROR: c_int = 3;
/// Result of calls that return no verdict: success.
pub const SVCSHELL_OK: c_int = 0;
/// An argument is NULL, too long, or otherwise unusable; nothing was done.
pub const SVCSHELL_INVALID_ARGUMENT: c_int = -1;
/// svcshell hit an internal error (a Rust panic, caught at the boundary); the record passes unchanged.
pub const SVCSHELL_PANIC: c_int = -2;
/// `malloc` failed for the output.
pub const SVCSHELL_OUT_OF_MEMORY: c_int = -3;

/// `svcshell_stats`: the handle's counters since creation. Starts with `size`; later minors append fields.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CStats {
    /// In: `sizeof` the caller's struct. Out: the bytes written.
    pub size: u64,
    pub records: u64,
    pub bytes: u64,
    pub alerts: u64,
    pub suppressed: u64,
    pub excepted: u64,
    pub errors: u64,
    pub dropped: u64,
}

/// `svcshell_batch_counts`: what one `svcshell_filter_process_ndjson` call did. Starts with `size`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CBatchCounts {
    /// In: `sizeof` the caller's struct. Out: the bytes written.
    pub size: u64,
    pub records: u64,
    pub alerts: u64,
    pub dropped: u64,
    pub errors: u64,
}

/// A `#[repr(C)]` struct whose first field is its `size: u64`.
///
/// # Safety
/// Implement only for `#[repr(C)]` structs that start with a `u64` size field.
unsafe trait SizePrefixed: Copy {}
// SAFETY: `CStats` is repr(C) and starts with `size: u64`.
unsafe impl SizePrefixed for CStats {}
// SAFETY: `CBatchCounts` is repr(C) and starts with `size: u64`.
unsafe impl SizePrefixed for CBatchCounts {}

/// The size of `svcshell_stats` in API 1.0: the least a caller may pass.
const STATS_SIZE_V1_0: u64 = 64;
/// The size of `svcshell_batch_counts` in API 1.0.
const BATCH_COUNTS_SIZE_V1_0: u64 = 40;
const _: () = assert!(std::mem::size_of::<CStats>() as u64 == STATS_SIZE_V1_0);
const _: () = assert!(std::mem::size_of::<CBatchCounts>() as u64 == BATCH_COUNTS_SIZE_V1_0);

/// `svcshell_filter`: what a host holds. Opaque to C.
pub struct FilterHandle {
    filter: Filter,
    /// The most recent error reported on this handle, by any thread.
    last_error: Mutex<Option<CString>>,
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<FilterHandle>();
};

impl FilterHandle {
    fn set_error(&self, msg: impl Display) {
        let text = msg.to_string().replace('\0', " ");
        let c = CString::new(text).unwrap_or_default();
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
    }

    /// Records an argument error and returns `SVCSHELL_INVALID_ARGUMENT`.
    fn invalid(&self, func: &str, what: impl Display) -> c_int {
        self.set_error(format_args!("{func}: {what}"));
        SVCSHELL_INVALID_ARGUMENT
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f` inside a panic boundary; `Err` holds the panic message.
fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let msg = panic_message(&*payload);
        // Dropping a panic payload can itself panic (a payload with a panicking Drop); keep that inside too.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
        msg
    })
}

/// The panic boundary: runs `f`; on a panic records the message on `handle` (when there is one) and returns
/// `on_panic`.
fn boundary<R>(handle: Option<&FilterHandle>, func: &str, on_panic: R, f: impl FnOnce() -> R) -> R {
    catch(f).unwrap_or_else(|msg| {
        if let Some(h) = handle {
            let _ = catch(|| h.set_error(format_args!("{func}: internal error (panic): {msg}")));
        }
        on_panic
    })
}

/// Borrows `len` bytes at `p` (NULL allowed when `len` is 0).
///
/// # Safety
/// When `len > 0`, `p` must be valid for reads of `len` bytes for `'a`. The caller has checked `p` is not NULL
/// when `len > 0` and `len <= isize::MAX`.
unsafe fn bytes<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: per this function's contract: non-NULL, readable for `len` bytes, `len <= isize::MAX`.
        unsafe { slice::from_raw_parts(p, len) }
    }
}

/// Writes `src` into the caller's size-prefixed struct at `dst`: as many bytes as both versions know, with `size`
/// set to that count. `Err` names the problem when the caller's `size` is below the 1.0 size.
///
/// # Safety
/// `dst` must be non-NULL and point to a writable struct whose first 8 bytes hold its size in bytes, and which is
/// at least that many bytes long.
unsafe fn write_sized<T: SizePrefixed>(
    dst: *mut T,
    mut src: T,
    min: u64,
    type_name: &str,
) -> Result<(), String> {
    // SAFETY: per the contract `dst` is non-NULL and starts with a readable u64; read unaligned to ask nothing of
    // the caller's alignment.
    let host_size = unsafe { ptr::read_unaligned(dst as *const u64) };
    if host_size < min {
        return Err(format!(
            "{type_name}.size is {host_size}; set it to sizeof({type_name}) (at least {min}) before the call, \
             e.g. with {}_INIT",
            type_name.to_ascii_uppercase()
        ));
    }
    let n = host_size.min(std::mem::size_of::<T>() as u64);
    // SAFETY: `T: SizePrefixed` starts with its u64 `size` field.
    unsafe { ptr::write_unaligned(&mut src as *mut T as *mut u64, n) };
    // SAFETY: `n` is at most size_of::<T>() (readable from `src`) and at most the caller's size (writable at `dst`
    // per the contract); a local and the caller's memory do not overlap.
    unsafe { ptr::copy_nonoverlapping(&src as *const T as *const u8, dst as *mut u8, n as usize) };
    Ok(())
}

/// The name of the function it is used in (the last segment of its path).
macro_rules! fn_name {
    () => {{
        fn f() {}
        let path = std::any::type_name_of_val(&f);
        let path = path.strip_suffix("::f").unwrap_or(path);
        path.rsplit("::").next().unwrap_or(path)
    }};
}

/// The body of one export: runs it inside the panic boundary ([`boundary`]), which answers a panic with
/// `on_panic`, and binds `name` to the export's own name (from its signature, so it is written once), which
/// errors and the panic message carry.
///
/// With `handle filter => h`, `filter` is the export's `*const FilterHandle` parameter: a NULL handle returns
/// `on_null` before anything else (no dereference, no message: there is no handle to hold one); otherwise the
/// body sees the handle as `h: &FilterHandle`, and a panic's message becomes the handle's last error.
///
/// The signature stays plain Rust outside the macro, where `tests/header_abi.rs` (cbindgen) reads it.
macro_rules! ffi_fn {
    (handle $ptr:ident => $h:ident, on_null: $on_null:expr, on_panic: $on_panic:expr, |$name:ident| $body:block $(,)?) => {{
        let $name: &'static str = fn_name!();
        // SAFETY: the handle is NULL or a live handle from svcshell_filter_new, not yet freed (contract).
        let Some($h) = (unsafe { $ptr.as_ref() }) else {
            return $on_null;
        };
        boundary(Some($h), $name, $on_panic, || $body)
    }};
    (on_panic: $on_panic:expr, $body:block) => {
        boundary(None, fn_name!(), $on_panic, || $body)
    };
}

/// The API version as a static NUL-terminated string, `"MAJOR.MINOR.PATCH"`.
#[no_mangle]
pub extern "C" fn svcshell_api_version() -> *const c_char {
    ffi_fn!(on_panic: ptr::null(), {
        API_VERSION_CSTR.as_ptr() as *const c_char
    })
}

/// The API major version.
#[no_mangle]
pub extern "C" fn svcshell_api_version_major() -> u32 {
    ffi_fn!(on_panic: API_VERSION_MAJOR, { API_VERSION_MAJOR })
}

/// The API minor version.
#[no_mangle]
pub extern "C" fn svcshell_api_version_minor() -> u32 {
    ffi_fn!(on_panic: API_VERSION_MINOR, { API_VERSION_MINOR })
}

/// The library (crate) version as a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn svcshell_version() -> *const c_char {
    ffi_fn!(on_panic: ptr::null(), {
        LIBRARY_VERSION_CSTR.as_ptr() as *const c_char
    })
}

/// A static NUL-terminated description of a verdict or result code.
#[no_mangle]
pub extern "C" fn svcshell_code_text(code: c_int) -> *const c_char {
    ffi_fn!(on_panic: ptr::null(), {
        let s: &'static [u8] = match code {
            SVCSHELL_PASS => b"pass: emit the record unchanged (also: ok)\0",
            SVCSHELL_ALERT => b"alert: emit the output buffer instead of the record\0",
            SVCSHELL_DROP => b"drop: emit nothing\0",
            SVCSHELL_ERROR => b"error: the record could not be read; emit it unchanged\0",
            SVCSHELL_INVALID_ARGUMENT => b"invalid argument\0",
            SVCSHELL_PANIC => b"internal error (panic caught at the C boundary)\0",
            SVCSHELL_OUT_OF_MEMORY => b"out of memory\0",
            _ => b"unknown code\0",
        };
        s.as_ptr() as *const c_char
    })
}

/// Reads property `i` of `keys`/`values`.
///
/// # Safety
/// `arr` is non-NULL with at least `i + 1` readable pointers; each non-NULL one points to a NUL-terminated string.
unsafe fn property<'a>(arr: *const *const c_char, i: usize, name: &str) -> Result<&'a str, String> {
    // SAFETY: `i` is below the caller-promised array length.
    let p = unsafe { *arr.add(i) };
    if p.is_null() {
        return Err(format!("{name}[{i}] is NULL"));
    }
    // SAFETY: a non-NULL entry is a NUL-terminated string (header contract), alive for the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map_err(|_| format!("{name}[{i}] is not valid UTF-8"))
}

/// Creates a filter from `count` key/value properties.
///
/// # Safety
/// When `count > 0`, `keys` and `values` point to `count` pointers each, every one NULL or a NUL-terminated string;
/// `err` is NULL or writable. See `svcshell_filter_new` in `include/svcshell.h`.
#[no_mangle]
pub unsafe extern "C" fn svcshell_filter_new(
    keys: *const *const c_char,
    values: *const *const c_char,
    count: usize,
    err: *mut *mut c_char,
) -> *mut FilterHandle {
    if !err.is_null() {
        // SAFETY: `err` is non-NULL and writable (contract).
        unsafe { *err = ptr::null_mut() };
    }
    let r = catch(|| {
        if count > 0 && keys.is_null() {
            return Err(format!("keys is NULL but count is {count}"));
        }
        if count > 0 && values.is_null() {
            return Err(format!("values is NULL but count is {count}"));
        }
        let mut props = Vec::with_capacity(count);
        for i in 0..count {
            // SAFETY: `keys`/`values` are non-NULL (checked) and hold `count` entries (contract).
            let k = unsafe { property(keys, i, "keys") }?;
            // SAFETY: as above.
            let v = unsafe { property(values, i, "values") }?;
            props.push((k, v));
        }
        let filter = Filter::from_properties(&props).map_err(|e| e.to_string())?;
        Ok(Box::into_raw(Box::new(FilterHandle {
            filter,
            last_error: Mutex::new(None),
        })))
    });
    let msg = match r {
        Ok(Ok(h)) => return h,
        Ok(Err(m)) => m,
        Err(panic) => format!("{}: internal error (panic): {panic}", fn_name!()),
    };
    if !err.is_null() {
        let s = catch(|| mem::malloc_cstring(&msg)).unwrap_or(ptr::null_mut());
        // SAFETY: `err` is non-NULL and writable (contract).
        unsafe { *err = s };
    }
    ptr::null_mut()
}

/// Checks the pointers shared by the two process calls; `Some(code)` when one is unusable.
fn check_io(
    h: &FilterHandle,
    func: &str,
    (input, input_name): (*const u8, &str),
    len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> Option<c_int> {
    if out.is_null() {
        return Some(h.invalid(func, "out is NULL"));
    }
    if out_len.is_null() {
        return Some(h.invalid(func, "out_len is NULL"));
    }
    if input.is_null() && len > 0 {
        return Some(h.invalid(func, format_args!("{input_name} is NULL but len is {len}")));
    }
    if len > isize::MAX as usize {
        return Some(h.invalid(func, format_args!("len {len} is larger than isize::MAX")));
    }
    None
}

/// Processes one JSON record.
///
/// # Safety
/// The handle is NULL or a live one; `record` is readable for `len` bytes (or NULL with `len == 0`); `out` and
/// `out_len` are NULL or writable. See `svcshell_filter_process` in `include/svcshell.h`.
#[no_mangle]
pub unsafe extern "C" fn svcshell_filter_process(
    filter: *const FilterHandle,
    record: *const u8,
    len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    ffi_fn!(
        handle filter => h,
        on_null: SVCSHELL_INVALID_ARGUMENT,
        on_panic: SVCSHELL_PANIC,
        |name| {
            if let Some(code) = check_io(h, name, (record, "record"), len, out, out_len) {
                return code;
            }
            // SAFETY: `record` is non-NULL when `len > 0` and `len <= isize::MAX` (checked); readable (contract).
            let input = unsafe { bytes(record, len) };
            let outcome = h.filter.process(input);
            if let Some(e) = &outcome.error {
                h.set_error(e);
            }
            match outcome.action {
                Action::Pass if outcome.error.is_some() => SVCSHELL_ERROR,
                Action::Pass => SVCSHELL_PASS,
                Action::Drop => SVCSHELL_DROP,
                Action::Alert(bytes) => match mem::malloc_copy(&bytes) {
                    Some(p) => {
                        // SAFETY: `out` and `out_len` are non-NULL (checked) and writable (contract).
                        unsafe {
                            *out = p;
                            *out_len = bytes.len();
                        }
                        SVCSHELL_ALERT
                    }
                    None => {
                        h.set_error(format_args!(
                            "{name}: out of memory for a {} byte alert",
                            bytes.len()
                        ));
                        SVCSHELL_OUT_OF_MEMORY
                    }
                },
            }
        },
    )
}

/// Processes an NDJSON buffer: one JSON record per line.
///
/// # Safety
/// The handle is NULL or a live one; `buf` is readable for `len` bytes (or NULL with `len == 0`); `out`, `out_len`
/// are NULL or writable; `counts` is NULL or a writable size-prefixed struct. See
/// `svcshell_filter_process_ndjson` in `include/svcshell.h`.
#[no_mangle]
pub unsafe extern "C" fn svcshell_filter_process_ndjson(
    filter: *const FilterHandle,
    buf: *const u8,
    len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
    counts: *mut CBatchCounts,
) -> c_int {
    ffi_fn!(
        handle filter => h,
        on_null: SVCSHELL_INVALID_ARGUMENT,
        on_panic: SVCSHELL_PANIC,
        |name| {
            if let Some(code) = check_io(h, name, (buf, "buf"), len, out, out_len) {
                return code;
            }
            if !counts.is_null() {
                // SAFETY: non-NULL; a size-prefixed struct (contract). Reading `size` early rejects a bad one before
                // any record is counted.
                let size = unsafe { ptr::read_unaligned(counts as *const u64) };
                if size < BATCH_COUNTS_SIZE_V1_0 {
                    return h.invalid(
                        name,
                        format_args!(
                            "svcshell_batch_counts.size is {size}; set it to sizeof(svcshell_batch_counts) \
                             (SVCSHELL_BATCH_COUNTS_INIT)"
                        ),
                    );
                }
            }
            // SAFETY: `buf` is non-NULL when `len > 0` and `len <= isize::MAX` (checked); readable (contract).
            let input = unsafe { bytes(buf, len) };
            let oom = |h: &FilterHandle| {
                h.set_error(format_args!("{name}: out of memory for the output buffer"));
                SVCSHELL_OUT_OF_MEMORY
            };
            let Ok(mut output) = mem::MallocBuf::with_capacity(len.saturating_add(1)) else {
                return oom(h);
            };
            let mut c = CBatchCounts::default();
            let mut last: Option<(u64, RecordError)> = None;
            for (line_no, line) in crate::record::ndjson::records(input) {
                c.records += 1;
                let outcome = h.filter.process(line);
                if let Some(e) = outcome.error {
                    c.errors += 1;
                    last = Some((line_no, e));
                }
                let written = match outcome.action {
                    Action::Pass => output.extend_line(line),
                    Action::Alert(bytes) => {
                        c.alerts += 1;
                        output.extend_line(&bytes)
                    }
                    Action::Drop => {
                        c.dropped += 1;
                        Ok(())
                    }
                };
                if written.is_err() {
                    return oom(h);
                }
            }
            if let Some((n, e)) = last {
                match c.errors {
                    1 => h.set_error(format_args!("line {n}: {e}")),
                    k => h.set_error(format_args!(
                        "line {n}: {e} (the last of {k} bad records in the buffer)"
                    )),
                }
            }
            if !counts.is_null() {
                const NAME: &str = "svcshell_batch_counts";
                // SAFETY: non-NULL, size-prefixed, and its size was checked above (contract).
                let written = unsafe { write_sized(counts, c, BATCH_COUNTS_SIZE_V1_0, NAME) };
                if let Err(m) = written {
                    return h.invalid(name, m);
                }
            }
            let (p, n) = output.into_raw();
            // SAFETY: `out` and `out_len` are non-NULL (checked) and writable (contract).
            unsafe {
                *out = p;
                *out_len = n;
            }
            SVCSHELL_OK
        },
    )
}

/// Copies the handle's counters into `stats`.
///
/// # Safety
/// The handle is NULL or a live one; `stats` is NULL or a writable size-prefixed `svcshell_stats`.
#[no_mangle]
pub unsafe extern "C" fn svcshell_filter_stats(
    filter: *const FilterHandle,
    stats: *mut CStats,
) -> c_int {
    ffi_fn!(
        handle filter => h,
        on_null: SVCSHELL_INVALID_ARGUMENT,
        on_panic: SVCSHELL_PANIC,
        |name| {
            if stats.is_null() {
                return h.invalid(name, "stats is NULL");
            }
            let s = h.filter.stats();
            let c = CStats {
                size: 0,
                records: s.records,
                bytes: s.bytes,
                alerts: s.alerts,
                suppressed: s.suppressed,
                excepted: s.excepted,
                errors: s.errors,
                dropped: s.dropped,
            };
            // SAFETY: `stats` is non-NULL (checked) and a writable size-prefixed struct (contract).
            match unsafe { write_sized(stats, c, STATS_SIZE_V1_0, "svcshell_stats") } {
                Ok(()) => SVCSHELL_OK,
                Err(m) => h.invalid(name, m),
            }
        },
    )
}

/// Copies the handle's last error message into `buf` (snprintf-style); returns its full length.
///
/// # Safety
/// The handle is NULL or a live one; `buf` is NULL or writable for `buflen` bytes.
#[no_mangle]
pub unsafe extern "C" fn svcshell_filter_last_error(
    filter: *const FilterHandle,
    buf: *mut c_char,
    buflen: usize,
) -> usize {
    ffi_fn!(
        handle filter => h,
        on_null: {
            if !buf.is_null() && buflen > 0 {
                // SAFETY: `buf` is non-NULL and writable for `buflen >= 1` bytes (contract).
                unsafe { *buf = 0 };
            }
            0
        },
        on_panic: 0,
        |name| {
            let guard = h.last_error.lock().unwrap_or_else(|p| p.into_inner());
            let msg: &[u8] = guard.as_deref().map_or(&[], CStr::to_bytes);
            if !buf.is_null() && buflen > 0 {
                // Truncate at a UTF-8 character boundary so the copy is valid UTF-8.
                let mut n = msg.len().min(buflen - 1);
                while n > 0 && n < msg.len() && (msg[n] & 0xC0) == 0x80 {
                    n -= 1;
                }
                // SAFETY: `buf` is writable for `buflen` bytes (contract) and `n + 1 <= buflen`; the message is this
                // handle's own allocation, which the caller's buffer cannot overlap.
                unsafe {
                    ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            msg.len()
        },
    )
}

/// Destroys a handle.
///
/// # Safety
/// `filter` is NULL or a live handle that no other thread is using, and is not used again.
#[no_mangle]
pub unsafe extern "C" fn svcshell_filter_free(filter: *mut FilterHandle) {
    ffi_fn!(on_panic: (), {
        if !filter.is_null() {
            // SAFETY: a live handle made by Box::into_raw in svcshell_filter_new, freed once (contract).
            drop(unsafe { Box::from_raw(filter) });
        }
    })
}

/// Releases an output buffer (same as `free()`).
///
/// # Safety
/// `buf` is NULL or a buffer returned by svcshell and not yet released.
#[no_mangle]
pub unsafe extern "C" fn svcshell_buffer_free(buf: *mut u8) {
    ffi_fn!(on_panic: (), {
        // SAFETY: NULL or a block from malloc/realloc, released once (contract).
        unsafe { libc::free(buf as *mut libc::c_void) }
    })
}

/// Releases an error string from `svcshell_filter_new` (same as `free()`).
///
/// # Safety
/// `s` is NULL or a string returned by svcshell and not yet released.
#[no_mangle]
pub unsafe extern "C" fn svcshell_string_free(s: *mut c_char) {
    ffi_fn!(on_panic: (), {
        // SAFETY: NULL or a block from malloc, released once (contract).
        unsafe { libc::free(s as *mut libc::c_void) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATCH: &[u8] = br#"{"@timestamp":"2024-05-01T12:00:00Z","event":{"category":["process"],"type":["start"],"kind":"event"},"host":{"os":{"type":"windows"}},"process":{"name":"cmd.exe","args":["cmd.exe","/c","whoami"],"parent":{"name":"services.exe"}}}"#;

    fn new(props: &[(&str, &str)]) -> *mut FilterHandle {
        let keys: Vec<CString> = props.iter().map(|p| CString::new(p.0).unwrap()).collect();
        let vals: Vec<CString> = props.iter().map(|p| CString::new(p.1).unwrap()).collect();
        let kp: Vec<*const c_char> = keys.iter().map(|k| k.as_ptr()).collect();
        let vp: Vec<*const c_char> = vals.iter().map(|v| v.as_ptr()).collect();
        let mut err = ptr::null_mut();
        // SAFETY: arrays of `props.len()` live C strings; `err` is a local.
        let h = unsafe { svcshell_filter_new(kp.as_ptr(), vp.as_ptr(), props.len(), &mut err) };
        assert!(err.is_null());
        h
    }

    fn last_error(h: *const FilterHandle) -> String {
        let mut buf = [0 as c_char; 256];
        // SAFETY: a live handle and a local buffer of 256 bytes.
        unsafe { svcshell_filter_last_error(h, buf.as_mut_ptr(), buf.len()) };
        // SAFETY: the call NUL-terminated `buf`.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn version_string_matches_numbers() {
        let v = format!("{API_VERSION_MAJOR}.{API_VERSION_MINOR}.{API_VERSION_PATCH}\0");
        assert_eq!(v.as_bytes(), API_VERSION_CSTR);
        // SAFETY: a static NUL-terminated string.
        let lib = unsafe { CStr::from_ptr(svcshell_version()) };
        assert_eq!(lib.to_str().unwrap(), crate::VERSION);
    }

    /// An export for the test below: panics when `x` is positive.
    ///
    /// # Safety
    /// The handle is NULL or a live one.
    #[no_mangle]
    pub unsafe extern "C" fn ffi_test_export(filter: *const FilterHandle, x: c_int) -> c_int {
        ffi_fn!(
            handle filter => h,
            on_null: -100,
            on_panic: SVCSHELL_PANIC,
            |name| {
                if x > 0 {
                    panic!("boom {x} in {name}");
                }
                let _ = h.filter.stats();
                x
            },
        )
    }

    /// `ffi_fn!` answers a NULL handle before the body, and a panic with its panic value and a message that
    /// names the export.
    #[test]
    fn ffi_fn_checks_the_handle_and_catches_panics() {
        // SAFETY: a NULL handle is allowed.
        assert_eq!(unsafe { ffi_test_export(ptr::null(), 1) }, -100);
        let h = new(&[]);
        // SAFETY: `h` is live until the free below.
        assert_eq!(unsafe { ffi_test_export(h, -5) }, -5);
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        // SAFETY: as above.
        let code = unsafe { ffi_test_export(h, 1) };
        std::panic::set_hook(prev);
        assert_eq!(code, SVCSHELL_PANIC);
        assert_eq!(
            last_error(h),
            "ffi_test_export: internal error (panic): boom 1 in ffi_test_export"
        );
        // SAFETY: `h` came from svcshell_filter_new and is freed once.
        unsafe { svcshell_filter_free(h) };
    }

    #[test]
    fn panics_stop_at_the_boundary() {
        let h = new(&[]);
        // SAFETY: `h` is live until the free below.
        let hr = unsafe { &*h };
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let code = boundary(Some(hr), "test_fn", SVCSHELL_PANIC, || -> c_int {
            panic!("boom {}", 42)
        });
        let code2 = boundary(Some(hr), "test_fn2", SVCSHELL_PANIC, || -> c_int {
            std::panic::panic_any(7u8)
        });
        std::panic::set_hook(prev);
        assert_eq!(code, SVCSHELL_PANIC);
        assert_eq!(code2, SVCSHELL_PANIC);
        assert_eq!(
            last_error(h),
            "test_fn2: internal error (panic): unknown panic"
        );
        // SAFETY: `h` came from svcshell_filter_new and is freed once.
        unsafe { svcshell_filter_free(h) };
    }

    #[test]
    fn stats_size_is_checked_and_truncated() {
        let h = new(&[("max_alerts", "0")]);
        let mut out = ptr::null_mut();
        let mut n = 0;
        // SAFETY: live handle, a static record, local out-parameters.
        let v =
            unsafe { svcshell_filter_process(h, MATCH.as_ptr(), MATCH.len(), &mut out, &mut n) };
        assert_eq!(v, SVCSHELL_ALERT);
        // SAFETY: the alert buffer from the call above, released once.
        unsafe { svcshell_buffer_free(out) };
        let mut s = CStats::default();
        // SAFETY: live handle, local struct.
        let r = unsafe { svcshell_filter_stats(h, &mut s) };
        assert_eq!(r, SVCSHELL_INVALID_ARGUMENT);
        assert!(
            last_error(h).contains("svcshell_stats.size is 0"),
            "{}",
            last_error(h)
        );
        s.size = 1000; // a newer host's bigger struct: only the known bytes are written
                       // SAFETY: live handle, local struct (the library writes at most size_of::<CStats>() bytes).
        assert_eq!(unsafe { svcshell_filter_stats(h, &mut s) }, SVCSHELL_OK);
        assert_eq!((s.size, s.records, s.alerts), (64, 1, 1));
        // SAFETY: `h` came from svcshell_filter_new and is freed once.
        unsafe { svcshell_filter_free(h) };
    }

    #[test]
    fn last_error_truncates_on_char_boundary() {
        let h = new(&[]);
        // SAFETY: `h` is live until the free below.
        unsafe { &*h }.set_error("ab\u{e9}cd");
        let mut buf = [0x7f as c_char; 4];
        // SAFETY: live handle, local buffer of 4 bytes.
        let n = unsafe { svcshell_filter_last_error(h, buf.as_mut_ptr(), 4) };
        assert_eq!(n, 6);
        // "ab" + half of "é" would not be UTF-8: the copy stops before it.
        // `c_char` is `i8` on x86-64 and `u8` on aarch64: its byte either way.
        assert_eq!(
            buf[..3]
                .iter()
                .map(|c| c.to_ne_bytes()[0])
                .collect::<Vec<_>>(),
            b"ab\0"
        );
        // SAFETY: `h` came from svcshell_filter_new and is freed once.
        unsafe { svcshell_filter_free(h) };
    }

    #[test]
    fn rule_file_is_a_property_like_the_others() {
        let latest = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/rules/persistence_system_shells_via_services.latest.toml"
        );
        let h = new(&[("rule_file", latest)]);
        assert!(!h.is_null());
        let (mut out, mut out_len) = (ptr::null_mut(), 0usize);
        // SAFETY: a live handle, a record of MATCH.len() bytes, two locals for the output.
        let r = unsafe {
            svcshell_filter_process(h, MATCH.as_ptr(), MATCH.len(), &mut out, &mut out_len)
        };
        assert_eq!(r, SVCSHELL_ALERT);
        // SAFETY: an alert's buffer holds `out_len` bytes until it is freed below.
        let alert = unsafe { std::slice::from_raw_parts(out, out_len) }.to_vec();
        // SAFETY: the buffer and the handle came from svcshell and are freed once.
        unsafe {
            svcshell_buffer_free(out);
            svcshell_filter_free(h);
        }
        assert!(String::from_utf8_lossy(&alert).contains("T1569.002"));
        // A refused file: NULL, and the message names the key and the file.
        let (k, v) = (c"rule_file", c"/nonexistent/rule.toml");
        let mut err = ptr::null_mut();
        // SAFETY: arrays of one live C string each; `err` is a local.
        let h = unsafe { svcshell_filter_new(&k.as_ptr(), &v.as_ptr(), 1, &mut err) };
        assert!(h.is_null() && !err.is_null());
        // SAFETY: a NUL-terminated message from svcshell, freed once below.
        let msg = unsafe { CStr::from_ptr(err) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: as above.
        unsafe { svcshell_string_free(err) };
        assert!(
            msg.starts_with("rule_file: /nonexistent/rule.toml: cannot read"),
            "{msg}"
        );
    }
}
