#include "collector/agent/agent.h"
#include "collector/agent/agent_check.h"
#include "collector/aws/aws.h"
#include "collector/core/gzip.h"
#include "collector/core/log.h"
#include "collector/core/util.h"
#include "collector/loop.h"
#include "collector/pipeline/pipeline.h"
#include "collector/status/http_server.h"
#include "collector/status/status.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define MEMORY_LIMIT_MIN (1024 * 1024)

const struct option_def agent_options[] = {
    {"log_level", OPT_ENUM, "info", 0, offsetof(struct agent_conf, log_level),
     "debug|info|warn|error", "the agent's own log level"},
    {"log_format", OPT_ENUM, "logfmt", 0, offsetof(struct agent_conf, log_format), "logfmt|json",
     "the agent's own log lines on stderr"},
    {"data_dir", OPT_STRING, "/var/lib/collector", 0, offsetof(struct agent_conf, data_dir), NULL,
     "state directory: checkpoints, buffers (created if missing)"},
    {"hostname", OPT_STRING, NULL, 0, offsetof(struct agent_conf, hostname), NULL,
     "host name used in templates; default the system's"},
    {"shutdown_timeout", OPT_DURATION, "10s", 0, offsetof(struct agent_conf, shutdown_timeout_ms),
     NULL, "on SIGTERM, how long outputs get to deliver what is buffered"},
    {"memory_limit", OPT_SIZE, "16MiB", 0, offsetof(struct agent_conf, memory_limit), NULL,
     "bytes buffered in memory across outputs; inputs pause above it (at least 1MiB: 0 is "
     "refused, it does not mean unbounded)"},
    {"input_memory_limit", OPT_SIZE, "0", 0, offsetof(struct agent_conf, input_memory_limit), NULL,
     "bytes one input may have unacknowledged; 0 = only memory_limit"},
    {0},
};

struct input_common {
    char *type;
    char *tag;
};

const struct option_def input_common_options[] = {
    {"type", OPT_STRING, NULL, OPT_REQUIRED, offsetof(struct input_common, type), NULL,
     "the input module"},
    {"tag", OPT_STRING, NULL, 0, offsetof(struct input_common, tag), NULL,
     "tag of its records, matched by outputs' `match`; default the section name (metrics "
     "inputs: metrics.host, metrics.container; the containers input tags with tag_ecs and "
     "tag_docker instead)"},
    {0},
};

const struct option_def output_common_options[] = {
    {"type", OPT_STRING, NULL, OPT_REQUIRED, offsetof(struct output_common, type), NULL,
     "the output module"},
    {"match", OPT_LIST, NULL, OPT_REQUIRED, offsetof(struct output_common, match), NULL,
     "globs over tags (space separated); records whose tag matches one are sent here"},
    {"flush_interval", OPT_DURATION, "5s", 0, offsetof(struct output_common, flush_interval_ms),
     NULL, "send a batch at the latest this long after its first record"},
    {"batch_max_bytes", OPT_SIZE, "1MiB", 0, offsetof(struct output_common, batch_max_bytes), NULL,
     "seal a batch at this many payload bytes"},
    {"batch_max_records", OPT_INT, "10000", 0, offsetof(struct output_common, batch_max_records),
     "1..1000000", "seal a batch at this many records"},
    {"workers", OPT_INT, "1", 0, offsetof(struct output_common, workers), "1..64",
     "sender threads"},
    {"retry_limit", OPT_INT, "-1", 0, offsetof(struct output_common, retry_limit), "-1..1000000",
     "attempts of a failing batch before it is dropped and counted; -1 = never drop"},
    {"retry_max_backoff", OPT_DURATION, "30s", 0,
     offsetof(struct output_common, retry_max_backoff_ms), NULL, "cap of the wait between retries"},
    {"enabled", OPT_ENUM, "true", 0, offsetof(struct output_common, enabled),
     "true|false|auto|fallback",
     "auto: only if the output can work on this host (credentials, region); fallback: only if "
     "no other output is enabled"},
    {"buffer", OPT_ENUM, NULL, 0, offsetof(struct output_common, buffer), "memory|disk",
     "where sealed batches wait: disk survives restarts and outages (default: disk for "
     "CloudWatch outputs, memory for local ones)"},
    {"buffer.max_size", OPT_SIZE, "1GiB", 0, offsetof(struct output_common, buffer_max_size), NULL,
     "cap of the disk buffer (in <data_dir>/buffer/<output>)"},
    {"buffer.sync", OPT_ENUM, "interval", 0, offsetof(struct output_common, buffer_sync),
     "batch|interval|off", "fsync each chunk (batch), at most once a second (interval), or never"},
    {"buffer.full_policy", OPT_ENUM, "auto", 0, offsetof(struct output_common, buffer_full_policy),
     "auto|pause|drop_oldest",
     "disk buffer full: pause inputs (files wait), or drop the oldest chunks; auto = logs "
     "wait, metrics (which cannot) replace the oldest metrics chunks"},
    {0},
};

/* -------------------------------------------------------------- loading */

static const struct option_def *const agent_tables[] = {agent_options, status_options, aws_options};

