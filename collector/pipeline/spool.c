#include "collector/pipeline/spool.h"
#include "collector/pipeline/pipeline_internal.h"
#include "collector/core/log.h"
#include "collector/core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "collector/core/gzip.h"

#define CHUNK_MAGIC "CLCHUNK2"
#define CHUNK_MAGIC_V3 "CLCHUNK3" /* the output's encoded body (encode once) */
#define CHUNK_MAGIC_V1 "CLCHUNK1" /* zlib bodies (releases up to 0.x): still read */
#define HEADER_MAX (64 + 65536)   /* the fixed fields and the longest key */
#define NO_INDEX UINT32_MAX
#define SPOOL_SPARES 4   /* delivered chunks kept to be written over (open_spare) */
#define MAX_BODY (256u << 20) /* refuse absurd sizes from a damaged header */

struct spool {
    char *dir;
    char *corrupt_dir;
    enum spool_sync sync;
    int dir_fd;
    pthread_mutex_t lock;    /* counters and ids: written on the loop, read by senders */
    uint64_t next_id;
    uint64_t bytes;
    uint64_t count;
    int64_t last_sync_ms;
    /* buffer.sync = interval: syncfs runs on this thread, at most once a
     * second when chunks were written, never on the loop: it waits for every
     * dirty page of the filesystem (other processes' too), which on a busy
     * host can take seconds. */
    pthread_t syncer;
    pthread_cond_t sync_cond;
    int syncer_running, sync_wanted, syncer_stop;
    struct buf raw, head;    /* reused by spool_write (loop thread only) */
    /* Delivered chunks kept as <id>.spare to be written over (spool.h);
     * loop thread only, like spool_write and spool_remove */
    uint64_t spare_ids[SPOOL_SPARES];
    int nspare;
};

/* ------------------------------------------------------------ encoding */

static void put_u32(struct buf *b, uint32_t v) { buf_append(b, &v, 4); }
static void put_u64(struct buf *b, uint64_t v) { buf_append(b, &v, 8); }

static void put_str(struct buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    put_u32(b, n);
    buf_append(b, s, n);
}

/* Index of p in the table, adding it if new (tables are tiny: a batch has
 * one tag and one meta per source, usually one of each). */
static uint32_t table_index(const void ***table, uint32_t *n, const void *p)
{
    if (!p)
        return NO_INDEX;
    for (uint32_t i = *n; i-- > 0;)
        if ((*table)[i] == p)
            return i;
    *table = xrealloc(*table, sizeof **table * (*n + 1));
    (*table)[*n] = p;
    return (*n)++;
}

static void encode_body(struct buf *out, const struct batch *b)
{
    const void **tags = NULL, **metas = NULL;
    uint32_t ntags = 0, nmetas = 0;
    uint32_t *idx = xmalloc(sizeof(uint32_t) * 2 * (b->count + 1));
    for (uint32_t i = 0; i < b->count; i++) {
        const struct tag *t = b->kind == BATCH_LOGS ? b->logs[i].tag : b->metrics[i].tag;
        const struct meta *m = b->kind == BATCH_LOGS ? b->logs[i].meta : b->metrics[i].meta;
        idx[2 * i] = table_index(&tags, &ntags, t);
        idx[2 * i + 1] = table_index(&metas, &nmetas, m);
    }
    put_u32(out, ntags);
    for (uint32_t i = 0; i < ntags; i++)
        put_str(out, ((const struct tag *)tags[i])->name);
    put_u32(out, nmetas);
    for (uint32_t i = 0; i < nmetas; i++) {
        const struct meta *m = metas[i];
        put_u32(out, (uint32_t)m->count);
        for (int k = 0; k < m->count; k++) {
            put_str(out, m->kv[k].key);
            put_str(out, m->kv[k].value);
        }
    }
    for (uint32_t i = 0; i < b->count; i++) {
        if (b->kind == BATCH_LOGS) {
            const struct log_record *r = &b->logs[i];
            put_u64(out, (uint64_t)r->timestamp_ns);
            put_u32(out, r->message_off);
            put_u32(out, r->message_len);
            put_u32(out, r->fields_off);
            put_u32(out, r->nfields);
        } else {
            const struct metric_record *r = &b->metrics[i];
            uint64_t bits;
            memcpy(&bits, &r->value, 8);
            put_u64(out, (uint64_t)r->timestamp_ms);
            put_u64(out, bits);
            put_u32(out, r->name_off);
            put_u32(out, r->unit_off);
            put_u32(out, r->dims_off);
            put_u32(out, r->ndims);
        }
        put_u32(out, idx[2 * i]);
        put_u32(out, idx[2 * i + 1]);
    }
    put_u32(out, (uint32_t)b->arena_len);
    buf_append(out, b->arena, b->arena_len);
    free(idx);
    free(tags);
    free(metas);
}

