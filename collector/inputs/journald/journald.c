/* `journald` input: entries of the systemd journal, through libsystemd's
 * sd-journal, on the event loop (sd_journal_get_fd).
 *
 * A record is the entry's MESSAGE (binary-safe; invalid UTF-8 repaired as
 * tail does), timed by __REALTIME_TIMESTAMP, with _SYSTEMD_UNIT,
 * SYSLOG_IDENTIFIER, PRIORITY, _PID and _HOSTNAME as fields and the unit
 * and identifier in its meta ({unit}, {identifier} in name templates).
 *
 * The position is the journal cursor of the newest acknowledged entry,
 * kept in the checkpoint store (checkpoint.h) as one entry whose path is
 * the cursor ("-" = from the head: a first start found no journal). A
 * restart seeks to it and skips it if it is still there; if it was
 * vacuumed, the entry sd-journal lands on is the first unread one.
 * sd-journal follows rotation itself (new files come through its inotify
 * fd); files it cannot open are found by looking at the directories and
 * said once each (journald_files.c). */
/* sd-journal.h includes <syslog.h>, whose LOG_INFO and LOG_DEBUG macros
 * would replace the agent's log levels of the same names. */
#include <systemd/sd-journal.h>
#undef LOG_INFO
#undef LOG_DEBUG
#undef LOG_ERR
#undef LOG_WARNING

#include "collector/core/config.h"
#include "collector/plugin.h"
#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/inputs/checkpoint.h"
#include "collector/inputs/journald/journald_files.h"
#include "collector/inputs/journald/journald_filter.h"
#include "collector/inputs/journald/journald_maps.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"
#include "parsers/line_split.h"

#include <jansson.h>

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define JD_LOG "journald"
#define JD_CHUNK 512          /* entries per loop turn */
#define JD_TICK_MS 500
#define JD_REOPEN_MS 10000
#define JD_FILES_MS 2000      /* how often the journal directories are listed */
#define JD_META_CACHE 1024    /* distinct (unit, identifier) pairs before the cache is reset */
#define JD_HEAD_MARK "-"
#define JD_RELEASE_ENTRIES 16384 /* entries read between two jd_maps_release() (~5 MiB mapped) */

struct journald_conf {
    char *path;
    struct strlist units;
    struct strlist identifiers;
    char *priority;
    int read_from_head;
    uint64_t max_message_size;
    int64_t checkpoint_interval_ms;
};

static const struct option_def journald_options[] = {
    {"path", OPT_STRING, NULL, 0, offsetof(struct journald_conf, path), NULL,
     "directory of journal files (and its subdirectories); default the system journal, "
     "/var/log/journal and /run/log/journal"},
    {"units", OPT_LIST, NULL, OPT_MULTI, offsetof(struct journald_conf, units), NULL,
     "_SYSTEMD_UNIT values to keep (globs: docker.service, ecs*.service); repeatable"},
    {"identifiers", OPT_LIST, NULL, OPT_MULTI, offsetof(struct journald_conf, identifiers), NULL,
     "SYSLOG_IDENTIFIER values to keep (globs; kernel messages are `kernel`); an entry matching "
     "units or identifiers is kept; neither set: every entry"},
    {"priority", OPT_STRING, "debug", 0, offsetof(struct journald_conf, priority), NULL,
     "the most verbose priority kept: emerg alert crit err warning notice info debug, or 0..7"},
    {"read_from_head", OPT_BOOL, "false", 0, offsetof(struct journald_conf, read_from_head), NULL,
     "at the very first start read the whole journal (else only entries written from then on)"},
    {"max_message_size", OPT_SIZE, "1MiB", 0, offsetof(struct journald_conf, max_message_size),
     NULL, "a longer MESSAGE is cut to this many bytes (CloudWatch's event limit is 1 MiB)"},
    {"checkpoint_interval", OPT_DURATION, "500ms", 0,
     offsetof(struct journald_conf, checkpoint_interval_ms), NULL,
     "save the acknowledged cursor this often when it changed (and at stop)"},
    {0},
};

struct jd_meta_slot {
    char *key;                 /* unit '\n' identifier */
    struct meta *meta;
};

