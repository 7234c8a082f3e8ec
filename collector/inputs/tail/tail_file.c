#include "collector/inputs/tail/tail_file.h"
#include "collector/pipeline/record.h"
#include "parsers/line_split.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ identity */

static uint64_t fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int tail_fingerprint(int fd, uint64_t *hash)
{
    char head[TAIL_FP_MAX];
    ssize_t n;
    do
        n = pread(fd, head, sizeof(head), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    *hash = fnv1a(head, (size_t)n);
    return (int)n;
}

int tail_fingerprint_matches(int fd, uint32_t fp_len, uint64_t fp_hash)
{
    char head[TAIL_FP_MAX];
    if (fp_len > TAIL_FP_MAX)
        return 0;
    ssize_t n;
    do
        n = pread(fd, head, fp_len, 0);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)fp_len && fnv1a(head, fp_len) == fp_hash;
}

void tail_file_refresh_fingerprint(struct tail_file *f)
{
    if (f->fd < 0 || f->fp_len >= TAIL_FP_MAX || f->size <= f->fp_len)
        return;
    uint64_t h;
    int n = tail_fingerprint(f->fd, &h);
    if (n > (int)f->fp_len) {
        f->fp_len = (uint32_t)n;
        f->fp_hash = h;
    }
}

/* --------------------------------------------------------- open, close */

struct tail_file *tail_file_new(const char *path)
{
    struct tail_file *f = xcalloc(1, sizeof(*f));
    f->path = xstrdup(path);
    f->first_path = xstrdup(path);
    f->fd = -1;
    ml_state_init(&f->ml);
    const char *base = strrchr(path, '/');
    const char *pairs[] = {"file_path", path, "file_name", base ? base + 1 : path};
    f->meta = meta_new(pairs, 2);
    return f;
}

void tail_file_free(struct tail_file *f)
{
    if (!f)
        return;
    tail_file_close(f);
    ml_state_free(&f->ml);
    meta_unref(f->meta);
    free(f->path);
    free(f->first_path);
    free(f);
}

