/*
 * link_test.c - the C API test of a host that links libsvcshell (-lsvcshell). Built and run by tests/c_api.rs
 * (cargo test) and by tests/c/valgrind.sh. Calls every function in include/svcshell.h: versions, filter creation
 * and its errors, verdicts on matching / non-matching / malformed records in both modes, the alert output, the
 * NDJSON batch call, stats, the last error, argument checks, and 4 threads on one handle.
 *
 * Usage: link_test [records_per_thread]   (default 100000; or env SVCSHELL_TEST_RECORDS)
 * Prints "link_test: N checks passed" and exits 0, or lists the failed checks and exits 1.
 */
#define _POSIX_C_SOURCE 200809L
#include "svcshell.h"

#include <pthread.h>
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

static const char MATCH[] =
    "{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"event\":{\"category\":[\"process\"],\"type\":[\"start\"],"
    "\"kind\":\"event\"},\"host\":{\"os\":{\"type\":\"windows\"}},\"process\":{\"name\":\"cmd.exe\","
    "\"args\":[\"cmd.exe\",\"/c\",\"whoami\"],\"parent\":{\"name\":\"services.exe\"}}}";
/* The same without event.kind: the alert only inserts fields, so the input is a subsequence of the output. */
static const char MATCH_NO_KIND[] =
    "{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"event\":{\"category\":[\"process\"],\"type\":[\"start\"]},"
    "\"host\":{\"os\":{\"type\":\"windows\"}},\"process\":{\"name\":\"cmd.exe\","
    "\"args\":[\"cmd.exe\",\"/c\",\"whoami\"],\"parent\":{\"name\":\"services.exe\"}}}";
static const char NOMATCH[] =
    "{\"@timestamp\":\"2024-05-01T12:00:00Z\",\"event\":{\"category\":[\"process\"],\"type\":[\"start\"],"
    "\"kind\":\"event\"},\"host\":{\"os\":{\"type\":\"windows\"}},\"process\":{\"name\":\"cmd.exe\","
    "\"args\":[\"cmd.exe\",\"/c\",\"whoami\"],\"parent\":{\"name\":\"svchost.exe\"}}}";
static const char *const MALFORMED[] = {"{\"a\":", "not json", "[1,2,3]", "   ",
                                        "{\"process\":{\"name\":\"cmd.exe\",\"parent\":{\"name\":\"services.exe\"}}"};

static const uint8_t *u8(const char *s) { return (const uint8_t *)s; }

/* True when `needle` occurs in the n bytes at `hay`. */
static int contains(const uint8_t *hay, size_t n, const char *needle) {
    size_t m = strlen(needle), i;
    if (m > n) return 0;
    for (i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) return 1;
    return 0;
}

/* True when the bytes of `sub` appear in `s` in order (every input byte is kept by an insert-only splice). */
static int subsequence(const char *sub, const uint8_t *s, size_t n) {
    size_t i = 0, j;
    for (j = 0; j < n && sub[i]; j++)
        if (s[j] == (uint8_t)sub[i]) i++;
    return sub[i] == 0;
}

static svcshell_filter *make(const char *const *kv, size_t pairs) {
    const char *keys[8], *values[8];
    char *err = NULL;
    size_t i;
    svcshell_filter *f;
    for (i = 0; i < pairs; i++) {
        keys[i] = kv[2 * i];
        values[i] = kv[2 * i + 1];
    }
    f = svcshell_filter_new(keys, values, pairs, &err);
    if (!f) fprintf(stderr, "svcshell_filter_new: %s\n", err ? err : "(no message)");
    CHECK(f != NULL);
    CHECK(err == NULL);
    svcshell_string_free(err);
    return f;
}

static const char *last_error(const svcshell_filter *f) {
    static char buf[512];
    svcshell_filter_last_error(f, buf, sizeof buf);
    return buf;
}

