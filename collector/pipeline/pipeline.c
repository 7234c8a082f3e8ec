#include "collector/pipeline/pipeline.h"
#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/loop.h"
#include "collector/pipeline/ack.h"
#include "collector/pipeline/spool.h"

#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define DEST_IDLE_FREE_MS (5 * 60 * 1000)
#define RETRY_BASE_MS 500

/* One destination (partition) of one output: the open batch records are
 * appended to, the sealed batches waiting their turn, and whether one is in
 * flight. Sending one batch at a time per destination keeps order. */
struct dest {
    char *key;
    uint64_t hash;
    struct batch *open;
    struct batch *queue_head, *queue_tail;
    int inflight;
    int64_t last_used_ms;
    struct dest *hash_next;
    struct dest *list_next;
};

struct output_runtime {
    struct output_instance *out;
    struct pipeline *pipeline;
    struct dest **buckets;
    size_t nbuckets, ndests;
    struct dest *dests;             /* every destination, for the tick */
    struct dest *single;            /* when the plugin has no dest_key */
    struct buf keybuf;

    /* Cache of the last routing decision: records of one source repeat. */
    const struct tag *last_tag;
    struct meta *last_meta;
    struct dest *last_dest;

    uint32_t max_records;
    uint64_t max_bytes;
    uint32_t overhead;

    pthread_t *threads;
    int nthreads;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct batch *work_head, *work_tail;
    int stopping;

    struct batch *free_batches;     /* recycled, touched on the loop thread only */
    int nfree;
    uint64_t batches_pending;       /* queued + in flight */

    struct spool *spool;            /* disk buffer, or NULL */
    uint64_t spool_max;
    int full_policy;                /* FULL_AUTO, FULL_PAUSE or FULL_DROP_OLDEST */
    struct log_limit spool_limit;
};

struct pipeline {
    struct loop *loop;
    struct input_instance **inputs;
    int ninputs;
    struct output_instance **outputs;
    int noutputs;
    struct pipeline_limits limits;
    uint32_t route_gen;
    uint64_t logs_mask, metrics_mask;

    uint64_t memory;                /* payload bytes in batches */
    uint64_t pending;               /* records emitted, not yet committed */
    unsigned char *paused;          /* per input: told to pause, waiting for resume */

    struct loop_async *done;        /* sender threads -> loop */
    pthread_mutex_t done_lock;
    _Atomic int senders_running;    /* sender threads not yet returned */
    struct batch *done_head;

    struct loop_timer *tick;
    int64_t tick_ms;
    int commit_due;                 /* acknowledgements to hand to inputs at the next pass */
    char *data_dir;
};

static _Atomic uint32_t route_generation;

int route_matches(const struct strlist *match, const char *tag)
{
    for (int i = 0; i < match->count; i++)
        if (fnmatch(match->items[i], tag, 0) == 0)
            return 1;
    return 0;
}

static uint64_t route_mask(struct pipeline *p, const struct tag *ctag)
{
    struct tag *tag = (struct tag *)ctag; /* the cache fields are ours to write */
    if (tag->route_gen != p->route_gen) {
        uint64_t mask = 0;
        for (int i = 0; i < p->noutputs; i++)
            if (route_matches(&p->outputs[i]->common.match, tag->name))
                mask |= 1ULL << i;
        tag->route_mask = mask;
        tag->route_gen = p->route_gen;
        tag->unrouted_logged = 0;
    }
    return tag->route_mask;
}

/* ------------------------------------------------------------ destinations */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static void dest_table_grow(struct output_runtime *rt)
{
    size_t n = rt->nbuckets ? rt->nbuckets * 2 : 64;
    struct dest **b = xcalloc(n, sizeof *b);
    for (struct dest *d = rt->dests; d; d = d->list_next) {
        d->hash_next = b[d->hash & (n - 1)];
        b[d->hash & (n - 1)] = d;
    }
    free(rt->buckets);
    rt->buckets = b;
    rt->nbuckets = n;
}