struct check_view agent_check_view(const struct agent *a)
{
    struct agent *w = (struct agent *)a; /* warnings are added to a's list */
    return (struct check_view){
        .cfg = &a->cfg, .inputs = a->inputs, .ninputs = a->ninputs, .outputs = a->outputs,
        .noutputs = a->noutputs, .disabled = a->disabled, .ndisabled = a->ndisabled,
        .hostname = a->conf.hostname, .aws = a->conf.aws, .input_common = input_common_options,
        .output_common = output_common_options, .agent_tables = agent_tables,
        .nagent_tables = 3, .warnings = &w->warnings,
    };
}

static const char *section_label(const struct conf_section *s, char *buf, size_t len)
{
    snprintf(buf, len, "[%s%s%s]", s->kind, s->name ? " " : "", s->name ? s->name : "");
    return buf;
}

static const char *type_of(const struct conf_section *s, struct diag *diag, const char *what)
{
    const struct conf_entry *t = conf_section_get(s, "type");
    char label[300];
    if (!t) {
        diag_add(diag, s->file, s->line, "%s is missing required key 'type' (the %s module)",
                 section_label(s, label, sizeof label), what);
        return NULL;
    }
    return t->value;
}

/* "did you mean 'tail'?; available: ..." for an unknown module type. */
static void list_types(struct buf *out, int inputs, const char *wrong)
{
    const char *names[64];
    int n = 0;
    for (int i = 0; n < 64; i++) {
        const char *name = inputs ? (input_plugins[i] ? input_plugins[i]->name : NULL)
                                  : (output_plugins[i] ? output_plugins[i]->name : NULL);
        if (!name)
            break;
        names[n++] = name;
    }
    const char *hint = options_suggest(wrong, names, n);
    if (hint)
        buf_printf(out, "did you mean '%s'? ", hint);
    buf_printf(out, "available: ");
    for (int i = 0; i < n; i++)
        buf_printf(out, "%s%s", i ? ", " : "", names[i]);
}

static void load_input(struct agent *a, const struct conf_section *s, struct diag *diag)
{
    const char *type = type_of(s, diag, "input");
    if (!type)
        return;
    const struct input_plugin *plugin = input_plugin_find(type);
    if (!plugin) {
        struct buf names;
        buf_init(&names);
        list_types(&names, 1, type);
        const struct conf_entry *t = conf_section_get(s, "type");
        diag_add(diag, t->file, t->line, "unknown input type '%s' (%s)", type, names.data);
        buf_free(&names);
        return;
    }
    struct input_instance *in = xcalloc(1, sizeof *in);
    struct input_common common = {0};
    in->plugin = plugin;
    in->name = xstrdup(s->name);
    in->section = s;
    in->host = &a->host;
    in->conf = xcalloc(1, plugin->conf_size ? plugin->conf_size : 1);
    struct option_binding b[2] = {{input_common_options, &common}, {plugin->options, in->conf}};
    int errors = options_apply(s, b, 2, diag);
    if (common.tag && agent_input_has_own_tags(plugin)) {
        /* Its records are tagged by tag_* options; `tag` would be silently unused. */
        const struct conf_entry *t = conf_section_get(s, "tag");
        diag_add(diag, t ? t->file : s->file, t ? t->line : s->line,
                 "[input %s]: the %s input does not use `tag`: it tags its records with its "
                 "tag_* options (see `collector help input %s`); set those instead",
                 s->name, plugin->name, plugin->name);
        errors++;
    }
    in->tag = tag_intern(common.tag && *common.tag ? common.tag
                         : plugin->default_tag ? plugin->default_tag : s->name);
    options_free(input_common_options, &common);
    a->inputs = xrealloc(a->inputs, sizeof *a->inputs * (size_t)(a->ninputs + 1));
    in->index = (uint16_t)a->ninputs;
    a->inputs[a->ninputs++] = in;
    if (errors == 0 && plugin->init)
        plugin->init(in, diag);
}

static void load_output(struct agent *a, const struct conf_section *s, struct diag *diag)
{
    const char *type = type_of(s, diag, "output");
    if (!type)
        return;
    const struct output_plugin *plugin = output_plugin_find(type);
    if (!plugin) {
        struct buf names;
        buf_init(&names);
        list_types(&names, 0, type);
        const struct conf_entry *t = conf_section_get(s, "type");
        diag_add(diag, t->file, t->line, "unknown output type '%s' (%s)", type, names.data);
        buf_free(&names);
        return;
    }
    struct output_instance *out = xcalloc(1, sizeof *out);
    out->plugin = plugin;
    out->name = xstrdup(s->name);
    out->section = s;
    out->host = &a->host;
    out->conf = xcalloc(1, plugin->conf_size ? plugin->conf_size : 1);
    struct option_binding b[2] = {{output_common_options, &out->common}, {plugin->options, out->conf}};
    int errors = options_apply(s, b, 2, diag);
    a->outputs = xrealloc(a->outputs, sizeof *a->outputs * (size_t)(a->noutputs + 1));
    out->index = (uint16_t)a->noutputs;
    a->outputs[a->noutputs++] = out;
    if (errors)
        out->index = UINT16_MAX; /* reported; never initialized */
}

static void output_free(struct output_instance *out)
{
    if (out->ctx && out->plugin->shutdown)
        out->plugin->shutdown(out);
    options_free(out->plugin->options, out->conf);
    options_free(output_common_options, &out->common);
    free(out->conf);
    free(out->name);
    free(out);
}