/* A bounds-checked reader over a decoded body. */
struct reader {
    const char *p, *end;
    int bad;
};

static uint32_t get_u32(struct reader *r)
{
    uint32_t v = 0;
    if (r->end - r->p < 4) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, 4);
    r->p += 4;
    return v;
}

static uint64_t get_u64(struct reader *r)
{
    uint64_t v = 0;
    if (r->end - r->p < 8) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, 8);
    r->p += 8;
    return v;
}

static char *get_str(struct reader *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || (uint64_t)(r->end - r->p) < n) {
        r->bad = 1;
        return NULL;
    }
    char *s = xstrndup(r->p, n);
    r->p += n;
    return s;
}

/* own: if it points to the malloc'ed block holding data, the arena is moved
 * to its start and the block becomes the batch's (*own is then NULL): a
 * chunk read back costs one buffer, not two. */
static struct batch *decode_body(const char *data, size_t len, enum batch_kind kind, uint32_t count,
                                 uint64_t payload_bytes, char **own)
{
    struct reader r = {data, data + len, 0};
    uint32_t ntags = get_u32(&r);
    if (ntags > count + 1)
        return NULL;
    const struct tag **tags = xcalloc(ntags + 1, sizeof *tags);
    for (uint32_t i = 0; i < ntags && !r.bad; i++) {
        char *name = get_str(&r);
        if (name)
            tags[i] = tag_intern(name);
        free(name);
    }
    uint32_t nmetas = get_u32(&r);
    if (nmetas > count + 1)
        r.bad = 1;
    struct meta **metas = xcalloc(r.bad ? 1 : nmetas + 1, sizeof *metas);
    for (uint32_t i = 0; i < nmetas && !r.bad; i++) {
        uint32_t nkv = get_u32(&r);
        if (nkv > 4096) {
            r.bad = 1;
            break;
        }
        char **pairs = xcalloc(2 * nkv + 1, sizeof *pairs);
        for (uint32_t k = 0; k < 2 * nkv && !r.bad; k++)
            pairs[k] = get_str(&r);
        if (!r.bad)
            metas[i] = meta_new((const char *const *)pairs, (int)nkv);
        for (uint32_t k = 0; k < 2 * nkv; k++)
            free(pairs[k]);
        free(pairs);
    }

    struct batch *b = batch_new(kind);
    b->cap = count ? count : 1;
    if (kind == BATCH_LOGS)
        b->logs = xcalloc(b->cap, sizeof *b->logs);
    else
        b->metrics = xcalloc(b->cap, sizeof *b->metrics);
    for (uint32_t i = 0; i < count && !r.bad; i++) {
        uint32_t ti, mi;
        if (kind == BATCH_LOGS) {
            struct log_record *rec = &b->logs[i];
            rec->timestamp_ns = (int64_t)get_u64(&r);
            rec->message_off = get_u32(&r);
            rec->message_len = get_u32(&r);
            rec->fields_off = get_u32(&r);
            rec->nfields = (uint16_t)get_u32(&r);
            ti = get_u32(&r);
            mi = get_u32(&r);
            rec->tag = ti < ntags ? tags[ti] : NULL;
            rec->meta = (mi < nmetas && !r.bad)
                            ? batch_hold_meta(i ? b->logs[i - 1].meta : NULL, metas[mi])
                            : NULL;
        } else {
            struct metric_record *rec = &b->metrics[i];
            rec->timestamp_ms = (int64_t)get_u64(&r);
            uint64_t bits = get_u64(&r);
            memcpy(&rec->value, &bits, 8);
            rec->name_off = get_u32(&r);
            rec->unit_off = get_u32(&r);
            rec->dims_off = get_u32(&r);
            rec->ndims = (uint16_t)get_u32(&r);
            ti = get_u32(&r);
            mi = get_u32(&r);
            rec->tag = ti < ntags ? tags[ti] : NULL;
            rec->meta = (mi < nmetas && !r.bad)
                            ? batch_hold_meta(i ? b->metrics[i - 1].meta : NULL, metas[mi])
                            : NULL;
        }
        if (ti >= ntags)
            r.bad = 1;
        b->count = i + 1;
    }
    uint32_t arena_len = get_u32(&r);
    if (!r.bad && (uint64_t)(r.end - r.p) == arena_len) {
        if (own && *own) {
            memmove(*own, r.p, arena_len);
            b->arena = xrealloc(*own, arena_len + 1);
            *own = NULL;
        } else {
            b->arena = xmalloc(arena_len + 1);
            memcpy(b->arena, r.p, arena_len);
        }
        b->arena_len = b->arena_cap = arena_len;
    } else {
        r.bad = 1;
    }
    /* Every offset must point inside the arena. */
    for (uint32_t i = 0; i < b->count && !r.bad; i++) {
        uint64_t end = kind == BATCH_LOGS
                           ? (uint64_t)b->logs[i].message_off + b->logs[i].message_len
                           : (uint64_t)b->metrics[i].unit_off;
        if (end > arena_len)
            r.bad = 1;
    }
    for (uint32_t i = 0; i < nmetas; i++)
        meta_unref(metas[i]);
    free(metas);
    free(tags);
    if (r.bad || b->count != count) {
        batch_free(b);
        return NULL;
    }
    b->payload_bytes = payload_bytes;
    return b;
}

