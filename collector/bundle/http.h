/* Small HTTP client for the bundle (ECS introspection, the agent's /status,
 * IMDSv2): libcurl with a total timeout, no proxy, no signals. */
#ifndef COLLECTOR_BUNDLE_HTTP_H
#define COLLECTOR_BUNDLE_HTTP_H

#include "collector/core/util.h"

#include <stdint.h>

/* method "GET" or "PUT"; header may be NULL. Returns the HTTP status, or -1
 * with err filled (connection refused, timed out, ...). Body kept to cap. */
long bundle_http(const char *method, const char *url, const char *header, int64_t timeout_ms,
                 size_t cap, struct buf *body, char *err, size_t errlen);
void bundle_http_init(void);

#endif
