/* One followed file, and the table of them: the reusable core of every
 * input that follows files (tail, and the Docker container-logs input for
 * <id>-json.log and its rotations).
 *
 * A struct tail_file is identified by device + inode + a hash of its first
 * TAIL_FP_MAX bytes (the fingerprint: it tells a reused inode from the file
 * we knew). It remembers three offsets:
 *
 *   ack_off  <=  (records emitted)  <=  read_off  <=  size
 *
 * read_off is the start of the first line not yet complete: reading always
 * resumes there with pread(), so a partial last line is simply read again
 * once its newline arrives (no per-file carry buffer). ack_off is where the
 * outputs have acknowledged up to; only it is ever checkpointed.
 *
 * tail_file_read_chunk() reads one chunk into the shared struct tail_reader
 * buffer and hands every complete line (CR stripped, invalid UTF-8 repaired,
 * long lines cut per the policy) to the reader's callback, by pointer: no
 * allocation per line.
 *
 * struct tail_table finds files by ack cookie (slot + generation, O(1)),
 * by (dev, ino) and by path. */
#ifndef COLLECTOR_TAIL_FILE_H
#define COLLECTOR_TAIL_FILE_H

#include "collector/core/util.h"
#include "parsers/multiline.h"
#include "parsers/timestamp.h"

#include <stdint.h>
#include <sys/stat.h>

#define TAIL_FP_MAX 256

struct meta;
struct tail_file;

enum tail_long_mode { TAIL_LONG_TRUNCATE = 0, TAIL_LONG_SPLIT };

typedef void (*tail_line_fn)(void *arg, struct tail_file *f, const char *line, size_t len,
                             uint64_t end_off);

struct tail_reader {
    char *buf;                  /* shared read buffer */
    size_t cap;
    size_t max_line;            /* longest line emitted whole */
    enum tail_long_mode long_mode;
    const char *marker;         /* appended to a truncated line ("" = none) */
    size_t marker_len;
    int repair_utf8;
    struct buf scratch;         /* a repaired or cut line */
    tail_line_fn line;
    void *arg;
    /* counters */
    uint64_t long_lines;
    uint64_t invalid_utf8;
};

struct tail_file {
    uint64_t cookie;            /* slot | gen << 32, set by the table */
    char *path;                 /* current name; NULL once rotated away or deleted */
    char *first_path;           /* the name it was found under (its metadata) */
    struct meta *meta;
    int fd;                     /* -1 when closed (idle, or over the open-file cap) */
    uint64_t dev, ino;
    uint32_t fp_len;
    uint64_t fp_hash;

    uint64_t read_off;
    uint64_t ack_off;
    uint64_t size;              /* end of file as last seen */
    uint64_t pending;           /* records emitted, not yet acknowledged */
    uint16_t epoch;             /* bumped when the file is truncated */

    unsigned skipping : 1;      /* discarding the rest of a truncated long line */
    unsigned rotated : 1;       /* path detached: drain the fd, then forget */
    unsigned dead : 1;          /* drained and closed; freed once pending == 0 */
    unsigned in_ready : 1;
    unsigned check_path : 1;    /* a directory event says its name may have moved */
    unsigned at_eof : 1;
    unsigned wait_fd : 1;       /* over max_open_files: waiting for a descriptor */
    unsigned start_at_head : 1; /* set by ops.opened: a source newer than the agent */

    int64_t last_data_ms;       /* monotonic: when data was last read */
    int64_t last_read_ms;       /* monotonic: when it was last read at all */
    int64_t rotated_ms;
    int64_t origin_ns;          /* owner's ordering key among related files (0 = not set) */
    uint64_t defer_mark;        /* ops.defer: the blocking file's read_off last seen */
    uint64_t defer_cookie;      /* and which file that was */
    uint32_t defer_passes;      /* reading passes held back without the blocker moving */
    uint32_t seen_scan;         /* last rescan that matched it */

    struct ml_state ml;
    struct ts_state ts;
    void *owner;

