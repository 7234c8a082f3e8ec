/* Embedded Metric Format encoder (spec/cloudwatch.md §4): one JSON object
 *   {"_aws":{"Timestamp":<ms>,"CloudWatchMetrics":[{"Namespace":..,
 *     "Dimensions":[[..],..],"Metrics":[{"Name":..,"Unit":..},..]}]},
 *    <string members>, <metric members>, <other numeric members>}
 * Limits enforced: at most 100 metrics per directive (more are split into
 * further directives), at most 30 keys per dimension set, every dimension
 * key a string member with a non-empty value (a set naming a missing key is
 * left out), non-finite numbers left out. Pure. */
#ifndef COLLECTOR_METRICS_EMF_H
#define COLLECTOR_METRICS_EMF_H

#include "collector/core/util.h"

#include <stdint.h>

#define EMF_MAX_METRICS 100
#define EMF_MAX_DIM_KEYS 30
#define EMF_MAX_SETS 8

struct emf_dimset {
    const char *keys[EMF_MAX_DIM_KEYS];
    int n;
};

struct emf_num {
    const char *name;
    const char *unit;     /* NULL: no Unit (None) */
    double value;
};

struct emf_str {
    const char *key;
    const char *value;    /* NULL or "" members are left out */
};

struct emf_doc {
    int64_t timestamp_ms;
    const char *namespace_;
    int storage_resolution;             /* 1 or 60 (60: not written) */
    const struct emf_dimset *sets;
    int nsets;
    const struct emf_num *metrics;      /* declared in the directive */
    int nmetrics;
    const struct emf_num *extra;        /* plain numeric members */
    int nextra;
    const struct emf_str *strs;
    int nstrs;
};

/* Append the JSON of doc to out. Returns the number of metrics declared
 * (0 if none could be: then no _aws member is written and the event is a
 * plain JSON log). */
int emf_encode(struct buf *out, const struct emf_doc *doc);

/* A number as JSON ("%.15g"; integers without exponent where exact). */
void emf_append_number(struct buf *out, double v);

#endif
