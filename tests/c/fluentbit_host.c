/*
 * fluentbit_host.c - an emulated Fluent Bit host for the svcshell filter plugin, built (once per host layout) and
 * run by tests/fluentbit.rs (and under Valgrind by tests/c/valgrind.sh). It loads flb-filter_svcshell.so exactly as
 * Fluent Bit does - dlopen(RTLD_LAZY), dlsym("filter_svcshell_plugin"), memcpy of sizeof(struct flb_filter_plugin)
 * bytes into its own struct, then a walk of the plugin's config map with its own sizeof(struct flb_config_map) -
 * and exports the host functions the plugin calls (flb_filter_get_property, flb_filter_set_context,
 * flb_filter_name, flb_log_print; link with -rdynamic) plus the symbols by which the plugin recognises the line.
 *
 * The layout is chosen when compiling:
 *
 *   -DHOST_PLUGIN_SIZE=80|88   sizeof(struct flb_filter_plugin): 80 in Fluent Bit 2.2 - 3.1 (no cb_notification),
 *                              88 from 3.2 (exports flb_notification_deliver); default 88
 *   -DHOST_MAP_SIZE=96|104     sizeof(struct flb_config_map): 96 before 5.0.3, 104 from 5.0.3 (value.raw; exports
 *                              flb_config_map_get_raw); default 104
 *   -DHOST_LEGACY_2_1          a Fluent Bit 2.1 host: a 72-byte struct without cb_pre_run (its cb_init is at 32)
 *                              that exports flb_plugin_proxy_output_init; the plugin must refuse it
 *   -DHOST_EXPECT_REFUSAL      the plugin must refuse this host: no config map, init fails with one error line
 *                              (used with HOST_LEGACY_2_1, and for a program built without -rdynamic, which exports
 *                              nothing: not a Fluent Bit)
 *
 * The instance, config and input-instance pointers handed to the plugin point into a PROT_NONE page: the host's
 * own functions map them back to real structs, and any dereference by the plugin would crash the test.
 *
 *   fluentbit_host PLUGIN.so [CASES_DIR]
 *
 * Without CASES_DIR it runs the built-in checks (struct layouts, config map, property errors, start-up log line,
 * argument edge cases). With CASES_DIR it also runs CASES_DIR/manifest.txt, written by tests/fluentbit.rs:
 *
 *   case NAME
 *   prop KEY VALUE...          property (the value is the rest of the line)
 *   input FILE                 the chunk (msgpack records back to back)
 *   expect notouch|modified|dropall
 *   keep START END             next output record: byte for byte input[START..END]
 *   alert START END HDR        next output record: an alert of input[START..END]; its first HDR bytes (the
 *                              record's array header, timestamp and metadata) equal the input's
 *   output FILE                where the output chunk is written (for the Rust side to decode)
 *   end
 *
 * Prints "host layout: ..." and "N checks passed" on success; exits 1 at the first failed check.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef HOST_LEGACY_2_1
#undef HOST_PLUGIN_SIZE
#define HOST_PLUGIN_SIZE 72
#endif
#ifndef HOST_PLUGIN_SIZE
#define HOST_PLUGIN_SIZE 88
#endif
#ifndef HOST_MAP_SIZE
#define HOST_MAP_SIZE 104
#endif

/* ---- the structs of the emulated line, declared without Fluent Bit's headers --------------------------------- */

struct mk_list {
    struct mk_list *prev, *next;
};

struct flb_config_map_val {
    union {
        int i_num;
        double d_num;
        size_t s_num;
        char *str;
        struct mk_list *list;
    } val;
#if HOST_MAP_SIZE == 104
    char *raw; /* from 5.0.3 */
#endif
    struct mk_list *mult;
    struct mk_list _head;
};

struct flb_config_map {
    int type;
    char *name;
    char *def_value;
    int flags;
    int set_property;
    uintptr_t offset;
    char *desc;
    struct flb_config_map_val value;
    struct mk_list _head;
};

struct flb_filter_instance;
struct flb_input_instance;
struct flb_config;

