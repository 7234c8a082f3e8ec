/* A temporary directory for a unit test's files: made once in the group
 * setup, removed with everything in it in the group teardown (nftw, no
 * shell). Shared by the unit tests that touch the file system. */
#ifndef TESTS_UNIT_TEMP_DIR_H
#define TESTS_UNIT_TEMP_DIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int temp_dir_remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Makes /tmp/<name>.XXXXXX into `dir` (at least 64 bytes); 0 or -1. */
static inline int temp_dir_make(char *dir, size_t size, const char *name)
{
    if ((size_t)snprintf(dir, size, "/tmp/%s.XXXXXX", name) >= size)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes `dir` and all under it, without following links; 0 or -1. */
static inline int temp_dir_remove(const char *dir)
{
    return nftw(dir, temp_dir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
