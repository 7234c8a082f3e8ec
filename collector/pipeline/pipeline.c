/* The pipeline's lifecycle, its flush timer and its counters. The parts:
 * see pipeline_internal.h. */
#include "collector/pipeline/pipeline.h"
#include "collector/pipeline/pipeline_internal.h"
#include "collector/loop.h"
#include "collector/pipeline/ack.h"
#include "collector/pipeline/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint32_t route_generation;

/* ------------------------------------------------------------------ tick */

static void on_tick(struct loop *loop, void *arg)
{
    struct pipeline *p = arg;
    int64_t now = mono_ms();
    (void)loop;
    if (p->commit_due) {
        p->commit_due = 0;
        for (int i = 0; i < p->ninputs; i++)
            route_commit_acked(p, p->inputs[i]);
        route_resume_inputs(p);
    }
    for (int i = 0; i < p->noutputs; i++) {
        struct output_runtime *rt = p->outputs[i]->rt;
        int64_t age = p->outputs[i]->common.flush_interval_ms;
        for (struct dest *d = rt->dests; d; d = d->list_next) {
            if (d->open && now - d->open->opened_ms >= age)
                dest_seal(rt, d, now);
            dest_dispatch(rt, d, now);
        }
        if (rt->ndests > 1)
            dest_collect_idle(rt, now);
    }
}

void pipeline_flush(struct pipeline *p)
{
    int64_t now = mono_ms();
    for (int i = 0; i < p->noutputs; i++) {
        struct output_runtime *rt = p->outputs[i]->rt;
        for (struct dest *d = rt->dests; d; d = d->list_next)
            dest_seal(rt, d, now);
    }
}

uint64_t pipeline_pending(const struct pipeline *p)
{
    return p->pending;
}

void pipeline_memory_use(const struct pipeline *p, struct pipeline_memory_use *u)
{
    *u = (struct pipeline_memory_use){0};
    u->batches = p->mem_batches;
    u->encoded = p->mem_encoded + atomic_load(&p->mem_sender_encoded);
    u->spare = p->mem_spare;
    u->spool_reads = atomic_load(&p->mem_sender_reloaded);
    for (int i = 0; i < p->ninputs; i++)
        u->read_buffers += atomic_load(&p->inputs[i]->buffer_bytes);
    for (int i = 0; i < p->noutputs; i++)
        u->output_buffers += atomic_load(&p->outputs[i]->buffer_bytes);
    u->total = u->batches + u->encoded + u->spare + u->spool_reads + u->read_buffers +
               u->output_buffers;
}

uint64_t pipeline_memory_total(const struct pipeline *p)
{
    struct pipeline_memory_use u;
    pipeline_memory_use(p, &u);
    return u.total;
}

uint64_t pipeline_memory(const struct pipeline *p)
{
    return pipeline_memory_total(p);
}

uint64_t pipeline_batches_pending(const struct pipeline *p)
{
    uint64_t n = 0;
    for (int i = 0; i < p->noutputs; i++)
        n += p->outputs[i]->rt->batches_pending;
    return n;
}

uint64_t pipeline_batches_unpersisted(const struct pipeline *p)
{
    uint64_t n = 0;
    for (int i = 0; i < p->noutputs; i++) {
        struct output_runtime *rt = p->outputs[i]->rt;
        for (struct dest *d = rt->dests; d; d = d->list_next) {
            if (d->open)
                n++;
            for (struct batch *b = d->queue_head; b; b = b->next)
                n += b->spool_id == 0;
            if (d->inflight && !rt->spool)
                n++; /* in flight: without a disk buffer it only lives in memory */
        }
    }
    return n;
}

/* --------------------------------------------------------------- lifecycle */

