/* CRI log lines (parsers/cri.c) and the format detection of a first line. */
#include "fuzz_util.h"
#include "parsers/cri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cri_line out;
    if (cri_parse((const char *)data, size, &out) == 0) {
        if (out.msg_len && (out.msg < (const char *)data || out.msg + out.msg_len > (const char *)data + size))
            abort(); /* the message must point into the line */
    }
    (void)log_format_detect((const char *)data, size);
    return 0;
}
