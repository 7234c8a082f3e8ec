#include "parsers/timestamp.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const month_names[12] = {"january", "february", "march",     "april",
                                             "may",     "june",     "july",      "august",
                                             "september", "october", "november", "december"};
static const char *const day_names[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                         "thursday", "friday", "saturday"};

/* Howard Hinnant's days_from_civil. */
int64_t ts_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

struct cursor {
    const char *p, *end;
};

/* Read 1..maxd digits (at least mind). */
static int num(struct cursor *c, int mind, int maxd, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    while (c->p < c->end && n < maxd && isdigit((unsigned char)*c->p)) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    if (n < mind)
        return -1;
    *out = v;
    return 0;
}

/* Fraction digits after the point: up to 9 kept, more skipped. */
static int fraction(struct cursor *c, int64_t *ns)
{
    int64_t v = 0;
    int n = 0;
    while (c->p < c->end && isdigit((unsigned char)*c->p)) {
        if (n < 9) {
            v = v * 10 + (*c->p - '0');
            n++;
        }
        c->p++;
    }
    if (n == 0)
        return -1;
    for (int i = n; i < 9; i++)
        v *= 10;
    *ns = v;
    return 0;
}

static int name(struct cursor *c, const char *const *names, int count, int *out)
{
    for (int i = 0; i < count; i++) {
        size_t full = strlen(names[i]);
        if ((size_t)(c->end - c->p) >= full && strncasecmp(c->p, names[i], full) == 0) {
            c->p += full;
            *out = i;
            return 0;
        }
        if (c->end - c->p >= 3 && strncasecmp(c->p, names[i], 3) == 0) {
            c->p += 3;
            *out = i;
            return 0;
        }
    }
    return -1;
}

static int zone(struct cursor *c, int32_t *off)
{
    if (c->p >= c->end)
        return -1;
    if (*c->p == 'Z' || *c->p == 'z') {
        c->p++;
        *off = 0;
        return 0;
    }
    if (c->end - c->p >= 3 && (strncasecmp(c->p, "UTC", 3) == 0 || strncasecmp(c->p, "GMT", 3) == 0)) {
        c->p += 3;
        *off = 0;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            return zone(c, off);
        return 0;
    }
    if (*c->p != '+' && *c->p != '-')
        return -1;
    int sign = *c->p == '-' ? -1 : 1;
    c->p++;
    int64_t hh, mm = 0;
    if (num(c, 2, 2, &hh) < 0)
        return -1;
    if (c->p < c->end && *c->p == ':')
        c->p++;
    if (c->p < c->end && isdigit((unsigned char)*c->p) && num(c, 2, 2, &mm) < 0)
        return -1;
    if (hh > 23 || mm > 59)
        return -1;
    *off = sign * (int32_t)(hh * 3600 + mm * 60);
    return 0;
}

/* Seconds whose nanoseconds (plus a fraction) still fit in an int64_t. */
#define TS_MAX_SECS 9223372035LL

