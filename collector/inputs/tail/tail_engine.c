/* The file-following engine: see tail_engine.h. Moved out of the tail
 * input unchanged in behaviour:
 *
 *  - a file is known by its inode (and fingerprint), never by its name: a
 *    name that now points elsewhere means the old file was rotated away, so
 *    its fd is drained to the end (and kept rotate_wait for late writers)
 *    while the new file is followed from its first byte; a rotated name the
 *    globs also match (app.log.1) is the same inode, so it is not re-read.
 *  - files to read wait in a ready queue, read one chunk each per idle pass
 *    (round robin: one big file does not starve the others), stopping while
 *    the pipeline is full;
 *  - every record carries (file cookie, offset past its last line); commit()
 *    moves the file's acknowledged offset, which alone is checkpointed. */
#include "collector/plugin.h"
#include "collector/inputs/tail/tail_engine.h"

#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/inputs/checkpoint.h"
#include "collector/inputs/tail/tail_watch.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define TICK_MS 100
#define READ_BUDGET (8u << 20)   /* bytes per idle pass before yielding */
/* ... and time: lines can be expensive (a multiline regex at its match
 * limit), so a pass also yields after this long, between two chunks. */
#define READ_TIME_BUDGET_MS 20
#define DEFER_MAX_PASSES 64      /* ops.defer's blocker read this often without moving */
/* A rotated file let go is remembered this many rescans (and at most
 * LET_GO_MAX of them): see remember_let_go(). */
#define LET_GO_SCANS 8
#define LET_GO_MAX 1024

struct problem {
    char *path;
    int err;
};

/* Where a rotated file we let go was read to, and who it was. */
struct let_go {
    uint64_t dev, ino;
    uint32_t fp_len;
    uint64_t fp_hash;
    uint64_t offset;
    uint32_t until_scan;    /* forgotten after this rescan */
};

struct tail_engine {
    struct input_instance *in;
    const struct tail_engine_conf *conf;
    struct tail_engine_conf conf_copy;
    struct tail_engine_ops ops;
    void *arg;
    struct tail_reader reader;
    struct tail_table table;
    struct tail_watch *watch;
    struct ckpt_store store;
    char *ckpt_path;

    int first_start;         /* no checkpoint existed */
    int scan_done;           /* the initial scan is over: later files are "new" */
    int paused;
    int stopped;
    int started;
    int dirty;
    uint32_t scan_gen;
    int rescan_soon;

    struct loop_idle idle;
    struct tail_file *ready_head, *ready_tail;
    size_t nready;
    struct tail_file *lru_head, *lru_tail;     /* open files, most recent first */
    int open_count;
    int said_open_cap;
    int no_room;                               /* make_room failed: don't rescan until a close or tick */
    struct loop_timer *tick;
    int64_t last_ckpt_ms, last_rescan_ms, last_poll_ms;
    int64_t last_rate_ms, last_size_poll_ms;
    int size_polling;                          /* write events off, sizes polled */
    uint64_t polled, grown;                    /* size polls this second, and growths seen */
    int64_t chunk_now_ns;                      /* read time of the current chunk */
    int64_t now_mono;

    struct problem *problems;
    int nproblems;
    struct let_go *let_go;  /* oldest first */
    int nlet_go;

    struct buf ckpt_entries_scratch;
    uint64_t rotations, truncations, files_forgotten;
};

/* Does the owner hold lines of f not emitted yet? */
static int held(struct tail_engine *c, const struct tail_file *f)
{
    return f->ml.lines != 0 || (c->ops.held && c->ops.held(c->arg, f));
}

static void flush_ml(struct tail_engine *c, struct tail_file *f)
{
    if (c->ops.flush)
        c->ops.flush(c->arg, f);
}

static void on_line(void *arg, struct tail_file *f, const char *line, size_t len, uint64_t end_off)
{
    struct tail_engine *c = arg;
    c->ops.line(c->arg, f, line, len, end_off, c->chunk_now_ns);
}

/* ------------------------------------------------------------ problems */

/* Say once per path and cause; forget when it works again. */
static void problem(struct tail_engine *c, const char *path, int err, const char *what)
{
    for (int i = 0; i < c->nproblems; i++) {
        if (strcmp(c->problems[i].path, path) == 0) {
            if (c->problems[i].err == err)
                return;
            c->problems[i].err = err;
            goto say;
        }
    }
    if (c->nproblems < 4096) {
        c->problems = xrealloc(c->problems, sizeof(*c->problems) * (size_t)(c->nproblems + 1));
        c->problems[c->nproblems++] = (struct problem){xstrdup(path), err};
    }
say:
    log_msg(LOG_WARN, c->conf->log_tag, "[%s] %s %s: %s; will retry", c->in->name, what, path,
            err == EINVAL ? "not a regular file (FIFO, socket or device)"
            : err == EISDIR ? "is a directory, not a file"
                            : strerror(err));
}

static void problem_clear(struct tail_engine *c, const char *path)
{
    for (int i = 0; i < c->nproblems; i++) {
        if (strcmp(c->problems[i].path, path) == 0) {
            log_msg(LOG_INFO, c->conf->log_tag, "[%s] %s is readable again", c->in->name, path);
            free(c->problems[i].path);
            c->problems[i] = c->problems[--c->nproblems];
            return;
        }
    }
}

/* ------------------------------------------------------- queue and LRU */