static void disable_output(struct agent *a, struct output_instance *out, const char *why)
{
    a->disabled = xrealloc(a->disabled, sizeof(char *) * (size_t)(a->ndisabled + 1));
    a->disabled[a->ndisabled++] = xasprintf("%s (%s): %s", out->name, out->plugin->name, why);
    out->index = UINT16_MAX - 1;
}

/* Apply `enabled`: leave out the outputs that are off, cannot work here
 * (auto) or are only a fallback while another is on; initialize the rest. */
static void resolve_outputs(struct agent *a, struct diag *diag)
{
    int enabled = 0;
    for (int i = 0; i < a->noutputs; i++) {
        struct output_instance *out = a->outputs[i];
        const char *mode = out->common.enabled ? out->common.enabled : "true";
        if (out->index == UINT16_MAX)
            continue;
        if (strcmp(mode, "false") == 0) {
            disable_output(a, out, "enabled = false");
        } else if (strcmp(mode, "auto") == 0 && out->plugin->available) {
            struct buf why;
            buf_init(&why);
            if (!out->plugin->available(out, &why))
                disable_output(a, out, why.data ? why.data : "not available on this host");
            else
                enabled++;
            buf_free(&why);
        } else if (strcmp(mode, "fallback") != 0) {
            enabled++;
        }
    }
    for (int i = 0; i < a->noutputs; i++) {
        struct output_instance *out = a->outputs[i];
        if (out->index < UINT16_MAX - 1 && out->common.enabled &&
            strcmp(out->common.enabled, "fallback") == 0 && enabled > 0)
            disable_output(a, out, "enabled = fallback, and another output is enabled");
    }
    int n = 0;
    for (int i = 0; i < a->noutputs; i++) {
        struct output_instance *out = a->outputs[i];
        if (out->index == UINT16_MAX - 1) {
            if (out->plugin->check)
                out->plugin->check(out, diag);
            output_free(out);
            continue;
        }
        int errors = out->index == UINT16_MAX;
        out->index = (uint16_t)n;
        a->outputs[n++] = out;
        if (!errors && out->plugin->init)
            out->plugin->init(out, diag);
    }
    a->noutputs = n;
}

/* Sections of one kind must have distinct names. */
static void check_names(const struct config *cfg, struct diag *diag)
{
    for (int i = 0; i < cfg->nsections; i++) {
        const struct conf_section *s = &cfg->sections[i];
        for (int j = 0; j < i; j++) {
            const struct conf_section *t = &cfg->sections[j];
            if (strcmp(s->kind, t->kind) != 0)
                continue;
            int same = (!s->name && !t->name) || (s->name && t->name && strcmp(s->name, t->name) == 0);
            if (same) {
                char label[300];
                diag_add(diag, s->file, s->line, "duplicate section %s (first defined at %s:%d)",
                         section_label(s, label, sizeof label), t->file, t->line);
                break;
            }
        }
    }
}

struct agent *agent_load(const char *path, struct diag *diag)
{
    struct agent *a = xcalloc(1, sizeof *a);
    a->config_path = xstrdup(path);
    a->conf.aws = xcalloc(1, sizeof *a->conf.aws);
    a->conf.status = xcalloc(1, sizeof *a->conf.status);
    int before = diag->count;
    config_load(&a->cfg, path, diag);
    /* One more configuration file held by an environment variable: how ECS
     * hands a container text from SSM Parameter Store or Secrets Manager
     * (`secrets` in the task definition) without a new image. */
    const char *extra = getenv("COLLECTOR_EXTRA_CONFIG");
    if (extra && *extra)
        config_add_string(&a->cfg, "$COLLECTOR_EXTRA_CONFIG", extra, diag);
    check_names(&a->cfg, diag);