struct flb_filter_plugin {
    int event_type;
    int flags;
    char *name;
    char *description;
    struct flb_config_map *config_map;
#ifndef HOST_LEGACY_2_1
    int (*cb_pre_run)(struct flb_filter_instance *, struct flb_config *, void *); /* from 2.2.0 */
#endif
    int (*cb_init)(struct flb_filter_instance *, struct flb_config *, void *);
    int (*cb_filter)(const void *, size_t, const char *, int, void **, size_t *, struct flb_filter_instance *,
                     struct flb_input_instance *, void *, struct flb_config *);
    int (*cb_exit)(void *, struct flb_config *);
#if HOST_PLUGIN_SIZE == 88
    int (*cb_notification)(struct flb_filter_instance *, struct flb_config *, void *); /* from 3.2.0 */
#endif
    struct mk_list _head;
};

_Static_assert(sizeof(struct flb_filter_plugin) == HOST_PLUGIN_SIZE, "flb_filter_plugin size of the line");
_Static_assert(offsetof(struct flb_filter_plugin, config_map) == 24, "config_map at 24");
#ifdef HOST_LEGACY_2_1
_Static_assert(offsetof(struct flb_filter_plugin, cb_init) == 32, "cb_init at 32 before 2.2");
#else
_Static_assert(offsetof(struct flb_filter_plugin, cb_init) == 40, "cb_init at 40");
_Static_assert(offsetof(struct flb_filter_plugin, cb_filter) == 48, "cb_filter at 48");
_Static_assert(offsetof(struct flb_filter_plugin, cb_exit) == 56, "cb_exit at 56");
#endif
_Static_assert(offsetof(struct flb_filter_plugin, _head) == HOST_PLUGIN_SIZE - 16, "_head last");
_Static_assert(sizeof(struct flb_config_map) == HOST_MAP_SIZE, "flb_config_map size of the line");
_Static_assert(offsetof(struct flb_config_map, flags) == 24, "flags at 24");
_Static_assert(offsetof(struct flb_config_map, offset) == 32, "offset at 32");
_Static_assert(offsetof(struct flb_config_map, desc) == 40, "desc at 40");
_Static_assert(offsetof(struct flb_config_map, value) == 48, "value at 48");
_Static_assert(offsetof(struct flb_config_map, _head) == HOST_MAP_SIZE - 16, "_head last");

/* ---- the symbols that tell the lines apart (never called) ----------------------------------------------------- */

void flb_log_event_decoder_init(void);
void flb_log_event_decoder_init(void) { abort(); } /* from 2.1.0 */
#if HOST_PLUGIN_SIZE == 88
void flb_notification_deliver(void);
void flb_notification_deliver(void) { abort(); } /* from 3.2.0 */
#endif
#if HOST_MAP_SIZE == 104
void flb_config_map_get_raw(void);
void flb_config_map_get_raw(void) { abort(); } /* from 5.0.3 */
#endif
#ifdef HOST_LEGACY_2_1
void flb_plugin_proxy_output_init(void);
void flb_plugin_proxy_output_init(void) { abort(); } /* 2.0 - 2.1, renamed in 2.2.0 */
#endif

#define FLB_FILTER_MODIFIED 1
#define FLB_FILTER_NOTOUCH 2
#define FLB_CONFIG_MAP_STR 0
#define FLB_CONFIG_MAP_STR_PREFIX 1
#define FLB_CONFIG_MAP_MULT 1

/* ---- checks ---------------------------------------------------------------------------------------------------- */

static int checks = 0;
static const char *current = "setup";