static void make_ready(struct tail_engine *c, struct tail_file *f)
{
    if (f->in_ready || f->dead)
        return;
    f->in_ready = 1;
    c->nready++;
    f->ready_next = NULL;
    if (c->ready_tail)
        c->ready_tail->ready_next = f;
    else
        c->ready_head = f;
    c->ready_tail = f;
    if (!c->paused && !c->stopped)
        loop_idle_arm(c->in->loop, &c->idle);
}

static struct tail_file *pop_ready(struct tail_engine *c)
{
    struct tail_file *f = c->ready_head;
    if (!f)
        return NULL;
    c->ready_head = f->ready_next;
    if (!c->ready_head)
        c->ready_tail = NULL;
    f->in_ready = 0;
    c->nready--;
    return f;
}

static void unready(struct tail_engine *c, struct tail_file *f)
{
    if (!f->in_ready)
        return;
    struct tail_file *prev = NULL;
    for (struct tail_file *p = c->ready_head; p; prev = p, p = p->ready_next) {
        if (p != f)
            continue;
        if (prev)
            prev->ready_next = p->ready_next;
        else
            c->ready_head = p->ready_next;
        if (c->ready_tail == p)
            c->ready_tail = prev;
        c->nready--;
        break;
    }
    f->in_ready = 0;
}

