#include "collector/bundle/summary.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *verdict_name(enum verdict v)
{
    static const char *const names[] = {"OK", "WARN", "FAIL", "INFO"};
    return names[v];
}

void verdict_line(struct buf *out, enum verdict v, const char *topic, const char *evidence,
                  const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    buf_printf(out, "%-4s %-18s %s", verdict_name(v), topic, text);
    if (evidence && *evidence)
        buf_printf(out, "  [%s]", evidence);
    buf_append_char(out, '\n');
}

enum verdict verdict_pct(int pct, int warn, int fail)
{
    return pct >= fail ? V_FAIL : pct >= warn ? V_WARN : V_OK;
}

static long long meminfo_kb(const char *text, const char *key)
{
    const char *p = text;
    size_t n = strlen(key);
    while (p && *p) {
        if (strncmp(p, key, n) == 0 && p[n] == ':')
            return strtoll(p + n + 1, NULL, 10);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

int meminfo_available_pct(const char *text)
{
    long long total = meminfo_kb(text, "MemTotal"), avail = meminfo_kb(text, "MemAvailable");
    if (total <= 0 || avail < 0)
        return -1;
    return (int)(avail * 100 / total);
}

static size_t count_substr(const char *text, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    const char *p = text, *end = text + len;
    while (p < end && (p = memmem(p, (size_t)(end - p), needle, nl))) {
        n++;
        p += nl;
    }
    return n;
}

int count_oom_kills(const char *text, size_t len)
{
    return (int)count_substr(text, len, "Killed process");
}

long count_cgroup_oom_kills(const char *text)
{
    long sum = 0;
    const char *p = text;
    while ((p = strstr(p, "oom_kill "))) {
        if (p == text || p[-1] == '\n')
            sum += strtol(p + 9, NULL, 10);
        p += 9;
    }
    return sum;
}

/* "2024-01-02T03:04:05[.fff](Z|+hh:mm|-hh:mm)" at p -> epoch seconds; -1 if not. */
static int64_t parse_iso(const char *p, const char *end)
{
    struct tm tm = {0};
    if (end - p < 19)
        return -1;
    for (int i = 0; i < 19; i++) {
        char c = p[i];
        int digit = isdigit((unsigned char)c);
        if ((i == 4 || i == 7)     ? c != '-'
            : i == 10              ? (c != 'T' && c != ' ')
            : (i == 13 || i == 16) ? c != ':'
                                   : !digit)
            return -1;
    }
    tm.tm_year = atoi(p) - 1900;
    tm.tm_mon = atoi(p + 5) - 1;
    tm.tm_mday = atoi(p + 8);
    tm.tm_hour = atoi(p + 11);
    tm.tm_min = atoi(p + 14);
    tm.tm_sec = atoi(p + 17);
    int64_t t = (int64_t)timegm(&tm);
    const char *q = p + 19;
    if (q < end && *q == '.')
        while (++q < end && isdigit((unsigned char)*q))
            ;
    if (q + 5 < end && (*q == '+' || *q == '-') && isdigit((unsigned char)q[1])) {
        int off = atoi(q + 1) * 3600 + atoi(q + 4) * 60;
        t += *q == '+' ? -off : off;
    }
    return t;
}

int count_recent_errors(const char *text, size_t len, int64_t now_s, int64_t window_s)
{
    int n = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        int err = memmem(p, ll, "level=error", 11) || memmem(p, ll, "level=crit", 10) ||
                  memmem(p, ll, "[ERROR]", 7) || memmem(p, ll, "[CRITICAL]", 10) ||
                  memmem(p, ll, "\"level\":\"error\"", 15);
        if (err) {
            int64_t t = parse_iso(p, le);
            const char *tp = memmem(p, ll, "time=", 5);
            if (t < 0 && tp) {
                tp += 5;
                if (tp < le && *tp == '"')
                    tp++;
                t = parse_iso(tp, le);
            }
            if (t >= 0 && t <= now_s + 300 && now_s - t <= window_s)
                n++;
        }
        p = nl ? nl + 1 : end;
    }
    return n;
}

static const char *last_of(const char *text, size_t len, const char *const *needles)
{
    const char *best = NULL;
    for (; *needles; needles++) {
        size_t nl = strlen(*needles);
        const char *p = text, *end = text + len;
        while (p < end && (p = memmem(p, (size_t)(end - p), *needles, nl))) {
            if (!best || p > best)
                best = p;
            p += nl;
        }
    }
    return best;
}

int acs_connection_state(const char *text, size_t len)
{
    static const char *const up[] = {"Connected to ACS", "connected to ACS endpoint", NULL};
    static const char *const down[] = {"Error connecting to ACS",
                                       "Unable to connect to ACS",
                                       "Disconnected from ACS",
                                       "ACS connection closed",
                                       "ACS Websocket connection closed",
                                       "Error from acs",
                                       NULL};
    const char *u = last_of(text, len, up), *d = last_of(text, len, down);
    if (!u && !d)
        return -1;
    return u > d;
}

long long limits_value(const char *text, const char *key, int field)
{
    size_t n = strlen(key);
    const char *p = text;
    while (p && *p) {
        if (strncmp(p, key, n) == 0 && p[n] == ' ') {
            const char *q = p + n;
            for (int f = 0; f <= field; f++) {
                while (*q == ' ' || *q == '\t')
                    q++;
                if (!isdigit((unsigned char)*q))
                    return -1;
                if (f == field)
                    return strtoll(q, NULL, 10);
                while (isdigit((unsigned char)*q))
                    q++;
            }
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}
