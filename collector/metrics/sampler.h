/* A sampling thread of one input: wakes every interval, fills a frame
 * (blocking reads of cgroups, procfs, the Docker and ECS APIs are fine
 * there), and hands it to the event loop through an eventfd; the loop
 * thread emits it. Three frames rotate (being filled, ready, being
 * emitted): nothing is allocated per interval once they have grown. If the
 * loop has not taken the previous frame when a new one is ready, the old
 * one is replaced and counted as skipped. */
#ifndef COLLECTOR_METRICS_SAMPLER_H
#define COLLECTOR_METRICS_SAMPLER_H

#include "collector/metrics/frame.h"

#include <stdint.h>

struct loop;
struct sampler;

/* Sampler thread: fill f (already reset; timestamp_ms set). */
typedef void (*sampler_fill_fn)(void *arg, struct mframe *f);
/* Loop thread: emit f. */
typedef void (*sampler_emit_fn)(void *arg, const struct mframe *f);

/* Start: a first sample at once (it primes the counters), then every
 * interval_ms, aligned to the wall clock. NULL on failure. */
struct sampler *sampler_start(struct loop *loop, int64_t interval_ms, sampler_fill_fn fill,
                              sampler_emit_fn emit, void *arg);
/* Stop the thread (waits for a sample in progress) and free. */
void sampler_stop(struct sampler *s);

uint64_t sampler_frames(const struct sampler *s);
uint64_t sampler_skipped(const struct sampler *s);
/* CPU time the sampling thread has used, in ns (for status and benchmarks). */
uint64_t sampler_cpu_ns(const struct sampler *s);

#endif
