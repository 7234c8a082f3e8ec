/* The bundle's redaction (collector/bundle/redact.c): every mode over the
 * same text, and the property the redact check relies on: a second pass
 * over redacted text finds nothing. */
#include "fuzz_util.h"
#include "collector/bundle/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    for (int mode = REDACT_TEXT; mode <= REDACT_INSPECT; mode++) {
        struct buf out, again;
        buf_init(&out);
        buf_init(&again);
        struct redact_stats st = {0}, st2 = {0};
        redact_by_mode((enum redact_mode)mode, text, size, &out, &st);
        if (mode == REDACT_TEXT) {
            redact_text(out.data ? out.data : "", out.len, &again, &st2);
            if (redact_total(&st2) != 0)
                abort(); /* redacted text must pass the redact check */
        }
        buf_free(&out);
        buf_free(&again);
    }
    struct buf cut;
    buf_init(&cut);
    struct redact_stats st = {0};
    redact_cut_text(text, size, &cut, &st);
    buf_free(&cut);
    free(text);
    return 0;
}
