#include "collector/core/histogram.h"

#include <string.h>

const double histogram_send_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                        1, 2.5, 5, 10, 30, 60};
const int histogram_send_nbounds = sizeof histogram_send_bounds / sizeof histogram_send_bounds[0];

void histogram_init(struct histogram *h, const double *bounds, int nbounds)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->nbounds = nbounds > HISTOGRAM_MAX_BUCKETS ? HISTOGRAM_MAX_BUCKETS : nbounds;
}

void histogram_observe(struct histogram *h, double value)
{
    int i = 0;
    while (i < h->nbounds && value > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    if (value > 0)
        h->sum_micros += (uint64_t)(value * 1e6 + 0.5);
}