struct journald_state {
    struct input_instance *in;
    struct journald_conf *conf;
    struct jd_filter filter;
    sd_journal *j;
    int fd;                    /* sd_journal_get_fd, in the loop */
    int started, stopped, paused;
    int current_unread;        /* the journal stands on an entry not read yet (after a seek) */
    char *ckpt_path;
    int dirty;
    int64_t last_save_ms;
    char *loaded_cursor;       /* from the store, until something newer is acknowledged */
    struct jd_cursors cursors;
    struct jd_files files;
    struct loop_idle idle;
    struct loop_timer *tick;
    int64_t next_open_ms;
    int64_t next_files_ms;
    struct buf scratch;        /* copies of one entry's fields */
    struct buf repaired;
    struct jd_meta_slot meta_cache[JD_META_CACHE];
    int meta_count;
    uint64_t seq;              /* records emitted */
    uint64_t read, filtered, empty, acked, invalid_utf8, truncated, read_errors;
    uint64_t read_at_release;  /* `read` when the mapped pages were last given up */
};

/* ------------------------------------------------------------------ meta */

static void meta_cache_clear(struct journald_state *st)
{
    for (int i = 0; i < JD_META_CACHE; i++) {
        free(st->meta_cache[i].key);
        if (st->meta_cache[i].meta)
            meta_unref(st->meta_cache[i].meta);
        st->meta_cache[i].key = NULL;
        st->meta_cache[i].meta = NULL;
    }
    st->meta_count = 0;
}

/* The meta of records from this unit and identifier: one per pair, kept in
 * an open-addressing table. Identifiers are chosen by whoever logs, so the
 * table is bounded: when 3/4 full it is emptied (records hold their own
 * references) and refilled. */
static struct meta *meta_for(struct journald_state *st, const char *unit, const char *ident)
{
    char key[1024];
    int n = snprintf(key, sizeof key, "%s\n%s", unit ? unit : "", ident ? ident : "");
    size_t klen = n < 0 ? 0 : ((size_t)n < sizeof key ? (size_t)n : sizeof key - 1);
    size_t i = hash_fnv1a(key, klen) % JD_META_CACHE;
    for (;;) {
        struct jd_meta_slot *s = &st->meta_cache[i];
        if (!s->key)
            break;
        if (strcmp(s->key, key) == 0)
            return s->meta;
        i = (i + 1) % JD_META_CACHE;
    }
    if (st->meta_count >= JD_META_CACHE * 3 / 4) {
        meta_cache_clear(st);
        return meta_for(st, unit, ident);
    }
    const char *pairs[] = {"systemd_unit", unit, "syslog_identifier", ident};
    struct jd_meta_slot *s = &st->meta_cache[i];
    s->key = xstrdup(key);
    s->meta = meta_new(pairs, 2);
    st->meta_count++;
    return s->meta;
}

/* ------------------------------------------------------------ checkpoint */

static void save_cursor(struct journald_state *st, const char *cursor)
{
    if (!st->ckpt_path || !cursor)
        return;
    struct ckpt_entry e = {.offset = st->acked, .path = (char *)cursor};
    if (ckpt_write(st->ckpt_path, &e, 1) < 0) {
        static struct log_limit lim;
        log_every(&lim, 60000, LOG_WARN, JD_LOG, "[%s] cannot save checkpoint %s: %s",
                  st->in->name, st->ckpt_path, strerror(errno));
        return;
    }
    st->dirty = 0;
    st->last_save_ms = mono_ms();
}

static const char *position(struct journald_state *st)
{
    return st->cursors.committed.len ? st->cursors.committed.data : st->loaded_cursor;
}

/* ---------------------------------------------------------------- entries */

/* Copy one field's value into scratch (sd-journal's pointer is only good
 * until the next call); returns its offset, or -1 if the entry has none. */
static long copy_field(struct journald_state *st, const char *name, size_t *len)
{
    const void *data;
    size_t dlen;
    const char *value;
    if (sd_journal_get_data(st->j, name, &data, &dlen) < 0 ||
        !jd_field_split(data, dlen, name, &value, len))
        return -1;
    long off = (long)st->scratch.len;
    buf_append(&st->scratch, value, *len);
    buf_append_char(&st->scratch, '\0');
    return off;
}

