/* `container_metrics` input: CPU, memory, network and storage of every
 * running container, per container, task, service, task family and cluster
 * (Container Insights names and dimension sets), every `interval`.
 *
 * The sampling (Docker API, cgroups, procfs, ECS introspection: all
 * blocking) runs on a thread of its own (collector/metrics/sampler.h); the
 * frame it builds is emitted here on the loop thread. See docs/metrics.md. */
#include "collector/plugin.h"
#include "collector/metrics/ci_names.h"
#include "collector/metrics/container_sample.h"
#include "collector/metrics/sampler.h"
#include "collector/metrics/sampler_input.h"
#include "collector/pipeline/record.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MOD "container_metrics"

struct cm_conf {
    struct sample_conf base;   /* the rows both sampler inputs have */
    char *source;
    char *cgroup_root;
    struct strlist levels;
};

static const struct option_def cm_options[] = {
    OPT_INCLUDE_ROW(offsetof(struct cm_conf, base), sampler_input_options),
    {"source", OPT_ENUM, "cgroup", 0, offsetof(struct cm_conf, source), "cgroup|docker_api",
     "read counters from the cgroup filesystem, or from the Docker stats API (one-shot)"},
    {"docker_socket", OPT_STRING, "/var/run/docker.sock", 0,
     offsetof(struct cm_conf, base.docker_socket), NULL, "Docker Engine API unix socket"},
    {"cgroup_root", OPT_STRING, "/sys/fs/cgroup", 0, offsetof(struct cm_conf, cgroup_root), NULL,
     "cgroup filesystem of the host"},
    {"introspection_url", OPT_STRING, "http://127.0.0.1:51678", 0,
     offsetof(struct cm_conf, base.introspection_url), NULL,
     "ECS agent introspection API (cluster, container instance, task limits, service); "
     "empty = off"},
    {"introspection_refresh", OPT_DURATION, "60s", 0,
     offsetof(struct cm_conf, base.introspection_refresh_ms), NULL,
     "how long ECS task metadata is cached (new tasks refresh it sooner)"},
    {"levels", OPT_LIST, "cluster service family", 0, offsetof(struct cm_conf, levels), NULL,
     "dimension sets to publish: " CI_LEVEL_NAMES},
    {"emf", OPT_BOOL, "false", 0, offsetof(struct cm_conf, base.emf), NULL,
     "also emit one EMF log record per task and per container (for cloudwatch_logs)"},
    {"emf_tag", OPT_STRING, "emf.container", 0, offsetof(struct cm_conf, base.emf_tag), NULL,
     "tag of the EMF log records"},
    {0},
};

struct cm_state {
    struct sampler_input si;   /* first: in->ctx is both */
    struct cm_conf *conf;
    struct cs_conf cs_conf;
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

static const struct sampler_input_ops cm_ops;

static int cm_init(struct input_instance *in, struct diag *diag)
{
    struct cm_conf *conf = in->conf;
    unsigned levels = 0;
    const char *badlevel = NULL;
    char msg[256];
    int bad = sampler_input_check(in, diag, &conf->base);
    if (level_bits(&conf->levels, &levels, &badlevel) != 0) {
        snprintf(msg, sizeof msg, "levels: unknown level '%s' (use %s)", badlevel,
                 CI_LEVEL_NAMES);
        bad |= sampler_input_error(in, diag, "levels", msg);
    }
    if (bad)
        return -1;
    struct cm_state *st = sampler_input_new(in, sizeof *st, &cm_ops, &conf->base,
                                            "metrics.container", in->host ? in->host->aws : NULL,
                                            in->host ? in->host->hostname : NULL);
    st->conf = conf;
    struct cs_conf *c = &st->cs_conf;
    sampler_input_sampling(&st->si, &conf->base, &c->common);
    c->use_docker_api = strcmp(conf->source, "docker_api") == 0;
    c->cgroup_root = conf->cgroup_root;
    c->levels = levels;
    st->si.source = cs_new(c);
    return 0;
}

static void cm_describe(struct input_instance *in, struct buf *out)
{
    struct cm_state *st = in->ctx;
    buf_printf(out, "%s every %lld ms via %s, %llu containers, %llu metric and %llu EMF records",
               st->conf->source, (long long)st->conf->base.interval_ms,
               st->conf->base.docker_socket,
               (unsigned long long)st->si.containers,
               (unsigned long long)st->si.fe.metrics_emitted,
               (unsigned long long)st->si.fe.logs_emitted);
}

static void cm_status(struct input_instance *in, json_t *obj)
{
    struct cm_state *st = in->ctx;
    json_object_set_new(obj, "containers", json_integer((json_int_t)st->si.containers));
    json_object_set_new(obj, "samples", json_integer((json_int_t)st->si.samples));
    json_object_set_new(obj, "frames_skipped",
                        json_integer((json_int_t)(st->si.fe.frames_skipped +
                                                  (st->si.sampler
                                                       ? sampler_skipped(st->si.sampler)
                                                       : 0))));
    const char *cl = st->si.fe.meta ? meta_get(st->si.fe.meta, "cluster") : NULL;
    if (cl)
        json_object_set_new(obj, "cluster", json_string(cl));
}

static const struct sampler_input_ops cm_ops = {.mod = MOD, .status = cm_status};

const struct input_plugin container_metrics_input = {
    .name = "container_metrics",
    .default_tag = "metrics.container",
    .description = "container, task, service and cluster utilization (Container Insights "
                   "metrics and EMF)",
    .options = cm_options,
    .conf_size = sizeof(struct cm_conf),
    .init = cm_init,
    .start = sampler_input_start,
    .stop = sampler_input_stop,
    .destroy = sampler_input_destroy,
    .describe = cm_describe,
    .status = sampler_input_status,
};
