/* What check-config says beyond errors: warnings that do not depend on the
 * machine (routing, unitless durations far out of range, files a
 * configuration directory ignores), and, as a separate part, what does
 * (outputs left out by `enabled`, AWS region and credentials, Docker, the
 * identity the agent will use). */
#include "collector/agent/agent_check.h"
#include "collector/core/config.h"
#include "collector/plugin.h"
#include "collector/aws/aws.h"
#include "collector/cloudwatch/host_info.h"
#include "collector/core/util.h"
#include "collector/metrics/ci_names.h"
#include "collector/docker/ecs_agent.h"
#include "collector/docker/local_http.h"
#include "collector/pipeline/record.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_TAGS 8

static const char *string_option(const struct option_def *defs, const void *conf, const char *name)
{
    const struct option_def *d = options_find(defs, name);
    if (!d || d->type != OPT_STRING || !conf)
        return NULL;
    return *(char *const *)((const char *)conf + d->offset);
}

static int bool_option(const struct option_def *defs, const void *conf, const char *name)
{
    const struct option_def *d = options_find(defs, name);
    if (!d || d->type != OPT_BOOL || !conf)
        return 0;
    return *(const int *)((const char *)conf + d->offset);
}

int agent_input_tags(const struct input_instance *in, const char **tags, int max)
{
    int n = 0;
    /* An input whose table has tag_* options (containers: tag_ecs, tag_docker)
     * tags its records with those, not with `tag`. */
    for (const struct option_def *d = in->plugin->options; d->name && n < max; d++)
        if (strncmp(d->name, "tag_", 4) == 0 && d->type == OPT_STRING) {
            const char *v = string_option(in->plugin->options, in->conf, d->name);
            if (v && *v)
                tags[n++] = v;
        }
    if (n == 0 && n < max)
        tags[n++] = in->tag->name;
    /* EMF records of the metrics inputs, when asked for. */
    const char *emf = string_option(in->plugin->options, in->conf, "emf_tag");
    if (emf && bool_option(in->plugin->options, in->conf, "emf") && n < max)
        tags[n++] = emf;
    return n;
}

int agent_input_has_own_tags(const struct input_plugin *p)
{
    for (const struct option_def *d = p->options; d->name; d++)
        if (strncmp(d->name, "tag_", 4) == 0 && d->type == OPT_STRING)
            return 1;
    return 0;
}

static int output_takes(const struct output_instance *o, const char *tag)
{
    for (int m = 0; m < o->common.match.count; m++)
        if (fnmatch(o->common.match.items[m], tag, 0) == 0)
            return 1;
    return 0;
}

void agent_check_routing(struct check_view *a)
{
    for (int i = 0; i < a->ninputs; i++) {
        const struct input_instance *in = a->inputs[i];
        const char *tags[MAX_TAGS];
        int n = agent_input_tags(in, tags, MAX_TAGS);
        for (int t = 0; t < n; t++) {
            int taken = 0;
            for (int o = 0; o < a->noutputs && !taken; o++)
                taken = a->outputs[o]->index != UINT16_MAX && output_takes(a->outputs[o], tags[t]);
            if (!taken)
                diag_add(a->warnings, in->section->file, in->section->line,
                         "[input %s]: no output's match takes its tag '%s': its records would "
                         "be counted as unrouted and discarded", in->name, tags[t]);
        }
    }
    for (int o = 0; o < a->noutputs; o++) {
        const struct output_instance *out = a->outputs[o];
        if (out->index == UINT16_MAX)
            continue;
        for (int m = 0; m < out->common.match.count; m++) {
            int covers = 0;
            for (int i = 0; i < a->ninputs && !covers; i++) {
                const char *tags[MAX_TAGS];
                int n = agent_input_tags(a->inputs[i], tags, MAX_TAGS);
                for (int t = 0; t < n && !covers; t++)
                    covers = fnmatch(out->common.match.items[m], tags[t], 0) == 0;
            }
            if (!covers) {
                const struct conf_entry *e = conf_section_get(out->section, "match");
                diag_add(a->warnings, e ? e->file : out->section->file,
                         e ? e->line : out->section->line,
                         "[output %s]: match '%s' takes no input's tag: nothing would be sent "
                         "here by it", out->name, out->common.match.items[m]);
            }
        }
    }
}

/* ------------------------------------------------------------ durations */

static int bare_number(const char *v)
{
    if (!*v)
        return 0;
    for (; *v; v++)
        if (!isdigit((unsigned char)*v) && *v != '.')
            return 0;
    return 1;
}