    const struct conf_section *agent_section = NULL;
    for (int i = 0; i < a->cfg.nsections; i++)
        if (strcmp(a->cfg.sections[i].kind, "agent") == 0 && !agent_section)
            agent_section = &a->cfg.sections[i];
    struct option_binding ab[3] = {{agent_options, &a->conf}, {aws_options, a->conf.aws},
                                   {status_options, a->conf.status}};
    struct conf_section empty = {.kind = "agent", .file = path};
    options_apply(agent_section ? agent_section : &empty, ab, 3, diag);
    status_settings_check(a->conf.status, agent_section, path, diag);
    if (a->conf.memory_limit < MEMORY_LIMIT_MIN) {
        const struct conf_entry *e = agent_section ? conf_section_get(agent_section, "memory_limit") : NULL;
        diag_add(diag, e ? e->file : path, e ? e->line : 0,
                 "memory_limit = %" PRIu64 " is below the minimum of 1MiB (there is no unbounded "
                 "setting: memory is what keeps a failing output from growing the agent)",
                 a->conf.memory_limit);
    }
    /* Before any input's init: the metrics inputs copy it (instance id and
     * cluster fall back to it off EC2). */
    if (!a->conf.hostname) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        a->conf.hostname = xstrdup(host);
    }
    a->host = (struct plugin_host){a->conf.hostname, a->conf.data_dir, a->conf.aws};
    if (agent_section && agent_section->name) {
        char label[300];
        diag_add(diag, agent_section->file, agent_section->line,
                 "%s: the agent section takes no name; write [agent]",
                 section_label(agent_section, label, sizeof label));
    }

    for (int i = 0; i < a->cfg.nsections; i++) {
        const struct conf_section *s = &a->cfg.sections[i];
        char label[300];
        if (strcmp(s->kind, "agent") == 0)
            continue;
        if (strcmp(s->kind, "input") != 0 && strcmp(s->kind, "output") != 0 &&
            strcmp(s->kind, "parser") != 0) {
            static const char *const kinds[] = {"agent", "input", "output", "parser"};
            const char *hint = options_suggest(s->kind, kinds, 4);
            diag_add(diag, s->file, s->line, "unknown section kind '%s' (%s%s%sexpected agent, "
                     "input, parser or output)", s->kind, hint ? "did you mean '" : "",
                     hint ? hint : "", hint ? "'? " : "");
            continue;
        }
        if (!s->name) {
            diag_add(diag, s->file, s->line, "%s needs a name, for example [%s my_%s]",
                     section_label(s, label, sizeof label), s->kind, s->kind);
            continue;
        }
        if (strcmp(s->kind, "input") == 0)
            load_input(a, s, diag);
        else if (strcmp(s->kind, "output") == 0)
            load_output(a, s, diag);
        else
            diag_add(diag, s->file, s->line,
                     "%s: no parser modules exist in this version; parsing is configured on the "
                     "input (multiline.*, time_key, time_format)",
                     section_label(s, label, sizeof label));
    }
    int declared_outputs = a->noutputs;
    /* On every declared output, enabled on this host or not: the verdict
     * must not depend on the machine. */
    struct check_view cv = agent_check_view(a);
    agent_check_routing(&cv);
    agent_check_durations(&cv);
    agent_check_switches(&cv);
    resolve_outputs(a, diag);
    if (diag->count == before && a->cfg.nsections > 0) {
        if (a->ninputs == 0)
            diag_add(diag, path, 0, "no [input] section: nothing would be collected");
        if (declared_outputs == 0)
            diag_add(diag, path, 0, "no [output] section: nothing would be delivered");
        else if (a->noutputs == 0)
            diag_add(diag, path, 0, "every output is disabled (%s%s): nothing would be delivered",
                     a->disabled[0], a->ndisabled > 1 ? ", ..." : "");
    }
    if (a->noutputs > 64)
        diag_add(diag, path, 0, "at most 64 outputs are supported (%d configured)", a->noutputs);
    if (log_level_parse(a->conf.log_level) < 0 && a->conf.log_level)
        diag_add(diag, path, 0, "bad log_level '%s'", a->conf.log_level);
    if (diag->count != before) {
        agent_free(a);
        return NULL;
    }
    struct check_view after = agent_check_view(a);
    agent_check_ignored(&after);
    return a;
}

void agent_free(struct agent *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->ninputs; i++) {
        struct input_instance *in = a->inputs[i];
        if (in->ctx && in->plugin->destroy)
            in->plugin->destroy(in);
        options_free(in->plugin->options, in->conf);
        free(in->conf);
        free(in->name);
        free(in);
    }
    free(a->inputs);
    for (int i = 0; i < a->noutputs; i++)
        output_free(a->outputs[i]);
    free(a->outputs);
    for (int i = 0; i < a->ndisabled; i++)
        free(a->disabled[i]);
    free(a->disabled);
    options_free(agent_options, &a->conf);
    if (a->conf.aws) {
        options_free(aws_options, a->conf.aws);
        free(a->conf.aws);
    }
    if (a->conf.status) {
        options_free(status_options, a->conf.status);
        free(a->conf.status);
    }
    config_free(&a->cfg);
    diag_free(&a->warnings);
    free(a->config_path);
    free(a);
}

void agent_print_config(const struct agent *a, FILE *out)
{
    fprintf(out, "# effective configuration from %s (%d file%s); secrets masked\n", a->config_path,
            a->cfg.nfiles, a->cfg.nfiles == 1 ? "" : "s");
    fprintf(out, "\n[agent]\n");
    options_print(out, agent_options, &a->conf);
    options_print(out, aws_options, a->conf.aws);
    options_print(out, status_options, a->conf.status);
    for (int i = 0; i < a->ninputs; i++) {
        const struct input_instance *in = a->inputs[i];
        fprintf(out, "\n[input %s]\t# %s:%d\n", in->name, in->section->file, in->section->line);
        fprintf(out, "%-22s = %s\n", "type", in->plugin->name);
        fprintf(out, "%-22s = %s\n", "tag", in->tag->name);
        options_print(out, in->plugin->options, in->conf);
    }
    int uses_aws = 0;
    for (int i = 0; i < a->noutputs; i++) {
        const struct output_instance *o = a->outputs[i];
        fprintf(out, "\n[output %s]\t# %s:%d\n", o->name, o->section->file, o->section->line);
        options_print(out, output_common_options, &o->common);
        options_print(out, o->plugin->options, o->conf);
        uses_aws |= (o->plugin->flags & OUTPUT_USES_AWS) != 0;
    }
    if (uses_aws) {
        /* Which region, endpoints and credential source the AWS outputs would use. */
        char err[512];
        char *text = agent_aws_describe(a->conf.aws, err, sizeof err);
        fprintf(out, "\n# AWS (resolved now):\n");
        if (text) {
            for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                fprintf(out, "#   %s\n", line);
            free(text);
        } else {
            fprintf(out, "#   not usable: %s\n", err);
        }
    }
}

