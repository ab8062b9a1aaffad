//! The Fluent Bit native filter plugin for every Fluent Bit from 2.2 to 5.1: the data symbol
//! `filter_svcshell_plugin` that Fluent Bit `memcpy`s out of `flb-filter_svcshell.so` (a copy of this library, see
//! `plugin-config/install.sh`), its configuration maps and its callbacks. Configuration name: `svcshell`.
//!
//! How the plugin keeps the host's rules (checked against the source of every line and run in real builds):
//!
//! - Fluent Bit has no plugin ABI version and checks nothing: it copies `sizeof(struct flb_filter_plugin)` bytes
//!   (80 in 2.2 – 3.1, 88 from 3.2) and walks the configuration map with its own `sizeof(struct flb_config_map)`
//!   (96 before 5.0.3, 104 from 5.0.3). Both structs are declared here field for field, in each size, and pinned
//!   by `const` assertions.
//! - The plugin recognises its host when it is loaded: an ELF constructor ([`recognise_host_at_load`], in
//!   `.init_array`) runs inside the host's `dlopen`, before the host reads the symbol, probes the process with
//!   `dlsym(RTLD_DEFAULT, ...)` ([`recognise`]) and points `config_map` at the array of the host's entry size.
//!   The 88-byte struct with `cb_notification = NULL` serves both struct sizes (an 80-byte host copies 80 bytes and
//!   overwrites its own `_head`).
//! - A host it cannot vouch for (not a Fluent Bit, or one older than 2.2, whose struct has no `cb_pre_run`) gets no
//!   configuration map (so it reads none) and init callbacks in both slots (`cb_pre_run`, which is `cb_init` before
//!   2.2, and `cb_init`) that log one error line and fail: never a crash, never a half-read configuration.
//! - The host's instances (`struct flb_filter_instance`, `struct flb_input_instance`, `struct flb_config`) change
//!   with build options: they are never dereferenced, only handed back to host functions.
//! - Host functions (`flb_filter_get_property`, `flb_filter_set_context`, `flb_filter_name`, `flb_log_print`, all
//!   in every line from 2.2) are resolved at run time with `dlsym(RTLD_DEFAULT, ...)`, not linked: the same
//!   `libsvcshell.so` then still loads in any C host (the generic C API), and a host without them makes the start
//!   fail with a message instead of failing `dlopen`. The library imports nothing from the host, and never calls
//!   `flb_config_map_set` (3 arguments before 5.0.3, 4 after) nor reads the host's structs.
//! - Unknown properties: the configuration map lists every key, so Fluent Bit itself refuses to start on an unknown
//!   key (`unknown configuration property 'x'. The following properties are allowed: ...`) or on a key set twice.
//!   Values are then read key by key with `flb_filter_get_property` and checked by [`crate::Config`], with the same
//!   names and errors as everywhere else; a bad value makes `cb_init` fail (Fluent Bit refuses to start) after
//!   logging `[filter:svcshell:<instance>] invalid configuration: <key>: <why>`.
//! - Several exceptions: Fluent Bit's only interface to a filter's properties that does not read the instance's
//!   fields is `flb_filter_get_property`, which returns the *first* value of a key (`flb_filter_config_map_set` is a
//!   `static inline` that reads `ins->properties` and `ins->config_map`, whose offsets depend on build options).
//!   So a repeated `exception` cannot be read soundly: the map declares `exception` once (without
//!   `FLB_CONFIG_MAP_MULT`), which makes Fluent Bit reject a repeated `exception` at start-up, and declares the
//!   numbered keys `exception_1` .. `exception_16` for more conditions (or join conditions with `or`).
//! - Every callback runs inside `catch_unwind`: a panic in `cb_filter` keeps the chunk (`FLB_FILTER_NOTOUCH`), in
//!   `cb_init` it fails the start, in `cb_exit` the context is leaked rather than unwinding into C.
//! - `cb_filter` calls [`Filter::process_chunk`]; `NoTouch` allocates nothing; a modified chunk is copied into a
//!   `malloc`ed buffer, which Fluent Bit releases with `flb_free` (= `free`).

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::mem::{offset_of, size_of};
use std::ptr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::time::Instant;

use super::{catch, mem};
use crate::config::{Mode, PROPERTIES};
use crate::filter::ChunkResult;
use crate::Filter;

/// `FLB_FILTER_MODIFIED`: `*out_buf`/`*out_bytes` hold the new chunk.
pub const FLB_FILTER_MODIFIED: c_int = 1;
/// `FLB_FILTER_NOTOUCH`: keep the chunk as it is.
pub const FLB_FILTER_NOTOUCH: c_int = 2;
/// `FLB_FILTER_LOGS`: the event type of a log filter.
pub const FLB_FILTER_LOGS: c_int = 1;
/// `FLB_CONFIG_MAP_STR`: a string property.
pub const FLB_CONFIG_MAP_STR: c_int = 0;
/// `FLB_LOG_ERROR`, `FLB_LOG_WARN`, `FLB_LOG_INFO` (flb_log.h).
pub const FLB_LOG_ERROR: c_int = 1;
pub const FLB_LOG_WARN: c_int = 2;
pub const FLB_LOG_INFO: c_int = 3;

/// How many numbered exception keys (`exception_1` ..) the configuration map declares.
pub const NUMBERED_EXCEPTIONS: usize = crate::config::NUMBERED;

/// Opaque host types: only ever handled by pointer.
#[repr(C)]
pub struct FlbFilterInstance {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct FlbInputInstance {
    _opaque: [u8; 0],
}
#[repr(C)]
pub struct FlbConfig {
    _opaque: [u8; 0],
}

/// `struct mk_list` (monkey): `prev`, `next`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MkList {
    pub prev: *mut MkList,
    pub next: *mut MkList,
}

/// `cb_init` / `cb_pre_run` / `cb_notification`.
pub type CbInit =
    unsafe extern "C" fn(*mut FlbFilterInstance, *mut FlbConfig, *mut c_void) -> c_int;
