/* CRI log lines: see cri.h. */
#include "parsers/cri.h"

#include <string.h>

static const char *field_end(const char *p, const char *end)
{
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    return sp ? sp : end;
}

int cri_parse(const char *line, size_t len, struct cri_line *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = line, *end = line + len;
    const char *t_end = field_end(p, end);
    if (t_end == end || rfc3339_ns(p, (size_t)(t_end - p), &out->time_ns) < 0)
        return -1;
    p = t_end + 1;
    const char *s_end = field_end(p, end);
    if (s_end == end)
        return -1;
    out->stream = log_stream_of(p, (size_t)(s_end - p));
    if (out->stream == LOG_STREAM_OTHER)
        return -1;
    p = s_end + 1;
    const char *tag_end = field_end(p, end);
    if (tag_end == p || (*p != 'P' && *p != 'F') || (tag_end - p > 1 && p[1] != ':'))
        return -1;
    out->partial = *p == 'P';
    p = tag_end < end ? tag_end + 1 : end;
    out->msg = p;
    out->msg_len = (size_t)(end - p);
    return 0;
}

enum log_format log_format_detect(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i < len && line[i] == '{')
        return LOG_FORMAT_DOCKER_JSON;
    struct cri_line c;
    if (cri_parse(line, len, &c) == 0)
        return LOG_FORMAT_CRI;
    return LOG_FORMAT_UNKNOWN;
}
