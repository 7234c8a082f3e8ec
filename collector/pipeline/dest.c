/* Destinations: per output, a hash table of partitions (dest_key), each with
 * its open batch and its queue of sealed ones; idle ones are collected. */
#include "collector/pipeline/pipeline_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEST_IDLE_FREE_MS (5 * 60 * 1000)

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

struct dest *dest_by_key(struct output_runtime *rt, const char *key, size_t len)
{
    if (!rt->out->plugin->dest_key) {
        if (!rt->single)
            rt->single = dest_new(rt, "", 0, 0);
        return rt->single;
    }
    uint64_t h = hash_fnv1a(key, len);
    if (rt->nbuckets)
        for (struct dest *d = rt->buckets[h & (rt->nbuckets - 1)]; d; d = d->hash_next)
            if (d->hash == h && strcmp(d->key, key) == 0)
                return d;
    return dest_new(rt, key, len, h);
}

struct dest *dest_for(struct output_runtime *rt, const struct tag *tag, struct meta *meta)
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

void dest_free(struct dest *d)
{
    batch_free(d->open);
    for (struct batch *b = d->queue_head, *next; b; b = next) {
        next = b->next;
        batch_free(b);
    }
    free(d->key);
    free(d);
}

void dest_collect_idle(struct output_runtime *rt, int64_t now)
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
        rt->pipeline->mem_spare -= b->counted;
        b->counted = 0;
        return b;
    }
    b = batch_new(kind);
    b->output = rt->out;
    return b;
}

/* Keep a few emptied batches for reuse, counted: reusing them spares the
 * allocator the fragmentation of growing new arenas (which costs more RSS
 * than they hold). A batch that grew larger than a full one is given back. */
static int spare_wanted(const struct output_runtime *rt, size_t arena_cap)
{
    return rt->nfree < 4 && arena_cap <= 2 * rt->max_bytes;
}

void dest_batch_put(struct output_runtime *rt, struct batch *b)
{
    struct pipeline *p = rt->pipeline;
    batch_reset(b);
    uint64_t m = batch_memory(b);
    if (!spare_wanted(rt, b->arena_cap)) {
        batch_free(b);
        return;
    }
    b->counted = m;
    p->mem_spare += m;
    b->next = rt->free_batches;
    rt->free_batches = b;
    rt->nfree++;
}

void dest_batch_recycle_records(struct output_runtime *rt, struct batch *b)
{
    /* The records of a batch whose body is on disk are not needed again: their
     * arrays (~1 MiB, grown by doubling) go to a spare batch for the next one
     * to fill. Freed instead, in about half of the runs glibc (its moving mmap
     * threshold) gave them back to the kernel, and every batch faulted them in
     * again: ~200,000 page faults and twice the CPU on the shipped default. */
    if (!spare_wanted(rt, b->arena_cap) || b->unloaded || b->records_dropped) {
        batch_drop_records(b);
        return;
    }
    struct batch *spare = batch_new(b->kind);
    spare->output = rt->out;
    batch_give_records(b, spare);
    dest_batch_put(rt, spare);
}

void dest_dispatch(struct output_runtime *rt, struct dest *d, int64_t now)
{
    if (d->inflight || !d->queue_head || d->queue_head->not_before_ms > now)
        return;
    struct batch *b = d->queue_head;
    d->queue_head = b->next;
    if (!d->queue_head)
        d->queue_tail = NULL;
    d->inflight = 1;
    sender_push(rt, b);
}

void dest_enqueue(struct output_runtime *rt, struct dest *d, struct batch *b)
{
    b->next = NULL;
    if (d->queue_tail)
        d->queue_tail->next = b;
    else
        d->queue_head = b;
    d->queue_tail = b;
    rt->batches_pending++;
}

void dest_seal(struct output_runtime *rt, struct dest *d, int64_t now)
{
    struct batch *b = d->open;
    if (!b)
        return;
    d->open = NULL;
    if (rt->spool)
        spool_batch(rt, b);
    dest_enqueue(rt, d, b);
    rt->out->stats.batches_pending = rt->batches_pending;
    dest_dispatch(rt, d, now);
}

struct batch *dest_open_batch(struct output_runtime *rt, struct dest *d,
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
