/* The job pool of a bundle run: jobs from the item table (and the jobs they
 * queue, docker inspect per container) run on o->jobs threads; the generic
 * command job runs argv with a timeout and stages its output. Implemented
 * in runner.c. */
#ifndef COLLECTOR_BUNDLE_JOB_H
#define COLLECTOR_BUNDLE_JOB_H

#include "collector/bundle/stage.h"

struct bundle;
typedef void (*bundle_job_fn)(struct bundle *b, struct bundle_job *j);

struct bundle_job {
    struct bundle_job *next;
    char *id;
    char *out;   /* output path (relative) */
    char **argv; /* NULL-terminated, owned */
    char *path;  /* host path for file items */
    bundle_job_fn fn;
    enum redact_mode redact;
    int timeout_ms;
    unsigned flags;
};

/* Queue a job (thread-safe; the pool picks it up). */
void bundle_push(struct bundle *b, struct bundle_job *j);
struct bundle_job *bundle_job_new(const char *id, const char *out, bundle_job_fn fn);
void bundle_job_set_argv(struct bundle_job *j, const char *const *argv);
void bundle_job_free(struct bundle_job *j);
/* Run every queued job (and jobs they queue) on o->jobs threads. */
void bundle_run_jobs(struct bundle *b);
/* The generic command job: runs j->argv, writes j->out. */
void bundle_job_command(struct bundle *b, struct bundle_job *j);
enum bundle_entry_status bundle_run_command_job(struct bundle *b, struct bundle_job *j);

#endif