static void test_versions(void) {
    const char *v = svcshell_api_version();
    CHECK(v != NULL && strcmp(v, SVCSHELL_API_VERSION) == 0);
    CHECK(svcshell_api_version_major() == SVCSHELL_API_VERSION_MAJOR);
    CHECK((int64_t)svcshell_api_version_minor() >= SVCSHELL_API_VERSION_MINOR);
    CHECK(SVCSHELL_API_COMPATIBLE());
    CHECK(svcshell_version() != NULL && strlen(svcshell_version()) >= 5);
    CHECK(strstr(svcshell_code_text(SVCSHELL_PASS), "pass") != NULL);
    CHECK(strstr(svcshell_code_text(SVCSHELL_ALERT), "alert") != NULL);
    CHECK(strstr(svcshell_code_text(SVCSHELL_DROP), "drop") != NULL);
    CHECK(strstr(svcshell_code_text(SVCSHELL_ERROR), "error") != NULL);
    CHECK(strcmp(svcshell_code_text(SVCSHELL_INVALID_ARGUMENT), "invalid argument") == 0);
    CHECK(strstr(svcshell_code_text(SVCSHELL_PANIC), "panic") != NULL);
    CHECK(strcmp(svcshell_code_text(SVCSHELL_OUT_OF_MEMORY), "out of memory") == 0);
    CHECK(strcmp(svcshell_code_text(12345), "unknown code") == 0);
    CHECK(sizeof(svcshell_stats) == 64 && sizeof(svcshell_batch_counts) == 40);
}

static void test_new_errors(void) {
    const char *k1[] = {"mode"}, *v1[] = {"sometimes"};
    const char *k2[] = {"colour"}, *v2[] = {"blue"};
    const char *k3[] = {"mode"}, *v3[] = {NULL};
    const char *k4[] = {"\xff\xfe"}, *v4[] = {"x"};
    const char *k5[] = {"exception"}, *v5[] = {"process.name like"};
    char *err = (char *)"untouched?";
    svcshell_filter *f;

    f = svcshell_filter_new(NULL, NULL, 0, &err); /* all defaults */
    CHECK(f != NULL && err == NULL);
    svcshell_filter_free(f);

    f = svcshell_filter_new(k1, v1, 1, &err);
    CHECK(f == NULL && err != NULL && strstr(err, "mode") && strstr(err, "sometimes"));
    svcshell_string_free(err);

    f = svcshell_filter_new(k2, v2, 1, &err);
    CHECK(f == NULL && err != NULL && strstr(err, "unknown property"));
    free(err); /* free() is as good as svcshell_string_free() */

    f = svcshell_filter_new(k3, v3, 1, &err);
    CHECK(f == NULL && err != NULL && strcmp(err, "values[0] is NULL") == 0);
    svcshell_string_free(err);

    f = svcshell_filter_new(k4, v4, 1, &err);
    CHECK(f == NULL && err != NULL && strstr(err, "not valid UTF-8"));
    svcshell_string_free(err);

    f = svcshell_filter_new(k5, v5, 1, &err);
    CHECK(f == NULL && err != NULL && strstr(err, "exception"));
    svcshell_string_free(err);

    f = svcshell_filter_new(NULL, v1, 1, &err);
    CHECK(f == NULL && err != NULL && strstr(err, "keys is NULL"));
    svcshell_string_free(err);

    f = svcshell_filter_new(k1, NULL, 1, &err);
    CHECK(f == NULL && err != NULL && strstr(err, "values is NULL"));
    svcshell_string_free(err);

    CHECK(svcshell_filter_new(k1, v1, 1, NULL) == NULL); /* no error wanted */

    svcshell_filter_free(NULL);
    svcshell_buffer_free(NULL);
    svcshell_string_free(NULL);
}

