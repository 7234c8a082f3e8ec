/* `container_metrics` input: CPU, memory, network and storage of every
 * running container, per container, task, service, task family and cluster
 * (Container Insights names and dimension sets), every `interval`.
 *
 * The sampling (Docker API, cgroups, procfs, ECS introspection: all
 * blocking) runs on a thread of its own (collector/metrics/sampler.h); the
 * frame it builds is emitted here on the loop thread. See docs/metrics.md. */
#include "collector/agent.h"
#include "collector/cloudwatch/host_info.h"
#include "collector/core/config.h"
#include "collector/core/log.h"
#include "collector/metrics/ci_names.h"
#include "collector/metrics/container_sample.h"
#include "collector/metrics/frame_emit.h"
#include "collector/metrics/sampler.h"
#include "collector/pipeline/pipeline.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MOD "container_metrics"

struct cm_conf {
    int64_t interval_ms;
    char *source;
    char *docker_socket;
    char *proc_root;
    char *cgroup_root;
    char *introspection_url;
    int64_t introspection_refresh_ms;
    char *cluster;
    struct strlist levels;
    int metrics;
    int emf;
    char *emf_tag;
    char *emf_namespace;
    int64_t storage_resolution;
};

static const struct option_def cm_options[] = {
    {"interval", OPT_DURATION, "60s", 0, offsetof(struct cm_conf, interval_ms), NULL,
     "sampling interval (1s or more)"},
    {"source", OPT_ENUM, "cgroup", 0, offsetof(struct cm_conf, source), "cgroup|docker_api",
     "read counters from the cgroup filesystem, or from the Docker stats API (one-shot)"},
    {"docker_socket", OPT_STRING, "/var/run/docker.sock", 0,
     offsetof(struct cm_conf, docker_socket), NULL, "Docker Engine API unix socket"},
    {"proc_root", OPT_STRING, "/proc", 0, offsetof(struct cm_conf, proc_root), NULL,
     "procfs of the host (/host/proc when the agent runs in a container)"},
    {"cgroup_root", OPT_STRING, "/sys/fs/cgroup", 0, offsetof(struct cm_conf, cgroup_root), NULL,
     "cgroup filesystem of the host"},
    {"introspection_url", OPT_STRING, "http://127.0.0.1:51678", 0,
     offsetof(struct cm_conf, introspection_url), NULL,
     "ECS agent introspection API (cluster, container instance, task limits, service); "
     "empty = off"},
    {"introspection_refresh", OPT_DURATION, "60s", 0,
     offsetof(struct cm_conf, introspection_refresh_ms), NULL,
     "how long ECS task metadata is cached (new tasks refresh it sooner)"},
    {"cluster", OPT_STRING, NULL, 0, offsetof(struct cm_conf, cluster), NULL,
     "ClusterName; default from ECS introspection or labels, else the hostname"},
    {"levels", OPT_LIST, "cluster service family", 0, offsetof(struct cm_conf, levels), NULL,
     "dimension sets to publish: " CI_LEVEL_NAMES},
    {"metrics", OPT_BOOL, "true", 0, offsetof(struct cm_conf, metrics), NULL,
     "emit metric records (for cloudwatch_metrics, stdout, file)"},
    {"emf", OPT_BOOL, "false", 0, offsetof(struct cm_conf, emf), NULL,
     "also emit one EMF log record per task and per container (for cloudwatch_logs)"},
    {"emf_tag", OPT_STRING, "emf.container", 0, offsetof(struct cm_conf, emf_tag), NULL,
     "tag of the EMF log records"},
    {"emf_namespace", OPT_STRING, CI_DEFAULT_NAMESPACE, 0, offsetof(struct cm_conf, emf_namespace), NULL,
     "CloudWatch namespace declared in the EMF records"},
    {"storage_resolution", OPT_INT, "60", 0, offsetof(struct cm_conf, storage_resolution),
     "1..60", "EMF StorageResolution: 1 (high resolution) or 60"},
    {0},
};

