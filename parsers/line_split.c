#include "parsers/line_split.h"
#include "collector/core/util.h"

#include <stdint.h>
#include <string.h>

int utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

void utf8_sanitize(struct buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    buf_reserve(out, len + 16);
    size_t run = 0, i = 0;
    while (i < len) {
        size_t n = utf8_seq_len(p + i, len - i);
        if (n > 0) {
            i += n;
            continue;
        }
        buf_append(out, p + run, i - run);
        buf_append(out, "\xEF\xBF\xBD", 3);
        i++;
        run = i;
    }
    buf_append(out, p + run, len - run);
}

size_t line_strip_cr(const char *s, size_t len)
{
    return len > 0 && s[len - 1] == '\r' ? len - 1 : len;
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (max >= len)
        return len;
    const unsigned char *p = (const unsigned char *)s;
    /* Step back over at most three continuation bytes to a lead byte. */
    size_t n = max;
    for (int k = 0; k < 3 && n > 0 && (p[n] & 0xC0) == 0x80; k++)
        n--;
    if (n > 0 && (p[n] & 0xC0) == 0x80)
        return max; /* not UTF-8 anyway */
    return n == 0 ? max : n;
}
