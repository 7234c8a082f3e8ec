#include "collector/pipeline/ack.h"
#include "collector/core/util.h"

#include <stdlib.h>
#include <string.h>

struct ack_entry {
    uint32_t refs;
    uint32_t bytes;
    uint64_t cookie_a;
    uint64_t cookie_b;
};

struct ack_tracker {
    struct ack_entry *ring;
    uint64_t cap;        /* a power of two */
    uint64_t head_seq;   /* sequence of the oldest entry */
    uint64_t next_seq;   /* sequence the next push gets */
    uint64_t bytes;
};

struct ack_tracker *ack_tracker_new(void)
{
    struct ack_tracker *t = xcalloc(1, sizeof *t);
    t->cap = 256;
    t->ring = xcalloc(t->cap, sizeof *t->ring);
    return t;
}

void ack_tracker_free(struct ack_tracker *t)
{
    if (!t)
        return;
    free(t->ring);
    free(t);
}

static struct ack_entry *entry(const struct ack_tracker *t, uint64_t seq)
{
    return &t->ring[seq & (t->cap - 1)];
}

static void grow(struct ack_tracker *t)
{
    uint64_t cap = t->cap * 2;
    struct ack_entry *ring = xcalloc(cap, sizeof *ring);
    for (uint64_t s = t->head_seq; s < t->next_seq; s++)
        ring[s & (cap - 1)] = *entry(t, s);
    free(t->ring);
    t->ring = ring;
    t->cap = cap;
}

uint64_t ack_tracker_push(struct ack_tracker *t, uint32_t refs, uint32_t bytes,
                          uint64_t cookie_a, uint64_t cookie_b)
{
    if (t->next_seq - t->head_seq == t->cap)
        grow(t);
    uint64_t seq = t->next_seq++;
    *entry(t, seq) = (struct ack_entry){refs, bytes, cookie_a, cookie_b};
    t->bytes += bytes;
    return seq;
}

void ack_tracker_done(struct ack_tracker *t, uint64_t seq)
{
    if (seq < t->head_seq || seq >= t->next_seq)
        return; /* not ours (stale after a reset): ignore rather than corrupt */
    struct ack_entry *e = entry(t, seq);
    if (e->refs > 0)
        e->refs--;
}

int ack_tracker_pop(struct ack_tracker *t, uint64_t *cookie_a, uint64_t *cookie_b)
{
    if (t->head_seq == t->next_seq)
        return 0;
    struct ack_entry *e = entry(t, t->head_seq);
    if (e->refs > 0)
        return 0;
    *cookie_a = e->cookie_a;
    *cookie_b = e->cookie_b;
    t->bytes -= e->bytes;
    t->head_seq++;
    return 1;
}

uint64_t ack_tracker_pending(const struct ack_tracker *t)
{
    return t->next_seq - t->head_seq;
}

uint64_t ack_tracker_bytes(const struct ack_tracker *t)
{
    return t->bytes;
}
