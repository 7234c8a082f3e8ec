/* `file` output: JSON lines in a directory, optionally gzip-compressed,
 * rotated by size with a cap on kept files.
 *
 * Files: <path>/<file> is written; on rotation it becomes <file>.1, the
 * previous .1 becomes .2, ... up to rotate_keep; older ones are deleted.
 * With gzip each batch is written as one gzip member: concatenated members
 * are one valid gzip stream (zcat, gzip -d), and a failed write can be cut
 * off cleanly without corrupting what came before.
 *
 * A write that fails (full disk, unwritable directory) is undone with
 * ftruncate, logged, and the batch is retried later: the records stay in
 * the pipeline's memory, within its limit, and inputs pause when it is
 * reached. Nothing is dropped. */
#include "collector/core/config.h"
#include "collector/core/log.h"
#include "collector/pipeline/jsonl.h"
#include "collector/pipeline/batch.h"
#include "collector/plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct file_conf {
    char *path;
    char *file;
    int gzip;
    uint64_t rotate_size;
    int64_t rotate_keep;
    int fsync;
};

static const struct option_def file_options[] = {
    {"path", OPT_STRING, NULL, OPT_REQUIRED, offsetof(struct file_conf, path), NULL,
     "directory the files are written in (created if missing)"},
    {"file", OPT_STRING, NULL, 0, offsetof(struct file_conf, file), NULL,
     "file name; default <output name>.jsonl (.jsonl.gz with gzip)"},
    {"gzip", OPT_BOOL, "false", 0, offsetof(struct file_conf, gzip), NULL,
     "gzip-compress the file (one gzip member per batch)"},
    {"rotate_size", OPT_SIZE, "100MiB", 0, offsetof(struct file_conf, rotate_size), NULL,
     "rotate when the file would grow past this size; 0 = never"},
    {"rotate_keep", OPT_INT, "5", 0, offsetof(struct file_conf, rotate_keep), "0..1000",
     "rotated files kept (<file>.1 is the newest)"},
    {"fsync", OPT_BOOL, "false", 0, offsetof(struct file_conf, fsync), NULL,
     "fsync after every batch"},
    {0},
};

struct file_state {
    struct file_conf *conf;
    char *full_path;
    int fd;
    uint64_t size;
    struct buf text;
    struct buf packed;
    struct log_limit error_limit;
};

static int file_init(struct output_instance *out, struct diag *diag)
{
    struct file_conf *conf = out->conf;
    if (conf->file && (strchr(conf->file, '/') || !conf->file[0])) {
        const struct conf_entry *e = conf_section_get(out->section, "file");
        diag_add(diag, e ? e->file : NULL, e ? e->line : 0,
                 "file = '%s': a plain file name is expected (the directory goes in path)", conf->file);
        return -1;
    }
    struct file_state *st = xcalloc(1, sizeof *st);
    st->conf = conf;
    st->fd = -1;
    if (conf->file)
        st->full_path = xasprintf("%s/%s", conf->path, conf->file);
    else
        st->full_path = xasprintf("%s/%s.jsonl%s", conf->path, out->name, conf->gzip ? ".gz" : "");
    buf_init(&st->text);
    buf_init(&st->packed);
    out->ctx = st;
    return 0;
}

