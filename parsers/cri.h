/* CRI log lines (containerd, CRI-O: /var/log/pods/.../N.log):
 *
 *   2024-05-01T12:00:00.123456789Z stdout F the message
 *
 * <time> <stream> <tag> <message>: tag "P" marks a partial piece (the line
 * continues in the next piece), "F" the full or final one (tags may carry
 * more flags after ':', only the first is read). Pure: the result points
 * into the line. */
#ifndef COLLECTOR_PARSERS_CRI_H
#define COLLECTOR_PARSERS_CRI_H

#include "parsers/docker_json.h"

#include <stddef.h>
#include <stdint.h>

struct cri_line {
    const char *msg;
    size_t msg_len;
    int partial;
    enum log_stream stream;
    int64_t time_ns;
};

/* 0, or -1 if the line is not in CRI format. */
int cri_parse(const char *line, size_t len, struct cri_line *out);

/* Which format is a file in, from its first line: */
enum log_format { LOG_FORMAT_UNKNOWN = 0, LOG_FORMAT_DOCKER_JSON, LOG_FORMAT_CRI };
enum log_format log_format_detect(const char *line, size_t len);

#endif
