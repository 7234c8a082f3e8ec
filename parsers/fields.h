/* Structured messages: a container's line parsed as JSON or logfmt (the
 * `collector.parser=json|logfmt` label), into fields and a timestamp.
 *
 *  - json: a flat view of one object: every top-level key becomes a field;
 *    strings are decoded, numbers, booleans and null kept as written,
 *    nested objects and arrays as their JSON text;
 *  - logfmt: key=value pairs, values bare or "quoted" (with \" \\ \n
 *    escapes); a bare key is a field with an empty value. A line with no
 *    key=value pair is not logfmt.
 *
 * The timestamp comes from the first of the keys time, timestamp,
 * @timestamp, ts that holds RFC 3339 text or epoch seconds / ms / us / ns.
 *
 * Pure, no allocation per line: values are decoded into the caller's
 * scratch buffer and the fields point into it (or into msg). */
#ifndef COLLECTOR_PARSERS_FIELDS_H
#define COLLECTOR_PARSERS_FIELDS_H

#include "collector/core/util.h"
#include "parsers/docker_json.h"

#include <stddef.h>
#include <stdint.h>

#define FIELDS_MAX 32

enum fields_format { FIELDS_NONE = 0, FIELDS_JSON, FIELDS_LOGFMT };

struct fields_result {
    struct dj_attr fields[FIELDS_MAX];   /* beyond FIELDS_MAX: dropped */
    int n;
    int64_t time_ns;                     /* 0 when none */
};

/* "json", "logfmt", "none"; -1 for any other name. */
int fields_format_of(const char *name, enum fields_format *out);

/* 0 parsed, -1 if msg is not in that format (the caller keeps it as is). */
int fields_parse(enum fields_format fmt, const char *msg, size_t len, struct buf *scratch,
                 struct fields_result *out);

#endif