static void lru_unlink(struct tail_engine *c, struct tail_file *f)
{
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else if (c->lru_head == f)
        c->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else if (c->lru_tail == f)
        c->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_touch(struct tail_engine *c, struct tail_file *f)
{
    if (c->lru_head == f)
        return;
    lru_unlink(c, f);
    f->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = f;
    c->lru_head = f;
    if (!c->lru_tail)
        c->lru_tail = f;
}

static void file_close(struct tail_engine *c, struct tail_file *f)
{
    if (f->fd < 0)
        return;
    tail_file_close(f);
    lru_unlink(c, f);
    c->open_count--;
    c->no_room = 0;
}

static void file_opened(struct tail_engine *c, struct tail_file *f)
{
    c->open_count++;
    lru_touch(c, f);
}

/* Make room for one more open file: close the least recently active one
 * that can be reopened later (named, at its end, not waiting to be read). */
static int make_room(struct tail_engine *c)
{
    if (c->open_count < c->conf->settings.max_open_files)
        return 0;
    if (c->no_room)
        return -1;
    for (struct tail_file *f = c->lru_tail; f; f = f->lru_prev) {
        if (f->path && !f->rotated && f->at_eof && !f->in_ready && !held(c, f)) {
            file_close(c, f);
            return 0;
        }
    }
    c->no_room = 1;
    if (!c->said_open_cap++)
        log_msg(LOG_WARN, c->conf->log_tag, "[%s] max_open_files (%lld) reached: files wait their turn",
                c->in->name, (long long)c->conf->settings.max_open_files);
    return -1;
}

/* ------------------------------------------------------- file lifecycle */

/* A file let go because its name vanished with its whole directory or
 * filesystem (an unmounted volume) may come back: keep its position. */
static void keep_position_if_unmounted(struct tail_engine *c, struct tail_file *f)
{
    if (!c->ckpt_path)
        return;
    char *copy = xstrdup(f->first_path);
    struct stat st;
    int gone = stat(dirname(copy), &st) < 0 || (uint64_t)st.st_dev != f->dev;
    free(copy);
    if (!gone)
        return;
    struct ckpt_entry e = {.dev = f->dev, .ino = f->ino, .fp_len = f->fp_len, .fp_hash = f->fp_hash,
                           .offset = f->ack_off, .path = xstrdup(f->first_path)};
    ckpt_add(&c->store, &e);
}

/* A rescan that runs while names are renamed (a burst of Docker rotations:
 * every .log.N moves to .log.N+1) can miss a file that still has a name the
 * globs match: it stats .log.5 before the file gets there and .log.4 after
 * it left. So a rotated file let go (dead) for not being seen may be found
 * again moments later: it is then the same file (inode and first bytes),
 * to go on from where it was read to, not a new one to read from its start. */
static void remember_let_go(struct tail_engine *c, const struct tail_file *f)
{
    if (c->nlet_go == LET_GO_MAX)
        memmove(c->let_go, c->let_go + 1, sizeof(*c->let_go) * (size_t)--c->nlet_go);
    if (!c->let_go)
        c->let_go = xcalloc(LET_GO_MAX, sizeof(*c->let_go));
    c->let_go[c->nlet_go++] = (struct let_go){.dev = f->dev, .ino = f->ino, .fp_len = f->fp_len,
                                              .fp_hash = f->fp_hash, .offset = f->ack_off,
                                              .until_scan = c->scan_gen + LET_GO_SCANS};
}

/* Was the file open on fd (dev, ino) let go lately? Its offset then (the
 * entry is dropped), else -1. */
static int64_t take_let_go(struct tail_engine *c, int fd, uint64_t dev, uint64_t ino, uint32_t fp_len)
{
    for (int i = c->nlet_go - 1; i >= 0; i--) {
        struct let_go *g = &c->let_go[i];
        if (g->dev != dev || g->ino != ino)
            continue;
        int same = g->fp_len <= fp_len && tail_fingerprint_matches(fd, g->fp_len, g->fp_hash);
        int64_t off = same ? (int64_t)g->offset : -1;
        memmove(g, g + 1, sizeof(*g) * (size_t)(c->nlet_go - i - 1));
        c->nlet_go--;
        return off;
    }
    return -1;
}

static void expire_let_go(struct tail_engine *c)
{
    int n = 0;
    while (n < c->nlet_go && c->let_go[n].until_scan < c->scan_gen)
        n++;
    if (n == 0)
        return;
    memmove(c->let_go, c->let_go + n, sizeof(*c->let_go) * (size_t)(c->nlet_go - n));
    c->nlet_go -= n;
}

static void forget(struct tail_engine *c, struct tail_file *f)
{
    keep_position_if_unmounted(c, f);
    if (f->dead)
        remember_let_go(c, f);
    unready(c, f);
    file_close(c, f);
    tail_table_remove(&c->table, f);
    c->files_forgotten++;
    c->dirty = 1;
    if (c->ops.forgotten)
        c->ops.forgotten(c->arg, f);
    tail_file_free(f);
}

/* The name no longer leads to f: drain what is left, then let it go. */
static void detach(struct tail_engine *c, struct tail_file *f, const char *why)
{
    if (f->rotated)
        return;
    log_msg(LOG_DEBUG, c->conf->log_tag, "[%s] %s %s; reading it to its end", c->in->name, f->path, why);
    tail_table_set_path(&c->table, f, NULL);
    f->rotated = 1;
    f->rotated_ms = c->now_mono;
    c->rotations++;
    make_ready(c, f);
}

/* A file whose name reappeared under a glob match (renamed within the globs). */
static void reattach(struct tail_engine *c, struct tail_file *f, const char *path)
{
    struct tail_file *other = tail_table_by_path(&c->table, path);
    if (other && other != f)
        detach(c, other, "was replaced");
    tail_table_set_path(&c->table, f, path);
    f->rotated = 0;
    f->dead = 0;
}

static int fingerprint_fits(int fd, const struct tail_file *f)
{
    return tail_fingerprint_matches(fd, f->fp_len, f->fp_hash);
}

/* A path matching the globs was seen (scan or inotify), with what stat()
 * said of it. */
static void found_try(struct tail_engine *c, const char *path, const struct stat *st, int err,
                      int tries)
{
    if (c->stopped)
        return;
    if (c->ops.accept && !c->ops.accept(c->arg, path))
        return;
    if (!st) {
        problem(c, path, err, "cannot read");
        return;
    }
    if (!S_ISREG(st->st_mode)) {
        problem(c, path, S_ISDIR(st->st_mode) ? EISDIR : EINVAL, "cannot follow");
        return;
    }
    struct tail_file *f = tail_table_by_inode(&c->table, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
    if (f) {
        f->seen_scan = c->scan_gen;
        if (f->path && strcmp(f->path, path) == 0) {
            /* Grown without our hearing of it (events off, or missed): the
             * rescan is the safety net. */
            if (!f->rotated && (uint64_t)st->st_size != f->read_off)
                make_ready(c, f);
            return;
        }
        /* Same inode. An open file is certainly the same; a closed one
         * only if its first bytes still match (inodes are reused). */
        int same = f->fd >= 0;
        if (!same) {
            struct stat st2;
            int fd = tail_open_regular(path, &st2);
            same = fd >= 0 && fingerprint_fits(fd, f);
            if (fd >= 0)
                close(fd);
        }
        if (same) {
            if (f->path) {
                struct stat cur;
                if (tail_file_check_path(f, &cur) == TAIL_PATH_SAME)
                    return; /* a second hard link: keep the first name */
            }
            reattach(c, f, path);
            make_ready(c, f);
            return;
        }
        /* A new file on a recycled inode (f is closed, so it was deleted):
         * acknowledgements still in flight for f are ignored. */
        forget(c, f);
    }

    struct tail_file *old = tail_table_by_path(&c->table, path);
    if (old)
        detach(c, old, "was replaced");

    struct stat ost;
    int fd = tail_open_regular(path, &ost);
    if (fd < 0) {
        problem(c, path, errno, "cannot open");
        return;
    }
    if (ost.st_dev != st->st_dev || ost.st_ino != st->st_ino) {
        /* Renamed over since the stat (a burst of rotations): this may be
         * a file we follow under its previous name. Start again with it. */
        close(fd);
        if (tries < 3)
            found_try(c, path, &ost, 0, tries + 1);
        return;
    }
    problem_clear(c, path);
    f = tail_file_new(path);
    f->owner = c;
    if (c->ops.opened)
        c->ops.opened(c->arg, f);
    f->fd = fd;
    f->dev = (uint64_t)ost.st_dev;
    f->ino = (uint64_t)ost.st_ino;
    f->size = (uint64_t)ost.st_size;
    uint64_t h = 0;
    int n = tail_fingerprint(fd, &h);
    f->fp_len = n > 0 ? (uint32_t)n : 0;
    f->fp_hash = h;
    f->last_data_ms = c->now_mono;
    f->seen_scan = c->scan_gen;

    int64_t let_go_off = take_let_go(c, fd, f->dev, f->ino, f->fp_len);
    struct ckpt_entry *e = ckpt_find(&c->store, f->dev, f->ino);
    if (let_go_off >= 0) {
        f->read_off = (uint64_t)let_go_off <= f->size ? (uint64_t)let_go_off : 0;
        log_msg(LOG_DEBUG, c->conf->log_tag, "[%s] %s is a rotated file let go moments ago: "
                "going on from offset %" PRIu64, c->in->name, path, f->read_off);
    } else if (e && !e->used && e->fp_len <= f->fp_len && fingerprint_fits(fd, &(struct tail_file){
                                                        .fp_len = e->fp_len, .fp_hash = e->fp_hash})) {
        e->used = 1;
        f->read_off = e->offset <= f->size ? e->offset : 0;
        if (e->offset > f->size)
            log_msg(LOG_INFO, c->conf->log_tag, "[%s] %s shrank while stopped (%" PRIu64 " < %" PRIu64
                    "): reading from the start", c->in->name, path, f->size, e->offset);
    } else {
        int head = c->scan_done || !c->first_start || f->start_at_head
                       ? c->conf->read_new_from_head
                       : c->conf->read_from_head;
        f->read_off = head ? 0 : f->size;
    }
    f->ack_off = f->read_off;
    tail_table_add(&c->table, f);
    /* Over max_open_files: known, queued, and reopened when its turn comes. */
    if (make_room(c) < 0)
        tail_file_close(f);
    else
        file_opened(c, f);
    c->dirty = 1;
    log_msg(LOG_DEBUG, c->conf->log_tag, "[%s] following %s (inode %" PRIu64 ") from offset %" PRIu64,
            c->in->name, path, f->ino, f->read_off);
    make_ready(c, f);
}

static void found(void *arg, const char *path, const struct stat *st, int err)
{
    found_try(arg, path, st, err, 0);
}

/* Verify f's name still leads to it; handle rotation if not. */
static void check_path(struct tail_engine *c, struct tail_file *f)
{
    f->check_path = 0;
    if (!f->path || f->rotated)
        return;
    struct stat st;
    char *path = xstrdup(f->path);
    switch (tail_file_check_path(f, &st)) {
    case TAIL_PATH_SAME:
    case TAIL_PATH_ERROR:
        break;
    case TAIL_PATH_GONE:
    case TAIL_PATH_REPLACED:
        if (f->fd < 0) {
            /* Closed and gone: nothing left to read through it. */
            tail_table_set_path(&c->table, f, NULL);
            f->rotated = 1;
            f->rotated_ms = c->now_mono;
        } else {
            detach(c, f, "was rotated, renamed or deleted");
        }
        if (tw_matches(c->watch, path) && stat(path, &st) == 0)
            found(c, path, &st, 0);
        break;
    }
    free(path);
}

/* ------------------------------------------------------------- reading */

/* Read one chunk of f; returns 1 if it has more right away. */
static int read_file(struct tail_engine *c, struct tail_file *f, size_t *budget)
{
    if (f->check_path)
        check_path(c, f);
    if (f->dead)
        return 0;
    if (f->fd < 0) {
        if (f->rotated)
            return 0;
        if (make_room(c) < 0) {
            f->wait_fd = 1; /* retried when a file is closed */
            return 0;
        }
        f->wait_fd = 0;
        if (tail_file_reopen(f) < 0) {
            if (errno == ESTALE || errno == ENOENT) {
                f->check_path = 1;
                check_path(c, f);
            } else if (f->path) {
                problem(c, f->path, errno, "cannot reopen");
            }
            return 0;
        }
        file_opened(c, f);
    }
    /* Waking after a wait: a copytruncate may have shrunk the file and let
     * it grow back past our offset, which no size check would reveal; its
     * first bytes would have changed. One small pread per wake (when
     * polling sizes of very busy files, at most one a second). */
    if (f->at_eof && f->fp_len > 0 && (!c->size_polling || c->now_mono - f->last_read_ms >= 1000) &&
        !tail_fingerprint_matches(f->fd, f->fp_len, f->fp_hash)) {
        log_msg(LOG_INFO, c->conf->log_tag, "[%s] %s was truncated and rewritten (its first bytes changed): "
                "reading from the start", c->in->name, f->path ? f->path : f->first_path);
        flush_ml(c, f);
        tail_file_restart(f);
        c->truncations++;
        c->dirty = 1;
    }
    f->last_read_ms = c->now_mono;
    c->chunk_now_ns = now_ns();
    uint64_t before = f->read_off;
    enum tail_read_result r = tail_file_read_chunk(&c->reader, f);
    if (r == TAIL_READ_ERROR) {
        const char *p = f->path ? f->path : f->first_path;
        problem(c, p, errno, "cannot read");
        if (!f->rotated)
            file_close(c, f);
        return 0;
    }
    if (f->read_off != before) {
        f->last_data_ms = c->now_mono;
        lru_touch(c, f);
        *budget = *budget > f->read_off - before ? *budget - (size_t)(f->read_off - before) : 0;
    }
    if (r == TAIL_READ_MORE)
        return 1;
    /* Only an empty read can reveal a truncation by size: skip the fstat
     * when data came (the common case of a growing file). */
    if (f->read_off == before && tail_file_truncated(f)) {
        log_msg(LOG_INFO, c->conf->log_tag, "[%s] %s was truncated (%" PRIu64 " < %" PRIu64
                "): reading from the start", c->in->name, f->path ? f->path : f->first_path,
                f->size, f->read_off);
        flush_ml(c, f);
        tail_file_restart(f);
        c->truncations++;
        c->dirty = 1;
        return 1;
    }
    tail_file_refresh_fingerprint(f);
    return 0;
}

/* Is f to wait for an older sibling (ops.defer)? Returns the blocker, read
 * in f's turn; one that does not move over DEFER_MAX_PASSES of f's turns
 * is stuck (an unterminated last line) and f goes ahead. Turns happen only
 * while reading, never while paused. */
static struct tail_file *deferred(struct tail_engine *c, struct tail_file *f)
{
    struct tail_file *blocker = c->ops.defer ? c->ops.defer(c->arg, f) : NULL;
    if (!blocker) {
        f->defer_passes = 0;
        return NULL;
    }
    /* Progress: the blocker moved, or it is another file (the one before
     * was read to its end; a backlog of rotations drains one by one). */
    if (blocker->read_off != f->defer_mark || blocker->cookie != f->defer_cookie) {
        f->defer_mark = blocker->read_off;
        f->defer_cookie = blocker->cookie;
        f->defer_passes = 0;
    }
    if (++f->defer_passes <= DEFER_MAX_PASSES)
        return blocker;
    f->defer_passes = 0;
    log_msg(LOG_DEBUG, c->conf->log_tag, "[%s] %s: an older file of the same source does not "
            "move; reading this one meanwhile", c->in->name, f->path ? f->path : f->first_path);
    return NULL;
}

static void on_idle(struct loop *loop, void *arg)
{
    struct tail_engine *c = arg;
    (void)loop;
    if (c->stopped)
        return;
    c->now_mono = mono_ms();
    size_t budget = READ_BUDGET;
    int64_t until_ms = mono_ms() + READ_TIME_BUDGET_MS;
    /* One pass over the files ready now; those with more go to the back. */
    for (size_t n = c->nready; n > 0 && c->ready_head && budget > 0 && mono_ms() < until_ms; n--) {
        if (pipeline_input_paused(c->in)) {
            c->paused = 1;
            return;
        }
        struct tail_file *f = pop_ready(c), *blocker;
        /* A deferred file's turn goes to its blocker (the oldest of its
         * siblings with bytes left): a backlog of rotated files drains in
         * one pass, whatever order they were found in. */
        for (int depth = 0; f && (blocker = deferred(c, f)) != NULL; depth++) {
            make_ready(c, f);
            f = NULL;
            if (blocker->in_ready && depth < 8) {
                unready(c, blocker);
                f = blocker;
            }
        }
        if (!f)
            continue;
        int more = read_file(c, f, &budget);
        if (more)
            make_ready(c, f);
    }
    if (c->ready_head)
        loop_idle_arm(c->in->loop, &c->idle);
}

/* ------------------------------------------------------------ inotify */

static void on_event(void *arg, const char *path, uint32_t mask)
{
    struct tail_engine *c = arg;
    if (c->stopped)
        return;
    c->now_mono = mono_ms();
    if (path && (mask & IN_IGNORED))
        log_msg(LOG_INFO, c->conf->log_tag,
                "[%s] directory %s went away (deleted or unmounted): its open files are read to "
                "their end, and it is looked for again at every rescan",
                c->in->name, path);
    if (!path || (mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))) {
        /* Lost events, or a watched directory went away: check everything. */
        struct tail_file *f;
        TAIL_TABLE_FOREACH(&c->table, i, f)
        {
            f->check_path = 1;
            make_ready(c, f);
        }
        c->rescan_soon = 1;
        return;
    }
    struct tail_file *f = tail_table_by_path(&c->table, path);
    if (f) {
        if (mask & (IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_MOVED_TO | IN_ATTRIB))
            f->check_path = 1;
        make_ready(c, f);
    }
    if (mask & (IN_CREATE | IN_MOVED_TO | IN_ATTRIB | (f ? 0 : IN_MODIFY))) {
        if (mask & IN_ISDIR) {
            c->rescan_soon = 1;
        } else if ((!f || (mask & (IN_CREATE | IN_MOVED_TO))) && tw_matches(c->watch, path)) {
            struct stat st;
            if (stat(path, &st) == 0)
                found(c, path, &st, 0);
            else if (errno != ENOENT)
                found(c, path, NULL, errno);
        }
    }
}

/* ---------------------------------------------------------- checkpoint */

static void save_checkpoint(struct tail_engine *c)
{
    if (!c->ckpt_path)
        return;
    struct buf *b = &c->ckpt_entries_scratch;
    buf_reset(b);
    struct tail_file *f;
    TAIL_TABLE_FOREACH(&c->table, i, f)
    {
        if (f->dead)
            continue;
        struct ckpt_entry e = {.dev = f->dev, .ino = f->ino, .fp_len = f->fp_len,
                               .fp_hash = f->fp_hash, .offset = f->ack_off,
                               .path = f->path ? f->path : f->first_path};
        buf_append(b, &e, sizeof(e));
    }
    int n = (int)(b->len / sizeof(struct ckpt_entry));
    /* Entries of files not found yet (a vanished mount, say) are kept. */
    for (int i = 0; i < c->store.count; i++) {
        struct ckpt_entry *e = &c->store.entries[i];
        if (!e->used) {
            buf_append(b, e, sizeof(*e));
            n++;
        }
    }
    if (ckpt_write(c->ckpt_path, (const struct ckpt_entry *)b->data, n) < 0) {
        static struct log_limit lim;
        log_every(&lim, 60000, LOG_WARN, c->conf->log_tag, "[%s] cannot save checkpoint %s: %s",
                  c->in->name, c->ckpt_path, strerror(errno));
        return;
    }
    c->dirty = 0;
}

/* Checkpoint entries no file matched at start: the file may have been
 * rotated to a name outside the globs while we were stopped. Find it by
 * inode next to its old name and read what we had not, then let it go. */
static void recover_orphans(struct tail_engine *c)
{
    for (int i = 0; i < c->store.count; i++) {
        struct ckpt_entry *e = &c->store.entries[i];
        if (e->used || !e->path || e->path[0] != '/')
            continue;
        char *copy = xstrdup(e->path);
        char *dir = dirname(copy);
        struct stat dst;
        if (stat(dir, &dst) < 0 || (uint64_t)dst.st_dev != e->dev) {
            free(copy);
            continue; /* directory gone or another filesystem there (unmounted?): keep the entry */
        }
        e->used = 1; /* dropped from the store unless found below */
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if ((uint64_t)de->d_ino != e->ino)
                continue;
            char *p = xasprintf("%s/%s", dir, de->d_name);
            struct stat st;
            int fd = tail_open_regular(p, &st);
            if (fd >= 0 && (uint64_t)st.st_dev == e->dev && (uint64_t)st.st_ino == e->ino &&
                tail_fingerprint_matches(fd, e->fp_len, e->fp_hash) &&
                !tail_table_by_inode(&c->table, e->dev, e->ino) && e->offset < (uint64_t)st.st_size) {
                struct tail_file *f = tail_file_new(e->path);
                f->owner = c;
                if (c->ops.opened)
                    c->ops.opened(c->arg, f);
                f->fd = fd;
                fd = -1;
                f->dev = e->dev;
                f->ino = e->ino;
                f->size = (uint64_t)st.st_size;
                f->fp_len = e->fp_len;
                f->fp_hash = e->fp_hash;
                f->read_off = f->ack_off = e->offset;
                f->last_data_ms = c->now_mono;
                tail_table_add(&c->table, f);
                file_opened(c, f);
                tail_table_set_path(&c->table, f, NULL);
                f->rotated = 1;
                f->rotated_ms = c->now_mono;
                log_msg(LOG_INFO, c->conf->log_tag, "[%s] %s was rotated to %s while stopped: reading its rest",
                        c->in->name, e->path, p);
                make_ready(c, f);
            }
            if (fd >= 0)
                close(fd);
            free(p);
            break;
        }
        if (d)
            closedir(d);
        free(copy);
    }
}

