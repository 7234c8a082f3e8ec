/* Helpers of the translators: formats, names, notes. */
#include "collector/import/import.h"
#include "parsers/timestamp.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void import_result_init(struct import_result *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->conf);
    buf_init(&r->notes);
}

void import_result_free(struct import_result *r)
{
    buf_free(&r->conf);
    buf_free(&r->notes);
}

void import_note(struct import_result *r, const char *source, int line, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (line > 0)
        buf_printf(&r->notes, "%s:%d: %s\n", source, line, text);
    else
        buf_printf(&r->notes, "%s: %s\n", source, text);
    r->nnotes++;
}

int import_is_glob(const char *path)
{
    return strpbrk(path, "*?[") != NULL;
}

void import_section_name(const char *raw, char (*taken)[128], int n, char *out, size_t cap)
{
    char base[100];
    size_t k = 0;
    int sep = 0;
    for (const char *p = raw; *p && k < sizeof base - 1; p++) {
        if (isalnum((unsigned char)*p) || *p == '-' || *p == '.') {
            if (sep && k > 0)
                base[k++] = '_';
            sep = 0;
            if (k < sizeof base - 1)
                base[k++] = *p;
        } else {
            sep = 1;
        }
    }
    base[k] = '\0';
    if (!k)
        snprintf(base, sizeof base, "imported");
    snprintf(out, cap, "%s", base);
    for (int suffix = 2;; suffix++) {
        int clash = 0;
        for (int i = 0; i < n && !clash; i++)
            clash = strcmp(taken[i], out) == 0;
        if (!clash)
            return;
        snprintf(out, cap, "%s_%d", base, suffix);
    }
}

/* The pattern of one directive, or NULL. */
static const char *directive_regex(char c)
{
    switch (c) {
    case 'Y': return "\\d{4}";
    case 'y': case 'C': return "\\d{2}";
    case 'm': case 'd': case 'H': case 'I': case 'M': case 'S': return "\\d{1,2}";
    case 'e': case 'k': case 'l': return " ?\\d{1,2}";
    case 'j': return "\\d{1,3}";
    case 'f': return "\\d{1,9}";
    case 'L': return "\\d{3}";
    case 's': return "\\d+";
    case 'b': case 'h': case 'a': return "[A-Za-z]{3}";
    case 'B': case 'A': return "[A-Za-z]+";
    case 'p': return "[AaPp][Mm]";
    case 'z': return "(?:Z|[+-]\\d{2}(?::?\\d{2})?)";
    case 'Z': return "[A-Za-z]{1,5}";
    case 'T': return "\\d{1,2}:\\d{1,2}:\\d{1,2}";
    case 'F': return "\\d{4}-\\d{1,2}-\\d{1,2}";
    case '%': return "%";
    default: return NULL;
    }
}

int import_format_regex(const char *fmt, struct buf *out, char *bad)
{
    buf_append_char(out, '^');
    for (const char *p = fmt; *p; p++) {
        if (*p == '%') {
            p++;
            if (*p == '-')
                p++; /* %-d: unpadded, matched by \d{1,2} anyway */
            const char *re = *p ? directive_regex(*p) : NULL;
            if (!re) {
                if (bad)
                    *bad = *p;
                return -1;
            }
            buf_append_str(out, re);
        } else if (*p == ' ') {
            buf_append_str(out, "\\s+");
        } else if (strchr(".^$*+?()[]{}|\\", *p)) {
            buf_append_char(out, '\\');
            buf_append_char(out, *p);
        } else {
            buf_append_char(out, *p);
        }
    }
    return 0;
}

int import_time_format(const char *fmt, struct buf *out, char *bad)
{
    for (const char *p = fmt; *p; p++) {
        buf_append_char(out, *p);
        if (*p == '%' && p[1] == '-') /* %-d, %-m, %-H...: this parser takes 1 or 2 digits */
            p++;
        else if (*p == '%' && p[1])
            buf_append_char(out, *++p);
    }
    char b = 0;
    if (ts_format_check(out->data ? out->data : "", &b) < 0) {
        if (bad)
            *bad = b;
        return -1;
    }
    return 0;
}
