/* PutLogEvents wire format, pure: the request body from a plan, and what a
 * response says (rejectedLogEventsInfo). No I/O. */
#ifndef COLLECTOR_CWL_LOGS_JSON_H
#define COLLECTOR_CWL_LOGS_JSON_H

#include "collector/cloudwatch/logs_batch.h"
#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

/* Append the body of one call to out (which is not reset):
 * {"logGroupName":..,"logStreamName":..,"logEvents":[{"timestamp":..,"message":..},..]}
 * Messages are escaped once, straight from the caller's bytes (invalid UTF-8
 * becomes U+FFFD); a truncated one gets marker appended. */
void cwl_json_put_body(struct buf *out, const char *group, const char *stream,
                       const struct cwl_event_in *ev, const struct cwl_plan *plan,
                       const struct cwl_call *call, const char *marker, size_t marker_len);


/* Body of CreateLogStream / PutRetentionPolicy. */
void cwl_json_stream_body(struct buf *out, const char *group, const char *stream);
void cwl_json_retention_body(struct buf *out, const char *group, int days);

/* Body of CreateLogGroup: kms_key_id, group_class may be NULL; tags is
 * "k=v" strings (ntags may be 0). */
void cwl_json_group_body(struct buf *out, const char *group, const char *kms_key_id,
                         const char *group_class, char *const *tags, int ntags);

/* rejectedLogEventsInfo of a PutLogEvents response; -1 = absent. */
struct cwl_rejected {
    int64_t too_new_start;   /* first too-new event (inclusive) */
    int64_t too_old_end;     /* events before it are too old (exclusive end) */
    int64_t expired_end;     /* events before it are older than the retention */
};

/* 0 (r filled; all -1 when nothing was rejected) or -1 if body is not JSON. */
int cwl_json_parse_rejected(const char *body, size_t len, struct cwl_rejected *r);

/* How many of nevents AWS rejected as too old (incl. expired) and too new,
 * with AWS's index semantics; overlapping ranges are counted once. */
void cwl_rejected_counts(const struct cwl_rejected *r, uint32_t nevents, uint32_t *too_old,
                         uint32_t *too_new);

#endif
