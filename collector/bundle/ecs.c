/* The ECS agent: its logs (/var/log/ecs, every file, subdirectories too),
 * its state file (pretty-printed), and its introspection API (/v1/metadata,
 * /v1/tasks) with a short timeout. ecs.config is a plain file item with the
 * allowlist redaction (items.c). */
#include "collector/bundle/http.h"
#include "collector/bundle/items.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ECS_LOG_DIR "/var/log/ecs"
#define ECS_STATE "/var/lib/ecs/data/ecs_agent_data.json"
#define ECS_DEFAULT_URL "http://localhost:51678"

static int walk_logs(struct bundle *b, const char *host_dir, const char *rel, int depth)
{
    if (depth > 6)
        return 0;
    char *full = bundle_host_path(b, host_dir);
    DIR *d = opendir(full);
    free(full);
    if (!d)
        return -1;
    struct dirent *de;
    int n = 0;
    int64_t oldest = b->o->since_ms ? now_ms() - b->o->since_ms : 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *hp = xasprintf("%s/%s", host_dir, de->d_name);
        char *rp = xasprintf("%s/%s", rel, de->d_name);
        char *fp = bundle_host_path(b, hp);
        struct stat st;
        if (lstat(fp, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                n += walk_logs(b, hp, rp, depth + 1) > 0;
            } else if (S_ISREG(st.st_mode)) {
                if (oldest && (int64_t)st.st_mtime * 1000 < oldest) {
                    struct bundle_entry *e = bundle_entry_new("ecs-logs", hp, NULL);
                    bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "older than --since");
                    bundle_entry_add(b, e);
                } else {
                    bundle_collect_file(b, "ecs-logs", hp, rp, REDACT_TEXT, 0);
                }
                n++;
            }
        }
        free(fp);
        free(hp);
        free(rp);
    }
    closedir(d);
    return n;
}

void collect_ecs_logs(struct bundle *b, struct bundle_job *j)
{
    int64_t t0 = mono_ms();
    char *full = bundle_host_path(b, ECS_LOG_DIR);
    struct stat st;
    int present = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
    int err = errno;
    free(full);
    if (!present) {
        struct bundle_entry *e = bundle_entry_new(j->id, ECS_LOG_DIR, NULL);
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "not present: ECS log directory does not exist");
        e->duration_ms = mono_ms() - t0;
        bundle_entry_add(b, e);
        return;
    }
    if (walk_logs(b, ECS_LOG_DIR, j->out, 0) < 0) {
        struct bundle_entry *e = bundle_entry_new(j->id, ECS_LOG_DIR, NULL);
        bundle_entry_fail(e, BUNDLE_ENTRY_FAILED, "cannot read %s: %s", ECS_LOG_DIR, strerror(err));
        bundle_entry_add(b, e);
    }
}

static void write_pretty(struct bundle *b, struct bundle_entry *e, const char *rel,
                         const char *data, size_t len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, 0, &jerr);
    char *text = doc ? json_dumps(doc, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;
    if (text) {
        size_t n = strlen(text);
        text = xrealloc(text, n + 2);
        text[n] = '\n';
        text[n + 1] = 0;
        bundle_stage_write(b, e, rel, text, n + 1, REDACT_INSPECT);
    } else {
        bundle_stage_write(b, e, rel, data, len, REDACT_TEXT);
    }
    free(text);
    json_decref(doc);
}

void collect_ecs_state(struct bundle *b, struct bundle_job *j)
{
    int64_t t0 = mono_ms();
    struct bundle_entry *e = bundle_entry_new(j->id, ECS_STATE, NULL);
    struct buf data;
    buf_init(&data);
    uint64_t size;
    int trunc;
    if (bundle_read_host_file(b, ECS_STATE, b->o->item_max, &data, &size, &trunc) < 0) {
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "%s: %s",
                          errno == ENOENT ? "not present" : "cannot read", strerror(errno));
    } else {
        e->source_bytes = size;
        e->truncated = trunc;
        write_pretty(b, e, j->out, data.data ? data.data : "", data.len);
    }
    e->duration_ms = mono_ms() - t0;
    bundle_entry_add(b, e);
    buf_free(&data);
}

void collect_ecs_introspection(struct bundle *b, struct bundle_job *j)
{
    const char *base = b->ecs_url ? b->ecs_url : ECS_DEFAULT_URL;
    int64_t timeout = b->o->timeout_ms < 3000 ? b->o->timeout_ms : 3000;
    static const struct {
        const char *path, *id, *out;
    } calls[] = {
        {"/v1/metadata", "ecs-introspection-metadata", "ecs-agent/agent-metadata.txt"},
        {"/v1/tasks", "ecs-introspection-tasks", "ecs-agent/agent-running-info.txt"},
    };
    char err[256] = "";
    for (size_t i = 0; i < 2; i++) {
        char *url = xasprintf("%s%s", base, calls[i].path);
        struct bundle_entry *e = bundle_entry_new(calls[i].id, url, NULL);
        struct buf body;
        buf_init(&body);
        int64_t t0 = mono_ms();
        long code = bundle_http("GET", url, NULL, timeout, b->o->item_max, &body, err, sizeof err);
        e->duration_ms = mono_ms() - t0;
        if (code == 200) {
            write_pretty(b, e, calls[i].out, body.data ? body.data : "", body.len);
            bundle_entry_add(b, e);
        } else {
            if (code > 0)
                snprintf(err, sizeof err, "HTTP status %ld", code);
            bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED,
                              "ECS agent not running or introspection not reachable: %s", err);
            bundle_entry_add(b, e);
            free(url);
            buf_free(&body);
            if (i == 0) {
                struct bundle_entry *n = bundle_entry_new("ecs-agent-not-running", base, NULL);
                char *text = xasprintf("The ECS agent introspection API at %s did not answer: %s\n",
                                       base, err);
                bundle_stage_write(b, n, "ecs-agent/ecs-agent-not-running.txt", text, strlen(text),
                                   REDACT_TEXT);
                bundle_entry_add(b, n);
                free(text);
                struct bundle_entry *t = bundle_entry_new(calls[1].id, base, NULL);
                bundle_entry_fail(t, BUNDLE_ENTRY_SKIPPED, "ECS agent not running");
                bundle_entry_add(b, t);
                return;
            }
            continue;
        }
        free(url);
        buf_free(&body);
    }
    (void)j;
}