enum { F_MESSAGE, F_UNIT, F_IDENT, F_PRIORITY, F_PID, F_HOSTNAME, F_COUNT };
static const char *const field_names[F_COUNT] = {
    "MESSAGE", "_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER", "PRIORITY", "_PID", "_HOSTNAME",
};

static void handle_entry(struct journald_state *st)
{
    st->read++;
    buf_reset(&st->scratch);
    long off[F_COUNT];
    size_t len[F_COUNT];
    /* The filter first: an entry not kept costs no MESSAGE copy. */
    for (int f = F_UNIT; f <= F_PRIORITY; f++)
        off[f] = copy_field(st, field_names[f], &len[f]);
#define FIELD(f) (off[f] < 0 ? NULL : st->scratch.data + off[f])
    int prio = jd_priority_value(FIELD(F_PRIORITY), off[F_PRIORITY] < 0 ? 0 : len[F_PRIORITY]);
    if (!jd_filter_keep(&st->filter, FIELD(F_UNIT), off[F_UNIT] < 0 ? 0 : len[F_UNIT],
                        FIELD(F_IDENT), off[F_IDENT] < 0 ? 0 : len[F_IDENT], prio)) {
        st->filtered++;
        return;
    }
    off[F_PID] = copy_field(st, field_names[F_PID], &len[F_PID]);
    off[F_HOSTNAME] = copy_field(st, field_names[F_HOSTNAME], &len[F_HOSTNAME]);
    off[F_MESSAGE] = copy_field(st, field_names[F_MESSAGE], &len[F_MESSAGE]);
    if (off[F_MESSAGE] < 0 || len[F_MESSAGE] == 0) {
        st->empty++; /* CloudWatch rejects empty events */
        return;
    }
    const char *msg = FIELD(F_MESSAGE);
    size_t msg_len = len[F_MESSAGE];
    if (msg_len > st->conf->max_message_size) {
        msg_len = utf8_cut(msg, msg_len, st->conf->max_message_size);
        st->truncated++;
    }
    if (!utf8_valid(msg, msg_len)) {
        buf_reset(&st->repaired);
        utf8_sanitize(&st->repaired, msg, msg_len);
        msg = st->repaired.data;
        msg_len = st->repaired.len;
        st->invalid_utf8++;
    }
    struct field_ref fields[F_COUNT];
    int nfields = 0;
    for (int f = F_UNIT; f < F_COUNT; f++) {
        if (off[f] < 0)
            continue;
        fields[nfields++] = (struct field_ref){
            .key = field_names[f], .key_len = (uint32_t)strlen(field_names[f]),
            .value = FIELD(f), .value_len = (uint32_t)len[f]};
    }
    uint64_t usec = 0;
    char *cursor = NULL;
    int r = sd_journal_get_realtime_usec(st->j, &usec);
    if (r < 0) {
        /* kept, timed by the read: said, since the time is then not the entry's */
        static struct log_limit lim;
        log_every(&lim, 60000, LOG_WARN, JD_LOG,
                  "[%s] an entry's __REALTIME_TIMESTAMP cannot be read (%s): timed now",
                  st->in->name, strerror(-r));
        st->read_errors++;
        usec = (uint64_t)(now_ns() / 1000);
    }
    if (sd_journal_get_cursor(st->j, &cursor) < 0) {
        st->read_errors++;
        return;
    }
    struct log_event ev = {
        .timestamp_ns = (int64_t)usec * 1000,
        .message = msg,
        .message_len = msg_len,
        .meta = meta_for(st, FIELD(F_UNIT), FIELD(F_IDENT)),
        .fields = fields,
        .nfields = nfields,
        .cookie_a = st->seq,
    };
#undef FIELD
    jd_cursors_push(&st->cursors, st->seq, cursor);
    free(cursor);
    st->seq++;
    pipeline_emit_log(st->in, &ev);
}

static void read_entries(struct loop *loop, struct journald_state *st)
{
    for (int i = 0; i < JD_CHUNK; i++) {
        if (pipeline_input_paused(st->in)) {
            st->paused = 1; /* resume() re-arms */
            return;
        }
        if (st->current_unread) {
            st->current_unread = 0;
            handle_entry(st);
            continue;
        }
        int r = sd_journal_next(st->j);
        if (r < 0) {
            static struct log_limit lim;
            st->read_errors++;
            log_every(&lim, 60000, LOG_WARN, JD_LOG, "[%s] reading the journal: %s",
                      st->in->name, strerror(-r));
            return; /* the tick tries again */
        }
        if (r == 0)
            return; /* at the end: the fd says when there is more */
        handle_entry(st);
    }
    loop_idle_arm(loop, &st->idle);
}

