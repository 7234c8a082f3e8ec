/* `containers` input: every container's stdout/stderr on a Docker host,
 * with container and ECS task metadata (docs/containers.md).
 *
 *  - files: one tail engine (tail_engine.h: rotation, checkpoints, the
 *    ready queue) over <docker_root>/containers/<id>/<id>-json.log*, so
 *    Docker's own rotation (-json.log -> .log.1 ...) is the same inode under
 *    a name the glob matches: followed without loss or repeats;
 *  - which containers, and what they are: containers_discovery.c (a thread:
 *    Docker API list + events, ECS introspection, config.v2.json without the
 *    socket); a file is followed once its container is known and wanted
 *    (containers_meta.c: filters, opt-out label, pause and own container);
 *  - lines: parsers/docker_json or parsers/cri (detected per container),
 *    pieces rejoined per (container, stream) by parsers/partial_join.
 *
 * Everything here runs on the loop thread and never blocks. */
#include "collector/core/config.h"
#include "collector/plugin.h"
#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/docker/ecs_agent.h"
#include "collector/inputs/containers/containers_discovery.h"
#include "collector/inputs/containers/containers_meta.h"
#include "collector/inputs/tail/tail_engine.h"
#include "collector/inputs/tail/tail_file.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"
#include "parsers/cri.h"
#include "parsers/docker_json.h"
#include "parsers/fields.h"
#include "parsers/multiline.h"
#include "parsers/partial_join.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_PASS_WAIT_MS 10000   /* start following even if discovery is slow */
#define PARTIAL_TIMEOUT_MS 5000
#define START_GRACE_NS 5000000000LL /* started this shortly before the agent: new */
#define FILE_LINE_MAX (1u << 20)   /* a json-file line: a 16 KB piece, escaped */
#define ML_TIMEOUT_MS 2000         /* a multiline record waits this long for more lines */
#define ML_MAX_LINES 1000
/* Per-container parsing, chosen by the container's labels. */
#define ORIGIN_READ_MAX (64u << 10)  /* a first line's "time" follows its 16 KB piece */
#define LABEL_PARSER "collector.parser"
#define LABEL_ML_START "collector.multiline.start"
#define LABEL_ML_PARSER "collector.multiline.parser"

struct containers_conf {
    char *docker_socket;
    char *docker_root;
    char *introspection_url;
    int64_t introspection_refresh_ms;
    struct strlist include_name, exclude_name;
    struct strlist include_image, exclude_image;
    struct strlist include_label, exclude_label;
    struct strlist labels;
    char *tag_ecs;
    char *tag_docker;
    int read_from_head;
    int skip_self;
    uint64_t max_line_size;
    int label_regex;
    struct tail_engine_settings engine;   /* tail_engine_options and close_inactive */
};

static const struct option_def containers_options[] = {
    {"docker_socket", OPT_STRING, "/var/run/docker.sock", 0,
     offsetof(struct containers_conf, docker_socket), NULL,
     "Docker Engine API unix socket (list, events, inspect); \"\" = files only"},
    {"docker_root", OPT_STRING, "/var/lib/docker", 0, offsetof(struct containers_conf, docker_root),
     NULL, "Docker's data root: logs are <docker_root>/containers/<id>/<id>-json.log*"},
    {"introspection_url", OPT_STRING, "http://127.0.0.1:51678", 0,
     offsetof(struct containers_conf, introspection_url), NULL,
     "ECS agent introspection API (container instance, cluster, task family/revision); "
     "\"\" = none"},
    {"introspection_refresh", OPT_DURATION, "60s", 0,
     offsetof(struct containers_conf, introspection_refresh_ms), NULL,
     "ask the ECS agent this often"},
    {"include_name", OPT_LIST, NULL, OPT_MULTI, offsetof(struct containers_conf, include_name), NULL,
     "only containers whose name matches one of these globs"},
    {"exclude_name", OPT_LIST, NULL, OPT_MULTI, offsetof(struct containers_conf, exclude_name), NULL,
     "leave out containers whose name matches"},
    {"include_image", OPT_LIST, NULL, OPT_MULTI, offsetof(struct containers_conf, include_image),
     NULL, "only containers whose image matches"},
    {"exclude_image", OPT_LIST, NULL, OPT_MULTI, offsetof(struct containers_conf, exclude_image),
     NULL, "leave out containers whose image matches"},
    {"include_label", OPT_LIST, NULL, OPT_MULTI, offsetof(struct containers_conf, include_label),
     NULL, "only containers with a label matching one of these key=value globs"},
    {"exclude_label", OPT_LIST, NULL, OPT_MULTI, offsetof(struct containers_conf, exclude_label),
     NULL, "leave out containers with a label matching (collector.logs=false always is)"},
    {"labels", OPT_LIST, NULL, OPT_MULTI, offsetof(struct containers_conf, labels), NULL,
     "label keys (globs) copied into record metadata as label.<key>"},
    {"tag_ecs", OPT_STRING, "container.ecs", 0, offsetof(struct containers_conf, tag_ecs), NULL,
     "tag of the records of ECS tasks' containers"},
    {"tag_docker", OPT_STRING, "container.docker", 0, offsetof(struct containers_conf, tag_docker),
     NULL, "tag of the records of other containers"},
    {"read_from_head", OPT_BOOL, "false", 0, offsetof(struct containers_conf, read_from_head), NULL,
     "at the very first start, read running containers' logs from the beginning (else from "
     "their end); containers started later are always read from their first line"},
    {"skip_self", OPT_BOOL, "true", 0, offsetof(struct containers_conf, skip_self), NULL,
     "leave out the agent's own container"},
    {"max_line_size", OPT_SIZE, "1MiB", 0, offsetof(struct containers_conf, max_line_size), NULL,
     "longest line kept whole once Docker's 16 KB pieces are rejoined (then truncated)"},
    OPT_INCLUDE_ROW(offsetof(struct containers_conf, engine), tail_engine_options),
    {"close_inactive", OPT_DURATION, "1m", 0, offsetof(struct containers_conf, engine.close_inactive_ms),
     NULL, "close a log not written to for this long (a stopped container's is released)"},
    {"multiline.label_regex", OPT_BOOL, "false", 0, offsetof(struct containers_conf, label_regex),
     NULL, "honour a container's collector.multiline.start label (a regex chosen by whoever "
     "starts the container; matched under a match limit either way); off: the label is "
     "ignored and said"},
    {0},
};

