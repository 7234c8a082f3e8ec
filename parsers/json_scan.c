/* JSON scanning primitives: see json_scan.h. */
#include "parsers/json_scan.h"

#include <stddef.h>

const char *js_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

const char *js_string(const char *p, const char *end, char **o)
{
    char *w = *o;
    while (p < end) {
        char c = *p++;
        if (c == '"') {
            *o = w;
            return p;
        }
        if (c != '\\') {
            *w++ = c;
            continue;
        }
        if (p >= end)
            return NULL;
        c = *p++;
        switch (c) {
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        case 'r': *w++ = '\r'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case '"': case '\\': case '/': *w++ = c; break;
        case 'u': {
            unsigned cp;
            if (hex4(p, end, &cp) < 0)
                return NULL;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, end, &lo) == 0 &&
                    lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            w = put_utf8(w, cp);
            break;
        }
        default:
            return NULL;
        }
    }
    return NULL;
}

const char *js_skip_value(const char *p, const char *end)
{
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p++;
            while (p < end && *p != '"') {
                if (*p == '\\')
                    p++;
                p++;
            }
            if (p >= end)
                return NULL;
            p++;
        } else if (c == '{' || c == '[') {
            depth++;
            p++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return p;
            depth--;
            p++;
        } else if (c == ',' && depth == 0) {
            return p;
        } else {
            p++;
        }
        if (depth == 0 && p < end && (*p == ',' || *p == '}'))
            return p;
    }
    return depth == 0 ? p : NULL;
}

const char *js_object(const char *p, const char *end, char **o, js_member_fn fn, void *arg)
{
    if (p >= end || *p != '{')
        return NULL;
    p = js_skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    while (p < end && *p == '"') {
        char *k = *o;
        p = js_string(p + 1, end, o);
        if (!p)
            return NULL;
        size_t klen = (size_t)(*o - k);
        p = js_skip_ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = js_skip_ws(p + 1, end);
        if (p >= end)
            return NULL;
        const char *v = p;
        size_t vlen;
        int is_string = *p == '"';
        if (is_string) {
            char *d = *o;
            p = js_string(p + 1, end, o);
            v = d;
            vlen = (size_t)(*o - d);
        } else {
            p = js_skip_value(p, end);
            vlen = p ? (size_t)(p - v) : 0;
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' ||
                                v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
                vlen--;
        }
        if (!p)
            return NULL;
        fn(arg, k, klen, v, vlen, is_string);
        p = js_skip_ws(p, end);
        if (p < end && *p == '}')
            return p + 1;
        if (p >= end || *p != ',')
            return NULL;
        p = js_skip_ws(p + 1, end);
    }
    return NULL;
}
