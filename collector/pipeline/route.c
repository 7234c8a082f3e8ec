/* Routing: a record's tag against each output's match globs (cached per
 * tag and routing generation), into that output's destination batch; and the
 * flow control that pauses inputs at the limits and resumes them. */
#include "collector/pipeline/pipeline.h"
#include "collector/pipeline/pipeline_internal.h"
#include "collector/pipeline/ack.h"

#include <fnmatch.h>

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


void route_commit_acked(struct pipeline *p, struct input_instance *in)
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
        route_commit_acked(p, in);
        return;
    }
    for (int i = 0; mask; i++, mask >>= 1) {
        if (!(mask & 1))
            continue;
        struct output_runtime *rt = p->outputs[i]->rt;
        struct dest *d = dest_for(rt, tag, lev ? lev->meta : mev->meta);
        uint32_t add = lev ? bytes + rt->overhead : 64;
        struct batch *b = dest_open_batch(rt, d, lev ? BATCH_LOGS : BATCH_METRICS, add);
        if (lev)
            batch_add_log(b, lev, tag, in->index, seq, rt->overhead);
        else
            batch_add_metric(b, mev, tag, in->index, seq);
        pipeline_count_batch(p, b);
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

/* Over memory_limit, with something in memory that a completion will free
 * (batches, bodies): what stays (read and working buffers, spare batches)
 * never pauses an input alone, or nothing would ever resume it. */
static int over_memory(struct pipeline *p)
{
    if (!p->memory_limit)
        return 0;
    return pipeline_memory_total(p) >= p->memory_limit && p->mem_batches + p->mem_encoded > 0;
}

static int over_limit(struct pipeline *p, const struct input_instance *in)
{
    if (over_memory(p))
        return 1;
    if (p->input_limit && ack_tracker_bytes(in->acks) >= p->input_limit)
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
                (unsigned long long)pipeline_memory_total(p));
        /* Whatever is waiting in open batches must go now, or nothing frees room. */
        pipeline_flush(p);
    }
    return 1;
}

void route_resume_inputs(struct pipeline *p)
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
