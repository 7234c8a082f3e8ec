/* summary.txt from the staged files: the facts are read back from the very
 * files named as evidence, so the page and the bundle cannot disagree. */
#include "collector/bundle/stage.h"
#include "collector/bundle/summary.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int slurp(const struct bundle *b, const char *rel, struct buf *out)
{
    buf_reset(out);
    char *p = xasprintf("%s/%s", b->stage, rel);
    FILE *f = fopen(p, "rb");
    free(p);
    if (!f)
        return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    fclose(f);
    if (!out->data)
        buf_append(out, "", 0);
    return 0;
}

static const char *line_value(const char *text, const char *key, char *val, size_t vlen)
{
    const char *p = strstr(text, key);
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "\r\n");
    if (n >= vlen)
        n = vlen - 1;
    memcpy(val, p, n);
    val[n] = 0;
    return val;
}

static void docker_lines(struct bundle *b, struct buf *out, struct buf *tmp)
{
    if (!atomic_load(&b->docker_ok)) {
        if (slurp(b, "docker/docker-not-running.txt", tmp) == 0) {
            char *nl = strchr(tmp->data, '\n');
            if (nl)
                *nl = 0;
            verdict_line(out, V_WARN, "docker", "docker/docker-not-running.txt", "%s", tmp->data);
        }
        return;
    }
    char ver[128] = "?";
    if (slurp(b, "docker/docker-version.txt", tmp) == 0) {
        const char *server = strstr(tmp->data, "Server");
        line_value(server ? server : tmp->data, "Version:", ver, sizeof ver);
    }
    verdict_line(out, V_OK, "docker", "docker/docker-version.txt", "running, server version %s",
                 ver);
    int running = 0, stopped = 0, oom = 0, restarting = 0;
    for (size_t i = 0; i < b->nentries; i++) {
        struct bundle_entry *e = b->entries[i];
        if (strcmp(e->item, "docker-inspect") != 0 || !e->path || slurp(b, e->path, tmp) < 0)
            continue;
        json_t *doc = json_loadb(tmp->data, tmp->len, 0, NULL);
        json_t *c = json_is_array(doc) ? json_array_get(doc, 0) : doc;
        json_t *st = json_object_get(c, "State");
        if (json_is_true(json_object_get(st, "Running")))
            running++;
        else if (st)
            stopped++;
        oom += json_is_true(json_object_get(st, "OOMKilled"));
        restarting += json_is_true(json_object_get(st, "Restarting"));
        json_decref(doc);
    }
    verdict_line(out, oom || restarting ? V_WARN : V_OK, "containers", "docker/container-*.txt",
                 "%d running, %d stopped, %d OOM-killed, %d restarting", running, stopped, oom,
                 restarting);
}

static int has_entry_ok(const struct bundle *b, const char *item)
{
    for (size_t i = 0; i < b->nentries; i++)
        if (strcmp(b->entries[i]->item, item) == 0 && b->entries[i]->path &&
            b->entries[i]->status == BUNDLE_ENTRY_OK)
            return 1;
    return 0;
}

static void ecs_lines(struct bundle *b, struct buf *out, struct buf *tmp)
{
    int ecs_host = has_entry_ok(b, "ecs-config") || has_entry_ok(b, "ecs-logs");
    if (slurp(b, "ecs-agent/agent-metadata.txt", tmp) == 0) {
        json_t *m = json_loadb(tmp->data, tmp->len, 0, NULL);
        const char *ver = json_string_value(json_object_get(m, "Version"));
        const char *cluster = json_string_value(json_object_get(m, "Cluster"));
        const char *arn = json_string_value(json_object_get(m, "ContainerInstanceArn"));
        verdict_line(out, arn && *arn ? V_OK : V_WARN, "ecs agent", "ecs-agent/agent-metadata.txt",
                     "%s, cluster %s, %s", ver ? ver : "version ?", cluster ? cluster : "?",
                     arn && *arn ? "registered" : "NOT registered (no container instance ARN)");
        json_decref(m);
    } else if (ecs_host) {
        verdict_line(out, V_FAIL, "ecs agent", "ecs-agent/ecs-agent-not-running.txt",
                     "not running or introspection not reachable");
    } else {
        verdict_line(out, V_INFO, "ecs agent", NULL,
                     "not an ECS host (no ecs.config, no ECS logs)");
    }
    if (ecs_host && slurp(b, "ecs_agent_logs/ecs-agent.log", tmp) == 0) {
        int acs = acs_connection_state(tmp->data, tmp->len);
        verdict_line(out,
                     acs == 1   ? V_OK
                     : acs == 0 ? V_FAIL
                                : V_INFO,
                     "ecs acs connection", "ecs_agent_logs/ecs-agent.log", "%s",
                     acs == 1   ? "connected (last ACS message in the agent log)"
                     : acs == 0 ? "NOT connected (last ACS message in the agent log is an error)"
                                : "unknown (no ACS message in the agent log)");
    }
    /* errors in the ECS agent's logs in the last hour */
    int errors = 0;
    const char *worst = NULL;
    int64_t now = now_ms() / 1000;
    for (size_t i = 0; i < b->nentries; i++) {
        struct bundle_entry *e = b->entries[i];
        if (strcmp(e->item, "ecs-logs") != 0 || !e->path || !strstr(e->path, ".log") ||
            slurp(b, e->path, tmp) < 0)
            continue;
        int n = count_recent_errors(tmp->data, tmp->len, now, 3600);
        if (n) {
            errors += n;
            worst = e->path;
        }
    }
    if (ecs_host)
        verdict_line(out, errors ? V_WARN : V_OK, "ecs agent errors",
                     worst ? worst : "ecs_agent_logs/", "%d error line%s in the last hour", errors,
                     errors == 1 ? "" : "s");
}