static void human(char *out, size_t len, int64_t ms)
{
    if (ms >= 86400000)
        snprintf(out, len, "%.1f days", (double)ms / 86400000.0);
    else if (ms >= 7200000)
        snprintf(out, len, "%.1f hours", (double)ms / 3600000.0);
    else
        snprintf(out, len, "%.0f minutes", (double)ms / 60000.0);
}

/* A number with no unit is seconds: `flush_interval = 5000` is 83 minutes
 * (awslogs' buffer_duration was milliseconds). Warn when it is at least 100
 * and a hundred times the option's default (an hour when it has none). */
static void check_durations(struct check_view *a, const struct conf_section *s,
                            const struct option_def *const *tables, int ntables)
{
    for (int e = 0; e < s->nentries; e++) {
        const struct conf_entry *entry = &s->entries[e];
        const struct option_def *d = NULL;
        for (int t = 0; t < ntables && !d; t++)
            d = options_find(tables[t], entry->key);
        if (!d || d->type != OPT_DURATION || !bare_number(entry->value))
            continue;
        int64_t ms, def_ms = 0;
        if (parse_duration_ms(entry->value, &ms) < 0)
            continue;
        if (d->default_value)
            (void)parse_duration_ms(d->default_value, &def_ms);
        int64_t limit = def_ms > 0 ? def_ms * 100 : 3600000;
        if (ms < 100000 || ms <= limit)
            continue;
        char h[64];
        human(h, sizeof h, ms);
        diag_add(a->warnings, entry->file, entry->line,
                 "%s = %s has no unit, so it is %s seconds (%s; the default is %s); write %sms "
                 "if milliseconds were meant, or give the unit", entry->key, entry->value,
                 entry->value, h, d->default_value ? d->default_value : "none", entry->value);
    }
}

void agent_check_durations(struct check_view *a)
{
    const struct option_def *input_common = a->input_common, *output_common = a->output_common;
    for (int i = 0; i < a->cfg->nsections; i++) {
        const struct conf_section *s = &a->cfg->sections[i];
        if (strcmp(s->kind, "agent") == 0)
            check_durations(a, s, a->agent_tables, a->nagent_tables);
    }
    for (int i = 0; i < a->ninputs; i++) {
        const struct option_def *t[] = {input_common, a->inputs[i]->plugin->options};
        check_durations(a, a->inputs[i]->section, t, 2);
    }
    for (int i = 0; i < a->noutputs; i++) {
        const struct option_def *t[] = {output_common, a->outputs[i]->plugin->options};
        check_durations(a, a->outputs[i]->section, t, 2);
    }
}

/* Options of an input that only act when one of its switches is on: set
 * with the switch off, they would be read and do nothing. */
static const struct {
    const char *type, *key, *needs;
} needs_switch[] = {
    {"host_metrics", "ecs_agent_check", "capacity"},
    {"host_metrics", "ecs_agent_unhealthy_after", "capacity"},
    {"host_metrics", "schedulable_task_sizes", "capacity"},
    {"host_metrics", "ecs_config", "capacity"},
};

void agent_check_switches(struct check_view *a)
{
    for (int i = 0; i < a->ninputs; i++) {
        const struct input_instance *in = a->inputs[i];
        for (size_t r = 0; r < sizeof needs_switch / sizeof needs_switch[0]; r++) {
            if (strcmp(in->plugin->name, needs_switch[r].type) != 0 ||
                bool_option(in->plugin->options, in->conf, needs_switch[r].needs))
                continue;
            const struct conf_entry *e = conf_section_get(in->section, needs_switch[r].key);
            if (e)
                diag_add(a->warnings, e->file, e->line,
                         "[input %s]: %s has no effect without %s = true", in->name,
                         needs_switch[r].key, needs_switch[r].needs);
        }
    }
}

void agent_check_ignored(struct check_view *a)
{
    for (int i = 0; i < a->cfg->nignored; i++)
        diag_add(a->warnings, a->cfg->ignored[i], 0,
                 "not read: only files ending in .conf are (rename it, or move it out of the "
                 "directory)");
}

/* ------------------------------------------------------- metrics plan */

/* Series per host and per cluster of each metrics input, from the names the
 * samplers publish (collector/metrics/host_sample.c, container_sample.c). */
#define HOST_INSTANCE_METRICS 22      /* cpu 7, memory 4, swap 2, load 3, fs 1, disk 2, net 3 */
#define HOST_DOCKER_METRICS 4         /* running tasks/containers, reserved cpu/memory */
#define HOST_FS_METRICS 5
#define HOST_DISK_METRICS 5
#define HOST_NET_METRICS 8
#define CONTAINER_FIG_METRICS 8       /* Cpu/Memory Utilized/Reserved, Network Rx/Tx, Storage R/W */

/* The first cloudwatch_metrics output declared (enabled on this host or not)
 * whose match takes tag. */