static void read_some(struct loop *loop, void *arg)
{
    struct journald_state *st = arg;
    if (!st->j || st->stopped)
        return;
    read_entries(loop, st);
    /* what was read stays mapped by sd-journal: give its pages up now and
     * then (journald_maps.h) */
    if (st->read - st->read_at_release >= JD_RELEASE_ENTRIES) {
        st->read_at_release = st->read;
        jd_maps_release();
    }
}

/* ------------------------------------------------------------- the journal */

static void on_journal_fd(struct loop *loop, int fd, uint32_t events, void *arg)
{
    struct journald_state *st = arg;
    if (sd_journal_process(st->j) == SD_JOURNAL_INVALIDATE)
        st->next_files_ms = 0; /* files added or removed (rotation, vacuum): list them at the tick */
    if (!st->paused)
        loop_idle_arm(loop, &st->idle);
}

/* Continue after the entry of this cursor (or at it, if `unread`). */
static void position_after(struct journald_state *st, const char *cursor, int unread)
{
    st->current_unread = 0;
    if (sd_journal_seek_cursor(st->j, cursor) < 0) {
        log_msg(LOG_WARN, JD_LOG, "[%s] saved cursor unusable: reading from the head",
                st->in->name);
        sd_journal_seek_head(st->j);
        return;
    }
    if (sd_journal_next(st->j) > 0 && (unread || sd_journal_test_cursor(st->j, cursor) <= 0))
        st->current_unread = 1; /* the entry is gone (vacuumed): the one after it is new */
}

/* Put the journal where reading continues: after the stored cursor, at the
 * head, or (first start, not read_from_head) after its last entry. */
static void position_journal(struct journald_state *st)
{
    const char *cursor = st->loaded_cursor;
    if (cursor && strcmp(cursor, JD_HEAD_MARK) != 0) {
        position_after(st, cursor, 0);
        return;
    }
    if (cursor || st->conf->read_from_head) {
        sd_journal_seek_head(st->j);
        return;
    }
    /* Very first start: from the end. Remember where that is now, so that a
     * restart before anything is acknowledged does not skip what came since. */
    sd_journal_seek_tail(st->j);
    char *last = NULL;
    if (sd_journal_previous(st->j) > 0 && sd_journal_get_cursor(st->j, &last) >= 0) {
        free(st->loaded_cursor);
        st->loaded_cursor = last;
    } else {
        /* No entry yet: whatever arrives is read from its first entry. Left
         * at the tail of an empty journal, sd-journal's next() skipped the
         * first entry of a file that appeared later. */
        free(last);
        free(st->loaded_cursor);
        st->loaded_cursor = xstrdup(JD_HEAD_MARK);
        sd_journal_seek_head(st->j);
    }
    save_cursor(st, st->loaded_cursor);
}

/* resume: the cursor of the entry last read (a reopen), or NULL (start). */
static int open_journal(struct journald_state *st, const char *resume, int resume_unread)
{
    const char *where = st->conf->path ? st->conf->path : "/var/log/journal, /run/log/journal";
    int r = st->conf->path ? sd_journal_open_directory(&st->j, st->conf->path, 0)
                           : sd_journal_open(&st->j, SD_JOURNAL_SYSTEM);
    if (r < 0) {
        st->j = NULL;
        static struct log_limit lim;
        log_every(&lim, 300000, LOG_WARN, JD_LOG,
                  "[%s] cannot open the journal (%s): %s; trying again every %ds", st->in->name,
                  where, strerror(-r), JD_REOPEN_MS / 1000);
        st->next_open_ms = mono_ms() + JD_REOPEN_MS;
        return -1;
    }
    sd_journal_set_data_threshold(st->j, (size_t)st->conf->max_message_size + 64);
    if (!resume)
        jd_files_check(&st->files, st->in->name);
    st->next_files_ms = mono_ms() + JD_FILES_MS;
    st->fd = sd_journal_get_fd(st->j);
    if (st->fd < 0 || loop_add_fd(st->in->loop, st->fd, EPOLLIN, on_journal_fd, st) < 0) {
        log_msg(LOG_WARN, JD_LOG, "[%s] no journal change notification (%s): polling every %dms",
                st->in->name, strerror(st->fd < 0 ? -st->fd : errno), JD_TICK_MS);
        st->fd = -1;
    }
    if (resume) {
        position_after(st, resume, resume_unread);
    } else {
        position_journal(st);
        log_msg(LOG_INFO, JD_LOG, "[%s] reading the journal (%s): %d files%s", st->in->name,
                where, jd_files_count(&st->files),
                jd_files_count(&st->files) == 0 ? ", none yet: entries are read when files appear"
                                                : "");
    }
    loop_idle_arm(st->in->loop, &st->idle);
    return 0;
}