/// `cb_filter`.
pub type CbFilter = unsafe extern "C" fn(
    *const c_void,
    usize,
    *const c_char,
    c_int,
    *mut *mut c_void,
    *mut usize,
    *mut FlbFilterInstance,
    *mut FlbInputInstance,
    *mut c_void,
    *mut FlbConfig,
) -> c_int;
/// `cb_exit`.
pub type CbExit = unsafe extern "C" fn(*mut c_void, *mut FlbConfig) -> c_int;

/// `struct flb_filter_plugin` (include/fluent-bit/flb_filter.h), as Fluent Bit 3.2 and later declare it (88 bytes).
/// Fluent Bit 2.2 – 3.1 declare the same fields without `cb_notification` (80 bytes, `_head` at 64): such a host
/// copies the first 80 bytes and overwrites its own `_head`, so this one layout serves both.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FlbFilterPlugin {
    pub event_type: c_int,
    pub flags: c_int,
    pub name: *const c_char,
    pub description: *const c_char,
    /// An array of [`FlbConfigMap96`] or [`FlbConfigMap104`] entries, whichever the host reads; NULL in a host
    /// the plugin refuses (then the host reads no map at all).
    pub config_map: *const c_void,
    pub cb_pre_run: Option<CbInit>,
    pub cb_init: Option<CbInit>,
    pub cb_filter: Option<CbFilter>,
    pub cb_exit: Option<CbExit>,
    pub cb_notification: Option<CbInit>,
    /// Host-owned link (set in Fluent Bit's own copy of the struct).
    pub head: MkList,
}

/// `struct flb_config_map_val` from Fluent Bit 5.0.3 on: a union of 8 bytes, `raw`, `mult`, `_head` (40 bytes).
/// Filled by the host only in its own copies of the map; zero here.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FlbConfigMapVal104 {
    pub val: u64,
    pub raw: *mut c_char,
    pub mult: *mut MkList,
    pub head: MkList,
}

/// `struct flb_config_map_val` before Fluent Bit 5.0.3: the union, `mult`, `_head` (32 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FlbConfigMapVal96 {
    pub val: u64,
    pub mult: *mut MkList,
    pub head: MkList,
}

/// `struct flb_config_map` from Fluent Bit 5.0.3 on (104 bytes). The host copies `type`, `name`, `def_value`,
/// `flags`, `set_property`, `offset` and `desc` into its own list; the array ends with an entry whose `name` is
/// NULL.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FlbConfigMap104 {
    pub type_: c_int,
    pub name: *const c_char,
    pub def_value: *const c_char,
    pub flags: c_int,
    pub set_property: c_int,
    pub offset: usize,
    pub desc: *const c_char,
    pub value: FlbConfigMapVal104,
    pub head: MkList,
}

/// `struct flb_config_map` of Fluent Bit 2.2 – 5.0.2 (96 bytes): the same without `value.raw`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FlbConfigMap96 {
    pub type_: c_int,
    pub name: *const c_char,
    pub def_value: *const c_char,
    pub flags: c_int,
    pub set_property: c_int,
    pub offset: usize,
    pub desc: *const c_char,
    pub value: FlbConfigMapVal96,
    pub head: MkList,
}

// The layouts (x86-64), checked against the real headers of each line with offsetof().
const _: () = assert!(size_of::<MkList>() == 16);
const _: () = assert!(size_of::<FlbFilterPlugin>() == 88);
const _: () = assert!(offset_of!(FlbFilterPlugin, event_type) == 0);
const _: () = assert!(offset_of!(FlbFilterPlugin, flags) == 4);
const _: () = assert!(offset_of!(FlbFilterPlugin, name) == 8);
const _: () = assert!(offset_of!(FlbFilterPlugin, description) == 16);
const _: () = assert!(offset_of!(FlbFilterPlugin, config_map) == 24);
const _: () = assert!(offset_of!(FlbFilterPlugin, cb_pre_run) == 32);
const _: () = assert!(offset_of!(FlbFilterPlugin, cb_init) == 40);
const _: () = assert!(offset_of!(FlbFilterPlugin, cb_filter) == 48);
const _: () = assert!(offset_of!(FlbFilterPlugin, cb_exit) == 56);
const _: () = assert!(offset_of!(FlbFilterPlugin, cb_notification) == 64);
const _: () = assert!(offset_of!(FlbFilterPlugin, head) == 72);
const _: () = assert!(size_of::<FlbConfigMapVal104>() == 40);
const _: () = assert!(offset_of!(FlbConfigMapVal104, raw) == 8);
const _: () = assert!(offset_of!(FlbConfigMapVal104, mult) == 16);
const _: () = assert!(offset_of!(FlbConfigMapVal104, head) == 24);
const _: () = assert!(size_of::<FlbConfigMapVal96>() == 32);
const _: () = assert!(offset_of!(FlbConfigMapVal96, mult) == 8);
const _: () = assert!(offset_of!(FlbConfigMapVal96, head) == 16);
const _: () = assert!(size_of::<FlbConfigMap104>() == 104);
const _: () = assert!(size_of::<FlbConfigMap96>() == 96);
macro_rules! assert_map_offsets {
    ($t:ty, $head:expr) => {
        const _: () = assert!(offset_of!($t, type_) == 0);
        const _: () = assert!(offset_of!($t, name) == 8);
        const _: () = assert!(offset_of!($t, def_value) == 16);
        const _: () = assert!(offset_of!($t, flags) == 24);
        const _: () = assert!(offset_of!($t, set_property) == 28);
        const _: () = assert!(offset_of!($t, offset) == 32);
        const _: () = assert!(offset_of!($t, desc) == 40);
        const _: () = assert!(offset_of!($t, value) == 48);
        const _: () = assert!(offset_of!($t, head) == $head);
    };
}
assert_map_offsets!(FlbConfigMap104, 88);
assert_map_offsets!(FlbConfigMap96, 80);