/* --------------------------------------------------------------- timer */

static void rescan(struct tail_engine *c)
{
    c->scan_gen++;
    c->rescan_soon = 0;
    c->last_rescan_ms = c->now_mono;
    expire_let_go(c);
    tw_scan(c->watch);
    /* A followed name the globs no longer produce: an event was missed
     * (or never sent, as for an unmounted volume). */
    struct tail_file *f;
    TAIL_TABLE_FOREACH(&c->table, i, f)
    {
        if (f->path && !f->rotated && f->seen_scan != c->scan_gen) {
            f->check_path = 1;
            make_ready(c, f);
        }
    }
}

/* Once a second: are write events or size polls the cheaper way to learn
 * that files grew? An event costs more than an fstat, and arrives for every
 * write; a poll costs one fstat per open file per read_interval. Switch to
 * polling when events are many (over 1000/s) and outnumber polls twice
 * over; switch back when fewer than one polled file in sixteen grew. Few
 * busy files stay on events: they are read within ~20 ms of a write, which
 * keeps copytruncate's window (lines written but not yet read when the file
 * is truncated are lost) as short as we can make it. */
static void adapt_write_events(struct tail_engine *c, int64_t now)
{
    if (now - c->last_rate_ms < 1000 || c->conf->settings.read_interval_ms <= 0)
        return;
    int64_t span = now - c->last_rate_ms;
    c->last_rate_ms = now;
    uint64_t events = tw_take_modify_events(c->watch) * 1000 / (uint64_t)span;
    uint64_t polls = (uint64_t)c->open_count * 1000 / (uint64_t)c->conf->settings.read_interval_ms;
    if (!c->size_polling && events > 1000 && events > 2 * polls && polls > 0) {
        c->size_polling = 1;
        tw_set_modify_events(c->watch, 0);
        log_msg(LOG_DEBUG, c->conf->log_tag, "[%s] %" PRIu64 " writes/s to %d open files: polling sizes",
                c->in->name, events, c->open_count);
    } else if (c->size_polling && c->grown * 16 < c->polled) {
        c->size_polling = 0;
        tw_set_modify_events(c->watch, 1);
        log_msg(LOG_DEBUG, c->conf->log_tag, "[%s] writes slowed down: back to write events", c->in->name);
    }
    c->polled = c->grown = 0;
}

