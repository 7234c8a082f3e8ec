/* The state of one bundle run and the staging API every collecting file
 * uses: host paths under --root, manifest entries, and bundle_stage_write
 * (cap, binary refusal, redaction, sha256) for every file the bundle writes.
 * Implemented in stage.c. */
#ifndef COLLECTOR_BUNDLE_STAGE_H
#define COLLECTOR_BUNDLE_STAGE_H

#include "collector/bundle/cli.h"
#include "collector/bundle/redact.h"
#include "collector/core/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

enum bundle_entry_status {
    BUNDLE_ENTRY_OK,
    BUNDLE_ENTRY_FAILED,
    BUNDLE_ENTRY_SKIPPED,
    BUNDLE_ENTRY_TIMEOUT
};

/* One row of manifest.json: one output file, or one item that wrote nothing. */
struct bundle_entry {
    char *item;            /* item id */
    char *source;          /* host path, URL, or "command" */
    char *command;         /* command line as run (NULL if none) */
    char *path;            /* relative to collect/<id>/, NULL when nothing written */
    uint64_t bytes;        /* as written (after cap and redaction) */
    uint64_t source_bytes; /* as read, before cap and redaction */
    char sha256[65];
    int exit_status; /* -1 when not a command */
    int64_t duration_ms;
    enum bundle_entry_status status;
    char *error;   /* why failed / skipped / timed out */
    int truncated; /* newest bytes kept */
    struct redact_stats red;
};

struct bundle_job;

struct bundle {
    const struct bundle_opts *o;
    char *tmp;             /* staging top: contains collect/<dirname>/ */
    char *stage;           /* <tmp>/collect/<dirname> */
    char *dirname;         /* instance id, or "system" */
    char *instance_id;     /* NULL when unknown */
    char *instance_source; /* "ssm registration", "imds", or why none */
    char stamp[16];        /* YYYYMMDDHHmm at start */
    int64_t started_ms;
    int systemd;
    int is_root;
    char **envp; /* environment of the commands run (LANG=C) */

    pthread_mutex_t lock; /* entries, queue, facts */
    pthread_cond_t cond;
    struct bundle_entry **entries;
    size_t nentries, capentries;
    struct bundle_job *head, *tail;
    int running;
    atomic_int inspect_timed_out;
    atomic_int docker_ok;

    /* facts for the summary */
    int disk_max_pct;
    char *disk_worst; /* mount point of disk_max_pct */
    char *status_url;
    char *ecs_url;
    char *data_dir; /* the agent's data_dir */
    char *config_path;
};

/* Host path under the fake root (tests), owned by the caller. */
char *bundle_host_path(const struct bundle *b, const char *path);
/* Full path of an executable found in PATH, or NULL (owned). */
char *bundle_which(const char *name);

/* Entries: new (owned by the caller until entry_add), add (thread-safe; also
 * prints the progress line). */
struct bundle_entry *bundle_entry_new(const char *item, const char *source, const char *command);
void bundle_entry_fail(struct bundle_entry *e, enum bundle_entry_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void bundle_entry_add(struct bundle *b, struct bundle_entry *e);
void bundle_entry_free(struct bundle_entry *e);

/* Write data as relpath under the stage: refuse binary, redact by mode, then
 * cap (newest bytes; e->truncated set beforehand says data was cut when
 * read), write, hash. Fills e->path, bytes, sha256, red. 0 or -1. */
int bundle_stage_write(struct bundle *b, struct bundle_entry *e, const char *relpath,
                       const char *data, size_t len, enum redact_mode mode);
/* Read a host file (path under --root, symlinks resolved inside it; the
 * newest cap bytes and a little more, see bundle_stage_write) into out.
 * 0, or -1 with errno. */
int bundle_read_host_file(const struct bundle *b, const char *path, size_t cap, struct buf *out,
                          uint64_t *size, int *truncated);
/* The first line of a host file (a /proc or /sys value), owned; NULL with errno. */
char *bundle_read_host_line(const struct bundle *b, const char *path);
/* The same for a full path (the staging directory); no link followed at the end. */
int bundle_read_file(const char *full, size_t cap, struct buf *out, uint64_t *size, int *truncated);
/* Copy a host file (path under root) to relpath; records one entry. */
void bundle_collect_file(struct bundle *b, const char *item, const char *path, const char *relpath,
                         enum redact_mode mode, int quiet_if_missing);
/* sha256 of a file on disk (hex). 0 or -1. */
int bundle_sha256_file(const char *path, char out[65]);

#endif