/// A static the host reads: raw pointers to static data only, never written (Fluent Bit reads the map).
#[repr(transparent)]
pub struct HostStatic<T>(pub T);
// SAFETY: the wrapped values hold only pointers to immutable statics; nothing writes them.
unsafe impl<T> Sync for HostStatic<T> {}

/// The exported plugin struct: written once, by [`recognise_host_at_load`] while the dynamic loader runs the
/// library's constructors (inside the host's `dlopen`, before the host's `dlsym` and `memcpy`), read after.
#[repr(transparent)]
pub struct HostCell<T>(UnsafeCell<T>);
// SAFETY: the only write happens in the ELF constructor, which the dynamic loader runs once, before `dlopen`
// returns and so before any thread of the host can reach the symbol; every later access is a read.
unsafe impl<T> Sync for HostCell<T> {}

impl<T> HostCell<T> {
    /// A pointer to the value (for the one write, and for reads).
    pub fn get(&self) -> *mut T {
        self.0.get()
    }
}

const fn cstr(s: &'static [u8]) -> *const c_char {
    s.as_ptr() as *const c_char
}

const NULL_LIST: MkList = MkList {
    prev: ptr::null_mut(),
    next: ptr::null_mut(),
};

const fn entry104(name: *const c_char, desc: *const c_char) -> FlbConfigMap104 {
    FlbConfigMap104 {
        type_: FLB_CONFIG_MAP_STR,
        name,
        def_value: ptr::null(),
        flags: 0,
        set_property: 0,
        offset: 0,
        desc,
        value: FlbConfigMapVal104 {
            val: 0,
            raw: ptr::null_mut(),
            mult: ptr::null_mut(),
            head: NULL_LIST,
        },
        head: NULL_LIST,
    }
}

const fn entry96(name: *const c_char, desc: *const c_char) -> FlbConfigMap96 {
    FlbConfigMap96 {
        type_: FLB_CONFIG_MAP_STR,
        name,
        def_value: ptr::null(),
        flags: 0,
        set_property: 0,
        offset: 0,
        desc,
        value: FlbConfigMapVal96 {
            val: 0,
            mult: ptr::null_mut(),
            head: NULL_LIST,
        },
        head: NULL_LIST,
    }
}

const NUMBERED_DESC: &[u8] =
    b"One more exception (EQL condition); exception_1 .. exception_16 add to `exception`.\0";

/// The names of the numbered exceptions, NUL-terminated: Fluent Bit hands a filter only the first value of a
/// repeated key, so the repeatable `exception` gets numbered siblings.
const NUMBERED_NAMES: [&str; NUMBERED_EXCEPTIONS] = [
    "exception_1\0",
    "exception_2\0",
    "exception_3\0",
    "exception_4\0",
    "exception_5\0",
    "exception_6\0",
    "exception_7\0",
    "exception_8\0",
    "exception_9\0",
    "exception_10\0",
    "exception_11\0",
    "exception_12\0",
    "exception_13\0",
    "exception_14\0",
    "exception_15\0",
    "exception_16\0",
];

/// Properties that may repeat (each gets the numbered siblings).
const REPEATABLE_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < PROPERTIES.len() {
        if PROPERTIES[i].repeatable {
            n += 1;
        }
        i += 1;
    }
    n
};
// The numbered names are `exception_<n>`: `exception` must stay the only repeatable property (a unit test checks
// which one it is).
const _: () = assert!(REPEATABLE_COUNT == 1);

/// The keys the configuration map declares: every property of [`crate::config::PROPERTIES`] with its
/// description, each repeatable one followed by its numbered siblings.
const KEY_COUNT: usize = PROPERTIES.len() + REPEATABLE_COUNT * NUMBERED_EXCEPTIONS;
const MAP_LEN: usize = KEY_COUNT + 1;
const MAP_KEYS: [(&[u8], &[u8]); KEY_COUNT] = {
    let mut out: [(&[u8], &[u8]); KEY_COUNT] = [(b"", b""); KEY_COUNT];
    let (mut i, mut o) = (0, 0);
    while i < PROPERTIES.len() {
        let p = &PROPERTIES[i];
        out[o] = (p.key_nul.as_bytes(), p.description_nul.as_bytes());
        o += 1;
        if p.repeatable {
            let mut n = 0;
            while n < NUMBERED_EXCEPTIONS {
                out[o] = (NUMBERED_NAMES[n].as_bytes(), NUMBERED_DESC);
                o += 1;
                n += 1;
            }
        }
        i += 1;
    }
    assert!(o == KEY_COUNT);
    out
};

const fn map104() -> [FlbConfigMap104; MAP_LEN] {
    let mut out = [entry104(ptr::null(), ptr::null()); MAP_LEN];
    let mut i = 0;
    while i < KEY_COUNT {
        out[i] = entry104(cstr(MAP_KEYS[i].0), cstr(MAP_KEYS[i].1));
        i += 1;
    }
    out
}

const fn map96() -> [FlbConfigMap96; MAP_LEN] {
    let mut out = [entry96(ptr::null(), ptr::null()); MAP_LEN];
    let mut i = 0;
    while i < KEY_COUNT {
        out[i] = entry96(cstr(MAP_KEYS[i].0), cstr(MAP_KEYS[i].1));
        i += 1;
    }
    out
}

/// The configuration map for hosts with 104-byte entries (Fluent Bit 5.0.3 and later).
static CONFIG_MAP_104: HostStatic<[FlbConfigMap104; MAP_LEN]> = HostStatic(map104());
/// The configuration map for hosts with 96-byte entries (Fluent Bit 2.2 – 5.0.2).
static CONFIG_MAP_96: HostStatic<[FlbConfigMap96; MAP_LEN]> = HostStatic(map96());