#define CHECK(cond, ...)                                                                                         \
    do {                                                                                                         \
        checks++;                                                                                                \
        if (!(cond)) {                                                                                           \
            fprintf(stderr, "FAILED [%s] %s:%d: %s: ", current, __FILE__, __LINE__, #cond);                      \
            fprintf(stderr, __VA_ARGS__);                                                                        \
            fputc('\n', stderr);                                                                                 \
            exit(1);                                                                                             \
        }                                                                                                        \
    } while (0)

/* ---- the emulated host ----------------------------------------------------------------------------------------- */

#define MAX_PROPS 64
#define MAX_INSTANCES 8

struct instance {
    int used;
    char name[32];
    int nprops;
    char *keys[MAX_PROPS];
    char *vals[MAX_PROPS];
    void *context;
    int set_context_calls;
};

static struct instance instances[MAX_INSTANCES];
static unsigned char *guard; /* a PROT_NONE page: the opaque pointers point into it */
static char log_buf[65536];
static size_t log_len;

static struct instance *lookup(const void *opaque) {
    ptrdiff_t off = (const unsigned char *)opaque - guard;
    if (!opaque || off < 0 || off % 64 != 0 || off / 64 >= MAX_INSTANCES) {
        fprintf(stderr, "FAILED [%s] the plugin passed an instance pointer the host never gave it: %p\n", current,
                opaque);
        exit(1);
    }
    return &instances[off / 64];
}

static struct flb_filter_instance *opaque_instance(int i) { return (struct flb_filter_instance *)(guard + 64 * i); }
static struct flb_config *opaque_config(void) { return (struct flb_config *)(guard + 2048); }
static struct flb_input_instance *opaque_input(void) { return (struct flb_input_instance *)(guard + 3072); }

/* Fluent Bit's flb_filter_get_property: the first value of a key, compared case-insensitively; NULL if unset. */
const char *flb_filter_get_property(const char *key, struct flb_filter_instance *ins) {
    struct instance *in = lookup(ins);
    int i;
    for (i = 0; i < in->nprops; i++)
        if (strcasecmp(in->keys[i], key) == 0) return in->vals[i];
    return NULL;
}

void flb_filter_set_context(struct flb_filter_instance *ins, void *context) {
    struct instance *in = lookup(ins);
    in->context = context;
    in->set_context_calls++;
}

const char *flb_filter_name(struct flb_filter_instance *ins) { return lookup(ins)->name; }

void flb_log_print(int type, const char *file, int line, const char *fmt, ...) {
    static const char *levels[] = {"off", "error", "warn", "info", "debug", "trace"};
    char body[4096];
    va_list ap;
    int n;
    (void)file;
    (void)line;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    n = snprintf(log_buf + log_len, sizeof log_buf - log_len, "[%s] %s\n",
                 type >= 0 && type <= 5 ? levels[type] : "?", body);
    if (n > 0 && (size_t)n < sizeof log_buf - log_len) log_len += (size_t)n;
    fprintf(stderr, "  host log: [%s] %s\n", type >= 0 && type <= 5 ? levels[type] : "?", body);
}

static void log_reset(void) {
    log_len = 0;
    log_buf[0] = '\0';
}

static struct flb_filter_plugin plugin;

/* Fluent Bit's flb_config_map_properties_check over the plugin's map: every key must be in the map (compared
 * case-insensitively, "active"/"condition" are the host's), and a key without FLB_CONFIG_MAP_MULT at most once
 * (counted case-sensitively, as v5.1.1 does). Returns 0 or -1. */
static int properties_check(const struct instance *in) {
    int i, j;
    if (plugin.config_map == NULL) return 0; /* no map: the host accepts any key */
    for (i = 0; i < in->nprops; i++) {
        const struct flb_config_map *m, *found = NULL;
        int count = 0;
        if (strcasecmp(in->keys[i], "active") == 0 || strcasecmp(in->keys[i], "condition") == 0) continue;
        for (m = plugin.config_map; m->name; m++) {
            if (m->type == FLB_CONFIG_MAP_STR_PREFIX
                    ? strncasecmp(in->keys[i], m->name, strlen(m->name)) == 0
                    : strcasecmp(in->keys[i], m->name) == 0) {
                found = m;
                break;
            }
        }
        if (!found) return -1;
        for (j = 0; j < in->nprops; j++)
            if (strcmp(in->keys[i], in->keys[j]) == 0) count++;
        if (!(found->flags & FLB_CONFIG_MAP_MULT) && count > 1) return -1;
    }
    return 0;
}

/* A new instance with properties "k=v" ... (NULL-terminated). The host keys (match, name) are consumed by the
 * host, as flb_filter_set_property does. */
static int new_instance(void) {
    int i;
    for (i = 0; i < MAX_INSTANCES; i++) {
        if (!instances[i].used) {
            memset(&instances[i], 0, sizeof instances[i]);
            instances[i].used = 1;
            snprintf(instances[i].name, sizeof instances[i].name, "svcshell.%d", i);
            return i;
        }
    }
    fprintf(stderr, "too many instances\n");
    exit(1);
}

static void add_prop(int id, const char *key, const char *val) {
    struct instance *in = &instances[id];
    if (in->nprops >= MAX_PROPS) {
        fprintf(stderr, "too many properties\n");
        exit(1);
    }
    in->keys[in->nprops] = strdup(key);
    in->vals[in->nprops] = strdup(val);
    in->nprops++;
}

static void free_instance(int id) {
    struct instance *in = &instances[id];
    int i;
    for (i = 0; i < in->nprops; i++) {
        free(in->keys[i]);
        free(in->vals[i]);
    }
    memset(in, 0, sizeof *in);
}

/* Fluent Bit's start of one instance (flb_filter_init): property check, then cb_pre_run (from 2.2.0), then cb_init;
 * -2 when the host's check refuses a key, -1 when a callback fails (the instance is dropped). */
static int start(int id) {
    if (properties_check(&instances[id]) != 0) return -2;
#ifndef HOST_LEGACY_2_1
    if (plugin.cb_pre_run && plugin.cb_pre_run(opaque_instance(id), opaque_config(), NULL) != 0) return -1;
#endif
    return plugin.cb_init(opaque_instance(id), opaque_config(), NULL) == 0 ? 0 : -1;
}

static void stop(int id) {
    if (instances[id].context) CHECK(plugin.cb_exit(instances[id].context, opaque_config()) == 0, "cb_exit");
    free_instance(id);
}

/* ---- msgpack: the extent of one value (for alert records, whose length the host does not know) -------------- */

static int be(const unsigned char *b, size_t len, size_t i, int n, uint64_t *out) {
    int k;
    if (i + (size_t)n > len) return -1;
    *out = 0;
    for (k = 0; k < n; k++) *out = (*out << 8) | b[i + (size_t)k];
    return 0;
}

/* Offset past the value at i, or 0 on malformed input. */
static size_t mp_skip(const unsigned char *b, size_t len, size_t i) {
    uint64_t left = 1, n;
    while (left > 0) {
        unsigned c;
        size_t head = 1, payload = 0;
        uint64_t items = 0;
        if (i >= len) return 0;
        c = b[i];
        left--;
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
        } else if (c >= 0x80 && c <= 0x8f) {
            items = 2 * (c & 0x0f);
        } else if (c >= 0x90 && c <= 0x9f) {
            items = c & 0x0f;
        } else if (c >= 0xa0 && c <= 0xbf) {
            payload = c & 0x1f;
        } else {
            switch (c) {
            case 0xc4: case 0xd9: if (be(b, len, i + 1, 1, &n)) return 0; head = 2; payload = n; break;
            case 0xc5: case 0xda: if (be(b, len, i + 1, 2, &n)) return 0; head = 3; payload = n; break;
            case 0xc6: case 0xdb: if (be(b, len, i + 1, 4, &n)) return 0; head = 5; payload = n; break;
            case 0xc7: if (be(b, len, i + 1, 1, &n)) return 0; head = 3; payload = n; break;
            case 0xc8: if (be(b, len, i + 1, 2, &n)) return 0; head = 4; payload = n; break;
            case 0xc9: if (be(b, len, i + 1, 4, &n)) return 0; head = 6; payload = n; break;
            case 0xca: case 0xce: case 0xd2: head = 5; break;
            case 0xcb: case 0xcf: case 0xd3: head = 9; break;
            case 0xcc: case 0xd0: head = 2; break;
            case 0xcd: case 0xd1: head = 3; break;
            case 0xd4: head = 3; break;
            case 0xd5: head = 4; break;
            case 0xd6: head = 6; break;
            case 0xd7: head = 10; break;
            case 0xd8: head = 18; break;
            case 0xdc: if (be(b, len, i + 1, 2, &n)) return 0; head = 3; items = n; break;
            case 0xdd: if (be(b, len, i + 1, 4, &n)) return 0; head = 5; items = n; break;
            case 0xde: if (be(b, len, i + 1, 2, &n)) return 0; head = 3; items = 2 * n; break;
            case 0xdf: if (be(b, len, i + 1, 4, &n)) return 0; head = 5; items = 2 * n; break;
            default: return 0; /* 0xc1 */
            }
        }
        left += items;
        if (head + payload > len - i) return 0;
        i += head + payload;
    }
    return i;
}