struct cm_state {
    struct cm_conf *conf;
    struct cs_conf cs_conf;
    struct cs_state cs;
    struct sampler *sampler;
    struct frame_emitter fe;
    struct input_instance *in;
    char hostname[256];
    char instance_id[256];
    int host_loaded;
    const struct aws_settings *aws;
    struct log_limit err_limit;
    uint64_t errors_seen;      /* loop thread: copied from the last frame */
    uint64_t containers, samples;
};

static int level_bits(const struct strlist *l, unsigned *bits, const char **bad)
{
    static const char *const names[] = {"cluster", "service", "family", "task", "container"};
    *bits = 0;
    for (int i = 0; i < l->count; i++) {
        int found = 0;
        for (int k = 0; k < 5; k++) {
            if (strcmp(l->items[i], names[k]) == 0) {
                *bits |= 1u << k;
                found = 1;
            }
        }
        if (!found) {
            *bad = l->items[i];
            return -1;
        }
    }
    return 0;
}

static int cm_error(struct input_instance *in, struct diag *diag, const char *key,
                    const char *msg)
{
    const struct conf_entry *e = in->section ? conf_section_get(in->section, key) : NULL;
    diag_add(diag, e ? e->file : (in->section ? in->section->file : NULL),
             e ? e->line : (in->section ? in->section->line : 0), "input %s: %s", in->name, msg);
    return -1;
}

static int cm_init(struct input_instance *in, struct diag *diag)
{
    struct cm_conf *conf = in->conf;
    int bad = 0;
    unsigned levels = 0;
    const char *badlevel = NULL;
    char msg[256];
    if (conf->interval_ms < 1000)
        bad |= cm_error(in, diag, "interval", "interval must be 1s or more");
    if (level_bits(&conf->levels, &levels, &badlevel) != 0) {
        snprintf(msg, sizeof msg, "levels: unknown level '%s' (use %s)", badlevel,
                 CI_LEVEL_NAMES);
        bad |= cm_error(in, diag, "levels", msg);
    }
    if (conf->storage_resolution != 1 && conf->storage_resolution != 60)
        bad |= cm_error(in, diag, "storage_resolution", "storage_resolution must be 1 or 60");
    if (!conf->metrics && !conf->emf)
        bad |= cm_error(in, diag, "metrics", "metrics = false and emf = false: nothing to emit");
    if (bad)
        return -1;
    struct cm_state *st = xcalloc(1, sizeof *st);
    st->conf = conf;
    st->in = in;
    st->aws = in->agent ? in->agent->conf.aws : NULL;
    snprintf(st->hostname, sizeof st->hostname, "%s",
             in->agent && in->agent->conf.hostname ? in->agent->conf.hostname : "localhost");
    snprintf(st->instance_id, sizeof st->instance_id, "%s", st->hostname);
    struct cs_conf *c = &st->cs_conf;
    c->use_docker_api = strcmp(conf->source, "docker_api") == 0;
    c->docker_socket = conf->docker_socket;
    c->proc_root = conf->proc_root;
    c->cgroup_root = conf->cgroup_root;
    c->introspection_url = conf->introspection_url;
    c->introspection_refresh_ms = conf->introspection_refresh_ms;
    c->cluster = conf->cluster;
    c->hostname = st->hostname;
    c->instance_id = st->instance_id;
    c->levels = levels;
    c->metrics = conf->metrics;
    c->emf = conf->emf;
    c->emf_namespace = conf->emf_namespace;
    c->storage_resolution = (int)conf->storage_resolution;
    st->fe.metric_tag = frame_default_tag(in, "metrics.container");
    st->fe.emf_tag = tag_intern(conf->emf_tag);
    in->ctx = st;
    return 0;
}

