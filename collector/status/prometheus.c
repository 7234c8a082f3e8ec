#include "collector/status/prometheus.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int prom_valid_name(const char *name, int label)
{
    if (!name || !*name)
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (!label && c == ':');
        int digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && p != name))
            return 0;
    }
    return !(label && name[0] == '_' && name[1] == '_'); /* __ is reserved */
}

void prom_escape_label(struct buf *b, const char *value)
{
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\')
            buf_append(b, "\\\\", 2);
        else if (*p == '"')
            buf_append(b, "\\\"", 2);
        else if (*p == '\n')
            buf_append(b, "\\n", 2);
        else
            buf_append_char(b, *p);
    }
}

void prom_family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s ", name);
    for (const char *p = help ? help : ""; *p; p++) {
        if (*p == '\\')
            buf_append(b, "\\\\", 2);
        else if (*p == '\n')
            buf_append(b, "\\n", 2);
        else
            buf_append_char(b, *p);
    }
    buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void sample_head(struct buf *b, const char *name, const char *suffix,
                        const struct prom_label *labels, int nlabels, const char *extra_name,
                        const char *extra_value)
{
    buf_append_str(b, name);
    if (suffix)
        buf_append_str(b, suffix);
    if (nlabels == 0 && !extra_name) {
        buf_append_char(b, ' ');
        return;
    }
    buf_append_char(b, '{');
    for (int i = 0; i < nlabels; i++) {
        buf_printf(b, "%s%s=\"", i ? "," : "", labels[i].name);
        prom_escape_label(b, labels[i].value);
        buf_append_char(b, '"');
    }
    if (extra_name) {
        buf_printf(b, "%s%s=\"", nlabels ? "," : "", extra_name);
        prom_escape_label(b, extra_value);
        buf_append_char(b, '"');
    }
    buf_append(b, "} ", 2);
}

void prom_sample_u64(struct buf *b, const char *name, const struct prom_label *labels, int nlabels,
                     uint64_t value)
{
    sample_head(b, name, NULL, labels, nlabels, NULL, NULL);
    buf_printf(b, "%" PRIu64 "\n", value);
}

void prom_sample_i64(struct buf *b, const char *name, const struct prom_label *labels, int nlabels,
                     int64_t value)
{
    sample_head(b, name, NULL, labels, nlabels, NULL, NULL);
    buf_printf(b, "%" PRId64 "\n", value);
}

/* The shortest of %.15g / %.17g that reads back as the same double. */
static void format_double(char *out, size_t len, double v)
{
    snprintf(out, len, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, len, "%.17g", v);
}

static void append_double(struct buf *b, double v)
{
    if (isnan(v))
        buf_append_str(b, "NaN");
    else if (isinf(v))
        buf_append_str(b, v > 0 ? "+Inf" : "-Inf");
    else {
        char text[64];
        format_double(text, sizeof text, v);
        buf_append_str(b, text);
    }
}

void prom_sample_double(struct buf *b, const char *name, const struct prom_label *labels,
                        int nlabels, double value)
{
    sample_head(b, name, NULL, labels, nlabels, NULL, NULL);
    append_double(b, value);
    buf_append_char(b, '\n');
}

void prom_histogram_format(struct buf *b, const char *name, const struct prom_label *labels,
                           int nlabels, const struct histogram *h)
{
    uint64_t cumulative = 0;
    char le[64];
    for (int i = 0; i <= h->nbounds; i++) {
        cumulative += h->counts[i];
        if (i < h->nbounds)
            format_double(le, sizeof le, h->bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        sample_head(b, name, "_bucket", labels, nlabels, "le", le);
        buf_printf(b, "%" PRIu64 "\n", cumulative);
    }
    sample_head(b, name, "_sum", labels, nlabels, NULL, NULL);
    append_double(b, (double)h->sum_micros / 1e6);
    buf_append_char(b, '\n');
    /* count is the +Inf bucket: read it from the buckets so the two agree
     * even while another thread observes. */
    sample_head(b, name, "_count", labels, nlabels, NULL, NULL);
    buf_printf(b, "%" PRIu64 "\n", cumulative);
}