/* ------------------------------------------------------------ files */

struct chunk_header {
    uint32_t kind, count;
    uint64_t payload_bytes;
    int64_t created_ms;
    uint32_t key_len;
    char *key;
    uint32_t raw_len, packed_len;
    uint32_t flags;      /* 0 (none defined yet) */
    int v1;              /* CLCHUNK1: packed with zlib */
    int v3;              /* CLCHUNK3: the output's encoded body */
    uint32_t dropped;    /* CLCHUNK3: records the output dropped when encoding */
    size_t header_len;   /* bytes up to and including header_crc */
};

static void chunk_path(const struct spool *s, uint64_t id, const char *ext, char *out, size_t len)
{
    snprintf(out, len, "%s/%016" PRIx64 ".%s", s->dir, id, ext);
}

/* Parse and check the header at the start of data. 0, or -1 if damaged. */
static int parse_header(const char *data, size_t len, struct chunk_header *h)
{
    struct reader r = {data, data + len, 0};
    memset(h, 0, sizeof *h);
    if (len < 8)
        return -1;
    if (memcmp(data, CHUNK_MAGIC_V1, 8) == 0)
        h->v1 = 1;
    else if (memcmp(data, CHUNK_MAGIC_V3, 8) == 0)
        h->v3 = 1;
    else if (memcmp(data, CHUNK_MAGIC, 8) != 0)
        return -1;
    r.p += 8;
    h->kind = get_u32(&r);
    h->count = get_u32(&r);
    h->payload_bytes = get_u64(&r);
    h->created_ms = (int64_t)get_u64(&r);
    h->key_len = get_u32(&r);
    if (r.bad || h->key_len > 65536 || (uint64_t)(r.end - r.p) < h->key_len)
        return -1;
    const char *key = r.p;
    r.p += h->key_len;
    h->raw_len = get_u32(&r);
    h->packed_len = get_u32(&r);
    if (!h->v1)
        h->flags = get_u32(&r);
    if (h->v3)
        h->dropped = get_u32(&r);
    size_t crc_len = (size_t)(r.p - data);
    uint32_t crc = get_u32(&r);
    if (r.bad || h->flags != 0 || (h->v3 && (h->raw_len != h->packed_len || h->dropped > h->count)) ||
        (h->kind != BATCH_LOGS && h->kind != BATCH_METRICS) || h->raw_len > MAX_BODY ||
        h->packed_len > MAX_BODY)
        return -1;
    if (crc != gzip_crc32(0, data, crc_len))
        return -1;
    h->key = xstrndup(key, h->key_len);
    h->header_len = (size_t)(r.p - data);
    return 0;
}

/* Open a chunk for reading without blocking and without following a link:
 * anything but a regular file (a FIFO, a device someone named *.chunk) is
 * refused with errno EINVAL. The fd, or -1. */
