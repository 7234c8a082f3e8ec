/* The two record types that flow through the agent.
 *
 * Inputs describe a record with struct log_event or struct metric_event
 * (pointers into the input's own buffers, valid only during the call) and
 * hand it to pipeline_emit_*(), which copies it into the batches of every
 * output it is routed to. Inside a batch a record is struct log_record /
 * struct metric_record, whose strings are offsets into the batch's arena
 * (so the arena can grow without fixing up pointers).
 *
 * Source metadata (file path, container id and name, ECS task...) changes
 * rarely, so it is not copied per record: an input creates a struct meta
 * once per source and every record points at it, holding a reference. */
#ifndef COLLECTOR_RECORD_H
#define COLLECTOR_RECORD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* An immutable, reference-counted list of key/value strings describing where
 * records come from. Well-known keys: file_path, file_name, container_id,
 * container_name, image, cluster, task_arn, task_id, task_family,
 * task_revision, ecs_container_name, container_instance_id, stream; journald:
 * systemd_unit, syslog_identifier. */
struct meta {
    _Atomic int refs;
    int count;
    struct meta_kv {
        char *key;
        char *value;
    } kv[];
};

/* Build from alternating key, value pointers (NULL values are skipped);
 * the result has one reference owned by the caller. */
struct meta *meta_new(const char *const *pairs, int npairs);
struct meta *meta_ref(struct meta *m);
void meta_unref(struct meta *m);
const char *meta_get(const struct meta *m, const char *key);

/* Tags are interned for the life of the process: a record carries a pointer,
 * comparisons are pointer comparisons, and routing results are cached on the
 * tag itself (see router). */
struct tag {
    const char *name;
    uint64_t route_mask;     /* bit i: output i of the current generation matches */
    uint32_t route_gen;      /* generation route_mask was computed for */
    uint32_t unrouted_logged;
};

const struct tag *tag_intern(const char *name);

struct field_ref {
    const char *key;
    const char *value;
    uint32_t key_len;
    uint32_t value_len;
};

/* What an input emits. The ack cookie is given back to the input's commit()
 * callback, in emission order, once every output the record was routed to
 * has acknowledged it (or decided its fate: dropped records are acked too,
 * after being counted). */
struct log_event {
    int64_t timestamp_ns;
    const char *message;
    size_t message_len;
    const struct tag *tag;            /* NULL: the input instance's tag */
    struct meta *meta;                /* may be NULL; the pipeline takes its own reference */
    const struct field_ref *fields;
    int nfields;
    uint64_t cookie_a, cookie_b;      /* for the input's commit() */
};

struct dimension_ref {
    const char *name;
    const char *value;
};

struct metric_event {
    const char *name;
    double value;
    const char *unit;                 /* CloudWatch unit name ("Percent", "Bytes", "Count", ...) */
    int64_t timestamp_ms;
    const struct tag *tag;
    const struct dimension_ref *dimensions;
    int ndimensions;
    struct meta *meta;
};

/* In a batch: strings are offsets into batch->arena. */
struct log_record {
    int64_t timestamp_ns;
    uint32_t message_off;
    uint32_t message_len;
    uint32_t fields_off;              /* nfields x (key_off, key_len, value_off, value_len) u32 */
    uint16_t nfields;
    uint16_t input_index;
    const struct tag *tag;
    struct meta *meta;
    uint64_t seq;                     /* per-input sequence for acknowledgement */
};

struct metric_record {
    int64_t timestamp_ms;
    double value;
    uint32_t name_off;
    uint32_t unit_off;                /* NUL-terminated strings in the arena */
    uint32_t dims_off;                /* ndims x (name_off, value_off) u32 */
    uint16_t ndims;
    uint16_t input_index;
    const struct tag *tag;
    struct meta *meta;
    uint64_t seq;
};

#endif
