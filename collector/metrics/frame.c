/* Sampling frames: see frame.h. */
#include "collector/metrics/frame.h"

#include <stdlib.h>
#include <string.h>

void mframe_init(struct mframe *f)
{
    memset(f, 0, sizeof *f);
    buf_init(&f->arena);
}

void mframe_free(struct mframe *f)
{
    buf_free(&f->arena);
    free(f->items);
    free(f->dims);
    free(f->logs);
    memset(f, 0, sizeof *f);
}

void mframe_reset(struct mframe *f)
{
    buf_reset(&f->arena);
    f->nitems = f->ndims = f->nlogs = 0;
}

uint32_t mframe_str(struct mframe *f, const char *s)
{
    uint32_t off = (uint32_t)f->arena.len;
    buf_append(&f->arena, s, strlen(s) + 1);
    return off;
}

uint32_t mframe_dims(struct mframe *f, const char *const *names, const char *const *values, int n,
                     uint8_t *stored)
{
    if (f->ndims + 2u * (uint32_t)n > f->dims_cap) {
        f->dims_cap = (f->dims_cap + 2u * (uint32_t)n) * 2;
        f->dims = xrealloc(f->dims, f->dims_cap * sizeof *f->dims);
    }
    uint32_t off = f->ndims;
    uint8_t k = 0;
    for (int i = 0; i < n && k < MF_MAX_DIMS; i++) {
        if (!values[i] || !values[i][0])
            continue;
        f->dims[f->ndims++] = mframe_str(f, names[i]);
        f->dims[f->ndims++] = mframe_str(f, values[i]);
        k++;
    }
    *stored = k;
    return off;
}

void mframe_add(struct mframe *f, const char *name, const char *unit, double value,
                uint32_t dims_off, uint8_t ndims)
{
    if (f->nitems == f->items_cap) {
        f->items_cap = f->items_cap ? f->items_cap * 2 : 256;
        f->items = xrealloc(f->items, f->items_cap * sizeof *f->items);
    }
    struct mf_item *it = &f->items[f->nitems++];
    it->name_off = mframe_str(f, name);
    it->unit = unit;
    it->value = value;
    it->dims_off = dims_off;
    it->ndims = ndims;
}

void mframe_add_log(struct mframe *f, const char *text, size_t len)
{
    if (f->nlogs == f->logs_cap) {
        f->logs_cap = f->logs_cap ? f->logs_cap * 2 : 64;
        f->logs = xrealloc(f->logs, f->logs_cap * sizeof *f->logs);
    }
    struct mf_log *l = &f->logs[f->nlogs++];
    l->off = (uint32_t)f->arena.len;
    l->len = (uint32_t)len;
    buf_append(&f->arena, text, len);
    buf_append_char(&f->arena, '\0');
}