static int open_chunk(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ELOOP)
        errno = EINVAL; /* a symlink */
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        int err = S_ISREG(st->st_mode) ? errno : EINVAL;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Up to len bytes at offset 0 into out (shorter at the end of the file). */
static int read_head(int fd, size_t len, struct buf *out)
{
    buf_reset(out);
    buf_reserve(out, len);
    while (out->len < len) {
        ssize_t n = pread(fd, out->data + out->len, len - out->len, (off_t)out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    return 0;
}

static void move_aside(struct spool *s, uint64_t id, const char *why)
{
    /* (a chunk that is not a regular file is moved the same way: rename
     * does not open it) */
    char from[4200], to[4200];
    chunk_path(s, id, "chunk", from, sizeof from);
    if (mkdir_p(s->corrupt_dir) == 0) {
        snprintf(to, sizeof to, "%s/%016" PRIx64 "-%" PRId64 ".chunk", s->corrupt_dir, id, now_ms());
        if (rename(from, to) == 0) {
            log_msg(LOG_ERROR, "spool", "chunk %s is damaged (%s): moved to %s", from, why, to);
            return;
        }
    }
    log_msg(LOG_ERROR, "spool", "chunk %s is damaged (%s) and cannot be moved aside (%s): removed",
            from, why, strerror(errno));
    unlink(from);
}

static uint64_t parse_id(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    if (n != 16 + 1 + e || name[16] != '.' || strcmp(name + 17, ext) != 0)
        return 0;
    uint64_t id = 0;
    for (int i = 0; i < 16; i++) {
        char c = name[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return 0;
        id = id * 16 + (uint64_t)v;
    }
    return id;
}

static int cmp_entry(const void *a, const void *b)
{
    uint64_t x = ((const struct spool_entry *)a)->id, y = ((const struct spool_entry *)b)->id;
    return x < y ? -1 : x > y;
}

static void *syncer_main(void *arg)
{
    struct spool *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->sync_wanted && !s->syncer_stop)
            pthread_cond_wait(&s->sync_cond, &s->lock);
        int stop = s->syncer_stop;
        s->sync_wanted = 0;
        pthread_mutex_unlock(&s->lock);
        syncfs(s->dir_fd); /* at a stop too: what the last second wrote */
        if (stop)
            return NULL;
        pthread_mutex_lock(&s->lock);
    }
}

struct spool *spool_open(const char *dir, const char *corrupt_dir, enum spool_sync sync,
                         struct spool_entry **entries, int *nentries)
{
    *entries = NULL;
    *nentries = 0;
    if (mkdir_p(dir) < 0)
        return NULL;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = opendir(dir);
    if (dfd < 0 || !d) {
        int err = errno;
        if (dfd >= 0)
            close(dfd);
        if (d)
            closedir(d);
        errno = err;
        return NULL;
    }
    struct spool *s = xcalloc(1, sizeof *s);
    s->dir = xstrdup(dir);
    s->corrupt_dir = xstrdup(corrupt_dir);
    s->sync = sync;
    s->dir_fd = dfd;
    s->next_id = 1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->sync_cond, NULL);
    if (sync == SPOOL_SYNC_INTERVAL)
        s->syncer_running = pthread_create(&s->syncer, NULL, syncer_main, s) == 0;
    buf_init(&s->raw);
    buf_init(&s->head);

    struct dirent *de;
    int cap = 0, v1 = 0;
    struct buf head;
    buf_init(&head);
    while ((de = readdir(d)) != NULL) {
        uint64_t id;
        if ((id = parse_id(de->d_name, "tmp")) != 0 || (id = parse_id(de->d_name, "spare")) != 0) {
            unlinkat(dfd, de->d_name, 0); /* a write the last run did not finish, or a spare */
            continue;
        }
        if ((id = parse_id(de->d_name, "chunk")) == 0)
            continue;
        if (id >= s->next_id)
            s->next_id = id + 1;
        char path[4200];
        chunk_path(s, id, "chunk", path, sizeof path);
        struct chunk_header h;
        struct stat st;
        /* the header only: a chunk is read whole when its turn comes */
        int fd = open_chunk(path, &st);
        const char *why = fd < 0 && errno == EINVAL ? "not a regular file" : "bad header";
        if (fd < 0 || read_head(fd, HEADER_MAX, &head) < 0 ||
            parse_header(head.data ? head.data : "", head.len, &h) < 0) {
            if (fd >= 0)
                close(fd);
            move_aside(s, id, why);
            continue;
        }
        close(fd);
        if ((uint64_t)st.st_size != h.header_len + h.packed_len + 4) {
            free(h.key);
            move_aside(s, id, "size does not match its header");
            continue;
        }
        if (h.v1)
            v1++;
        if (*nentries == cap) {
            cap = cap ? cap * 2 : 16;
            *entries = xrealloc(*entries, sizeof **entries * (size_t)cap);
        }
        (*entries)[(*nentries)++] = (struct spool_entry){
            id, (enum batch_kind)h.kind, h.count, h.payload_bytes, (uint64_t)st.st_size, h.key,
            h.v3,
        };
        s->bytes += (uint64_t)st.st_size;
        s->count++;
    }
    closedir(d);
    buf_free(&head);
    if (v1)
        log_msg(LOG_INFO, "spool", "%s: %d chunks written by an earlier version (format CLCHUNK1, "
                "zlib) are read and sent as usual", dir, v1);
    if (*nentries > 1)
        qsort(*entries, (size_t)*nentries, sizeof **entries, cmp_entry);
    return s;
}

void spool_entries_free(struct spool_entry *entries, int n)
{
    for (int i = 0; i < n; i++)
        free(entries[i].key);
    free(entries);
}

