/* strptime-like timestamp parsing, pure and locale-independent.
 *
 * Directives: %Y %y %m %d %e %H %k %I %p %M %S %j %b %h %B %a %A %T %F
 * %s (epoch seconds, may carry a fraction) %f (fraction of a second,
 * 1-9 digits) %L (milliseconds, 3 digits) %z (Z, +HH, +HHMM, +HH:MM)
 * %Z (UTC, GMT or Z) %%. A space in the format matches any run of
 * whitespace (including none); every other character matches itself.
 *
 * Without %z/%Z the time is UTC (or tz_offset_s east of UTC when the
 * caller gives one). Without a year (syslog's "%b %e %H:%M:%S") the year
 * is taken from `now`, and moved back one if that would put the time more
 * than a day in the future (a December line read in January).
 *
 * When a record's timestamp cannot be parsed, the rule (as awslogs did) is:
 * the last timestamp that did parse in the same source, else the read time.
 * ts_resolve() applies it. */
#ifndef COLLECTOR_TIMESTAMP_H
#define COLLECTOR_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

/* Parse the start of [s, s+len). On success returns 0, sets *out_ns
 * (ns since the epoch) and *consumed (bytes used). -1 if it does not match. */
int ts_parse(const char *fmt, const char *s, size_t len, int64_t now_ns, int32_t tz_offset_s,
             int64_t *out_ns, size_t *consumed);

/* 0 if every directive of fmt is known; else -1 with the first unknown
 * directive character in *bad ('\0' for a trailing '%'). */
int ts_format_check(const char *fmt, char *bad);

struct ts_state {
    int64_t last_good_ns;
    int have_last;
    uint64_t failures;     /* records that fell back */
};

/* ok: whether parsing succeeded (parsed_ns then valid). Returns the
 * timestamp to use and remembers a good one. */
int64_t ts_resolve(struct ts_state *st, int ok, int64_t parsed_ns, int64_t now_ns);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t ts_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
