/* The agent's own log: one line per event on stderr (or a file), logfmt or JSON.
 *
 *   log_msg(LOG_WARN, "tail", "cannot open %s: %s", path, strerror(errno));
 *   -> ts=2026-11-22T04:30:00.123Z level=warn module=tail msg="cannot open ..."
 *
 * log_every() rate-limits a repeated message: the call site passes a static
 * struct log_limit, and at most one line per interval is written, with the
 * number suppressed since the last one. Thread-safe (one write(2) per line). */
#ifndef COLLECTOR_LOG_H
#define COLLECTOR_LOG_H

#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

struct log_limit {
    int64_t last_ms;      /* when the last line was written */
    uint64_t suppressed;  /* lines dropped since */
};

/* "debug", "info", "warn"/"warning", "error" -> level; -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_json(int json);
/* Log to this fd instead of stderr (the fd stays owned by the caller). */
void log_set_fd(int fd);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like log_msg, but at most one line per interval_ms for this call site. */
void log_every(struct log_limit *limit, int64_t interval_ms, enum log_level level,
               const char *module, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