void spool_close(struct spool *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nspare; i++) {
        char path[4200];
        chunk_path(s, s->spare_ids[i], "spare", path, sizeof path);
        unlink(path);
    }
    if (s->syncer_running) {
        pthread_mutex_lock(&s->lock);
        s->syncer_stop = 1;
        pthread_cond_signal(&s->sync_cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->syncer, NULL);
    } else if (s->sync == SPOOL_SYNC_INTERVAL) {
        syncfs(s->dir_fd);
    } else if (s->sync == SPOOL_SYNC_BATCH) {
        fsync(s->dir_fd); /* the chunks were synced one by one */
    }
    close(s->dir_fd);
    buf_free(&s->raw);
    buf_free(&s->head);
    pthread_cond_destroy(&s->sync_cond);
    pthread_mutex_destroy(&s->lock);
    free(s->dir);
    free(s->corrupt_dir);
    free(s);
}

/* A spare (a delivered chunk kept to be written over) opened for writing,
 * its path in path; -1 when there is none. Writing over a file the page cache
 * already holds costs a copy; a new file costs an inode, pages and blocks,
 * and deleting it invalidates them all again (~10 % of the agent's CPU at
 * full speed with buffer = disk and compress = off). */
static int open_spare(struct spool *s, char *path, size_t len)
{
    while (s->nspare) {
        uint64_t id = s->spare_ids[--s->nspare];
        chunk_path(s, id, "spare", path, len);
        int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        unlink(path);
    }
    return -1;
}

uint64_t spool_write(struct spool *s, const struct batch *b)
{
    const struct buf *body = &b->body;
    if (!b->has_body) {
        buf_reset(&s->raw);
        encode_body(&s->raw, b);
        body = &s->raw;
    }
    uint32_t flags = 0;
    struct buf *head = &s->head;
    buf_reset(head);
    buf_append(head, b->has_body ? CHUNK_MAGIC_V3 : CHUNK_MAGIC, 8);
    put_u32(head, (uint32_t)b->kind);
    put_u32(head, b->count);
    put_u64(head, b->payload_bytes);
    put_u64(head, (uint64_t)now_ms());
    put_str(head, b->dest_key ? b->dest_key : "");
    put_u32(head, (uint32_t)body->len);
    put_u32(head, (uint32_t)body->len);
    put_u32(head, flags);
    if (b->has_body)
        put_u32(head, b->dropped);
    put_u32(head, gzip_crc32(0, head->data, head->len));
    uint32_t body_crc = gzip_crc32(0, body->data, body->len);
    uint64_t file_len = head->len + body->len + 4;

    pthread_mutex_lock(&s->lock);
    uint64_t id = s->next_id++;
    pthread_mutex_unlock(&s->lock);
    char tmp[4200], final[4200];
    chunk_path(s, id, "chunk", final, sizeof final);
    int fd = open_spare(s, tmp, sizeof tmp);
    int over_spare = fd >= 0;
    if (fd < 0) {
        chunk_path(s, id, "tmp", tmp, sizeof tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    }
    if (fd < 0)
        return 0;
    /* (a spare may be longer than this chunk: cut after writing over it) */
    if (write_all(fd, head->data, head->len) < 0 || write_all(fd, body->data, body->len) < 0 ||
        write_all(fd, &body_crc, 4) < 0 || (over_spare && ftruncate(fd, (off_t)file_len) < 0) ||
        (s->sync == SPOOL_SYNC_BATCH && fdatasync(fd) < 0)) {
        int err = errno;
        close(fd);
        unlink(tmp);
        errno = err;
        return 0;
    }
    close(fd);
    if (rename(tmp, final) < 0) {
        int err = errno;
        unlink(tmp);
        errno = err;
        return 0;
    }
    if (s->sync == SPOOL_SYNC_BATCH) {
        fsync(s->dir_fd);
    } else if (s->sync == SPOOL_SYNC_INTERVAL && mono_ms() - s->last_sync_ms >= 1000) {
        s->last_sync_ms = mono_ms();
        pthread_mutex_lock(&s->lock);
        s->sync_wanted = 1;
        pthread_cond_signal(&s->sync_cond);
        pthread_mutex_unlock(&s->lock);
        if (!s->syncer_running)
            syncfs(s->dir_fd); /* no thread could be started: as before */
    }
    pthread_mutex_lock(&s->lock);
    s->bytes += file_len;
    s->count++;
    pthread_mutex_unlock(&s->lock);
    return id;
}

/* The body's encoded batch: in place (CLCHUNK2), or inflated into *raw
 * (CLCHUNK1's zlib). NULL if it does not inflate to the size the header says. */
static const char *unpack_body(const struct chunk_header *h, const char *body, char **raw)
{
    *raw = NULL;
    if (!h->v1)
        return h->packed_len == h->raw_len ? body : NULL;
    *raw = xmalloc(h->raw_len + 1);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15) != Z_OK)
        return NULL;
    zs.next_in = (Bytef *)body;
    zs.avail_in = h->packed_len;
    zs.next_out = (Bytef *)*raw;
    zs.avail_out = h->raw_len + 1;
    int rc = inflate(&zs, Z_FINISH);
    int ok = rc == Z_STREAM_END && zs.total_out == h->raw_len;
    inflateEnd(&zs);
    return ok ? *raw : NULL;
}