static struct dest *dest_new(struct output_runtime *rt, const char *key, size_t len, uint64_t hash)
{
    struct dest *d = xcalloc(1, sizeof *d);
    d->key = xstrndup(key, len);
    d->hash = hash;
    d->list_next = rt->dests;
    rt->dests = d;
    if (rt->ndests + 1 > rt->nbuckets)
        dest_table_grow(rt);
    else {
        d->hash_next = rt->buckets[hash & (rt->nbuckets - 1)];
        rt->buckets[hash & (rt->nbuckets - 1)] = d;
    }
    rt->ndests++;
    return d;
}

static struct dest *dest_by_key(struct output_runtime *rt, const char *key, size_t len)
{
    if (!rt->out->plugin->dest_key) {
        if (!rt->single)
            rt->single = dest_new(rt, "", 0, 0);
        return rt->single;
    }
    uint64_t h = hash_bytes(key, len);
    if (rt->nbuckets)
        for (struct dest *d = rt->buckets[h & (rt->nbuckets - 1)]; d; d = d->hash_next)
            if (d->hash == h && strcmp(d->key, key) == 0)
                return d;
    return dest_new(rt, key, len, h);
}

static struct dest *dest_for(struct output_runtime *rt, const struct tag *tag, struct meta *meta)
{
    struct output_instance *out = rt->out;
    if (!out->plugin->dest_key)
        return dest_by_key(rt, "", 0);
    if (rt->last_dest && rt->last_tag == tag && rt->last_meta == meta)
        return rt->last_dest;
    buf_reset(&rt->keybuf);
    out->plugin->dest_key(out, tag, meta, &rt->keybuf);
    struct dest *d = dest_by_key(rt, rt->keybuf.data ? rt->keybuf.data : "", rt->keybuf.len);
    meta_unref(rt->last_meta);
    rt->last_tag = tag;
    rt->last_meta = meta_ref(meta);
    rt->last_dest = d;
    return d;
}

static void dest_free(struct dest *d)
{
    batch_free(d->open);
    for (struct batch *b = d->queue_head, *next; b; b = next) {
        next = b->next;
        batch_free(b);
    }
    free(d->key);
    free(d);
}

/* Drop destinations unused for a while (containers come and go). */
static void dest_collect_idle(struct output_runtime *rt, int64_t now)
{
    struct dest **pp = &rt->dests;
    int removed = 0;
    while (*pp) {
        struct dest *d = *pp;
        if (d != rt->single && !d->open && !d->queue_head && !d->inflight &&
            now - d->last_used_ms > DEST_IDLE_FREE_MS) {
            *pp = d->list_next;
            if (rt->last_dest == d) {
                rt->last_dest = NULL;
                rt->last_tag = NULL;
                meta_unref(rt->last_meta);
                rt->last_meta = NULL;
            }
            dest_free(d);
            rt->ndests--;
            removed = 1;
            continue;
        }
        pp = &d->list_next;
    }
    if (removed) { /* rebuild the hash chains without the freed entries */
        memset(rt->buckets, 0, sizeof *rt->buckets * rt->nbuckets);
        for (struct dest *d = rt->dests; d; d = d->list_next) {
            d->hash_next = rt->buckets[d->hash & (rt->nbuckets - 1)];
            rt->buckets[d->hash & (rt->nbuckets - 1)] = d;
        }
    }
}

/* ---------------------------------------------------------------- batches */

static struct batch *batch_get(struct output_runtime *rt, enum batch_kind kind)
{
    struct batch *b = rt->free_batches;
    if (b && b->kind == kind) {
        rt->free_batches = b->next;
        rt->nfree--;
        b->next = NULL;
        return b;
    }
    b = batch_new(kind);
    b->output = rt->out;
    return b;
}

