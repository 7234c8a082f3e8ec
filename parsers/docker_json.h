/* Docker's json-file log lines (spec cloudwatch.md §9):
 *
 *   {"log":"hello\n","stream":"stdout","time":"2024-05-01T12:00:00.123456789Z","attrs":{"k":"v"}}
 *
 * "log" is the message; a line over 16 KB is split by Docker into pieces,
 * every piece but the last without the trailing "\n" (partial). The
 * newline is removed here and reported as `partial = 0`. "attrs" (from
 * --log-opt labels/env/tag) become fields.
 *
 * Pure, no allocation per line: strings are decoded into the caller's
 * scratch buffer (reserved once to the line's length: a decoded JSON string
 * is never longer than its escaped form), and the result points into it. */
#ifndef COLLECTOR_PARSERS_DOCKER_JSON_H
#define COLLECTOR_PARSERS_DOCKER_JSON_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

#define DJ_MAX_ATTRS 16

enum log_stream { LOG_STREAM_STDOUT = 0, LOG_STREAM_STDERR = 1, LOG_STREAM_OTHER = 2 };

struct dj_attr {
    const char *key, *value;
    uint32_t key_len, value_len;
};

struct dj_line {
    const char *msg;          /* decoded "log", trailing newline removed */
    size_t msg_len;
    int partial;              /* "log" did not end with "\n": more pieces follow */
    enum log_stream stream;
    int64_t time_ns;          /* 0 when absent or unparsable */
    struct dj_attr attrs[DJ_MAX_ATTRS];
    int nattrs;               /* attrs beyond DJ_MAX_ATTRS are dropped */
};

/* Parse one line (without its '\n'). 0, or -1 if it is not a json-file
 * object with a string "log". */
int dj_parse(const char *line, size_t len, struct buf *scratch, struct dj_line *out);

/* RFC 3339 with up to 9 fraction digits (Docker's RFC3339Nano, which drops
 * trailing zeros and even the '.'), Z or +hh:mm. 0 with *ns, or -1 (also
 * for a time nanoseconds since 1970 cannot hold: before 1677, after 2262). */
int rfc3339_ns(const char *s, size_t len, int64_t *ns);

/* "stdout" / "stderr" / anything else. */
enum log_stream log_stream_of(const char *s, size_t len);
const char *log_stream_name(enum log_stream s);

#endif