    struct tail_file *ino_next, *path_next, *ready_next;
    struct tail_file *lru_prev, *lru_next;
};

enum tail_read_result { TAIL_READ_MORE, TAIL_READ_EOF, TAIL_READ_ERROR };

/* Allocate a closed file for path (copied); not in any table yet. */
struct tail_file *tail_file_new(const char *path);
void tail_file_free(struct tail_file *f);

/* Open path read-only (never blocking, even on a FIFO) and fill identity and
 * size. Fails with errno = EISDIR / EINVAL (not a regular file: FIFO,
 * socket, device) / EACCES / ENOENT... Returns the fd or -1. */
int tail_open_regular(const char *path, struct stat *st);

/* Open f->path into f->fd and verify it is still the same file (dev, ino,
 * fingerprint). -1 with errno, or errno = ESTALE if a different file now
 * has the name. */
int tail_file_reopen(struct tail_file *f);
void tail_file_close(struct tail_file *f);

/* Hash of the first min(size, TAIL_FP_MAX) bytes of fd; returns the number
 * of bytes hashed (or -1). */
int tail_fingerprint(int fd, uint64_t *hash);
/* Do the first fp_len bytes of fd hash to fp_hash? */
int tail_fingerprint_matches(int fd, uint32_t fp_len, uint64_t fp_hash);
/* Extend f's fingerprint if it covers fewer than TAIL_FP_MAX bytes. */
void tail_file_refresh_fingerprint(struct tail_file *f);

/* Read one chunk from read_off and deliver its complete lines. */
enum tail_read_result tail_file_read_chunk(struct tail_reader *r, struct tail_file *f);

/* Deliver an unterminated last line (a rotated file's final bytes). */
void tail_file_flush_partial(struct tail_reader *r, struct tail_file *f);

/* Is the file now shorter than what we read (copytruncate)? */
int tail_file_truncated(struct tail_file *f);
/* Start again from offset 0 under a new epoch. */
void tail_file_restart(struct tail_file *f);

enum tail_path_state { TAIL_PATH_SAME, TAIL_PATH_GONE, TAIL_PATH_REPLACED, TAIL_PATH_ERROR };
/* Does f->path still name f? st receives the stat of what it names now. */
enum tail_path_state tail_file_check_path(const struct tail_file *f, struct stat *st);

void tail_reader_init(struct tail_reader *r, size_t chunk, size_t max_line);
void tail_reader_free(struct tail_reader *r);

/* ---------------------------------------------------------------- table */

struct tail_table {
    struct tail_file **slots;
    uint32_t *gens;
    uint32_t nslots;
    uint32_t *free_slots;
    uint32_t nfree;
    struct tail_file **by_ino;
    struct tail_file **by_path;
    uint32_t nbuckets;          /* power of two */
    uint32_t count;
};

void tail_table_init(struct tail_table *t);
/* Frees every file still in it. */
void tail_table_free(struct tail_table *t);
void tail_table_add(struct tail_table *t, struct tail_file *f);
void tail_table_remove(struct tail_table *t, struct tail_file *f);
struct tail_file *tail_table_by_cookie(struct tail_table *t, uint64_t cookie);
struct tail_file *tail_table_by_inode(struct tail_table *t, uint64_t dev, uint64_t ino);
struct tail_file *tail_table_by_path(struct tail_table *t, const char *path);
/* Change (or, with NULL, detach) f's path. */
void tail_table_set_path(struct tail_table *t, struct tail_file *f, const char *path);

#define TAIL_TABLE_FOREACH(t, i, f)                                                         \
    for (uint32_t i = 0; i < (t)->nslots; i++)                                              \
        if (((f) = (t)->slots[i]) != NULL)

/* The cookie_a of a record: which file, and which epoch of it. */
static inline uint64_t tail_cookie(const struct tail_file *f)
{
    return f->cookie | (uint64_t)f->epoch << 48;
}

#endif