static void batch_put(struct output_runtime *rt, struct batch *b)
{
    /* Keep a few for reuse; a batch that grew very large is given back. */
    if (rt->nfree >= 4 || b->arena_cap > (8u << 20)) {
        batch_free(b);
        return;
    }
    batch_reset(b);
    b->next = rt->free_batches;
    rt->free_batches = b;
    rt->nfree++;
}

static void worker_push(struct output_runtime *rt, struct batch *b)
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

/* Send the next sealed batch of d if none is in flight and its time came. */
static void dest_dispatch(struct output_runtime *rt, struct dest *d, int64_t now)
{
    if (d->inflight || !d->queue_head || d->queue_head->not_before_ms > now)
        return;
    struct batch *b = d->queue_head;
    d->queue_head = b->next;
    if (!d->queue_head)
        d->queue_tail = NULL;
    d->inflight = 1;
    worker_push(rt, b);
}

static void ack_batch(struct pipeline *p, struct batch *b);
static void spool_batch(struct output_runtime *rt, struct batch *b);

static void dest_seal(struct output_runtime *rt, struct dest *d, int64_t now)
{
    struct batch *b = d->open;
    if (!b)
        return;
    d->open = NULL;
    if (rt->spool)
        spool_batch(rt, b);
    b->next = NULL;
    if (d->queue_tail)
        d->queue_tail->next = b;
    else
        d->queue_head = b;
    d->queue_tail = b;
    rt->batches_pending++;
    rt->out->stats.batches_pending = rt->batches_pending;
    dest_dispatch(rt, d, now);
}

static struct batch *dest_open_batch(struct output_runtime *rt, struct dest *d,
                                     enum batch_kind kind, size_t add_bytes)
{
    struct batch *b = d->open;
    if (b && (b->kind != kind || b->count + 1 > rt->max_records ||
              (b->count > 0 && b->payload_bytes + add_bytes > rt->max_bytes))) {
        dest_seal(rt, d, mono_ms());
        b = NULL;
    }
    if (!b) {
        b = batch_get(rt, kind);
        b->dest = d;
        b->dest_key = d->key;
        b->opened_ms = mono_ms(); /* once per batch: the clock is not read per record */
        d->last_used_ms = b->opened_ms;
        d->open = b;
    }
    return b;
}

/* ------------------------------------------------------------ disk buffer */

static void update_buffer_gauges(struct output_runtime *rt)
{
    rt->out->stats.buffer_bytes = spool_bytes(rt->spool);
    rt->out->stats.buffer_chunks = spool_count(rt->spool);
    rt->out->stats.buffer_full = spool_bytes(rt->spool) >= rt->spool_max;
}

enum { FULL_AUTO, FULL_PAUSE, FULL_DROP_OLDEST };

/* Make room for one more chunk by dropping the oldest queued (not in flight)
 * chunks of the given kind (0: any): for metrics, which cannot wait in their
 * source as files can. Returns -1 if there is nothing of that kind to drop. */
static int drop_oldest_chunks(struct output_runtime *rt, enum batch_kind kind)
{
    while (spool_bytes(rt->spool) >= rt->spool_max) {
        struct dest *best_dest = NULL;
        struct batch **best = NULL;
        for (struct dest *d = rt->dests; d; d = d->list_next)
            for (struct batch **pp = &d->queue_head; *pp; pp = &(*pp)->next)
                if ((*pp)->spool_id && (!kind || (*pp)->kind == kind) &&
                    (!best || (*pp)->spool_id < (*best)->spool_id)) {
                    best = pp;
                    best_dest = d;
                }
        if (!best)
            return -1;
        struct batch *victim = *best;
        *best = victim->next;
        if (best_dest->queue_tail == victim) {
            best_dest->queue_tail = NULL;
            for (struct batch *q = best_dest->queue_head; q; q = q->next)
                best_dest->queue_tail = q;
        }
        spool_remove(rt->spool, victim->spool_id);
        output_count_drop(rt->out, DROP_BUFFER_FULL, victim->count);
        log_every(&rt->spool_limit, 10000, LOG_WARN, "pipeline",
                  "output %s: disk buffer full (buffer.max_size): dropped the oldest chunk of %u "
                  "records", rt->out->name, victim->count);
        rt->batches_pending--;
        if (victim->unloaded == BATCH_IN_MEMORY)
            rt->pipeline->memory -= victim->payload_bytes;
        batch_free(victim);
    }
    return 0;
}

