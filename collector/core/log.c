#include "collector/core/log.h"
#include "collector/core/util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_INFO;
static _Atomic int json_format;
static _Atomic int log_fd = STDERR_FILENO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    if (strcmp(name, "warning") == 0)
        return LOG_WARN;
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return (level >= LOG_DEBUG && level <= LOG_ERROR) ? level_names[level] : "?";
}

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return (enum log_level)current_level; }
void log_set_json(int json) { json_format = json ? 1 : 0; }
void log_set_fd(int fd) { log_fd = fd; }

/* Format into a stack buffer and emit with one write(2), so lines from
 * several threads never interleave. Overlong messages are cut, not split. */
static void emit(enum log_level level, const char *module, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

    char line[4096];
    size_t n;
    if (json_format) {
        /* Escape by hand into the stack buffer: the log must not allocate. */
        n = (size_t)snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":\"%s\",\"msg\":\"",
                             when, log_level_name(level), module);
        for (const unsigned char *p = (const unsigned char *)msg; *p && n < sizeof line - 8; p++) {
            if (*p == '"' || *p == '\\') {
                line[n++] = '\\';
                line[n++] = (char)*p;
            } else if (*p < 0x20) {
                n += (size_t)snprintf(line + n, sizeof line - n, "\\u%04x", *p);
            } else {
                line[n++] = (char)*p;
            }
        }
        n += (size_t)snprintf(line + n, sizeof line - n, "\"}\n");
    } else {
        n = (size_t)snprintf(line, sizeof line, "ts=%s level=%s module=%s msg=\"", when,
                             log_level_name(level), module);
        for (const char *p = msg; *p && n < sizeof line - 4; p++) {
            if (*p == '"' || *p == '\\')
                line[n++] = '\\';
            line[n++] = (*p == '\n') ? ' ' : *p;
        }
        line[n++] = '"';
        line[n++] = '\n';
    }
    if (n > sizeof line)
        n = sizeof line;
    (void)write_all(log_fd, line, n);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
    if ((int)level < current_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(level, module, fmt, ap);
    va_end(ap);
}

void log_every(struct log_limit *limit, int64_t interval_ms, enum log_level level,
               const char *module, const char *fmt, ...)
{
    if ((int)level < current_level)
        return;
    int64_t now = mono_ms();
    /* Benign race between threads: at worst two lines in one interval. */
    if (limit->last_ms != 0 && now - limit->last_ms < interval_ms) {
        limit->suppressed++;
        return;
    }
    uint64_t suppressed = limit->suppressed;
    limit->suppressed = 0;
    limit->last_ms = now;

    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (suppressed)
        log_msg(level, module, "%s (%llu similar messages suppressed)", msg,
                (unsigned long long)suppressed);
    else
        log_msg(level, module, "%s", msg);
}