/* ---- files ----------------------------------------------------------------------------------------------------- */

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    CHECK(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    CHECK(buf != NULL, "malloc");
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n, "short read of %s", path);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_file(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    if (len) CHECK(fwrite(buf, 1, len, f) == len, "short write");
    fclose(f);
}

/* ---- built-in checks ------------------------------------------------------------------------------------------- */

static void check_plugin_struct(void) {
    const struct flb_config_map *m;
    static const char *keys[] = {"mode", "exception", "max_alerts", "alert_window", "sources", "validate",
                                  "rule_file", "rule_id"};
    size_t k;
    int n = 0, numbered = 0;
    current = "plugin struct";
    CHECK(plugin.event_type == 0 || plugin.event_type == 1, "event_type %d is not logs", plugin.event_type);
    CHECK(plugin.name && strcmp(plugin.name, "svcshell") == 0, "name");
    CHECK(plugin.description && strlen(plugin.description) > 0, "description");
    CHECK(plugin.cb_init && plugin.cb_filter && plugin.cb_exit, "callbacks");
#ifndef HOST_LEGACY_2_1
    CHECK(plugin.cb_pre_run == NULL, "no cb_pre_run");
#endif
#if HOST_PLUGIN_SIZE == 88
    CHECK(plugin.cb_notification == NULL, "no cb_notification");
#endif
    CHECK(plugin._head.prev == NULL && plugin._head.next == NULL, "_head zeroed");
    CHECK(plugin.config_map != NULL, "config_map");
    current = "config map";
    for (m = plugin.config_map; m->name; m++, n++) {
        CHECK(m->type == FLB_CONFIG_MAP_STR, "%s: type %d", m->name, m->type);
        CHECK(m->flags == 0, "%s: flags %d (no FLB_CONFIG_MAP_MULT: a repeated key is refused)", m->name, m->flags);
        CHECK(m->set_property == 0 && m->offset == 0, "%s: the host writes nothing into the plugin", m->name);
        CHECK(m->def_value == NULL, "%s: no default (the core applies them)", m->name);
        CHECK(m->desc && strlen(m->desc) > 0, "%s: description", m->name);
        if (strncmp(m->name, "exception_", 10) == 0) numbered++;
        CHECK(n < 100, "config map not terminated");
    }
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        for (m = plugin.config_map; m->name; m++)
            if (strcmp(m->name, keys[k]) == 0) break;
        CHECK(m->name != NULL, "key %s missing from the map", keys[k]);
    }
    CHECK(numbered == 16, "exception_1 .. exception_16: %d", numbered);
    CHECK(n == 8 + 16, "%d keys", n);
}

