/*
 * svcshell.h - the C API of svcshell.
 *
 * svcshell runs Elastic's detection rule "System Shells via Services" (rule 0022d47d-39c7-4f69-a232-4fe9dc7a3acd,
 * v313) on each record a log shipper carries. Matching records come back as ECS alerts: the input bytes with the
 * alert fields ("event":{"kind":"alert",...}, "rule":{...}, "threat":[...]) spliced in. Every other byte is the
 * input's.
 *
 * This header is written by hand. It is checked on every `cargo test` run: tests/c_api.rs compiles the C
 * programs in tests/c/ against it with `cc -std=c99 -Wall -Wextra -Werror -pedantic` and runs them. Between them
 * they call every function declared here: link_test.c and example.c link with -lsvcshell, dlopen_test.c loads
 * the library with dlopen()/dlsym(). The same test also checks that the functions named here and the `svcshell_*`
 * symbols exported by src/ffi/ are the same list. tests/header_abi.rs generates the declarations of src/ffi/
 * with cbindgen and compiles them with this header, so a prototype, struct layout or result code that differs
 * from the Rust code is a compile error; cli/tests/properties.rs keeps the property list below equal to the
 * library's property table. tests/c/valgrind.sh runs the C programs under Valgrind in CI.
 *
 * Linking:    cc host.c -I include -L <dir of libsvcshell.so> -lsvcshell -Wl,-rpath,<that dir>
 * Loading:    dlopen("libsvcshell.so", RTLD_NOW | RTLD_LOCAL), then dlsym() each function by name.
 *
 * General rules (each function's comment says where it differs):
 *  - Strings are NUL-terminated UTF-8. Records and output buffers are byte ranges (pointer + length): a record
 *    need not be NUL-terminated, and an output buffer is not.
 *  - Pointers passed in are borrowed for the duration of the call only; svcshell keeps none of them.
 *  - Memory returned to the host (output buffers, error strings) is allocated with the C allocator (malloc), is
 *    owned by the host from then on, and is released with svcshell_buffer_free() / svcshell_string_free() or with
 *    plain free(): either is correct, also from another thread. It never depends on the handle: it stays valid
 *    after svcshell_filter_free().
 *  - Thread safety: every function may be called from any thread. One handle may be used by many threads at
 *    once (process, process_ndjson, stats, last_error), with no locking by the host; only svcshell_filter_free()
 *    must not overlap another call on the same handle.
 *  - No call lets a Rust panic escape: every exported function runs inside a panic boundary. An internal error
 *    is reported as SVCSHELL_PANIC (or NULL from svcshell_filter_new), and the record passes unchanged.
 *    (Running out of memory inside the Rust allocator aborts the process, as in any Rust program.)
 *  - Invalid arguments (NULL pointers where a pointer is required, a record pointer of NULL with a non-zero
 *    length, a struct with a wrong `size`) are detected before any dereference and answered with
 *    SVCSHELL_INVALID_ARGUMENT; the reason is the handle's last error when the handle itself is valid. A pointer
 *    that is neither NULL nor valid (dangling, freed, too short) cannot be detected: that is undefined behaviour.
 *
 * Versioning: SVCSHELL_API_VERSION_MAJOR/MINOR below are the version this header describes;
 * svcshell_api_version_major()/minor() are the version of the library actually loaded. A host built with this
 * header works with a library of the SAME major version and a minor version GREATER THAN OR EQUAL to the
 * header's; check at start-up with SVCSHELL_API_COMPATIBLE(). Within a major version, functions are only added,
 * enum values are only added, and structs only grow at the end (each struct starts with a `size` field that
 * tells the library how much the host's version of the struct holds).
 */
#ifndef SVCSHELL_H
#define SVCSHELL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The C API version this header describes. */
#define SVCSHELL_API_VERSION_MAJOR 1
#define SVCSHELL_API_VERSION_MINOR 0
#define SVCSHELL_API_VERSION_PATCH 0
/* "MAJOR.MINOR.PATCH", built from the three numbers above. */
#define SVCSHELL_STRINGIFY_(x) #x
#define SVCSHELL_STRINGIFY(x) SVCSHELL_STRINGIFY_(x)
#define SVCSHELL_API_VERSION                                                                                       \
    SVCSHELL_STRINGIFY(SVCSHELL_API_VERSION_MAJOR)                                                                 \
    "." SVCSHELL_STRINGIFY(SVCSHELL_API_VERSION_MINOR) "." SVCSHELL_STRINGIFY(SVCSHELL_API_VERSION_PATCH)

/*
 * True when the loaded library can serve a host built with this header: same major version, library minor >=
 * header minor. Use: if (!SVCSHELL_API_COMPATIBLE()) { refuse to start }. (The cast keeps compilers from
 * warning that an unsigned value is always >= 0 while the minor is 0.)
 */
