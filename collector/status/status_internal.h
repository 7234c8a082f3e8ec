/* Shared by status.c (routes, lifecycle) and status_metrics.c (/metrics). */
#ifndef COLLECTOR_STATUS_INTERNAL_H
#define COLLECTOR_STATUS_INTERNAL_H

#include "collector/status/health.h"
#include "collector/status/http_server.h"
#include "collector/status/prometheus.h"
#include "collector/status/status.h"

struct status_server {
    struct agent *agent;
    struct loop *loop;
    struct http_server *http;     /* NULL with http_listen = off */
    struct http_addr addr;
    struct health_outputs health;
    struct loop_timer *tick;
    int64_t started_ms;           /* wall clock, this configuration's start */
};

/* Configuration generation (1 = the first load) and reload counters. */
struct status_reloads {
    uint64_t generation;
    uint64_t ok;
    uint64_t failed;
    int64_t loaded_ms;
};
const struct status_reloads *status_reloads(void);

/* Histogram of send latency for output index i (0..63), or NULL. */

/* Append every extra metrics provider's text. */
void status_extra_metrics(struct buf *out);

/* The /metrics body. */
void status_metrics_format(struct status_server *s, struct buf *out);

#endif
