/* The pipeline: routing, per-destination buffers, sender threads and
 * acknowledgements.
 *
 *   input --pipeline_emit_*--> router (tag vs. each output's match globs)
 *     --> destination buffer (per output and dest_key) --seal on size,
 *         count or age--> send queue --> sender thread: plugin->send()
 *     --> completion (eventfd back to the loop) --> ack tracker
 *     --> input->commit(cookie) in emission order
 *
 * Everything but send() runs on the event loop thread. Memory is bounded:
 * when the bytes held in batches, their bodies and the plugins' buffers
 * exceed the limit, pipeline_input_paused() is true and inputs stop reading
 * until resume() is called. */
#ifndef COLLECTOR_PIPELINE_H
#define COLLECTOR_PIPELINE_H

#include "collector/pipeline/record.h"
#include "collector/plugin.h"

#include <stdint.h>

struct pipeline;
struct loop;

struct pipeline_limits {
    uint64_t memory_limit;           /* bytes held in memory (struct pipeline_memory_use),
                                        all inputs and outputs together */
    uint64_t input_limit;            /* bytes outstanding (unacknowledged) per input; 0 = none */
    const char *data_dir;            /* disk buffers go in <data_dir>/buffer/<output> */
};

struct pipeline *pipeline_new(struct loop *loop, struct input_instance **inputs, int ninputs,
                              struct output_instance **outputs, int noutputs,
                              const struct pipeline_limits *limits);
/* Open disk buffers (queuing what a previous run left, before anything
 * new), start sender threads and the flush timer. 0 or -1. */
int pipeline_start(struct pipeline *p);

/* Route and buffer one record. Always accepts it (the caller checks
 * pipeline_input_paused() between reads, so at most one read's worth goes
 * over the limit). */
void pipeline_emit_log(struct input_instance *in, const struct log_event *ev);
void pipeline_emit_metric(struct input_instance *in, const struct metric_event *ev);

/* Should this input stop reading for now? If so its resume() is called
 * once there is room again. */
int pipeline_input_paused(struct input_instance *in);

/* Seal every open batch so it is sent now. */
void pipeline_flush(struct pipeline *p);
/* Records emitted and not yet acknowledged, all inputs. */
uint64_t pipeline_pending(const struct pipeline *p);
/* Where the bytes memory_limit counts are. */
struct pipeline_memory_use {
    uint64_t batches;         /* records and arenas of batches in memory (open, queued, in
                                 flight): capacity, not only payload */
    uint64_t encoded;         /* their request bodies (encode once), also while a sender
                                 thread holds them */
    uint64_t spare;           /* emptied batches kept for reuse */
    uint64_t spool_reads;     /* disk-buffer chunks sender threads read back to send */
    uint64_t read_buffers;    /* inputs' read buffers */
    uint64_t output_buffers;  /* outputs' working buffers (encode, HTTP request/response) */
    uint64_t total;           /* the sum: what pipeline_input_paused() compares to the limit */
};
void pipeline_memory_use(const struct pipeline *p, struct pipeline_memory_use *u);
/* The total of pipeline_memory_use(). */
uint64_t pipeline_memory(const struct pipeline *p);
/* Batches queued or in flight, all outputs. */
uint64_t pipeline_batches_pending(const struct pipeline *p);
/* Batches that would be lost by stopping now: queued or in flight and not in
 * a disk buffer. A graceful stop waits for this to reach 0. */
uint64_t pipeline_batches_unpersisted(const struct pipeline *p);

/* Tell sender threads to stop once their current send returns, without
 * waiting for them; pipeline_senders_running() says how many have not yet. */
void pipeline_stop_senders(struct pipeline *p);
int pipeline_senders_running(const struct pipeline *p);

/* Stop sender threads (in-flight sends finish first) and free everything.
 * Records never acknowledged are not committed: their inputs re-read them. */
void pipeline_free(struct pipeline *p);

/* Does any glob in match (space-separated fnmatch patterns) match tag? */
int route_matches(const struct strlist *match, const char *tag);

#endif
