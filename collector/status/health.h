/* Health: is the agent doing its job? GET /ready answers 200 when every
 * check passes and 503 with the failing checks' reasons otherwise; GET
 * /health (liveness) fails only on a failure marked not live.
 *
 * Built in: outputs stalled (health_output_stalled), disk buffers full,
 * credentials that cannot be obtained, a failed configuration reload (the
 * caller passes its error). Inputs report what they watch through their
 * plugin's health callback (plugin.h), read from the inputs the status view
 * lists: no module registers into status. Everything runs on the loop
 * thread. */
#ifndef COLLECTOR_STATUS_HEALTH_H
#define COLLECTOR_STATUS_HEALTH_H

#include "collector/core/util.h"

#include <stdint.h>

struct input_instance;
struct output_instance;

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

/* One failing check, as reported. Every failure fails readiness; one with
 * not_live set fails liveness too. */
struct health_failure {
    const char *check;
    int not_live;
    char reason[512];
};

/* Run every check: outputs, reload (reload_error: the last reload's error,
 * or NULL), then the health callback of each of the n inputs (started ones:
 * ctx set; inputs may be NULL when n is 0). Returns the number of failures,
 * writing at most max of them to out. */
int health_evaluate(const struct health_outputs *h, struct input_instance *const *inputs,
                    int ninputs, int64_t now, const char *reload_error,
                    struct health_failure *out, int max);
/* 1 unless one of the n failures written (n capped at max) is not live. */
int health_live(const struct health_failure *fails, int n, int max);

#endif