/* A whole chunk file's bytes to a batch, or NULL with *why saying what is
 * wrong. *own as in decode_body (the block may become the batch's arena). */
static struct batch *decode_chunk(char **own, size_t len, const char **why)
{
    const char *data = *own;
    struct chunk_header h;
    struct batch *b = NULL;
    *why = "bad header";
    if (parse_header(data, len, &h) < 0)
        return NULL;
    *why = "truncated or bad checksum";
    size_t need = h.header_len + h.packed_len + 4;
    uint32_t bcrc;
    if (len == need) {
        const char *body = data + h.header_len;
        memcpy(&bcrc, body + h.packed_len, 4);
        if (bcrc == gzip_crc32(0, body, h.packed_len) && h.v3) {
            /* the output's bytes, sent as they are: the block becomes the body */
            b = batch_new((enum batch_kind)h.kind);
            b->count = h.count;
            b->payload_bytes = h.payload_bytes;
            b->dropped = h.dropped;
            memmove(*own, body, h.packed_len);
            b->body.data = *own;
            b->body.len = b->body.cap = h.packed_len;
            *own = NULL;
            b->has_body = b->records_dropped = b->body_on_disk = 1;
        } else if (bcrc == gzip_crc32(0, body, h.packed_len)) {
            *why = "undecodable body";
            char *raw;
            const char *enc = unpack_body(&h, body, &raw);
            if (enc)
                b = decode_body(enc, h.raw_len, (enum batch_kind)h.kind, h.count,
                                h.payload_bytes, raw ? &raw : own);
            free(raw);
        }
    }
    free(h.key);
    return b;
}

struct batch *spool_chunk_decode(const void *data, size_t len, const char **why)
{
    const char *ignored;
    char *copy = xmalloc(len + 1);
    memcpy(copy, data, len);
    struct batch *b = decode_chunk(&copy, len, why ? why : &ignored);
    free(copy);
    return b;
}

struct batch *spool_read(struct spool *s, uint64_t id, int *corrupt)
{
    char path[4200];
    chunk_path(s, id, "chunk", path, sizeof path);
    *corrupt = 0;
    struct buf data;
    buf_init(&data);
    struct stat st;
    int fd = open_chunk(path, &st);
    const char *why = "bad header";
    if (fd < 0 && errno == EINVAL) {
        why = "not a regular file";
    } else if (fd < 0) {
        log_msg(LOG_ERROR, "spool", "cannot read chunk %s: %s", path, strerror(errno));
        return NULL;
    } else if ((uint64_t)st.st_size > (uint64_t)HEADER_MAX + MAX_BODY + 4) {
        why = "larger than any chunk";
    } else if (read_head(fd, (size_t)st.st_size, &data) < 0) {
        log_msg(LOG_ERROR, "spool", "cannot read chunk %s: %s", path, strerror(errno));
        close(fd);
        buf_free(&data);
        return NULL;
    }
    if (fd >= 0)
        close(fd);
    struct batch *b = data.len ? decode_chunk(&data.data, data.len, &why) : NULL;
    uint64_t size = fd >= 0 ? (uint64_t)st.st_size : 0;
    buf_free(&data);
    if (!b) {
        *corrupt = 1;
        pthread_mutex_lock(&s->lock);
        s->bytes -= size < s->bytes ? size : s->bytes;
        s->count -= s->count ? 1 : 0;
        pthread_mutex_unlock(&s->lock);
        move_aside(s, id, why);
        return NULL;
    }
    b->spool_id = id;
    return b;
}

