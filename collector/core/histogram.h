/* A fixed-bucket histogram that any thread may observe into and the status
 * endpoint formats (Prometheus style). Counts are per bucket, not
 * cumulative; the last bucket is +Inf. */
#ifndef COLLECTOR_HISTOGRAM_H
#define COLLECTOR_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_MAX_BUCKETS 16

struct histogram {
    const double *bounds;        /* upper bounds, ascending, without +Inf */
    int nbounds;                 /* <= HISTOGRAM_MAX_BUCKETS */
    _Atomic uint64_t counts[HISTOGRAM_MAX_BUCKETS + 1];
    _Atomic uint64_t count;
    _Atomic uint64_t sum_micros; /* sum of observations, in millionths */
};

void histogram_init(struct histogram *h, const double *bounds, int nbounds);
void histogram_observe(struct histogram *h, double value);

/* Seconds, 5 ms .. 60 s: the range of one network send with its retries. */
extern const double histogram_send_bounds[];
extern const int histogram_send_nbounds;

#endif