static void on_tick(struct loop *loop, void *arg)
{
    struct tail_engine *c = arg;
    (void)loop;
    if (c->stopped)
        return;
    c->now_mono = mono_ms();
    int64_t now = c->now_mono;
    const struct tail_engine_conf *conf = c->conf;
    int degraded = tw_degraded(c->watch);

    int64_t rescan_every = degraded ? conf->poll_interval_ms : conf->settings.refresh_interval_ms;
    if (c->rescan_soon || now - c->last_rescan_ms >= rescan_every)
        rescan(c);
    int poll = degraded && now - c->last_poll_ms >= conf->poll_interval_ms;
    if (poll)
        c->last_poll_ms = now;
    adapt_write_events(c, now);
    int size_poll = c->size_polling && now - c->last_size_poll_ms >= conf->settings.read_interval_ms - TICK_MS / 2;
    if (size_poll)
        c->last_size_poll_ms = now;

    c->no_room = 0;
    struct tail_file *f;
    TAIL_TABLE_FOREACH(&c->table, i, f)
    {
        if (f->wait_fd) {
            f->wait_fd = 0;
            make_ready(c, f);
        }
        if (c->ops.tick)
            c->ops.tick(c->arg, f, now);
        /* Nothing outstanding: everything read is accounted for. */
        if (f->pending == 0 && !held(c, f) && f->ack_off != f->read_off) {
            f->ack_off = f->read_off;
            c->dirty = 1;
        }
        if (f->dead) {
            if (f->pending == 0)
                forget(c, f);
            continue;
        }
        if (f->rotated) {
            /* No event names a rotated file: look for late writes. */
            struct stat rst;
            if (f->fd >= 0 && !f->in_ready && fstat(f->fd, &rst) == 0 &&
                (uint64_t)rst.st_size != f->read_off)
                make_ready(c, f);
            if (f->in_ready || now - f->last_data_ms < conf->settings.rotate_wait_ms ||
                now - f->rotated_ms < conf->settings.rotate_wait_ms)
                continue;
            if (f->fd >= 0) {
                tail_file_flush_partial(&c->reader, f);
                flush_ml(c, f);
                file_close(c, f);
            }
            /* Kept (closed) until a rescan after rotate_wait has not found
             * it under a matching name, then forgotten once acknowledged. */
            if (f->seen_scan != c->scan_gen && c->last_rescan_ms > f->rotated_ms + conf->settings.rotate_wait_ms) {
                f->dead = 1;
                if (f->pending == 0)
                    forget(c, f);
            }
            continue;
        }
        if (f->fd >= 0 && !f->in_ready && f->at_eof && now - f->last_data_ms >= conf->settings.close_inactive_ms &&
            !held(c, f)) {
            file_close(c, f);
            continue;
        }
        if (size_poll && f->fd >= 0 && !f->in_ready && !poll) {
            struct stat st;
            c->polled++;
            if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size != f->read_off) {
                c->grown++;
                make_ready(c, f);
            }
        }
        if (poll) {
            struct stat st;
            if (f->fd >= 0) {
                if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size != f->read_off)
                    make_ready(c, f);
                f->check_path = 1;
                if (!f->in_ready)
                    check_path(c, f);
            } else if (f->path && stat(f->path, &st) == 0 && (uint64_t)st.st_ino == f->ino &&
                       (uint64_t)st.st_size != f->read_off) {
                make_ready(c, f);
            } else if (f->path) {
                f->check_path = 1;
                make_ready(c, f);
            }
        }
    }
    if (c->dirty && now - c->last_ckpt_ms >= conf->settings.checkpoint_interval_ms - TICK_MS / 2) {
        c->last_ckpt_ms = now;
        save_checkpoint(c);
    }
}