static void test_tag_mode(void) {
    static const char *const kv[] = {"mode", "tag", "max_alerts", "0"};
    svcshell_filter *f = make(kv, 2);
    svcshell_stats st = SVCSHELL_STATS_INIT;
    uint8_t sentinel = 0, *out = &sentinel;
    size_t out_len = 12345, i, n_bytes = 0;
    char small[8];
    int v;

    /* A match: ALERT, and *out is the tagged record. */
    out = NULL;
    v = svcshell_filter_process(f, u8(MATCH), strlen(MATCH), &out, &out_len);
    CHECK(v == SVCSHELL_ALERT);
    CHECK(out != NULL && out_len > strlen(MATCH));
    if (out) {
        CHECK(out[0] == '{' && out[out_len - 1] == '}');
        CHECK(contains(out, out_len, "\"kind\":\"alert\""));
        CHECK(!contains(out, out_len, "\"kind\":\"event\""));
        CHECK(contains(out, out_len, "\"name\":\"System Shells via Services\""));
        CHECK(contains(out, out_len, "0022d47d-39c7-4f69-a232-4fe9dc7a3acd"));
        CHECK(contains(out, out_len, "\"parent\":{\"name\":\"services.exe\"}"));
        CHECK(contains(out, out_len, "\"@timestamp\":\"2024-05-01T12:00:00Z\""));
    }
    svcshell_buffer_free(out);
    n_bytes += strlen(MATCH);

    out = NULL;
    v = svcshell_filter_process(f, u8(MATCH_NO_KIND), strlen(MATCH_NO_KIND), &out, &out_len);
    CHECK(v == SVCSHELL_ALERT);
    CHECK(out != NULL && subsequence(MATCH_NO_KIND, out, out_len));
    CHECK(out != NULL && contains(out, out_len, "\"kind\":\"alert\""));
    free(out); /* free() is as good as svcshell_buffer_free() */
    n_bytes += strlen(MATCH_NO_KIND);

    /* No match: PASS, out untouched. */
    out = &sentinel;
    out_len = 12345;
    v = svcshell_filter_process(f, u8(NOMATCH), strlen(NOMATCH), &out, &out_len);
    CHECK(v == SVCSHELL_PASS);
    CHECK(out == &sentinel && out_len == 12345);
    n_bytes += strlen(NOMATCH);

    /* Malformed: ERROR (pass unchanged), out untouched, a reason. */
    for (i = 0; i < sizeof MALFORMED / sizeof *MALFORMED; i++) {
        v = svcshell_filter_process(f, u8(MALFORMED[i]), strlen(MALFORMED[i]), &out, &out_len);
        CHECK(v == SVCSHELL_ERROR);
        CHECK(out == &sentinel && out_len == 12345);
        CHECK(svcshell_filter_last_error(f, NULL, 0) > 0);
        n_bytes += strlen(MALFORMED[i]);
    }
    v = svcshell_filter_process(f, u8("{\"a\":"), 5, &out, &out_len);
    CHECK(v == SVCSHELL_ERROR && strcmp(last_error(f), "invalid JSON at byte 5") == 0);
    n_bytes += 5;
    v = svcshell_filter_process(f, u8("xml?"), 4, &out, &out_len);
    CHECK(v == SVCSHELL_ERROR && strcmp(last_error(f), "invalid JSON at byte 0") == 0);
    n_bytes += 4;
    v = svcshell_filter_process(f, u8("[1]"), 3, &out, &out_len);
    CHECK(v == SVCSHELL_ERROR && strcmp(last_error(f), "record is not a JSON object") == 0);
    n_bytes += 3;

    /* Zero length: an empty record (NULL pointer allowed), never dereferenced. */
    v = svcshell_filter_process(f, NULL, 0, &out, &out_len);
    CHECK(v == SVCSHELL_ERROR && strcmp(last_error(f), "empty record") == 0);
    v = svcshell_filter_process(f, u8(MATCH), 0, &out, &out_len);
    CHECK(v == SVCSHELL_ERROR && strcmp(last_error(f), "empty record") == 0);

    /* Invalid arguments: reported, nothing counted, nothing written. */
    v = svcshell_filter_process(f, NULL, 10, &out, &out_len);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT && strstr(last_error(f), "record is NULL") != NULL);
    v = svcshell_filter_process(f, u8(MATCH), strlen(MATCH), NULL, &out_len);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT && strstr(last_error(f), "out is NULL") != NULL);
    v = svcshell_filter_process(f, u8(MATCH), strlen(MATCH), &out, NULL);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT && strstr(last_error(f), "out_len is NULL") != NULL);
    v = svcshell_filter_process(NULL, u8(MATCH), strlen(MATCH), &out, &out_len);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT);
    CHECK(out == &sentinel && out_len == 12345);

    /* The last error, snprintf-style. */
    {
        size_t full = svcshell_filter_last_error(f, NULL, 0);
        CHECK(full == strlen("svcshell_filter_process: out_len is NULL"));
        memset(small, 'x', sizeof small);
        CHECK(svcshell_filter_last_error(f, small, sizeof small) == full);
        CHECK(strcmp(small, "svcshel") == 0);
        memset(small, 'x', sizeof small);
        CHECK(svcshell_filter_last_error(f, small, 1) == full && small[0] == 0 && small[1] == 'x');
        memset(small, 'x', sizeof small);
        CHECK(svcshell_filter_last_error(NULL, small, sizeof small) == 0 && small[0] == 0);
    }

    /* Stats: exact counts of the calls above. */
    CHECK(svcshell_filter_stats(f, &st) == SVCSHELL_OK);
    CHECK(st.size == sizeof st);
    CHECK(st.records == 2 + 1 + 5 + 3 + 2);
    CHECK(st.bytes == n_bytes);
    CHECK(st.alerts == 2);
    CHECK(st.errors == 5 + 3 + 2);
    CHECK(st.suppressed == 0 && st.excepted == 0 && st.dropped == 0);
    {
        svcshell_stats bad = SVCSHELL_STATS_INIT;
        bad.size = 8;
        CHECK(svcshell_filter_stats(f, &bad) == SVCSHELL_INVALID_ARGUMENT);
        CHECK(strstr(last_error(f), "svcshell_stats.size is 8") != NULL);
        CHECK(bad.records == 0);
        CHECK(svcshell_filter_stats(f, NULL) == SVCSHELL_INVALID_ARGUMENT);
        CHECK(strstr(last_error(f), "stats is NULL") != NULL);
        CHECK(svcshell_filter_stats(NULL, &st) == SVCSHELL_INVALID_ARGUMENT);
    }
    svcshell_filter_free(f);
}

