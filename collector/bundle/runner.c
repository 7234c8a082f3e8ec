/* The job pool: o->jobs threads take jobs from one queue; a job may queue
 * more (docker inspect per container). The pool ends when the queue is
 * empty and no job is running. Every command a job runs has its own
 * timeout (proc.c), so the pool cannot hang on one item. */
#include "collector/bundle/job.h"
#include "collector/bundle/proc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bundle_job *bundle_job_new(const char *id, const char *out, bundle_job_fn fn)
{
    struct bundle_job *j = xcalloc(1, sizeof *j);
    j->id = xstrdup(id);
    j->out = out ? xstrdup(out) : NULL;
    j->fn = fn;
    j->redact = REDACT_TEXT;
    return j;
}

void bundle_job_set_argv(struct bundle_job *j, const char *const *argv)
{
    int n = 0;
    while (argv[n])
        n++;
    j->argv = xcalloc((size_t)n + 1, sizeof *j->argv);
    for (int i = 0; i < n; i++)
        j->argv[i] = xstrdup(argv[i]);
}

void bundle_job_free(struct bundle_job *j)
{
    if (!j)
        return;
    if (j->argv)
        for (int i = 0; j->argv[i]; i++)
            free(j->argv[i]);
    free(j->argv);
    free(j->id);
    free(j->out);
    free(j->path);
    free(j);
}

void bundle_push(struct bundle *b, struct bundle_job *j)
{
    pthread_mutex_lock(&b->lock);
    j->next = NULL;
    if (b->tail)
        b->tail->next = j;
    else
        b->head = j;
    b->tail = j;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

static void *worker(void *arg)
{
    struct bundle *b = arg;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->head && b->running > 0)
            pthread_cond_wait(&b->cond, &b->lock);
        if (!b->head)
            break;
        struct bundle_job *j = b->head;
        b->head = j->next;
        if (!b->head)
            b->tail = NULL;
        b->running++;
        pthread_mutex_unlock(&b->lock);
        j->fn(b, j);
        bundle_job_free(j);
        pthread_mutex_lock(&b->lock);
        b->running--;
        pthread_cond_broadcast(&b->cond);
    }
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

void bundle_run_jobs(struct bundle *b)
{
    int n = b->o->jobs;
    pthread_t *t = xcalloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, b);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    free(t);
}

static int looks_not_permitted(const struct cmd_result *r)
{
    const char *s = r->out.data ? r->out.data : "";
    return strstr(s, "Permission denied") || strstr(s, "Operation not permitted") ||
           strstr(s, "must be root") || strstr(s, "permission denied") ||
           strstr(s, "you must be root");
}

enum bundle_entry_status bundle_run_command_job(struct bundle *b, struct bundle_job *j)
{
    char *cmdline = argv_join(j->argv);
    struct bundle_entry *e = bundle_entry_new(j->id, "command", cmdline);
    char *exe = bundle_which(j->argv[0]);
    if (!exe) {
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "not present: %s not found in PATH", j->argv[0]);
        bundle_entry_add(b, e);
        free(cmdline);
        return BUNDLE_ENTRY_SKIPPED;
    }
    int64_t timeout = j->timeout_ms ? j->timeout_ms : b->o->timeout_ms;
    if (timeout > b->o->timeout_ms)
        timeout = b->o->timeout_ms;
    struct cmd_result r;
    proc_run(exe, j->argv, b->envp, timeout, b->o->item_max, &r);
    e->duration_ms = r.duration_ms;
    e->exit_status = r.status;
    e->source_bytes = r.total;
    if (r.spawn_errno) {
        bundle_entry_fail(e, BUNDLE_ENTRY_FAILED, "cannot run %s: %s", exe,
                          strerror(r.spawn_errno));
    } else {
        bundle_stage_write(b, e, j->out, r.out.data ? r.out.data : "", r.out.len, j->redact);
        if (r.truncated)
            e->truncated = 1;
        if (r.timed_out)
            bundle_entry_fail(e, BUNDLE_ENTRY_TIMEOUT,
                              "timed out after %.1fs (process group killed); partial output kept",
                              (double)timeout / 1000.0);
        else if (r.status != 0 && e->status == BUNDLE_ENTRY_OK)
            bundle_entry_fail(e, BUNDLE_ENTRY_FAILED, "exit status %d%s", r.status,
                              !b->is_root && looks_not_permitted(&r) ? " (not permitted: not root)"
                                                                     : "");
    }
    enum bundle_entry_status st = e->status;
    bundle_entry_add(b, e);
    cmd_result_free(&r);
    free(exe);
    free(cmdline);
    return st;
}

void bundle_job_command(struct bundle *b, struct bundle_job *j)
{
    bundle_run_command_job(b, j);
}