/* ------------------------------------------------------------------ API */

struct tail_engine *tail_engine_new(struct input_instance *in, const struct tail_engine_conf *conf,
                                    const struct tail_engine_ops *ops, void *arg)
{
    struct tail_engine *c = xcalloc(1, sizeof(*c));
    c->in = in;
    c->conf_copy = *conf;
    if (!c->conf_copy.ckpt_dir)
        c->conf_copy.ckpt_dir = "tail";
    if (!c->conf_copy.log_tag)
        c->conf_copy.log_tag = "tail";
    c->conf = &c->conf_copy;
    c->ops = *ops;
    c->arg = arg;
    tail_table_init(&c->table);
    buf_init(&c->ckpt_entries_scratch);
    tail_reader_init(&c->reader, conf->buffer_size, conf->max_line_size);
    atomic_fetch_add(&in->buffer_bytes, c->reader.cap); /* counted against memory_limit */
    c->reader.long_mode = conf->long_mode;
    c->reader.marker = conf->long_line_marker ? conf->long_line_marker : "";
    c->reader.marker_len = strlen(c->reader.marker);
    c->reader.line = on_line;
    c->reader.arg = c;
    loop_idle_init(&c->idle, on_idle, c);
    return c;
}

/* Positions are loaded at start, not init: check-config must not create
 * directories, and on reload the old instance saves its last positions
 * after the new one was loaded. */