static void test_alerts_only_exceptions_cap(void) {
    static const char *const only[] = {"mode", "alerts_only"};
    static const char *const exc[] = {"exception", "process.args : \"whoami\"", "max_alerts", "0"};
    static const char *const cap[] = {"max_alerts", "1", "alert_window", "5m"};
    svcshell_filter *f = make(only, 1);
    svcshell_stats st = SVCSHELL_STATS_INIT;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int v;

    v = svcshell_filter_process(f, u8(MATCH), strlen(MATCH), &out, &out_len);
    CHECK(v == SVCSHELL_ALERT && out != NULL && contains(out, out_len, "\"kind\":\"alert\""));
    svcshell_buffer_free(out);
    out = NULL;
    v = svcshell_filter_process(f, u8(NOMATCH), strlen(NOMATCH), &out, &out_len);
    CHECK(v == SVCSHELL_DROP && out == NULL);
    v = svcshell_filter_process(f, u8("{\"a\":"), 5, &out, &out_len);
    CHECK(v == SVCSHELL_DROP && out == NULL); /* unreadable, dropped: the reason is still recorded */
    CHECK(strstr(last_error(f), "invalid JSON") != NULL);
    CHECK(svcshell_filter_stats(f, &st) == SVCSHELL_OK);
    CHECK(st.records == 3 && st.alerts == 1 && st.dropped == 2 && st.errors == 1);
    svcshell_filter_free(f);

    f = make(exc, 2);
    v = svcshell_filter_process(f, u8(MATCH), strlen(MATCH), &out, &out_len);
    CHECK(v == SVCSHELL_PASS && out == NULL);
    CHECK(svcshell_filter_stats(f, &st) == SVCSHELL_OK && st.excepted == 1 && st.alerts == 0);
    svcshell_filter_free(f);

    f = make(cap, 2);
    v = svcshell_filter_process(f, u8(MATCH), strlen(MATCH), &out, &out_len);
    CHECK(v == SVCSHELL_ALERT);
    svcshell_buffer_free(out);
    out = NULL;
    v = svcshell_filter_process(f, u8(MATCH), strlen(MATCH), &out, &out_len);
    CHECK(v == SVCSHELL_PASS && out == NULL); /* over the cap: passes untagged */
    CHECK(svcshell_filter_stats(f, &st) == SVCSHELL_OK && st.alerts == 1 && st.suppressed == 1);
    svcshell_filter_free(f);
}

