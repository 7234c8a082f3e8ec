/* `collector dashboard [-c PATH] [--cluster NAME] [--put NAME]`: print a
 * CloudWatch dashboard body (the DashboardBody of PutDashboard) with
 * cluster, service, task family, task and instance utilization widgets,
 * and the cluster's headroom (SchedulableTasks per task size) and ECS agent
 * health, over the metrics this agent publishes: the namespace of the
 * configured cloudwatch_metrics output (default Collector/ECS), the
 * region of the [agent] section or AWS_REGION, the cluster of the metrics
 * inputs, the period of the container input's interval (at least 60 s); a
 * region or cluster it had to assume is said on stderr. Statistic: Sum,
 * since every datum is this host's total for the interval (see
 * docs/metrics.md). With --put NAME the body goes to PutDashboard with the
 * agent's own AWS settings and credentials. */
#include "collector/aws/aws.h"
#include "collector/core/config.h"
#include "collector/core/util.h"
#include "collector/metrics/ci_names.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_CONFIG "/etc/collector/conf.d"

struct dash {
    const char *ns;
    const char *region;
    const char *cluster;
    int period;
    json_t *widgets;
    int y;
};

static const char *section_value(const struct conf_section *s, const char *key)
{
    const struct conf_entry *e = conf_section_get(s, key);
    return e && !e->invalid ? e->value : NULL;
}

static json_t *metric_row(const char *ns, const char *name, const char *cluster)
{
    return json_pack("[s,s,s,s]", ns, name, CI_DIM_CLUSTER, cluster);
}

static void widget(struct dash *d, const char *title, json_t *metrics, const char *stat, int x,
                   const char *unit_label)
{
    json_t *props = json_pack("{s:s,s:s,s:s,s:b,s:s,s:i,s:o}", "title", title, "region",
                              d->region, "view", "timeSeries", "stacked", 0, "stat", stat,
                              "period", d->period, "metrics", metrics);
    if (unit_label)
        json_object_set_new(props, "yAxis",
                            json_pack("{s:{s:s,s:b}}", "left", "label", unit_label, "showUnits",
                                      0));
    json_array_append_new(d->widgets, json_pack("{s:s,s:i,s:i,s:i,s:i,s:o}", "type", "metric",
                                                "x", x, "y", d->y, "width", 12, "height", 6,
                                                "properties", props));
    if (x == 12)
        d->y += 6;
}

static void pair(struct dash *d, const char *title, const char *a, const char *b, int x,
                 const char *label)
{
    json_t *m = json_array();
    json_array_append_new(m, metric_row(d->ns, a, d->cluster));
    if (b)
        json_array_append_new(m, metric_row(d->ns, b, d->cluster));
    widget(d, title, m, "Sum", x, label);
}

/* SEARCH over a dimension set, one line per value of its last dimension. */
static void search(struct dash *d, const char *title, const char *dims, const char *metric,
                   const char *stat, int x, const char *label)
{
    char expr[1024];
    snprintf(expr, sizeof expr, "SEARCH('{%s,%s} MetricName=\"%s\" %s=\"%s\"', '%s', %d)", d->ns,
             dims, metric, CI_DIM_CLUSTER, d->cluster, stat, d->period);
    json_t *m = json_array();
    json_array_append_new(m, json_pack("[{s:s,s:s,s:s}]", "expression", expr, "id", "e1", "label",
                                       ""));
    widget(d, title, m, stat, x, label);
}