#define SVCSHELL_API_COMPATIBLE()                                                                                  \
    (svcshell_api_version_major() == SVCSHELL_API_VERSION_MAJOR &&                                                 \
     (int64_t)svcshell_api_version_minor() >= SVCSHELL_API_VERSION_MINOR)

/*
 * Verdicts (svcshell_filter_process) and results (every other call that returns an int). Verdicts are >= 0,
 * failures are < 0. Functions return `int` rather than the enum type so that FFI hosts (cgo, ctypes, LuaJIT)
 * can declare them simply; compare the value with these constants.
 */
typedef enum svcshell_code {
    /* Verdict: emit the input record as it is. (As a result: success, SVCSHELL_OK.) */
    SVCSHELL_PASS = 0,
    /* Verdict: emit *out (*out_len bytes) instead of the input record; then free *out. */
    SVCSHELL_ALERT = 1,
    /* Verdict: emit nothing (only in mode=alerts_only: the record is not an alert, or it could not be read, in
     * which case the reason is the last error). */
    SVCSHELL_DROP = 2,
    /* Verdict: the record could not be read (empty, not a JSON object, invalid JSON, invalid UTF-8...). Emit it
     * unchanged; the reason is the handle's last error. Counted in svcshell_stats.errors. */
    SVCSHELL_ERROR = 3,

    /* Result: success. */
    SVCSHELL_OK = 0,
    /* Result: an argument is NULL or unusable; nothing was done. Emit the record unchanged. */
    SVCSHELL_INVALID_ARGUMENT = -1,
    /* Result: internal error (a Rust panic, caught at the boundary). Emit the record unchanged; the message is
     * the handle's last error. Please report it. */
    SVCSHELL_PANIC = -2,
    /* Result: malloc() failed for the output. Emit the record (or chunk) unchanged. */
    SVCSHELL_OUT_OF_MEMORY = -3
} svcshell_code;

/*
 * A filter: the compiled rule and exceptions, the configuration, the alert cap and the counters. Opaque; create
 * it with svcshell_filter_new() and destroy it with svcshell_filter_free(). Safe to share between threads.
 */
typedef struct svcshell_filter svcshell_filter;

/*
 * The handle's counters since svcshell_filter_new() (all records of all threads, single and batch calls).
 * Before the call set `size` to sizeof(svcshell_stats), most simply by initialising with SVCSHELL_STATS_INIT.
 * Fields are only ever appended; a newer library fills only the fields a host's (older, smaller) struct has and
 * sets `size` to the bytes it wrote.
 */
typedef struct svcshell_stats {
    uint64_t size;       /* in: sizeof(svcshell_stats); out: bytes written */
    uint64_t records;    /* records processed */
    uint64_t bytes;      /* bytes of those records (a batch line without its '\n') */
    uint64_t alerts;     /* records emitted as alerts (verdict ALERT) */
    uint64_t suppressed; /* matches over the alert cap (max_alerts per alert_window): passed untagged, or
                            dropped in alerts_only mode */
    uint64_t excepted;   /* matches turned off by an `exception` property */
    uint64_t errors;     /* records that could not be read (verdict ERROR, or DROP in alerts_only mode) */
    uint64_t dropped;    /* records dropped (alerts_only mode) */
} svcshell_stats;

#define SVCSHELL_STATS_INIT {sizeof(svcshell_stats), 0, 0, 0, 0, 0, 0, 0}

/*
 * What one svcshell_filter_process_ndjson() call did. Same `size` rule as svcshell_stats: initialise with
 * SVCSHELL_BATCH_COUNTS_INIT. records = alerts + dropped + records passed unchanged; `errors` overlaps them
 * (an unreadable record passes unchanged in tag mode and is dropped in alerts_only mode).
 */
typedef struct svcshell_batch_counts {
    uint64_t size;    /* in: sizeof(svcshell_batch_counts); out: bytes written */
    uint64_t records; /* non-blank lines */
    uint64_t alerts;  /* lines written as alerts */
    uint64_t dropped; /* lines not written */
    uint64_t errors;  /* lines that could not be read */
} svcshell_batch_counts;

#define SVCSHELL_BATCH_COUNTS_INIT {sizeof(svcshell_batch_counts), 0, 0, 0, 0}

/*
 * The loaded library's C API version as "MAJOR.MINOR.PATCH".
 * Returns: a static string owned by the library, valid until the library is unloaded (dlclose); never NULL.
 * Do not free it. Thread-safe.
 */
const char *svcshell_api_version(void);

/*
 * The loaded library's C API major version (compare with SVCSHELL_API_VERSION_MAJOR, or use
 * SVCSHELL_API_COMPATIBLE()). Thread-safe.
 */
uint32_t svcshell_api_version_major(void);