int tail_open_regular(const char *path, struct stat *st)
{
    /* stat first: opening a FIFO, even non-blocking, would take a reader
     * slot from whoever uses it. */
    if (stat(path, st) < 0)
        return -1;
    if (!S_ISREG(st->st_mode)) {
        errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    /* O_NOATIME: reading a file that is being written would otherwise
     * update its atime (relatime) on every read, a journal write each. It
     * is only allowed to the owner (or CAP_FOWNER), hence the retry. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOATIME);
    if (fd < 0 && errno == EPERM)
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        int err = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
        close(fd);
        errno = err;
        return -1;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return fd;
}

int tail_file_reopen(struct tail_file *f)
{
    if (f->fd >= 0)
        return 0;
    if (!f->path) {
        errno = ENOENT;
        return -1;
    }
    struct stat st;
    int fd = tail_open_regular(f->path, &st);
    if (fd < 0)
        return -1;
    if ((uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino ||
        !tail_fingerprint_matches(fd, f->fp_len, f->fp_hash)) {
        close(fd);
        errno = ESTALE;
        return -1;
    }
    f->fd = fd;
    f->size = (uint64_t)st.st_size;
    return 0;
}

void tail_file_close(struct tail_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

int tail_file_truncated(struct tail_file *f)
{
    struct stat st;
    if (f->fd < 0 || fstat(f->fd, &st) < 0)
        return 0;
    f->size = (uint64_t)st.st_size;
    return (uint64_t)st.st_size < f->read_off;
}

void tail_file_restart(struct tail_file *f)
{
    f->epoch++;
    f->read_off = 0;
    f->ack_off = 0;
    f->skipping = 0;
    f->fp_len = 0;
    f->fp_hash = fnv1a("", 0);
    ml_discard(&f->ml);
    tail_file_refresh_fingerprint(f);
}

enum tail_path_state tail_file_check_path(const struct tail_file *f, struct stat *st)
{
    if (!f->path)
        return TAIL_PATH_GONE;
    if (stat(f->path, st) < 0)
        return errno == ENOENT || errno == ENOTDIR ? TAIL_PATH_GONE : TAIL_PATH_ERROR;
    if ((uint64_t)st->st_dev != f->dev || (uint64_t)st->st_ino != f->ino)
        return TAIL_PATH_REPLACED;
    return TAIL_PATH_SAME;
}

/* --------------------------------------------------------------- lines */

void tail_reader_init(struct tail_reader *r, size_t chunk, size_t max_line)
{
    memset(r, 0, sizeof(*r));
    r->max_line = max_line;
    /* A whole maximal line (and its newline) must fit in one read. */
    r->cap = chunk > max_line + 1 ? chunk : max_line + 1;
    r->buf = xmalloc(r->cap);
    r->marker = "";
    r->repair_utf8 = 1;
    buf_init(&r->scratch);
}

void tail_reader_free(struct tail_reader *r)
{
    free(r->buf);
    buf_free(&r->scratch);
    r->buf = NULL;
}

/* Give one line to the callback, repaired if needed and never longer than
 * max_line bytes (repair can grow a line: one bad byte becomes three). */
static void deliver(struct tail_reader *r, struct tail_file *f, const char *s, size_t len,
                    uint64_t end_off)
{
    len = line_strip_cr(s, len);
    if (r->repair_utf8 && !utf8_valid(s, len)) {
        r->invalid_utf8++;
        buf_reset(&r->scratch);
        utf8_sanitize(&r->scratch, s, len);
        size_t n = utf8_cut(r->scratch.data, r->scratch.len, r->max_line);
        r->line(r->arg, f, r->scratch.data, n, end_off);
        return;
    }
    r->line(r->arg, f, s, len, end_off);
}

/* A line longer than max_line: its first piece (the whole head, the rest
 * being dropped by the caller) with the marker, or in split mode one piece
 * of at most max_line bytes. Returns the bytes of s consumed. */
static size_t deliver_long(struct tail_reader *r, struct tail_file *f, const char *s, size_t len,
                           uint64_t start_off, uint64_t end_off)
{
    if (r->long_mode == TAIL_LONG_SPLIT) {
        size_t n = utf8_cut(s, len, r->max_line);
        deliver(r, f, s, n, n == len ? end_off : start_off + n);
        return n;
    }
    size_t room = r->marker_len < r->max_line ? r->max_line - r->marker_len : r->max_line;
    size_t n = utf8_cut(s, len, room);
    buf_reset(&r->scratch);
    if (r->repair_utf8 && !utf8_valid(s, n)) {
        r->invalid_utf8++;
        utf8_sanitize(&r->scratch, s, n);
        r->scratch.len = utf8_cut(r->scratch.data, r->scratch.len, room);
    } else {
        buf_append(&r->scratch, s, n);
    }
    if (r->marker_len < r->max_line)
        buf_append(&r->scratch, r->marker, r->marker_len);
    r->line(r->arg, f, r->scratch.data, r->scratch.len, end_off);
    return len;
}

enum tail_read_result tail_file_read_chunk(struct tail_reader *r, struct tail_file *f)
{
    ssize_t got;
    do
        got = pread(f->fd, r->buf, r->cap, (off_t)f->read_off);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return TAIL_READ_ERROR;
    if (got == 0) {
        f->at_eof = 1;
        return TAIL_READ_EOF;
    }
    size_t n = (size_t)got, pos = 0;
    const char *buf = r->buf;
    uint64_t base = f->read_off;
    if (base + n > f->size)
        f->size = base + n;

    if (f->skipping) {
        const char *nl = memchr(buf, '\n', n);
        if (!nl) {
            f->read_off += n;
            f->at_eof = n < r->cap;
            return f->at_eof ? TAIL_READ_EOF : TAIL_READ_MORE;
        }
        pos = (size_t)(nl - buf) + 1;
        f->skipping = 0;
    }

    while (pos < n) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', n - pos);
        if (!nl)
            break;
        size_t len = (size_t)(nl - line);
        uint64_t end = base + (uint64_t)(nl - buf) + 1;
        if (len <= r->max_line) {
            deliver(r, f, line, len, end);
        } else {
            r->long_lines++;
            size_t done = 0;
            while (done < len)
                done += deliver_long(r, f, line + done, len - done, base + pos + done, end);
        }
        pos = (size_t)(nl - buf) + 1;
        /* The callback may have closed the file (pipeline stop); bail out. */
        if (f->fd < 0)
            break;
    }

    /* No newline within max_line bytes: the line is too long to wait for. */
    if (n - pos > r->max_line) {
        r->long_lines++;
        if (r->long_mode == TAIL_LONG_SPLIT) {
            while (n - pos > r->max_line)
                pos += deliver_long(r, f, buf + pos, n - pos, base + pos, 0);
        } else {
            uint64_t after = base + n;
            deliver_long(r, f, buf + pos, n - pos, base + pos, after);
            pos = n;
            f->skipping = 1;
        }
    }
    f->read_off = base + pos;
    f->at_eof = n < r->cap;
    return f->at_eof ? TAIL_READ_EOF : TAIL_READ_MORE;
}

void tail_file_flush_partial(struct tail_reader *r, struct tail_file *f)
{
    if (f->fd < 0 || f->skipping)
        return;
    ssize_t got;
    do
        got = pread(f->fd, r->buf, r->cap, (off_t)f->read_off);
    while (got < 0 && errno == EINTR);
    if (got <= 0)
        return;
    size_t n = (size_t)got;
    if (memchr(r->buf, '\n', n))
        return; /* complete lines remain: read them first */
    size_t len = n > r->max_line ? r->max_line : n;
    uint64_t end = f->read_off + n;
    deliver(r, f, r->buf, utf8_cut(r->buf, n, len), end);
    f->read_off = end;
}

/* --------------------------------------------------------------- table */

static uint32_t ino_hash(uint64_t dev, uint64_t ino)
{
    uint64_t h = (dev * 0x9E3779B97F4A7C15ULL) ^ (ino * 0xC2B2AE3D27D4EB4FULL);
    return (uint32_t)(h ^ (h >> 29));
}

static uint32_t path_hash(const char *p)
{
    uint64_t h = fnv1a(p, strlen(p));
    return (uint32_t)(h ^ (h >> 32));
}

void tail_table_init(struct tail_table *t)
{
    memset(t, 0, sizeof(*t));
    t->nbuckets = 64;
    t->by_ino = xcalloc(t->nbuckets, sizeof(*t->by_ino));
    t->by_path = xcalloc(t->nbuckets, sizeof(*t->by_path));
}

void tail_table_free(struct tail_table *t)
{
    for (uint32_t i = 0; i < t->nslots; i++)
        tail_file_free(t->slots[i]);
    free(t->slots);
    free(t->gens);
    free(t->free_slots);
    free(t->by_ino);
    free(t->by_path);
    memset(t, 0, sizeof(*t));
}

static void link_ino(struct tail_table *t, struct tail_file *f)
{
    uint32_t b = ino_hash(f->dev, f->ino) & (t->nbuckets - 1);
    f->ino_next = t->by_ino[b];
    t->by_ino[b] = f;
}

static void link_path(struct tail_table *t, struct tail_file *f)
{
    uint32_t b = path_hash(f->path) & (t->nbuckets - 1);
    f->path_next = t->by_path[b];
    t->by_path[b] = f;
}

static void unlink_chain(struct tail_file **head, struct tail_file *f, int path)
{
    for (struct tail_file **pp = head; *pp; pp = path ? &(*pp)->path_next : &(*pp)->ino_next) {
        if (*pp == f) {
            *pp = path ? f->path_next : f->ino_next;
            return;
        }
    }
}

static void grow_buckets(struct tail_table *t)
{
    free(t->by_ino);
    free(t->by_path);
    t->nbuckets *= 2;
    t->by_ino = xcalloc(t->nbuckets, sizeof(*t->by_ino));
    t->by_path = xcalloc(t->nbuckets, sizeof(*t->by_path));
    for (uint32_t i = 0; i < t->nslots; i++) {
        struct tail_file *f = t->slots[i];
        if (!f)
            continue;
        link_ino(t, f);
        if (f->path)
            link_path(t, f);
    }
}

void tail_table_add(struct tail_table *t, struct tail_file *f)
{
    uint32_t slot;
    if (t->nfree > 0) {
        slot = t->free_slots[--t->nfree];
    } else {
        slot = t->nslots++;
        t->slots = xrealloc(t->slots, sizeof(*t->slots) * t->nslots);
        t->gens = xrealloc(t->gens, sizeof(*t->gens) * t->nslots);
        t->gens[slot] = 0;
    }
    t->slots[slot] = f;
    t->gens[slot] = (t->gens[slot] + 1) & 0xFFFF;
    f->cookie = slot | (uint64_t)t->gens[slot] << 32;
    t->count++;
    if (t->count > t->nbuckets)
        grow_buckets(t);
    else {
        link_ino(t, f);
        if (f->path)
            link_path(t, f);
    }
}

void tail_table_remove(struct tail_table *t, struct tail_file *f)
{
    uint32_t slot = (uint32_t)f->cookie;
    if (slot >= t->nslots || t->slots[slot] != f)
        return;
    unlink_chain(&t->by_ino[ino_hash(f->dev, f->ino) & (t->nbuckets - 1)], f, 0);
    if (f->path)
        unlink_chain(&t->by_path[path_hash(f->path) & (t->nbuckets - 1)], f, 1);
    t->slots[slot] = NULL;
    t->free_slots = xrealloc(t->free_slots, sizeof(*t->free_slots) * (t->nfree + 1));
    t->free_slots[t->nfree++] = slot;
    t->count--;
}

struct tail_file *tail_table_by_cookie(struct tail_table *t, uint64_t cookie)
{
    uint32_t slot = (uint32_t)cookie;
    uint32_t gen = (uint32_t)(cookie >> 32) & 0xFFFF;
    if (slot >= t->nslots || !t->slots[slot] || t->gens[slot] != gen)
        return NULL;
    return t->slots[slot];
}

struct tail_file *tail_table_by_inode(struct tail_table *t, uint64_t dev, uint64_t ino)
{
    for (struct tail_file *f = t->by_ino[ino_hash(dev, ino) & (t->nbuckets - 1)]; f; f = f->ino_next)
        if (f->dev == dev && f->ino == ino)
            return f;
    return NULL;
}

struct tail_file *tail_table_by_path(struct tail_table *t, const char *path)
{
    for (struct tail_file *f = t->by_path[path_hash(path) & (t->nbuckets - 1)]; f; f = f->path_next)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

void tail_table_set_path(struct tail_table *t, struct tail_file *f, const char *path)
{
    int in_table = tail_table_by_cookie(t, f->cookie) == f;
    if (f->path && in_table)
        unlink_chain(&t->by_path[path_hash(f->path) & (t->nbuckets - 1)], f, 1);
    free(f->path);
    f->path = path ? xstrdup(path) : NULL;
    if (f->path && in_table)
        link_path(t, f);
}
