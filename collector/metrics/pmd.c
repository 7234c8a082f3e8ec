/* PutMetricData encoding: see pmd.h. */
#include "collector/metrics/pmd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const pmd_bad_names[PMD_BAD_COUNT] = {
    "ok", "metric name", "dimension count", "dimension name", "dimension value",
    "duplicate dimension", "value", "unit", "too old", "too new",
};

static const char *const units[] = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
};

int pmd_unit_valid(const char *unit)
{
    if (!unit || !*unit)
        return 1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(units[i], unit) == 0)
            return 1;
    return 0;
}

/* 1..max printable ASCII with at least one non-space. */
static int printable(const char *s, size_t max)
{
    size_t n = 0;
    int nonblank = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c < 0x20 || c > 0x7e)
            return 0;
        if (c != ' ')
            nonblank = 1;
    }
    return n >= 1 && n <= max && nonblank;
}

int pmd_namespace_valid(const char *ns)
{
    return ns && printable(ns, PMD_MAX_NAME) && ns[0] != ':' && strncmp(ns, "AWS/", 4) != 0;
}

enum pmd_bad pmd_check(const char *name, const char *unit, const struct pmd_dim *dims, int ndims,
                       double value, int64_t timestamp_ms, int64_t now_ms)
{
    size_t nl = name ? strlen(name) : 0;
    if (nl < 1 || nl > PMD_MAX_NAME)
        return PMD_BAD_NAME;
    if (ndims > PMD_MAX_DIMS)
        return PMD_BAD_DIM_COUNT;
    for (int i = 0; i < ndims; i++) {
        if (!printable(dims[i].name, PMD_MAX_NAME) || dims[i].name[0] == ':')
            return PMD_BAD_DIM_NAME;
        if (!printable(dims[i].value, PMD_MAX_DIM_VALUE))
            return PMD_BAD_DIM_VALUE;
        for (int k = 0; k < i; k++)
            if (strcmp(dims[k].name, dims[i].name) == 0)
                return PMD_BAD_DIM_DUP;
    }
    if (!isfinite(value) || fabs(value) > 0x1p360)
        return PMD_BAD_VALUE;
    if (!pmd_unit_valid(unit))
        return PMD_BAD_UNIT;
    if (timestamp_ms < now_ms - PMD_MAX_AGE_MS)
        return PMD_BAD_TOO_OLD;
    if (timestamp_ms > now_ms + PMD_MAX_AHEAD_MS)
        return PMD_BAD_TOO_NEW;
    return PMD_OK;
}

/* ---------------------------------------------------------------- folding */

void pmd_folder_init(struct pmd_folder *f, enum pmd_fold mode)
{
    memset(f, 0, sizeof *f);
    f->mode = mode;
}

void pmd_folder_reset(struct pmd_folder *f)
{
    f->n = f->ndims = f->nvals = 0;
    if (f->slots)
        memset(f->slots, 0xff, f->nslots * sizeof *f->slots);
}

void pmd_folder_free(struct pmd_folder *f)
{
    free(f->d);
    free(f->dims);
    free(f->vals);
    free(f->cnts);
    free(f->slots);
    memset(f, 0, sizeof *f);
}

static uint32_t fnv(uint32_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return (h ^ 0xff) * 16777619u;
}

static uint32_t key_hash(const char *name, const char *unit, const struct pmd_dim *dims,
                         int ndims, int64_t bucket, int res)
{
    uint32_t h = fnv(2166136261u, name);
    h = fnv(h, unit);
    for (int i = 0; i < ndims; i++)
        h = fnv(fnv(h, dims[i].name), dims[i].value);
    h ^= (uint32_t)bucket ^ (uint32_t)(bucket >> 32) ^ (uint32_t)res;
    return h * 2654435761u;
}

static int str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return (!a || !*a) && (!b || !*b);
    return strcmp(a, b) == 0;
}

