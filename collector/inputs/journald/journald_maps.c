/* Letting go of sd-journal's mapped pages: see journald_maps.h. */
#include "collector/inputs/journald/journald_maps.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

int jd_maps_journal_range(const char *line, uintptr_t *start, uintptr_t *end)
{
    /* start-end perms offset dev inode   path */
    uintmax_t a, b;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%jx-%jx %7s %*s %*s %*s %n", &a, &b, perms, &path_at) < 3 || path_at == 0)
        return 0;
    /* only shared read-only mappings: giving up pages of a private one that
     * was written would lose what was written */
    if (perms[1] == 'w' || perms[3] != 's')
        return 0;
    const char *path = line + path_at;
    size_t len = strcspn(path, "\n");
    if (ends_with(path, len, " (deleted)"))
        len -= strlen(" (deleted)"); /* a file vacuumed while still mapped */
    if (len == 0 || path[0] != '/' || b <= a)
        return 0;
    if (!ends_with(path, len, ".journal") && !ends_with(path, len, ".journal~"))
        return 0;
    *start = (uintptr_t)a;
    *end = (uintptr_t)b;
    return 1;
}

long long jd_maps_release(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    char line[4352];
    long long released = 0;
    while (fgets(line, sizeof line, f)) {
        uintptr_t start, end;
        if (jd_maps_journal_range(line, &start, &end) &&
            madvise((void *)start, end - start, MADV_DONTNEED) == 0)
            released += (long long)(end - start);
    }
    fclose(f);
    return released;
}
