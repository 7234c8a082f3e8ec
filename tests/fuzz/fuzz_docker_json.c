/* Docker json-file lines (parsers/docker_json.c): dj_parse into a scratch
 * buffer, and the RFC 3339 parser on its own. */
#include "fuzz_util.h"
#include "parsers/docker_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf scratch;
    buf_init(&scratch);
    struct dj_line out;
    if (dj_parse((const char *)data, size, &scratch, &out) == 0) {
        fuzz_touch(out.msg, out.msg_len);
        for (int i = 0; i < out.nattrs; i++) {
            fuzz_touch(out.attrs[i].key, out.attrs[i].key_len);
            fuzz_touch(out.attrs[i].value, out.attrs[i].value_len);
        }
        (void)log_stream_name(out.stream);
    }
    buf_free(&scratch);
    int64_t ns;
    (void)rfc3339_ns((const char *)data, size, &ns);
    return 0;
}