struct ctr {
    char id[72];
    struct ctr_info info;
    struct meta *meta[3];           /* per stream: stdout, stderr, other */
    const struct tag *tag;
    int known;                      /* info came from discovery */
    int known_parsing;              /* its labels' parsing is settled */
    int wanted;
    int gone;                       /* destroyed: freed with its last file */
    struct tail_file **files;       /* its followed logs (the current one and rotations) */
    int nfiles, capfiles;
    enum log_format fmt;
    struct pj_state pj[3];
    uint64_t pj_cookie[3];          /* file of the last piece */
    int64_t pj_ms[3];
    /* collector.parser / collector.multiline.* labels */
    enum fields_format parser;
    int ml_on;
    struct ml_rule ml_rule;
    struct ml_state ml[3];          /* per stream: the pending multiline record */
    int64_t ml_ts[3];               /* its first line's timestamp */
    struct tail_file *ml_file[3];   /* the file of its last line (NULL: forgotten) */
    struct ctr *next;
};

struct containers_ctx {
    struct input_instance *in;
    struct containers_conf *conf;
    struct tail_engine *engine;
    struct cdisc *disc;
    struct strlist globs;
    struct cm_filter filter;
    char self_id[72];
    struct ctr *ctrs;
    int nctrs;
    struct loop_timer *first_pass_timer; /* starts following if discovery is slow */
    int engine_started;
    int stopped;
    int64_t started_ns;             /* wall clock: containers started later are new */
    struct buf scratch;             /* decoded json-file line */
    struct buf fields_scratch;      /* decoded collector.parser values */
    struct buf origin_line;         /* a log's first line (file_origin) */
    struct buf origin_scratch;
    uint64_t unparsed, skipped, unparsed_fields;
};

/* ---------------------------------------------------------- containers */

static struct ctr *ctr_find(struct containers_ctx *c, const char *id)
{
    for (struct ctr *x = c->ctrs; x; x = x->next)
        if (strcmp(x->id, id) == 0)
            return x;
    return NULL;
}

/* The parser and multiline rule its labels ask for (labels never change
 * for a container, so this is settled at the first look). */
