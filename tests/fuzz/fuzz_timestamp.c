/* Timestamps (parsers/timestamp.c): the first line is the format (checked
 * first, as the configuration does), the rest the text parsed with it. */
#include "fuzz_util.h"
#include "parsers/timestamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *fmt = fuzz_take_line(&data, &size);
    char bad;
    if (ts_format_check(fmt, &bad) == 0) {
        char *text = malloc(size ? size : 1);
        memcpy(text, data, size);
        int64_t ns = 0;
        size_t used = 0;
        int rc = ts_parse(fmt, text, size, 1700000000000000000LL, 3600, &ns, &used);
        if (rc == 0 && used > size)
            abort(); /* consumed more than it was given */
        struct ts_state st = {0};
        (void)ts_resolve(&st, rc == 0, ns, 1700000000000000000LL);
        free(text);
    }
    free(fmt);
    return 0;
}