/* Splits `n` bytes into '\n'-terminated lines; returns how many, or -1 when the buffer does not end in '\n'. */
static int count_lines(const uint8_t *p, size_t n) {
    int lines = 0;
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] == '\n') lines++;
    return n > 0 && p[n - 1] != '\n' ? -1 : lines;
}

static void test_ndjson(void) {
    static const char *const tag[] = {"max_alerts", "0"};
    static const char *const only[] = {"mode", "alerts_only", "max_alerts", "0"};
    svcshell_filter *f = make(tag, 1), *g = make(only, 2);
    svcshell_batch_counts c = SVCSHELL_BATCH_COUNTS_INIT;
    char buf[4096];
    uint8_t sentinel = 0, *out = NULL;
    size_t out_len = 0, len;
    int v;

    /* match, no match, blank, blank with \r, malformed, no match with CRLF, match without a final '\n' */
    len = (size_t)snprintf(buf, sizeof buf, "%s\n%s\n\n  \r\n{\"a\":\n%s\r\n%s", MATCH, NOMATCH, NOMATCH, MATCH);
    v = svcshell_filter_process_ndjson(f, u8(buf), len, &out, &out_len, &c);
    CHECK(v == SVCSHELL_OK);
    CHECK(c.size == sizeof c);
    CHECK(c.records == 5 && c.alerts == 2 && c.dropped == 0 && c.errors == 1);
    CHECK(out != NULL && count_lines(out, out_len) == 5);
    CHECK(strstr(last_error(f), "line 5: invalid JSON") != NULL);
    if (out) {
        /* line by line: alert, the no-match verbatim, the malformed verbatim, the CRLF line verbatim, alert */
        const uint8_t *p = out, *e = out + out_len, *nl;
        int line = 0;
        while (p < e) {
            size_t n;
            nl = memchr(p, '\n', (size_t)(e - p));
            n = (size_t)(nl - p);
            switch (line++) {
            case 0:
            case 4: CHECK(contains(p, n, "\"kind\":\"alert\"") && p[0] == '{' && p[n - 1] == '}'); break;
            case 1: CHECK(n == strlen(NOMATCH) && memcmp(p, NOMATCH, n) == 0); break;
            case 2: CHECK(n == 5 && memcmp(p, "{\"a\":", 5) == 0); break;
            case 3: CHECK(n == strlen(NOMATCH) + 1 && memcmp(p, NOMATCH, n - 1) == 0 && p[n - 1] == '\r'); break;
            default: CHECK(!"too many lines");
            }
            p = nl + 1;
        }
    }
    svcshell_buffer_free(out);

    /* alerts_only: only the alerts come out. */
    out = NULL;
    v = svcshell_filter_process_ndjson(g, u8(buf), len, &out, &out_len, &c);
    CHECK(v == SVCSHELL_OK && c.records == 5 && c.alerts == 2 && c.dropped == 3 && c.errors == 1);
    CHECK(out != NULL && count_lines(out, out_len) == 2);
    free(out);

    /* Nothing passes: *out is NULL, *out_len 0. */
    len = (size_t)snprintf(buf, sizeof buf, "%s\n%s\n", NOMATCH, NOMATCH);
    out = &sentinel;
    out_len = 7;
    v = svcshell_filter_process_ndjson(g, u8(buf), len, &out, &out_len, NULL); /* counts are optional */
    CHECK(v == SVCSHELL_OK && out == NULL && out_len == 0);

    /* Tag mode without alerts: the output is the input, byte for byte. */
    out = NULL;
    v = svcshell_filter_process_ndjson(f, u8(buf), len, &out, &out_len, &c);
    CHECK(v == SVCSHELL_OK && out_len == len && out != NULL && memcmp(out, buf, len) == 0);
    CHECK(c.records == 2 && c.alerts == 0 && c.errors == 0);
    svcshell_buffer_free(out);

    /* Empty input (NULL allowed with length 0). */
    out = &sentinel;
    v = svcshell_filter_process_ndjson(f, NULL, 0, &out, &out_len, &c);
    CHECK(v == SVCSHELL_OK && out == NULL && out_len == 0 && c.records == 0);
    v = svcshell_filter_process_ndjson(f, u8("\n\n \n"), 4, &out, &out_len, &c);
    CHECK(v == SVCSHELL_OK && out == NULL && out_len == 0 && c.records == 0);

    /* Invalid arguments. */
    out = &sentinel;
    out_len = 7;
    v = svcshell_filter_process_ndjson(f, NULL, 3, &out, &out_len, &c);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT && strstr(last_error(f), "buf is NULL") != NULL);
    v = svcshell_filter_process_ndjson(f, u8(buf), len, NULL, &out_len, &c);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT && strstr(last_error(f), "out is NULL") != NULL);
    v = svcshell_filter_process_ndjson(f, u8(buf), len, &out, NULL, &c);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT && strstr(last_error(f), "out_len is NULL") != NULL);
    c.size = 0;
    v = svcshell_filter_process_ndjson(f, u8(buf), len, &out, &out_len, &c);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT && strstr(last_error(f), "svcshell_batch_counts.size is 0") != NULL);
    v = svcshell_filter_process_ndjson(NULL, u8(buf), len, &out, &out_len, NULL);
    CHECK(v == SVCSHELL_INVALID_ARGUMENT);
    CHECK(out == &sentinel && out_len == 7);

    svcshell_filter_free(f);
    svcshell_filter_free(g);
}