static void ctr_parsing(struct containers_ctx *c, struct ctr *x)
{
    const char *name = cm_label(&x->info, LABEL_PARSER);
    if (name && fields_format_of(name, &x->parser) < 0) {
        log_msg(LOG_WARN, "containers", "[%s] %s (%.12s): label %s=%s: no such parser (json, "
                "logfmt, none); its lines are kept as they are", c->in->name, x->info.dk.name,
                x->id, LABEL_PARSER, name);
        x->parser = FIELDS_NONE;
    }
    const char *regex = cm_label(&x->info, LABEL_ML_START);
    const char *builtin = cm_label(&x->info, LABEL_ML_PARSER);
    if (regex && !c->conf->label_regex) {
        /* A tenant's regex runs in the agent: the operator's opt-in. */
        log_msg(LOG_WARN, "containers", "[%s] %s (%.12s): label %s ignored (set "
                "multiline.label_regex = true in [input %s] to honour regex labels)", c->in->name,
                x->info.dk.name, x->id, LABEL_ML_START, c->in->name);
        regex = NULL;
    }
    if (!regex && builtin && !(regex = ml_builtin(builtin)))
        log_msg(LOG_WARN, "containers", "[%s] %s (%.12s): label %s=%s: no such rule (java, go, "
                "python, ecs); no multiline", c->in->name, x->info.dk.name, x->id,
                LABEL_ML_PARSER, builtin);
    if (!regex || x->ml_on)
        return;
    char err[256];
    if (ml_rule_init(&x->ml_rule, regex, err, sizeof(err)) < 0) {
        log_msg(LOG_WARN, "containers", "[%s] %s (%.12s): label %s: %s; no multiline",
                c->in->name, x->info.dk.name, x->id, LABEL_ML_START, err);
        return;
    }
    x->ml_rule.timeout_ms = ML_TIMEOUT_MS;
    x->ml_rule.max_lines = ML_MAX_LINES;
    x->ml_rule.max_bytes = c->conf->max_line_size;
    x->ml_on = 1;
}

static void ctr_apply(struct containers_ctx *c, struct ctr *x, const struct ctr_info *info)
{
    x->info = *info;
    x->known = 1;
    static const char *const streams[3] = {"stdout", "stderr", NULL};
    for (int s = 0; s < 3; s++) {
        meta_unref(x->meta[s]);
        x->meta[s] = cm_meta(info, streams[s], &c->conf->labels);
    }
    x->tag = tag_intern(cm_is_ecs(info) ? c->conf->tag_ecs : c->conf->tag_docker);
    if (!x->known_parsing) {
        x->known_parsing = 1;
        ctr_parsing(c, x);
    }
    const char *why = NULL;
    int was = x->wanted;
    x->wanted = cm_wanted(&c->filter, info, &why);
    if (!x->wanted && (was || !x->nfiles))
        log_msg(LOG_DEBUG, "containers", "[%s] skipping %s (%.12s): %s", c->in->name,
                info->dk.name, x->id, why);
    else if (x->wanted && !was)
        log_msg(LOG_DEBUG, "containers", "[%s] following %s (%.12s)%s%s", c->in->name,
                info->dk.name, x->id, cm_is_ecs(info) ? " task " : "",
                cm_is_ecs(info) ? info->dk.task_arn : "");
}

static struct ctr *ctr_new(struct containers_ctx *c, const char *id)
{
    struct ctr *x = xcalloc(1, sizeof(*x));
    snprintf(x->id, sizeof(x->id), "%s", id);
    for (int s = 0; s < 3; s++) {
        pj_init(&x->pj[s]);
        ml_state_init(&x->ml[s]);
    }
    x->next = c->ctrs;
    c->ctrs = x;
    c->nctrs++;
    return x;
}

static void ctr_free(struct containers_ctx *c, struct ctr *x)
{
    for (struct ctr **pp = &c->ctrs; *pp; pp = &(*pp)->next) {
        if (*pp == x) {
            *pp = x->next;
            c->nctrs--;
            break;
        }
    }
    for (int s = 0; s < 3; s++) {
        meta_unref(x->meta[s]);
        pj_free(&x->pj[s]);
        ml_state_free(&x->ml[s]);
    }
    if (x->ml_on)
        ml_rule_free(&x->ml_rule);
    free(x->files);
    free(x);
}

/* -------------------------------------------------------------- emit */

static void emit(struct containers_ctx *c, struct ctr *x, struct tail_file *f, int stream,
                 const char *msg, size_t len, int64_t ts, uint64_t end_off,
                 const struct field_ref *fields, int nfields)
{
    if (len == 0)
        return; /* CloudWatch rejects empty events */
    struct log_event ev = {0};
    ev.timestamp_ns = ts;
    ev.message = msg;
    ev.message_len = len;
    ev.tag = x->tag;
    ev.meta = x->meta[stream];
    ev.fields = fields;
    ev.nfields = nfields;
    tail_engine_emitted(f, end_off, &ev.cookie_a, &ev.cookie_b);
    pipeline_emit_log(c->in, &ev);
}

/* A whole record: fields from collector.parser, then to the pipeline. */
static void finish(struct containers_ctx *c, struct ctr *x, struct tail_file *f, int stream,
                   const char *msg, size_t len, int64_t ts, uint64_t end_off,
                   const struct field_ref *attrs, int nattrs)
{
    if (x->parser == FIELDS_NONE || len == 0) {
        emit(c, x, f, stream, msg, len, ts, end_off, attrs, nattrs);
        return;
    }
    struct fields_result r;
    struct field_ref all[DJ_MAX_ATTRS + FIELDS_MAX];
    int n = 0;
    for (int i = 0; i < nattrs && i < DJ_MAX_ATTRS; i++)
        all[n++] = attrs[i];
    if (fields_parse(x->parser, msg, len, &c->fields_scratch, &r) < 0) {
        c->unparsed_fields++;
    } else {
        for (int i = 0; i < r.n; i++)
            all[n++] = (struct field_ref){r.fields[i].key, r.fields[i].value, r.fields[i].key_len,
                                          r.fields[i].value_len};
        if (r.time_ns)
            ts = r.time_ns;
    }
    emit(c, x, f, stream, msg, len, ts, end_off, all, n);
}