static int start_with(const char **kv) {
    int id = new_instance();
    for (; kv[0]; kv += 2) add_prop(id, kv[0], kv[1]);
    return id;
}

static void check_configuration(void) {
    int id, r;

    current = "unknown property";
    {
        const char *kv[] = {"mode", "tag", "bogus", "1", NULL};
        id = start_with(kv);
        CHECK(start(id) == -2, "the host's check refuses an unknown key before cb_init");
        free_instance(id);
    }
    current = "repeated exception";
    {
        const char *kv[] = {"exception", "host.name == \"a\"", "exception", "host.name == \"b\"", NULL};
        id = start_with(kv);
        CHECK(start(id) == -2, "the host's check refuses a repeated exception (no FLB_CONFIG_MAP_MULT)");
        free_instance(id);
    }
    current = "bad value";
    {
        const char *kv[] = {"mode", "bogus", NULL};
        log_reset();
        id = start_with(kv);
        r = start(id);
        CHECK(r == -1, "cb_init fails on mode=bogus: %d", r);
        CHECK(instances[id].set_context_calls == 0, "no context on failure");
        CHECK(strstr(log_buf, "[error] [filter:svcshell:svcshell.0] invalid configuration: mode:") != NULL, "log: %s",
              log_buf);
        free_instance(id);
    }
    current = "bad exception";
    {
        const char *kv[] = {"exception", "host.name ==", NULL};
        log_reset();
        id = start_with(kv);
        CHECK(start(id) == -1, "cb_init fails on a bad exception");
        CHECK(strstr(log_buf, "[error]") && strstr(log_buf, "exception"), "log: %s", log_buf);
        free_instance(id);
    }
    current = "bad numbers";
    {
        const char *kv1[] = {"max_alerts", "-1", NULL};
        const char *kv2[] = {"alert_window", "5 minutes", NULL};
        const char *kv3[] = {"validate", "some", NULL};
        const char *kv4[] = {"exception_3", "", NULL};
        const char **all[] = {kv1, kv2, kv3, kv4};
        size_t k;
        for (k = 0; k < 4; k++) {
            log_reset();
            id = start_with(all[k]);
            CHECK(start(id) == -1, "cb_init fails on %s=%s", all[k][0], all[k][1]);
            CHECK(strstr(log_buf, k == 3 ? "exception" : all[k][0]) != NULL, "log names the key: %s", log_buf);
            free_instance(id);
        }
    }
    current = "start-up line";
    {
        const char *kv[] = {"Mode",        "alerts_only",  "exception",    "host.name == \"a\"",
                            "exception_1", "host.name == \"b\"", "exception_16", "user.name : \"svc_*\"",
                            "Max_Alerts",  "0",            NULL};
        log_reset();
        id = start_with(kv);
        CHECK(start(id) == 0, "cb_init succeeds");
        CHECK(instances[id].set_context_calls == 1 && instances[id].context != NULL, "context set once");
        CHECK(strstr(log_buf, "[info] [filter:svcshell:svcshell.0] svcshell ") != NULL, "log: %s", log_buf);
        CHECK(strstr(log_buf, "System Shells via Services") && strstr(log_buf, "0022d47d-39c7-4f69-a232-4fe9dc7a3acd") &&
                  strstr(log_buf, "version 313"),
              "rule name, id, version: %s", log_buf);
        CHECK(strstr(log_buf, "mode=alerts_only") && strstr(log_buf, "exceptions=3") &&
                  strstr(log_buf, "[host.name == \"b\"]") && strstr(log_buf, "[user.name : \"svc_*\"]"),
              "mode and exceptions: %s", log_buf);
        current = "argument edge cases";
        {
            void *out = (void *)&r;
            size_t out_len = 12345;
            /* an empty chunk */
            r = plugin.cb_filter("", 0, "t", 1, &out, &out_len, opaque_instance(id), opaque_input(),
                                 instances[id].context, opaque_config());
            CHECK(r == FLB_FILTER_NOTOUCH && out == (void *)&r && out_len == 12345, "empty chunk: NOTOUCH, untouched");
            /* no context (never happens in Fluent Bit): keep the chunk */
            r = plugin.cb_filter("\x92\x01\x80", 3, "t", 1, &out, &out_len, opaque_instance(id), opaque_input(), NULL,
                                 opaque_config());
            CHECK(r == FLB_FILTER_NOTOUCH, "no context: NOTOUCH");
            /* garbage: kept */
            r = plugin.cb_filter("\xc1\xc1\xc1", 3, "t", 1, &out, &out_len, opaque_instance(id), opaque_input(),
                                 instances[id].context, opaque_config());
            CHECK(r == FLB_FILTER_NOTOUCH, "garbage: NOTOUCH (kept, counted as an error)");
        }
        log_reset();
        stop(id);
        CHECK(strstr(log_buf, "[info] [filter:svcshell:svcshell.0] stopping: records=1 alerts=0 suppressed=0 excepted=0 errors=1") != NULL,
              "exit line with the counters: %s", log_buf);
        CHECK(strstr(log_buf, " dropped=0 chunks=") != NULL && strstr(log_buf, " ns/record)") != NULL,
              "exit line with the filter's own time: %s", log_buf);
    }
}

