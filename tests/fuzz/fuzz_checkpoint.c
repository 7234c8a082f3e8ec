/* Checkpoint stores (collector/inputs/checkpoint.c), through the public
 * ckpt_load on a file holding the input: what a damaged or hostile store on
 * disk does. A store found corrupt is moved aside (<path>.corrupt); both are
 * removed after each run. */
#include "fuzz_util.h"
#include "collector/inputs/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128], aside[160];
    snprintf(path, sizeof path, "%s/tail.ckpt", fuzz_tmpdir());
    snprintf(aside, sizeof aside, "%s.corrupt", path);
    if (fuzz_write_file(path, data, size) < 0)
        abort();
    struct ckpt_store s;
    if (ckpt_load(&s, path) == 0) {
        for (int i = 0; i < s.count; i++) {
            if (ckpt_find(&s, s.entries[i].dev, s.entries[i].ino) == NULL)
                abort(); /* every loaded entry can be found */
        }
        ckpt_free(&s);
    }
    unlink(path);
    unlink(aside);
    return 0;
}
