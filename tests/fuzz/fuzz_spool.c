/* Spool chunks (collector/pipeline/spool.c), through the public API only:
 * the input is written as the one chunk of a buffer directory, which
 * spool_open lists (header checks) and spool_read decodes (checksums,
 * decompression, body). Kept small on purpose: the chunk format changes,
 * this target does not need to. A chunk found damaged is moved to the
 * corrupt directory; both directories are emptied after each run. */
#include "fuzz_util.h"
#include "collector/core/util.h"
#include "collector/pipeline/spool.h"

#include <dirent.h>

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char path[512];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[128], corrupt[128], path[256];
    snprintf(dir, sizeof dir, "%s/spool", fuzz_tmpdir());
    snprintf(corrupt, sizeof corrupt, "%s/corrupt", fuzz_tmpdir());
    mkdir_p(dir);
    snprintf(path, sizeof path, "%s/0000000000000001.chunk", dir);
    if (fuzz_write_file(path, data, size) < 0)
        abort();
    struct spool_entry *entries = NULL;
    int n = 0;
    struct spool *s = spool_open(dir, corrupt, SPOOL_SYNC_OFF, &entries, &n);
    if (!s)
        abort();
    for (int i = 0; i < n; i++) {
        int bad = 0;
        struct batch *b = spool_read(s, entries[i].id, &bad);
        if (b)
            batch_free(b);
    }
    spool_entries_free(entries, n);
    spool_close(s);
    empty_dir(dir);
    empty_dir(corrupt);
    return 0;
}
