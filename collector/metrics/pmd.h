/* PutMetricData: validation, folding and encoding (spec/cloudwatch.md §3).
 *
 *   pmd_check()      one sample against every per-datum limit of §3.2
 *   pmd_folder       samples with equal (name, unit, dimensions, resolution,
 *                    time bucket) folded into one datum: StatisticValues
 *                    (SampleCount, Sum, Minimum, Maximum), or Values/Counts
 *                    (at most 150 distinct values; more start a new datum)
 *   pmd_encode_call  the body of the next call from a position: at most
 *                    max_datums (<= 1,000) datums and max_bytes (<= 1 MiB),
 *                    JSON 1.0 (awsJson, timestamps in epoch seconds) or the
 *                    query protocol (form-encoded, ISO-8601 timestamps)
 *
 * Pure: the folder keeps pointers to the strings it is given (the batch's
 * arena), so it is only valid while they are. Its arrays are reused. */
#ifndef COLLECTOR_METRICS_PMD_H
#define COLLECTOR_METRICS_PMD_H

#include "collector/core/util.h"

#include <stdint.h>

#define PMD_MAX_DATUMS 1000
#define PMD_MAX_BYTES 1048576
#define PMD_MAX_DIMS 30
#define PMD_MAX_VALUES 150
#define PMD_MAX_NAME 255
#define PMD_MAX_DIM_VALUE 1024
#define PMD_GZIP_MIN 10240
#define PMD_MAX_AGE_MS (14LL * 24 * 3600 * 1000)
#define PMD_MAX_AHEAD_MS (2LL * 3600 * 1000)
#define PMD_TARGET "GraniteServiceVersion20100801.PutMetricData"

enum pmd_fold { PMD_FOLD_STATS = 0, PMD_FOLD_VALUES };
enum pmd_protocol { PMD_JSON = 0, PMD_QUERY };

/* Why a sample cannot be sent (0 = it can). */
enum pmd_bad {
    PMD_OK = 0,
    PMD_BAD_NAME,          /* metric name empty or > 255 */
    PMD_BAD_DIM_COUNT,     /* > 30 dimensions */
    PMD_BAD_DIM_NAME,      /* 1-255 printable ASCII, not blank, no leading ':' */
    PMD_BAD_DIM_VALUE,     /* 1-1024 printable ASCII, not blank */
    PMD_BAD_DIM_DUP,       /* the same dimension name twice */
    PMD_BAD_VALUE,         /* NaN, infinite or |x| > 2^360 */
    PMD_BAD_UNIT,          /* not one of the 27 units */
    PMD_BAD_TOO_OLD,       /* > 14 days old */
    PMD_BAD_TOO_NEW,       /* > 2 hours ahead */
    PMD_BAD_COUNT
};

extern const char *const pmd_bad_names[PMD_BAD_COUNT];

struct pmd_dim {
    const char *name;
    const char *value;
};

/* 1 if unit (NULL or "" = None) is a CloudWatch unit. */
int pmd_unit_valid(const char *unit);
/* 1 if ns is a namespace PutMetricData accepts (1-255 printable ASCII, not
 * starting with ':' or "AWS/"). */
int pmd_namespace_valid(const char *ns);

enum pmd_bad pmd_check(const char *name, const char *unit, const struct pmd_dim *dims, int ndims,
                       double value, int64_t timestamp_ms, int64_t now_ms);

struct pmd_datum {
    const char *name;
    const char *unit;            /* NULL = None (not written) */
    int64_t bucket_ms;           /* the Timestamp sent */
    int resolution;              /* 1 or 60 */
    uint32_t dims_off;           /* into folder->dims */
    uint16_t ndims;
    uint16_t nvalues;            /* VALUES mode */
    uint32_t values_off;         /* VALUES mode: PMD_MAX_VALUES slots in folder->vals */
    double count, sum, min, max;
    uint32_t hash;
    int32_t next_same;           /* hash chain */
};

struct pmd_folder {
    enum pmd_fold mode;
    struct pmd_datum *d;
    uint32_t n, cap;
    struct pmd_dim *dims;
    uint32_t ndims, dims_cap;
    double *vals, *cnts;
    uint32_t nvals, vals_cap;
    int32_t *slots;              /* hash table of datum indexes (-1 = empty) */
    uint32_t nslots;
};

void pmd_folder_init(struct pmd_folder *f, enum pmd_fold mode);
void pmd_folder_reset(struct pmd_folder *f);
void pmd_folder_free(struct pmd_folder *f);
/* Fold one (already checked) sample. resolution 1 buckets by second, 60
 * by minute. */
void pmd_folder_add(struct pmd_folder *f, const char *name, const char *unit,
                    const struct pmd_dim *dims, int ndims, int64_t timestamp_ms, int resolution,
                    double value);

/* Should a body of len bytes be gzipped (min_size 0 = never)? The SDKs'
 * rule: request_min_compression_size_bytes, default 10,240 (§3.4). */
static inline int pmd_should_gzip(size_t len, uint64_t min_size)
{
    return min_size > 0 && len >= min_size;
}

struct pmd_encoder {
    enum pmd_protocol protocol;
    const char *namespace_;
    uint32_t max_datums;         /* <= PMD_MAX_DATUMS */
    size_t max_bytes;            /* <= PMD_MAX_BYTES */
    struct buf scratch;
};

void pmd_encoder_init(struct pmd_encoder *e, enum pmd_protocol protocol, const char *ns);
void pmd_encoder_free(struct pmd_encoder *e);

/* Write the body of one call with the datums from pos on into body (reset
 * first). Returns how many datums it holds (>= 1 while pos < f->n: a datum
 * too large alone is impossible within the limits above). */
uint32_t pmd_encode_call(struct pmd_encoder *e, const struct pmd_folder *f, uint32_t pos,
                         struct buf *body);

#endif
