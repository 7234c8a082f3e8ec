/* Rejoining partial lines (parsers/partial_join.c): the input is a series of
 * pieces, each "<flag byte><piece>\n"; flag's low bit says partial, the
 * next bits pick a small cap so the truncation path runs too. */
#include "fuzz_util.h"
#include "parsers/partial_join.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pj_state st;
    pj_init(&st);
    size_t cap = size ? 1 + (data[0] % 64) * 16 : 16;
    int64_t t = 1;
    while (size > 0) {
        uint8_t flag = data[0];
        data++;
        size--;
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) : size;
        const char *out;
        size_t out_len;
        int64_t out_ns;
        int trunc;
        if (pj_feed(&st, cap, (const char *)data, n, flag & 1, t++, &out, &out_len, &out_ns,
                    &trunc) == 1) {
            if (out_len > cap && trunc)
                abort(); /* a truncated line is at most cap bytes */
            fuzz_touch(out, out_len);
        }
        data += nl ? n + 1 : n;
        size -= nl ? n + 1 : n;
    }
    const char *out;
    size_t out_len;
    int64_t out_ns;
    (void)pj_flush(&st, &out, &out_len, &out_ns);
    pj_free(&st);
    return 0;
}
