/* `tail` input: follow files matched by globs through every rotation.
 *
 * The following itself (finding files, rotation, truncation, the ready
 * queue, checkpoints) is the engine in tail_engine.c, shared with the
 * containers input. This file is the plugin: options, and the shaping of
 * lines into records (parsers/multiline and parsers/timestamp).
 *
 * Everything runs on the loop thread. */
#include "collector/core/config.h"
#include "collector/plugin.h"
#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/inputs/tail/tail_engine.h"
#include "collector/inputs/tail/tail_file.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"
#include "parsers/multiline.h"
#include "parsers/timestamp.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct tail_conf {
    struct strlist path;
    struct strlist exclude_path;
    int64_t poll_interval_ms;
    int read_from_head;
    int read_new_from_head;
    int64_t max_watches;
    uint64_t max_line_size;
    char *long_lines;
    char *long_line_marker;
    uint64_t buffer_size;
    char *ml_start;
    char *ml_parser;
    int64_t ml_timeout_ms;
    int64_t ml_max_lines;
    uint64_t ml_max_bytes;
    char *time_key;
    char *time_format;

    struct tail_engine_settings engine;   /* tail_engine_options and close_inactive */
};

static const struct option_def tail_options[] = {
    {"path", OPT_LIST, NULL, OPT_REQUIRED | OPT_MULTI, offsetof(struct tail_conf, path), NULL,
     "files to follow: globs with * ? [...] and ** (any directories); repeatable"},
    {"exclude_path", OPT_LIST, NULL, OPT_MULTI, offsetof(struct tail_conf, exclude_path), NULL,
     "globs to leave out (a pattern without / matches the file name)"},
    OPT_INCLUDE_ROW(offsetof(struct tail_conf, engine), tail_engine_options),
    {"poll_interval", OPT_DURATION, "1s", 0, offsetof(struct tail_conf, poll_interval_ms), NULL,
     "stat files and rescan this often when inotify cannot be used (unavailable, watch cap)"},
    {"read_from_head", OPT_BOOL, "false", 0, offsetof(struct tail_conf, read_from_head), NULL,
     "read files present at the very first start from their beginning (else from their end)"},
    {"read_newly_discovered_files_from_head", OPT_BOOL, "true", 0,
     offsetof(struct tail_conf, read_new_from_head), NULL,
     "read files that appear later (or while the agent was stopped) from their beginning"},
    {"close_inactive", OPT_DURATION, "5m", 0, offsetof(struct tail_conf, engine.close_inactive_ms), NULL,
     "close a file not written to for this long; it is reopened when it grows"},
    {"max_watches", OPT_INT, "4096", 0, offsetof(struct tail_conf, max_watches), "0..1000000",
     "inotify watches (directories) at most; beyond, directories are polled; 0 = poll only"},
    {"max_line_size", OPT_SIZE, "1MiB", 0, offsetof(struct tail_conf, max_line_size), NULL,
     "longest line kept whole (CloudWatch's event limit is 1 MiB)"},
    {"long_lines", OPT_ENUM, "truncate", 0, offsetof(struct tail_conf, long_lines),
     "truncate|split", "a longer line is truncated (rest skipped) or split into pieces"},
    {"long_line_marker", OPT_STRING, "[truncated]", 0, offsetof(struct tail_conf, long_line_marker),
     NULL, "appended to a truncated line (within max_line_size)"},
    {"buffer_size", OPT_SIZE, "256KiB", 0, offsetof(struct tail_conf, buffer_size), NULL,
     "read chunk (at least max_line_size + 1 is used)"},
    {"multiline.start", OPT_STRING, NULL, 0, offsetof(struct tail_conf, ml_start), NULL,
     "regex (PCRE2) matching the first line of a record; other lines are appended"},
    {"multiline.parser", OPT_ENUM, NULL, 0, offsetof(struct tail_conf, ml_parser),
     "java|go|python|ecs", "built-in first-line rule (instead of multiline.start)"},
    {"multiline.timeout", OPT_DURATION, "2s", 0, offsetof(struct tail_conf, ml_timeout_ms), NULL,
     "emit a pending record after this long without a new line"},
    {"multiline.max_lines", OPT_INT, "1000", 0, offsetof(struct tail_conf, ml_max_lines),
     "1..1000000", "lines per record at most"},
    {"multiline.max_bytes", OPT_SIZE, "1MiB", 0, offsetof(struct tail_conf, ml_max_bytes), NULL,
     "bytes per record at most"},
    {"time_key", OPT_STRING, NULL, 0, offsetof(struct tail_conf, time_key), NULL,
     "take the timestamp from this key (logfmt key=value or JSON \"key\":\"value\"); "
     "default the start of the line"},
    {"time_format", OPT_STRING, NULL, 0, offsetof(struct tail_conf, time_format), NULL,
     "strptime-like format (%Y-%m-%dT%H:%M:%S.%f%z); unset = read time; on failure the "
     "file's last good timestamp, else the read time"},
    {0},
};