static void close_journal(struct journald_state *st)
{
    if (st->fd >= 0)
        loop_del_fd(st->in->loop, st->fd);
    st->fd = -1;
    if (st->j)
        sd_journal_close(st->j);
    st->j = NULL;
}

/* A file sd-journal may not have taken (see journald_files.h) is readable
 * now: open the journal again and continue after the newest entry emitted.
 * Not after sd-journal's current entry: a next() that found nothing may
 * still have moved it onto an entry of a file being written. Entries
 * filtered out after the newest emitted one are read again and filtered
 * again: nothing is emitted twice. */
static void reopen_journal(struct journald_state *st)
{
    const char *newest = jd_cursors_newest(&st->cursors);
    char *resume = newest ? xstrdup(newest) : NULL;
    close_journal(st);
    log_msg(LOG_INFO, JD_LOG, "[%s] new journal files: reopening the journal at its position",
            st->in->name);
    /* Nothing emitted since the start: position as at the start. */
    open_journal(st, resume, 0);
    free(resume);
}

static void on_tick(struct loop *loop, void *arg)
{
    struct journald_state *st = arg;
    int64_t now = mono_ms();
    if (!st->j && now >= st->next_open_ms)
        open_journal(st, NULL, 0);
    if (st->j && now >= st->next_files_ms) {
        st->next_files_ms = now + JD_FILES_MS;
        if (jd_files_check(&st->files, st->in->name) > 0)
            reopen_journal(st);
    }
    if (st->dirty && now - st->last_save_ms >= st->conf->checkpoint_interval_ms)
        save_cursor(st, position(st));
    /* Without a usable fd, and as a safety net, look for new entries. */
    if (st->j && !st->paused) {
        if (st->fd < 0)
            sd_journal_process(st->j);
        loop_idle_arm(loop, &st->idle);
    }
}

/* ------------------------------------------------------------- the plugin */

static int journald_init(struct input_instance *in, struct diag *diag)
{
    struct journald_conf *conf = in->conf;
    int prio = jd_priority_parse(conf->priority);
    if (prio < 0) {
        const struct conf_entry *e = conf_section_get(in->section, "priority");
        diag_add(diag, e ? e->file : in->section->file, e ? e->line : in->section->line,
                 "priority = '%s': not a syslog priority (emerg alert crit err warning notice "
                 "info debug, or 0..7)", conf->priority);
        return -1;
    }
    struct journald_state *st = xcalloc(1, sizeof *st);
    st->in = in;
    st->conf = conf;
    st->fd = -1;
    st->filter = (struct jd_filter){.units = &conf->units, .identifiers = &conf->identifiers,
                                    .max_priority = prio};
    jd_cursors_init(&st->cursors);
    jd_files_init(&st->files, conf->path);
    buf_init(&st->scratch);
    buf_init(&st->repaired);
    loop_idle_init(&st->idle, read_some, st);
    in->ctx = st;
    return 0;
}