static int output_namespace(const struct check_view *a, const char *tag, const char **ns,
                            const char **via)
{
    for (int i = 0; i < a->cfg->nsections; i++) {
        const struct conf_section *s = &a->cfg->sections[i];
        const struct conf_entry *type = conf_section_get(s, "type");
        const struct conf_entry *match = conf_section_get(s, "match");
        if (strcmp(s->kind, "output") != 0 || !type || !match ||
            strcmp(type->value, "cloudwatch_metrics") != 0)
            continue;
        char *globs = xstrdup(match->value), *save = NULL;
        int takes = 0;
        for (char *g = strtok_r(globs, " \t,", &save); g && !takes; g = strtok_r(NULL, " \t,", &save))
            takes = fnmatch(g, tag, 0) == 0;
        free(globs);
        if (takes) {
            const struct conf_entry *n = conf_section_get(s, "namespace");
            *ns = n ? n->value : CI_DEFAULT_NAMESPACE;
            *via = s->name;
            return 1;
        }
    }
    return 0;
}

static void plan_host(const struct check_view *a, const struct input_instance *in, FILE *out)
{
    const void *c = in->conf;
    const struct option_def *t = in->plugin->options;
    const char *sock = string_option(t, c, "docker_socket");
    int docker = sock && *sock;
    int n = HOST_INSTANCE_METRICS + (docker ? HOST_DOCKER_METRICS : 0);
    fprintf(out, "#   [input %s] host_metrics:\n", in->name);
    fprintf(out, "#     per host:    %d series {ClusterName, InstanceId, ContainerInstanceId}%s\n",
            n, docker ? " (22 without the Docker socket)" : "");
    fprintf(out, "#     per cluster: %d series {ClusterName}, the same for every host of it\n", n);
    if (bool_option(t, c, "per_device"))
        fprintf(out, "#     per_device = true: per host also %d per filesystem (+MountPath), %d per "
                     "disk (+Device), %d per network interface (+InterfaceName)\n",
                HOST_FS_METRICS, HOST_DISK_METRICS, HOST_NET_METRICS);
    else
        fprintf(out, "#     per_device = false: no per-filesystem, disk or interface series (on: "
                     "+%d, +%d, +%d per host for each)\n",
                HOST_FS_METRICS, HOST_DISK_METRICS, HOST_NET_METRICS);
}

static void plan_containers(const struct input_instance *in, FILE *out)
{
    const struct option_def *d = options_find(in->plugin->options, "levels");
    const struct strlist *levels = d ? (const struct strlist *)((const char *)in->conf + d->offset)
                                     : NULL;
    fprintf(out, "#   [input %s] container_metrics (levels:", in->name);
    for (int i = 0; levels && i < levels->count; i++)
        fprintf(out, " %s", levels->items[i]);
    fprintf(out, "):\n");
    for (int i = 0; levels && i < levels->count; i++) {
        const char *l = levels->items[i];
        if (strcmp(l, "cluster") == 0)
            fprintf(out, "#     per cluster: %d series {ClusterName}\n", CONTAINER_FIG_METRICS + 1);
        else if (strcmp(l, "service") == 0)
            fprintf(out, "#     per service: %d series {ClusterName, ServiceName}\n",
                    CONTAINER_FIG_METRICS + 1);
        else if (strcmp(l, "family") == 0)
            fprintf(out, "#     per task family: %d series {ClusterName, TaskDefinitionFamily}\n",
                    CONTAINER_FIG_METRICS + 1);
        else if (strcmp(l, "task") == 0)
            fprintf(out, "#     per task: %d series {ClusterName, TaskDefinitionFamily, TaskId}: new "
                         "series with every task started\n", CONTAINER_FIG_METRICS);
        else if (strcmp(l, "container") == 0)
            fprintf(out, "#     per container name: %d series {ClusterName, TaskDefinitionFamily, "
                         "ContainerName}\n", CONTAINER_FIG_METRICS + 2);
    }
    fprintf(out, "#     (service, family and cluster series are shared by every host of the cluster)\n");
}

void agent_print_metrics_plan(const struct check_view *a, FILE *out)
{
    int any = 0;
    for (int i = 0; i < a->ninputs; i++) {
        const struct input_instance *in = a->inputs[i];
        int host = strcmp(in->plugin->name, "host_metrics") == 0;
        if (!host && strcmp(in->plugin->name, "container_metrics") != 0)
            continue;
        if (!any)
            fprintf(out, "\n# metric series the metrics inputs publish (CloudWatch bills custom "
                         "metrics per series and month; see docs/metrics.md):\n");
        any = 1;
        if (host)
            plan_host(a, in, out);
        else
            plan_containers(in, out);
        const char *ns = NULL, *via = NULL;
        if (output_namespace(a, in->tag->name, &ns, &via))
            fprintf(out, "#     to namespace %s through [output %s]\n", ns ? ns : "?", via);
        else
            fprintf(out, "#     no cloudwatch_metrics output takes tag %s here: nothing published\n",
                    in->tag->name);
        if (bool_option(in->plugin->options, in->conf, "emf"))
            fprintf(out, "#     emf = true: the same figures as EMF log events, namespace %s "
                         "(billed as custom metrics too)\n",
                    string_option(in->plugin->options, in->conf, "emf_namespace"));
    }
}