/// The plugin as exported before the constructor has recognised the host: no configuration map, and both init
/// slots (`cb_pre_run`, which is `cb_init` in Fluent Bit 2.1 and older, and `cb_init`) refuse to start.
const REFUSING_PLUGIN: FlbFilterPlugin = FlbFilterPlugin {
    event_type: FLB_FILTER_LOGS,
    flags: 0,
    name: cstr(b"svcshell\0"),
    description: cstr(b"Elastic rule System Shells via Services (0022d47d-39c7-4f69-a232-4fe9dc7a3acd v313): tags matches as ECS alerts\0"),
    config_map: ptr::null(),
    cb_pre_run: Some(cb_refuse),
    cb_init: Some(cb_init),
    cb_filter: Some(cb_filter),
    cb_exit: Some(cb_exit),
    cb_notification: None,
    head: NULL_LIST,
};

/// The plugin: what Fluent Bit `dlsym`s and copies (88 bytes; 80 of them in Fluent Bit 2.2 – 3.1). Laid out for
/// the host by the constructor ([`recognise_host_at_load`]).
#[no_mangle]
pub static filter_svcshell_plugin: HostCell<FlbFilterPlugin> =
    HostCell(UnsafeCell::new(REFUSING_PLUGIN));

// ---- recognising the host ---------------------------------------------------------------------------------------

/// The host functions the plugin calls: every Fluent Bit from 2.2 on exports them.
const REQUIRED: [&CStr; 4] = [
    c"flb_filter_get_property",
    c"flb_filter_set_context",
    c"flb_filter_name",
    c"flb_log_print",
];
/// Exported from Fluent Bit 2.1.0 on (the log event decoder).
const PROBE_2_1: &CStr = c"flb_log_event_decoder_init";
/// Exported by Fluent Bit 2.0 and 2.1 built with the Go proxy (the default), renamed in 2.2.0.
const PROBE_BEFORE_2_2: &CStr = c"flb_plugin_proxy_output_init";
/// Exported from Fluent Bit 3.2.0 on: the plugin struct has `cb_notification` (88 bytes, else 80).
const PROBE_3_2: &CStr = c"flb_notification_deliver";
/// Exported from Fluent Bit 5.0.3 on: configuration map entries have `value.raw` (104 bytes, else 96).
const PROBE_5_0_3: &CStr = c"flb_config_map_get_raw";

/// What the plugin made of the process that loaded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recognition {
    /// A Fluent Bit it can serve: the host's `sizeof(struct flb_filter_plugin)` and `sizeof(struct
    /// flb_config_map)`.
    Known {
        plugin_size: usize,
        map_entry_size: usize,
    },
    /// A host it cannot vouch for, and why.
    Refused(&'static str),
}

impl Recognition {
    /// Which Fluent Bit lines have this layout (for the start-up line).
    pub fn lines(self) -> &'static str {
        match self {
            Recognition::Known {
                plugin_size: 80,
                map_entry_size: 96,
            } => "Fluent Bit 2.2 - 3.1",
            Recognition::Known {
                plugin_size: 88,
                map_entry_size: 96,
            } => "Fluent Bit 3.2 - 5.0.2",
            Recognition::Known {
                plugin_size: 88,
                map_entry_size: 104,
            } => "Fluent Bit 5.0.3 or later",
            Recognition::Known { .. } => "an unreleased Fluent Bit layout",
            Recognition::Refused(_) => "refused",
        }
    }
}

/// Recognises the host from the symbols it exports (`exports(name)`: is `name` defined in the process).
pub fn recognise(exports: &dyn Fn(&CStr) -> bool) -> Recognition {
    for (f, why) in REQUIRED.iter().zip(REFUSED_REASONS) {
        if !exports(f) {
            return Recognition::Refused(why);
        }
    }
    if !exports(PROBE_2_1) || exports(PROBE_BEFORE_2_2) {
        return Recognition::Refused(REFUSED_REASONS[4]);
    }
    Recognition::Known {
        plugin_size: if exports(PROBE_3_2) { 88 } else { 80 },
        map_entry_size: if exports(PROBE_5_0_3) { 104 } else { 96 },
    }
}

/// Lays `plugin` out for the host: the configuration map of the host's entry size, or (refused) no map and init
/// slots that refuse.
pub fn lay_out(plugin: &mut FlbFilterPlugin, host: Recognition) {
    *plugin = REFUSING_PLUGIN;
    if let Recognition::Known { map_entry_size, .. } = host {
        plugin.config_map = if map_entry_size == 104 {
            CONFIG_MAP_104.0.as_ptr() as *const c_void
        } else {
            CONFIG_MAP_96.0.as_ptr() as *const c_void
        };
        plugin.cb_pre_run = None;
    }
}

/// 0 = not recognised yet; otherwise the [`Recognition`] encoded by [`encode`].
static HOST: AtomicU8 = AtomicU8::new(0);
/// Why a host is refused: a missing [`REQUIRED`] function (same order), or a Fluent Bit older than 2.2.
const REFUSED_REASONS: [&str; 5] = [
    "the process exports no flb_filter_get_property: not a Fluent Bit",
    "the process exports no flb_filter_set_context: not a Fluent Bit",
    "the process exports no flb_filter_name: not a Fluent Bit",
    "the process exports no flb_log_print: not a Fluent Bit",
    "this Fluent Bit is older than 2.2 (its plugin struct has no cb_pre_run)",
];

fn encode(r: Recognition) -> u8 {
    match r {
        Recognition::Known {
            plugin_size,
            map_entry_size,
        } => 1 + u8::from(plugin_size == 88) + 2 * u8::from(map_entry_size == 104),
        Recognition::Refused(why) => {
            10 + REFUSED_REASONS.iter().position(|r| *r == why).unwrap_or(0) as u8
        }
    }
}

/// The host as the constructor recognised it (`Refused` when it did not run).
pub fn host() -> Recognition {
    match HOST.load(Relaxed) {
        n @ 1..=4 => Recognition::Known {
            plugin_size: if (n - 1) & 1 == 1 { 88 } else { 80 },
            map_entry_size: if (n - 1) & 2 == 2 { 104 } else { 96 },
        },
        n @ 10..=14 => Recognition::Refused(REFUSED_REASONS[(n - 10) as usize]),
        _ => Recognition::Refused("the plugin's constructor did not run (not loaded with dlopen?)"),
    }
}

