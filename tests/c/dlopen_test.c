/*
 * dlopen_test.c - a shipper-style host: loads libsvcshell.so at run time with dlopen() and resolves every function
 * of include/svcshell.h with dlsym() (no -lsvcshell). Each pointer's type is checked at compile time against the
 * header's declaration. Then it does what a shipper does: checks the API version, creates a filter from its
 * configuration, filters a chunk of NDJSON and single records, reads the counters and releases everything.
 * Built and run by tests/c_api.rs (cargo test) and tests/c/valgrind.sh.
 *
 * Usage: dlopen_test [path/to/libsvcshell.so]   (default: env SVCSHELL_LIB, else "libsvcshell.so")
 * Prints "dlopen_test: N checks passed" and exits 0, or lists the failed checks and exits 1.
 */
#define _POSIX_C_SOURCE 200809L
#include "svcshell.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

#define CHECK(cond)                                                                                                \
    do {                                                                                                           \
        checks++;                                                                                                  \
        if (!(cond)) {                                                                                             \
            failures++;                                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                               \
        }                                                                                                          \
    } while (0)

/* The whole API as function pointers. */
static struct {
    const char *(*api_version)(void);
    uint32_t (*api_version_major)(void);
    uint32_t (*api_version_minor)(void);
    const char *(*version)(void);
    const char *(*code_text)(int);
    svcshell_filter *(*filter_new)(const char *const *, const char *const *, size_t, char **);
    int (*filter_process)(const svcshell_filter *, const uint8_t *, size_t, uint8_t **, size_t *);
    int (*filter_process_ndjson)(const svcshell_filter *, const uint8_t *, size_t, uint8_t **, size_t *,
                                 svcshell_batch_counts *);
    int (*filter_stats)(const svcshell_filter *, svcshell_stats *);
    size_t (*filter_last_error)(const svcshell_filter *, char *, size_t);
    void (*filter_free)(svcshell_filter *);
    void (*buffer_free)(uint8_t *);
    void (*string_free)(char *);
} api;

/*
 * Resolves svcshell_<name> into api.<name>. The unevaluated comparison with the header's declaration fails to
 * compile (-Werror) when the pointer's type differs from it; it does not reference the symbol at link time.
 * memcpy moves the object pointer from dlsym into the function pointer without a non-ISO cast (POSIX guarantees
 * the representations match).
 */
