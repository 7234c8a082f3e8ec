#include "collector/pipeline/batch.h"
#include "collector/core/util.h"

#include <stdlib.h>
#include <string.h>

struct batch *batch_new(enum batch_kind kind)
{
    struct batch *b = xcalloc(1, sizeof *b);
    b->kind = kind;
    return b;
}

static void drop_refs(struct batch *b)
{
    if (b->unloaded == BATCH_ON_DISK || b->records_dropped)
        return; /* a shell: its count describes the chunk, not the arrays */
    /* one reference per run of records sharing a meta (batch_hold_meta) */
    const struct meta *prev = NULL;
    for (uint32_t i = 0; i < b->count; i++) {
        struct meta *m = b->kind == BATCH_LOGS ? b->logs[i].meta : b->metrics[i].meta;
        if (m != prev)
            meta_unref(m);
        prev = m;
    }
}

void batch_free(struct batch *b)
{
    if (!b)
        return;
    drop_refs(b);
    free(b->logs);
    free(b->metrics);
    free(b->arena);
    buf_free(&b->body);
    free(b);
}

void batch_reset(struct batch *b)
{
    drop_refs(b);
    b->count = 0;
    b->arena_len = 0;
    b->payload_bytes = 0;
    b->opened_ms = 0;
    b->result = 0;
    b->dropped = 0;
    b->attempts = 0;
    b->not_before_ms = 0;
    b->plugin_state = NULL;
    b->spool_id = 0;
    b->unloaded = 0;
    buf_free(&b->body); /* a body is as large as its batch: not kept for reuse */
    b->has_body = 0;
    b->records_dropped = 0;
    b->body_on_disk = 0;
    b->next = NULL;
}

/* Reserve n bytes in the arena and return the offset. Offsets are 32-bit:
 * the pipeline seals batches far below 4 GiB (CloudWatch's own cap is 1 MiB). */
static uint32_t arena_take(struct batch *b, size_t n)
{
    if (b->arena_len + n > b->arena_cap) {
        size_t cap = b->arena_cap ? b->arena_cap : 4096;
        while (cap < b->arena_len + n)
            cap *= 2;
        b->arena = xrealloc(b->arena, cap);
        b->arena_cap = cap;
    }
    uint32_t off = (uint32_t)b->arena_len;
    b->arena_len += n;
    return off;
}

static uint32_t arena_put(struct batch *b, const void *data, size_t n, int nul)
{
    uint32_t off = arena_take(b, n + (nul ? 1 : 0));
    if (n)
        memcpy(b->arena + off, data, n);
    if (nul)
        b->arena[off + n] = '\0';
    return off;
}

static void grow_records(struct batch *b)
{
    if (b->count < b->cap)
        return;
    uint32_t cap = b->cap ? b->cap * 2 : 64;
    if (b->kind == BATCH_LOGS)
        b->logs = xrealloc(b->logs, sizeof *b->logs * cap);
    else
        b->metrics = xrealloc(b->metrics, sizeof *b->metrics * cap);
    b->cap = cap;
}

void batch_add_log(struct batch *b, const struct log_event *ev, const struct tag *tag,
                   uint16_t input_index, uint64_t seq, uint32_t overhead)
{
    grow_records(b);
    struct log_record *r = &b->logs[b->count];
    r->timestamp_ns = ev->timestamp_ns;
    r->message_off = arena_put(b, ev->message, ev->message_len, 1);
    r->message_len = (uint32_t)ev->message_len;
    r->nfields = (uint16_t)(ev->nfields > 0 ? ev->nfields : 0);
    r->fields_off = 0;
    if (r->nfields) {
        uint32_t table = arena_take(b, sizeof(uint32_t) * 4 * r->nfields);
        for (int i = 0; i < r->nfields; i++) {
            uint32_t k = arena_put(b, ev->fields[i].key, ev->fields[i].key_len, 1);
            uint32_t v = arena_put(b, ev->fields[i].value, ev->fields[i].value_len, 1);
            uint32_t entry[4] = {k, ev->fields[i].key_len, v, ev->fields[i].value_len};
            memcpy(b->arena + table + sizeof entry * (size_t)i, entry, sizeof entry);
        }
        r->fields_off = table;
    }
    r->input_index = input_index;
    r->tag = tag;
    r->meta = batch_hold_meta(b->count ? b->logs[b->count - 1].meta : NULL, ev->meta);
    r->seq = seq;
    b->count++;
    b->payload_bytes += ev->message_len + overhead;
}

