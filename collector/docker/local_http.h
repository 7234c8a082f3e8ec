/* The one small HTTP core for the local APIs the agent reads: the Docker
 * Engine API on its unix socket, the ECS agent's introspection API and
 * IMDS on loopback, the agent's own /status. libcurl, no proxy, no
 * signals, no redirects, plain http only. Blocking: never called on the
 * event loop thread. (The AWS client, collector/aws/, keeps its own: it
 * signs, retries and speaks TLS.)
 *
 * Two shapes: a request whose whole answer is kept (local_http_get), and a
 * held-open GET whose body is handed over line by line as it comes
 * (local_http_stream), ended at once from another thread by
 * local_http_stream_stop. */
#ifndef COLLECTOR_DOCKER_LOCAL_HTTP_H
#define COLLECTOR_DOCKER_LOCAL_HTTP_H

#include "collector/core/util.h"

#include <stddef.h>

struct local_http;

/* libcurl's process-wide setup, for a program that has not done it (the
 * agent does it at start; `collector bundle` calls this). */
void local_http_init(void);

/* One keep-alive handle for one thread (libcurl is loaded by its first request). */
struct local_http *local_http_new(void);
void local_http_free(struct local_http *h);

struct local_http_req {
    const char *method;          /* NULL = GET; "PUT" sends an empty body */
    const char *unix_socket;     /* NULL = TCP; else the URL's host is ignored */
    const char *url;
    const char *header;          /* one extra "Name: value" or NULL */
    long timeout_ms;             /* total */
    long connect_timeout_ms;     /* 0 = timeout_ms */
    size_t max_body;             /* larger answers fail (-1); 0 = 64 MiB */
};

/* Perform req; the answer in body (reset first). The HTTP status, or -1
 * with the reason in err. */
int local_http_get(struct local_http *h, const struct local_http_req *req, struct buf *body,
                   char *err, size_t errlen);

/* A held-open GET. line(arg, text, len) for every complete line of a 200
 * answer (without its newline; a line longer than max_line is dropped). */
struct local_http_stream;
typedef void (*local_http_line_fn)(void *arg, const char *text, size_t len);

struct local_http_stream *local_http_stream_new(const char *unix_socket, const char *url,
                                                long connect_timeout_ms, size_t max_line,
                                                local_http_line_fn line, void *arg);
/* Runs until the answer ends, the connection fails or stop is called;
 * then says why in why[] (status and body start of an error answer, the
 * transport error, or that the stream was closed). Returns the status
 * (-1 when there was none). */
long local_http_stream_run(struct local_http_stream *s, char *why, size_t whylen);
/* From any thread: ends run() at once (shuts its socket down). */
void local_http_stream_stop(struct local_http_stream *s);
void local_http_stream_free(struct local_http_stream *s);

#endif