static int load_checkpoint(struct tail_engine *c)
{
    struct input_instance *in = c->in;
    const char *data_dir = in->host ? in->host->data_dir : NULL;
    if (data_dir && *data_dir) {
        c->ckpt_path = xasprintf("%s/%s/%s.ckpt", data_dir, c->conf->ckpt_dir, in->name);
        if (ckpt_load(&c->store, c->ckpt_path) < 0) {
            log_msg(LOG_ERROR, c->conf->log_tag, "[%s] cannot create %s/%s: %s", in->name,
                    data_dir, c->conf->ckpt_dir, strerror(errno));
            return -1;
        }
    } else {
        log_msg(LOG_WARN, c->conf->log_tag,
                "[%s] no agent data_dir: positions are not kept across restarts", in->name);
    }
    c->first_start = !c->store.existed;
    return 0;
}

int tail_engine_start(struct tail_engine *c)
{
    struct input_instance *in = c->in;
    c->now_mono = mono_ms();
    if (load_checkpoint(c) < 0)
        return -1;
    c->watch = tw_new(in->loop, c->conf->path, c->conf->exclude_path, c->conf->max_watches, found,
                      on_event, c);
    c->started = 1;
    tw_set_coalesce(c->watch, 20);
    rescan(c);
    recover_orphans(c);
    c->scan_done = 1;
    c->last_poll_ms = c->last_ckpt_ms = c->last_rate_ms = c->now_mono;
    /* Record what was found at the very first start right away, so that a
     * crash before the first periodic save does not make it "first" again. */
    save_checkpoint(c);
    log_msg(LOG_INFO, c->conf->log_tag, "[%s] following %u files, %d directories watched%s",
            in->name, c->table.count, tw_watch_count(c->watch),
            tw_degraded(c->watch) ? " (polling some)" : "");
    c->tick = loop_timer_add(in->loop, TICK_MS, TICK_MS, on_tick, c);
    if (c->ready_head)
        loop_idle_arm(in->loop, &c->idle);
    return 0;
}