int agent_list_config(const char *path, FILE *out)
{
    struct diag diag = {0};
    struct agent *a = agent_load(path, &diag);
    int errors = 0;
    if (a) {
        fprintf(out, "# collector check-config -c %s (secrets masked)\n", path);
        agent_print_config(a, out);
        agent_free(a);
    } else {
        errors = diag.count > 0 ? diag.count : 1;
        fprintf(out, "# the configuration at %s does not load: %d error%s\n", path, errors,
                errors == 1 ? "" : "s");
        diag_print(&diag, out);
    }
    diag_free(&diag);
    return errors;
}

void agent_print_agent_help(FILE *out)
{
    fprintf(out, "[agent] section options:\n");
    options_print_help(out, agent_options);
    options_print_help(out, status_options);
    options_print_help(out, aws_options);
}

static void module_help(FILE *out, const char *kind, const char *name, const char *description,
                        const struct option_def *common, const struct option_def *own)
{
    fprintf(out, "%s %s: %s\n\noptions of every %s:\n", kind, name, description, kind);
    options_print_help(out, common);
    fprintf(out, "\noptions of type = %s:\n", name);
    if (own[0].name)
        options_print_help(out, own);
    else
        fprintf(out, "  (none)\n");
}

int agent_print_module_help(FILE *out, const char *kind, const char *type)
{
    if (strcmp(kind, "input") == 0) {
        const struct input_plugin *p = input_plugin_find(type);
        if (p)
            module_help(out, kind, p->name, p->description, input_common_options, p->options);
        return p ? 0 : -1;
    }
    if (strcmp(kind, "output") == 0) {
        const struct output_plugin *p = output_plugin_find(type);
        if (p)
            module_help(out, kind, p->name, p->description, output_common_options, p->options);
        return p ? 0 : -1;
    }
    return -1;
}

static void reference_table(FILE *out, const struct option_def *common,
                            const struct option_def *own)
{
    fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
    if (common)
        options_print_markdown(out, common);
    options_print_markdown(out, own);
    fprintf(out, "\n");
}

void agent_print_reference(FILE *out)
{
    fprintf(out, "### `[agent]`\n\n");
    fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
    options_print_markdown(out, agent_options);
    options_print_markdown(out, status_options);
    options_print_markdown(out, aws_options);
    fprintf(out, "\n");
    fprintf(out, "### Every `[input NAME]`\n\n");
    reference_table(out, NULL, input_common_options);
    for (int i = 0; input_plugins[i]; i++) {
        fprintf(out, "### `type = %s` (input): %s\n\n", input_plugins[i]->name,
                input_plugins[i]->description);
        if (input_plugins[i]->options[0].name)
            reference_table(out, NULL, input_plugins[i]->options);
        else
            fprintf(out, "No options of its own.\n\n");
    }
    fprintf(out, "### Every `[output NAME]`\n\n");
    reference_table(out, NULL, output_common_options);
    for (int i = 0; output_plugins[i]; i++) {
        fprintf(out, "### `type = %s` (output): %s\n\n", output_plugins[i]->name,
                output_plugins[i]->description);
        if (output_plugins[i]->options[0].name)
            reference_table(out, NULL, output_plugins[i]->options);
        else
            fprintf(out, "No options of its own.\n\n");
    }
}

/* -------------------------------------------------------------- running */

/* Reload counters: one runner per process; they outlive each configuration. */
static struct status_reloads reloads = STATUS_RELOADS_INIT;

enum run_state { RUNNING, DRAINING_STOP, DRAINING_RELOAD };

struct runner {
    struct agent *agent;
    struct agent *next;          /* validated new configuration waiting for the drain */
    enum run_state state;
    int64_t deadline_ms;
    struct loop_timer *drain_timer;
    int sfd;                     /* the signalfd, read until exit */
    int hurried;                 /* a second stop signal: wait for nothing more */
};

static void apply_log_settings(const struct agent_conf *c)
{
    int level = log_level_parse(c->log_level);
    log_set_level(level < 0 ? LOG_INFO : (enum log_level)level);
    log_set_json(c->log_format && strcmp(c->log_format, "json") == 0);
}

static void check_drained(struct loop *loop, void *arg)
{
    struct runner *r = arg;
    struct pipeline *p = r->agent->pipeline;
    if (pipeline_pending(p) == 0 && pipeline_batches_unpersisted(p) == 0) {
        loop_stop(loop);
        return;
    }
    if (mono_ms() >= r->deadline_ms) {
        log_msg(LOG_WARN, "agent",
                "shutdown_timeout reached with %" PRIu64 " records not yet delivered; their "
                "sources are not committed and will be read again on the next start",
                pipeline_pending(p));
        loop_stop(loop);
    }
}

static void begin_drain(struct loop *loop, struct runner *r, enum run_state why)
{
    struct agent *a = r->agent;
    r->state = why;
    for (int i = 0; i < a->ninputs; i++)
        if (a->inputs[i]->plugin->stop)
            a->inputs[i]->plugin->stop(a->inputs[i]);
    pipeline_flush(a->pipeline);
    r->deadline_ms = mono_ms() + a->conf.shutdown_timeout_ms;
    r->drain_timer = loop_timer_add(loop, 1, 20, check_drained, r);
}