void batch_add_metric(struct batch *b, const struct metric_event *ev, const struct tag *tag,
                      uint16_t input_index, uint64_t seq)
{
    grow_records(b);
    struct metric_record *r = &b->metrics[b->count];
    r->timestamp_ms = ev->timestamp_ms;
    r->value = ev->value;
    r->name_off = arena_put(b, ev->name, strlen(ev->name), 1);
    const char *unit = ev->unit ? ev->unit : "None";
    r->unit_off = arena_put(b, unit, strlen(unit), 1);
    r->ndims = (uint16_t)(ev->ndimensions > 0 ? ev->ndimensions : 0);
    r->dims_off = 0;
    if (r->ndims) {
        uint32_t table = arena_take(b, sizeof(uint32_t) * 2 * r->ndims);
        for (int i = 0; i < r->ndims; i++) {
            uint32_t entry[2];
            entry[0] = arena_put(b, ev->dimensions[i].name, strlen(ev->dimensions[i].name), 1);
            entry[1] = arena_put(b, ev->dimensions[i].value, strlen(ev->dimensions[i].value), 1);
            memcpy(b->arena + table + sizeof entry * (size_t)i, entry, sizeof entry);
        }
        r->dims_off = table;
    }
    r->input_index = input_index;
    r->tag = tag;
    r->meta = batch_hold_meta(b->count ? b->metrics[b->count - 1].meta : NULL, ev->meta);
    r->seq = seq;
    b->count++;
    b->payload_bytes += 64; /* a nominal size: metrics are small and counted, not measured */
}

void batch_log_field(const struct batch *b, const struct log_record *r, int i, const char **key,
                     uint32_t *key_len, const char **value, uint32_t *value_len)
{
    uint32_t entry[4];
    memcpy(entry, b->arena + r->fields_off + sizeof entry * (size_t)i, sizeof entry);
    *key = b->arena + entry[0];
    *key_len = entry[1];
    *value = b->arena + entry[2];
    *value_len = entry[3];
}

void batch_metric_dim(const struct batch *b, const struct metric_record *r, int i,
                      const char **name, const char **value)
{
    uint32_t entry[2];
    memcpy(entry, b->arena + r->dims_off + sizeof entry * (size_t)i, sizeof entry);
    *name = b->arena + entry[0];
    *value = b->arena + entry[1];
}

/* b holds no records any more (their references already dropped); count
 * and the other figures still describe them. */
static void forget_records(struct batch *b)
{
    b->logs = NULL;
    b->metrics = NULL;
    b->arena = NULL;
    b->cap = 0;
    b->arena_len = 0;
    b->arena_cap = 0;
    b->records_dropped = 1;
}

void batch_drop_records(struct batch *b)
{
    drop_refs(b);
    free(b->logs);
    free(b->metrics);
    free(b->arena);
    forget_records(b);
}

void batch_give_records(struct batch *b, struct batch *empty)
{
    drop_refs(b);
    empty->logs = b->logs;
    empty->metrics = b->metrics;
    empty->cap = b->cap;
    empty->arena = b->arena;
    empty->arena_cap = b->arena_cap;
    forget_records(b);
}

void batch_unload(struct batch *b)
{
    batch_drop_records(b);
    b->records_dropped = 0;
    buf_free(&b->body);
    b->has_body = 0;
    b->unloaded = BATCH_ON_DISK;
}

size_t batch_memory(const struct batch *b)
{
    size_t rec = b->kind == BATCH_LOGS ? sizeof *b->logs : sizeof *b->metrics;
    return sizeof *b + b->arena_cap + rec * b->cap;
}

size_t batch_body_memory(const struct batch *b)
{
    return b->body.cap;
}
