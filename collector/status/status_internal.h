/* The status server's state: read by status.c (routes, life cycle) and
 * status_metrics.c (/metrics). status_metrics.c calls nothing in status.c. */
#ifndef COLLECTOR_STATUS_INTERNAL_H
#define COLLECTOR_STATUS_INTERNAL_H

#include "collector/status/health.h"
#include "collector/status/http_server.h"
#include "collector/status/prometheus.h"
#include "collector/status/view.h"

struct status_server {
    struct status_view view;      /* the agent as status sees it */
    struct loop *loop;
    struct http_server *http;     /* NULL with http_listen = off */
    struct http_addr addr;
    struct health_outputs health;
    struct loop_timer *tick;
    int64_t started_ms;           /* wall clock, this configuration's start */
};

/* The /metrics body, extra providers' families included. */
void status_metrics_format(struct status_server *s, struct buf *out);

#endif