void tail_engine_resume(struct tail_engine *c)
{
    if (!c->paused || c->stopped)
        return;
    c->paused = 0;
    loop_idle_arm(c->in->loop, &c->idle);
}

void tail_engine_commit(struct tail_engine *c, uint64_t cookie_a, uint64_t cookie_b)
{
    struct tail_file *f = tail_table_by_cookie(&c->table, cookie_a);
    if (!f)
        return;
    if (f->pending > 0)
        f->pending--;
    if ((uint16_t)(cookie_a >> 48) == f->epoch && cookie_b > f->ack_off) {
        f->ack_off = cookie_b;
        c->dirty = 1;
    }
}

void tail_engine_stop(struct tail_engine *c)
{
    if (c->stopped)
        return;
    struct tail_file *f;
    TAIL_TABLE_FOREACH(&c->table, i, f)
    flush_ml(c, f);
    c->stopped = 1;
    if (c->in->loop)
        loop_idle_cancel(c->in->loop, &c->idle);
    if (c->tick)
        loop_timer_del(c->in->loop, c->tick);
    c->tick = NULL;
}

void tail_engine_free(struct tail_engine *c)
{
    if (!c)
        return;
    if (!c->stopped && c->in->loop && c->started)
        tail_engine_stop(c);
    if (c->watch) {
        save_checkpoint(c);
        tw_free(c->watch);
    }
    tail_table_free(&c->table);
    atomic_fetch_sub(&c->in->buffer_bytes, c->reader.cap);
    tail_reader_free(&c->reader);
    ckpt_free(&c->store);
    for (int i = 0; i < c->nproblems; i++)
        free(c->problems[i].path);
    free(c->problems);
    free(c->let_go);
    free(c->ckpt_path);
    buf_free(&c->ckpt_entries_scratch);
    free(c);
}

void tail_engine_describe(struct tail_engine *c, struct buf *out)
{
    buf_printf(out,
               "files=%u open=%d watches=%d%s rotations=%" PRIu64 " truncations=%" PRIu64
               " long_lines=%" PRIu64 " invalid_utf8=%" PRIu64,
               c->table.count, c->open_count, c->watch ? tw_watch_count(c->watch) : 0,
               c->watch && tw_degraded(c->watch) ? " polling" : "", c->rotations, c->truncations,
               c->reader.long_lines, c->reader.invalid_utf8);
}

void tail_engine_emitted(struct tail_file *f, uint64_t end_off, uint64_t *cookie_a,
                         uint64_t *cookie_b)
{
    *cookie_a = tail_cookie(f);
    *cookie_b = end_off;
    f->pending++;
}

int64_t tail_engine_now(const struct tail_engine *c)
{
    return c->now_mono;
}

int tail_engine_unread(struct tail_engine *c, struct tail_file *f)
{
    if (f->in_ready)
        return 1;
    struct stat st;
    if (f->dead || f->fd < 0 || fstat(f->fd, &st) < 0 || (uint64_t)st.st_size <= f->read_off)
        return 0;
    make_ready(c, f);
    return f->in_ready;
}

int tail_engine_follows(struct tail_engine *c, uint64_t dev, uint64_t ino)
{
    return tail_table_by_inode(&c->table, dev, ino) != NULL;
}

int tail_engine_look(struct tail_engine *c, const char *path)
{
    struct stat st;
    if (c->stopped || !tw_matches(c->watch, path) || stat(path, &st) < 0)
        return 0;
    found(c, path, &st, 0);
    return tail_table_by_inode(&c->table, (uint64_t)st.st_dev, (uint64_t)st.st_ino) != NULL;
}

void tail_engine_rescan_soon(struct tail_engine *c)
{
    c->rescan_soon = 1;
}

void tail_engine_release(struct tail_engine *c, const char *prefix)
{
    size_t n = strlen(prefix);
    struct tail_file *f;
    TAIL_TABLE_FOREACH(&c->table, i, f)
    {
        const char *p = f->path ? f->path : f->first_path;
        if (strncmp(p, prefix, n) != 0 || f->dead)
            continue;
        f->check_path = 1;
        make_ready(c, f);
    }
}

struct tail_reader *tail_engine_reader(struct tail_engine *c)
{
    return &c->reader;
}