struct tail_ctx {
    struct input_instance *in;
    struct tail_conf *conf;
    struct tail_engine *engine;
    struct ml_rule ml;
    int have_ml;
    int64_t chunk_now_ns;                      /* read time of the current chunk */
};

/* --------------------------------------------------------------- emit */

static int64_t record_time(struct tail_ctx *c, struct tail_file *f, const char *msg, size_t len,
                           int64_t read_ns)
{
    const struct tail_conf *conf = c->conf;
    if (!conf->time_format)
        return read_ns;
    const char *s = msg;
    size_t n = len;
    if (conf->time_key) {
        /* logfmt `key=value` or JSON `"key": "value"` */
        size_t klen = strlen(conf->time_key);
        const char *p = msg, *end = msg + len, *found = NULL;
        while ((p = memmem(p, (size_t)(end - p), conf->time_key, klen))) {
            const char *q = p + klen;
            int quoted = p > msg && p[-1] == '"';
            int boundary = p == msg || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '{' || p[-1] == ',' ||
                           quoted;
            if (quoted && q < end && *q == '"')
                q++;
            while (quoted && q < end && (*q == ' ' || *q == ':'))
                q++;
            if (!quoted && q < end && *q == '=')
                q++;
            else if (!quoted)
                boundary = 0;
            if (boundary && q < end) {
                if (*q == '"')
                    q++;
                found = q;
                break;
            }
            p++;
        }
        if (!found)
            return ts_resolve(&f->ts, 0, 0, read_ns);
        s = found;
        n = (size_t)(end - found);
    }
    int64_t ns;
    size_t used;
    int ok = ts_parse(conf->time_format, s, n, read_ns, 0, &ns, &used) == 0;
    return ts_resolve(&f->ts, ok, ns, read_ns);
}

static void emit(struct tail_ctx *c, struct tail_file *f, const char *msg, size_t len,
                 uint64_t end_off, int64_t read_ns)
{
    struct log_event ev = {0};
    ev.timestamp_ns = record_time(c, f, msg, len, read_ns);
    ev.message = msg;
    ev.message_len = len;
    ev.meta = f->meta;
    tail_engine_emitted(f, end_off, &ev.cookie_a, &ev.cookie_b);
    pipeline_emit_log(c->in, &ev);
}

static void on_ml_record(void *arg, const char *msg, size_t len, uint64_t end_off)
{
    struct tail_file *f = arg;
    struct tail_ctx *c = f->owner;
    if (len == 0)
        return; /* CloudWatch rejects empty events */
    emit(c, f, msg, len, end_off, c->chunk_now_ns ? c->chunk_now_ns : now_ns());
}

static void on_line(void *arg, struct tail_file *f, const char *line, size_t len, uint64_t end_off,
                    int64_t read_ns)
{
    struct tail_ctx *c = arg;
    c->chunk_now_ns = read_ns;
    if (c->have_ml) {
        if (len == 0 && f->ml.lines == 0)
            return; /* a blank line starts nothing */
        ml_feed(&c->ml, &f->ml, line, len, end_off, tail_engine_now(c->engine), on_ml_record,
                f);
        return;
    }
    if (len == 0)
        return; /* CloudWatch rejects empty events */
    emit(c, f, line, len, end_off, c->chunk_now_ns);
}


static void on_flush(void *arg, struct tail_file *f)
{
    struct tail_ctx *c = arg;
    if (c->have_ml && f->ml.lines) {
        c->chunk_now_ns = 0;
        ml_flush(&f->ml, on_ml_record, f);
    }
}

static void on_file_tick(void *arg, struct tail_file *f, int64_t now)
{
    struct tail_ctx *c = arg;
    if (c->have_ml && f->ml.lines && ml_expired(&c->ml, &f->ml, now))
        on_flush(c, f);
}

static void on_opened(void *arg, struct tail_file *f)
{
    f->owner = arg;
}

/* ------------------------------------------------------------ callbacks */

