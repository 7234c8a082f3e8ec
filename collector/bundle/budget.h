/* The size budget of a whole bundle. Pure. */
#ifndef COLLECTOR_BUNDLE_BUDGET_H
#define COLLECTOR_BUNDLE_BUDGET_H

#include <stddef.h>
#include <stdint.h>

/* The largest T such that sum(min(size[i], T)) <= budget: files above T are
 * cut to their newest T bytes, smaller ones stay whole. UINT64_MAX when all
 * fit. */
uint64_t budget_threshold(const uint64_t *sizes, size_t n, uint64_t budget);

#endif