/*
 * The loaded library's C API minor version: must be >= SVCSHELL_API_VERSION_MINOR of the header the host was
 * built with. Thread-safe.
 */
uint32_t svcshell_api_version_minor(void);

/*
 * The library's own release version (e.g. "0.1.0"), for logs; it is not the API version.
 * Returns: a static string owned by the library, valid until the library is unloaded; never NULL. Do not free
 * it. Thread-safe.
 */
const char *svcshell_version(void);

/*
 * A short English description of a verdict or result code (e.g. "invalid argument"); "unknown code" for any
 * other value.
 * Returns: a static string owned by the library, valid until the library is unloaded; never NULL. Do not free
 * it. Thread-safe.
 */
const char *svcshell_code_text(int code);

/*
 * Creates a filter from `count` configuration properties: keys[i] = values[i], as a shipper passes them.
 * Properties (keys case-insensitive; `key: values (default: ...)`, then what it does):
 *   mode: tag, alerts_only (default: tag)
 *       tag: every record passes, matches carry the alert fields; alerts_only: only alerts pass.
 *   exception: an EQL condition (default: none); repeatable
 *       A match that also matches an exception is not an alert (counted in excepted).
 *   max_alerts: a whole number, 0 = no cap (default: 100)
 *       Alerts allowed per window; matches over the cap pass untagged (counted in suppressed).
 *   alert_window: 300, 300s, 5m, 1h, 1d (default: 5m)
 *       Window of the alert cap, keyed on the record's own time; a bare number is seconds.
 *   sources: a comma list of record shapes (default: all)
 *       The record shapes to recognise; an unknown name is an error.
 *   validate: matches, all (default: matches)
 *       matches: read in full the records that could match; all: every record.
 *   rule_file: a path (default: the embedded v313)
 *       Run the rule in this file (detection-rules TOML, Kibana export NDJSON or rule JSON).
 *   rule_id: a rule_id (default: none)
 *       Picks the rule of rule_file when it holds several (a Kibana export).
 * The values of mode, sources, validate are case-insensitive too; exception_1 ... exception_16 each add one more
 * exception (as in Fluent Bit, which cannot repeat a key), each given at most once.
 * A rule file's `max_signals` and `interval` become the defaults of max_alerts and alert_window (see
 * docs/rules.md). Every key and value is checked; an unknown key, a bad value or a refused rule file is an error
 * naming it (a rule file error names the file, line and column).
 *
 * keys, values: arrays of `count` NUL-terminated UTF-8 strings, borrowed for the call only (svcshell copies
 *               what it keeps). May be NULL when count is 0 (all defaults). A NULL entry is an error.
 * err:          NULL, or where to store the error message. On success *err is set to NULL. On failure *err is
 *               set to a malloc'd NUL-terminated message (e.g. "mode: `x` is not a mode (tag, alerts_only)"),
 *               owned by the caller, who releases it with svcshell_string_free() or free(); *err may also be
 *               NULL on failure if even that allocation failed.
 * Returns:      a new handle, owned by the caller until svcshell_filter_free(); or NULL on failure.
 * Thread-safe.
 */
svcshell_filter *svcshell_filter_new(const char *const *keys, const char *const *values, size_t count,
                                     char **err);

/*
 * Runs the rule on one record: one JSON object (surrounding whitespace allowed), e.g. one line of NDJSON
 * without its newline.
 *
 * filter:  a live handle (NULL: returns SVCSHELL_INVALID_ARGUMENT).
 * record:  `len` bytes, borrowed for the call only. NULL is allowed only with len 0 (an empty record: verdict
 *          SVCSHELL_ERROR, "empty record").
 * out, out_len: must not be NULL. Written only when the verdict is SVCSHELL_ALERT: *out is then a new
 *          malloc'd buffer of *out_len bytes (the record with the ECS alert fields spliced in, not
 *          NUL-terminated), owned by the caller, who releases it with svcshell_buffer_free() or free(). For every
 *          other verdict or result *out and *out_len are left untouched (initialise *out to NULL if you want to
 *          free it unconditionally).
 * Returns: a verdict: SVCSHELL_PASS (emit the input), SVCSHELL_ALERT (emit *out), SVCSHELL_DROP (emit nothing),
 *          SVCSHELL_ERROR (emit the input; reason in svcshell_filter_last_error()); or a negative result
 *          (SVCSHELL_INVALID_ARGUMENT, SVCSHELL_PANIC, SVCSHELL_OUT_OF_MEMORY: emit the input unchanged; reason in
 *          svcshell_filter_last_error()). In mode=alerts_only an unreadable record gives SVCSHELL_DROP and its
 *          reason is still recorded as the last error.
 * Thread-safe: many threads may call this on one handle at once.
 */
int svcshell_filter_process(const svcshell_filter *filter, const uint8_t *record, size_t len, uint8_t **out,
                            size_t *out_len);

