/* The CloudWatch agent's JSON -> conf.d: agent (region, credentials role),
 * logs.logs_collected.files.collect_list (file_path, log_group_name,
 * log_stream_name, timestamp_format, timezone, multi_line_start_pattern,
 * encoding, retention_in_days, log_group_class), logs.force_flush_interval,
 * logs.log_stream_name, logs.endpoint_override, and metrics where they map
 * (cpu, mem, swap, disk, diskio, net -> host_metrics). */
#include "collector/import/import.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* {instance_id} {hostname} {ip_address} are ours too; {local_hostname} is
 * the host name here; others are left for the template check to name. */
static void template(struct buf *c, const char *t)
{
    for (const char *p = t; *p; p++) {
        if (strncmp(p, "{local_hostname}", 16) == 0) {
            buf_append_str(c, "{hostname}");
            p += 15;
        } else {
            buf_append_char(c, *p);
        }
    }
}

static void unknown_keys(json_t *o, const char *const *known, const char *where, const char *source,
                         struct import_result *r)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int k = 0;
        for (const char *const *n = known; *n && !k; n++)
            k = strcmp(*n, key) == 0;
        if (!k)
            import_note(r, source, 0, "%s.%s: not mapped (no equivalent in this agent)", where,
                        key);
    }
}

static void file_entry(json_t *e, int idx, json_t *logs, const char *source,
                       struct import_result *r)
{
    struct buf *c = &r->conf;
    const char *path = str(e, "file_path");
    char where[64];
    snprintf(where, sizeof where, "collect_list[%d]", idx);
    if (!path) {
        import_note(r, source, 0, "%s: no file_path; skipped", where);
        return;
    }
    if (r->ninputs == IMPORT_MAX_INPUTS) {
        import_note(r, source, 0, "%s: more than %d files; skipped", where, IMPORT_MAX_INPUTS);
        return;
    }
    char taken[IMPORT_MAX_INPUTS][128];
    for (int i = 0; i < r->ninputs; i++)
        memcpy(taken[i], r->inputs[i].name, sizeof taken[i]);
    char name[128];
    import_section_name(path, taken, r->ninputs, name, sizeof name);
    struct import_input *in = &r->inputs[r->ninputs++];
    snprintf(in->name, sizeof in->name, "%s", name);
    snprintf(in->path, sizeof in->path, "%s", path);

    buf_printf(c, "\n# ---- logs.logs_collected.files.%s: %s ----\n", where, path);
    buf_printf(c, "[input %s]\ntype = tail\ntag = cwagent.%s\npath = %s    # file_path\n", name, name,
               path);
    json_t *multi = json_object_get(e, "publish_multi_logs");
    if (import_is_glob(path) && !json_is_true(multi)) {
        buf_printf(c, "# The CloudWatch agent followed only the most recently modified file "
                      "matching this glob\n# (publish_multi_logs false). This agent follows every "
                      "match: files present at the\n# very first start are read from their end, "
                      "files that appear later from their first\n# line; a rotated file is "
                      "recognised by its inode and never read twice.\n"
                      "read_from_head = false\nread_newly_discovered_files_from_head = true\n");
    } else {
        buf_printf(c, "read_from_head = true    # the CloudWatch agent reads a file it has no "
                      "state for from its start\n");
    }
    const char *tf = str(e, "timestamp_format");
    if (tf) {
        struct buf f;
        buf_init(&f);
        char bad = 0;
        if (import_time_format(tf, &f, &bad) == 0)
            buf_printf(c, "time_format = %s    # timestamp_format %s\n", f.data, tf);
        else
            import_note(r, source, 0, "%s.timestamp_format = %s: %%%c has no equivalent; records "
                        "get the read time", where, tf, bad ? bad : '?');
        buf_free(&f);
        const char *zone = str(e, "timezone");
        int has_zone = strstr(tf, "%z") || strstr(tf, "%Z");
        if (zone && strcasecmp(zone, "UTC") == 0)
            buf_printf(c, "# timezone = UTC: times without an offset are read as UTC, as here\n");
        else if (!has_zone)
            import_note(r, source, 0, "%s.timezone = %s: this agent reads times without an offset "
                        "as UTC; on a host whose zone is not UTC, log the offset and add %%z",
                        where, zone ? zone : "Local (default)");
    }
    const char *ml = str(e, "multi_line_start_pattern");
    if (ml && strcmp(ml, "{timestamp_format}") == 0) {
        struct buf re;
        buf_init(&re);
        char bad = 0;
        if (tf && import_format_regex(tf, &re, &bad) == 0)
            buf_printf(c, "multiline.start = %s    # multi_line_start_pattern = "
                          "{timestamp_format}\n", re.data);
        else
            import_note(r, source, 0, "%s.multi_line_start_pattern = {timestamp_format}: no "
                        "usable timestamp_format; one line per event", where);
        buf_free(&re);
    } else if (ml) {
        buf_printf(c, "multiline.start = %s    # multi_line_start_pattern\n", ml);
    }
    const char *enc = str(e, "encoding");
    if (enc && strcasecmp(enc, "utf-8") != 0 && strcasecmp(enc, "utf8") != 0 &&
        strcasecmp(enc, "ascii") != 0)
        import_note(r, source, 0, "%s.encoding = %s: this agent reads UTF-8 only; other bytes are "
                    "replaced by U+FFFD", where, enc);
    if (json_object_get(e, "filters"))
        import_note(r, source, 0, "%s.filters: include/exclude expressions are not mapped: every "
                    "line is sent", where);
    if (json_is_true(json_object_get(e, "auto_removal")))
        import_note(r, source, 0, "%s.auto_removal: this agent never deletes log files", where);
    if (json_object_get(e, "trim_timestamp"))
        import_note(r, source, 0, "%s.trim_timestamp: not mapped: the message keeps its "
                    "timestamp", where);
    if (json_object_get(e, "blacklist"))
        import_note(r, source, 0, "%s.blacklist: mapped to exclude_path only for plain globs; "
                    "a regex is not: check it", where);