struct pipeline *pipeline_new(struct loop *loop, struct input_instance **inputs, int ninputs,
                              struct output_instance **outputs, int noutputs,
                              const struct pipeline_limits *limits)
{
    if (noutputs > 64) {
        log_msg(LOG_ERROR, "pipeline", "at most 64 outputs are supported (%d configured)", noutputs);
        return NULL;
    }
    struct pipeline *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    p->inputs = inputs;
    p->ninputs = ninputs;
    p->outputs = outputs;
    p->noutputs = noutputs;
    p->memory_limit = limits->memory_limit;
    p->input_limit = limits->input_limit;
    p->data_dir = xstrdup(limits->data_dir ? limits->data_dir : ".");
    p->route_gen = ++route_generation;
    p->paused = xcalloc((size_t)ninputs + 1, 1);
    pthread_mutex_init(&p->done_lock, NULL);

    int64_t min_flush = 1000;
    for (int i = 0; i < noutputs; i++) {
        struct output_instance *out = outputs[i];
        struct output_runtime *rt = xcalloc(1, sizeof *rt);
        rt->out = out;
        rt->pipeline = p;
        rt->max_records = out->common.batch_max_records > 0 ? (uint32_t)out->common.batch_max_records
                                                            : 10000;
        if (out->plugin->max_batch_records && rt->max_records > out->plugin->max_batch_records)
            rt->max_records = out->plugin->max_batch_records;
        rt->max_bytes = out->common.batch_max_bytes ? out->common.batch_max_bytes : (1u << 20);
        if (out->plugin->max_batch_bytes && rt->max_bytes > out->plugin->max_batch_bytes)
            rt->max_bytes = out->plugin->max_batch_bytes;
        rt->overhead = out->plugin->record_overhead;
        histogram_init(&out->stats.send_seconds, histogram_send_bounds, histogram_send_nbounds);
        pthread_mutex_init(&rt->lock, NULL);
        pthread_cond_init(&rt->cond, NULL);
        buf_init(&rt->keybuf);
        out->rt = rt;
        if (out->plugin->flags & OUTPUT_LOGS)
            p->logs_mask |= 1ULL << i;
        if (out->plugin->flags & OUTPUT_METRICS)
            p->metrics_mask |= 1ULL << i;
        if (out->common.flush_interval_ms < min_flush)
            min_flush = out->common.flush_interval_ms;
    }
    for (int i = 0; i < ninputs; i++) {
        inputs[i]->pipeline = p;
        inputs[i]->acks = ack_tracker_new();
    }
    p->tick_ms = min_flush / 4;
    if (p->tick_ms < 20)
        p->tick_ms = 20;
    if (p->tick_ms > 1000)
        p->tick_ms = 1000;
    return p;
}

int pipeline_start(struct pipeline *p)
{
    p->done = loop_async_new(p->loop, sender_on_done, p);
    if (!p->done) {
        log_msg(LOG_ERROR, "pipeline", "cannot set up the completion eventfd: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < p->noutputs; i++) {
        struct output_instance *out = p->outputs[i];
        const char *mode = out->common.buffer;
        int disk = mode ? strcmp(mode, "disk") == 0 : (out->plugin->flags & OUTPUT_DISK_BUFFER) != 0;
        if (disk && spool_start_output(p, out->rt) < 0)
            return -1;
    }
    for (int i = 0; i < p->noutputs; i++)
        if (sender_start(p->outputs[i]->rt) < 0)
            return -1;
    p->tick = loop_timer_add(p->loop, p->tick_ms, p->tick_ms, on_tick, p);
    return p->tick ? 0 : -1;
}

void pipeline_stop_senders(struct pipeline *p)
{
    for (int i = 0; i < p->noutputs; i++)
        sender_signal_stop(p->outputs[i]->rt);
}

int pipeline_senders_running(const struct pipeline *p)
{
    return atomic_load(&((struct pipeline *)p)->senders_running);
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    loop_timer_del(p->loop, p->tick);
    for (int i = 0; i < p->noutputs; i++)
        sender_stop(p->outputs[i]->rt);
    loop_async_free(p->done);
    p->done = NULL;
    /* Sends that finished after the last loop pass are completed (a
     * delivered chunk leaves the disk buffer, delivered records are
     * committed), so a stop or reload does not send them again. Batches
     * never sent: their records are not committed, so inputs read them again
     * next run, or they stay in the disk buffer. */
    sender_complete_done(p);
    for (int i = 0; i < p->noutputs; i++) {
        struct output_runtime *rt = p->outputs[i]->rt;
        for (struct batch *b = rt->work_head, *next; b; b = next) {
            next = b->next;
            batch_free(b);
        }
        for (struct dest *d = rt->dests, *next; d; d = next) {
            next = d->list_next;
            dest_free(d);
        }
        for (struct batch *b = rt->free_batches, *next; b; b = next) {
            next = b->next;
            batch_free(b);
        }
        meta_unref(rt->last_meta);
        if (rt->encode_worker && p->outputs[i]->plugin->worker_free)
            p->outputs[i]->plugin->worker_free(p->outputs[i], rt->encode_worker);
        spool_close(rt->spool);
        buf_free(&rt->keybuf);
        free(rt->buckets);
        pthread_mutex_destroy(&rt->lock);
        pthread_cond_destroy(&rt->cond);
        free(rt);
        p->outputs[i]->rt = NULL;
    }
    for (int i = 0; i < p->ninputs; i++) {
        ack_tracker_free(p->inputs[i]->acks);
        p->inputs[i]->acks = NULL;
        p->inputs[i]->pipeline = NULL;
    }
    pthread_mutex_destroy(&p->done_lock);
    free(p->paused);
    free(p->data_dir);
    free(p);
}
