/* Health: is the agent doing its job? GET /health answers 200 when every
 * check passes and 503 with the failing checks' reasons otherwise.
 *
 * A check is a function that returns 0 when healthy, or 1 and appends a
 * one-line reason. Modules register theirs (the disk buffer: "buffer full";
 * the AWS client: "credentials cannot be obtained") and unregister before
 * they are freed:
 *
 *   static int buffer_check(void *arg, struct buf *reason) {...}
 *   health_register("disk_buffer", buffer_check, spool);
 *   ...
 *   health_unregister("disk_buffer", spool);
 *
 * Built in: outputs stalled (health_check_outputs) and a failed configuration
 * reload (the caller passes its error). Everything runs on the loop thread. */
#ifndef COLLECTOR_STATUS_HEALTH_H
#define COLLECTOR_STATUS_HEALTH_H

#include "collector/core/util.h"

#include <stdint.h>

struct output_instance;

typedef int (*health_check_fn)(void *arg, struct buf *reason);

#define HEALTH_MAX_CHECKS 32

/* Register a check under name (copied); 0, or -1 when the table is full. */
int health_register(const char *name, health_check_fn check, void *arg);
/* Remove the check registered with this name and arg (no-op if none). */
void health_unregister(const char *name, void *arg);

/* Per-output stall tracking: an output is stalled when it has had batches
 * waiting for longer than max_stall_ms without a success. Call
 * health_outputs_sample() regularly (it notes when each output was last idle). */
struct health_outputs {
    struct output_instance **outputs;
    int noutputs;
    int64_t *idle_ms;            /* per output: last time seen with nothing pending (wall) */
    int64_t max_stall_ms;
};

void health_outputs_init(struct health_outputs *h, struct output_instance **outputs, int n,
                         int64_t max_stall_ms);
void health_outputs_free(struct health_outputs *h);
void health_outputs_sample(struct health_outputs *h, int64_t now);
/* Is output i stalled at now? The reason is appended when it is. */
int health_output_stalled(const struct health_outputs *h, int i, int64_t now, struct buf *reason);

/* One failing check, as reported. */
struct health_failure {
    const char *check;
    char reason[512];
};

/* Run every check: outputs, reload (reload_error: the last reload's error,
 * or NULL), registered. Returns the number of failures, writing at most max
 * of them to out. */
int health_evaluate(const struct health_outputs *h, int64_t now, const char *reload_error,
                    struct health_failure *out, int max);

#endif
