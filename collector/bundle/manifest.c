#include "collector/bundle/manifest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *status_name(enum bundle_entry_status s)
{
    switch (s) {
    case BUNDLE_ENTRY_OK: return "ok";
    case BUNDLE_ENTRY_FAILED: return "failed";
    case BUNDLE_ENTRY_SKIPPED: return "skipped";
    case BUNDLE_ENTRY_TIMEOUT: return "timed_out";
    }
    return "?";
}

static int by_path(const void *a, const void *b)
{
    const struct bundle_entry *x = *(struct bundle_entry *const *)a,
                              *y = *(struct bundle_entry *const *)b;
    const char *px = x->path ? x->path : x->item, *py = y->path ? y->path : y->item;
    int c = strcmp(px, py);
    return c ? c : strcmp(x->item, y->item);
}

void manifest_write_redactions(struct bundle *b, const char *check_report)
{
    struct buf out;
    buf_init(&out);
    buf_printf(&out,
               "# What was redacted, and where (kinds and counts, never the values).\n"
               "# Every text file of this bundle passed the same patterns; see docs/bundle.md.\n"
               "# ecs-agent/ecs.config: keys not on the ECS agent allowlist are redacted.\n"
               "# docker/container-*.txt: every environment value is redacted.\n\n");
    struct redact_stats total = {0};
    pthread_mutex_lock(&b->lock);
    qsort(b->entries, b->nentries, sizeof *b->entries, by_path);
    for (size_t i = 0; i < b->nentries; i++) {
        struct bundle_entry *e = b->entries[i];
        if (!e->path || !redact_total(&e->red))
            continue;
        buf_printf(&out, "%s: ", e->path);
        redact_stats_format(&e->red, &out);
        buf_append_char(&out, '\n');
        redact_stats_add(&total, &e->red);
    }
    pthread_mutex_unlock(&b->lock);
    buf_printf(&out, "\ntotal: %u value%s", redact_total(&total),
               redact_total(&total) == 1 ? "" : "s");
    if (redact_total(&total)) {
        buf_append_str(&out, " (");
        redact_stats_format(&total, &out);
        buf_append_char(&out, ')');
    }
    buf_append_char(&out, '\n');
    if (check_report)
        buf_printf(&out, "\nredact check: %s\n", check_report);
    struct bundle_entry *e = bundle_entry_new("redactions", "bundle", NULL);
    bundle_stage_write(b, e, "redactions.txt", out.data, out.len, REDACT_TEXT);
    bundle_entry_add(b, e);
    buf_free(&out);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

int manifest_write(struct bundle *b)
{
    json_t *root = json_object();
    char when[64];
    time_t t = (time_t)(b->started_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    json_object_set_new(root, "format", json_integer(1));
    json_object_set_new(root, "tool", json_string("collector bundle " COLLECTOR_VERSION));
    json_object_set_new(root, "started", json_string(when));
    json_object_set_new(root, "duration_ms", json_integer(now_ms() - b->started_ms));
    json_object_set_new(root, "hostname", json_string(host));
    json_object_set_new(root, "instance_id", str_or_null(b->instance_id));
    json_object_set_new(root, "instance_id_source", str_or_null(b->instance_source));
    json_object_set_new(root, "root", str_or_null(b->o->root));
    json_object_set_new(root, "privileged", json_boolean(b->is_root));
    json_object_set_new(root, "init", json_string(b->systemd ? "systemd" : "other"));
    json_object_set_new(root, "since_ms", json_integer(b->o->since_ms));
    json_object_set_new(root, "max_size", json_integer((json_int_t)b->o->max_size));
    json_object_set_new(root, "item_max", json_integer((json_int_t)b->o->item_max));
    json_object_set_new(root, "timeout_ms", json_integer(b->o->timeout_ms));
    json_t *items = json_array();
    pthread_mutex_lock(&b->lock);
    qsort(b->entries, b->nentries, sizeof *b->entries, by_path);
    for (size_t i = 0; i < b->nentries; i++) {
        struct bundle_entry *e = b->entries[i];
        json_t *o = json_object();
        json_object_set_new(o, "item", json_string(e->item));
        json_object_set_new(o, "source", str_or_null(e->source));
        json_object_set_new(o, "command", str_or_null(e->command));
        json_object_set_new(o, "path", str_or_null(e->path));
        json_object_set_new(o, "status", json_string(status_name(e->status)));
        json_object_set_new(o, "bytes", json_integer((json_int_t)(e->path ? e->bytes : 0)));
        json_object_set_new(o, "source_bytes", json_integer((json_int_t)e->source_bytes));
        json_object_set_new(o, "sha256", e->path ? json_string(e->sha256) : json_null());
        json_object_set_new(o, "exit_status",
                            e->exit_status >= 0 ? json_integer(e->exit_status) : json_null());
        json_object_set_new(o, "duration_ms", json_integer(e->duration_ms));
        json_object_set_new(o, "truncated", json_boolean(e->truncated));
        json_object_set_new(o, "redactions", json_integer(redact_total(&e->red)));
        json_object_set_new(o, "error", str_or_null(e->error));
        json_array_append_new(items, o);
    }
    pthread_mutex_unlock(&b->lock);
    json_object_set_new(root, "items", items);
    char *path = xasprintf("%s/manifest.json", b->stage);
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    free(path);
    json_decref(root);
    return rc;
}
