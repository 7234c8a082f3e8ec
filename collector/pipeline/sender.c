/* Senders: each output's worker threads call the plugin's send(); results
 * come back to the loop (loop_async), where batches are acknowledged,
 * retried after a backoff (at the front of their destination's queue, so
 * order is kept) or dropped. */
#include "collector/pipeline/pipeline_internal.h"
#include "collector/loop.h"
#include "collector/pipeline/ack.h"
#include "collector/pipeline/spool.h"

#include <stdlib.h>

#define RETRY_BASE_MS 500

void sender_push(struct output_runtime *rt, struct batch *b)
{
    pthread_mutex_lock(&rt->lock);
    b->next = NULL;
    if (rt->work_tail)
        rt->work_tail->next = b;
    else
        rt->work_head = b;
    rt->work_tail = b;
    pthread_cond_signal(&rt->cond);
    pthread_mutex_unlock(&rt->lock);
}

static int64_t retry_delay_ms(const struct output_instance *out, int attempts)
{
    int64_t cap = out->common.retry_max_backoff_ms > 0 ? out->common.retry_max_backoff_ms : 30000;
    int64_t bound = RETRY_BASE_MS;
    for (int i = 1; i < attempts && bound < cap; i++)
        bound *= 2;
    if (bound > cap)
        bound = cap;
    /* Half fixed, half jitter: spreads retries without ever retrying at once. */
    return bound / 2 + (int64_t)(random() % (bound / 2 + 1));
}

void sender_ack_batch(struct pipeline *p, struct batch *b)
{
    if (b->kind == BATCH_LOGS) {
        for (uint32_t i = 0; i < b->count; i++)
            ack_tracker_done(p->inputs[b->logs[i].input_index]->acks, b->logs[i].seq);
    } else {
        for (uint32_t i = 0; i < b->count; i++)
            ack_tracker_done(p->inputs[b->metrics[i].input_index]->acks, b->metrics[i].seq);
    }
    pipeline_uncount_batch(p, b);
}

/* The loop takes back what the sender thread counted for the batch. */
static void uncount_sender(struct pipeline *p, struct batch *b)
{
    atomic_fetch_sub(&p->mem_sender_encoded, b->sender_encoded);
    atomic_fetch_sub(&p->mem_sender_reloaded, b->sender_reloaded);
    b->sender_encoded = b->sender_reloaded = 0;
}

static void complete(struct pipeline *p, struct batch *b, int64_t now)
{
    uncount_sender(p, b);
    struct output_instance *out = b->output;
    struct output_runtime *rt = out->rt;
    struct dest *d = b->dest;
    d->inflight = 0;
    int result = b->result;
    enum drop_reason why = b->unloaded == BATCH_ON_DISK ? DROP_CORRUPT : DROP_REJECTED;
    if (result == OUTPUT_RETRY && out->common.retry_limit >= 0 &&
        b->attempts > out->common.retry_limit) {
        why = DROP_RETRIES_EXHAUSTED;
        log_msg(LOG_ERROR, "pipeline",
                "output %s: giving up on a batch of %u records after %d attempts (retry_limit)",
                out->name, b->count, b->attempts);
        result = OUTPUT_DROP;
    }
    switch (result) {
    case OUTPUT_OK:
        out->stats.records_out += b->count - (b->dropped < b->count ? b->dropped : b->count);
        out->stats.bytes_out += b->payload_bytes;
        out->stats.batches_out++;
        out->stats.last_success_ms = now_ms();
        break;
    case OUTPUT_RETRY:
        out->stats.batches_retried++;
        out->stats.last_error_ms = now_ms();
        if (b->unloaded == BATCH_RELOADED && (b->body_on_disk || !b->has_body)) {
            batch_unload(b); /* wait on disk, not in uncounted memory */
        } else if (b->unloaded == BATCH_RELOADED) {
            /* a chunk of an earlier format, encoded after it was read: keep
             * the body (re-encoding would count its drops twice), counted */
            batch_drop_records(b);
            b->unloaded = BATCH_IN_MEMORY;
            pipeline_count_batch(p, b);
        } else if (b->unloaded == BATCH_IN_MEMORY) {
            pipeline_count_batch(p, b); /* the body the sender encoded counts too */
        }
        b->not_before_ms = now + retry_delay_ms(out, b->attempts);
        b->next = d->queue_head; /* back to the front: order is kept */
        d->queue_head = b;
        if (!d->queue_tail)
            d->queue_tail = b;
        return;
    default:
        output_count_drop(out, why, b->count);
        out->stats.batches_dropped++;
        out->stats.last_error_ms = now_ms();
        break;
    }
    rt->batches_pending--;
    out->stats.batches_pending = rt->batches_pending;
    if (b->spool_id) {
        /* acknowledged to inputs when written; now the chunk can go */
        spool_remove(rt->spool, b->spool_id);
        pipeline_uncount_batch(p, b);
        spool_update_gauges(rt);
        batch_free(b); /* not recycled: a reloaded batch's sizes are arbitrary */
    } else {
        sender_ack_batch(p, b);
        dest_batch_put(rt, b);
    }
    dest_dispatch(rt, d, now);
}