/* What can be known to fail before the running configuration is retired:
 * the new data_dir cannot be created, the new http_listen cannot be bound.
 * 0, or -1 with the reason in why. */
static int reload_preflight(const struct agent *cur, const struct agent *next, char *why,
                            size_t whylen)
{
    if (mkdir_p(next->conf.data_dir) < 0) {
        snprintf(why, whylen, "cannot create data_dir %s: %s", next->conf.data_dir,
                 strerror(errno));
        return -1;
    }
    const char *now = cur->conf.status->http_listen, *want = next->conf.status->http_listen;
    struct http_addr addr;
    char err[400];
    if (want && (!now || strcmp(now, want) != 0) &&
        http_addr_parse(want, &addr, err, sizeof err) == 0 &&
        http_server_probe(&addr, err, sizeof err) < 0) {
        snprintf(why, whylen, "cannot listen on http_listen = %s: %s", want, err);
        return -1;
    }
    return 0;
}

static void reload(struct loop *loop, struct runner *r)
{
    struct diag diag = {0};
    log_msg(LOG_INFO, "agent", "SIGHUP: reloading the configuration from %s", r->agent->config_path);
    struct agent *next = agent_load(r->agent->config_path, &diag);
    if (!next) {
        for (int i = 0; i < diag.count; i++)
            log_msg(LOG_ERROR, "config", "%s", diag.messages[i]);
        log_msg(LOG_ERROR, "agent",
                "reload failed with %d error%s; the running configuration stays in effect",
                diag.count, diag.count == 1 ? "" : "s");
        struct buf why;
        buf_init(&why);
        for (int i = 0; i < diag.count && i < 5; i++)
            buf_printf(&why, "%s%s", i ? "; " : "", diag.messages[i]);
        status_reloads_note(&reloads, 0, why.data);
        buf_free(&why);
        diag_free(&diag);
        return;
    }
    diag_free(&diag);
    char why[600];
    if (reload_preflight(r->agent, next, why, sizeof why) < 0) {
        log_msg(LOG_ERROR, "agent", "reload failed: %s; the running configuration stays in effect",
                why);
        status_reloads_note(&reloads, 0, why);
        agent_free(next);
        return;
    }
    r->next = next;
    begin_drain(loop, r, DRAINING_RELOAD);
}

static void on_signal(struct loop *loop, int fd, uint32_t events, void *arg)
{
    struct runner *r = arg;
    struct signalfd_siginfo si;
    (void)events;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            if (r->state == RUNNING)
                reload(loop, r);
            else
                log_msg(LOG_INFO, "agent", "SIGHUP ignored: already stopping or reloading");
        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            if (r->state == DRAINING_STOP) {
                log_msg(LOG_WARN, "agent", "second stop signal: exiting without waiting");
                r->hurried = 1;
                loop_stop(loop);
            } else {
                log_msg(LOG_INFO, "agent", "%s: stopping; delivering what is buffered (at most %" PRId64 " ms)",
                        si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT",
                        r->agent->conf.shutdown_timeout_ms);
                if (r->state == DRAINING_RELOAD) {
                    agent_free(r->next);
                    r->next = NULL;
                    r->state = DRAINING_STOP;
                } else {
                    begin_drain(loop, r, DRAINING_STOP);
                }
            }
        }
    }
}

/* Start the agent's inputs and outputs on loop. 0, or -1 with the reason in
 * why (details in the log). On failure the inputs that had started are
 * stopped again; agent_stop() and agent_free() undo the rest. */
static int agent_start(struct agent *a, struct loop *loop, char *why, size_t whylen)
{
    apply_log_settings(&a->conf);
    if (mkdir_p(a->conf.data_dir) < 0) {
        snprintf(why, whylen, "cannot create data_dir %s: %s", a->conf.data_dir, strerror(errno));
        return -1;
    }
    a->loop = loop;
    struct pipeline_limits limits = {a->conf.memory_limit, a->conf.input_memory_limit,
                                     a->conf.data_dir};
    a->pipeline = pipeline_new(loop, a->inputs, a->ninputs, a->outputs, a->noutputs, &limits);
    if (!a->pipeline || pipeline_start(a->pipeline) < 0) {
        snprintf(why, whylen, "the outputs could not start (a disk buffer under %s/buffer, or a "
                 "sender thread: see the log)", a->conf.data_dir);
        return -1;
    }
    if (reloads.loaded_ms == 0)
        reloads.loaded_ms = now_ms();
    struct status_view view = {
        .config_path = a->config_path, .hostname = a->conf.hostname,
        .settings = a->conf.status,
        .inputs = a->inputs, .ninputs = a->ninputs,
        .outputs = a->outputs, .noutputs = a->noutputs,
        .disabled = a->disabled, .ndisabled = a->ndisabled,
        .reloads = &reloads, .pipeline = a->pipeline, .memory_limit = a->conf.memory_limit,
    };
    a->status = status_start(&view, loop);
    if (!a->status) {
        snprintf(why, whylen, "the status endpoint could not start (see the log)");
        return -1;
    }
    for (int i = 0; i < a->ndisabled; i++)
        log_msg(LOG_INFO, "agent", "output %s", a->disabled[i]);
    for (int i = 0; i < a->warnings.count; i++)
        log_msg(LOG_WARN, "config", "%s", a->warnings.messages[i]);
    for (int i = 0; i < a->noutputs; i++) {
        struct output_instance *o = a->outputs[i];
        struct buf text;
        buf_init(&text);
        if (o->plugin->describe)
            o->plugin->describe(o, &text);
        struct buf match;
        buf_init(&match);
        for (int m = 0; m < o->common.match.count; m++)
            buf_printf(&match, "%s%s", m ? " " : "", o->common.match.items[m]);
        log_msg(LOG_INFO, "agent", "output %s (%s) for tags matching '%s': %s", o->name,
                o->plugin->name, match.data ? match.data : "", text.data ? text.data : "ready");
        buf_free(&text);
        buf_free(&match);
    }
    for (int i = 0; i < a->ninputs; i++) {
        struct input_instance *in = a->inputs[i];
        in->loop = loop;
        if (in->plugin->start && in->plugin->start(in) < 0) {
            snprintf(why, whylen, "input %s (%s) failed to start", in->name, in->plugin->name);
            for (int j = 0; j < i; j++)
                if (a->inputs[j]->plugin->stop)
                    a->inputs[j]->plugin->stop(a->inputs[j]);
            return -1;
        }
    }
    log_msg(LOG_INFO, "agent", "collector %s running with %d input%s and %d output%s from %s",
            COLLECTOR_VERSION, a->ninputs, a->ninputs == 1 ? "" : "s", a->noutputs,
            a->noutputs == 1 ? "" : "s", a->config_path);
    return 0;
}

