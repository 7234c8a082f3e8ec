/* Emitting frames on the loop thread: see frame_emit.h. */
#include "collector/metrics/frame_emit.h"

#include "collector/core/config.h"
#include "collector/pipeline/pipeline.h"

#include <string.h>

const struct tag *frame_default_tag(struct input_instance *in, const char *dflt)
{
    if (in->section && conf_section_get(in->section, "tag"))
        return in->tag;
    return tag_intern(dflt);
}

static struct meta *meta_for(struct frame_emitter *fe, const struct mframe *f)
{
    struct meta *m = fe->meta;
    if (m) {
        const char *c = meta_get(m, "cluster"), *ci = meta_get(m, "container_instance_id");
        const char *ii = meta_get(m, "instance_id");
        if (c && ci && ii && strcmp(c, f->cluster) == 0 &&
            strcmp(ci, f->container_instance_id) == 0 && strcmp(ii, f->instance_id) == 0)
            return m;
        meta_unref(m);
    }
    const char *pairs[] = {"cluster", f->cluster, "container_instance_id",
                           f->container_instance_id, "instance_id", f->instance_id};
    fe->meta = meta_new(pairs, 3);
    return fe->meta;
}

void frame_emit(struct frame_emitter *fe, struct input_instance *in, const struct mframe *f)
{
    if (pipeline_input_paused(in)) {
        fe->frames_skipped++;
        return;
    }
    struct dimension_ref dims[MF_MAX_DIMS];
    const char *arena = f->arena.data;
    for (uint32_t i = 0; i < f->nitems; i++) {
        const struct mf_item *it = &f->items[i];
        for (uint8_t k = 0; k < it->ndims; k++) {
            dims[k].name = arena + f->dims[it->dims_off + 2u * k];
            dims[k].value = arena + f->dims[it->dims_off + 2u * k + 1];
        }
        struct metric_event ev = {
            .name = arena + it->name_off,
            .value = it->value,
            .unit = it->unit,
            .timestamp_ms = f->timestamp_ms,
            .tag = fe->metric_tag,
            .dimensions = dims,
            .ndimensions = it->ndims,
        };
        pipeline_emit_metric(in, &ev);
        fe->metrics_emitted++;
    }
    if (f->nlogs == 0)
        return;
    struct meta *m = meta_for(fe, f);
    for (uint32_t i = 0; i < f->nlogs; i++) {
        struct log_event ev = {
            .timestamp_ns = f->timestamp_ms * 1000000,
            .message = arena + f->logs[i].off,
            .message_len = f->logs[i].len,
            .tag = fe->emf_tag,
            .meta = m,
        };
        pipeline_emit_log(in, &ev);
        fe->logs_emitted++;
    }
}

void frame_emitter_free(struct frame_emitter *fe)
{
    if (fe->meta)
        meta_unref(fe->meta);
    fe->meta = NULL;
}
