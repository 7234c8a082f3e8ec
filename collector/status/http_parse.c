#include "collector/status/http_parse.h"

#include <stdio.h>
#include <string.h>

/* RFC 9110 token characters (method names, header names). */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Find the end of the line starting at p: returns the index of '\n' or -1. */
static long line_end(const char *data, size_t len, size_t from)
{
    const char *nl = memchr(data + from, '\n', len - from);
    return nl ? (long)(nl - data) : -1;
}

static int parse_request_line(const char *line, size_t len, struct http_request *req)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= len || line[i] != ' ')
        return HTTP_PARSE_BAD;
    req->method = line;
    req->method_len = i;
    size_t t = ++i;
    while (i < len && line[i] != ' ') {
        unsigned char c = (unsigned char)line[i];
        if (c <= 0x20 || c == 0x7f)
            return HTTP_PARSE_BAD;
        i++;
    }
    if (i == t)
        return HTTP_PARSE_BAD;
    if (i >= len)
        return HTTP_PARSE_BAD; /* HTTP/0.9: "GET /" without a version */
    const char *target = line + t;
    size_t tlen = i - t;
    if (target[0] != '/' && !(tlen == 1 && target[0] == '*'))
        return HTTP_PARSE_BAD; /* absolute-form is not served here */
    const char *q = memchr(target, '?', tlen);
    req->path = target;
    req->path_len = q ? (size_t)(q - target) : tlen;
    req->query = q ? q + 1 : NULL;
    req->query_len = q ? tlen - req->path_len - 1 : 0;
    const char *ver = line + i + 1;
    size_t vlen = len - i - 1;
    if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[6] != '.' || ver[5] < '0' ||
        ver[5] > '9' || ver[7] < '0' || ver[7] > '9')
        return HTTP_PARSE_BAD;
    if (ver[5] != '1')
        return HTTP_PARSE_VERSION;
    req->minor_version = ver[7] - '0';
    return 0;
}

static int valid_header(const char *line, size_t len)
{
    if (len > 0 && (line[0] == ' ' || line[0] == '\t'))
        return 0; /* obsolete line folding */
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)line[i]))
        i++;
    if (i == 0 || i >= len || line[i] != ':')
        return 0;
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Could this partial request line still become a valid one? Catches
 * binary garbage (a TLS hello, NULs) before the size cap is reached. */
static int plausible_request_start(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)p[i]))
        i++;
    if (i < len && p[i] != ' ')
        return 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\r') || c == 0x7f)
            return 0;
    }
    return 1;
}

int http_parse_request(const char *data, size_t len, struct http_request *req)
{
    memset(req, 0, sizeof *req);
    size_t pos = 0;
    /* RFC 9112 2.2: ignore at least one empty line before the request line. */
    while (pos < len && (data[pos] == '\r' || data[pos] == '\n') && pos < 4)
        pos++;
    int line_no = 0;
    while (pos < len) {
        long nl = line_end(data, len, pos);
        if (nl < 0) {
            /* Reject garbage early instead of waiting for the size cap. */
            if (line_no == 0 && !plausible_request_start(data + pos, len - pos))
                return HTTP_PARSE_BAD;
            return HTTP_PARSE_INCOMPLETE;
        }
        size_t end = (size_t)nl;
        size_t llen = end - pos;
        if (llen > 0 && data[end - 1] == '\r')
            llen--;
        if (memchr(data + pos, '\0', llen) || memchr(data + pos, '\r', llen))
            return HTTP_PARSE_BAD;
        if (line_no == 0) {
            int rc = parse_request_line(data + pos, llen, req);
            if (rc < 0)
                return rc;
        } else if (llen == 0) {
            req->head_len = end + 1;
            return (int)req->head_len;
        } else if (!valid_header(data + pos, llen)) {
            return HTTP_PARSE_BAD;
        }
        line_no++;
        pos = end + 1;
    }
    return HTTP_PARSE_INCOMPLETE;
}

int http_method_is(const struct http_request *req, const char *m)
{
    size_t n = strlen(m);
    return req->method_len == n && memcmp(req->method, m, n) == 0;
}

int http_path_is(const struct http_request *req, const char *p)
{
    size_t n = strlen(p);
    return req->path_len == n && memcmp(req->path, p, n) == 0;
}

static int valid_port(const char *p)
{
    if (!*p || strlen(p) > 5)
        return 0;
    long v = 0;
    for (const char *c = p; *c; c++) {
        if (*c < '0' || *c > '9')
            return 0;
        v = v * 10 + (*c - '0');
    }
    return v >= 1 && v <= 65535;
}

int http_addr_parse(const char *text, struct http_addr *addr, char *err, size_t errlen)
{
    memset(addr, 0, sizeof *addr);
    if (!text || !*text || strcmp(text, "off") == 0) {
        addr->kind = HTTP_ADDR_OFF;
        return 0;
    }
    const char *path = NULL;
    if (strncmp(text, "unix:", 5) == 0)
        path = text + 5;
    else if (text[0] == '/' || text[0] == '.')
        path = text;
    if (path) {
        if (!*path || strlen(path) >= sizeof addr->path) {
            snprintf(err, errlen, "unix socket path '%s' is empty or longer than %zu bytes", path,
                     sizeof addr->path - 1);
            return -1;
        }
        addr->kind = HTTP_ADDR_UNIX;
        snprintf(addr->path, sizeof addr->path, "%s", path);
        return 0;
    }
    const char *host = text, *colon;
    size_t hlen;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "'%s': expected [IPV6]:PORT", text);
            return -1;
        }
        host = text + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || memchr(text, ':', (size_t)(colon - text))) {
            snprintf(err, errlen, "'%s': expected HOST:PORT, [IPV6]:PORT, a socket path or off",
                     text);
            return -1;
        }
        hlen = (size_t)(colon - text);
    }
    if (hlen >= sizeof addr->host) {
        snprintf(err, errlen, "'%s': host name too long", text);
        return -1;
    }
    if (!valid_port(colon + 1)) {
        snprintf(err, errlen, "'%s': port must be 1..65535", text);
        return -1;
    }
    addr->kind = HTTP_ADDR_TCP;
    memcpy(addr->host, host, hlen);
    addr->host[hlen] = '\0';
    snprintf(addr->port, sizeof addr->port, "%s", colon + 1);
    return 0;
}
