/* Docker json-file lines: see docker_json.h. */
#include "parsers/docker_json.h"
#include "parsers/json_scan.h"

#include <stdint.h>
#include <string.h>

static int key_is(const char *k, size_t klen, const char *want)
{
    return strlen(want) == klen && memcmp(k, want, klen) == 0;
}

static void on_attr(void *arg, const char *k, size_t klen, const char *v, size_t vlen,
                    int is_string)
{
    struct dj_line *out = arg;
    if (is_string && out->nattrs < DJ_MAX_ATTRS)
        out->attrs[out->nattrs++] = (struct dj_attr){k, v, (uint32_t)klen, (uint32_t)vlen};
}

/* "attrs": string members become attributes; anything else is skipped. */
static const char *parse_attrs(const char *p, const char *end, char **w, struct dj_line *out)
{
    p = js_skip_ws(p, end);
    if (p >= end || *p != '{')
        return js_skip_value(p, end);
    return js_object(p, end, w, on_attr, out);
}

int dj_parse(const char *line, size_t len, struct buf *scratch, struct dj_line *out)
{
    memset(out, 0, sizeof(*out));
    out->stream = LOG_STREAM_OTHER;
    const char *p = line, *end = line + len;
    p = js_skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    buf_reset(scratch);
    buf_reserve(scratch, len + 1);
    char *w = scratch->data;
    int have_log = 0;
    p = js_skip_ws(p + 1, end);
    while (p < end && *p != '}') {
        if (*p != '"')
            return -1;
        const char *k = p + 1;
        while (p + 1 < end && p[1] != '"' && p[1] != '\\')
            p++;
        if (p + 1 >= end || p[1] != '"')
            return -1; /* our keys have no escapes */
        size_t klen = (size_t)(p + 1 - k);
        p = js_skip_ws(p + 2, end);
        if (p >= end || *p != ':')
            return -1;
        p = js_skip_ws(p + 1, end);
        if (p >= end)
            return -1;
        int is_str = *p == '"';
        if (key_is(k, klen, "attrs")) {
            p = parse_attrs(p, end, &w, out);
        } else if (is_str && (key_is(k, klen, "log") || key_is(k, klen, "stream") ||
                              key_is(k, klen, "time"))) {
            char *v = w;
            p = js_string(p + 1, end, &w);
            if (!p)
                return -1;
            size_t vlen = (size_t)(w - v);
            if (k[0] == 'l') {
                have_log = 1;
                out->partial = !(vlen > 0 && v[vlen - 1] == '\n');
                if (!out->partial)
                    vlen--;
                out->msg = v;
                out->msg_len = vlen;
            } else if (k[0] == 's') {
                out->stream = log_stream_of(v, vlen);
            } else if (rfc3339_ns(v, vlen, &out->time_ns) < 0) {
                out->time_ns = 0;
            }
        } else {
            p = js_skip_value(p, end);
        }
        if (!p)
            return -1;
        p = js_skip_ws(p, end);
        if (p < end && *p == ',')
            p = js_skip_ws(p + 1, end);
    }
    if (!have_log)
        return -1;
    scratch->len = (size_t)(w - scratch->data);
    scratch->data[scratch->len] = '\0';
    return 0;
}

enum log_stream log_stream_of(const char *s, size_t len)
{
    if (len == 6 && memcmp(s, "stdout", 6) == 0)
        return LOG_STREAM_STDOUT;
    if (len == 6 && memcmp(s, "stderr", 6) == 0)
        return LOG_STREAM_STDERR;
    return LOG_STREAM_OTHER;
}

const char *log_stream_name(enum log_stream s)
{
    return s == LOG_STREAM_STDOUT ? "stdout" : s == LOG_STREAM_STDERR ? "stderr" : "other";
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int rfc3339_ns(const char *s, size_t len, int64_t *ns)
{
    int Y, M, D, h, m, sec;
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return -1;
    if (digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &m) || digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 9) {
                frac = frac * 10 + (s[i] - '0');
                nd++;
            }
            i++;
        }
        if (nd == 0)
            return -1;
        for (; nd < 9; nd++)
            frac *= 10;
    }
    int64_t off = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om))
            return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -1;
    }
    if (i != len)
        return -1;
    int64_t secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec - off;
    if (secs < -INT64_MAX / 1000000000LL || secs > INT64_MAX / 1000000000LL - 1)
        return -1; /* outside 1677..2262 (Docker's "never": 0001-01-01) */
    *ns = secs * 1000000000LL + frac;
    return 0;
}
