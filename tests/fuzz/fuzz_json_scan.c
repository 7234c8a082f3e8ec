/* The JSON scanner (parsers/json_scan.c): an object walk with a member
 * callback, a value skip and a string decode over the same bytes, each
 * called as its callers do (at a '{', at a value, after a '"'). */
#include "fuzz_util.h"
#include "parsers/json_scan.h"

static void member(void *arg, const char *key, size_t key_len, const char *value,
                   size_t value_len, int is_string)
{
    fuzz_touch(key, key_len);
    fuzz_touch(value, value_len);
    (void)arg;
    (void)is_string;
}

static void check_end(const char *q, const char *p, const char *end)
{
    if (q && (q < p || q > end))
        abort(); /* a returned position lies inside the input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the input in its own allocation, so ASan sees a read past its end */
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    const char *end = copy + size;
    const char *p = js_skip_ws(copy, end);
    /* decoded strings are never longer than their escaped form */
    char *scratch = malloc(size + 1);
    if (p < end && *p == '{') {
        char *o = scratch;
        check_end(js_object(p, end, &o, member, NULL), p, end);
        if (o > scratch + size)
            abort();
    }
    if (p < end)
        check_end(js_skip_value(p, end), p, end);
    if (p < end && *p == '"') {
        char *o = scratch;
        check_end(js_string(p + 1, end, &o), p, end);
        if (o > scratch + size)
            abort();
    }
    free(scratch);
    free(copy);
    return 0;
}