/* ---- 4 threads on one handle ---- */

struct worker {
    const svcshell_filter *f;
    int id;
    long records;
    /* what this thread saw */
    uint64_t seen_records, seen_bytes, seen_alerts, seen_errors, bad;
};

/* Record i of every thread: every 4th a match, every 8th malformed, the rest non-matching. */
static const char *record_for(long i) {
    if (i % 4 == 0) return MATCH;
    if (i % 8 == 1) return "{\"a\":";
    return NOMATCH;
}

static void *work(void *arg) {
    struct worker *w = arg;
    long i;
    if (w->id % 2 == 0) {
        /* one call per record */
        for (i = 0; i < w->records; i++) {
            const char *r = record_for(i);
            uint8_t *out = NULL;
            size_t out_len = 0, n = strlen(r);
            int v = svcshell_filter_process(w->f, u8(r), n, &out, &out_len);
            w->seen_records++;
            w->seen_bytes += n;
            if (r == MATCH) {
                if (v != SVCSHELL_ALERT || !out || !contains(out, out_len, "\"kind\":\"alert\"")) w->bad++;
                w->seen_alerts++;
            } else if (r == NOMATCH) {
                if (v != SVCSHELL_PASS || out) w->bad++;
            } else {
                if (v != SVCSHELL_ERROR || out) w->bad++;
                w->seen_errors++;
            }
            svcshell_buffer_free(out);
        }
    } else {
        /* NDJSON chunks of up to 64 records */
        static const size_t cap = 64 * 400;
        char *chunk = malloc(cap);
        if (!chunk) {
            w->bad++;
            return NULL;
        }
        for (i = 0; i < w->records;) {
            size_t len = 0;
            uint64_t alerts = 0, errors = 0, k = 0;
            svcshell_batch_counts c = SVCSHELL_BATCH_COUNTS_INIT;
            uint8_t *out = NULL;
            size_t out_len = 0;
            int v;
            for (; i < w->records && k < 64; i++, k++) {
                const char *r = record_for(i);
                size_t n = strlen(r);
                memcpy(chunk + len, r, n);
                chunk[len + n] = '\n';
                len += n + 1;
                w->seen_bytes += n;
                alerts += r == MATCH;
                errors += r != MATCH && r != NOMATCH;
            }
            v = svcshell_filter_process_ndjson(w->f, u8(chunk), len, &out, &out_len, &c);
            if (v != SVCSHELL_OK || c.records != k || c.alerts != alerts || c.errors != errors || c.dropped != 0 ||
                count_lines(out, out_len) != (int)k)
                w->bad++;
            w->seen_records += k;
            w->seen_alerts += alerts;
            w->seen_errors += errors;
            svcshell_buffer_free(out);
        }
        free(chunk);
    }
    return NULL;
}