#define LOAD(name)                                                                                                 \
    do {                                                                                                           \
        void *sym = dlsym(lib, "svcshell_" #name);                                                                 \
        (void)sizeof(api.name == svcshell_##name);                                                                 \
        CHECK(sym != NULL);                                                                                        \
        if (!sym) fprintf(stderr, "dlsym(svcshell_%s): %s\n", #name, dlerror());                                   \
        memcpy(&api.name, &sym, sizeof sym);                                                                       \
    } while (0)

static const char MATCH[] =
    "{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"event\":{\"category\":[\"process\"],\"type\":[\"start\"],"
    "\"kind\":\"event\"},\"host\":{\"os\":{\"type\":\"windows\"}},\"process\":{\"name\":\"cmd.exe\","
    "\"args\":[\"cmd.exe\",\"/c\",\"whoami\"],\"parent\":{\"name\":\"services.exe\"}}}";
static const char NOMATCH[] =
    "{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"event\":{\"category\":[\"process\"],\"type\":[\"start\"],"
    "\"kind\":\"event\"},\"host\":{\"os\":{\"type\":\"windows\"}},\"process\":{\"name\":\"cmd.exe\","
    "\"args\":[\"cmd.exe\",\"/c\",\"whoami\"],\"parent\":{\"name\":\"svchost.exe\"}}}";

static int contains(const uint8_t *hay, size_t n, const char *needle) {
    size_t m = strlen(needle), i;
    for (i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) return 1;
    return 0;
}

static void run(void) {
    /* The shipper's configuration, as key/value strings. */
    const char *keys[] = {"mode", "max_alerts", "alert_window"};
    const char *values[] = {"tag", "1000", "5m"};
    const char *bad_keys[] = {"max_alerts"};
    const char *bad_values[] = {"lots"};
    char *err = NULL, msg[256];
    svcshell_filter *f;
    svcshell_stats st = SVCSHELL_STATS_INIT;
    svcshell_batch_counts c = SVCSHELL_BATCH_COUNTS_INIT;
    char chunk[2048];
    uint8_t *out = NULL;
    size_t out_len = 0, len;
    int v;

    /* Version gate: same major, library minor >= the header's. */
    CHECK(api.api_version_major() == SVCSHELL_API_VERSION_MAJOR);
    CHECK((int64_t)api.api_version_minor() >= SVCSHELL_API_VERSION_MINOR);
    CHECK(strcmp(api.api_version(), SVCSHELL_API_VERSION) == 0);
    CHECK(strlen(api.version()) > 0);
    CHECK(strcmp(api.code_text(SVCSHELL_INVALID_ARGUMENT), "invalid argument") == 0);

    /* A bad configuration is refused with a message naming the key. */
    f = api.filter_new(bad_keys, bad_values, 1, &err);
    CHECK(f == NULL && err != NULL && strncmp(err, "max_alerts: ", 12) == 0);
    api.string_free(err);

    f = api.filter_new(keys, values, 3, &err);
    CHECK(f != NULL && err == NULL);
    if (!f) return;

    /* One crossing per chunk. */
    len = (size_t)snprintf(chunk, sizeof chunk, "%s\n%s\nnot json\n%s\n", NOMATCH, MATCH, NOMATCH);
    v = api.filter_process_ndjson(f, (const uint8_t *)chunk, len, &out, &out_len, &c);
    CHECK(v == SVCSHELL_OK);
    CHECK(c.records == 4 && c.alerts == 1 && c.errors == 1 && c.dropped == 0);
    CHECK(out != NULL && out_len > len && contains(out, out_len, "\"kind\":\"alert\""));
    CHECK(out != NULL && memcmp(out, NOMATCH, strlen(NOMATCH)) == 0 && out[strlen(NOMATCH)] == '\n');
    CHECK(out != NULL && contains(out, out_len, "\nnot json\n"));
    CHECK(api.filter_last_error(f, msg, sizeof msg) > 0 && strstr(msg, "line 3:") == msg);
    api.buffer_free(out);

    /* One call per record. */
    out = NULL;
    v = api.filter_process(f, (const uint8_t *)MATCH, strlen(MATCH), &out, &out_len);
    CHECK(v == SVCSHELL_ALERT && out != NULL && contains(out, out_len, "\"kind\":\"alert\""));
    CHECK(out != NULL && contains(out, out_len, "\"rule\":{"));
    free(out);
    out = NULL;
    v = api.filter_process(f, (const uint8_t *)NOMATCH, strlen(NOMATCH), &out, &out_len);
    CHECK(v == SVCSHELL_PASS && out == NULL);
    v = api.filter_process(f, (const uint8_t *)"{\"a\":", 5, &out, &out_len);
    CHECK(v == SVCSHELL_ERROR && out == NULL);
    CHECK(api.filter_last_error(f, msg, sizeof msg) > 0 && strstr(msg, "invalid JSON") != NULL);
    v = api.filter_process(f, NULL, 1, &out, &out_len);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT && out == NULL);

    CHECK(api.filter_stats(f, &st) == SVCSHELL_OK);
    CHECK(st.records == 7 && st.alerts == 2 && st.errors == 2 && st.dropped == 0);
    CHECK(st.bytes == 3 * strlen(NOMATCH) + 2 * strlen(MATCH) + 8 + 5);

    api.filter_free(f);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : getenv("SVCSHELL_LIB");
    void *lib;
    if (!path) path = "libsvcshell.so";
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen_test: dlopen(%s): %s\n", path, dlerror());
        return 1;
    }

    LOAD(api_version);
    LOAD(api_version_major);
    LOAD(api_version_minor);
    LOAD(version);
    LOAD(code_text);
    LOAD(filter_new);
    LOAD(filter_process);
    LOAD(filter_process_ndjson);
    LOAD(filter_stats);
    LOAD(filter_last_error);
    LOAD(filter_free);
    LOAD(buffer_free);
    LOAD(string_free);

    if (failures == 0) run();
    CHECK(dlclose(lib) == 0);

    if (failures) {
        fprintf(stderr, "dlopen_test: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("dlopen_test: %d checks passed\n", checks);
    return 0;
}