/* Write a sealed batch to the disk buffer. Once it is there its records are
 * safe: they are acknowledged to their inputs now, and when memory is tight
 * the batch is kept on disk only, to be read back when its turn comes. If it
 * cannot be written (disk full, buffer full with policy pause) it stays an
 * ordinary in-memory batch, acknowledged when delivered. */
static void spool_batch(struct output_runtime *rt, struct batch *b)
{
    struct pipeline *p = rt->pipeline;
    if (spool_bytes(rt->spool) >= rt->spool_max) {
        /* auto: metrics make room among metrics (never at the cost of logs,
         * which are already acknowledged to their files); logs wait */
        int drop = rt->full_policy == FULL_DROP_OLDEST ||
                   (rt->full_policy == FULL_AUTO && b->kind == BATCH_METRICS);
        enum batch_kind only = rt->full_policy == FULL_DROP_OLDEST ? 0 : BATCH_METRICS;
        if (!drop || drop_oldest_chunks(rt, only) < 0) {
            update_buffer_gauges(rt);
            log_every(&rt->spool_limit, 10000, LOG_WARN, "pipeline",
                      "output %s: disk buffer full (%llu bytes, buffer.max_size); keeping batches "
                      "in memory, inputs pause at memory_limit",
                      rt->out->name, (unsigned long long)spool_bytes(rt->spool));
            return;
        }
    }
    uint64_t id = spool_write(rt->spool, b);
    if (!id) {
        rt->out->stats.buffer_write_errors++;
        log_every(&rt->spool_limit, 10000, LOG_ERROR, "pipeline",
                  "output %s: cannot write to the disk buffer: %s; keeping the batch in memory",
                  rt->out->name, strerror(errno));
        return;
    }
    b->spool_id = id;
    ack_batch(p, b);           /* records are durable: inputs may commit */
    p->memory += b->payload_bytes; /* ack_batch uncounted it; it is still in memory */
    p->commit_due = 1;
    if (p->limits.memory_limit && p->memory > p->limits.memory_limit / 2) {
        p->memory -= b->payload_bytes;
        batch_unload(b);       /* keep the shell and the chunk id */
    }
    update_buffer_gauges(rt);
}

/* Read an on-disk batch's records back (sender thread). 0, or -1 if the
 * chunk is damaged or missing (already moved aside and logged). */
static int reload_batch(struct output_runtime *rt, struct batch *b)
{
    int corrupt = 0;
    struct batch *loaded = spool_read(rt->spool, b->spool_id, &corrupt);
    if (!loaded) {
        if (corrupt)
            rt->out->stats.chunks_corrupt++;
        return -1;
    }
    /* Move the loaded contents into the queued shell. */
    free(b->logs);
    free(b->metrics);
    free(b->arena);
    b->logs = loaded->logs;
    b->metrics = loaded->metrics;
    b->cap = loaded->cap;
    b->count = loaded->count;
    b->arena = loaded->arena;
    b->arena_len = loaded->arena_len;
    b->arena_cap = loaded->arena_cap;
    loaded->logs = NULL;
    loaded->metrics = NULL;
    loaded->arena = NULL;
    loaded->count = 0;
    batch_free(loaded);
    b->unloaded = BATCH_RELOADED;
    return 0;
}

/* Queue what a previous run left in the disk buffer, oldest first, before
 * anything new: per destination, order is kept across restarts. */
