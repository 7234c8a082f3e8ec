#include "collector/bundle/debug.h"
#include "collector/bundle/stage.h"
#include "collector/bundle/proc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int debug_sysconfig_add_d(const char *in, struct buf *out)
{
    buf_reset(out);
    if (strstr(in, "OPTIONS=\"-D"))
        return 1;
    const char *p = in;
    int done = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (!done && strncmp(p, "OPTIONS=\"", 9) == 0) {
            buf_append_str(out, "OPTIONS=\"-D ");
            buf_append(out, p + 9, n - 9);
            done = 1;
        } else {
            buf_append(out, p, n);
        }
        p += n;
    }
    if (!done) {
        if (out->len && out->data[out->len - 1] != '\n')
            buf_append_char(out, '\n');
        buf_append_str(out, "OPTIONS=\"-D $OPTIONS\"\n");
    }
    return 0;
}

int debug_ecs_has_debug(const char *text)
{
    const char *p = text;
    while (p && *p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "ECS_LOGLEVEL=debug", 18) == 0 &&
            (p[18] == '\n' || p[18] == 0 || p[18] == ' ' || p[18] == '\r'))
            return 1;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

struct dbg {
    const struct bundle_opts *o;
    int systemd;
    char stamp[32];
    int failures;
};

static char *rooted(const struct dbg *d, const char *path)
{
    return d->o->root ? xasprintf("%s%s", d->o->root, path) : xstrdup(path);
}

static int slurp(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    fclose(f);
    if (!out->data)
        buf_append(out, "", 0);
    return 0;
}

