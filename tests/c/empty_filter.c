/*
 * An empty native filter for Fluent Bit v5.1.1: it keeps every chunk (FLB_FILTER_NOTOUCH) without reading it.
 * The throughput comparison (tests/fluentbit.rs, real_fluent_bit_throughput) runs it next to svcshell to show
 * what Fluent Bit itself spends on calling any native filter. Built by that test; the plugin struct is laid out
 * as v5.1.1 lays it out (88 bytes, see src/ffi/fluentbit.rs).
 */
#include <stddef.h>

struct mk_list {
    struct mk_list *prev, *next;
};

struct flb_filter_plugin {
    int event_type;
    int flags;
    const char *name;
    const char *description;
    void *config_map;
    int (*cb_pre_run)(void *, void *, void *);
    int (*cb_init)(void *, void *, void *);
    int (*cb_filter)(const void *, size_t, const char *, int, void **, size_t *, void *, void *, void *, void *);
    int (*cb_exit)(void *, void *);
    int (*cb_notification)(void *, void *, void *);
    struct mk_list _head;
};

void flb_filter_set_context(void *ins, void *context); /* exported by the Fluent Bit executable */

static int context;

static int cb_init(void *ins, void *config, void *data) {
    (void)config;
    (void)data;
    flb_filter_set_context(ins, &context);
    return 0;
}

static int cb_filter(const void *data, size_t bytes, const char *tag, int tag_len, void **out_buf,
                     size_t *out_bytes, void *f_ins, void *i_ins, void *ctx, void *config) {
    (void)data, (void)bytes, (void)tag, (void)tag_len, (void)out_buf, (void)out_bytes;
    (void)f_ins, (void)i_ins, (void)ctx, (void)config;
    return 2; /* FLB_FILTER_NOTOUCH */
}

static int cb_exit(void *ctx, void *config) {
    (void)ctx;
    (void)config;
    return 0;
}

struct flb_filter_plugin filter_empty_plugin = {
    1, 0, "empty", "keeps every chunk without reading it", NULL, NULL, cb_init, cb_filter, cb_exit, NULL, {NULL, NULL}};