/*
 * Runs the rule on every record of an NDJSON buffer in one call (one crossing per chunk, one output buffer).
 * The buffer is split on '\n'; each line is one record, processed as by svcshell_filter_process(). A last line
 * without '\n' is a record too. Blank lines (empty, or only spaces, tabs and '\r') hold no record: they are
 * skipped, neither counted nor written.
 *
 * filter:  a live handle (NULL: returns SVCSHELL_INVALID_ARGUMENT).
 * buf:     `len` bytes, borrowed for the call only. NULL is allowed only with len 0 (no records).
 * out, out_len: must not be NULL. On SVCSHELL_OK, *out is a new malloc'd buffer of *out_len bytes holding, in
 *          input order, each record that is not dropped followed by '\n': alerts as the tagged record, every other
 *          record byte for byte as it was (a trailing '\r' included). When nothing is written, *out is NULL and
 *          *out_len is 0. The caller owns *out and releases it with svcshell_buffer_free() or free() (both accept
 *          NULL). On a negative result *out and *out_len are left untouched.
 * counts:  NULL, or a svcshell_batch_counts initialised with SVCSHELL_BATCH_COUNTS_INIT, filled on SVCSHELL_OK.
 * Returns: SVCSHELL_OK, or SVCSHELL_INVALID_ARGUMENT / SVCSHELL_PANIC / SVCSHELL_OUT_OF_MEMORY (emit the input
 *          chunk unchanged; the handle's counters may include the records read before the failure). Records that
 *          could not be read do not fail the call: they are counted in counts->errors and the last one's reason
 *          ("line N: ...") becomes the handle's last error.
 * Thread-safe: many threads may call this on one handle at once.
 */
int svcshell_filter_process_ndjson(const svcshell_filter *filter, const uint8_t *buf, size_t len, uint8_t **out,
                                   size_t *out_len, svcshell_batch_counts *counts);

/*
 * Copies the handle's counters into *stats.
 *
 * filter: a live handle (NULL: returns SVCSHELL_INVALID_ARGUMENT).
 * stats:  caller-owned, initialised with SVCSHELL_STATS_INIT (stats->size = sizeof(svcshell_stats)); not NULL.
 * Returns: SVCSHELL_OK, or SVCSHELL_INVALID_ARGUMENT (NULL, or size smaller than the API 1.0 struct).
 * Thread-safe: may run while other threads process records; each counter is read atomically, but the set is
 * not one snapshot (records may be ahead of alerts by the calls in flight).
 */
int svcshell_filter_stats(const svcshell_filter *filter, svcshell_stats *stats);

/*
 * The handle's last error message: why the most recent SVCSHELL_ERROR / SVCSHELL_DROP-with-error /
 * SVCSHELL_INVALID_ARGUMENT / SVCSHELL_PANIC / SVCSHELL_OUT_OF_MEMORY on this handle happened (e.g. "invalid
 * JSON at byte 5", "svcshell_filter_process: out is NULL"). "at byte N": N is the 0-based offset of the first
 * byte that is not valid there, or the record's length when it ends too early (`{"a":` is at byte 5), the same
 * as `svcshell explain` reports. Successful calls do not clear it: read it right
 * after a call reports a problem. It is per handle, not per thread: when several threads share a handle it is
 * the most recent error recorded by any of them.
 *
 * filter: a live handle; NULL gives 0 (errors of calls made with a NULL handle have no message; see
 *         svcshell_code_text()).
 * buf:    NULL, or caller-owned memory of `buflen` bytes. Like snprintf: when buflen > 0, the message is copied
 *         and NUL-terminated, truncated to buflen - 1 bytes at a UTF-8 character boundary; "" when there is none.
 * Returns: the full length of the message in bytes (without the NUL), 0 when there is none. A return value >=
 *          buflen means the copy was truncated; call again with a buffer of return value + 1 bytes.
 * Thread-safe.
 */
size_t svcshell_filter_last_error(const svcshell_filter *filter, char *buf, size_t buflen);

/*
 * Destroys a handle and everything it owns. NULL is a no-op. Buffers already returned to the host stay valid.
 * Not thread-safe with respect to the handle: no other call on this handle may be running or start later.
 */
void svcshell_filter_free(svcshell_filter *filter);

/*
 * Releases an output buffer returned by svcshell_filter_process() or svcshell_filter_process_ndjson(). NULL is
 * a no-op. Equivalent to free(buf): either may be used. Thread-safe (for distinct buffers).
 */
void svcshell_buffer_free(uint8_t *buf);

/*
 * Releases an error string returned by svcshell_filter_new(). NULL is a no-op. Equivalent to free(s).
 * Thread-safe (for distinct strings).
 */
void svcshell_string_free(char *s);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SVCSHELL_H */