/* -------------------------------------------------------- this machine */

/* The cluster a metrics input will use: its `cluster`, else the ECS agent's
 * introspection API, else the host name. */
static void print_cluster(const struct check_view *a, FILE *out)
{
    const struct input_instance *metrics = NULL;
    for (int i = 0; i < a->ninputs && !metrics; i++)
        if (options_find(a->inputs[i]->plugin->options, "cluster"))
            metrics = a->inputs[i];
    if (!metrics) {
        fprintf(out, "#   cluster:     (no metrics input: not used)\n");
        return;
    }
    const char *set = string_option(metrics->plugin->options, metrics->conf, "cluster");
    if (set && *set) {
        fprintf(out, "#   cluster:     %s (from [input %s] cluster)\n", set, metrics->name);
        return;
    }
    const char *url = string_option(metrics->plugin->options, metrics->conf, "introspection_url");
    if (url && *url) {
        struct local_http *http = local_http_new();
        struct buf scratch;
        buf_init(&scratch);
        struct ecs_info info = {0};
        int ok = http && ecs_fetch(http, url, 1000, &scratch, &info) == 0 && info.cluster[0];
        if (ok)
            fprintf(out, "#   cluster:     %s (from the ECS agent at %s)\n", info.cluster, url);
        ecs_info_free(&info);
        buf_free(&scratch);
        local_http_free(http);
        if (ok)
            return;
    }
    fprintf(out, "#   cluster:     %s (the host name: no cluster set and no ECS agent answered%s%s)\n",
            a->hostname, url && *url ? " at " : "", url && *url ? url : "");
}

void agent_print_identity(const struct check_view *a, FILE *out)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    int configured = a->hostname && strcmp(a->hostname, host) != 0;
    struct cwl_host_info h;
    cwl_host_info_load(&h, a->hostname, a->aws, 1);
    fprintf(out, "\n# identity the agent will use:\n");
    fprintf(out, "#   hostname:    %s (%s)\n", h.hostname,
            configured ? "from [agent] hostname" : "the system's host name");
    fprintf(out, "#   instance id: %s (%s)\n", h.instance_id,
            h.from_imds ? "from EC2 instance metadata"
                        : "the host name: no EC2 instance metadata (not EC2, imds = off or "
                          "AWS_EC2_METADATA_DISABLED)");
    fprintf(out, "#   ip address:  %s\n", h.ip_address);
    print_cluster(a, out);
    char err[512];
    char *text = agent_aws_describe(a->aws, err, sizeof err);
    if (text) {
        char *nl = strchr(text, '\n');
        if (nl)
            *nl = '\0';
        fprintf(out, "#   region:      %s\n",
                strncmp(text, "aws region: ", 12) == 0 ? text + 12 : "?");
        free(text);
    } else {
        fprintf(out, "#   region:      none (%s)\n", err);
    }
}

char *agent_aws_describe(const struct aws_settings *aws, char *err, size_t errlen)
{
    struct aws_context *ctx = aws_context_new(aws, err, errlen);
    if (!ctx)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        aws_context_describe(ctx, mem);
        fclose(mem);
    }
    aws_context_free(ctx);
    if (!text)
        snprintf(err, errlen, "out of memory");
    return text;
}

static int docker_answers(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

void agent_print_machine(const struct check_view *a, FILE *out)
{
    fprintf(out, "\n# ---- on this machine (not part of the verdict: the same file is checked "
                 "the same way everywhere) ----\n");
    if (a->ndisabled == 0)
        fprintf(out, "# every output is enabled here\n");
    for (int i = 0; i < a->ndisabled; i++)
        fprintf(out, "# disabled: output %s\n", a->disabled[i]);
    for (int i = 0; i < a->ninputs; i++) {
        const char *sock = string_option(a->inputs[i]->plugin->options, a->inputs[i]->conf,
                                         "docker_socket");
        if (sock && *sock)
            fprintf(out, "# docker (input %s): %s %s\n", a->inputs[i]->name, sock,
                    docker_answers(sock) ? "answers" : "does not answer (no container data "
                                                       "until it does)");
    }
    agent_print_identity(a, out);
}