struct ml_emit_ctx {
    struct containers_ctx *c;
    struct ctr *x;
    struct tail_file *cur;          /* the file being read (or flushed) */
    int stream;
    const struct field_ref *attrs;
    int nattrs;
};

/* A multiline record is complete: acknowledged against the file of its last
 * line; if that file is gone, against the current one without moving it. */
static void on_ml_record(void *arg, const char *msg, size_t len, uint64_t end_off)
{
    struct ml_emit_ctx *m = arg;
    struct ctr *x = m->x;
    struct tail_file *f = x->ml_file[m->stream];
    if (!f) {
        f = m->cur;
        end_off = f->ack_off;
    }
    finish(m->c, x, f, m->stream, msg, len, x->ml_ts[m->stream], end_off, m->attrs, m->nattrs);
}

/* A whole line (pieces rejoined): to its multiline record, or finished. */
static void deliver(struct containers_ctx *c, struct ctr *x, struct tail_file *f, int stream,
                    const char *msg, size_t len, int64_t ts, uint64_t end_off,
                    const struct field_ref *attrs, int nattrs)
{
    if (!x->ml_on) {
        finish(c, x, f, stream, msg, len, ts, end_off, attrs, nattrs);
        return;
    }
    struct ml_emit_ctx m = {c, x, f, stream, attrs, nattrs};
    ml_feed(&x->ml_rule, &x->ml[stream], msg, len, end_off, tail_engine_now(c->engine),
            on_ml_record, &m);
    if (x->ml[stream].lines == 1)
        x->ml_ts[stream] = ts;
    x->ml_file[stream] = f;
}

static void on_line(void *arg, struct tail_file *f, const char *line, size_t len, uint64_t end_off,
                    int64_t read_ns)
{
    struct containers_ctx *c = arg;
    struct ctr *x = f->owner;
    if (!x || !x->known)
        return;
    if (x->fmt == LOG_FORMAT_UNKNOWN)
        x->fmt = log_format_detect(line, len);
    struct dj_line dj;
    const char *msg = line;
    size_t mlen = len;
    int partial = 0, stream = LOG_STREAM_OTHER, nfields = 0;
    int64_t ts = 0;
    struct field_ref fields[DJ_MAX_ATTRS];
    if (x->fmt == LOG_FORMAT_DOCKER_JSON && dj_parse(line, len, &c->scratch, &dj) == 0) {
        msg = dj.msg;
        mlen = dj.msg_len;
        partial = dj.partial;
        stream = (int)dj.stream;
        ts = dj.time_ns;
        for (int i = 0; i < dj.nattrs; i++)
            fields[nfields++] = (struct field_ref){dj.attrs[i].key, dj.attrs[i].value,
                                                   dj.attrs[i].key_len, dj.attrs[i].value_len};
    } else {
        struct cri_line cl;
        if (x->fmt == LOG_FORMAT_CRI && cri_parse(line, len, &cl) == 0) {
            msg = cl.msg;
            mlen = cl.msg_len;
            partial = cl.partial;
            stream = (int)cl.stream;
            ts = cl.time_ns;
        } else {
            c->unparsed++;
        }
    }
    const char *out;
    size_t olen;
    int64_t ots;
    int truncated;
    if (!pj_feed(&x->pj[stream], c->conf->max_line_size, msg, mlen, partial, ts, &out, &olen,
                 &ots, &truncated)) {
        x->pj_cookie[stream] = tail_cookie(f);
        x->pj_ms[stream] = tail_engine_now(c->engine);
        return;
    }
    deliver(c, x, f, stream, out, olen, ots ? ots : read_ns, end_off, fields, nfields);
}

/* When f's first line was written (its Docker or CRI timestamp): a
 * container's files in the order Docker wrote them, whatever their names
 * are by now (in a burst of rotations the names we know lag behind).
 * INT64_MAX while unknown (no complete first line yet). */
