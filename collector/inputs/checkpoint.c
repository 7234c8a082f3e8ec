#include "collector/inputs/checkpoint.h"
#include "collector/core/log.h"
#include "collector/core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER "collector-checkpoint 1"

static int cmp_entry(const void *a, const void *b)
{
    const struct ckpt_entry *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return 0;
}

static void free_entries(struct ckpt_entry *e, int n)
{
    for (int i = 0; i < n; i++)
        free(e[i].path);
    free(e);
}

/* Parse the whole text; -1 on any malformed line. */
static int parse(struct ckpt_store *s, char *text)
{
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    if (!line || strcmp(line, HEADER) != 0)
        return -1;
    int cap = 0, ended = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        if (ended)
            return -1;
        long long n;
        if (sscanf(line, "end %lld", &n) == 1) {
            if (n != s->count)
                return -1;
            ended = 1;
            continue;
        }
        struct ckpt_entry e = {0};
        int used = 0;
        if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu32 " %" SCNx64 " %" SCNu64 " %n", &e.dev,
                   &e.ino, &e.fp_len, &e.fp_hash, &e.offset, &used) != 5 || used == 0)
            return -1;
        e.path = xstrdup(line + used);
        if (s->count == cap) {
            cap = cap ? cap * 2 : 64;
            s->entries = xrealloc(s->entries, sizeof(*s->entries) * (size_t)cap);
        }
        s->entries[s->count++] = e;
    }
    return ended ? 0 : -1;
}

/* The store is the agent's own file: a link or a FIFO put in its place is
 * refused (ELOOP / EINVAL) without following it or blocking on it. */
static char *read_all(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_append(&b, chunk, (size_t)n);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err) {
        buf_free(&b);
        errno = err;
        return NULL;
    }
    *len = b.len;
    if (!b.data)
        buf_append(&b, "", 0);
    return b.data;
}

int ckpt_load(struct ckpt_store *s, const char *path)
{
    memset(s, 0, sizeof(*s));
    s->path = xstrdup(path);
    char *dir = xstrdup(path);
    int rc = mkdir_p(dirname(dir));
    free(dir);
    if (rc < 0)
        return -1;

    size_t len = 0;
    char *text = read_all(path, &len);
    if (!text) {
        if (errno == EINVAL || errno == ELOOP)
            log_msg(LOG_WARN, "tail",
                    "checkpoint %s is not a regular file (a link, FIFO or device); not read, "
                    "starting without it",
                    path);
        else if (errno != ENOENT)
            log_msg(LOG_WARN, "tail", "cannot read checkpoint %s: %s; starting without it", path,
                    strerror(errno));
        return 0;
    }
    s->existed = 1;
    if (memchr(text, '\0', len) || parse(s, text) < 0) {
        char *aside = xasprintf("%s.corrupt", path);
        rename(path, aside);
        log_msg(LOG_WARN, "tail",
                "checkpoint %s is corrupt; moved aside to %s, files are treated as newly discovered",
                path, aside);
        free(aside);
        free_entries(s->entries, s->count);
        s->entries = NULL;
        s->count = 0;
    }
    free(text);
    if (s->count > 1)
        qsort(s->entries, (size_t)s->count, sizeof(*s->entries), cmp_entry);
    return 0;
}

void ckpt_free(struct ckpt_store *s)
{
    free_entries(s->entries, s->count);
    free(s->path);
    memset(s, 0, sizeof(*s));
}

struct ckpt_entry *ckpt_find(struct ckpt_store *s, uint64_t dev, uint64_t ino)
{
    struct ckpt_entry key = {.dev = dev, .ino = ino};
    if (s->count == 0)
        return NULL;
    return bsearch(&key, s->entries, (size_t)s->count, sizeof(key), cmp_entry);
}

static int fsync_dir(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ckpt_write(const char *path, const struct ckpt_entry *entries, int count)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s\n", HEADER);
    for (int i = 0; i < count; i++) {
        const struct ckpt_entry *e = &entries[i];
        buf_printf(&b, "%" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIx64 " %" PRIu64 " ", e->dev, e->ino,
                   e->fp_len, e->fp_hash, e->offset);
        size_t start = b.len;
        buf_append_str(&b, e->path ? e->path : "-");
        for (size_t k = start; k < b.len; k++)
            if (b.data[k] == '\n')
                b.data[k] = '?';
        buf_append_char(&b, '\n');
    }
    buf_printf(&b, "end %d\n", count);

    char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
        errno = EINVAL;
    }
    int rc = -1, err = 0;
    if (fd >= 0) {
        if (write_all(fd, b.data, b.len) == 0 && fsync(fd) == 0)
            rc = 0;
        err = errno;
        close(fd);
        if (rc == 0 && rename(tmp, path) < 0) {
            err = errno;
            rc = -1;
        }
        if (rc == 0)
            (void)fsync_dir(path);
        else
            unlink(tmp);
    } else {
        err = errno;
    }
    free(tmp);
    buf_free(&b);
    errno = err;
    return rc;
}

void ckpt_add(struct ckpt_store *s, const struct ckpt_entry *e)
{
    struct ckpt_entry *old = ckpt_find(s, e->dev, e->ino);
    if (old) {
        free(old->path);
        *old = *e;
        return;
    }
    s->entries = xrealloc(s->entries, sizeof(*s->entries) * (size_t)(s->count + 1));
    s->entries[s->count++] = *e;
    qsort(s->entries, (size_t)s->count, sizeof(*s->entries), cmp_entry);
}
