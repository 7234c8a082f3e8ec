/* A small blocking HTTP GET client for the samplers (libcurl, one
 * keep-alive handle per sampler thread): the Docker Engine API over its
 * unix socket and the ECS agent's introspection API on 127.0.0.1. Never
 * used on the event loop thread. */
#ifndef COLLECTOR_METRICS_HTTP_GET_H
#define COLLECTOR_METRICS_HTTP_GET_H

#include "collector/core/util.h"

struct mh_client;

struct mh_client *mh_new(void);
void mh_free(struct mh_client *c);

/* GET url (through unix_socket when not NULL, the host part then being
 * ignored) into body (reset first). Returns the HTTP status, or -1 with a
 * reason in err. */
int mh_get(struct mh_client *c, const char *unix_socket, const char *url, long timeout_ms,
           struct buf *body, char *err, size_t errlen);

#endif
