/* The file-following engine shared by the inputs that follow files (tail,
 * and containers for Docker's <id>-json.log and its rotations).
 *
 * An engine owns a tail_table, a tail_watch over a set of globs, the ready
 * queue read on loop idle (round robin, a byte budget per pass, stopping
 * while the pipeline is full), rotation and truncation handling, the
 * open-file LRU, the checkpoint store (<data_dir>/<ckpt_dir>/<input>.ckpt)
 * and a 100 ms tick. Its owner turns lines into records:
 *
 *  - ops.line gets every complete line of a file with the offset past it
 *    and the read time of its chunk; the owner emits (tail_engine_emitted()
 *    marks a record in flight for f) or holds it (multiline, partial lines);
 *  - ops.held says whether the owner holds lines of f not yet emitted (f is
 *    then not closed, and its offset not acknowledged past them);
 *  - ops.flush asks the owner to emit what it holds for f (rotation end,
 *    truncation, stop);
 *  - ops.defer (optional) holds a ready file back while an older file of
 *    the same source still has bytes to read (a container's rotated logs
 *    are read oldest first), returning that file; tail_engine_unread()
 *    tells it. Only a blocker that does not move while it is read (its
 *    last line never completed) is overtaken, after DEFER_MAX_PASSES
 *    reading passes: time spent paused by backpressure does not count;
 *  - ops.accept (optional) filters paths the globs match; ops.opened
 *    (optional) sees a newly followed file (to set f->meta and f->owner,
 *    and f->start_at_head for a source that began after the agent did),
 *    ops.forgotten (optional) its end.
 *
 * Everything runs on the loop thread. */
#ifndef COLLECTOR_TAIL_ENGINE_H
#define COLLECTOR_TAIL_ENGINE_H

#include "collector/core/options.h"
#include "collector/core/util.h"
#include "collector/inputs/tail/tail_file.h"

#include <stddef.h>
#include <stdint.h>

struct input_instance;
struct tail_engine;

/* The engine's settings the tail and containers inputs both take from
 * their sections: they embed this struct and bind tail_engine_options to
 * it with an OPT_INCLUDE_ROW, plus a close_inactive row of their own (its
 * default differs: 5m for tail, 1m for containers). */
struct tail_engine_settings {
    int64_t refresh_interval_ms;
    int64_t rotate_wait_ms;
    int64_t close_inactive_ms;
    int64_t max_open_files;
    int64_t read_interval_ms;
    int64_t checkpoint_interval_ms;
};

extern const struct option_def tail_engine_options[];

struct tail_engine_conf {
    const struct strlist *path;
    const struct strlist *exclude_path;
    struct tail_engine_settings settings;
    int64_t poll_interval_ms;
    int read_from_head;
    int read_new_from_head;
    int64_t max_watches;
    size_t buffer_size;
    size_t max_line_size;
    enum tail_long_mode long_mode;
    const char *long_line_marker;   /* NULL = none */
    const char *ckpt_dir;           /* subdirectory of data_dir ("tail") */
    const char *log_tag;            /* component name in log lines ("tail") */
};

struct tail_engine_ops {
    void (*line)(void *arg, struct tail_file *f, const char *line, size_t len, uint64_t end_off,
                 int64_t read_ns);
    void (*flush)(void *arg, struct tail_file *f);
    int (*held)(void *arg, const struct tail_file *f);
    /* Once per tick per file (multiline timeouts). */
    void (*tick)(void *arg, struct tail_file *f, int64_t now_mono);
    struct tail_file *(*defer)(void *arg, struct tail_file *f);
    int (*accept)(void *arg, const char *path);
    void (*opened)(void *arg, struct tail_file *f);
    /* f is about to be freed (optional). */
    void (*forgotten)(void *arg, struct tail_file *f);
};

/* conf is copied (the strlists and strings it points to must outlive it). */
struct tail_engine *tail_engine_new(struct input_instance *in, const struct tail_engine_conf *conf,
                                    const struct tail_engine_ops *ops, void *arg);
void tail_engine_free(struct tail_engine *e);   /* saves the checkpoint if started */

int tail_engine_start(struct tail_engine *e);
void tail_engine_resume(struct tail_engine *e);
void tail_engine_commit(struct tail_engine *e, uint64_t cookie_a, uint64_t cookie_b);
void tail_engine_stop(struct tail_engine *e);   /* flushes held lines */
void tail_engine_describe(struct tail_engine *e, struct buf *out);

/* A record of f, ending at end_off, is being emitted: fill the ack cookies. */
void tail_engine_emitted(struct tail_file *f, uint64_t end_off, uint64_t *cookie_a,
                         uint64_t *cookie_b);

/* Does f have bytes not read yet? If so it is (or is now) queued for
 * reading. For ops.defer, about f's older siblings. */
int tail_engine_unread(struct tail_engine *e, struct tail_file *f);
/* The monotonic ms of the current pass (for multiline feeding). */
int64_t tail_engine_now(const struct tail_engine *e);
/* Is the file (dev, ino) followed? */
int tail_engine_follows(struct tail_engine *e, uint64_t dev, uint64_t ino);
/* Look at path now, as an event naming it would (a file the owner knows is
 * there before the events or the rescan say so); 1 if it is followed. */
int tail_engine_look(struct tail_engine *e, const char *path);
/* Rescan the globs at the next tick (ops.accept changed its mind). */
void tail_engine_rescan_soon(struct tail_engine *e);
/* Read every followed file whose path starts with prefix to its current
 * end now (a stopped container); close_inactive then releases them. */
void tail_engine_release(struct tail_engine *e, const char *prefix);
struct tail_reader *tail_engine_reader(struct tail_engine *e);

#endif