/// The ELF constructor: runs inside the host's `dlopen`, before the host looks up and copies
/// `filter_svcshell_plugin`. Only `dlsym` lookups and one write: nothing here can fail or panic.
extern "C" fn recognise_host_at_load() {
    let r = recognise(&|name| !host_symbol(name.to_bytes_with_nul()).is_null());
    HOST.store(encode(r), Relaxed);
    // SAFETY: the one write to the exported struct (see `HostCell`): the loader runs constructors once, before
    // `dlopen` returns, so no other code reads the struct yet.
    lay_out(unsafe { &mut *filter_svcshell_plugin.get() }, r);
}

/// Registers [`recognise_host_at_load`] as an ELF constructor (`DT_INIT_ARRAY`), which the dynamic loader runs
/// when it loads the library (and which also runs, harmlessly, at the start of any program linking the rlib).
#[used]
#[link_section = ".init_array"]
static RECOGNISE_HOST_AT_LOAD: extern "C" fn() = recognise_host_at_load;

/// `cb_pre_run` and `cb_init` of a host the plugin refuses: one error line, and a failed start.
unsafe extern "C" fn cb_refuse(
    _ins: *mut FlbFilterInstance,
    _config: *mut FlbConfig,
    _data: *mut c_void,
) -> c_int {
    catch(refuse).unwrap_or(-1)
}

fn refuse() -> c_int {
    let why = match host() {
        Recognition::Refused(why) => why,
        Recognition::Known { .. } => "unexpected call",
    };
    let log = host_symbol(b"flb_log_print\0");
    let log_print = (!log.is_null()).then(|| {
        // SAFETY: `flb_log_print` of every Fluent Bit line has this signature; NULL was checked.
        unsafe { std::mem::transmute::<*mut c_void, LogPrintFn>(log) }
    });
    log_line(
        log_print,
        FLB_LOG_ERROR,
        "svcshell",
        &format!(
            "cannot run in this process: {why}; svcshell {} supports Fluent Bit 2.2 to 5.1",
            crate::VERSION
        ),
    );
    -1
}

/// The property keys the plugin reads, in order: each key of the map.
pub fn property_keys() -> Vec<String> {
    MAP_KEYS
        .iter()
        .map(|(k, _)| String::from_utf8_lossy(&k[..k.len() - 1]).into_owned())
        .collect()
}

/// The core configuration key a plugin property stands for: `exception_<n>` (1 ..= 16) is `exception`; every
/// other key is itself ([`crate::config::core_key`], which every host's configuration goes through).
pub fn core_key(key: &str) -> &str {
    crate::config::core_key(key)
}

// Host functions, resolved at run time (see the module docs).
type GetPropertyFn = unsafe extern "C" fn(*const c_char, *mut FlbFilterInstance) -> *const c_char;
type SetContextFn = unsafe extern "C" fn(*mut FlbFilterInstance, *mut c_void);
type FilterNameFn = unsafe extern "C" fn(*mut FlbFilterInstance) -> *const c_char;
type LogPrintFn = unsafe extern "C" fn(c_int, *const c_char, c_int, *const c_char, ...);

/// The host functions the plugin calls.
struct Host {
    get_property: GetPropertyFn,
    set_context: SetContextFn,
    name: Option<FilterNameFn>,
    log_print: Option<LogPrintFn>,
}

/// Looks `name` (NUL-terminated) up in the process's global scope.
fn host_symbol(name: &[u8]) -> *mut c_void {
    debug_assert_eq!(name.last(), Some(&0));
    // SAFETY: `name` is NUL-terminated; dlsym with RTLD_DEFAULT only reads it.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr() as *const c_char) }
}

impl Host {
    /// The host functions, or the name of the first required one that is missing.
    fn resolve() -> Result<Host, &'static str> {
        let get = host_symbol(b"flb_filter_get_property\0");
        let set = host_symbol(b"flb_filter_set_context\0");
        let name = host_symbol(b"flb_filter_name\0");
        let log = host_symbol(b"flb_log_print\0");
        if get.is_null() {
            return Err("flb_filter_get_property");
        }
        if set.is_null() {
            return Err("flb_filter_set_context");
        }
        // The symbols are the host's exported functions of these names; their C signatures in Fluent Bit v5.1.1
        // are those of the target types. NULL was checked (required) or is kept as None (optional).
        Ok(Host {
            // SAFETY: see above.
            get_property: unsafe { std::mem::transmute::<*mut c_void, GetPropertyFn>(get) },
            // SAFETY: see above.
            set_context: unsafe { std::mem::transmute::<*mut c_void, SetContextFn>(set) },
            name: (!name.is_null()).then(|| {
                // SAFETY: see above.
                unsafe { std::mem::transmute::<*mut c_void, FilterNameFn>(name) }
            }),
            log_print: (!log.is_null()).then(|| {
                // SAFETY: see above.
                unsafe { std::mem::transmute::<*mut c_void, LogPrintFn>(log) }
            }),
        })
    }

    /// The instance's name (`svcshell.0`, or its alias).
    fn instance_name(&self, ins: *mut FlbFilterInstance) -> String {
        let Some(f) = self.name else {
            return "svcshell".into();
        };
        // SAFETY: `ins` is the instance the host passed to this callback; flb_filter_name returns a string owned
        // by the instance (or NULL, checked).
        let p = unsafe { f(ins) };
        if p.is_null() {
            return "svcshell".into();
        }
        // SAFETY: non-NULL, NUL-terminated, alive for the duration of the callback.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// Reads one property (`None` when unset).
    fn property(&self, ins: *mut FlbFilterInstance, key: &str) -> Option<String> {
        let k = CString::new(key).ok()?;
        // SAFETY: `k` is NUL-terminated and `ins` is the host's instance; the result is NULL or a string owned by
        // the instance, copied at once.
        let v = unsafe { (self.get_property)(k.as_ptr(), ins) };
        if v.is_null() {
            return None;
        }
        // SAFETY: non-NULL, NUL-terminated, owned by the instance for the duration of this callback.
        Some(unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned())
    }

    /// Logs one line the way Fluent Bit's own filters do (`[filter:svcshell:<instance>] ...`).
    fn log(&self, level: c_int, instance: &str, msg: &str) {
        log_line(self.log_print, level, instance, msg);
    }
}