void sender_complete_done(struct pipeline *p)
{
    pthread_mutex_lock(&p->done_lock);
    struct batch *list = p->done_head;
    p->done_head = NULL;
    pthread_mutex_unlock(&p->done_lock);

    /* The list is newest first; complete in arrival order. */
    struct batch *rev = NULL;
    while (list) {
        struct batch *next = list->next;
        list->next = rev;
        rev = list;
        list = next;
    }
    int64_t now = mono_ms();
    while (rev) {
        struct batch *next = rev->next;
        rev->next = NULL;
        complete(p, rev, now);
        rev = next;
    }
    for (int i = 0; i < p->ninputs; i++)
        route_commit_acked(p, p->inputs[i]);
}

void sender_on_done(struct loop *loop, void *arg)
{
    struct pipeline *p = arg;
    (void)loop;
    sender_complete_done(p);
    route_resume_inputs(p);
}

static void *worker_main(void *arg)
{
    struct output_runtime *rt = arg;
    struct output_instance *out = rt->out;
    struct pipeline *p = rt->pipeline;
    void *state = out->plugin->worker_init ? out->plugin->worker_init(out) : NULL;
    for (;;) {
        pthread_mutex_lock(&rt->lock);
        while (!rt->work_head && !rt->stopping)
            pthread_cond_wait(&rt->cond, &rt->lock);
        if (rt->stopping) {
            pthread_mutex_unlock(&rt->lock);
            break;
        }
        struct batch *b = rt->work_head;
        rt->work_head = b->next;
        if (!rt->work_head)
            rt->work_tail = NULL;
        pthread_mutex_unlock(&rt->lock);

        b->next = NULL;
        b->attempts++;
        if (b->unloaded == BATCH_ON_DISK && spool_reload_batch(rt, b) < 0)
            b->result = OUTPUT_DROP; /* damaged chunk: moved aside, counted as corrupt */
        else {
            if (b->unloaded == BATCH_RELOADED && !b->sender_reloaded) {
                /* read back from disk: in memory until the loop completes it */
                b->sender_reloaded = batch_memory(b) + batch_body_memory(b);
                atomic_fetch_add(&p->mem_sender_reloaded, b->sender_reloaded);
            }
            int64_t started = mono_ms();
            if (out->plugin->encode && !b->has_body && !b->records_dropped) {
                /* encode once: a retry sends these same bytes */
                if (out->plugin->encode(out, state, b, &b->body) == 0) {
                    b->has_body = 1;
                    size_t body = batch_body_memory(b);
                    b->sender_encoded = body > b->counted_body ? body - b->counted_body : 0;
                    atomic_fetch_add(&p->mem_sender_encoded, b->sender_encoded);
                } else {
                    buf_free(&b->body);
                }
            }
            if (b->has_body)
                b->result =
                    out->plugin->send_encoded(out, state, b, b->body.data, b->body.len);
            else
                b->result = out->plugin->send(out, state, b);
            histogram_observe(&out->stats.send_seconds, (double)(mono_ms() - started) / 1000.0);
        }

        pthread_mutex_lock(&p->done_lock);
        b->next = p->done_head;
        p->done_head = b;
        pthread_mutex_unlock(&p->done_lock);
        loop_async_send(p->done);
    }
    if (out->plugin->worker_free)
        out->plugin->worker_free(out, state);
    atomic_fetch_sub(&p->senders_running, 1);
    return NULL;
}

int sender_start(struct output_runtime *rt)
{
    int n = rt->out->common.workers > 0 ? (int)rt->out->common.workers : 1;
    rt->threads = xcalloc((size_t)n, sizeof *rt->threads);
    for (int t = 0; t < n; t++) {
        atomic_fetch_add(&rt->pipeline->senders_running, 1);
        if (pthread_create(&rt->threads[t], NULL, worker_main, rt) != 0) {
            atomic_fetch_sub(&rt->pipeline->senders_running, 1);
            log_msg(LOG_ERROR, "pipeline", "cannot start a sender thread for output %s",
                    rt->out->name);
            return -1;
        }
        rt->nthreads++;
    }
    return 0;
}

void sender_signal_stop(struct output_runtime *rt)
{
    pthread_mutex_lock(&rt->lock);
    rt->stopping = 1;
    pthread_cond_broadcast(&rt->cond);
    pthread_mutex_unlock(&rt->lock);
}

void sender_stop(struct output_runtime *rt)
{
    sender_signal_stop(rt);
    for (int t = 0; t < rt->nthreads; t++)
        pthread_join(rt->threads[t], NULL);
    free(rt->threads);
    rt->threads = NULL;
    rt->nthreads = 0;
}