/* ---- manifest cases -------------------------------------------------------------------------------------------- */

struct plan {
    int alert;
    size_t start, end, hdr;
};

static void run_case(const char *dir, const char *name, int id, const char *input, const char *expect,
                     const struct plan *plan, int nplan, const char *output) {
    char path[4096];
    unsigned char *in;
    size_t in_len, pos = 0;
    void *out = (void *)0x1;
    size_t out_len = 777;
    int r, k;
    const char *tag = "events";

    current = name;
    CHECK(start(id) == 0, "cb_init");
    snprintf(path, sizeof path, "%s/%s", dir, input);
    in = read_file(path, &in_len);
    r = plugin.cb_filter(in, in_len, tag, (int)strlen(tag), &out, &out_len, opaque_instance(id), opaque_input(),
                         instances[id].context, opaque_config());
    if (strcmp(expect, "notouch") == 0) {
        CHECK(r == FLB_FILTER_NOTOUCH, "expected NOTOUCH, got %d", r);
        CHECK(out == (void *)0x1 && out_len == 777, "NOTOUCH leaves out_buf/out_bytes alone");
        out = NULL;
        out_len = 0;
    } else if (strcmp(expect, "dropall") == 0) {
        CHECK(r == FLB_FILTER_MODIFIED, "expected MODIFIED, got %d", r);
        CHECK(out == NULL && out_len == 0, "every record dropped: out_buf NULL, out_bytes 0 (%p, %zu)", out, out_len);
    } else {
        CHECK(r == FLB_FILTER_MODIFIED, "expected MODIFIED, got %d", r);
        CHECK(out != NULL && out_len > 0, "a new chunk");
        for (k = 0; k < nplan; k++) {
            const struct plan *p = &plan[k];
            size_t n = p->end - p->start, end;
            if (!p->alert) {
                CHECK(pos + n <= out_len && memcmp((unsigned char *)out + pos, in + p->start, n) == 0,
                      "output record %d: input bytes %zu..%zu kept as they are", k, p->start, p->end);
                pos += n;
            } else {
                CHECK(pos + p->hdr <= out_len && memcmp((unsigned char *)out + pos, in + p->start, p->hdr) == 0,
                      "output record %d: alert keeps the timestamp and metadata of input %zu..%zu", k, p->start,
                      p->end);
                end = mp_skip(out, out_len, pos);
                CHECK(end > pos, "output record %d: alert is well-formed msgpack", k);
                CHECK(end - pos > n, "output record %d: alert is longer than its input (fields added)", k);
                pos = end;
            }
        }
        CHECK(pos == out_len, "output holds exactly the planned records (%zu of %zu bytes)", pos, out_len);
    }
    snprintf(path, sizeof path, "%s/%s", dir, output);
    write_file(path, out, out_len);
    free(out); /* Fluent Bit releases it with flb_free = free() */
    free(in);
    stop(id);
}

