/* The PutLogEvents batcher (see logs_batch.h). */
#include "collector/cloudwatch/logs_batch.h"
#include "collector/core/util.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MARKER_SIZE 14 /* strlen("[Truncated...]") */

void cwl_limits_default(struct cwl_limits *lim)
{
    lim->max_events = CWL_MAX_EVENTS;
    lim->max_bytes = CWL_MAX_BATCH_BYTES;
    lim->max_event_bytes = CWL_MAX_EVENT_BYTES;
    lim->marker_size = DEFAULT_MARKER_SIZE;
    lim->max_span_ms = CWL_MAX_SPAN_MS;
}

void cwl_plan_init(struct cwl_plan *p)
{
    memset(p, 0, sizeof *p);
}

void cwl_plan_free(struct cwl_plan *p)
{
    free(p->items);
    free(p->calls);
    free(p->tmp);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------ UTF-8 */

/* Index of the first byte >= 0x80, or len. Word at a time: the common case
 * (ASCII logs) costs a pass at memory speed. */
static size_t ascii_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL)
            break;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

/* Walk msg from `from`, adding each character's sent size to *size while it
 * stays within limit; returns where it stopped. */
static size_t walk(const unsigned char *s, size_t len, size_t from, size_t limit, size_t *size)
{
    size_t i = from, total = *size;
    while (i < len) {
        size_t adv, add;
        if (s[i] < 0x80) {
            size_t run = ascii_prefix(s + i, len - i);
            if (total + run > limit) {
                i += limit - total;
                total = limit;
                break;
            }
            i += run;
            total += run;
            continue;
        }
        adv = utf8_seq_len(s + i, len - i);
        if (adv) {
            add = adv;
        } else {
            adv = 1;
            add = 3; /* sent as U+FFFD */
        }
        if (total + add > limit)
            break;
        i += adv;
        total += add;
    }
    *size = total;
    return i;
}

size_t cwl_utf8_sanitized_len(const char *msg, size_t len)
{
    const unsigned char *s = (const unsigned char *)msg;
    size_t i = ascii_prefix(s, len);
    if (i == len)
        return len;
    size_t size = i;
    walk(s, len, i, SIZE_MAX, &size);
    return size;
}

size_t cwl_utf8_cut(const char *msg, size_t len, size_t limit, size_t *size)
{
    size_t total = 0;
    size_t end = walk((const unsigned char *)msg, len, 0, limit, &total);
    *size = total;
    return end;
}

/* ------------------------------------------------------------------- sort */

static int sorted_already(const struct cwl_event_in *ev, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)
        if (ev[i].timestamp_ms < ev[i - 1].timestamp_ms)
            return 0;
    return 1;
}

/* Stable merge sort of items by their event's timestamp (bottom-up, with the
 * plan's reusable scratch array). */
static void sort_items(struct cwl_plan *p, const struct cwl_event_in *ev, uint32_t n)
{
    if (p->tmp_cap < n) {
        p->tmp = xrealloc(p->tmp, (size_t)n * sizeof *p->tmp);
        p->tmp_cap = n;
    }
    struct cwl_item *a = p->items, *b = p->tmp;
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (ev[a[j].index].timestamp_ms < ev[a[i].index].timestamp_ms)
                    b[k++] = a[j++];
                else
                    b[k++] = a[i++];
            }
            while (i < mid)
                b[k++] = a[i++];
            while (j < hi)
                b[k++] = a[j++];
        }
        struct cwl_item *t = a;
        a = b;
        b = t;
    }
    if (a != p->items)
        memcpy(p->items, a, (size_t)n * sizeof *a);
}

/* ------------------------------------------------------------------- plan */