void spool_remove(struct spool *s, uint64_t id)
{
    char path[4200];
    struct stat st;
    chunk_path(s, id, "chunk", path, sizeof path);
    if (stat(path, &st) < 0)
        return;
    char spare[4200];
    chunk_path(s, id, "spare", spare, sizeof spare);
    if (s->nspare < SPOOL_SPARES && rename(path, spare) == 0) {
        s->spare_ids[s->nspare++] = id;
    } else if (unlink(path) < 0) {
        log_msg(LOG_ERROR, "spool", "cannot remove chunk %s: %s", path, strerror(errno));
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->bytes -= (uint64_t)st.st_size < s->bytes ? (uint64_t)st.st_size : s->bytes;
    s->count -= s->count ? 1 : 0;
    pthread_mutex_unlock(&s->lock);
}

uint64_t spool_bytes(const struct spool *s)
{
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    uint64_t v = s->bytes;
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return v;
}

uint64_t spool_count(const struct spool *s)
{
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    uint64_t v = s->count;
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return v;
}

/* ------------------------------------------------ glue to the pipeline */

void spool_update_gauges(struct output_runtime *rt)
{
    rt->out->stats.buffer_bytes = spool_bytes(rt->spool);
    rt->out->stats.buffer_chunks = spool_count(rt->spool);
    rt->out->stats.buffer_full = spool_bytes(rt->spool) >= rt->spool_max;
}

/* Make room for one more chunk by dropping the oldest queued (not in flight)
 * chunks of the given kind (0: any): for metrics, which cannot wait in their
 * source as files can. Returns -1 if there is nothing of that kind to drop. */
static int drop_oldest_chunks(struct output_runtime *rt, enum batch_kind kind)
{
    while (spool_bytes(rt->spool) >= rt->spool_max) {
        struct dest *best_dest = NULL;
        struct batch **best = NULL;
        for (struct dest *d = rt->dests; d; d = d->list_next)
            for (struct batch **pp = &d->queue_head; *pp; pp = &(*pp)->next)
                if ((*pp)->spool_id && (!kind || (*pp)->kind == kind) &&
                    (!best || (*pp)->spool_id < (*best)->spool_id)) {
                    best = pp;
                    best_dest = d;
                }
        if (!best)
            return -1;
        struct batch *victim = *best;
        *best = victim->next;
        if (best_dest->queue_tail == victim) {
            best_dest->queue_tail = NULL;
            for (struct batch *q = best_dest->queue_head; q; q = q->next)
                best_dest->queue_tail = q;
        }
        spool_remove(rt->spool, victim->spool_id);
        output_count_drop(rt->out, DROP_BUFFER_FULL, victim->count);
        log_every(&rt->spool_limit, 10000, LOG_WARN, "pipeline",
                  "output %s: disk buffer full (buffer.max_size): dropped the oldest chunk of %u "
                  "records", rt->out->name, victim->count);
        rt->batches_pending--;
        pipeline_uncount_batch(rt->pipeline, victim);
        batch_free(victim);
    }
    return 0;
}

/* Write a sealed batch to the disk buffer. Once it is there its records are
 * safe: they are acknowledged to their inputs now, and when memory is tight
 * the batch is kept on disk only, to be read back when its turn comes. If it
 * cannot be written (disk full, buffer full with policy pause) it stays an
 * ordinary in-memory batch, acknowledged when delivered. */
void spool_batch(struct output_runtime *rt, struct batch *b)
{
    struct pipeline *p = rt->pipeline;
    if (spool_bytes(rt->spool) >= rt->spool_max) {
        /* auto: metrics make room among metrics (never at the cost of logs,
         * which are already acknowledged to their files); logs wait */
        int drop = rt->full_policy == FULL_DROP_OLDEST ||
                   (rt->full_policy == FULL_AUTO && b->kind == BATCH_METRICS);
        enum batch_kind only = rt->full_policy == FULL_DROP_OLDEST ? 0 : BATCH_METRICS;
        if (!drop || drop_oldest_chunks(rt, only) < 0) {
            spool_update_gauges(rt);
            log_every(&rt->spool_limit, 10000, LOG_WARN, "pipeline",
                      "output %s: disk buffer full (%llu bytes, buffer.max_size); keeping batches "
                      "in memory, inputs pause at memory_limit",
                      rt->out->name, (unsigned long long)spool_bytes(rt->spool));
            return;
        }
    }
    const struct output_plugin *plugin = rt->out->plugin;
    if (plugin->encode && !b->has_body) {
        /* encode once, here: the chunk holds the bytes that will be sent */
        if (!rt->encode_worker && plugin->worker_init)
            rt->encode_worker = plugin->worker_init(rt->out);
        if (plugin->encode(rt->out, rt->encode_worker, b, &b->body) == 0)
            b->has_body = 1;
        else
            buf_free(&b->body);
    }
    uint64_t id = spool_write(rt->spool, b);
    if (!id) {
        rt->out->stats.buffer_write_errors++;
        log_every(&rt->spool_limit, 10000, LOG_ERROR, "pipeline",
                  "output %s: cannot write to the disk buffer: %s; keeping the batch in memory",
                  rt->out->name, strerror(errno));
        return;
    }
    b->spool_id = id;
    sender_ack_batch(p, b);           /* records are durable: inputs may commit */
    if (b->has_body) {
        dest_batch_recycle_records(rt, b); /* acknowledged: the body is all that is sent */
        b->body_on_disk = 1;
    }
    pipeline_count_batch(p, b); /* ack_batch uncounted it; it is still in memory */
    p->commit_due = 1;
    /* A batch that will wait behind others waits on disk (the kernel's page
     * cache keeps it cheap to read back): memory holds the open batches and
     * the next one of each destination, not a backlog. The next one stays in
     * memory even while another is in flight: unloading it then sent every
     * batch of a busy stream to disk and back. */
    struct dest *d = b->dest;
    if (d->queue_head ||
        (p->memory_limit && p->mem_batches + p->mem_encoded > p->memory_limit / 2)) {
        pipeline_uncount_batch(p, b);
        batch_unload(b);       /* keep the shell and the chunk id */
    }
    spool_update_gauges(rt);
}

/* The chunk is damaged or missing: already moved aside and logged. */
int spool_reload_batch(struct output_runtime *rt, struct batch *b)
{
    int corrupt = 0;
    struct batch *loaded = spool_read(rt->spool, b->spool_id, &corrupt);
    if (!loaded) {
        if (corrupt)
            rt->out->stats.chunks_corrupt++;
        return -1;
    }
    /* Move the loaded contents into the queued shell. */
    free(b->logs);
    free(b->metrics);
    free(b->arena);
    b->logs = loaded->logs;
    b->metrics = loaded->metrics;
    b->cap = loaded->cap;
    b->count = loaded->count;
    b->arena = loaded->arena;
    b->arena_len = loaded->arena_len;
    b->arena_cap = loaded->arena_cap;
    buf_free(&b->body);
    b->body = loaded->body;
    b->has_body = loaded->has_body;
    b->records_dropped = loaded->records_dropped;
    b->body_on_disk = loaded->body_on_disk;
    if (loaded->has_body)
        b->dropped = loaded->dropped;
    buf_init(&loaded->body);
    loaded->has_body = loaded->records_dropped = 0;
    loaded->logs = NULL;
    loaded->metrics = NULL;
    loaded->arena = NULL;
    loaded->count = 0;
    batch_free(loaded);
    b->unloaded = BATCH_RELOADED;
    return 0;
}

/* Queue what a previous run left in the disk buffer, oldest first, before
 * anything new: per destination, order is kept across restarts. */
int spool_start_output(struct pipeline *p, struct output_runtime *rt)
{
    struct output_instance *out = rt->out;
    char *dir = xasprintf("%s/buffer/%s", p->data_dir, out->name);
    char *corrupt = xasprintf("%s/corrupt/%s", p->data_dir, out->name);
    const char *sync = out->common.buffer_sync ? out->common.buffer_sync : "interval";
    enum spool_sync mode = strcmp(sync, "batch") == 0 ? SPOOL_SYNC_BATCH
                           : strcmp(sync, "off") == 0 ? SPOOL_SYNC_OFF
                                                      : SPOOL_SYNC_INTERVAL;
    struct spool_entry *entries;
    int n;
    rt->spool = spool_open(dir, corrupt, mode, &entries, &n);
    if (!rt->spool) {
        log_msg(LOG_ERROR, "pipeline", "output %s: cannot open the disk buffer %s: %s", out->name,
                dir, strerror(errno));
        free(dir);
        free(corrupt);
        return -1;
    }
    rt->spool_max = out->common.buffer_max_size ? out->common.buffer_max_size : (1ULL << 30);
    const char *policy = out->common.buffer_full_policy ? out->common.buffer_full_policy : "auto";
    rt->full_policy = strcmp(policy, "drop_oldest") == 0 ? FULL_DROP_OLDEST
                      : strcmp(policy, "pause") == 0     ? FULL_PAUSE
                                                         : FULL_AUTO;
    uint64_t records = 0;
    int of_records = 0;
    for (int i = 0; i < n; i++) {
        of_records += !entries[i].encoded;
        struct batch *b = batch_new(entries[i].kind);
        b->output = out;
        b->spool_id = entries[i].id;
        b->count = entries[i].count;
        b->payload_bytes = entries[i].payload_bytes;
        b->unloaded = BATCH_ON_DISK;
        struct dest *d = dest_by_key(rt, entries[i].key, strlen(entries[i].key));
        b->dest = d;
        b->dest_key = d->key;
        d->last_used_ms = mono_ms();
        dest_enqueue(rt, d, b);
        records += entries[i].count;
    }
    if (n)
        log_msg(LOG_INFO, "pipeline", "output %s: %d chunks (%llu records) left in the disk buffer "
                "by the last run will be sent first", out->name, n, (unsigned long long)records);
    if (of_records && out->plugin->encode)
        log_msg(LOG_INFO, "pipeline", "output %s: %d of them hold records (written before "
                "encode once: format CLCHUNK1 or CLCHUNK2): each is read back and encoded once "
                "when its turn comes", out->name, of_records);
    out->stats.batches_pending = rt->batches_pending;
    spool_update_gauges(rt);
    spool_entries_free(entries, n);
    free(dir);
    free(corrupt);
    return 0;
}
