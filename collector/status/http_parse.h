/* Pure parsing for the status HTTP server: the request head and the
 * listen address. No sockets here, so both are unit-tested directly. */
#ifndef COLLECTOR_STATUS_HTTP_PARSE_H
#define COLLECTOR_STATUS_HTTP_PARSE_H

#include <stddef.h>

/* A parsed request head. Pointers point into the caller's buffer. */
struct http_request {
    const char *method;
    size_t method_len;
    const char *path;       /* target without the query string */
    size_t path_len;
    const char *query;      /* after '?', NULL if none */
    size_t query_len;
    int minor_version;      /* HTTP/1.x */
    size_t head_len;        /* bytes up to and including the blank line */
};

enum {
    HTTP_PARSE_INCOMPLETE = 0,   /* need more bytes */
    HTTP_PARSE_BAD = -400,       /* malformed: answer 400 and close */
    HTTP_PARSE_VERSION = -505,   /* not HTTP/1.x */
};

/* Parse data[0..len) as a request head (request line and header lines,
 * ending with an empty line; bare LF accepted). Returns the head length (> 0)
 * and fills req, or HTTP_PARSE_INCOMPLETE, or a negative status. The caller
 * caps how much it buffers (431 above its limit). */
int http_parse_request(const char *data, size_t len, struct http_request *req);

/* Does the request's method equal m? */
int http_method_is(const struct http_request *req, const char *m);
int http_path_is(const struct http_request *req, const char *p);

enum http_addr_kind { HTTP_ADDR_OFF = 0, HTTP_ADDR_TCP, HTTP_ADDR_UNIX };

struct http_addr {
    enum http_addr_kind kind;
    char host[256];          /* TCP: "" = every interface; IPv6 without brackets */
    char port[8];
    char path[108];          /* UNIX: socket path */
};

/* "off", "HOST:PORT", "[IPV6]:PORT", ":PORT", "unix:/path" or "/path".
 * 0, or -1 with a reason in err. */
int http_addr_parse(const char *text, struct http_addr *addr, char *err, size_t errlen);

#endif