static int64_t fd_origin(struct containers_ctx *c, int fd)
{
    buf_reserve(&c->origin_line, ORIGIN_READ_MAX);
    ssize_t n = pread(fd, c->origin_line.data, ORIGIN_READ_MAX, 0);
    const char *nl = n > 0 ? memchr(c->origin_line.data, '\n', (size_t)n) : NULL;
    if (!nl)
        return INT64_MAX;
    size_t len = (size_t)(nl - c->origin_line.data);
    struct dj_line dj;
    struct cri_line cl;
    int64_t ts = 0;
    if (dj_parse(c->origin_line.data, len, &c->origin_scratch, &dj) == 0)
        ts = dj.time_ns;
    else if (cri_parse(c->origin_line.data, len, &cl) == 0)
        ts = cl.time_ns;
    return ts > 0 ? ts : INT64_MAX - 1; /* no time: after the timed ones */
}

static int64_t file_origin(struct containers_ctx *c, struct tail_file *f)
{
    if (f->origin_ns)
        return f->origin_ns;
    if (f->fd < 0)
        return INT64_MAX;
    int64_t o = fd_origin(c, f->fd);
    if (o != INT64_MAX)
        f->origin_ns = o;
    return o;
}

/* The age its name says: 0 for -json.log, N for .log.N, and older than
 * all once the name is gone (deleted past max-file, being drained). */
static int name_age(const struct tail_file *f)
{
    char id[72];
    int age = f->path ? cm_id_of_path(f->path, id) : -1;
    return age < 0 ? INT_MAX : age;
}

/* Was a log written before another? By their first lines' timestamps; the
 * pieces of one long line share a timestamp, so a tie goes by name age. */
static int written_before(int64_t origin_a, int age_a, int64_t origin_b, int age_b)
{
    return origin_a != origin_b ? origin_a < origin_b : age_a > age_b;
}

static int older(struct containers_ctx *c, struct tail_file *a, struct tail_file *b)
{
    return written_before(file_origin(c, a), name_age(a), file_origin(c, b), name_age(b));
}

/* The oldest other file of f's container that is newer than f, if any. */
static struct tail_file *newer_sibling(struct containers_ctx *c, const struct ctr *x,
                                       struct tail_file *f)
{
    struct tail_file *best = NULL;
    for (int i = 0; i < x->nfiles; i++) {
        struct tail_file *g = x->files[i];
        if (g != f && older(c, f, g) && (!best || older(c, g, best)))
            best = g;
    }
    return best;
}

/* Follow the logs of f's container that are on disk, older than f, and
 * not followed yet. In a burst of Docker rotations a file can be created
 * and renamed away between two batches of directory events: its successor
 * is found first, and the file itself only by a later event or rescan.
 * Asked before f's first byte is read: stat <id>-json.log, .log.1, .log.2
 * ... and ask the engine to look at an unknown one whose first line is
 * older than f's. ROTATION_GAP_NAMES: how many missing names in a row the
 * walk passes over (renames in flight) before it ends. */
#define ROTATION_GAP_NAMES 2

static void follow_older_siblings(struct containers_ctx *c, struct tail_file *f)
{
    const char *p = f->first_path;
    const char *base = strrchr(p, '/');
    size_t stem = base ? (size_t)(base - p) + 1 + 64 + 9 : 0; /* ".../<id>-json.log" */
    char path[PATH_MAX];
    if (!base || strlen(p) < stem || stem + 12 >= sizeof(path))
        return;
    int64_t mine = file_origin(c, f);
    memcpy(path, p, stem);
    /* Docker renames .log.N-1 -> .log.N from the top down: in the middle of
     * a cascade one name is missing, and older files lie beyond that gap. A
     * few missing names in a row end the walk; one does not. */
    int missing = 0;
    for (int age = 0; age < 100000 && missing <= ROTATION_GAP_NAMES; age++) {
        if (age == 0)
            path[stem] = '\0';
        else
            snprintf(path + stem, sizeof(path) - stem, ".%d", age);
        struct stat st;
        if (stat(path, &st) < 0) {
            if (age > 0)
                missing++; /* .log itself: between Docker's rename and its create */
            continue;
        }
        missing = 0;
        if (tail_engine_follows(c->engine, (uint64_t)st.st_dev, (uint64_t)st.st_ino))
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* renamed on: a later name has it */
        int64_t theirs = fd_origin(c, fd);
        close(fd);
        if (written_before(theirs, age, mine, name_age(f))) {
            log_msg(LOG_DEBUG, "containers", "[%s] %s: found before it, an older log %s",
                    c->in->name, f->path ? f->path : f->first_path, path);
            tail_engine_look(c->engine, path);
        }
    }
}

/* Read a container's logs oldest first: across a burst of Docker rotations
 * its lines stay in order and a line's 16 KB pieces are joined in order.
 * Returns the oldest file older than f with bytes left to read. */
