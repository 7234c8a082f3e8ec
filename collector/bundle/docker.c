/* Docker: a probe (`docker version`, which is also docker-version.txt),
 * then info, ps, images, stats and one `docker inspect` per container, in
 * parallel. Daemon not answering: docker/docker-not-running.txt says why and
 * every Docker item is recorded as skipped. The first inspect that times
 * out stops the others (docker/container-inspect-timed-out.txt), as the
 * reference does. DOCKER_HOST in the environment is honoured by the CLI. */
#include "collector/bundle/items.h"
#include "collector/bundle/proc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *id, *out;
    const char *argv[8];
    int timeout_s;
} docker_items[] = {
    {"docker-info", "docker/docker-info.txt", {"docker", "info", NULL}, 20},
    {"docker-ps", "docker/docker-ps.txt", {"docker", "ps", "--all", "--no-trunc", NULL}, 20},
    {"docker-images", "docker/docker-images.txt", {"docker", "images", NULL}, 20},
    {"docker-stats",
     "docker/docker-stats.txt",
     {"docker", "stats", "--all", "--no-trunc", "--no-stream", NULL},
     60},
};
#define NDOCKER (sizeof docker_items / sizeof docker_items[0])

static void inspect_one(struct bundle *b, struct bundle_job *j);

static int64_t cap_timeout(const struct bundle *b, int seconds)
{
    int64_t ms = (int64_t)seconds * 1000;
    return ms < b->o->timeout_ms ? ms : b->o->timeout_ms;
}

static void not_running(struct bundle *b, const char *why, const char *detail)
{
    struct bundle_entry *e = bundle_entry_new("docker-not-running", "docker version", NULL);
    struct buf t;
    buf_init(&t);
    buf_printf(&t, "Docker is not running or does not answer: %s\n", why);
    if (detail && *detail)
        buf_printf(&t, "\n%s\n", detail);
    bundle_stage_write(b, e, "docker/docker-not-running.txt", t.data, t.len, REDACT_TEXT);
    bundle_entry_add(b, e);
    buf_free(&t);
    const char *skipped[] = {"docker-info", "docker-ps", "docker-images", "docker-stats",
                             "docker-inspect"};
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++) {
        struct bundle_entry *s = bundle_entry_new(skipped[i], "command", NULL);
        bundle_entry_fail(s, BUNDLE_ENTRY_SKIPPED, "docker not running: %s", why);
        bundle_entry_add(b, s);
    }
}

/* `docker ps -a -q`, then one inspect job per container. */
static void list_containers(struct bundle *b, struct bundle_job *j)
{
    char *exe = bundle_which("docker");
    char *argv[] = {"docker", "ps", "-a", "-q", NULL};
    struct cmd_result r;
    if (!exe) {
        free(exe);
        return;
    }
    proc_run(exe, argv, b->envp, cap_timeout(b, 20), 4 << 20, &r);
    free(exe);
    if (r.timed_out || r.status != 0) {
        struct bundle_entry *e = bundle_entry_new("docker-inspect", "command", "docker ps -a -q");
        e->exit_status = r.status;
        e->duration_ms = r.duration_ms;
        bundle_entry_fail(e, r.timed_out ? BUNDLE_ENTRY_TIMEOUT : BUNDLE_ENTRY_FAILED,
                          "listing containers: %s", r.timed_out ? "timed out" : "failed");
        bundle_entry_add(b, e);
        cmd_result_free(&r);
        return;
    }
    char *save = NULL;
    for (char *id = strtok_r(r.out.data ? r.out.data : "", "\n", &save); id;
         id = strtok_r(NULL, "\n", &save)) {
        size_t n = strspn(id, "0123456789abcdef");
        if (n < 12 || n > 64)
            continue;
        id[n] = 0;
        char *out = xasprintf("docker/container-%s.txt", id);
        struct bundle_job *ij = bundle_job_new("docker-inspect", out, inspect_one);
        const char *av[] = {"docker", "inspect", id, NULL};
        bundle_job_set_argv(ij, av);
        ij->redact = REDACT_INSPECT;
        ij->timeout_ms = (int)cap_timeout(b, 10);
        bundle_push(b, ij);
        free(out);
    }
    cmd_result_free(&r);
    (void)j;
}

static void inspect_one(struct bundle *b, struct bundle_job *j)
{
    if (atomic_load(&b->inspect_timed_out)) {
        struct bundle_entry *e = bundle_entry_new(j->id, "command", NULL);
        e->command = argv_join(j->argv);
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED,
                          "an earlier docker inspect timed out: the others are not tried");
        bundle_entry_add(b, e);
        return;
    }
    int timed_out = bundle_run_command_job(b, j) == BUNDLE_ENTRY_TIMEOUT;
    if (timed_out && atomic_exchange(&b->inspect_timed_out, 1) == 0) {
        struct bundle_entry *e = bundle_entry_new("docker-inspect-timed-out", "command", NULL);
        char *text = xasprintf("docker inspect %s timed out after %.1fs; the remaining containers "
                               "were not inspected.\n",
                               j->argv[2], (double)j->timeout_ms / 1000.0);
        bundle_stage_write(b, e, "docker/container-inspect-timed-out.txt", text, strlen(text),
                           REDACT_TEXT);
        bundle_entry_add(b, e);
        free(text);
    }
}

void collect_docker(struct bundle *b, struct bundle_job *j)
{
    char *exe = bundle_which("docker");
    if (!exe) {
        not_running(b, "the docker command is not installed (not found in PATH)", NULL);
        return;
    }
    char *argv[] = {"docker", "version", NULL};
    struct cmd_result r;
    proc_run(exe, argv, b->envp, cap_timeout(b, 20), b->o->item_max, &r);
    free(exe);
    if (r.timed_out || r.status != 0 || r.spawn_errno) {
        char *why = r.timed_out ? xasprintf("`docker version` timed out after %.1fs",
                                            (double)cap_timeout(b, 20) / 1000.0)
                                : xasprintf("`docker version` failed (exit status %d)", r.status);
        struct bundle_entry *e = bundle_entry_new("docker-version", "command", "docker version");
        e->exit_status = r.status;
        e->duration_ms = r.duration_ms;
        bundle_stage_write(b, e, "docker/docker-version.txt", r.out.data ? r.out.data : "",
                           r.out.len, REDACT_TEXT);
        bundle_entry_fail(e, r.timed_out ? BUNDLE_ENTRY_TIMEOUT : BUNDLE_ENTRY_FAILED, "%s", why);
        bundle_entry_add(b, e);
        not_running(b, why, r.out.data);
        free(why);
        cmd_result_free(&r);
        return;
    }
    atomic_store(&b->docker_ok, 1);
    struct bundle_entry *e = bundle_entry_new("docker-version", "command", "docker version");
    e->exit_status = r.status;
    e->duration_ms = r.duration_ms;
    bundle_stage_write(b, e, "docker/docker-version.txt", r.out.data ? r.out.data : "", r.out.len,
                       REDACT_TEXT);
    bundle_entry_add(b, e);
    cmd_result_free(&r);
    for (size_t i = 0; i < NDOCKER; i++) {
        struct bundle_job *dj =
            bundle_job_new(docker_items[i].id, docker_items[i].out, bundle_job_command);
        bundle_job_set_argv(dj, docker_items[i].argv);
        dj->timeout_ms = (int)cap_timeout(b, docker_items[i].timeout_s);
        bundle_push(b, dj);
    }
    bundle_push(b, bundle_job_new("docker-inspect-list", NULL, list_containers));
    (void)j;
}
