/* `collector bundle`: the shared state of one run and the helpers every
 * collecting file uses. The command's entry point is bundle_main().
 *
 * A run: parse arguments (cli.c) -> host facts and instance id (host.c) ->
 * a staging directory <tmp>/collect/<id>/ -> jobs from the item table
 * (items.c) run by a bounded pool of threads (runner.c); each job writes its
 * files through stage_write() (stage.c: size cap, redaction, sha256) and
 * records manifest entries -> size budget for the whole bundle, redact
 * check, summary.txt (summary.c), redactions.txt and manifest.json
 * (manifest.c) -> the .tgz (archive.c) -> the staging directory removed. */
#ifndef COLLECTOR_BUNDLE_BUNDLE_H
#define COLLECTOR_BUNDLE_BUNDLE_H

#include "collector/bundle/cli.h"
#include "collector/bundle/redact.h"
#include "collector/core/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

int bundle_main(int argc, char **argv);

enum entry_status { ST_OK, ST_FAILED, ST_SKIPPED, ST_TIMEOUT };

enum redact_mode { RED_TEXT, RED_ECS_CONFIG, RED_INSPECT };

/* One row of manifest.json: one output file, or one item that wrote nothing. */
struct entry {
    char *item;            /* item id */
    char *source;          /* host path, URL, or "command" */
    char *command;         /* command line as run (NULL if none) */
    char *path;            /* relative to collect/<id>/, NULL when nothing written */
    uint64_t bytes;        /* as written (after cap and redaction) */
    uint64_t source_bytes; /* as read, before cap and redaction */
    char sha256[65];
    int exit_status; /* -1 when not a command */
    int64_t duration_ms;
    enum entry_status status;
    char *error;   /* why failed / skipped / timed out */
    int truncated; /* newest bytes kept */
    struct redact_stats red;
};

struct job;
struct bundle;
typedef void (*job_fn)(struct bundle *b, struct job *j);

struct job {
    struct job *next;
    char *id;
    char *out;   /* output path (relative) */
    char **argv; /* NULL-terminated, owned */
    char *path;  /* host path for file items */
    job_fn fn;
    enum redact_mode redact;
    int timeout_ms;
    unsigned flags;
};

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
    struct entry **entries;
    size_t nentries, capentries;
    struct job *head, *tail;
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
char *host_path(const struct bundle *b, const char *path);
/* Full path of an executable found in PATH, or NULL (owned). */
char *which(const char *name);

/* Entries: new (owned by the caller until entry_add), add (thread-safe; also
 * prints the progress line). */
struct entry *entry_new(const char *item, const char *source, const char *command);
void entry_fail(struct entry *e, enum entry_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void entry_add(struct bundle *b, struct entry *e);
void entry_free(struct entry *e);

/* Write data as relpath under the stage: cap (newest bytes), refuse binary,
 * redact by mode, write, hash. Fills e->path, bytes, sha256, red. 0 or -1. */
int stage_write(struct bundle *b, struct entry *e, const char *relpath, const char *data,
                size_t len, enum redact_mode mode);
/* Read a host file (newest item_max bytes) into out. 0, or -1 with errno. */
int read_host_file(const struct bundle *b, const char *hostpath_full, size_t cap, struct buf *out,
                   uint64_t *size, int *truncated);
/* Copy a host file (path under root) to relpath; records one entry. */
void collect_file(struct bundle *b, const char *item, const char *path, const char *relpath,
                  enum redact_mode mode, int quiet_if_missing);
/* sha256 of a file on disk (hex). 0 or -1. */
int sha256_file(const char *path, char out[65]);

/* Queue a job (thread-safe; the pool picks it up). */
void bundle_push(struct bundle *b, struct job *j);
struct job *job_new(const char *id, const char *out, job_fn fn);
void job_set_argv(struct job *j, const char *const *argv);
void job_free(struct job *j);
/* Run every queued job (and jobs they queue) on o->jobs threads. */
void bundle_run_jobs(struct bundle *b);
/* The generic command job: runs j->argv, writes j->out. */
void job_command(struct bundle *b, struct job *j);
enum entry_status run_command_job(struct bundle *b, struct job *j);

#endif