static int same_key(const struct pmd_folder *f, const struct pmd_datum *d, const char *name,
                    const char *unit, const struct pmd_dim *dims, int ndims, int64_t bucket,
                    int res)
{
    if (d->bucket_ms != bucket || d->resolution != res || d->ndims != ndims ||
        strcmp(d->name, name) != 0 || !str_eq(d->unit, unit))
        return 0;
    for (int i = 0; i < ndims; i++) {
        const struct pmd_dim *x = &f->dims[d->dims_off + (uint32_t)i];
        if (strcmp(x->name, dims[i].name) != 0 || strcmp(x->value, dims[i].value) != 0)
            return 0;
    }
    return 1;
}

static void rehash(struct pmd_folder *f)
{
    uint32_t ns = f->nslots ? f->nslots * 2 : 1024;
    free(f->slots);
    f->slots = xmalloc(ns * sizeof *f->slots);
    memset(f->slots, 0xff, ns * sizeof *f->slots);
    f->nslots = ns;
    for (uint32_t i = 0; i < f->n; i++) {
        uint32_t s = f->d[i].hash & (ns - 1);
        f->d[i].next_same = f->slots[s];
        f->slots[s] = (int32_t)i;
    }
}

static struct pmd_datum *new_datum(struct pmd_folder *f, const char *name, const char *unit,
                                   const struct pmd_dim *dims, int ndims, int64_t bucket,
                                   int res, uint32_t h)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 256;
        f->d = xrealloc(f->d, f->cap * sizeof *f->d);
    }
    if (f->ndims + (uint32_t)ndims > f->dims_cap) {
        f->dims_cap = (f->dims_cap + (uint32_t)ndims) * 2;
        f->dims = xrealloc(f->dims, f->dims_cap * sizeof *f->dims);
    }
    struct pmd_datum *d = &f->d[f->n];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->unit = unit && *unit ? unit : NULL;
    d->bucket_ms = bucket;
    d->resolution = res;
    d->dims_off = f->ndims;
    d->ndims = (uint16_t)ndims;
    if (ndims)
        memcpy(f->dims + f->ndims, dims, (size_t)ndims * sizeof *dims);
    f->ndims += (uint32_t)ndims;
    d->hash = h;
    if (f->mode == PMD_FOLD_VALUES) {
        if (f->nvals + PMD_MAX_VALUES > f->vals_cap) {
            f->vals_cap = (f->vals_cap + PMD_MAX_VALUES) * 2;
            f->vals = xrealloc(f->vals, f->vals_cap * sizeof *f->vals);
            f->cnts = xrealloc(f->cnts, f->vals_cap * sizeof *f->cnts);
        }
        d->values_off = f->nvals;
        f->nvals += PMD_MAX_VALUES;
    }
    if (!f->nslots || f->n * 2 >= f->nslots) {
        f->n++;
        rehash(f); /* links the new datum too */
    } else {
        uint32_t s = h & (f->nslots - 1);
        d->next_same = f->slots[s];
        f->slots[s] = (int32_t)f->n;
        f->n++;
    }
    return d;
}