static int spool_start(struct pipeline *p, struct output_runtime *rt)
{
    struct output_instance *out = rt->out;
    char *dir = xasprintf("%s/buffer/%s", p->data_dir, out->name);
    char *corrupt = xasprintf("%s/corrupt/%s", p->data_dir, out->name);
    const char *sync = out->common.buffer_sync ? out->common.buffer_sync : "interval";
    enum spool_sync mode = strcmp(sync, "batch") == 0 ? SPOOL_SYNC_BATCH
                           : strcmp(sync, "off") == 0 ? SPOOL_SYNC_OFF
                                                      : SPOOL_SYNC_INTERVAL;
    struct spool_entry *entries;
    int n;
    rt->spool = spool_open(dir, corrupt, mode, &entries, &n);
    if (!rt->spool) {
        log_msg(LOG_ERROR, "pipeline", "output %s: cannot open the disk buffer %s: %s", out->name,
                dir, strerror(errno));
        free(dir);
        free(corrupt);
        return -1;
    }
    rt->spool_max = out->common.buffer_max_size ? out->common.buffer_max_size : (1ULL << 30);
    const char *policy = out->common.buffer_full_policy ? out->common.buffer_full_policy : "auto";
    rt->full_policy = strcmp(policy, "drop_oldest") == 0 ? FULL_DROP_OLDEST
                      : strcmp(policy, "pause") == 0     ? FULL_PAUSE
                                                         : FULL_AUTO;
    uint64_t records = 0;
    for (int i = 0; i < n; i++) {
        struct batch *b = batch_new(entries[i].kind);
        b->output = out;
        b->spool_id = entries[i].id;
        b->count = entries[i].count;
        b->payload_bytes = entries[i].payload_bytes;
        b->unloaded = BATCH_ON_DISK;
        struct dest *d = dest_by_key(rt, entries[i].key, strlen(entries[i].key));
        b->dest = d;
        b->dest_key = d->key;
        d->last_used_ms = mono_ms();
        if (d->queue_tail)
            d->queue_tail->next = b;
        else
            d->queue_head = b;
        d->queue_tail = b;
        rt->batches_pending++;
        records += entries[i].count;
    }
    if (n)
        log_msg(LOG_INFO, "pipeline", "output %s: %d chunks (%llu records) left in the disk buffer "
                "by the last run will be sent first", out->name, n, (unsigned long long)records);
    out->stats.batches_pending = rt->batches_pending;
    update_buffer_gauges(rt);
    spool_entries_free(entries, n);
    free(dir);
    free(corrupt);
    return 0;
}

/* -------------------------------------------------------------- emitting */

static void commit_acked(struct pipeline *p, struct input_instance *in)
{
    uint64_t a, b;
    while (ack_tracker_pop(in->acks, &a, &b)) {
        p->pending--;
        in->stats.records_acked++;
        if (in->plugin->commit)
            in->plugin->commit(in, a, b);
    }
}

static void note_unrouted(struct input_instance *in, const struct tag *ctag, const char *kind)
{
    struct tag *tag = (struct tag *)ctag;
    in->stats.records_unrouted++;
    if (!tag->unrouted_logged) {
        tag->unrouted_logged = 1;
        log_msg(LOG_WARN, "router",
                "%s records with tag '%s' (input %s) match no output's `match`: they are counted "
                "as unrouted and discarded",
                kind, tag->name, in->name);
    }
}