static int open_current(struct output_instance *out, struct file_state *st)
{
    if (st->fd >= 0)
        return 0;
    if (mkdir_p(st->conf->path) < 0) {
        log_every(&st->error_limit, 10000, LOG_ERROR, "file", "output %s: cannot create %s: %s",
                  out->name, st->conf->path, strerror(errno));
        return -1;
    }
    st->fd = open(st->full_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (st->fd < 0) {
        log_every(&st->error_limit, 10000, LOG_ERROR, "file", "output %s: cannot open %s: %s",
                  out->name, st->full_path, strerror(errno));
        return -1;
    }
    struct stat sb;
    st->size = fstat(st->fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    return 0;
}

static void rotate(struct output_instance *out, struct file_state *st)
{
    close(st->fd);
    st->fd = -1;
    int keep = (int)st->conf->rotate_keep;
    if (keep <= 0) {
        unlink(st->full_path);
        return;
    }
    char from[4200], to[4200];
    snprintf(to, sizeof to, "%s.%d", st->full_path, keep);
    unlink(to);
    for (int i = keep - 1; i >= 1; i--) {
        snprintf(from, sizeof from, "%s.%d", st->full_path, i);
        snprintf(to, sizeof to, "%s.%d", st->full_path, i + 1);
        rename(from, to);
    }
    snprintf(to, sizeof to, "%s.1", st->full_path);
    if (rename(st->full_path, to) < 0)
        log_msg(LOG_WARN, "file", "output %s: cannot rotate %s: %s", out->name, st->full_path,
                strerror(errno));
}

/* Compress text into one complete gzip member. */
static int gzip_member(struct buf *dst, const struct buf *src)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    buf_reset(dst);
    buf_reserve(dst, deflateBound(&zs, src->len) + 32);
    zs.next_in = (Bytef *)src->data;
    zs.avail_in = (uInt)src->len;
    zs.next_out = (Bytef *)dst->data;
    zs.avail_out = (uInt)(dst->cap - 1);
    int rc = deflate(&zs, Z_FINISH);
    dst->len = zs.total_out;
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -1;
}

static enum output_result file_send(struct output_instance *out, void *worker, struct batch *b)
{
    struct file_state *st = out->ctx;
    (void)worker;
    buf_reset(&st->text);
    jsonl_append_batch(&st->text, b);
    const struct buf *data = &st->text;
    if (st->conf->gzip) {
        if (gzip_member(&st->packed, &st->text) < 0) {
            log_msg(LOG_ERROR, "file", "output %s: gzip compression failed", out->name);
            return OUTPUT_RETRY;
        }
        data = &st->packed;
    }
    if (open_current(out, st) < 0)
        return OUTPUT_RETRY;
    if (st->conf->rotate_size && st->size > 0 && st->size + data->len > st->conf->rotate_size) {
        rotate(out, st);
        if (open_current(out, st) < 0)
            return OUTPUT_RETRY;
    }
    if (write_all(st->fd, data->data, data->len) < 0 ||
        (st->conf->fsync && fdatasync(st->fd) < 0)) {
        int err = errno;
        /* Undo the partial write so the file never holds half a batch. */
        if (ftruncate(st->fd, (off_t)st->size) < 0) {
            close(st->fd);
            st->fd = -1;
        }
        log_every(&st->error_limit, 10000, LOG_ERROR, "file",
                  "output %s: writing %zu bytes to %s failed: %s; the batch is kept and retried",
                  out->name, data->len, st->full_path, strerror(err));
        return OUTPUT_RETRY;
    }
    st->size += data->len;
    return OUTPUT_OK;
}

static void file_describe(struct output_instance *out, struct buf *text)
{
    struct file_state *st = out->ctx;
    buf_printf(text, "JSON lines%s in %s", st->conf->gzip ? " (gzip)" : "", st->full_path);
}

static void file_shutdown(struct output_instance *out)
{
    struct file_state *st = out->ctx;
    if (!st)
        return;
    if (st->fd >= 0)
        close(st->fd);
    buf_free(&st->text);
    buf_free(&st->packed);
    free(st->full_path);
    free(st);
    out->ctx = NULL;
}

const struct output_plugin file_output = {
    .name = "file",
    .description = "write records as JSON lines to a file, with rotation and optional gzip",
    .flags = OUTPUT_LOGS | OUTPUT_METRICS,
    .options = file_options,
    .conf_size = sizeof(struct file_conf),
    .init = file_init,
    .send = file_send,
    .describe = file_describe,
    .shutdown = file_shutdown,
};
