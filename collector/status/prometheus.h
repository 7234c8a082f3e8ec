/* Prometheus text exposition format (version 0.0.4), pure formatting.
 *
 *   prom_family(&b, "collector_output_records_total", "counter", "records delivered");
 *   struct prom_label l[] = {{"output", "cw"}};
 *   prom_sample_u64(&b, "collector_output_records_total", l, 1, 42);
 *   -> # HELP collector_output_records_total records delivered
 *      # TYPE collector_output_records_total counter
 *      collector_output_records_total{output="cw"} 42
 *
 * Label values are escaped (\\, \", \n); HELP text escapes \\ and \n.
 * A histogram keeps cumulative-at-format-time buckets in atomics, so a
 * sender thread may observe while the loop thread formats. */
#ifndef COLLECTOR_STATUS_PROMETHEUS_H
#define COLLECTOR_STATUS_PROMETHEUS_H

#include "collector/core/histogram.h"
#include "collector/core/util.h"

#include <stdint.h>

struct prom_label {
    const char *name;
    const char *value;
};

/* Is name a valid metric (or, with label = 1, label) name? */
int prom_valid_name(const char *name, int label);

/* Append value escaped as a label value (no quotes added). */
void prom_escape_label(struct buf *b, const char *value);

void prom_family(struct buf *b, const char *name, const char *type, const char *help);
void prom_sample_u64(struct buf *b, const char *name, const struct prom_label *labels, int nlabels,
                     uint64_t value);
void prom_sample_i64(struct buf *b, const char *name, const struct prom_label *labels, int nlabels,
                     int64_t value);
/* Doubles: NaN and infinities as Prometheus spells them (NaN, +Inf, -Inf). */
void prom_sample_double(struct buf *b, const char *name, const struct prom_label *labels,
                        int nlabels, double value);

/* name_bucket / name_sum / name_count lines (the family line is the caller's). */
void prom_histogram_format(struct buf *b, const char *name, const struct prom_label *labels,
                           int nlabels, const struct histogram *h);

#endif
