#include "collector/bundle/archive.h"

#include "collector/core/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_file(struct archive *a, const char *full, const char *name, const struct stat *st,
                    char *err, size_t errlen)
{
    struct archive_entry *e = archive_entry_new();
    if (!e) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    archive_entry_set_pathname(e, name);
    archive_entry_set_mtime(e, st->st_mtime, 0);
    archive_entry_set_uname(e, "root");
    archive_entry_set_gname(e, "root");
    if (S_ISDIR(st->st_mode)) {
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_size(e, 0);
    } else {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, st->st_size);
    }
    int rc = 0;
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        snprintf(err, errlen, "%s: %s", name, archive_error_string(a));
        rc = -1;
    } else if (S_ISREG(st->st_mode)) {
        int fd = open(full, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "%s: %s", full, strerror(errno));
            rc = -1;
        } else {
            char chunk[65536];
            ssize_t n;
            int64_t left = st->st_size;
            while (left > 0 && (n = read(fd, chunk, sizeof chunk)) > 0) {
                if (n > left)
                    n = (ssize_t)left;
                if (archive_write_data(a, chunk, (size_t)n) < 0) {
                    snprintf(err, errlen, "%s: %s", name, archive_error_string(a));
                    rc = -1;
                    break;
                }
                left -= n;
            }
            close(fd);
        }
    }
    archive_entry_free(e);
    return rc;
}

static int add_tree(struct archive *a, const char *full, const char *name, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(full, &st) < 0)
        return 0;
    if (add_file(a, full, name, &st, err, errlen) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return 0;
    DIR *d = opendir(full);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            char *cf = xasprintf("%s/%s", full, names[i]);
            char *cn = xasprintf("%s/%s", name, names[i]);
            rc = add_tree(a, cf, cn, err, errlen);
            free(cf);
            free(cn);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int archive_tree(const char *top_dir, int fd, char *err, size_t errlen)
{
    struct archive *a = archive_write_new();
    if (!a) {
        snprintf(err, errlen, "libarchive could not be loaded (the agent's log says why)");
        return -1;
    }
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a); /* ustar headers, pax only when needed */
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        snprintf(err, errlen, "%s", archive_error_string(a));
        archive_write_free(a);
        return -1;
    }
    char *full = xasprintf("%s/collect", top_dir);
    int rc = add_tree(a, full, "collect", err, errlen);
    free(full);
    if (archive_write_close(a) != ARCHIVE_OK && rc == 0) {
        snprintf(err, errlen, "%s", archive_error_string(a));
        rc = -1;
    }
    archive_write_free(a);
    return rc;
}