static int tail_init(struct input_instance *in, struct diag *diag)
{
    struct tail_conf *conf = in->conf;
    const struct conf_section *s = in->section;
    int errors = 0;

    struct tail_ctx *c = xcalloc(1, sizeof(*c));
    c->in = in;
    c->conf = conf;
    in->ctx = c;

    const char *regex = conf->ml_start;
    if (conf->ml_start && conf->ml_parser) {
        const struct conf_entry *e = conf_section_get(s, "multiline.parser");
        diag_add(diag, e ? e->file : s->file, e ? e->line : s->line,
                 "[input %s] set multiline.start or multiline.parser, not both", in->name);
        errors++;
    } else if (conf->ml_parser) {
        regex = ml_builtin(conf->ml_parser);
    }
    if (regex) {
        char err[256];
        if (ml_rule_init(&c->ml, regex, err, sizeof(err)) < 0) {
            const struct conf_entry *e = conf_section_get(s, "multiline.start");
            diag_add(diag, e ? e->file : s->file, e ? e->line : s->line,
                     "[input %s] multiline.start: %s", in->name, err);
            errors++;
        } else {
            c->have_ml = 1;
            c->ml.timeout_ms = conf->ml_timeout_ms;
            c->ml.max_lines = (uint32_t)conf->ml_max_lines;
            c->ml.max_bytes = conf->ml_max_bytes;
        }
    }
    char bad;
    if (conf->time_format && ts_format_check(conf->time_format, &bad) < 0) {
        const struct conf_entry *e = conf_section_get(s, "time_format");
        diag_add(diag, e ? e->file : s->file, e ? e->line : s->line,
                 "[input %s] time_format: unknown directive %%%c", in->name, bad ? bad : ' ');
        errors++;
    }
    if (conf->max_line_size < 16 || conf->max_line_size > (256u << 20)) {
        const struct conf_entry *e = conf_section_get(s, "max_line_size");
        diag_add(diag, e ? e->file : s->file, e ? e->line : s->line,
                 "[input %s] max_line_size must be between 16 bytes and 256MiB", in->name);
        errors++;
    }
    if (conf->path.count == 0) {
        diag_add(diag, s->file, s->line, "[input %s] path: at least one glob is needed", in->name);
        errors++;
    }
    if (errors)
        return -1;

    struct tail_engine_conf ec = {
        .path = &conf->path,
        .exclude_path = &conf->exclude_path,
        .settings = conf->engine,
        .poll_interval_ms = conf->poll_interval_ms,
        .read_from_head = conf->read_from_head,
        .read_new_from_head = conf->read_new_from_head,
        .max_watches = conf->max_watches,
        .buffer_size = conf->buffer_size,
        .max_line_size = conf->max_line_size,
        .long_mode = strcmp(conf->long_lines, "split") == 0 ? TAIL_LONG_SPLIT : TAIL_LONG_TRUNCATE,
        .long_line_marker = conf->long_line_marker,
        .ckpt_dir = "tail",
        .log_tag = "tail",
    };
    static const struct tail_engine_ops ops = {
        .line = on_line, .flush = on_flush, .tick = on_file_tick, .opened = on_opened,
    };
    c->engine = tail_engine_new(in, &ec, &ops, c);

    return 0;
}

static int tail_start(struct input_instance *in)
{
    struct tail_ctx *c = in->ctx;
    return tail_engine_start(c->engine);
}

static void tail_resume(struct input_instance *in)
{
    struct tail_ctx *c = in->ctx;
    tail_engine_resume(c->engine);
}

static void tail_commit(struct input_instance *in, uint64_t cookie_a, uint64_t cookie_b)
{
    struct tail_ctx *c = in->ctx;
    tail_engine_commit(c->engine, cookie_a, cookie_b);
}

static void tail_stop(struct input_instance *in)
{
    struct tail_ctx *c = in->ctx;
    tail_engine_stop(c->engine);
}

static void tail_destroy(struct input_instance *in)
{
    struct tail_ctx *c = in->ctx;
    if (!c)
        return;
    tail_engine_free(c->engine);
    if (c->have_ml)
        ml_rule_free(&c->ml);
    free(c);
    in->ctx = NULL;
}

static void tail_describe(struct input_instance *in, struct buf *out)
{
    struct tail_ctx *c = in->ctx;
    tail_engine_describe(c->engine, out);
}

const struct input_plugin tail_input = {
    .name = "tail",
    .description = "follow log files matched by globs through rotations, with checkpoints",
    .options = tail_options,
    .conf_size = sizeof(struct tail_conf),
    .init = tail_init,
    .start = tail_start,
    .resume = tail_resume,
    .commit = tail_commit,
    .stop = tail_stop,
    .destroy = tail_destroy,
    .describe = tail_describe,
};
