/* Structured messages (parsers/fields.c): the same bytes as JSON and as
 * logfmt. */
#include "fuzz_util.h"
#include "parsers/fields.h"

static void run(enum fields_format fmt, const char *msg, size_t len)
{
    struct buf scratch;
    buf_init(&scratch);
    struct fields_result out;
    if (fields_parse(fmt, msg, len, &scratch, &out) == 0) {
        if (out.n < 0 || out.n > FIELDS_MAX)
            abort();
        for (int i = 0; i < out.n; i++) {
            fuzz_touch(out.fields[i].key, out.fields[i].key_len);
            fuzz_touch(out.fields[i].value, out.fields[i].value_len);
        }
    }
    buf_free(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    run(FIELDS_JSON, copy, size);
    run(FIELDS_LOGFMT, copy, size);
    free(copy);
    return 0;
}
