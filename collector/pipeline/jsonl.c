#include "collector/pipeline/jsonl.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

static void append_key(struct buf *out, const char *key, size_t len)
{
    buf_append(out, ",\"", 2);
    buf_append_json_escaped(out, key, len);
    buf_append(out, "\":\"", 3);
}

static int reserved(const char *key, size_t len)
{
    static const char *const names[] = {"timestamp", "tag", "message", "metric", "value", "unit",
                                        "dimensions"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && memcmp(names[i], key, len) == 0)
            return 1;
    return 0;
}

static void append_meta(struct buf *out, const struct meta *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->count; i++) {
        size_t klen = strlen(m->kv[i].key);
        if (reserved(m->kv[i].key, klen))
            continue;
        append_key(out, m->kv[i].key, klen);
        buf_append_json_escaped(out, m->kv[i].value, strlen(m->kv[i].value));
        buf_append_char(out, '"');
    }
}

static void append_log(struct buf *out, const struct batch *b, const struct log_record *r)
{
    buf_printf(out, "{\"timestamp\":%" PRId64 ",\"tag\":\"", r->timestamp_ns / 1000000);
    buf_append_json_escaped(out, r->tag->name, strlen(r->tag->name));
    buf_append(out, "\",\"message\":\"", 13);
    buf_append_json_escaped(out, batch_str(b, r->message_off), r->message_len);
    buf_append_char(out, '"');
    append_meta(out, r->meta);
    for (int i = 0; i < r->nfields; i++) {
        const char *k, *v;
        uint32_t kl, vl;
        batch_log_field(b, r, i, &k, &kl, &v, &vl);
        if (reserved(k, kl))
            continue;
        append_key(out, k, kl);
        buf_append_json_escaped(out, v, vl);
        buf_append_char(out, '"');
    }
    buf_append(out, "}\n", 2);
}

static void append_metric(struct buf *out, const struct batch *b, const struct metric_record *r)
{
    buf_printf(out, "{\"timestamp\":%" PRId64 ",\"tag\":\"", r->timestamp_ms);
    buf_append_json_escaped(out, r->tag->name, strlen(r->tag->name));
    buf_append(out, "\",\"metric\":\"", 12);
    const char *name = batch_str(b, r->name_off);
    buf_append_json_escaped(out, name, strlen(name));
    if (isfinite(r->value))
        buf_printf(out, "\",\"value\":%.17g,\"unit\":\"", r->value);
    else
        buf_append_str(out, "\",\"value\":null,\"unit\":\"");
    const char *unit = batch_str(b, r->unit_off);
    buf_append_json_escaped(out, unit, strlen(unit));
    buf_append(out, "\",\"dimensions\":{", 16);
    for (int i = 0; i < r->ndims; i++) {
        const char *k, *v;
        batch_metric_dim(b, r, i, &k, &v);
        buf_append_str(out, i ? ",\"" : "\"");
        buf_append_json_escaped(out, k, strlen(k));
        buf_append(out, "\":\"", 3);
        buf_append_json_escaped(out, v, strlen(v));
        buf_append_char(out, '"');
    }
    buf_append_char(out, '}');
    append_meta(out, r->meta);
    buf_append(out, "}\n", 2);
}

void jsonl_append_batch(struct buf *out, const struct batch *b)
{
    for (uint32_t i = 0; i < b->count; i++) {
        if (b->kind == BATCH_LOGS)
            append_log(out, b, &b->logs[i]);
        else
            append_metric(out, b, &b->metrics[i]);
    }
}