static void build(struct dash *d)
{
    char t[512];
    snprintf(t, sizeof t, "Cluster %s: CPU utilized vs reserved (CPU units)", d->cluster);
    pair(d, t, "CpuUtilized", "CpuReserved", 0, "CPU units");
    snprintf(t, sizeof t, "Cluster %s: memory utilized vs reserved (MiB)", d->cluster);
    pair(d, t, "MemoryUtilized", "MemoryReserved", 12, "MiB");
    snprintf(t, sizeof t, "Cluster %s: network (bytes/s)", d->cluster);
    pair(d, t, "NetworkRxBytes", "NetworkTxBytes", 0, "bytes/s");
    snprintf(t, sizeof t, "Cluster %s: storage (bytes per interval)", d->cluster);
    pair(d, t, "StorageReadBytes", "StorageWriteBytes", 12, "bytes");
    snprintf(t, sizeof t, "Cluster %s: running tasks", d->cluster);
    pair(d, t, "RunningTaskCount", NULL, 0, "tasks");
    search(d, "Running tasks by service", CI_DIM_CLUSTER "," CI_DIM_SERVICE, "RunningTaskCount",
           "Sum", 12, "tasks");
    search(d, "CPU utilized by service (CPU units)", CI_DIM_CLUSTER "," CI_DIM_SERVICE,
           "CpuUtilized", "Sum", 0, "CPU units");
    search(d, "Memory utilized by service (MiB)", CI_DIM_CLUSTER "," CI_DIM_SERVICE,
           "MemoryUtilized", "Sum", 12, "MiB");
    search(d, "CPU utilized by task family (CPU units)", CI_DIM_CLUSTER "," CI_DIM_FAMILY,
           "CpuUtilized", "Sum", 0, "CPU units");
    search(d, "Memory utilized by task family (MiB)", CI_DIM_CLUSTER "," CI_DIM_FAMILY,
           "MemoryUtilized", "Sum", 12, "MiB");
    search(d, "CPU utilized by task (CPU units; levels = task)",
           CI_DIM_CLUSTER "," CI_DIM_FAMILY "," CI_DIM_TASK, "CpuUtilized", "Sum", 0,
           "CPU units");
    search(d, "Memory utilized by task (MiB; levels = task)",
           CI_DIM_CLUSTER "," CI_DIM_FAMILY "," CI_DIM_TASK, "MemoryUtilized", "Sum", 12, "MiB");
    const char *inst = CI_DIM_CLUSTER "," CI_DIM_CONTAINER_INSTANCE "," CI_DIM_INSTANCE;
    search(d, "Instance CPU utilization (%)", inst, "instance_cpu_utilization", "Average", 0,
           "%");
    search(d, "Instance memory utilization (%)", inst, "instance_memory_utilization", "Average",
           12, "%");
    search(d, "Instance CPU / memory reserved capacity (%)", inst,
           "instance_cpu_reserved_capacity", "Average", 0, "%");
    search(d, "Instance filesystem utilization (%)", inst, "instance_filesystem_utilization",
           "Maximum", 12, "%");
    search(d, "Instance network (bytes/s)", inst, "instance_network_total_bytes", "Average", 0,
           "bytes/s");
    search(d, "Instance running tasks", inst, "instance_number_of_running_tasks", "Average", 12,
           "tasks");
    /* host_metrics capacity = true */
    search(d, "Headroom: tasks that still fit, by task size (Sum over hosts)",
           CI_DIM_CLUSTER ",TaskSize", "SchedulableTasks", "Sum", 0, "tasks");
    search(d, "Reservation threshold by task size (%; rule of thumb)", CI_DIM_CLUSTER ",TaskSize",
           "ReservationThreshold", "Average", 12, "%");
    search(d, "ECS agent connected, by instance (1 = answered every probe)",
           CI_DIM_CLUSTER "," CI_DIM_INSTANCE, "EcsAgentConnected", "Average", 0, "connected");
    snprintf(t, sizeof t, "Cluster %s: free CPU units and MiB", d->cluster);
    pair(d, t, "FreeCpu", "FreeMemory", 12, NULL);
}

/* PutDashboard through the AWS client, with the [agent] section's AWS
 * settings (only its AWS keys are read here). 0, or 1 said on stderr. */
static int put_dashboard(const struct config *cfg, const char *name, const char *body)
{
    struct aws_settings aws;
    aws_settings_defaults(&aws);
    struct diag diag = {0};
    for (int i = 0; i < cfg->nsections; i++) {
        const struct conf_section *s = &cfg->sections[i];
        if (strcmp(s->kind, "agent") != 0)
            continue;
        struct conf_section only_aws = *s;
        only_aws.entries = xcalloc((size_t)s->nentries + 1, sizeof *s->entries);
        only_aws.nentries = 0;
        for (int e = 0; e < s->nentries; e++)
            if (options_find(aws_options, s->entries[e].key))
                only_aws.entries[only_aws.nentries++] = s->entries[e];
        struct option_binding b = {aws_options, &aws};
        options_apply(&only_aws, &b, 1, &diag);
        free(only_aws.entries);
        break;
    }
    int rc = 1;
    char err[512] = "";
    struct aws_context *ctx = diag.count ? NULL : aws_context_new(&aws, err, sizeof err);
    if (diag.count)
        diag_print(&diag, stderr);
    else if (!ctx)
        fprintf(stderr, "collector dashboard: %s\n", err);
    if (ctx) {
        json_t *req = json_pack("{s:s,s:s}", "DashboardName", name, "DashboardBody", body);
        char *text = json_dumps(req, JSON_COMPACT);
        struct aws_request r = {.service = AWS_SVC_MONITORING,
                                .target = "GraniteServiceVersion20100801.PutDashboard",
                                .content_type = "application/x-amz-json-1.0",
                                .body = text,
                                .len = strlen(text)};
        struct aws_response resp;
        aws_response_init(&resp);
        struct aws_sender *sender = aws_sender_new(ctx);
        if (aws_call(sender, &r, &resp) == 0) {
            json_t *answer = json_loadb(resp.body.data ? resp.body.data : "{}", resp.body.len, 0,
                                        NULL);
            json_t *msgs = json_object_get(answer, "DashboardValidationMessages");
            size_t i;
            json_t *m;
            json_array_foreach(msgs, i, m)
                fprintf(stderr, "collector dashboard: %s: %s\n",
                        json_string_value(json_object_get(m, "DataPath")),
                        json_string_value(json_object_get(m, "Message")));
            printf("dashboard %s put in %s (%s)\n", name, aws_context_region(ctx),
                   json_array_size(msgs) ? "with the warnings above" : "no warnings");
            json_decref(answer);
            rc = 0;
        } else {
            fprintf(stderr, "collector dashboard: PutDashboard %s failed: %s%s%s (HTTP %d)\n",
                    name, resp.error.code, resp.error.code[0] ? ": " : "", resp.error.message,
                    resp.status);
        }
        aws_sender_free(sender);
        aws_response_free(&resp);
        aws_context_free(ctx);
        free(text);
        json_decref(req);
    }
    diag_free(&diag);
    aws_settings_free(&aws);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: collector dashboard [-c PATH] [--cluster NAME] [--put NAME]\n");
    return 2;
}

