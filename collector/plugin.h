/* Input and output modules.
 *
 * A module is one file with one public table (`const struct input_plugin
 * tail_input = {...}`) registered in one list (registry.c). Options are
 * declared in the table (options.h); the agent parses a section into
 * `conf` (a struct of conf_size bytes) before calling init().
 *
 * Threads: every input callback and output init/shutdown run on the event
 * loop thread. Output send() runs on the output's sender threads; it must
 * only touch its batch, its own worker state and thread-safe parts of ctx. */
#ifndef COLLECTOR_PLUGIN_H
#define COLLECTOR_PLUGIN_H

#include "collector/core/histogram.h"
#include "collector/core/options.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

struct aws_settings;
struct json_t; /* jansson */
struct diag;
struct loop;
struct conf_section;
struct buf;
struct batch;
struct tag;
struct meta;
struct log_event;
struct metric_event;

/* What the agent shares with every plugin instance: filled from the [agent]
 * section before any init() runs (hostname already defaulted), read-only
 * after, valid until the instance is destroyed. Plugins see the agent only
 * through this, never through agent.h. */
struct plugin_host {
    const char *hostname;
    const char *data_dir;                 /* where inputs keep their state */
    const struct aws_settings *aws;       /* AWS keys of the [agent] section */
};

/* ---------------------------------------------------------------- inputs */

struct input_stats {
    _Atomic uint64_t records_in;
    _Atomic uint64_t bytes_in;
    _Atomic uint64_t records_unrouted;   /* matched no output */
    _Atomic uint64_t records_acked;
};

struct input_instance {
    const struct input_plugin *plugin;
    char *name;                  /* section name */
    const struct tag *tag;
    uint16_t index;              /* position in the agent's input list */
    void *conf;                  /* parsed options (plugin->conf_size bytes) */
    void *ctx;                   /* the plugin's runtime state */
    const struct plugin_host *host;
    struct loop *loop;
    const struct conf_section *section;
    struct pipeline *pipeline;
    struct ack_tracker *acks;    /* owned by the pipeline */
    struct input_stats stats;
    /* Bytes of the plugin's own read buffers: counted against memory_limit
     * (the pipeline's "read_buffers"). The plugin adds and subtracts them. */
    _Atomic uint64_t buffer_bytes;
};

struct input_plugin {
    const char *name;
    const char *description;
    const struct option_def *options;
    size_t conf_size;
    /* The tag of its records when the section sets no `tag`; NULL = the
     * section name. (`tag`, when set, is the tag, for every input.) */
    const char *default_tag;

    /* Validate what the option table cannot (errors to diag with file:line)
     * and set up state. Must not start reading, and must not read or write
     * persistent state (checkpoints): check-config initializes without
     * starting, and on SIGHUP the new configuration is initialized while the
     * old one still runs. On failure leave ctx NULL. 0 or -1. */
    int (*init)(struct input_instance *in, struct diag *diag);
    /* Load persistent state and start producing on in->loop. 0 or -1. */
    int (*start)(struct input_instance *in);
    /* The pipeline has room again after pipeline_input_paused() said no. */
    void (*resume)(struct input_instance *in);
    /* Records up to and including the one with this cookie are acknowledged
     * (called in emission order, once per record). */
    void (*commit)(struct input_instance *in, uint64_t cookie_a, uint64_t cookie_b);
    /* Stop reading; emit what is pending (a partial multiline record). */
    void (*stop)(struct input_instance *in);
    /* Everything acknowledged that will be: persist state (only if start()
     * ran) and free. Called whenever ctx is set. */
    void (*destroy)(struct input_instance *in);
    /* One human-readable line of state for logs and status (optional). */
    void (*describe)(struct input_instance *in, struct buf *out);
    /* Detailed state for GET /status: add members to obj (optional). */
    void (*status)(struct input_instance *in, struct json_t *obj);
    /* Is what this input watches well (optional)? INPUT_HEALTHY, or
     * INPUT_NOT_READY (fails /ready) or INPUT_NOT_LIVE (fails /health and
     * /ready) with a one-line reason written to why (len bytes, NUL
     * terminated). The status endpoint calls it through its status view,
     * between start and stop, on the loop thread; it must not block. */
    int (*health)(struct input_instance *in, char *why, size_t len);
};

