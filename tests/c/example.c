/*
 * example.c - the C API example of docs/c-api.md, built and run by the test suite (tests/c_api.rs): an NDJSON filter.
 * Reads one JSON record per line on stdin, writes to stdout what a shipper would forward, counters to stderr.
 *
 *   cc -std=c99 -I include tests/c/example.c -L target/release -lsvcshell -Wl,-rpath,target/release -o example
 *   ./example mode=tag max_alerts=0 < events.ndjson > out.ndjson
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcshell.h"

int main(int argc, char **argv) {
    const char *keys[16], *values[16];
    char key_buf[16][64], *err = NULL, *line = NULL, reason[256];
    size_t count = 0, cap = 0;
    ssize_t n;
    svcshell_filter *filter;
    svcshell_stats stats = SVCSHELL_STATS_INIT;
    int i;

    if (!SVCSHELL_API_COMPATIBLE()) {
        fprintf(stderr, "libsvcshell %s is not compatible with this build (%s)\n", svcshell_api_version(),
                SVCSHELL_API_VERSION);
        return 1;
    }
    /* Properties from the command line: key=value ... */
    for (i = 1; i < argc && count < 16; i++) {
        const char *eq = strchr(argv[i], '=');
        size_t klen = eq ? (size_t)(eq - argv[i]) : 0;
        if (!eq || klen >= sizeof key_buf[0]) {
            fprintf(stderr, "usage: %s [key=value]...\n", argv[0]);
            return 2;
        }
        memcpy(key_buf[count], argv[i], klen);
        key_buf[count][klen] = '\0';
        keys[count] = key_buf[count];
        values[count] = eq + 1;
        count++;
    }
    filter = svcshell_filter_new(keys, values, count, &err);
    if (!filter) {
        fprintf(stderr, "bad configuration: %s\n", err ? err : "out of memory");
        svcshell_string_free(err);
        return 1;
    }

    while ((n = getline(&line, &cap, stdin)) > 0) {
        uint8_t *out = NULL;
        size_t out_len = 0, len = (size_t)n;
        int verdict;
        if (line[len - 1] == '\n') len--; /* the record is the line without its newline */
        verdict = svcshell_filter_process(filter, (const uint8_t *)line, len, &out, &out_len);
        switch (verdict) {
        case SVCSHELL_ALERT: /* forward the tagged record, then release it */
            fwrite(out, 1, out_len, stdout);
            putchar('\n');
            svcshell_buffer_free(out);
            break;
        case SVCSHELL_DROP: /* alerts_only mode: forward nothing */
            break;
        case SVCSHELL_PASS: /* forward the record as it is */
            fwrite(line, 1, len, stdout);
            putchar('\n');
            break;
        default: /* SVCSHELL_ERROR (unreadable record) or a failed call: forward it unchanged, say why */
            svcshell_filter_last_error(filter, reason, sizeof reason);
            fprintf(stderr, "%s: %s\n", svcshell_code_text(verdict), reason);
            fwrite(line, 1, len, stdout);
            putchar('\n');
        }
    }
    free(line);

    if (svcshell_filter_stats(filter, &stats) == SVCSHELL_OK)
        fprintf(stderr, "records=%llu alerts=%llu errors=%llu dropped=%llu\n", (unsigned long long)stats.records,
                (unsigned long long)stats.alerts, (unsigned long long)stats.errors,
                (unsigned long long)stats.dropped);
    svcshell_filter_free(filter);
    return 0;
}