/* One line per input and output with what it did, for the log at stop. */
static void log_summary(const struct agent *a)
{
    for (int i = 0; i < a->ninputs; i++) {
        struct input_instance *in = a->inputs[i];
        struct buf text;
        buf_init(&text);
        if (in->plugin->describe && in->ctx)
            in->plugin->describe(in, &text);
        log_msg(LOG_INFO, "agent",
                "input %s: %" PRIu64 " records in, %" PRIu64 " acknowledged, %" PRIu64
                " unrouted%s%s",
                in->name, (uint64_t)in->stats.records_in, (uint64_t)in->stats.records_acked,
                (uint64_t)in->stats.records_unrouted, text.len ? "; " : "", text.len ? text.data : "");
        buf_free(&text);
    }
    for (int i = 0; i < a->noutputs; i++) {
        struct output_instance *o = a->outputs[i];
        log_msg(LOG_INFO, "agent",
                "output %s: %" PRIu64 " records out in %" PRIu64 " batches, %" PRIu64
                " dropped, %" PRIu64 " batch retries",
                o->name, (uint64_t)o->stats.records_out, (uint64_t)o->stats.batches_out,
                (uint64_t)o->stats.records_dropped, (uint64_t)o->stats.batches_retried);
    }
}

/* Persist what the inputs had acknowledged and exit, leaving sender threads
 * stuck in a send behind: their batches were not acknowledged, so they stay
 * in the disk buffer or are read again from the sources on the next start. */
static _Noreturn void exit_now(struct agent *a)
{
    int stuck = pipeline_senders_running(a->pipeline);
    log_msg(LOG_WARN, "agent",
            "second stop signal: exiting without waiting for %d sender%s; what %s hold%s was "
            "not acknowledged and stays in the disk buffer or in the sources",
            stuck, stuck == 1 ? "" : "s", stuck == 1 ? "it" : "they", stuck == 1 ? "s" : "");
    for (int i = 0; i < a->ninputs; i++) {
        struct input_instance *in = a->inputs[i];
        if (in->ctx && in->plugin->destroy)
            in->plugin->destroy(in);
        in->ctx = NULL;
    }
    log_msg(LOG_INFO, "agent", "stopped");
    fflush(NULL);
    _exit(0);
}

/* Wait for a's sender threads to return, reading signals meanwhile. Sends in
 * flight may finish until the drain's deadline (one the server has taken and
 * is answering would otherwise be sent again: the disk buffer keeps its
 * batch); then requests in flight are aborted (an endpoint that does not
 * answer: their batches stay buffered, their sources uncommitted). A stop
 * signal during a stop (or after a second one) waits for nothing more; one
 * during a reload turns the reload into a stop. */
static void wait_for_senders(struct runner *r, struct agent *a)
{
    pipeline_stop_senders(a->pipeline);
    struct pollfd pfd = {.fd = r->sfd, .events = POLLIN};
    int aborted = 0;
    while (pipeline_senders_running(a->pipeline) > 0) {
        if (r->hurried)
            exit_now(a);
        if (!aborted && mono_ms() >= r->deadline_ms) {
            aws_abort_settings(a->conf.aws);
            aborted = 1;
        }
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        struct signalfd_siginfo si;
        while (read(r->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGHUP) {
                log_msg(LOG_INFO, "agent", "SIGHUP ignored: already stopping or reloading");
            } else if (r->state == DRAINING_STOP) {
                r->hurried = 1;
            } else {
                log_msg(LOG_INFO, "agent", "stop signal during the reload: stopping instead");
                agent_free(r->next);
                r->next = NULL;
                r->state = DRAINING_STOP;
            }
        }
    }
}

/* Stop sender threads, then let inputs persist what was acknowledged. */
static void agent_stop(struct runner *r, struct agent *a)
{
    status_stop(a->status);
    a->status = NULL;
    if (a->pipeline)
        wait_for_senders(r, a);
    pipeline_free(a->pipeline);
    a->pipeline = NULL;
    log_summary(a);
}

