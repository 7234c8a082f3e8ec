/* Loop-thread side of the metric inputs: emit a frame's metric events and
 * EMF log events into the pipeline, with the input's tags and a cached
 * struct meta (cluster, container_instance_id, instance_id) for the EMF
 * records, so a cloudwatch_logs output can name its group and stream
 * from them. */
#ifndef COLLECTOR_METRICS_FRAME_EMIT_H
#define COLLECTOR_METRICS_FRAME_EMIT_H

#include "collector/metrics/frame.h"

#include <stdint.h>

struct input_instance;
struct tag;
struct meta;

struct frame_emitter {
    const struct tag *metric_tag;
    const struct tag *emf_tag;
    struct meta *meta;             /* for EMF records; rebuilt when its values change */
    uint64_t metrics_emitted, logs_emitted, frames_skipped;
};

/* Tag of metric events: the section's `tag` if set, else dflt. */
const struct tag *frame_default_tag(struct input_instance *in, const char *dflt);

void frame_emit(struct frame_emitter *fe, struct input_instance *in, const struct mframe *f);
void frame_emitter_free(struct frame_emitter *fe);

#endif