enum input_health {
    INPUT_HEALTHY = 0,
    INPUT_NOT_READY = 1,
    INPUT_NOT_LIVE = 2,
};

/* --------------------------------------------------------------- outputs */

enum output_flags {
    OUTPUT_LOGS        = 1 << 0,
    OUTPUT_METRICS     = 1 << 1,
    OUTPUT_DISK_BUFFER = 1 << 2,   /* `buffer` defaults to disk (network outputs) */
    OUTPUT_USES_AWS    = 1 << 3,   /* check-config describes the AWS region and credentials */
};

enum output_result {
    OUTPUT_OK = 0,      /* delivered: acknowledge every record */
    OUTPUT_RETRY,       /* temporary failure: keep the batch, try again after a backoff */
    OUTPUT_DROP,        /* permanent failure: the pipeline counts the records as dropped
                           (reason "rejected") and acknowledges them */
};

/* Generic options every output has (the `[output NAME]` section takes these
 * plus the plugin's own). */
struct output_common {
    char *type;
    struct strlist match;
    int64_t flush_interval_ms;
    uint64_t batch_max_bytes;
    int64_t batch_max_records;
    int64_t workers;
    int64_t retry_limit;         /* OUTPUT_RETRY attempts before dropping; -1 = forever */
    int64_t retry_max_backoff_ms;
    char *enabled;               /* true | false | auto | fallback */
    char *buffer;                /* memory | disk (NULL: the plugin's default) */
    uint64_t buffer_max_size;
    char *buffer_sync;           /* batch | interval | off */
    char *buffer_full_policy;    /* auto | pause | drop_oldest */
};

/* Why records were dropped: the label of the dropped counters. */
enum drop_reason {
    DROP_RETRIES_EXHAUSTED = 0,  /* retry_limit reached */
    DROP_REJECTED,               /* the destination refused the batch for good (a 4xx) */
    DROP_TOO_OLD,                /* outside the destination's time window */
    DROP_TOO_NEW,
    DROP_INVALID,                /* empty or otherwise unsendable */
    DROP_BUFFER_FULL,            /* disk buffer full, oldest dropped */
    DROP_CORRUPT,                /* a disk buffer chunk was damaged */
    DROP_REASON_COUNT
};

extern const char *const drop_reason_names[DROP_REASON_COUNT];

struct output_stats {
    _Atomic uint64_t records_out;
    _Atomic uint64_t bytes_out;
    _Atomic uint64_t records_dropped;            /* all reasons together */
    _Atomic uint64_t dropped[DROP_REASON_COUNT]; /* by reason */
    _Atomic uint64_t records_truncated;          /* sent, but cut to the size limit */
    _Atomic uint64_t throttled;                  /* requests answered with throttling */
    _Atomic uint64_t batches_pending;            /* sealed, queued or in flight (gauge) */
    _Atomic uint64_t buffer_bytes;               /* disk buffer: bytes of chunks (gauge) */
    _Atomic uint64_t buffer_chunks;              /* disk buffer: chunks (gauge) */
    _Atomic int buffer_full;                     /* disk buffer at buffer.max_size (gauge) */
    _Atomic uint64_t buffer_write_errors;
    _Atomic uint64_t chunks_corrupt;             /* found damaged, moved aside */
    _Atomic uint64_t batches_out;
    _Atomic uint64_t batches_retried;
    _Atomic uint64_t batches_dropped;
    _Atomic int64_t last_success_ms;
    _Atomic int64_t last_error_ms;
    struct histogram send_seconds;               /* how long one send() took */
    _Atomic int64_t credentials_failing_ms;      /* since when no credentials (0 = fine) */
    _Atomic int64_t credentials_expire_ms;       /* temporary credentials expire (0 = n/a) */
};

struct output_instance {
    const struct output_plugin *plugin;
    char *name;
    uint16_t index;
    struct output_common common;
    void *conf;
    void *ctx;
    const struct plugin_host *host;
    const struct conf_section *section;
    struct output_stats stats;
    struct output_runtime *rt;   /* owned by the pipeline: destinations, queue, threads */
    /* Bytes of the plugin's own working buffers (its sender threads' encode
     * and HTTP request/response buffers): counted against memory_limit (the
     * pipeline's "output_buffers"). Any thread; see plugin_buffers_note(). */
    _Atomic uint64_t buffer_bytes;
};