static void emit_common(struct input_instance *in, const struct tag *tag, uint64_t kind_mask,
                        uint32_t bytes, uint64_t cookie_a, uint64_t cookie_b,
                        const struct log_event *lev, const struct metric_event *mev)
{
    struct pipeline *p = in->pipeline;
    uint64_t mask = route_mask(p, tag) & kind_mask;
    uint32_t refs = (uint32_t)__builtin_popcountll(mask);
    in->stats.records_in++;
    in->stats.bytes_in += bytes;
    uint64_t seq = ack_tracker_push(in->acks, refs, bytes, cookie_a, cookie_b);
    p->pending++;
    if (!refs) {
        note_unrouted(in, tag, lev ? "log" : "metric");
        commit_acked(p, in);
        return;
    }
    for (int i = 0; mask; i++, mask >>= 1) {
        if (!(mask & 1))
            continue;
        struct output_runtime *rt = p->outputs[i]->rt;
        struct dest *d = dest_for(rt, tag, lev ? lev->meta : mev->meta);
        uint32_t add = lev ? bytes + rt->overhead : 64;
        struct batch *b = dest_open_batch(rt, d, lev ? BATCH_LOGS : BATCH_METRICS, add);
        uint64_t before = b->payload_bytes;
        if (lev)
            batch_add_log(b, lev, tag, in->index, seq, rt->overhead);
        else
            batch_add_metric(b, mev, tag, in->index, seq);
        p->memory += b->payload_bytes - before;
        if (b->count >= rt->max_records || b->payload_bytes >= rt->max_bytes)
            dest_seal(rt, d, mono_ms());
    }
}

void pipeline_emit_log(struct input_instance *in, const struct log_event *ev)
{
    const struct tag *tag = ev->tag ? ev->tag : in->tag;
    emit_common(in, tag, in->pipeline->logs_mask, (uint32_t)ev->message_len, ev->cookie_a,
                ev->cookie_b, ev, NULL);
}

void pipeline_emit_metric(struct input_instance *in, const struct metric_event *ev)
{
    const struct tag *tag = ev->tag ? ev->tag : in->tag;
    emit_common(in, tag, in->pipeline->metrics_mask, 64, 0, 0, NULL, ev);
}

static int over_limit(const struct pipeline *p, const struct input_instance *in)
{
    if (p->limits.memory_limit && p->memory >= p->limits.memory_limit)
        return 1;
    if (p->limits.input_limit && ack_tracker_bytes(in->acks) >= p->limits.input_limit)
        return 1;
    return 0;
}

int pipeline_input_paused(struct input_instance *in)
{
    struct pipeline *p = in->pipeline;
    if (!over_limit(p, in))
        return 0;
    if (!p->paused[in->index]) {
        p->paused[in->index] = 1;
        log_msg(LOG_DEBUG, "pipeline", "input %s paused: %llu bytes buffered", in->name,
                (unsigned long long)p->memory);
        /* Whatever is waiting in open batches must go now, or nothing frees room. */
        pipeline_flush(p);
    }
    return 1;
}

static void resume_inputs(struct pipeline *p)
{
    for (int i = 0; i < p->ninputs; i++) {
        struct input_instance *in = p->inputs[i];
        if (p->paused[i] && !over_limit(p, in)) {
            p->paused[i] = 0;
            if (in->plugin->resume)
                in->plugin->resume(in);
        }
    }
}

/* ---------------------------------------------------------- completions */

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

static void ack_batch(struct pipeline *p, struct batch *b)
{
    if (b->kind == BATCH_LOGS) {
        for (uint32_t i = 0; i < b->count; i++)
            ack_tracker_done(p->inputs[b->logs[i].input_index]->acks, b->logs[i].seq);
    } else {
        for (uint32_t i = 0; i < b->count; i++)
            ack_tracker_done(p->inputs[b->metrics[i].input_index]->acks, b->metrics[i].seq);
    }
    p->memory -= b->payload_bytes;
}

static void complete(struct pipeline *p, struct batch *b, int64_t now)
{
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
        if (b->unloaded == BATCH_RELOADED)
            batch_unload(b); /* wait on disk, not in uncounted memory */
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
        if (b->unloaded == BATCH_IN_MEMORY)
            p->memory -= b->payload_bytes;
        update_buffer_gauges(rt);
        batch_free(b); /* not recycled: a reloaded batch's sizes are arbitrary */
    } else {
        ack_batch(p, b);
        batch_put(rt, b);
    }
    dest_dispatch(rt, d, now);
}