static void test_threads(long per_thread) {
    static const char *const kv[] = {"max_alerts", "0"};
    svcshell_filter *f = make(kv, 1);
    struct worker w[4];
    pthread_t t[4];
    svcshell_stats st = SVCSHELL_STATS_INIT;
    uint64_t records = 0, bytes = 0, alerts = 0, errors = 0, bad = 0, prev = 0;
    int i, started = 0, monotonic = 1;

    for (i = 0; i < 4; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].f = f;
        w[i].id = i;
        w[i].records = per_thread;
        if (pthread_create(&t[i], NULL, work, &w[i]) == 0) started++;
    }
    CHECK(started == 4);
    /* Read stats and the last error while the workers run: both are thread-safe. */
    for (i = 0; i < 200; i++) {
        char msg[128];
        svcshell_stats now = SVCSHELL_STATS_INIT;
        CHECK(svcshell_filter_stats(f, &now) == SVCSHELL_OK);
        if (now.records < prev) monotonic = 0;
        prev = now.records;
        svcshell_filter_last_error(f, msg, sizeof msg);
    }
    CHECK(monotonic);
    for (i = 0; i < started; i++) pthread_join(t[i], NULL);
    for (i = 0; i < 4; i++) {
        records += w[i].seen_records;
        bytes += w[i].seen_bytes;
        alerts += w[i].seen_alerts;
        errors += w[i].seen_errors;
        bad += w[i].bad;
    }
    CHECK(bad == 0);
    CHECK(records == 4 * (uint64_t)per_thread);
    CHECK(svcshell_filter_stats(f, &st) == SVCSHELL_OK);
    CHECK(st.records == records);
    CHECK(st.bytes == bytes);
    CHECK(st.alerts == alerts);
    CHECK(st.errors == errors);
    CHECK(st.suppressed == 0 && st.excepted == 0 && st.dropped == 0);
    printf("link_test: 4 threads x %ld records: records=%llu alerts=%llu errors=%llu\n", per_thread,
           (unsigned long long)st.records, (unsigned long long)st.alerts, (unsigned long long)st.errors);
    svcshell_filter_free(f);
}

int main(int argc, char **argv) {
    long per_thread = 100000;
    const char *env = getenv("SVCSHELL_TEST_RECORDS");
    if (argc > 1) per_thread = atol(argv[1]);
    else if (env) per_thread = atol(env);
    if (per_thread < 8) per_thread = 8;

    test_versions();
    test_new_errors();
    test_tag_mode();
    test_alerts_only_exceptions_cap();
    test_ndjson();
    test_threads(per_thread);

    if (failures) {
        fprintf(stderr, "link_test: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("link_test: %d checks passed\n", checks);
    return 0;
}