static void resource_lines(struct bundle *b, struct buf *out, struct buf *tmp)
{
    if (b->disk_max_pct >= 0)
        verdict_line(out, verdict_pct(b->disk_max_pct, 70, 90), "disk", "mounts.txt",
                     "fullest filesystem %s is %d%% used (blocks or inodes)",
                     b->disk_worst ? b->disk_worst : "?", b->disk_max_pct);
    if (slurp(b, "proc/meminfo", tmp) == 0) {
        int pct = meminfo_available_pct(tmp->data);
        if (pct >= 0)
            verdict_line(out,
                         pct < 5    ? V_FAIL
                         : pct < 10 ? V_WARN
                                    : V_OK,
                         "memory", "proc/meminfo", "%d%% available", pct);
    }
    int oom = 0;
    if (slurp(b, "kernel/dmesg.current", tmp) == 0)
        oom = count_oom_kills(tmp->data, tmp->len);
    long cg = slurp(b, "cgroupv2.events", tmp) == 0 ? count_cgroup_oom_kills(tmp->data) : 0;
    verdict_line(out, oom || cg ? V_WARN : V_OK, "oom kills", "kernel/dmesg.current",
                 "%d in the kernel log, %ld counted by container cgroups", oom, cg);
    if (slurp(b, "limits.txt", tmp) == 0) {
        long long watches = limits_value(tmp->data, "fs.inotify.max_user_watches", 0);
        long long inst = limits_value(tmp->data, "fs.inotify.max_user_instances", 0);
        int low = (watches >= 0 && watches < 65536) || (inst >= 0 && inst < 256);
        verdict_line(out, low ? V_WARN : V_OK, "inotify", "limits.txt",
                     "max_user_watches %lld, max_user_instances %lld%s", watches, inst,
                     low ? " (low for a container host)" : "");
        long long alloc = limits_value(tmp->data, "fs.file-nr", 0);
        long long max = limits_value(tmp->data, "fs.file-nr", 2);
        if (alloc >= 0 && max > 0) {
            int pct = (int)(alloc * 100 / max);
            verdict_line(out, verdict_pct(pct, 80, 95), "file descriptors", "limits.txt",
                         "%lld of %lld in use (%d%%)", alloc, max, pct);
        }
    }
    if (slurp(b, "timesync.txt", tmp) == 0)
        verdict_line(out, strstr(tmp->data, "synchronized yes") ? V_OK : V_WARN, "time sync",
                     "timesync.txt", "%s",
                     strstr(tmp->data, "synchronized yes")
                         ? "clock synchronized"
                         : "clock NOT synchronized (kernel STA_UNSYNC)");
}

void summary_write(struct bundle *b)
{
    struct buf out, tmp;
    buf_init(&out);
    buf_init(&tmp);
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    time_t t = (time_t)(b->started_ms / 1000);
    struct tm tm;
    char when[64];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_printf(&out, "collector bundle %s, %s\n\n", COLLECTOR_VERSION, when);
    verdict_line(&out, V_INFO, "host", "instance-id.txt", "%s, instance %s (%s)", host,
                 b->instance_id ? b->instance_id : "unknown", b->instance_source);
    if (slurp(b, "uname.txt", &tmp) == 0) {
        char rel[128] = "?";
        sscanf(tmp.data, "%*s %*s %127s", rel);
        verdict_line(&out, V_INFO, "kernel", "uname.txt", "%s", rel);
    }
    verdict_line(&out, V_INFO, "privileges", NULL, "%s",
                 b->is_root ? "collected as root"
                            : "NOT root: some items were not readable (see manifest.json)");
    docker_lines(b, &out, &tmp);
    ecs_lines(b, &out, &tmp);
    int status_ok = has_entry_ok(b, "collector-status");
    verdict_line(&out, V_INFO, "collector agent",
                 status_ok ? "collector/status.json" : "manifest.json", "%s",
                 status_ok ? "running (/status answered)" : "not running (/status did not answer)");
    resource_lines(b, &out, &tmp);
    int failed = 0, timeouts = 0, skipped = 0;
    for (size_t i = 0; i < b->nentries; i++) {
        failed += b->entries[i]->status == BUNDLE_ENTRY_FAILED;
        timeouts += b->entries[i]->status == BUNDLE_ENTRY_TIMEOUT;
        skipped += b->entries[i]->status == BUNDLE_ENTRY_SKIPPED;
    }
    verdict_line(&out, failed || timeouts ? V_WARN : V_OK, "bundle", "manifest.json",
                 "%zu items: %d failed, %d timed out, %d skipped", b->nentries, failed, timeouts,
                 skipped);
    struct bundle_entry *e = bundle_entry_new("summary", "bundle", NULL);
    bundle_stage_write(b, e, "summary.txt", out.data, out.len, REDACT_TEXT);
    bundle_entry_add(b, e);
    buf_free(&out);
    buf_free(&tmp);
}