int dashboard_main(int argc, char **argv)
{
    const char *path = NULL, *cluster = NULL, *put = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--cluster") == 0 && i + 1 < argc)
            cluster = argv[++i];
        else if (strcmp(argv[i], "--put") == 0 && i + 1 < argc)
            put = argv[++i];
        else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0 ||
                 strcmp(argv[i], "--cluster") == 0) {
            fprintf(stderr, "collector dashboard: %s needs a %s\n", argv[i],
                    argv[i][2] == 'l' ? "cluster name" : argv[i][2] == 'p' ? "dashboard name" : "path (a file or a directory of *.conf files)");
            return usage();
        } else
            return usage();
    }
    struct stat st;
    if (!path)
        path = stat(DEFAULT_CONFIG, &st) != 0 && stat("conf.d", &st) == 0 ? "conf.d"
                                                                          : DEFAULT_CONFIG;
    struct config cfg = {0};
    struct diag diag = {0};
    int have_config = stat(path, &st) == 0;
    if (have_config && config_load(&cfg, path, &diag) != 0) {
        diag_print(&diag, stderr);
        diag_free(&diag);
        config_free(&cfg);
        return 2;
    }
    struct dash d = {.ns = CI_DEFAULT_NAMESPACE, .period = 60};
    const char *region = getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    const char *conf_cluster = NULL;
    for (int i = 0; i < cfg.nsections; i++) {
        const struct conf_section *s = &cfg.sections[i];
        const char *type = section_value(s, "type");
        if (strcmp(s->kind, "agent") == 0 && section_value(s, "region"))
            region = section_value(s, "region");
        if (!type)
            continue;
        if (strcmp(s->kind, "output") == 0 && strcmp(type, "cloudwatch_metrics") == 0 &&
            section_value(s, "namespace"))
            d.ns = section_value(s, "namespace");
        if (strcmp(s->kind, "input") == 0 && strcmp(type, "host_metrics") == 0 &&
            section_value(s, "cluster") && !conf_cluster)
            conf_cluster = section_value(s, "cluster");
        if (strcmp(s->kind, "input") == 0 && strcmp(type, "container_metrics") == 0) {
            if (section_value(s, "cluster"))
                conf_cluster = section_value(s, "cluster");
            int64_t ms;
            const char *iv = section_value(s, "interval");
            if (iv && parse_duration_ms(iv, &ms) == 0 && ms / 1000 > d.period)
                d.period = (int)((ms / 1000 + 59) / 60 * 60);
        }
    }
    d.region = region && *region ? region : "us-east-1";
    d.cluster = cluster ? cluster : conf_cluster ? conf_cluster : "default";
    /* Say what was assumed: a dashboard of the wrong region or cluster is empty. */
    if (!region || !*region)
        fprintf(stderr, "collector dashboard: no region in the configuration or AWS_REGION: "
                "assuming us-east-1\n");
    if (!cluster && !conf_cluster)
        fprintf(stderr, "collector dashboard: no --cluster and no cluster in a container_metrics "
                "input: assuming cluster 'default'\n");
    d.widgets = json_array();
    build(&d);
    json_t *body = json_pack("{s:o}", "widgets", d.widgets);
    char *text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = text ? 0 : 1;
    if (text && put)
        rc = put_dashboard(&cfg, put, text);
    else if (text)
        printf("%s\n", text);
    free(text);
    json_decref(body);
    diag_free(&diag);
    config_free(&cfg);
    return rc;
}
