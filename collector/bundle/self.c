/* The agent's own state: its configuration (secrets masked by the option
 * tables, then redacted like everything else), /status when it runs, its
 * log, its checkpoints and a listing of its data directory (buffers). */
#include "collector/bundle/http.h"
#include "collector/core/config.h"
#include "collector/bundle/items.h"
#include "collector/core/log.h"
#include "collector/status/status.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_CONF "/etc/collector/conf.d"
#define DEFAULT_DATA "/var/lib/collector"

static void self_config(struct bundle *b, const char *path, char **listen)
{
    int64_t t0 = mono_ms();
    struct bundle_entry *e = bundle_entry_new("collector-config", path, NULL);
    struct stat st;
    if (stat(path, &st) != 0) {
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "not present: no configuration at %s", path);
        bundle_entry_add(b, e);
        return;
    }
    /* Raw [agent] keys first: they hold even when validation fails. */
    struct config raw = {0};
    struct diag rd = {0};
    config_load(&raw, path, &rd);
    for (int i = 0; i < raw.nsections; i++) {
        if (strcmp(raw.sections[i].kind, "agent") != 0)
            continue;
        const struct conf_entry *v = conf_section_get(&raw.sections[i], "http_listen");
        if (v && v->value && *v->value) {
            free(*listen);
            *listen = xstrdup(v->value);
        }
        v = conf_section_get(&raw.sections[i], "data_dir");
        if (v && v->value && *v->value) {
            free(b->data_dir);
            b->data_dir = xstrdup(v->value);
        }
    }
    config_free(&raw);
    diag_free(&rd);

    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int errors = b->o->list_config(path, mem);
    if (errors > 0)
        bundle_entry_fail(e, BUNDLE_ENTRY_FAILED, "configuration has %d error%s", errors,
                          errors == 1 ? "" : "s");
    fclose(mem);
    enum bundle_entry_status keep = e->status;
    char *err = e->error ? xstrdup(e->error) : NULL;
    bundle_stage_write(b, e, "collector/config.txt", text, len, REDACT_TEXT);
    if (keep != BUNDLE_ENTRY_OK && e->status == BUNDLE_ENTRY_OK)
        bundle_entry_fail(e, keep, "%s", err);
    free(err);
    free(text);
    e->duration_ms = mono_ms() - t0;
    bundle_entry_add(b, e);
}

static void self_status(struct bundle *b, const char *listen)
{
    char *url =
        b->o->status_url ? xstrdup(b->o->status_url) : xasprintf("http://%s/status", listen);
    struct bundle_entry *e = bundle_entry_new("collector-status", url, NULL);
    struct buf body;
    buf_init(&body);
    char err[256] = "";
    int64_t t0 = mono_ms();
    long code = bundle_http("GET", url, NULL, 2000, b->o->item_max, &body, err, sizeof err);
    e->duration_ms = mono_ms() - t0;
    if (code == 200)
        bundle_stage_write(b, e, "collector/status.json", body.data ? body.data : "", body.len,
                           REDACT_TEXT);
    else if (code > 0)
        bundle_entry_fail(e, BUNDLE_ENTRY_FAILED, "HTTP status %ld", code);
    else
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "not running: %s", err);
    bundle_entry_add(b, e);
    buf_free(&body);
    free(url);
}

struct listing_ctx {
    struct bundle *b;
    struct buf *out;
    size_t prefix;
};

static void list_dir(struct listing_ctx *c, const char *dir, int depth)
{
    if (depth > 8)
        return;
    DIR *d = opendir(dir);
    if (!d) {
        buf_printf(c->out, "%s: %s\n", dir + c->prefix, strerror(errno));
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0) {
            struct tm tm;
            char when[32];
            time_t mt = st.st_mtime;
            gmtime_r(&mt, &tm);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            buf_printf(c->out, "%c %12lld %s %s\n", S_ISDIR(st.st_mode) ? 'd' : '-',
                       (long long)st.st_size, when, p + c->prefix);
            if (S_ISDIR(st.st_mode))
                list_dir(c, p, depth + 1);
            else if (S_ISREG(st.st_mode) && strstr(de->d_name, ".ckpt")) {
                char *rel = xasprintf("collector/checkpoints%s", p + c->prefix);
                char *host =
                    xstrdup(p + (c->b->o->root && *c->b->o->root ? strlen(c->b->o->root) : 0));
                bundle_collect_file(c->b, "collector-checkpoint", host, rel, REDACT_TEXT, 0);
                free(host);
                free(rel);
            }
        }
        free(p);
    }
    closedir(d);
}

static void self_data_dir(struct bundle *b)
{
    int64_t t0 = mono_ms();
    char *full = bundle_host_path(b, b->data_dir);
    struct bundle_entry *e = bundle_entry_new("collector-data-dir", b->data_dir, NULL);
    struct stat st;
    if (stat(full, &st) != 0) {
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "not present: %s: %s", b->data_dir,
                          strerror(errno));
        bundle_entry_add(b, e);
        free(full);
        return;
    }
    struct buf out;
    buf_init(&out);
    buf_printf(&out, "# data_dir %s: type, bytes, mtime (UTC), path\n", b->data_dir);
    struct listing_ctx c = {b, &out, strlen(full)};
    list_dir(&c, full, 0);
    bundle_stage_write(b, e, "collector/data-dir-listing.txt", out.data, out.len, REDACT_TEXT);
    e->duration_ms = mono_ms() - t0;
    bundle_entry_add(b, e);
    buf_free(&out);
    free(full);
}

static void self_logs(struct bundle *b)
{
    if (b->systemd) {
        struct bundle_job *j =
            bundle_job_new("collector-log", "collector/agent.log", bundle_job_command);
        char lines[32];
        snprintf(lines, sizeof lines, "--lines=%llu",
                 (unsigned long long)(b->o->item_max / 120 + 1));
        const char *av[] = {"journalctl", "-u", "collector", "--no-pager", lines, NULL};
        bundle_job_set_argv(j, av);
        bundle_run_command_job(b, j);
        bundle_job_free(j);
    }
    char *dir = bundle_host_path(b, "/var/log/collector");
    DIR *d = opendir(dir);
    if (!d) {
        if (!b->systemd) {
            struct bundle_entry *e = bundle_entry_new("collector-log", "/var/log/collector", NULL);
            bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED,
                              "not present: the agent logs to stderr (no /var/log/collector, not a "
                              "systemd host)");
            bundle_entry_add(b, e);
        }
        free(dir);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *hp = xasprintf("/var/log/collector/%s", de->d_name);
        char *rel = xasprintf("collector/log/%s", de->d_name);
        bundle_collect_file(b, "collector-log", hp, rel, REDACT_TEXT, 0);
        free(hp);
        free(rel);
    }
    closedir(d);
    free(dir);
}

void collect_self(struct bundle *b, struct bundle_job *j)
{
    char *listen = xstrdup(STATUS_DEFAULT_LISTEN);
    b->data_dir = xstrdup(DEFAULT_DATA);
    char *path = b->o->config ? xstrdup(b->o->config) : bundle_host_path(b, DEFAULT_CONF);
    self_config(b, path, &listen);
    self_status(b, listen);
    self_logs(b);
    self_data_dir(b);
    free(path);
    free(listen);
    (void)j;
}