/* Complete the batches senders finished, then commit what inputs may. */
static void complete_done(struct pipeline *p)
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
        commit_acked(p, p->inputs[i]);
}

static void on_done(struct loop *loop, void *arg)
{
    struct pipeline *p = arg;
    (void)loop;
    complete_done(p);
    resume_inputs(p);
}

/* ---------------------------------------------------------------- senders */

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
        if (b->unloaded == BATCH_ON_DISK && reload_batch(rt, b) < 0)
            b->result = OUTPUT_DROP; /* damaged chunk: moved aside, counted as corrupt */
        else {
            int64_t started = mono_ms();
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

/* ------------------------------------------------------------------ tick */

static void on_tick(struct loop *loop, void *arg)
{
    struct pipeline *p = arg;
    int64_t now = mono_ms();
    (void)loop;
    if (p->commit_due) {
        p->commit_due = 0;
        for (int i = 0; i < p->ninputs; i++)
            commit_acked(p, p->inputs[i]);
        resume_inputs(p);
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

uint64_t pipeline_memory(const struct pipeline *p)
{
    return p->memory;
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
    p->limits = *limits;
    p->data_dir = xstrdup(limits->data_dir ? limits->data_dir : ".");
    p->limits.data_dir = p->data_dir;
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
    p->done = loop_async_new(p->loop, on_done, p);
    if (!p->done) {
        log_msg(LOG_ERROR, "pipeline", "cannot set up the completion eventfd: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < p->noutputs; i++) {
        struct output_instance *out = p->outputs[i];
        const char *mode = out->common.buffer;
        int disk = mode ? strcmp(mode, "disk") == 0 : (out->plugin->flags & OUTPUT_DISK_BUFFER) != 0;
        if (disk && spool_start(p, out->rt) < 0)
            return -1;
    }
    for (int i = 0; i < p->noutputs; i++) {
        struct output_runtime *rt = p->outputs[i]->rt;
        int n = p->outputs[i]->common.workers > 0 ? (int)p->outputs[i]->common.workers : 1;
        rt->threads = xcalloc((size_t)n, sizeof *rt->threads);
        for (int t = 0; t < n; t++) {
            atomic_fetch_add(&p->senders_running, 1);
            if (pthread_create(&rt->threads[t], NULL, worker_main, rt) != 0) {
                atomic_fetch_sub(&p->senders_running, 1);
                log_msg(LOG_ERROR, "pipeline", "cannot start a sender thread for output %s",
                        p->outputs[i]->name);
                return -1;
            }
            rt->nthreads++;
        }
    }
    p->tick = loop_timer_add(p->loop, p->tick_ms, p->tick_ms, on_tick, p);
    return p->tick ? 0 : -1;
}

void pipeline_stop_senders(struct pipeline *p)
{
    for (int i = 0; i < p->noutputs; i++) {
        struct output_runtime *rt = p->outputs[i]->rt;
        pthread_mutex_lock(&rt->lock);
        rt->stopping = 1;
        pthread_cond_broadcast(&rt->cond);
        pthread_mutex_unlock(&rt->lock);
    }
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
    pipeline_stop_senders(p);
    for (int i = 0; i < p->noutputs; i++) {
        struct output_runtime *rt = p->outputs[i]->rt;
        for (int t = 0; t < rt->nthreads; t++)
            pthread_join(rt->threads[t], NULL);
        free(rt->threads);
    }
    loop_async_free(p->done);
    p->done = NULL;
    /* Sends that finished after the last loop pass are completed (a
     * delivered chunk leaves the disk buffer, delivered records are
     * committed), so a stop or reload does not send them again. Batches
     * never sent: their records are not committed, so inputs read them again
     * next run, or they stay in the disk buffer. */
    complete_done(p);
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