static struct tail_file *on_defer(void *arg, struct tail_file *f)
{
    struct containers_ctx *c = arg;
    const struct ctr *x = f->owner;
    if (!x)
        return NULL;
    if (f->read_off == 0)
        follow_older_siblings(c, f);
    if (x->nfiles < 2)
        return NULL;
    struct tail_file *blocker = NULL;
    for (int i = 0; i < x->nfiles; i++) {
        struct tail_file *g = x->files[i];
        if (g != f && older(c, g, f) && (!blocker || older(c, g, blocker)) &&
            tail_engine_unread(c->engine, g))
            blocker = g;
    }
    return blocker;
}

static int on_held(void *arg, const struct tail_file *f)
{
    (void)arg;
    const struct ctr *x = f->owner;
    if (!x)
        return 0;
    for (int s = 0; s < 3; s++)
        if (x->pj[s].pieces || x->ml[s].lines)
            return 1;
    return 0;
}

/* Emit the pieces of a line whose last piece came from f. */
static void on_flush(void *arg, struct tail_file *f)
{
    struct containers_ctx *c = arg;
    struct ctr *x = f->owner;
    if (!x)
        return;
    /* A rotated-away file ends mid-line: the rest is in the newer file. */
    struct tail_file *next = f->path ? NULL : newer_sibling(c, x, f);
    for (int s = 0; s < 3; s++) {
        const char *out;
        size_t n;
        int64_t ts;
        if (next && x->pj[s].pieces && x->pj_cookie[s] == tail_cookie(f)) {
            x->pj_cookie[s] = tail_cookie(next);
            continue;
        }
        if (x->pj[s].pieces && x->pj_cookie[s] == tail_cookie(f) &&
            pj_flush(&x->pj[s], &out, &n, &ts))
            deliver(c, x, f, s, out, n, ts ? ts : now_ns(), f->read_off, NULL, 0);
        if (x->ml[s].lines && x->ml_file[s] == f && !next) {
            struct ml_emit_ctx m = {c, x, f, s, NULL, 0};
            ml_flush(&x->ml[s], on_ml_record, &m);
        }
    }
}

/* A line whose last piece is old (the container stopped mid-line): timed
 * from when its file has nothing more to read, so that a paused pipeline
 * does not cut lines. */
static void on_file_tick(void *arg, struct tail_file *f, int64_t now)
{
    struct containers_ctx *c = arg;
    struct ctr *x = f->owner;
    if (!x)
        return;
    if (!f->at_eof || f->in_ready) {
        for (int s = 0; s < 3; s++) {
            if (x->pj_cookie[s] == tail_cookie(f))
                x->pj_ms[s] = now;
            if (x->ml[s].lines && x->ml_file[s] == f)
                x->ml[s].last_ms = now;
        }
        return;
    }
    for (int s = 0; s < 3; s++) {
        if (x->pj[s].pieces && x->pj_cookie[s] == tail_cookie(f) &&
            now - x->pj_ms[s] >= PARTIAL_TIMEOUT_MS) {
            on_flush(c, f);
            return;
        }
    }
    for (int s = 0; s < 3; s++) {
        if (x->ml_on && x->ml[s].lines && x->ml_file[s] == f &&
            ml_expired(&x->ml_rule, &x->ml[s], now)) {
            struct ml_emit_ctx m = {c, x, f, s, NULL, 0};
            ml_flush(&x->ml[s], on_ml_record, &m);
        }
    }
}

/* ------------------------------------------------------------- files */

static struct ctr *ctr_for_path(struct containers_ctx *c, const char *path, int create)
{
    char id[72];
    if (cm_id_of_path(path, id) < 0)
        return NULL;
    struct ctr *x = ctr_find(c, id);
    if (x)
        return x;
    struct ctr_info *info = xcalloc(1, sizeof(*info));
    int r = cd_get(c->disc, id, info);
    if (r == 1) {
        x = ctr_new(c, id);
        ctr_apply(c, x, info);
    } else if (create) {
        x = ctr_new(c, id); /* an orphan from the checkpoint: filled when known */
    }
    free(info);
    return x;
}

static int on_accept(void *arg, const char *path)
{
    struct containers_ctx *c = arg;
    struct ctr *x = ctr_for_path(c, path, 0);
    return x && x->known && x->wanted && !x->gone;
}

static void on_opened(void *arg, struct tail_file *f)
{
    struct containers_ctx *c = arg;
    struct ctr *x = ctr_for_path(c, f->first_path, 1);
    f->owner = x;
    if (!x)
        return;
    /* Started after the agent (or just before it): new, read from its first
     * line even though the first scan, slowed by discovery, finds it. */
    if (x->known && x->info.started_ns > c->started_ns - START_GRACE_NS)
        f->start_at_head = 1;
    if (x->nfiles == x->capfiles) {
        x->capfiles = x->capfiles ? x->capfiles * 2 : 4;
        x->files = xrealloc(x->files, sizeof(*x->files) * (size_t)x->capfiles);
    }
    x->files[x->nfiles++] = f;
}