static void classify(struct cwl_item *it, const struct cwl_event_in *e, int64_t oldest,
                     int64_t newest, const struct cwl_limits *lim)
{
    it->truncated = 0;
    it->send_len = e->len;
    it->size = 0;
    if (e->len == 0) {
        it->fate = CWL_EMPTY;
        return;
    }
    if (e->timestamp_ms < oldest) {
        it->fate = CWL_TOO_OLD;
        return;
    }
    if (e->timestamp_ms > newest) {
        it->fate = CWL_TOO_NEW;
        return;
    }
    it->fate = CWL_SEND;
    size_t size = e->len <= lim->max_event_bytes ? cwl_utf8_sanitized_len(e->msg, e->len)
                                                 : (size_t)lim->max_event_bytes + 1;
    if (size > lim->max_event_bytes) {
        size_t room = lim->max_event_bytes - lim->marker_size;
        it->send_len = (uint32_t)cwl_utf8_cut(e->msg, e->len, room, &size);
        size += lim->marker_size;
        it->truncated = 1;
    }
    it->size = (uint32_t)size;
}

static struct cwl_call *new_call(struct cwl_plan *p, uint32_t begin)
{
    if (p->ncalls == p->calls_cap) {
        p->calls_cap = p->calls_cap ? p->calls_cap * 2 : 8;
        p->calls = xrealloc(p->calls, (size_t)p->calls_cap * sizeof *p->calls);
    }
    struct cwl_call *c = &p->calls[p->ncalls++];
    c->begin = begin;
    c->end = begin;
    c->nsend = 0;
    c->bytes = 0;
    return c;
}

void cwl_plan_build(struct cwl_plan *p, const struct cwl_event_in *ev, uint32_t n, uint32_t start,
                    int64_t now_ms, int retention_days, const struct cwl_limits *lim)
{
    if (p->items_cap < n) {
        p->items = xrealloc(p->items, (size_t)n * sizeof *p->items);
        p->items_cap = n;
    }
    p->nitems = n;
    p->ncalls = 0;
    p->nempty = p->ntoo_old = p->ntoo_new = p->ntruncated = 0;
    for (uint32_t i = 0; i < n; i++)
        p->items[i].index = i;
    if (!sorted_already(ev, n))
        sort_items(p, ev, n);
    if (start > n)
        start = n;

    int64_t oldest = now_ms - CWL_MAX_AGE_MS;
    if (retention_days > 0 && now_ms - retention_days * CWL_DAY_MS > oldest)
        oldest = now_ms - retention_days * CWL_DAY_MS;
    int64_t newest = now_ms + CWL_MAX_AHEAD_MS;

    struct cwl_call *c = NULL;
    int64_t first_ts = 0;
    for (uint32_t i = start; i < n; i++) {
        struct cwl_item *it = &p->items[i];
        const struct cwl_event_in *e = &ev[it->index];
        classify(it, e, oldest, newest, lim);
        switch (it->fate) {
        case CWL_EMPTY: p->nempty++; continue;
        case CWL_TOO_OLD: p->ntoo_old++; continue;
        case CWL_TOO_NEW: p->ntoo_new++; continue;
        default: break;
        }
        p->ntruncated += it->truncated;
        uint32_t add = it->size + CWL_EVENT_OVERHEAD;
        if (c && (c->nsend + 1 > lim->max_events || (uint64_t)c->bytes + add > lim->max_bytes ||
                  e->timestamp_ms - first_ts >= lim->max_span_ms)) {
            c->end = i;
            c = NULL;
        }
        if (!c) {
            /* The first call also owns the unsent items before it. */
            c = new_call(p, p->ncalls ? i : start);
            first_ts = e->timestamp_ms;
        }
        c->nsend++;
        c->bytes += add;
    }
    if (c)
        c->end = n; /* the last call owns the unsent items after it */
}

void cwl_call_fates(const struct cwl_plan *p, const struct cwl_call *c, uint32_t *empty,
                    uint32_t *too_old, uint32_t *too_new, uint32_t *truncated)
{
    uint32_t counts[4] = {0, 0, 0, 0}, trunc = 0;
    for (uint32_t i = c->begin; i < c->end; i++) {
        counts[p->items[i].fate & 3]++;
        if (p->items[i].fate == CWL_SEND)
            trunc += p->items[i].truncated;
    }
    *empty = counts[CWL_EMPTY];
    *too_old = counts[CWL_TOO_OLD];
    *too_new = counts[CWL_TOO_NEW];
    *truncated = trunc;
}