    buf_printf(c, "\n[output %s]\ntype = cloudwatch_logs\nmatch = cwagent.%s\n", name, name);
    const char *group = str(e, "log_group_name");
    buf_append_str(c, "log_group = ");
    if (group)
        template(c, group);
    else
        buf_printf(c, "%s", path); /* the agent's default: the file path */
    buf_printf(c, "    # log_group_name%s\n", group ? "" : " (absent: the file path, as the "
                                                         "CloudWatch agent does)");
    const char *stream = str(e, "log_stream_name");
    if (!stream)
        stream = str(logs, "log_stream_name");
    buf_append_str(c, "log_stream = ");
    template(c, stream ? stream : "{instance_id}");
    buf_printf(c, "    # log_stream_name%s\n", stream ? "" : " (absent: {instance_id})");
    json_t *ret = json_object_get(e, "retention_in_days");
    if (json_is_integer(ret) && json_integer_value(ret) > 0)
        buf_printf(c, "retention_days = %lld    # retention_in_days\n",
                   (long long)json_integer_value(ret));
    const char *cls = str(e, "log_group_class");
    if (cls)
        buf_printf(c, "log_group_class = %s    # log_group_class\n", cls);
    json_t *ff = json_object_get(logs, "force_flush_interval");
    buf_printf(c, "flush_interval = %llds    # logs.force_flush_interval%s\n",
               json_is_integer(ff) ? (long long)json_integer_value(ff) : 5LL,
               json_is_integer(ff) ? "" : " (default 5 s)");
    static const char *const known[] = {"file_path", "log_group_name", "log_stream_name",
                                        "timestamp_format", "timezone", "multi_line_start_pattern",
                                        "encoding", "retention_in_days", "log_group_class",
                                        "filters", "auto_removal", "trim_timestamp", "blacklist",
                                        "publish_multi_logs", NULL};
    unknown_keys(e, known, where, source, r);
}

/* metrics.metrics_collected -> one host_metrics input where it maps. */
static void metrics(json_t *m, json_t *agent, const char *source, struct import_result *r)
{
    struct buf *c = &r->conf;
    json_t *mc = json_object_get(m, "metrics_collected");
    if (!json_is_object(mc))
        return;
    int host = 0, per_device = 0;
    const char *key;
    json_t *v;
    json_object_foreach(mc, key, v) {
        if (!strcmp(key, "cpu") || !strcmp(key, "mem") || !strcmp(key, "swap"))
            host = 1;
        else if (!strcmp(key, "disk") || !strcmp(key, "diskio") || !strcmp(key, "net"))
            host = per_device = 1;
        json_t *own = json_object_get(v, "metrics_collection_interval");
        if (json_is_integer(own) && (!strcmp(key, "cpu") || !strcmp(key, "mem") ||
                                     !strcmp(key, "swap") || per_device))
            import_note(r, source, 0, "metrics.metrics_collected.%s.metrics_collection_interval "
                        "= %lld: host_metrics samples everything at one interval "
                        "(agent.metrics_collection_interval)", key,
                        (long long)json_integer_value(own));
        else
            import_note(r, source, 0, "metrics.metrics_collected.%s: not mapped: this agent "
                        "samples CPU, memory, swap, filesystems, disks and network (host_metrics) "
                        "and containers (container_metrics) only", key);
    }
    if (!host)
        return;
    import_note(r, source, 0, "metrics.metrics_collected.*.measurement, resources, totalcpu: "
                "host_metrics publishes its own fixed set (docs/metrics.md), not a chosen list");
    json_t *iv = json_object_get(agent, "metrics_collection_interval");
    buf_printf(c, "\n# ---- metrics: cpu, mem, swap, disk, diskio, net ----\n"
                  "# Published under this agent's names (instance_cpu_utilization, "
                  "instance_memory_utilization,\n# instance_filesystem_utilization, "
                  "instance_diskio_*, instance_network_* ...), not the\n# CloudWatch agent's "
                  "(cpu_usage_idle, mem_used_percent ...): alarms and dashboards on those\n"
                  "# names need to change (`collector dashboard` prints one). "
                  "`collector check-config` prints\n# how many series this publishes.\n"
                  "[input host]\ntype = host_metrics\ninterval = %llds    # "
                  "agent.metrics_collection_interval%s\n",
               json_is_integer(iv) ? (long long)json_integer_value(iv) : 60LL,
               json_is_integer(iv) ? "" : " (default 60)");
    if (per_device)
        buf_printf(c, "per_device = true    # disk, diskio or net were collected per "
                      "device\n");
    const char *ns = str(m, "namespace");
    buf_printf(c, "\n[output metrics]\ntype = cloudwatch_metrics\nmatch = metrics.host\n"
                  "namespace = %s    # metrics.namespace%s\n", ns ? ns : "CWAgent",
               ns ? "" : " (the CloudWatch agent's default)");
    json_t *ff = json_object_get(m, "force_flush_interval");
    if (json_is_integer(ff))
        buf_printf(c, "flush_interval = %llds    # metrics.force_flush_interval\n",
                   (long long)json_integer_value(ff));
    if (json_object_get(m, "append_dimensions"))
        import_note(r, source, 0, "metrics.append_dimensions: not mapped: the per-host series "
                    "carry ClusterName, InstanceId and ContainerInstanceId");
    if (json_object_get(m, "aggregation_dimensions"))
        import_note(r, source, 0, "metrics.aggregation_dimensions: not mapped: host series are "
                    "also published per cluster ({ClusterName})");
}