static void on_forgotten(void *arg, struct tail_file *f)
{
    struct containers_ctx *c = arg;
    struct ctr *x = f->owner;
    f->owner = NULL;
    if (!x)
        return;
    for (int i = 0; i < x->nfiles; i++) {
        if (x->files[i] == f) {
            x->files[i] = x->files[--x->nfiles];
            break;
        }
    }
    for (int s = 0; s < 3; s++)
        if (x->ml_file[s] == f)
            x->ml_file[s] = NULL;
    if (x->gone && x->nfiles <= 0)
        ctr_free(c, x);
}

/* ----------------------------------------------------------- changes */

static void on_change(void *arg, const char *id, enum cd_change kind)
{
    struct containers_ctx *c = arg;
    struct ctr *x = ctr_find(c, id);
    if (kind == CD_UPDATED) {
        struct ctr_info *info = xcalloc(1, sizeof(*info));
        if (cd_get(c->disc, id, info) == 1) {
            if (x)
                ctr_apply(c, x, info);
            tail_engine_rescan_soon(c->engine);
        }
        free(info);
    } else if (kind == CD_DIED && x) {
        char *prefix = xasprintf("%s/containers/%s/", c->conf->docker_root, id);
        tail_engine_release(c->engine, prefix);
        free(prefix);
    } else if (kind == CD_DESTROYED && x) {
        x->gone = 1;
        if (x->nfiles <= 0)
            ctr_free(c, x);
    }
}

/* Discovery's news (loop_async), and the first pass's deadline. */
static void take_news(struct containers_ctx *c, int first_pass_over)
{
    if (c->stopped)
        return;
    if (!c->engine_started) {
        /* The first scan waits for the first discovery pass, so that the
         * containers running at start are "present at start" (read_from_head
         * or their checkpoint), not "new". */
        if (!cd_ready(c->disc) && !first_pass_over)
            return;
        if (c->first_pass_timer)
            loop_timer_del(c->in->loop, c->first_pass_timer);
        c->first_pass_timer = NULL;
        cd_take_changes(c->disc, on_change, c);
        c->engine_started = 1;
        if (tail_engine_start(c->engine) < 0)
            log_msg(LOG_ERROR, "containers", "[%s] cannot start following files", c->in->name);
        return;
    }
    cd_take_changes(c->disc, on_change, c);
}

static void on_news(struct loop *loop, void *arg)
{
    (void)loop;
    take_news(arg, 0);
}

static void on_first_pass_deadline(struct loop *loop, void *arg)
{
    struct containers_ctx *c = arg;
    (void)loop;
    c->first_pass_timer = NULL; /* a one-shot timer is gone once it has run */
    take_news(c, 1);
}

/* ---------------------------------------------------------- callbacks */

static void find_self(struct containers_ctx *c)
{
    static const char *const files[] = {"/proc/self/cgroup", "/proc/self/mountinfo"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && !c->self_id[0]; i++) {
        FILE *fp = fopen(files[i], "r");
        if (!fp)
            continue;
        struct buf b;
        buf_init(&b);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b.len < (1u << 20))
            buf_append(&b, chunk, n);
        fclose(fp);
        if (cm_self_id(b.data, b.len, c->self_id) < 0)
            c->self_id[0] = '\0';
        buf_free(&b);
    }
}

