/* PutLogEvents wire format (see logs_json.h). */
#include "collector/core/util.h"
#include "collector/cloudwatch/logs_json.h"

#include <jansson.h>
#include <string.h>

static void append_lit(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static void append_string(struct buf *b, const char *s, size_t len)
{
    buf_append_char(b, '"');
    buf_append_json_escaped(b, s, len);
    buf_append_char(b, '"');
}

/* Decimal without printf: called once per event. */
static void append_i64(struct buf *b, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    buf_append(b, tmp + sizeof tmp - n, (size_t)n);
}

/* ------------------------------------------------------------- escaping */

/* ',{"timestamp":<ts>,"message":"' into dst (64 bytes); its length. */
static size_t event_prefix(char *dst, int64_t ts)
{
    static const char head[] = ",{\"timestamp\":", tail[] = ",\"message\":\"";
    char digits[24];
    int n = 0;
    uint64_t u = ts < 0 ? (uint64_t)0 - (uint64_t)ts : (uint64_t)ts;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (ts < 0)
        digits[sizeof digits - 1 - n++] = '-';
    size_t len = 0;
    memcpy(dst, head, sizeof head - 1);
    len += sizeof head - 1;
    memcpy(dst + len, digits + sizeof digits - n, (size_t)n);
    len += (size_t)n;
    memcpy(dst + len, tail, sizeof tail - 1);
    return len + sizeof tail - 1;
}

static void append_names(struct buf *out, const char *group, const char *stream)
{
    append_lit(out, "{\"logGroupName\":");
    append_string(out, group, strlen(group));
    if (stream) {
        append_lit(out, ",\"logStreamName\":");
        append_string(out, stream, strlen(stream));
    }
}

void cwl_json_put_body(struct buf *out, const char *group, const char *stream,
                       const struct cwl_event_in *ev, const struct cwl_plan *plan,
                       const struct cwl_call *call, const char *marker, size_t marker_len)
{
    /* Reserve for the worst case of plain text once, so appends rarely grow. */
    buf_reserve(out, (size_t)call->bytes + (size_t)call->nsend * 40 + 1100);
    append_names(out, group, stream);
    append_lit(out, ",\"logEvents\":[");
    int first = 1;
    /* Neighbouring events mostly share a timestamp: format it once. */
    char prefix[64];
    size_t plen = 0;
    int64_t last_ts = 0;
    for (uint32_t i = call->begin; i < call->end; i++) {
        const struct cwl_item *it = &plan->items[i];
        if (it->fate != CWL_SEND)
            continue;
        const struct cwl_event_in *e = &ev[it->index];
        if (plen == 0 || e->timestamp_ms != last_ts) {
            plen = event_prefix(prefix, e->timestamp_ms);
            last_ts = e->timestamp_ms;
        }
        if (first)
            buf_append(out, prefix + 1, plen - 1);
        else
            buf_append(out, prefix, plen);
        first = 0;
        buf_append_json_escaped(out, e->msg, it->send_len);
        if (it->truncated)
            buf_append_json_escaped(out, marker, marker_len);
        append_lit(out, "\"}");
    }
    append_lit(out, "]}");
}

void cwl_json_stream_body(struct buf *out, const char *group, const char *stream)
{
    append_names(out, group, stream);
    buf_append_char(out, '}');
}

void cwl_json_retention_body(struct buf *out, const char *group, int days)
{
    append_names(out, group, NULL);
    append_lit(out, ",\"retentionInDays\":");
    append_i64(out, days);
    buf_append_char(out, '}');
}

void cwl_json_group_body(struct buf *out, const char *group, const char *kms_key_id,
                         const char *group_class, char *const *tags, int ntags)
{
    append_names(out, group, NULL);
    if (kms_key_id && kms_key_id[0]) {
        append_lit(out, ",\"kmsKeyId\":");
        append_string(out, kms_key_id, strlen(kms_key_id));
    }
    if (group_class && group_class[0]) {
        append_lit(out, ",\"logGroupClass\":");
        append_string(out, group_class, strlen(group_class));
    }
    if (ntags > 0) {
        append_lit(out, ",\"tags\":{");
        for (int i = 0; i < ntags; i++) {
            const char *eq = strchr(tags[i], '=');
            size_t klen = eq ? (size_t)(eq - tags[i]) : strlen(tags[i]);
            const char *val = eq ? eq + 1 : "";
            if (i)
                buf_append_char(out, ',');
            append_string(out, tags[i], klen);
            buf_append_char(out, ':');
            append_string(out, val, strlen(val));
        }
        buf_append_char(out, '}');
    }
    buf_append_char(out, '}');
}

static int64_t get_index(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return -1;
    json_int_t n = json_integer_value(v);
    return n < 0 ? -1 : (int64_t)n;
}

int cwl_json_parse_rejected(const char *body, size_t len, struct cwl_rejected *r)
{
    r->too_new_start = r->too_old_end = r->expired_end = -1;
    if (len == 0)
        return 0; /* an empty 200 carries nothing rejected */
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!root)
        return -1;
    json_t *info = json_object_get(root, "rejectedLogEventsInfo");
    if (json_is_object(info)) {
        r->too_new_start = get_index(info, "tooNewLogEventStartIndex");
        r->too_old_end = get_index(info, "tooOldLogEventEndIndex");
        r->expired_end = get_index(info, "expiredLogEventEndIndex");
    }
    json_decref(root);
    return 0;
}

void cwl_rejected_counts(const struct cwl_rejected *r, uint32_t nevents, uint32_t *too_old,
                         uint32_t *too_new)
{
    int64_t n = nevents;
    int64_t old_end = 0;
    if (r->too_old_end > old_end)
        old_end = r->too_old_end;
    if (r->expired_end > old_end)
        old_end = r->expired_end;
    if (old_end > n)
        old_end = n;
    int64_t new_start = r->too_new_start >= 0 ? r->too_new_start : n;
    if (new_start > n)
        new_start = n;
    if (new_start < old_end)
        new_start = old_end;
    *too_old = (uint32_t)old_end;
    *too_new = (uint32_t)(n - new_start);
}