/// Writes one log line through the host's `flb_log_print` (which renders `[time] [level] ...` and honours the
/// log destination), or on stderr in the same format when the host does not export it.
fn log_line(log_print: Option<LogPrintFn>, level: c_int, instance: &str, msg: &str) {
    let text = format!("[filter:svcshell:{instance}] {msg}").replace('\0', " ");
    match (log_print, CString::new(text.clone())) {
        (Some(f), Ok(c)) => {
            // SAFETY: flb_log_print(type, file, line, fmt, ...) with fmt "%s" and one NUL-terminated string argument;
            // file NULL is what Fluent Bit's own macros pass.
            unsafe { f(level, ptr::null(), 0, c"%s".as_ptr(), c.as_ptr()) }
        }
        _ => {
            let lvl = match level {
                FLB_LOG_ERROR => "error",
                FLB_LOG_WARN => "warn",
                _ => "info",
            };
            eprintln!("[{}] [{lvl:>5}] {text}", now_text());
        }
    }
}

/// The local time as Fluent Bit prints it: `2024/05/01 12:00:00.123`.
fn now_text() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value for localtime_r to overwrite.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to locals; localtime_r is thread-safe.
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return format!("{}", now.as_secs());
    }
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}.{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

/// What `cb_init` hands to `flb_filter_set_context`.
pub struct Context {
    pub filter: Filter,
    /// The instance name, for log lines.
    name: String,
    log_print: Option<LogPrintFn>,
    /// Chunks filtered, and the time spent in `cb_filter` (nanoseconds), for the exit line: what the filter
    /// cost the pipeline, measured where it is spent.
    chunks: AtomicU64,
    busy_ns: AtomicU64,
}

/// The start-up line: plugin version, rule, mode and exceptions.
pub fn describe(filter: &Filter) -> String {
    let c = filter.config();
    let mode = match c.mode {
        Mode::Tag => "tag",
        Mode::AlertsOnly => "alerts_only",
    };
    let exceptions = if c.exceptions.is_empty() {
        "none".to_string()
    } else {
        c.exceptions
            .iter()
            .map(|x| format!("[{x}]"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let cap = if c.max_alerts == 0 {
        "no cap".to_string()
    } else {
        format!("{} per {}s", c.max_alerts, c.alert_window)
    };
    let r = &c.rule;
    let version = r
        .version
        .as_ref()
        .map_or("no version".to_string(), |v| format!("version {v}"));
    let from = r
        .file
        .as_ref()
        .map_or("embedded".to_string(), |f| format!("from {f}"));
    format!(
        "svcshell {} ready: rule \"{}\" (id {}, {version}, {from}), mode={mode}, exceptions={} {exceptions}, \
         max_alerts={cap}",
        crate::VERSION,
        r.name,
        r.rule_id,
        c.exceptions.len(),
    )
}

/// `cb_init`: reads and checks the properties, builds the filter, stores it as the instance's context.
unsafe extern "C" fn cb_init(
    ins: *mut FlbFilterInstance,
    _config: *mut FlbConfig,
    _data: *mut c_void,
) -> c_int {
    catch(|| init(ins)).unwrap_or_else(|msg| {
        log_line(
            None,
            FLB_LOG_ERROR,
            "svcshell",
            &format!("internal error (panic) during init: {msg}"),
        );
        -1
    })
}

fn init(ins: *mut FlbFilterInstance) -> c_int {
    let layout = host();
    if let Recognition::Refused(_) = layout {
        return refuse();
    }
    let host = match Host::resolve() {
        Ok(h) => h,
        Err(missing) => {
            log_line(
                None,
                FLB_LOG_ERROR,
                "svcshell",
                &format!("the host does not export {missing}: not a Fluent Bit process"),
            );
            return -1;
        }
    };
    let name = host.instance_name(ins);
    if ins.is_null() {
        host.log(FLB_LOG_ERROR, &name, "no filter instance");
        return -1;
    }
    let mut props: Vec<(String, String)> = Vec::new();
    for key in property_keys() {
        if let Some(v) = host.property(ins, &key) {
            props.push((core_key(&key).to_string(), v));
        }
    }
    let filter = match Filter::from_properties(&props) {
        Ok(f) => f,
        Err(e) => {
            host.log(FLB_LOG_ERROR, &name, &format!("invalid configuration: {e}"));
            return -1;
        }
    };
    host.log(
        FLB_LOG_INFO,
        &name,
        &format!("{} (host: {} layout)", describe(&filter), layout.lines()),
    );
    for w in filter.warnings() {
        host.log(FLB_LOG_WARN, &name, w);
    }
    let ctx = Box::into_raw(Box::new(Context {
        filter,
        name,
        log_print: host.log_print,
        chunks: AtomicU64::new(0),
        busy_ns: AtomicU64::new(0),
    }));
    // SAFETY: `ins` is the host's instance; the context pointer stays valid until cb_exit frees it.
    unsafe { (host.set_context)(ins, ctx as *mut c_void) };
    0
}

/// `cb_filter`: one chunk in, NOTOUCH or a new `malloc`ed chunk out.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn cb_filter(
    data: *const c_void,
    bytes: usize,
    _tag: *const c_char,
    _tag_len: c_int,
    out_buf: *mut *mut c_void,
    out_bytes: *mut usize,
    _f_ins: *mut FlbFilterInstance,
    _i_ins: *mut FlbInputInstance,
    context: *mut c_void,
    _config: *mut FlbConfig,
) -> c_int {
    catch(|| {
        if context.is_null()
            || out_buf.is_null()
            || out_bytes.is_null()
            || (data.is_null() && bytes > 0)
            || bytes > isize::MAX as usize
        {
            return FLB_FILTER_NOTOUCH;
        }
        // SAFETY: a non-NULL context is the `Context` that cb_init stored; it lives until cb_exit, which the host
        // never runs concurrently with cb_filter.
        let ctx = unsafe { &*(context as *const Context) };
        // SAFETY: the host's chunk: `bytes` readable bytes at `data` (checked non-NULL when non-empty), for the
        // duration of this call.
        let chunk = unsafe { super::bytes(data as *const u8, bytes) };
        let started = Instant::now();
        let result = ctx.filter.process_chunk(chunk);
        ctx.chunks.fetch_add(1, Relaxed);
        ctx.busy_ns
            .fetch_add(started.elapsed().as_nanos() as u64, Relaxed);
        match result {
            ChunkResult::NoTouch => FLB_FILTER_NOTOUCH,
            ChunkResult::Modified(v) if v.is_empty() => {
                // SAFETY: both out-pointers were checked non-NULL; the host passes them writable.
                unsafe {
                    *out_buf = ptr::null_mut();
                    *out_bytes = 0;
                }
                FLB_FILTER_MODIFIED
            }
            ChunkResult::Modified(v) => match mem::malloc_copy(&v) {
                Some(p) => {
                    // SAFETY: both out-pointers were checked non-NULL; the host takes ownership of `p` (malloc).
                    unsafe {
                        *out_buf = p as *mut c_void;
                        *out_bytes = v.len();
                    }
                    FLB_FILTER_MODIFIED
                }
                // Out of memory: keep the chunk rather than lose it.
                None => FLB_FILTER_NOTOUCH,
            },
        }
    })
    .unwrap_or(FLB_FILTER_NOTOUCH)
}

/// `cb_exit`: logs the counters and frees the context.
unsafe extern "C" fn cb_exit(context: *mut c_void, _config: *mut FlbConfig) -> c_int {
    catch(|| {
        if !context.is_null() {
            // SAFETY: a non-NULL context is the Box that cb_init leaked; the host calls cb_exit once per instance.
            let ctx = unsafe { Box::from_raw(context as *mut Context) };
            let s = ctx.filter.stats();
            log_line(
                ctx.log_print,
                FLB_LOG_INFO,
                &ctx.name,
                &format!(
                    "stopping: {s} chunks={} time={:.3}s ({:.0} ns/record)",
                    ctx.chunks.load(Relaxed),
                    ctx.busy_ns.load(Relaxed) as f64 / 1e9,
                    ctx.busy_ns.load(Relaxed) as f64 / s.records.max(1) as f64
                ),
            );
            drop(ctx);
        }
        0
    })
    .unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule;

    /// The names of a map's entries up to its NULL entry.
    fn names_of(first: *const c_void, entry_size: usize) -> Vec<String> {
        let mut out = Vec::new();
        for k in 0..=MAP_LEN {
            // SAFETY: `first` is one of the two static maps, whose entries are `entry_size` bytes apart and which
            // end with a NULL name; `name` is at offset 8 in both layouts (asserted above).
            let name =
                unsafe { *((first as *const u8).add(k * entry_size + 8) as *const *const c_char) };
            if name.is_null() {
                return out;
            }
            // SAFETY: a static NUL-terminated name.
            out.push(
                unsafe { CStr::from_ptr(name) }
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        panic!("map not terminated");
    }

    #[test]
    fn both_maps_list_every_core_key_and_the_numbered_ones() {
        for (first, size) in [
            (CONFIG_MAP_104.0.as_ptr() as *const c_void, 104),
            (CONFIG_MAP_96.0.as_ptr() as *const c_void, 96),
        ] {
            let names = names_of(first, size);
            assert_eq!(names, property_keys(), "{size}");
            for k in crate::config::KEYS {
                assert!(names.iter().any(|n| n == k), "{k}");
            }
            for n in &names {
                assert!(crate::config::KEYS.contains(&core_key(n)), "{n}");
            }
        }
        for (a, b) in CONFIG_MAP_104.0.iter().zip(&CONFIG_MAP_96.0) {
            assert_eq!(
                (a.name, a.desc, a.type_, a.flags),
                (b.name, b.desc, b.type_, b.flags)
            );
        }
        // Both maps declare exactly the table's properties, in its order, with its values, default and meaning;
        // the repeatable `exception` is followed by exception_1 ..= exception_16.
        let mut expected: Vec<(String, String)> = Vec::new();
        for p in crate::config::PROPERTIES {
            expected.push((
                p.key.to_string(),
                format!(
                    "{} Values: {}. Default: {}.",
                    p.meaning,
                    p.values,
                    p.default.text()
                ),
            ));
            if p.key == "exception" {
                for n in 1..=NUMBERED_EXCEPTIONS {
                    expected.push((
                        format!("exception_{n}"),
                        String::from_utf8_lossy(&NUMBERED_DESC[..NUMBERED_DESC.len() - 1])
                            .into_owned(),
                    ));
                }
            }
        }
        let text = |p: *const c_char| {
            // SAFETY: a name or description of a static map entry: NUL-terminated static text.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        };
        let m104: Vec<(String, String)> = CONFIG_MAP_104.0[..KEY_COUNT]
            .iter()
            .map(|e| (text(e.name), text(e.desc)))
            .collect();
        let m96: Vec<(String, String)> = CONFIG_MAP_96.0[..KEY_COUNT]
            .iter()
            .map(|e| (text(e.name), text(e.desc)))
            .collect();
        assert_eq!(m104, expected);
        assert_eq!(m96, expected);
        assert!(CONFIG_MAP_104.0.iter().all(|e| e.def_value.is_null()));
        assert!(CONFIG_MAP_96.0.iter().all(|e| e.def_value.is_null()));
        assert_eq!(core_key("exception_16"), "exception");
        assert_eq!(core_key("exception_17"), "exception_17");
        assert_eq!(core_key("exception_x"), "exception_x");
    }

    /// A host exporting exactly `names`.
    fn exporting(names: &'static [&'static str]) -> impl Fn(&CStr) -> bool {
        move |n: &CStr| names.iter().any(|x| x.as_bytes() == n.to_bytes())
    }

    const BASE: [&str; 5] = [
        "flb_filter_get_property",
        "flb_filter_set_context",
        "flb_filter_name",
        "flb_log_print",
        "flb_log_event_decoder_init",
    ];

    #[test]
    fn recognises_each_line_from_its_exports() {
        let known = |p, m| Recognition::Known {
            plugin_size: p,
            map_entry_size: m,
        };
        assert_eq!(recognise(&exporting(&BASE)), known(80, 96));
        static V32: [&str; 6] = [
            BASE[0],
            BASE[1],
            BASE[2],
            BASE[3],
            BASE[4],
            "flb_notification_deliver",
        ];
        assert_eq!(recognise(&exporting(&V32)), known(88, 96));
        static V503: [&str; 7] = [
            BASE[0],
            BASE[1],
            BASE[2],
            BASE[3],
            BASE[4],
            "flb_notification_deliver",
            "flb_config_map_get_raw",
        ];
        assert_eq!(recognise(&exporting(&V503)), known(88, 104));
        // 2.1 (Go proxy built in) and 2.0 (no log event decoder): refused.
        static V21: [&str; 6] = [
            BASE[0],
            BASE[1],
            BASE[2],
            BASE[3],
            BASE[4],
            "flb_plugin_proxy_output_init",
        ];
        assert!(
            matches!(recognise(&exporting(&V21)), Recognition::Refused(w) if w.contains("older than 2.2"))
        );
        static V20: [&str; 4] = [BASE[0], BASE[1], BASE[2], BASE[3]];
        assert!(
            matches!(recognise(&exporting(&V20)), Recognition::Refused(w) if w.contains("older than 2.2"))
        );
        // Not a Fluent Bit: the first missing function is named.
        assert!(
            matches!(recognise(&exporting(&[])), Recognition::Refused(w) if w.contains("flb_filter_get_property"))
        );
        static NO_LOG: [&str; 4] = [BASE[0], BASE[1], BASE[2], BASE[4]];
        assert!(
            matches!(recognise(&exporting(&NO_LOG)), Recognition::Refused(w) if w.contains("flb_log_print"))
        );
        // Every recognition survives the round trip through the static.
        for r in [
            known(80, 96),
            known(88, 96),
            known(80, 104),
            known(88, 104),
            recognise(&exporting(&V21)),
            recognise(&exporting(&[])),
            recognise(&exporting(&NO_LOG)),
        ] {
            HOST.store(encode(r), Relaxed);
            assert_eq!(host(), r);
        }
        HOST.store(0, Relaxed);
        assert!(matches!(host(), Recognition::Refused(w) if w.contains("constructor")));
    }

    #[test]
    fn lays_out_the_struct_for_the_host() {
        let mut p = REFUSING_PLUGIN;
        lay_out(
            &mut p,
            Recognition::Known {
                plugin_size: 80,
                map_entry_size: 96,
            },
        );
        assert_eq!(p.config_map, CONFIG_MAP_96.0.as_ptr() as *const c_void);
        assert!(p.cb_pre_run.is_none() && p.cb_init.is_some() && p.cb_notification.is_none());
        lay_out(
            &mut p,
            Recognition::Known {
                plugin_size: 88,
                map_entry_size: 104,
            },
        );
        assert_eq!(p.config_map, CONFIG_MAP_104.0.as_ptr() as *const c_void);
        assert!(p.cb_pre_run.is_none());
        lay_out(&mut p, Recognition::Refused(REFUSED_REASONS[4]));
        assert!(p.config_map.is_null());
        assert!(p.cb_pre_run.is_some() && p.cb_init.is_some());
        // SAFETY: a static NUL-terminated name.
        let name = unsafe { CStr::from_ptr(p.name) };
        assert_eq!(name.to_str().unwrap(), "svcshell");
        assert!(p.cb_filter.is_some() && p.cb_exit.is_some());
        assert!(p.head.prev.is_null() && p.head.next.is_null());
    }

    #[test]
    fn callbacks_survive_bad_arguments() {
        let mut out: *mut c_void = ptr::null_mut();
        let mut n = 0usize;
        // SAFETY: NULL context and data: the callback must not dereference anything.
        let r = unsafe {
            cb_filter(
                ptr::null(),
                0,
                ptr::null(),
                0,
                &mut out,
                &mut n,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        assert_eq!(r, FLB_FILTER_NOTOUCH);
        assert!(out.is_null());
        // SAFETY: NULL context is allowed.
        assert_eq!(unsafe { cb_exit(ptr::null_mut(), ptr::null_mut()) }, 0);
        // The test binary exports no flb_filter_get_property: init fails cleanly.
        // SAFETY: the instance is never dereferenced.
        let r = unsafe { cb_init(ptr::null_mut(), ptr::null_mut(), ptr::null_mut()) };
        assert_eq!(r, -1);
    }

    #[test]
    fn startup_line() {
        let f = Filter::from_properties(&[
            ("exception", "host.name == \"b1\""),
            ("mode", "alerts_only"),
        ])
        .unwrap();
        let s = describe(&f);
        assert!(s.contains("System Shells via Services"), "{s}");
        assert!(
            s.contains(rule::RULE_ID) && s.contains("version 313"),
            "{s}"
        );
        assert!(
            s.contains("mode=alerts_only") && s.contains("[host.name == \"b1\"]"),
            "{s}"
        );
    }
}