void pmd_folder_add(struct pmd_folder *f, const char *name, const char *unit,
                    const struct pmd_dim *dims, int ndims, int64_t timestamp_ms, int resolution,
                    double value)
{
    int64_t step = resolution == 1 ? 1000 : 60000;
    int64_t bucket = timestamp_ms - ((timestamp_ms % step) + step) % step;
    uint32_t h = key_hash(name, unit, dims, ndims, bucket, resolution);
    struct pmd_datum *d = NULL;
    if (f->nslots) {
        /* the newest datum of this key comes first in its chain */
        for (int32_t i = f->slots[h & (f->nslots - 1)]; i >= 0; i = f->d[i].next_same) {
            if (f->d[i].hash == h && same_key(f, &f->d[i], name, unit, dims, ndims, bucket,
                                              resolution)) {
                d = &f->d[i];
                break;
            }
        }
    }
    if (d && f->mode == PMD_FOLD_VALUES) {
        double *v = f->vals + d->values_off;
        for (uint16_t k = 0; k < d->nvalues; k++) {
            if (v[k] == value) {
                f->cnts[d->values_off + k] += 1;
                d->count += 1;
                return;
            }
        }
        if (d->nvalues == PMD_MAX_VALUES)
            d = NULL; /* full: a new datum for the same key */
    }
    if (!d) {
        d = new_datum(f, name, unit, dims, ndims, bucket, resolution, h);
        d->min = d->max = value;
    }
    d->count += 1;
    d->sum += value;
    if (value < d->min)
        d->min = value;
    if (value > d->max)
        d->max = value;
    if (f->mode == PMD_FOLD_VALUES) {
        f->vals[d->values_off + d->nvalues] = value;
        f->cnts[d->values_off + d->nvalues] = 1;
        d->nvalues++;
    }
}

/* --------------------------------------------------------------- encoding */

void pmd_encoder_init(struct pmd_encoder *e, enum pmd_protocol protocol, const char *ns)
{
    e->protocol = protocol;
    e->namespace_ = ns;
    e->max_datums = PMD_MAX_DATUMS;
    e->max_bytes = PMD_MAX_BYTES;
    buf_init(&e->scratch);
}

void pmd_encoder_free(struct pmd_encoder *e)
{
    buf_free(&e->scratch);
}

static void num(struct buf *b, double v)
{
    buf_printf(b, "%.17g", v);
}

static void json_str(struct buf *b, const char *s)
{
    buf_append_char(b, '"');
    buf_append_json_escaped(b, s, strlen(s));
    buf_append_char(b, '"');
}

static void json_datum(struct buf *b, const struct pmd_folder *f, const struct pmd_datum *d)
{
    buf_append_str(b, "{\"MetricName\":");
    json_str(b, d->name);
    if (d->ndims) {
        buf_append_str(b, ",\"Dimensions\":[");
        for (uint16_t i = 0; i < d->ndims; i++) {
            const struct pmd_dim *x = &f->dims[d->dims_off + i];
            buf_append_str(b, i ? ",{\"Name\":" : "{\"Name\":");
            json_str(b, x->name);
            buf_append_str(b, ",\"Value\":");
            json_str(b, x->value);
            buf_append_char(b, '}');
        }
        buf_append_char(b, ']');
    }
    buf_printf(b, ",\"Timestamp\":%lld", (long long)(d->bucket_ms / 1000));
    if (d->unit) {
        buf_append_str(b, ",\"Unit\":");
        json_str(b, d->unit);
    }
    if (d->resolution == 1)
        buf_append_str(b, ",\"StorageResolution\":1");
    if (f->mode == PMD_FOLD_VALUES) {
        buf_append_str(b, ",\"Values\":[");
        for (uint16_t k = 0; k < d->nvalues; k++) {
            if (k)
                buf_append_char(b, ',');
            num(b, f->vals[d->values_off + k]);
        }
        buf_append_str(b, "],\"Counts\":[");
        for (uint16_t k = 0; k < d->nvalues; k++) {
            if (k)
                buf_append_char(b, ',');
            num(b, f->cnts[d->values_off + k]);
        }
        buf_append_char(b, ']');
    } else if (d->count == 1) {
        buf_append_str(b, ",\"Value\":");
        num(b, d->sum);
    } else {
        buf_append_str(b, ",\"StatisticValues\":{\"SampleCount\":");
        num(b, d->count);
        buf_append_str(b, ",\"Sum\":");
        num(b, d->sum);
        buf_append_str(b, ",\"Minimum\":");
        num(b, d->min);
        buf_append_str(b, ",\"Maximum\":");
        num(b, d->max);
        buf_append_char(b, '}');
    }
    buf_append_char(b, '}');
}

