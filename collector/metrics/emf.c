/* EMF encoder: see emf.h. */
#include "collector/metrics/emf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void emf_append_number(struct buf *out, double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        buf_printf(out, "%.0f", v);
    else
        buf_printf(out, "%.15g", v);
}

static void str_member(struct buf *out, const char *key, const char *value)
{
    buf_append_char(out, '"');
    buf_append_json_escaped(out, key, strlen(key));
    buf_append_str(out, "\":\"");
    buf_append_json_escaped(out, value, strlen(value));
    buf_append_char(out, '"');
}

static const char *str_of(const struct emf_doc *d, const char *key)
{
    for (int i = 0; i < d->nstrs; i++)
        if (d->strs[i].value && d->strs[i].value[0] && strcmp(d->strs[i].key, key) == 0)
            return d->strs[i].value;
    return NULL;
}

static int set_ok(const struct emf_doc *d, const struct emf_dimset *s)
{
    if (s->n > EMF_MAX_DIM_KEYS)
        return 0;
    for (int k = 0; k < s->n; k++)
        if (!str_of(d, s->keys[k]))
            return 0;
    return 1;
}

int emf_encode(struct buf *out, const struct emf_doc *d)
{
    int usable = 0;
    for (int i = 0; i < d->nmetrics; i++)
        if (isfinite(d->metrics[i].value))
            usable++;
    int nsets = 0;
    for (int i = 0; i < d->nsets; i++)
        nsets += set_ok(d, &d->sets[i]);
    if (nsets == 0 && d->nsets > 0)
        usable = 0; /* every set names a missing dimension: declare nothing */
    buf_append_char(out, '{');
    int first = 1;
    if (usable) {
        buf_printf(out, "\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[",
                   (long long)d->timestamp_ms);
        int declared = 0, in_dir = 0, ndir = 0;
        for (int i = 0; i < d->nmetrics; i++) {
            const struct emf_num *m = &d->metrics[i];
            if (!isfinite(m->value))
                continue;
            if (in_dir == 0) {
                if (ndir++)
                    buf_append_char(out, ',');
                buf_append_str(out, "{\"Namespace\":\"");
                buf_append_json_escaped(out, d->namespace_, strlen(d->namespace_));
                buf_append_str(out, "\",\"Dimensions\":[");
                int fs = 1;
                for (int s = 0; s < d->nsets; s++) {
                    if (!set_ok(d, &d->sets[s]))
                        continue;
                    buf_append_str(out, fs ? "[" : ",[");
                    fs = 0;
                    for (int k = 0; k < d->sets[s].n; k++) {
                        buf_append_str(out, k ? ",\"" : "\"");
                        buf_append_json_escaped(out, d->sets[s].keys[k], strlen(d->sets[s].keys[k]));
                        buf_append_char(out, '"');
                    }
                    buf_append_char(out, ']');
                }
                if (d->nsets == 0)
                    buf_append_str(out, "[]");
                buf_append_str(out, "],\"Metrics\":[");
            } else {
                buf_append_char(out, ',');
            }
            buf_append_str(out, "{\"Name\":\"");
            buf_append_json_escaped(out, m->name, strlen(m->name));
            buf_append_char(out, '"');
            if (m->unit && *m->unit)
                buf_printf(out, ",\"Unit\":\"%s\"", m->unit);
            if (d->storage_resolution == 1)
                buf_append_str(out, ",\"StorageResolution\":1");
            buf_append_char(out, '}');
            declared++;
            if (++in_dir == EMF_MAX_METRICS) {
                buf_append_str(out, "]}");
                in_dir = 0;
            }
        }
        if (in_dir)
            buf_append_str(out, "]}");
        buf_append_str(out, "]}");
        first = 0;
        usable = declared;
    }
    for (int i = 0; i < d->nstrs; i++) {
        if (!d->strs[i].value || !d->strs[i].value[0])
            continue;
        if (!first)
            buf_append_char(out, ',');
        first = 0;
        str_member(out, d->strs[i].key, d->strs[i].value);
    }
    const struct emf_num *lists[2] = {d->metrics, d->extra};
    int counts[2] = {d->nmetrics, d->nextra};
    for (int l = 0; l < 2; l++) {
        for (int i = 0; i < counts[l]; i++) {
            if (!isfinite(lists[l][i].value))
                continue;
            if (!first)
                buf_append_char(out, ',');
            first = 0;
            buf_append_char(out, '"');
            buf_append_json_escaped(out, lists[l][i].name, strlen(lists[l][i].name));
            buf_append_str(out, "\":");
            emf_append_number(out, lists[l][i].value);
        }
    }
    buf_append_char(out, '}');
    return usable;
}
