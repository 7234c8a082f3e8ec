/* A batch: records bound for one destination of one output, in the order
 * they were emitted, plus the arena holding their bytes.
 *
 * Memory layout: `logs` (or `metrics`) is an array of fixed-size records;
 * every variable-length part (message, field keys and values, metric names)
 * is appended to one growable arena and referenced by offset. A batch is
 * reused after it is acknowledged (batch_reset keeps the capacity), so the
 * steady state allocates nothing per record. */
#ifndef COLLECTOR_BATCH_H
#define COLLECTOR_BATCH_H

#include "collector/core/util.h"
#include "collector/pipeline/record.h"

#include <stddef.h>
#include <stdint.h>

enum batch_kind { BATCH_LOGS = 1, BATCH_METRICS = 2 };

/* Where a batch's records are (disk buffer). In memory, its bytes count
 * against the memory limit; on disk, only its chunk exists and the sender
 * reads it back (then RELOADED: in memory, transiently, not counted). */
enum { BATCH_IN_MEMORY = 0, BATCH_ON_DISK = 1, BATCH_RELOADED = 2 };

struct dest;
struct output_instance;

struct batch {
    enum batch_kind kind;
    struct output_instance *output;
    struct dest *dest;                 /* the destination (partition) it belongs to */
    const char *dest_key;              /* that destination's key (e.g. "group\nstream") */

    struct log_record *logs;
    struct metric_record *metrics;
    uint32_t count;
    uint32_t cap;

    char *arena;
    size_t arena_len;
    size_t arena_cap;

    uint64_t payload_bytes;            /* sum of message bytes + per-record overhead */
    uint64_t counted;                  /* bytes of the pipeline's "batches" figure it accounts
                                          for (records and arena capacity in memory, else 0) */
    uint64_t counted_body;             /* and of its "encoded" figure (body capacity) */
    /* Counted by the sender thread that holds it (the body it encoded, the
     * chunk it read back), until the loop takes the batch back. */
    uint64_t sender_encoded;
    uint64_t sender_reloaded;
    int64_t opened_ms;                 /* monotonic time of the first record */

    /* Disk buffer: the chunk holding this batch (0 = none). A spooled batch's
     * records were acknowledged to their inputs when the chunk was written. */
    uint64_t spool_id;
    int unloaded;                      /* BATCH_IN_MEMORY, BATCH_ON_DISK or BATCH_RELOADED */

    /* Encode once: the exact bytes the output sends for this batch (all of
     * its requests, in the output's own framing), made by the plugin's
     * encode() once, then stored in the disk buffer and re-sent as they are
     * on every retry. has_body = 0: not encoded (yet). records_dropped: the
     * batch's records are gone (acknowledged and in a chunk, or read back
     * from an encoded chunk), only the body and count remain. */
    struct buf body;
    int has_body;
    int records_dropped;
    int body_on_disk;                  /* its chunk holds the body (can be read back) */

    /* Set by the sender. */
    int result;                        /* enum output_result */
    uint32_t dropped;                  /* records the output itself dropped (counted by reason) */
    int attempts;
    int64_t not_before_ms;             /* monotonic; a retried batch waits until then */
    void *plugin_state;                /* the output's progress on this batch across retries
                                          (e.g. calls already accepted); NULL when new, reset
                                          by batch_reset; must not own memory */
    struct batch *next;                /* queue link */
};

struct batch *batch_new(enum batch_kind kind);
void batch_free(struct batch *b);
/* Empty it for reuse, dropping the meta references it holds. */
void batch_reset(struct batch *b);

/* A batch holds one reference on a record's meta per run of consecutive
 * records sharing it (a source's records come in runs), not one atomic
 * operation per record: whatever fills or empties a batch's records goes
 * through these two. prev is the previous record's meta (NULL for the first). */
static inline struct meta *batch_hold_meta(const struct meta *prev, struct meta *m)
{
    return m == prev ? m : meta_ref(m);
}

/* Copy an event in. seq and input_index identify it for acknowledgement. */
void batch_add_log(struct batch *b, const struct log_event *ev, const struct tag *tag,
                   uint16_t input_index, uint64_t seq, uint32_t overhead);
void batch_add_metric(struct batch *b, const struct metric_event *ev, const struct tag *tag,
                      uint16_t input_index, uint64_t seq);

static inline const char *batch_str(const struct batch *b, uint32_t off)
{
    return b->arena + off;
}

/* Field i of a log record: key/value pointers (not NUL-terminated) and lengths. */
void batch_log_field(const struct batch *b, const struct log_record *r, int i, const char **key,
                     uint32_t *key_len, const char **value, uint32_t *value_len);
/* Dimension i of a metric record (NUL-terminated). */
void batch_metric_dim(const struct batch *b, const struct metric_record *r, int i,
                      const char **name, const char **value);

/* Drop the records from memory, keeping what describes the chunk on disk
 * (spool_id, count, payload_bytes, attempts): the batch becomes ON_DISK. */
void batch_unload(struct batch *b);

/* Free the records and arena of an encoded batch, keeping its body, count
 * and payload figures (its records are acknowledged or were never loaded). */
void batch_drop_records(struct batch *b);
/* The same, but b's record arrays go to `empty` (a batch with none, count 0)
 * for reuse instead of being freed. */
void batch_give_records(struct batch *b, struct batch *empty);

/* Bytes of memory the batch's records and arena hold, and its encoded body
 * (for the agent's memory accounting). */
size_t batch_memory(const struct batch *b);
size_t batch_body_memory(const struct batch *b);

#endif