int import_cloudwatch_agent(const char *text, const char *source, struct import_result *r,
                            char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loads(text ? text : "", 0, &jerr);
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s:%d: not a JSON object: %s", source, jerr.line, jerr.text);
        json_decref(root);
        return -1;
    }
    struct buf *c = &r->conf;
    buf_printf(c, "# Imported from CloudWatch agent configuration %s by `collector import "
                  "cloudwatch-agent`.\n# Each collected file is one tail input and one "
                  "cloudwatch_logs output; each line says\n# what it came from.\n", source);
    json_t *agent = json_object_get(root, "agent");
    json_t *logs = json_object_get(root, "logs");
    const char *region = str(agent, "region");
    json_t *creds = json_object_get(agent, "credentials");
    const char *role = str(creds, "role_arn");
    const char *endpoint = str(logs, "endpoint_override");
    if (region || role || endpoint) {
        buf_printf(c, "\n[agent]\n");
        if (region)
            buf_printf(c, "region = %s    # agent.region\n", region);
        if (role)
            buf_printf(c, "role_arn = %s    # agent.credentials.role_arn\n", role);
        if (endpoint)
            buf_printf(c, "endpoint_logs = %s    # logs.endpoint_override\n", endpoint);
    }
    static const char *const agent_known[] = {"region", "credentials", "metrics_collection_interval",
                                              "logfile", "debug", "run_as_user", NULL};
    if (json_is_object(agent)) {
        unknown_keys(agent, agent_known, "agent", source, r);
        if (str(agent, "logfile"))
            import_note(r, source, 0, "agent.logfile: this agent logs to stderr (journald) or "
                        "[agent] log_file; not set");
        if (str(agent, "run_as_user"))
            import_note(r, source, 0, "agent.run_as_user: set User= in the systemd unit instead");
    }
    json_t *files = json_object_get(json_object_get(json_object_get(logs, "logs_collected"),
                                                    "files"), "collect_list");
    size_t i;
    json_t *e;
    json_array_foreach(files, i, e)
        file_entry(e, (int)i, logs, source, r);
    json_t *collected = json_object_get(logs, "logs_collected");
    const char *key;
    json_t *v;
    json_object_foreach(collected, key, v)
        if (strcmp(key, "files") != 0)
            import_note(r, source, 0, "logs.logs_collected.%s: not mapped (%s)", key,
                        !strcmp(key, "windows_events") ? "Windows only" :
                        "use the journald input or the containers input");
    if (json_object_get(logs, "metrics_collected"))
        import_note(r, source, 0, "logs.metrics_collected (EMF/Prometheus listeners): not mapped: "
                    "this agent has no listener");
    if (json_object_get(logs, "concurrency"))
        import_note(r, source, 0, "logs.concurrency: set workers on the outputs instead");
    if (json_object_get(root, "metrics"))
        metrics(json_object_get(root, "metrics"), agent, source, r);
    if (json_object_get(root, "traces"))
        import_note(r, source, 0, "traces: not mapped (run the X-Ray daemon or ADOT)");
    json_decref(root);
    if (r->ninputs == 0 && !strstr(c->data ? c->data : "", "[input host]")) {
        snprintf(err, errlen, "%s: no logs.logs_collected.files.collect_list entry and no metrics "
                 "that map", source);
        return -1;
    }
    return 0;
}
