/* A frame: everything one sampling interval produces (metric events with
 * their dimensions, and EMF log messages), built on the sampler thread and
 * emitted by the loop thread. Strings live in one arena referenced by
 * offset; the frame is reset and reused, so the steady state allocates
 * nothing. */
#ifndef COLLECTOR_METRICS_FRAME_H
#define COLLECTOR_METRICS_FRAME_H

#include "collector/core/util.h"

#include <stdint.h>

#define MF_MAX_DIMS 30

struct mf_item {
    uint32_t name_off;
    const char *unit;          /* a static CloudWatch unit name */
    double value;
    uint32_t dims_off;         /* ndims x (name_off, value_off) in frame->dims */
    uint8_t ndims;
};

struct mf_log {
    uint32_t off, len;         /* the EMF JSON in the arena */
};

struct mframe {
    int64_t timestamp_ms;
    struct buf arena;
    struct mf_item *items;
    uint32_t nitems, items_cap;
    uint32_t *dims;
    uint32_t ndims, dims_cap;
    struct mf_log *logs;
    uint32_t nlogs, logs_cap;
    /* metadata for EMF log records (the cloudwatch_logs output's templates) */
    char cluster[256];
    char container_instance_id[128];
    char instance_id[128];
    /* the sampler's state, for logs and status on the loop thread */
    uint64_t errors;           /* errors so far */
    char error[512];           /* the last one */
    uint64_t containers;       /* containers known */
    uint64_t samples;
    /* host_metrics with capacity: did the ECS agent answer /v1/metadata
     * (1 yes, -1 no, 0 not asked), and its version */
    int ecs_agent;
    char ecs_agent_version[128];
};

void mframe_init(struct mframe *f);
void mframe_free(struct mframe *f);
void mframe_reset(struct mframe *f);

/* Put a string in the arena; its offset. */
uint32_t mframe_str(struct mframe *f, const char *s);
/* A dimension set (names[i] = values[i]); returns its dims_off. Pairs whose
 * value is NULL or "" are left out (the count actually stored goes to
 * *stored). */
uint32_t mframe_dims(struct mframe *f, const char *const *names, const char *const *values, int n,
                     uint8_t *stored);
void mframe_add(struct mframe *f, const char *name, const char *unit, double value,
                uint32_t dims_off, uint8_t ndims);
/* Append an EMF message from text (copied). */
void mframe_add_log(struct mframe *f, const char *text, size_t len);

#endif