static int spit(const char *path, const char *data, size_t len)
{
    char *tmp = xasprintf("%s.collector-tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

static char *backup(struct dbg *d, const char *path, const struct buf *data)
{
    char *bak = xasprintf("%s.collector-backup-%s", path, d->stamp);
    if (spit(bak, data->data, data->len) < 0) {
        printf("  could not write backup %s: %s\n", bak, strerror(errno));
        free(bak);
        return NULL;
    }
    return bak;
}

/* Run a restart/reload command; print it and how it went. */
static void run(struct dbg *d, const char *const *argv)
{
    char *cmd = argv_join((char *const *)argv);
    char *exe = bundle_which(argv[0]);
    printf("  running: %s ... ", cmd);
    fflush(stdout);
    if (!exe) {
        printf("not run: %s not found\n", argv[0]);
        d->failures++;
        free(cmd);
        return;
    }
    struct cmd_result r;
    int64_t t = d->o->timeout_ms < 60000 ? d->o->timeout_ms : 60000;
    proc_run(exe, (char *const *)argv, environ, t, 65536, &r);
    if (r.timed_out)
        printf("timed out after %.0fs\n", (double)t / 1000);
    else if (r.status != 0)
        printf("failed (exit status %d)%s%.*s\n", r.status, r.out.len ? ": " : "",
               (int)(r.out.len > 300 ? 300 : r.out.len), r.out.data ? r.out.data : "");
    else
        printf("ok\n");
    if (r.timed_out || r.status != 0)
        d->failures++;
    cmd_result_free(&r);
    free(exe);
    free(cmd);
}

static void docker_sysconfig(struct dbg *d, const char *path, const struct buf *cur)
{
    struct buf next;
    buf_init(&next);
    if (debug_sysconfig_add_d(cur->data, &next) == 1) {
        printf("Docker: debug already on (-D in OPTIONS of /etc/sysconfig/docker): nothing "
               "changed.\n");
        buf_free(&next);
        return;
    }
    char *bak = backup(d, path, cur);
    if (!bak || spit(path, next.data, next.len) < 0) {
        printf("Docker: could not change /etc/sysconfig/docker: %s\n", strerror(errno));
        d->failures++;
        free(bak);
        buf_free(&next);
        return;
    }
    printf("Docker: changed /etc/sysconfig/docker: added -D (debug) to OPTIONS (backup: %s)\n",
           bak);
    const char *sd[] = {"systemctl", "restart", "docker.service", NULL};
    const char *sv[] = {"service", "docker", "restart", NULL};
    run(d, d->systemd ? sd : sv);
    printf("  to undo: cp -p %s /etc/sysconfig/docker && %s\n", bak,
           d->systemd ? "systemctl restart docker.service" : "service docker restart");
    free(bak);
    buf_free(&next);
}

static void docker_daemon_json(struct dbg *d, const char *path, int exists, const struct buf *cur)
{
    json_t *doc = exists ? json_loadb(cur->data, cur->len, 0, NULL) : json_object();
    if (!json_is_object(doc)) {
        printf("Docker: /etc/docker/daemon.json is not a JSON object: nothing changed.\n");
        d->failures++;
        json_decref(doc);
        return;
    }
    if (json_is_true(json_object_get(doc, "debug"))) {
        printf("Docker: debug already on (\"debug\": true in /etc/docker/daemon.json): nothing "
               "changed.\n");
        json_decref(doc);
        return;
    }
    char *bak = exists ? backup(d, path, cur) : NULL;
    if (exists && !bak) {
        d->failures++;
        json_decref(doc);
        return;
    }
    json_object_set_new(doc, "debug", json_true());
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    struct buf t;
    buf_init(&t);
    buf_printf(&t, "%s\n", text);
    free(text);
    if (spit(path, t.data, t.len) < 0) {
        printf("Docker: could not write /etc/docker/daemon.json: %s\n", strerror(errno));
        d->failures++;
    } else {
        printf("Docker: %s /etc/docker/daemon.json: set \"debug\": true%s%s%s\n",
               exists ? "changed" : "created", bak ? " (backup: " : "", bak ? bak : "",
               bak ? ")" : "");
        const char *sd[] = {"systemctl", "reload", "docker.service", NULL};
        const char *sv[] = {"service", "docker", "reload", NULL};
        run(d, d->systemd ? sd : sv); /* debug is a live-reloadable daemon option (SIGHUP) */
        if (bak)
            printf("  to undo: cp -p %s /etc/docker/daemon.json && %s\n", bak,
                   d->systemd ? "systemctl reload docker.service" : "service docker reload");
        else
            printf("  to undo: rm /etc/docker/daemon.json && %s\n",
                   d->systemd ? "systemctl reload docker.service" : "service docker reload");
    }
    buf_free(&t);
    free(bak);
}

static void docker_debug(struct dbg *d)
{
    char *sys = rooted(d, "/etc/sysconfig/docker");
    char *json = rooted(d, "/etc/docker/daemon.json");
    char *dir = rooted(d, "/etc/docker");
    struct buf cur;
    buf_init(&cur);
    struct stat st;
    if (slurp(sys, &cur) == 0)
        docker_sysconfig(d, sys, &cur);
    else if (slurp(json, &cur) == 0)
        docker_daemon_json(d, json, 1, &cur);
    else if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        docker_daemon_json(d, json, 0, &cur);
    else
        printf("Docker: neither /etc/sysconfig/docker nor /etc/docker exists: not changed "
               "(this host's Docker configuration is not supported).\n");
    buf_free(&cur);
    free(sys);
    free(json);
    free(dir);
}

static void ecs_debug(struct dbg *d)
{
    char *dir = rooted(d, "/etc/ecs");
    char *path = rooted(d, "/etc/ecs/ecs.config");
    struct buf cur;
    buf_init(&cur);
    int exists = slurp(path, &cur) == 0;
    if (exists && debug_ecs_has_debug(cur.data)) {
        printf("ECS agent: debug already on (ECS_LOGLEVEL=debug in /etc/ecs/ecs.config): nothing "
               "changed.\n");
        goto out;
    }
    mkdir_p(dir);
    char *bak = exists ? backup(d, path, &cur) : NULL;
    if (exists && !bak) {
        d->failures++;
        goto out;
    }
    struct buf next;
    buf_init(&next);
    buf_append(&next, cur.data ? cur.data : "", cur.len);
    if (next.len && next.data[next.len - 1] != '\n')
        buf_append_char(&next, '\n');
    buf_append_str(&next, "ECS_LOGLEVEL=debug\n");
    if (spit(path, next.data, next.len) < 0) {
        printf("ECS agent: could not write /etc/ecs/ecs.config: %s\n", strerror(errno));
        d->failures++;
    } else {
        printf("ECS agent: %s /etc/ecs/ecs.config: appended ECS_LOGLEVEL=debug%s%s%s\n",
               exists ? "changed" : "created", bak ? " (backup: " : "", bak ? bak : "",
               bak ? ")" : "");
        const char *restart;
        if (d->systemd) {
            const char *sd[] = {"systemctl", "restart", "ecs", NULL};
            run(d, sd);
            restart = "systemctl restart ecs";
        } else {
            const char *stop[] = {"stop", "ecs", NULL}, *start[] = {"start", "ecs", NULL};
            run(d, stop);
            run(d, start);
            restart = "stop ecs; start ecs";
        }
        if (bak)
            printf("  to undo: cp -p %s /etc/ecs/ecs.config && %s\n", bak, restart);
        else
            printf("  to undo: rm /etc/ecs/ecs.config && %s\n", restart);
    }
    buf_free(&next);
    free(bak);
out:
    buf_free(&cur);
    free(path);
    free(dir);
}

int bundle_enable_debug(const struct bundle_opts *o)
{
    if (geteuid() != 0 && !o->root) {
        fprintf(stderr,
                "ERROR: --mode enable-debug must be run as root (it edits /etc and restarts "
                "Docker and the ECS agent)\n");
        return 1;
    }
    struct dbg d = {.o = o};
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(d.stamp, sizeof d.stamp, "%Y%m%d%H%M%S", &tm);
    char *comm = rooted(&d, "/proc/1/comm");
    struct buf c;
    buf_init(&c);
    if (slurp(comm, &c) < 0) {
        free(comm);
        comm = xstrdup("/proc/1/comm");
        slurp(comm, &c);
    }
    d.systemd = c.data && strncmp(c.data, "systemd", 7) == 0;
    buf_free(&c);
    free(comm);
    printf("enable-debug (init: %s)%s%s\n", d.systemd ? "systemd" : "other",
           o->root ? ", root " : "", o->root ? o->root : "");
    docker_debug(&d);
    ecs_debug(&d);
    printf("Debug logging stays on until undone; it makes the logs grow faster. Run "
           "`collector bundle` after reproducing the problem.\n");
    return d.failures ? 1 : 0;
}
