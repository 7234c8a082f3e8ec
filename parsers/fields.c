/* JSON and logfmt messages into fields: see fields.h. */
#include "parsers/fields.h"

#include "parsers/json_scan.h"

#include <stdint.h>
#include <string.h>

int fields_format_of(const char *name, enum fields_format *out)
{
    if (strcmp(name, "json") == 0)
        *out = FIELDS_JSON;
    else if (strcmp(name, "logfmt") == 0)
        *out = FIELDS_LOGFMT;
    else if (strcmp(name, "none") == 0)
        *out = FIELDS_NONE;
    else
        return -1;
    return 0;
}

static int is_time_key(const char *k, size_t n)
{
    static const char *const keys[] = {"time", "timestamp", "@timestamp", "ts"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i]) == n && memcmp(k, keys[i], n) == 0)
            return 1;
    return 0;
}

/* Epoch seconds (with a fraction), or ms / us / ns by magnitude. */
static int epoch_ns(const char *s, size_t n, int64_t *ns)
{
    uint64_t whole = 0, frac = 0, scale = 1;
    size_t i = 0;
    int digits = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9' && digits < 19; i++, digits++)
        whole = whole * 10 + (uint64_t)(s[i] - '0');
    if (digits == 0)
        return -1;
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (scale < 1000000000u) {
                frac = frac * 10 + (uint64_t)(s[i] - '0');
                scale *= 10;
            }
    }
    if (i != n)
        return -1;
    /* By magnitude, each range chosen so that the result fits in int64 */
    if (whole < 9000000000ULL)                /* seconds: until year 2255 */
        *ns = (int64_t)(whole * 1000000000ULL + frac * (1000000000ULL / scale));
    else if (whole < 9000000000000ULL)        /* milliseconds */
        *ns = (int64_t)(whole * 1000000ULL);
    else if (whole < 9000000000000000ULL)     /* microseconds */
        *ns = (int64_t)(whole * 1000ULL);
    else if (whole <= (uint64_t)INT64_MAX)    /* nanoseconds */
        *ns = (int64_t)whole;
    else
        return -1;
    return 0;
}

static void add(struct fields_result *out, const char *k, size_t klen, const char *v, size_t vlen)
{
    if (!out->time_ns && is_time_key(k, klen) &&
        rfc3339_ns(v, vlen, &out->time_ns) < 0 && epoch_ns(v, vlen, &out->time_ns) < 0)
        out->time_ns = 0;
    if (out->n < FIELDS_MAX)
        out->fields[out->n++] = (struct dj_attr){k, v, (uint32_t)klen, (uint32_t)vlen};
}

static void on_member(void *arg, const char *k, size_t klen, const char *v, size_t vlen,
                      int is_string)
{
    (void)is_string;
    add(arg, k, klen, v, vlen);
}

static int parse_json(const char *msg, size_t len, char *w, struct fields_result *out)
{
    const char *end = msg + len;
    const char *p = js_object(js_skip_ws(msg, end), end, &w, on_member, out);
    /* one object, nothing but whitespace after it */
    return p && js_skip_ws(p, end) == end ? 0 : -1;
}

static int parse_logfmt(const char *msg, size_t len, char *w, struct fields_result *out)
{
    const char *p = msg, *end = msg + len;
    int pairs = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end)
            break;
        const char *k = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '=' && *p != '"')
            p++;
        size_t klen = (size_t)(p - k);
        if (klen == 0)
            return -1;
        if (p >= end || *p != '=') {
            if (p < end && *p == '"')
                return -1;
            add(out, k, klen, p, 0);
            continue;
        }
        p++;
        pairs++;
        if (p < end && *p == '"') {
            char *d = w;
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\' && p + 1 < end) {
                    p++;
                    *w++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
                } else {
                    *w++ = *p;
                }
            }
            if (p >= end)
                return -1; /* unterminated quote */
            p++;
            add(out, k, klen, d, (size_t)(w - d));
        } else {
            const char *v = p;
            while (p < end && *p != ' ' && *p != '\t')
                p++;
            add(out, k, klen, v, (size_t)(p - v));
        }
    }
    return pairs > 0 ? 0 : -1;
}

int fields_parse(enum fields_format fmt, const char *msg, size_t len, struct buf *scratch,
                 struct fields_result *out)
{
    out->n = 0;
    out->time_ns = 0;
    buf_reset(scratch);
    buf_reserve(scratch, len + 1);
    int r = fmt == FIELDS_JSON     ? parse_json(msg, len, scratch->data, out)
            : fmt == FIELDS_LOGFMT ? parse_logfmt(msg, len, scratch->data, out)
                                   : -1;
    if (r < 0) {
        out->n = 0;
        out->time_ns = 0;
    }
    return r;
}
