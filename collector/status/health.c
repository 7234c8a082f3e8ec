#include "collector/status/health.h"
#include "collector/plugin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void health_outputs_init(struct health_outputs *h, struct output_instance **outputs, int n,
                         int64_t max_stall_ms)
{
    h->outputs = outputs;
    h->noutputs = n;
    h->max_stall_ms = max_stall_ms;
    h->idle_ms = xcalloc((size_t)(n > 0 ? n : 1), sizeof *h->idle_ms);
    int64_t now = now_ms();
    for (int i = 0; i < n; i++)
        h->idle_ms[i] = now; /* the clock starts when the output does */
}

void health_outputs_free(struct health_outputs *h)
{
    free(h->idle_ms);
    h->idle_ms = NULL;
    h->noutputs = 0;
}

void health_outputs_sample(struct health_outputs *h, int64_t now)
{
    for (int i = 0; i < h->noutputs; i++)
        if (h->outputs[i]->stats.batches_pending == 0)
            h->idle_ms[i] = now;
}

int health_output_stalled(const struct health_outputs *h, int i, int64_t now, struct buf *reason)
{
    const struct output_instance *o = h->outputs[i];
    uint64_t pending = o->stats.batches_pending;
    if (pending == 0 || h->max_stall_ms <= 0)
        return 0;
    int64_t since = h->idle_ms[i];
    int64_t ok = o->stats.last_success_ms;
    if (ok > since)
        since = ok;
    if (now - since <= h->max_stall_ms)
        return 0;
    if (reason) {
        buf_printf(reason, "output %s has not delivered for %" PRId64 " s with %" PRIu64
                   " batch%s waiting (health.max_stall %" PRId64 " s)",
                   o->name, (now - since) / 1000, pending, pending == 1 ? "" : "es",
                   h->max_stall_ms / 1000);
        int64_t err = o->stats.last_error_ms;
        if (err > 0)
            buf_printf(reason, "; last error %" PRId64 " s ago", (now - err) / 1000);
    }
    return 1;
}

static void add_failure(struct health_failure *out, int max, int *n, const char *check,
                        const struct buf *reason)
{
    if (*n < max) {
        out[*n].check = check;
        out[*n].not_live = 0;
        snprintf(out[*n].reason, sizeof out[*n].reason, "%s", reason->data ? reason->data : "");
    }
    (*n)++;
}

/* The inputs' own checks (plugin.h: health). */
static void evaluate_inputs(struct input_instance *const *inputs, int ninputs,
                            struct health_failure *out, int max, int *n)
{
    for (int i = 0; i < ninputs; i++) {
        struct input_instance *in = inputs[i];
        if (!in->ctx || !in->plugin->health)
            continue;
        char why[400] = "";
        int verdict = in->plugin->health(in, why, sizeof why);
        if (verdict == INPUT_HEALTHY)
            continue;
        if (*n < max) {
            out[*n].check = "input";
            out[*n].not_live = verdict == INPUT_NOT_LIVE;
            snprintf(out[*n].reason, sizeof out[*n].reason, "input %s: %s", in->name,
                     why[0] ? why : "not well");
        }
        (*n)++;
    }
}

int health_evaluate(const struct health_outputs *h, struct input_instance *const *inputs,
                    int ninputs, int64_t now, const char *reload_error,
                    struct health_failure *out, int max)
{
    int n = 0;
    struct buf reason;
    buf_init(&reason);
    for (int i = 0; h && i < h->noutputs; i++) {
        const struct output_instance *o = h->outputs[i];
        buf_reset(&reason);
        if (health_output_stalled(h, i, now, &reason))
            add_failure(out, max, &n, "output_stalled", &reason);
        if (o->stats.buffer_full) {
            buf_reset(&reason);
            buf_printf(&reason, "output %s: disk buffer full (%" PRIu64 " bytes in %" PRIu64
                       " chunks, buffer.max_size)", o->name, (uint64_t)o->stats.buffer_bytes,
                       (uint64_t)o->stats.buffer_chunks);
            add_failure(out, max, &n, "buffer_full", &reason);
        }
        int64_t since = o->stats.credentials_failing_ms;
        if (since) {
            buf_reset(&reason);
            buf_printf(&reason, "output %s: AWS credentials cannot be obtained (for %" PRId64 " s)",
                       o->name, (now_ms() - since) / 1000);
            add_failure(out, max, &n, "credentials", &reason);
        }
    }
    if (reload_error) {
        buf_reset(&reason);
        buf_printf(&reason, "configuration reload failed: %s", reload_error);
        add_failure(out, max, &n, "config_reload", &reason);
    }
    buf_free(&reason);
    evaluate_inputs(inputs, ninputs, out, max, &n);
    return n;
}

int health_live(const struct health_failure *fails, int n, int max)
{
    for (int i = 0; i < n && i < max; i++)
        if (fails[i].not_live)
            return 0;
    return 1;
}