/* A retired configuration's inputs persist their state, so that the next
 * configuration (or this one, started again) resumes where they stopped. */
static void retire_inputs(struct agent *a)
{
    for (int i = 0; i < a->ninputs; i++) {
        struct input_instance *in = a->inputs[i];
        if (in->ctx && in->plugin->destroy)
            in->plugin->destroy(in);
        in->ctx = NULL;
    }
}

/* Make a stopped, retired configuration startable again: its inputs and
 * outputs are initialized anew (outputs get fresh AWS clients: the old ones
 * were aborted by the stop). 0, or -1 with the reason in why. */
static int agent_revive(struct agent *a, char *why, size_t whylen)
{
    struct diag diag = {0};
    int rc = 0;
    for (int i = 0; i < a->ninputs && rc == 0; i++) {
        struct input_instance *in = a->inputs[i];
        if (in->plugin->init && in->plugin->init(in, &diag) < 0) {
            snprintf(why, whylen, "input %s: %s", in->name,
                     diag.count ? diag.messages[0] : "cannot initialize");
            rc = -1;
        }
    }
    for (int i = 0; i < a->noutputs && rc == 0; i++) {
        struct output_instance *o = a->outputs[i];
        if (o->ctx && o->plugin->shutdown)
            o->plugin->shutdown(o);
        o->ctx = NULL;
        if (o->plugin->init && o->plugin->init(o, &diag) < 0) {
            snprintf(why, whylen, "output %s: %s", o->name,
                     diag.count ? diag.messages[0] : "cannot initialize");
            rc = -1;
        }
    }
    diag_free(&diag);
    return rc;
}

/* The drained configuration gives way to r->next. When the next cannot
 * start, the drained one starts again (its inputs resume from the state they
 * persisted) and /health says why. 0: running again; 1: a stop signal came
 * meanwhile; -1: nothing could start. */
static int switch_config(struct runner *r, struct loop *loop)
{
    struct agent *old = r->agent;
    agent_stop(r, old);
    retire_inputs(old);
    if (r->state == DRAINING_STOP || !r->next)
        return 1;
    struct agent *next = r->next;
    r->agent = next;
    r->next = NULL;
    r->state = RUNNING;
    char why[600];
    if (agent_start(next, loop, why, sizeof why) == 0) {
        agent_free(old);
        status_reloads_note(&reloads, 1, NULL);
        log_msg(LOG_INFO, "agent", "configuration reloaded");
        return 0;
    }
    log_msg(LOG_ERROR, "agent",
            "reload failed: the new configuration could not start: %s; starting the running "
            "one again", why);
    agent_stop(r, next);
    agent_free(next);
    r->agent = old;
    char again[600];
    if (agent_revive(old, again, sizeof again) < 0 ||
        agent_start(old, loop, again, sizeof again) < 0) {
        log_msg(LOG_ERROR, "agent", "the previous configuration could not start again either: %s",
                again);
        return -1;
    }
    status_reloads_note(&reloads, 0, why);
    log_msg(LOG_WARN, "agent", "the previous configuration runs again; fix %s and send SIGHUP",
            old->config_path);
    return r->state == DRAINING_STOP ? 1 : 0;
}

int agent_run(const char *path)
{
    struct diag diag = {0};
    struct agent *a = agent_load(path, &diag);
    if (!a) {
        diag_print(&diag, stderr);
        fprintf(stderr, "collector: %d configuration error%s; not starting\n", diag.count,
                diag.count == 1 ? "" : "s");
        diag_free(&diag);
        return 2;
    }
    diag_free(&diag);

    /* Block the signals before any thread exists so all of them inherit the
     * mask and signals arrive only through the signalfd. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct loop *loop = loop_new();
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (!loop || sfd < 0) {
        fprintf(stderr, "collector: cannot set up the event loop: %s\n", strerror(errno));
        agent_free(a);
        loop_free(loop);
        return 1;
    }
    struct runner r = {.agent = a, .state = RUNNING, .sfd = sfd};
    loop_add_fd(loop, sfd, EPOLLIN, on_signal, &r);

    int code = 0;
    char why[600];
    if (agent_start(a, loop, why, sizeof why) < 0) {
        log_msg(LOG_ERROR, "agent", "cannot start: %s", why);
        code = 1;
    } else {
        log_msg(LOG_INFO, "agent", "request bodies gzipped by %s", gzip_backend());
        for (;;) {
            if (loop_run(loop) < 0) {
                code = 1;
                break;
            }
            loop_timer_del(loop, r.drain_timer);
            r.drain_timer = NULL;
            if (r.state != DRAINING_RELOAD || !r.next)
                break;
            int switched = switch_config(&r, loop);
            if (switched != 0) {
                code = switched < 0;
                break;
            }
        }
    }
    /* The final drain: a stop signal still reaches it (wait_for_senders). */
    r.state = DRAINING_STOP;
    if (r.agent->pipeline || r.agent->status)
        agent_stop(&r, r.agent);
    agent_free(r.agent);
    agent_free(r.next);
    loop_del_fd(loop, sfd);
    close(sfd);
    loop_free(loop);
    status_reloads_free(&reloads);
    if (code == 0)
        log_msg(LOG_INFO, "agent", "stopped");
    return code;
}
