/* A small HTTP/1.1 server on the agent's event loop, for the status
 * endpoint. One request per connection (Connection: close), no threads.
 *
 * Defences, so a client can neither block nor crash the agent:
 *   - the request head is read into a fixed per-connection buffer of
 *     max_head bytes; a longer head gets 431, garbage gets 400;
 *   - each connection has a deadline (timeout_ms from accept); a timer
 *     sweep closes the ones past it, however slowly they drip bytes;
 *   - at most max_conns connections; when full, a newcomer takes the slot
 *     of the oldest one that has not sent a complete request (idle first),
 *     so a flood of idle connections cannot lock out /health; only when
 *     every connection is being answered is a newcomer closed at once;
 *   - a unix socket is created with mode 0660 whatever the umask;
 *   - when the process runs out of descriptors, accepting pauses until the
 *     next sweep instead of spinning. */
#ifndef COLLECTOR_STATUS_HTTP_SERVER_H
#define COLLECTOR_STATUS_HTTP_SERVER_H

#include "collector/core/util.h"
#include "collector/status/http_parse.h"

#include <stdint.h>

struct loop;
struct http_server;

struct http_response {
    int status;
    const char *content_type;   /* default text/plain; charset=utf-8 */
    const char *allow;          /* Allow header (405), or NULL */
    struct buf *body;           /* the server's scratch buffer: append the body here */
};

/* Called on the loop thread for each complete request head. */
typedef void (*http_handler_fn)(void *arg, const struct http_request *req,
                                struct http_response *resp);

struct http_server_limits {
    size_t max_head;            /* bytes of request line + headers */
    int max_conns;
    int64_t timeout_ms;         /* whole connection, accept to close */
};

struct http_server_counters {
    uint64_t requests;          /* complete requests answered */
    uint64_t errors;            /* answered 4xx/5xx for protocol errors (400, 431, 505) */
    uint64_t timeouts;          /* closed at the deadline */
    uint64_t rejected;          /* closed at once: too many connections */
    int connections;            /* open now */
};

/* Listen on addr (TCP or unix socket). NULL with the reason in err. */
struct http_server *http_server_new(struct loop *loop, const struct http_addr *addr,
                                    const struct http_server_limits *limits,
                                    http_handler_fn handler, void *arg, char *err, size_t errlen);
/* Could a server listen on addr now? Binds a TCP address and closes it
 * again (0, or -1 with the reason in err); a unix path is not tried. For a
 * reload's check before the running configuration is retired. */
int http_server_probe(const struct http_addr *addr, char *err, size_t errlen);
/* Close every connection and the listening socket (a unix socket file is removed). */
void http_server_free(struct http_server *s);
void http_server_counters(const struct http_server *s, struct http_server_counters *out);

const char *http_status_text(int status);

#endif