/* Sampler thread. */
static void cm_fill(void *arg, struct mframe *f)
{
    struct cm_state *st = arg;
    if (!st->host_loaded) {
        struct cwl_host_info h;
        if (st->aws) {
            cwl_host_info_load(&h, st->hostname, st->aws, 1);
            snprintf(st->instance_id, sizeof st->instance_id, "%s", h.instance_id);
        }
        st->host_loaded = 1;
    }
    cs_sample(&st->cs, f);
    f->errors = st->cs.docker_errors + st->cs.cgroup_errors + st->cs.ecs_errors;
    snprintf(f->error, sizeof f->error, "%s", st->cs.last_error);
    f->containers = st->cs.containers;
    f->samples = st->cs.samples;
}

/* Loop thread. */
static void cm_emit(void *arg, const struct mframe *f)
{
    struct cm_state *st = arg;
    if (f->errors != st->errors_seen && f->error[0])
        log_every(&st->err_limit, 60000, LOG_WARN, MOD, "input %s: %s", st->in->name, f->error);
    st->errors_seen = f->errors;
    st->containers = f->containers;
    st->samples = f->samples;
    frame_emit(&st->fe, st->in, f);
}

static int cm_start(struct input_instance *in)
{
    struct cm_state *st = in->ctx;
    cs_init(&st->cs, &st->cs_conf);
    st->sampler = sampler_start(in->loop, st->conf->interval_ms, cm_fill, cm_emit, st);
    if (!st->sampler) {
        cs_free(&st->cs);
        return -1;
    }
    return 0;
}

static void cm_stop(struct input_instance *in)
{
    struct cm_state *st = in->ctx;
    if (st->sampler) {
        sampler_stop(st->sampler);
        st->sampler = NULL;
        cs_free(&st->cs);
    }
}

static void cm_destroy(struct input_instance *in)
{
    struct cm_state *st = in->ctx;
    if (!st)
        return;
    cm_stop(in);
    frame_emitter_free(&st->fe);
    free(st);
    in->ctx = NULL;
}

static void cm_describe(struct input_instance *in, struct buf *out)
{
    struct cm_state *st = in->ctx;
    buf_printf(out, "%s every %lld ms via %s, %llu containers, %llu metric and %llu EMF records",
               st->conf->source, (long long)st->conf->interval_ms, st->conf->docker_socket,
               (unsigned long long)st->containers, (unsigned long long)st->fe.metrics_emitted,
               (unsigned long long)st->fe.logs_emitted);
}

static void cm_status(struct input_instance *in, json_t *obj)
{
    struct cm_state *st = in->ctx;
    json_object_set_new(obj, "containers", json_integer((json_int_t)st->containers));
    json_object_set_new(obj, "samples", json_integer((json_int_t)st->samples));
    json_object_set_new(obj, "errors", json_integer((json_int_t)st->errors_seen));
    json_object_set_new(obj, "metrics_emitted", json_integer((json_int_t)st->fe.metrics_emitted));
    json_object_set_new(obj, "emf_emitted", json_integer((json_int_t)st->fe.logs_emitted));
    json_object_set_new(obj, "frames_skipped",
                        json_integer((json_int_t)(st->fe.frames_skipped +
                                                  (st->sampler ? sampler_skipped(st->sampler)
                                                               : 0))));
    if (st->sampler)
        json_object_set_new(obj, "sampler_cpu_ns",
                            json_integer((json_int_t)sampler_cpu_ns(st->sampler)));
    const char *cl = st->fe.meta ? meta_get(st->fe.meta, "cluster") : NULL;
    if (cl)
        json_object_set_new(obj, "cluster", json_string(cl));
}

const struct input_plugin container_metrics_input = {
    .name = "container_metrics",
    .default_tag = "metrics.container",
    .description = "container, task, service and cluster utilization (Container Insights "
                   "metrics and EMF)",
    .options = cm_options,
    .conf_size = sizeof(struct cm_conf),
    .init = cm_init,
    .start = cm_start,
    .stop = cm_stop,
    .destroy = cm_destroy,
    .describe = cm_describe,
    .status = cm_status,
};
