/* Shared state of the pipeline's files (not a public header: include
 * collector/pipeline/pipeline.h from outside the module). It does not
 * include pipeline.h, so the module graph stays a DAG: the files that
 * implement pipeline.h's functions include both.
 *
 *   route.c     routing records to outputs, emitting, pausing and resuming inputs
 *   dest.c      the destination table of each output, open and sealed batches, idle collection
 *   sender.c    sender threads, completions back on the loop, retry and backoff
 *   spool.c     the disk buffer (chunk files) and its glue to the output's queues
 *   pipeline.c  lifecycle, the flush timer, counters
 *
 * Everything here runs on the event loop thread unless it says otherwise. */
#ifndef COLLECTOR_PIPELINE_INTERNAL_H
#define COLLECTOR_PIPELINE_INTERNAL_H

#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/pipeline/batch.h"
#include "collector/plugin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct spool;
struct loop_async;
struct loop_timer;

enum { FULL_AUTO, FULL_PAUSE, FULL_DROP_OLDEST }; /* buffer.full_policy */

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
    void *encode_worker;            /* the plugin's worker state for encode() on the loop */
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
    uint64_t memory_limit;          /* pipeline_limits, copied */
    uint64_t input_limit;
    uint32_t route_gen;
    uint64_t logs_mask, metrics_mask;

    /* Bytes held in memory, by what holds them (pipeline_memory_use()): */
    uint64_t mem_batches;           /* records and arenas of batches (pipeline_count_batch) */
    uint64_t mem_encoded;           /* their encoded bodies, on the loop's side */
    uint64_t mem_spare;             /* emptied batches kept for reuse (dest_batch_put) */
    _Atomic uint64_t mem_sender_encoded;  /* bodies sender threads encoded, not yet back */
    _Atomic uint64_t mem_sender_reloaded; /* chunks sender threads read back from disk */
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

/* The pipeline's memory figure (memory_limit) counts what batches hold:
 * their records' and arena's capacity, not only the payload, and their
 * encoded bodies. */
static inline void pipeline_count_batch(struct pipeline *p, struct batch *b)
{
    uint64_t m = batch_memory(b), body = batch_body_memory(b);
    p->mem_batches += m - b->counted;
    b->counted = m;
    p->mem_encoded += body - b->counted_body;
    b->counted_body = body;
}

static inline void pipeline_uncount_batch(struct pipeline *p, struct batch *b)
{
    p->mem_batches -= b->counted;
    b->counted = 0;
    p->mem_encoded -= b->counted_body;
    b->counted_body = 0;
}

/* Every byte memory_limit counts (all of pipeline_memory_use()'s parts). */
uint64_t pipeline_memory_total(const struct pipeline *p);

/* route.c */
void route_commit_acked(struct pipeline *p, struct input_instance *in);
void route_resume_inputs(struct pipeline *p);

/* dest.c */
struct dest *dest_by_key(struct output_runtime *rt, const char *key, size_t len);
struct dest *dest_for(struct output_runtime *rt, const struct tag *tag, struct meta *meta);
void dest_free(struct dest *d);
/* Drop destinations unused for a while (containers come and go). */
void dest_collect_idle(struct output_runtime *rt, int64_t now);
/* Send the next sealed batch of d if none is in flight and its time came. */
void dest_dispatch(struct output_runtime *rt, struct dest *d, int64_t now);
/* Append a sealed batch to d's queue (counted as pending). */
void dest_enqueue(struct output_runtime *rt, struct dest *d, struct batch *b);
/* Close d's open batch and queue it (through the disk buffer if there is one). */
void dest_seal(struct output_runtime *rt, struct dest *d, int64_t now);
/* The batch of d records of this kind and size go in, sealing a full one. */
struct batch *dest_open_batch(struct output_runtime *rt, struct dest *d, enum batch_kind kind,
                              size_t add_bytes);
/* A delivered batch back to the output's few recycled ones (counted as
 * "spare_batches"). */
void dest_batch_put(struct output_runtime *rt, struct batch *b);
/* batch_drop_records for a batch written to the disk buffer, its arrays kept
 * in a spare batch when there is room (as dest_batch_put keeps). */
void dest_batch_recycle_records(struct output_runtime *rt, struct batch *b);

/* sender.c */
void sender_push(struct output_runtime *rt, struct batch *b);
/* Its records are delivered or safe: acknowledge them to their inputs. */
void sender_ack_batch(struct pipeline *p, struct batch *b);
/* Completions from the sender threads (loop_async callback). */
void sender_on_done(struct loop *loop, void *arg);
/* Complete the batches senders finished, then commit what inputs may. */
void sender_complete_done(struct pipeline *p);
int sender_start(struct output_runtime *rt);
/* Tell the output's sender threads to stop once their current send returns. */
void sender_signal_stop(struct output_runtime *rt);
/* Stop and join the output's sender threads (in-flight sends finish first). */
void sender_stop(struct output_runtime *rt);

/* spool.c: the glue between an output's queues and its disk buffer */
int spool_start_output(struct pipeline *p, struct output_runtime *rt);
void spool_batch(struct output_runtime *rt, struct batch *b);
/* Sender thread: read an on-disk batch's records back. 0, or -1 if damaged. */
int spool_reload_batch(struct output_runtime *rt, struct batch *b);
void spool_update_gauges(struct output_runtime *rt);

#endif