static int journald_start(struct journald_state *st)
{
    struct input_instance *in = st->in;
    const char *data_dir = in->host ? in->host->data_dir : NULL;
    if (data_dir && *data_dir) {
        st->ckpt_path = xasprintf("%s/journald/%s.ckpt", data_dir, in->name);
        struct ckpt_store store = {0};
        if (ckpt_load(&store, st->ckpt_path) < 0) {
            log_msg(LOG_ERROR, JD_LOG, "[%s] cannot create %s/journald: %s", in->name, data_dir,
                    strerror(errno));
            return -1;
        }
        if (store.count > 0 && store.entries[0].path && store.entries[0].path[0]) {
            st->loaded_cursor = xstrdup(store.entries[0].path);
            st->acked = store.entries[0].offset;
        }
        ckpt_free(&store);
    } else {
        log_msg(LOG_WARN, JD_LOG,
                "[%s] no agent data_dir: the position is not kept across restarts", in->name);
    }
    st->started = 1;
    st->last_save_ms = mono_ms();
    st->tick = loop_timer_add(in->loop, JD_TICK_MS, JD_TICK_MS, on_tick, st);
    if (!st->tick)
        return -1;
    /* No journal here (a container without the mount, a host without
     * journald) is said and retried, not fatal: the agent has other work. */
    open_journal(st, NULL, 0);
    return 0;
}

static int journald_start_cb(struct input_instance *in)
{
    return journald_start(in->ctx);
}

static void journald_resume(struct input_instance *in)
{
    struct journald_state *st = in->ctx;
    st->paused = 0;
    if (!st->stopped)
        loop_idle_arm(in->loop, &st->idle);
}

static void journald_commit(struct input_instance *in, uint64_t a, uint64_t b)
{
    struct journald_state *st = in->ctx;
    st->acked++;
    if (jd_cursors_ack(&st->cursors, a))
        st->dirty = 1;
}

static void journald_stop(struct input_instance *in)
{
    struct journald_state *st = in->ctx;
    st->stopped = 1;
    loop_idle_cancel(in->loop, &st->idle);
    if (st->fd >= 0)
        loop_del_fd(in->loop, st->fd);
    st->fd = -1;
}

static void journald_destroy(struct input_instance *in)
{
    struct journald_state *st = in->ctx;
    if (!st)
        return;
    if (!st->stopped)
        journald_stop(in);
    loop_timer_del(in->loop, st->tick);
    if (st->started && st->dirty)
        save_cursor(st, position(st));
    if (st->j)
        sd_journal_close(st->j);
    st->j = NULL;
    meta_cache_clear(st);
    jd_cursors_free(&st->cursors);
    jd_files_free(&st->files);
    buf_free(&st->scratch);
    buf_free(&st->repaired);
    free(st->loaded_cursor);
    free(st->ckpt_path);
    free(st);
    in->ctx = NULL;
}

static void journald_describe(struct input_instance *in, struct buf *out)
{
    struct journald_state *st = in->ctx;
    buf_printf(out,
               "%" PRIu64 " entries read, %" PRIu64 " emitted, %" PRIu64 " filtered out, %" PRIu64
               " acknowledged, %d journal files",
               st->read, st->seq, st->filtered, st->acked, jd_files_count(&st->files));
}

static void journald_status(struct input_instance *in, struct json_t *obj)
{
    struct journald_state *st = in->ctx;
    json_t *o = (json_t *)obj;
    json_object_set_new(o, "entries_read", json_integer((json_int_t)st->read));
    json_object_set_new(o, "entries_filtered", json_integer((json_int_t)st->filtered));
    json_object_set_new(o, "entries_empty", json_integer((json_int_t)st->empty));
    json_object_set_new(o, "invalid_utf8", json_integer((json_int_t)st->invalid_utf8));
    json_object_set_new(o, "truncated", json_integer((json_int_t)st->truncated));
    json_object_set_new(o, "read_errors", json_integer((json_int_t)st->read_errors));
    json_object_set_new(o, "journal_files", json_integer(jd_files_count(&st->files)));
    json_object_set_new(o, "corrupt_files", json_integer(jd_files_corrupt(&st->files)));
    json_object_set_new(o, "pending_cursors",
                        json_integer((json_int_t)jd_cursors_pending(&st->cursors)));
}

const struct input_plugin journald_input = {
    .name = "journald",
    .description = "entries of the systemd journal (sd-journal), filtered by unit, identifier "
                   "and priority",
    .options = journald_options,
    .conf_size = sizeof(struct journald_conf),
    .init = journald_init,
    .start = journald_start_cb,
    .resume = journald_resume,
    .commit = journald_commit,
    .stop = journald_stop,
    .destroy = journald_destroy,
    .describe = journald_describe,
    .status = journald_status,
};