/* A plugin's buffers now hold `now` bytes where it last noted `*noted`:
 * move the difference into counter (an instance's buffer_bytes). */
static inline void plugin_buffers_note(_Atomic uint64_t *counter, uint64_t *noted, uint64_t now)
{
    if (now >= *noted)
        atomic_fetch_add(counter, now - *noted);
    else
        atomic_fetch_sub(counter, *noted - now);
    *noted = now;
}

struct output_plugin {
    const char *name;
    const char *description;
    unsigned flags;                   /* OUTPUT_LOGS | OUTPUT_METRICS */
    const struct option_def *options;
    size_t conf_size;
    /* Hard limits of the destination, applied on top of the batch_* options:
     * 0 = none. overhead is added per record to the payload size (26 for
     * PutLogEvents). */
    uint32_t max_batch_records;
    uint64_t max_batch_bytes;
    uint32_t record_overhead;

    int (*init)(struct output_instance *out, struct diag *diag);
    /* Optional: validate the options as init would, with nothing from the
     * machine (no credentials, region, network) and no side effect. Called
     * instead of init for an output left out by `enabled`, so that
     * check-config's verdict is the same on every host. */
    int (*check)(struct output_instance *out, struct diag *diag);
    /* Optional, for `enabled = auto`: can this output work on this host
     * (credentials, region...)? Return 1, or 0 with the reason in why. Called
     * once at start on the loop thread; must not block for long. */
    int (*available)(struct output_instance *out, struct buf *why);
    /* Optional: partition records (for example by log group and stream).
     * Write a key into `key`; records with equal keys are batched together
     * and sent in order, one batch in flight per key. */
    void (*dest_key)(struct output_instance *out, const struct tag *tag, const struct meta *meta,
                     struct buf *key);
    /* Per sender thread state (optional). */
    void *(*worker_init)(struct output_instance *out);
    void (*worker_free)(struct output_instance *out, void *worker);
    /* Deliver one batch. Runs on a sender thread. */
    enum output_result (*send)(struct output_instance *out, void *worker, struct batch *b);
    /* Optional, encode once: turn b into the exact bytes that will be sent
     * (all of its requests, in the output's own framing, appended to body).
     * Called once per batch: on the loop thread when the batch goes to the
     * disk buffer (worker is then the pipeline's own worker state for this
     * output, made with worker_init), else on a sender thread before the
     * first send. Records the output will not send are counted here
     * (output_drop_records), never again. The body is what the disk buffer
     * stores and what send_encoded gets, on every attempt and after a
     * restart: nothing is encoded twice. 0, or -1 to send b through send(). */
    int (*encode)(struct output_instance *out, void *worker, struct batch *b, struct buf *body);
    /* Deliver an encoded batch (required with encode). b's records may be
     * gone (count, dest_key and plugin_state remain). Runs on a sender thread. */
    enum output_result (*send_encoded)(struct output_instance *out, void *worker, struct batch *b,
                                       const char *body, size_t len);
    /* Called once at start (after init) on the loop thread, to say where data goes. */
    void (*describe)(struct output_instance *out, struct buf *out_text);
    /* Detailed state for GET /status (optional; loop thread). */
    void (*status)(struct output_instance *out, struct json_t *obj);
    void (*shutdown)(struct output_instance *out);
};

/* Count n records of out as dropped for reason (thread-safe). */
void output_count_drop(struct output_instance *out, enum drop_reason reason, uint64_t n);
/* After a call to a service that needs credentials: ok = 0 if they could
 * not be obtained (reported by /health until a later call succeeds). */
void output_note_credentials(struct output_instance *out, int ok, int64_t expire_ms);

/* The same for records of batch b that send() drops while delivering the
 * rest (too old, invalid...): they are then not counted as records out. */
void output_drop_records(struct output_instance *out, struct batch *b, enum drop_reason reason,
                         uint32_t n);

const struct input_plugin *input_plugin_find(const char *name);
const struct output_plugin *output_plugin_find(const char *name);
/* NULL-terminated lists, for help and check-config. */
extern const struct input_plugin *const input_plugins[];
extern const struct output_plugin *const output_plugins[];

#endif