/* RFC 3986 percent-encoding (unreserved characters kept). */
static void form_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf_append_char(b, (char)c);
        } else {
            buf_append_char(b, '%');
            buf_append_char(b, hex[c >> 4]);
            buf_append_char(b, hex[c & 15]);
        }
    }
}

static void form_kv(struct buf *b, uint32_t n, const char *key, const char *value)
{
    buf_printf(b, "&MetricData.member.%u.%s=", n, key);
    form_escape(b, value);
}

static void form_num(struct buf *b, uint32_t n, const char *key, double v)
{
    char t[64];
    snprintf(t, sizeof t, "%.17g", v);
    form_kv(b, n, key, t);
}

static void query_datum(struct buf *b, const struct pmd_folder *f, const struct pmd_datum *d,
                        uint32_t n)
{
    char key[96];
    form_kv(b, n, "MetricName", d->name);
    for (uint16_t i = 0; i < d->ndims; i++) {
        const struct pmd_dim *x = &f->dims[d->dims_off + i];
        snprintf(key, sizeof key, "Dimensions.member.%u.Name", i + 1u);
        form_kv(b, n, key, x->name);
        snprintf(key, sizeof key, "Dimensions.member.%u.Value", i + 1u);
        form_kv(b, n, key, x->value);
    }
    time_t t = (time_t)(d->bucket_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    form_kv(b, n, "Timestamp", ts);
    if (d->unit)
        form_kv(b, n, "Unit", d->unit);
    if (d->resolution == 1)
        form_kv(b, n, "StorageResolution", "1");
    if (f->mode == PMD_FOLD_VALUES) {
        for (uint16_t k = 0; k < d->nvalues; k++) {
            snprintf(key, sizeof key, "Values.member.%u", k + 1u);
            form_num(b, n, key, f->vals[d->values_off + k]);
            snprintf(key, sizeof key, "Counts.member.%u", k + 1u);
            form_num(b, n, key, f->cnts[d->values_off + k]);
        }
    } else if (d->count == 1) {
        form_num(b, n, "Value", d->sum);
    } else {
        form_num(b, n, "StatisticValues.SampleCount", d->count);
        form_num(b, n, "StatisticValues.Sum", d->sum);
        form_num(b, n, "StatisticValues.Minimum", d->min);
        form_num(b, n, "StatisticValues.Maximum", d->max);
    }
}

uint32_t pmd_encode_call(struct pmd_encoder *e, const struct pmd_folder *f, uint32_t pos,
                         struct buf *body)
{
    buf_reset(body);
    size_t tail;
    if (e->protocol == PMD_QUERY) {
        buf_append_str(body, "Action=PutMetricData&Version=2010-08-01&Namespace=");
        form_escape(body, e->namespace_);
        tail = 0;
    } else {
        buf_append_str(body, "{\"Namespace\":");
        json_str(body, e->namespace_);
        buf_append_str(body, ",\"MetricData\":[");
        tail = 2; /* "]}" */
    }
    uint32_t max = e->max_datums && e->max_datums < PMD_MAX_DATUMS ? e->max_datums
                                                                   : PMD_MAX_DATUMS;
    size_t max_bytes = e->max_bytes && e->max_bytes < PMD_MAX_BYTES ? e->max_bytes : PMD_MAX_BYTES;
    uint32_t k = 0;
    while (pos + k < f->n && k < max) {
        const struct pmd_datum *d = &f->d[pos + k];
        buf_reset(&e->scratch);
        if (e->protocol == PMD_QUERY) {
            query_datum(&e->scratch, f, d, k + 1);
        } else {
            if (k)
                buf_append_char(&e->scratch, ',');
            json_datum(&e->scratch, f, d);
        }
        if (k > 0 && body->len + e->scratch.len + tail > max_bytes)
            break;
        buf_append(body, e->scratch.data, e->scratch.len);
        k++;
    }
    if (e->protocol == PMD_JSON)
        buf_append_str(body, "]}");
    return k;
}