static int containers_init(struct input_instance *in, struct diag *diag)
{
    struct containers_conf *conf = in->conf;
    const struct conf_section *s = in->section;
    if (conf->max_line_size < 16 || conf->max_line_size > (256u << 20)) {
        const struct conf_entry *e = conf_section_get(s, "max_line_size");
        diag_add(diag, e ? e->file : s->file, e ? e->line : s->line,
                 "[input %s] max_line_size must be between 16 bytes and 256MiB", in->name);
        return -1;
    }
    if (!conf->docker_root || conf->docker_root[0] != '/') {
        const struct conf_entry *e = conf_section_get(s, "docker_root");
        diag_add(diag, e ? e->file : s->file, e ? e->line : s->line,
                 "[input %s] docker_root must be an absolute path", in->name);
        return -1;
    }
    char why[600];
    if (ecs_introspection_url_check(conf->introspection_url, why, sizeof why) < 0) {
        const struct conf_entry *e = conf_section_get(s, "introspection_url");
        diag_add(diag, e ? e->file : s->file, e ? e->line : s->line,
                 "[input %s] introspection_url: %s", in->name, why);
        return -1;
    }
    struct containers_ctx *c = xcalloc(1, sizeof(*c));
    c->in = in;
    c->conf = conf;
    in->ctx = c;
    buf_init(&c->scratch);
    buf_init(&c->fields_scratch);
    buf_init(&c->origin_line);
    buf_init(&c->origin_scratch);
    c->globs.items = xcalloc(1, sizeof(char *));
    c->globs.items[0] = xasprintf("%s/containers/*/*-json.log*", conf->docker_root);
    c->globs.count = 1;
    c->filter = (struct cm_filter){&conf->include_name,  &conf->exclude_name,
                                   &conf->include_image, &conf->exclude_image,
                                   &conf->include_label, &conf->exclude_label, c->self_id};
    struct tail_engine_conf ec = {
        .path = &c->globs,
        .exclude_path = NULL,
        .settings = conf->engine,
        .poll_interval_ms = 1000,
        .read_from_head = conf->read_from_head,
        .read_new_from_head = 1,
        .max_watches = 4096,
        .buffer_size = 256u << 10,
        .max_line_size = FILE_LINE_MAX,
        .long_mode = TAIL_LONG_TRUNCATE,
        .long_line_marker = NULL,
        .ckpt_dir = "containers",
        .log_tag = "containers",
    };
    static const struct tail_engine_ops ops = {
        .line = on_line,     .flush = on_flush,   .held = on_held,          .tick = on_file_tick,
        .defer = on_defer,   .accept = on_accept, .opened = on_opened, .forgotten = on_forgotten,
    };
    c->engine = tail_engine_new(in, &ec, &ops, c);
    struct cdisc_conf dc = {
        .docker_socket = conf->docker_socket,
        .docker_root = conf->docker_root,
        .introspection_url = conf->introspection_url,
        .introspection_refresh_ms = conf->introspection_refresh_ms,
        .name = in->name,
    };
    c->disc = cd_new(&dc);
    return 0;
}

static int containers_start(struct input_instance *in)
{
    struct containers_ctx *c = in->ctx;
    if (c->conf->skip_self)
        find_self(c);
    c->started_ns = now_ns();
    c->first_pass_timer = loop_timer_add(in->loop, FIRST_PASS_WAIT_MS, 0,
                                         on_first_pass_deadline, c);
    if (cd_start(c->disc, in->loop, on_news, c) < 0) {
        log_msg(LOG_ERROR, "containers", "[%s] cannot start the discovery thread", in->name);
        return -1;
    }
    return 0;
}

static void containers_resume(struct input_instance *in)
{
    struct containers_ctx *c = in->ctx;
    tail_engine_resume(c->engine);
}

static void containers_commit(struct input_instance *in, uint64_t cookie_a, uint64_t cookie_b)
{
    struct containers_ctx *c = in->ctx;
    tail_engine_commit(c->engine, cookie_a, cookie_b);
}

static void containers_stop(struct input_instance *in)
{
    struct containers_ctx *c = in->ctx;
    if (c->first_pass_timer)
        loop_timer_del(in->loop, c->first_pass_timer);
    c->first_pass_timer = NULL;
    c->stopped = 1;
    tail_engine_stop(c->engine);
}

static void containers_destroy(struct input_instance *in)
{
    struct containers_ctx *c = in->ctx;
    if (!c)
        return;
    if (c->first_pass_timer && in->loop)
        loop_timer_del(in->loop, c->first_pass_timer);
    cd_free(c->disc);
    tail_engine_free(c->engine);
    while (c->ctrs)
        ctr_free(c, c->ctrs);
    free(c->globs.items[0]);
    free(c->globs.items);
    buf_free(&c->scratch);
    buf_free(&c->fields_scratch);
    buf_free(&c->origin_line);
    buf_free(&c->origin_scratch);
    free(c);
    in->ctx = NULL;
}

static void containers_describe(struct input_instance *in, struct buf *out)
{
    struct containers_ctx *c = in->ctx;
    uint64_t truncated = 0;
    for (struct ctr *x = c->ctrs; x; x = x->next)
        for (int s = 0; s < 3; s++)
            truncated += x->pj[s].truncated_lines;
    buf_printf(out, "containers=%d docker_api=%s unparsed=%" PRIu64 " truncated=%" PRIu64
               " parser_mismatch=%" PRIu64 " ",
               c->nctrs, cd_connected(c->disc) ? "connected" : "down", c->unparsed, truncated,
               c->unparsed_fields);
    tail_engine_describe(c->engine, out);
}

const struct input_plugin containers_input = {
    .name = "containers",
    .description = "Docker containers' stdout/stderr (json-file, CRI) with container and ECS "
                   "task metadata",
    .options = containers_options,
    .conf_size = sizeof(struct containers_conf),
    .init = containers_init,
    .start = containers_start,
    .resume = containers_resume,
    .commit = containers_commit,
    .stop = containers_stop,
    .destroy = containers_destroy,
    .describe = containers_describe,
};