/* Copies src into dst (n bytes), truncating. */
static void copy(char *dst, size_t n, const char *src) {
    size_t l = strlen(src);
    if (l >= n) l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

static void run_manifest(const char *dir) {
    char path[4096], line[8192], name[256] = "", input[1024] = "", expect[32] = "", output[1024] = "";
    struct plan plan[256];
    int nplan = 0, id = -1, cases = 0;
    FILE *f;
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    while (fgets(line, sizeof line, f)) {
        char *nl = strchr(line, '\n'), *sp;
        if (nl) *nl = '\0';
        if (strncmp(line, "case ", 5) == 0) {
            copy(name, sizeof name, line + 5);
            id = new_instance();
            nplan = 0;
        } else if (strncmp(line, "prop ", 5) == 0) {
            sp = strchr(line + 5, ' ');
            CHECK(sp != NULL, "prop line: %s", line);
            *sp = '\0';
            add_prop(id, line + 5, sp + 1);
        } else if (strncmp(line, "input ", 6) == 0) {
            copy(input, sizeof input, line + 6);
        } else if (strncmp(line, "expect ", 7) == 0) {
            copy(expect, sizeof expect, line + 7);
        } else if (strncmp(line, "keep ", 5) == 0 || strncmp(line, "alert ", 6) == 0) {
            struct plan *p = &plan[nplan];
            CHECK(nplan < 256, "too many records");
            p->alert = line[0] == 'a';
            p->hdr = 0;
            if (p->alert)
                CHECK(sscanf(line + 6, "%zu %zu %zu", &p->start, &p->end, &p->hdr) == 3, "%s", line);
            else
                CHECK(sscanf(line + 5, "%zu %zu", &p->start, &p->end) == 2, "%s", line);
            nplan++;
        } else if (strncmp(line, "output ", 7) == 0) {
            copy(output, sizeof output, line + 7);
        } else if (strcmp(line, "end") == 0) {
            run_case(dir, name, id, input, expect, plan, nplan, output);
            cases++;
        }
    }
    fclose(f);
    current = "manifest";
    CHECK(cases > 0, "no cases in %s", path);
    printf("%d chunk cases\n", cases);
}

/* A host the plugin must refuse: it exposes no config map (so the host reads none and accepts any key), and the
 * start of an instance fails in the plugin's first callback with exactly one error line (in the host's log when
 * the plugin can reach flb_log_print, else on stderr), and no context. */
static void check_refusal(void) {
    const char *kv[] = {"mode", "tag", "max_alerts", "5", "no_such_key", "1", NULL};
    int id, r, lines = 0;
    const char *p;
    int reaches_log = dlsym(RTLD_DEFAULT, "flb_log_print") != NULL;
    current = "refused host";
    CHECK(plugin.config_map == NULL, "no config map for a host the plugin refuses");
    CHECK(plugin.name && strcmp(plugin.name, "svcshell") == 0, "name");
    log_reset();
    id = start_with(kv);
    r = start(id);
    CHECK(r == -1, "the start fails in the plugin: %d", r);
    CHECK(instances[id].set_context_calls == 0 && instances[id].context == NULL, "no context");
    for (p = log_buf; *p; p++) lines += *p == '\n';
    if (reaches_log) {
        CHECK(lines == 1, "exactly one log line: %s", log_buf);
        static const char prefix[] = "[error] [filter:svcshell:svcshell] cannot run in this process: ";
        CHECK(strncmp(log_buf, prefix, sizeof prefix - 1) == 0 &&
                  strstr(log_buf, "supports Fluent Bit 2.2 to 5.1") != NULL,
              "the line says why: %s", log_buf);
        printf("refused: %s", log_buf);
    } else {
        CHECK(lines == 0, "nothing reached the host's log: %s", log_buf);
        printf("refused (line on stderr)\n");
    }
    stop(id);
}

int main(int argc, char **argv) {
    void *dso, *sym;
    const char *base;
    if (argc < 2) {
        fprintf(stderr, "usage: %s PLUGIN.so [CASES_DIR]\n", argv[0]);
        return 2;
    }
    guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(guard != MAP_FAILED, "mmap");

    /* As flb_plugin_load: the file name says the type and the symbol; RTLD_LAZY; memcpy of the struct. */
    current = "load";
    base = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    CHECK(strcmp(base, "flb-filter_svcshell.so") == 0, "plugin file must be named flb-filter_svcshell.so: %s", base);
    dso = dlopen(argv[1], RTLD_LAZY);
    CHECK(dso != NULL, "dlopen: %s", dlerror());
    dlerror();
    sym = dlsym(dso, "filter_svcshell_plugin");
    CHECK(sym != NULL && dlerror() == NULL, "dlsym filter_svcshell_plugin");
    memcpy(&plugin, sym, sizeof(struct flb_filter_plugin));
    printf("host layout: plugin struct %d bytes, config map entry %d bytes\n", HOST_PLUGIN_SIZE, HOST_MAP_SIZE);

#ifdef HOST_EXPECT_REFUSAL
    check_refusal();
    (void)check_plugin_struct;
    (void)check_configuration;
    (void)run_manifest;
#else
    (void)check_refusal;
    check_plugin_struct();
    check_configuration();
    if (argc > 2) run_manifest(argv[2]);
#endif

    dlclose(dso);
    munmap(guard, 4096);
    printf("%d checks passed\n", checks);
    return 0;
}