int ts_parse(const char *fmt, const char *s, size_t len, int64_t now_ns, int32_t tz_offset_s,
             int64_t *out_ns, size_t *consumed)
{
    struct cursor c = {s, s + len};
    int64_t year = -1, mon = 1, day = 1, hour = 0, min = 0, sec = 0, frac = 0, yday = -1;
    int64_t epoch = 0;
    int have_epoch = 0, pm = -1, v;
    int32_t off = tz_offset_s;
    int64_t n;
    char expanded[256];

    /* %T and %F are shorthands: expand them once. */
    size_t o = 0;
    for (const char *f = fmt; *f && o + 9 < sizeof(expanded); f++) {
        if (f[0] == '%' && (f[1] == 'T' || f[1] == 'F')) {
            const char *rep = f[1] == 'T' ? "%H:%M:%S" : "%Y-%m-%d";
            memcpy(expanded + o, rep, 8);
            o += 8;
            f++;
        } else if (f[0] == '%' && f[1]) {
            expanded[o++] = *f++;
            expanded[o++] = *f;
        } else {
            expanded[o++] = *f;
        }
    }
    expanded[o] = '\0';

    for (const char *f = expanded; *f; f++) {
        if (*f == ' ') {
            while (c.p < c.end && isspace((unsigned char)*c.p))
                c.p++;
            continue;
        }
        if (*f != '%') {
            if (c.p >= c.end || *c.p != *f)
                return -1;
            c.p++;
            continue;
        }
        f++;
        switch (*f) {
        case 'Y':
            if (num(&c, 4, 4, &year) < 0)
                return -1;
            break;
        case 'y':
            if (num(&c, 2, 2, &n) < 0)
                return -1;
            year = n < 69 ? 2000 + n : 1900 + n;
            break;
        case 'm':
            if (num(&c, 1, 2, &mon) < 0 || mon < 1 || mon > 12)
                return -1;
            break;
        case 'd':
        case 'e':
            while (*f == 'e' && c.p < c.end && *c.p == ' ')
                c.p++;
            if (num(&c, 1, 2, &day) < 0 || day < 1 || day > 31)
                return -1;
            break;
        case 'H':
        case 'k':
            while (*f == 'k' && c.p < c.end && *c.p == ' ')
                c.p++;
            if (num(&c, 1, 2, &hour) < 0 || hour > 23)
                return -1;
            break;
        case 'I':
            if (num(&c, 1, 2, &hour) < 0 || hour < 1 || hour > 12)
                return -1;
            break;
        case 'p':
            if (c.end - c.p < 2)
                return -1;
            if (strncasecmp(c.p, "AM", 2) == 0)
                pm = 0;
            else if (strncasecmp(c.p, "PM", 2) == 0)
                pm = 1;
            else
                return -1;
            c.p += 2;
            break;
        case 'M':
            if (num(&c, 1, 2, &min) < 0 || min > 59)
                return -1;
            break;
        case 'S':
            if (num(&c, 1, 2, &sec) < 0 || sec > 60)
                return -1;
            break;
        case 'f':
            if (fraction(&c, &frac) < 0)
                return -1;
            break;
        case 'L':
            if (num(&c, 3, 3, &n) < 0)
                return -1;
            frac = n * 1000000;
            break;
        case 'j':
            if (num(&c, 1, 3, &yday) < 0 || yday < 1 || yday > 366)
                return -1;
            break;
        case 'b':
        case 'h':
        case 'B':
            if (name(&c, month_names, 12, &v) < 0)
                return -1;
            mon = v + 1;
            break;
        case 'a':
        case 'A':
            if (name(&c, day_names, 7, &v) < 0)
                return -1;
            break;
        case 's': {
            int neg = c.p < c.end && *c.p == '-';
            if (neg)
                c.p++;
            if (num(&c, 1, 12, &epoch) < 0)
                return -1;
            if (neg)
                epoch = -epoch;
            if (c.p + 1 < c.end && *c.p == '.' && isdigit((unsigned char)c.p[1])) {
                c.p++;
                (void)fraction(&c, &frac);
            }
            have_epoch = 1;
            break;
        }
        case 'z':
        case 'Z':
            if (zone(&c, &off) < 0)
                return -1;
            break;
        case '%':
            if (c.p >= c.end || *c.p != '%')
                return -1;
            c.p++;
            break;
        default:
            return -1; /* unknown directive: a configuration error caught by the caller's test parse */
        }
    }

    if (have_epoch) {
        if (epoch > TS_MAX_SECS || epoch < -TS_MAX_SECS)
            return -1; /* not a time nanoseconds since 1970 can hold (before 1677, after 2262) */
        *out_ns = epoch * 1000000000LL + (epoch < 0 ? -frac : frac);
        *consumed = (size_t)(c.p - s);
        return 0;
    }
    if (pm == 1 && hour < 12)
        hour += 12;
    else if (pm == 0 && hour == 12)
        hour = 0;

    int guessed_year = year < 0;
    if (guessed_year) {
        unsigned mm, dd;
        civil_from_days(now_ns / 1000000000LL / 86400, &year, &mm, &dd);
    }
    int64_t days;
    if (yday > 0)
        days = ts_days_from_civil(year, 1, 1) + yday - 1;
    else
        days = ts_days_from_civil(year, (unsigned)mon, (unsigned)day);
    int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec - off;
    if (guessed_year && secs > now_ns / 1000000000LL + 86400) {
        days = ts_days_from_civil(year - 1, (unsigned)mon, (unsigned)day);
        secs = days * 86400 + hour * 3600 + min * 60 + sec - off;
    }
    if (secs > TS_MAX_SECS || secs < -TS_MAX_SECS)
        return -1; /* as for %s: out of the range of nanoseconds since 1970 */
    *out_ns = secs * 1000000000LL + frac;
    *consumed = (size_t)(c.p - s);
    return 0;
}

int64_t ts_resolve(struct ts_state *st, int ok, int64_t parsed_ns, int64_t now_ns)
{
    if (ok) {
        st->last_good_ns = parsed_ns;
        st->have_last = 1;
        return parsed_ns;
    }
    st->failures++;
    return st->have_last ? st->last_good_ns : now_ns;
}

int ts_format_check(const char *fmt, char *bad)
{
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (!*p || !strchr("YymdekHIpMSfLjbhBaATFszZ%", *p)) {
            *bad = *p;
            return -1;
        }
    }
    return 0;
}
