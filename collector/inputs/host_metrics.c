/* `host_metrics` input: the instance's CPU, memory, swap, load,
 * filesystems, disk I/O, network and running tasks/containers, as Container
 * Insights instance_* metrics (and EMF events), every `interval`. Sampling
 * runs on its own thread (collector/metrics/sampler.h); frames are emitted
 * here on the loop thread. See docs/metrics.md. */
#include "collector/agent.h"
#include "collector/cloudwatch/host_info.h"
#include "collector/core/config.h"
#include "collector/core/log.h"
#include "collector/metrics/ci_names.h"
#include "collector/metrics/frame_emit.h"
#include "collector/metrics/host_sample.h"
#include "collector/metrics/sampler.h"
#include "collector/pipeline/pipeline.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MOD "host_metrics"

struct hm_conf {
    int64_t interval_ms;
    char *proc_root;
    char *host_root;
    char *docker_socket;
    char *introspection_url;
    int64_t introspection_refresh_ms;
    char *cluster;
    struct strlist fs_types;
    int per_device;
    int metrics;
    int emf;
    char *emf_tag;
    char *emf_namespace;
    int64_t storage_resolution;
};

static const struct option_def hm_options[] = {
    {"interval", OPT_DURATION, "60s", 0, offsetof(struct hm_conf, interval_ms), NULL,
     "sampling interval (1s or more)"},
    {"proc_root", OPT_STRING, "/proc", 0, offsetof(struct hm_conf, proc_root), NULL,
     "procfs of the host (/host/proc when the agent runs in a container)"},
    {"host_root", OPT_STRING, "", 0, offsetof(struct hm_conf, host_root), NULL,
     "prefix of the host's mount points for statvfs (/host when the agent runs in a container)"},
    {"docker_socket", OPT_STRING, "/var/run/docker.sock", 0,
     offsetof(struct hm_conf, docker_socket), NULL,
     "Docker Engine API socket, for running task/container counts and reservations; empty = "
     "off"},
    {"introspection_url", OPT_STRING, "http://127.0.0.1:51678", 0,
     offsetof(struct hm_conf, introspection_url), NULL,
     "ECS agent introspection API (cluster, container instance id); empty = off"},
    {"introspection_refresh", OPT_DURATION, "300s", 0,
     offsetof(struct hm_conf, introspection_refresh_ms), NULL, "how long ECS metadata is cached"},
    {"cluster", OPT_STRING, NULL, 0, offsetof(struct hm_conf, cluster), NULL,
     "ClusterName; default from ECS introspection or container labels, else the hostname"},
    {"filesystems", OPT_LIST, "ext2 ext3 ext4 xfs btrfs zfs f2fs vfat", 0,
     offsetof(struct hm_conf, fs_types), NULL, "filesystem types reported"},
    {"per_device", OPT_BOOL, "false", 0, offsetof(struct hm_conf, per_device), NULL,
     "also report each filesystem (MountPath), disk (Device) and interface (InterfaceName): "
     "5, 5 and 8 more series per host for each (custom metrics are billed per series)"},
    {"metrics", OPT_BOOL, "true", 0, offsetof(struct hm_conf, metrics), NULL,
     "emit metric records (for cloudwatch_metrics, stdout, file)"},
    {"emf", OPT_BOOL, "false", 0, offsetof(struct hm_conf, emf), NULL,
     "also emit EMF log records (Instance, InstanceFS, InstanceDiskIO, InstanceNet)"},
    {"emf_tag", OPT_STRING, "emf.host", 0, offsetof(struct hm_conf, emf_tag), NULL,
     "tag of the EMF log records"},
    {"emf_namespace", OPT_STRING, CI_DEFAULT_NAMESPACE, 0, offsetof(struct hm_conf, emf_namespace), NULL,
     "CloudWatch namespace declared in the EMF records"},
    {"storage_resolution", OPT_INT, "60", 0, offsetof(struct hm_conf, storage_resolution),
     "1..60", "EMF StorageResolution: 1 (high resolution) or 60"},
    {0},
};

struct hm_state {
    struct hm_conf *conf;
    struct hs_conf hs_conf;
    struct hs_state hs;
    struct sampler *sampler;
    struct frame_emitter fe;
    struct input_instance *in;
    char hostname[256];
    char instance_id[256];
    int host_loaded;
    const struct aws_settings *aws;
    struct log_limit err_limit;
    uint64_t errors_seen;
};

static int hm_error(struct input_instance *in, struct diag *diag, const char *key,
                    const char *msg)
{
    const struct conf_entry *e = in->section ? conf_section_get(in->section, key) : NULL;
    diag_add(diag, e ? e->file : (in->section ? in->section->file : NULL),
             e ? e->line : (in->section ? in->section->line : 0), "input %s: %s", in->name, msg);
    return -1;
}

static int hm_init(struct input_instance *in, struct diag *diag)
{
    struct hm_conf *conf = in->conf;
    int bad = 0;
    if (conf->interval_ms < 1000)
        bad |= hm_error(in, diag, "interval", "interval must be 1s or more");
    if (conf->storage_resolution != 1 && conf->storage_resolution != 60)
        bad |= hm_error(in, diag, "storage_resolution", "storage_resolution must be 1 or 60");
    if (!conf->metrics && !conf->emf)
        bad |= hm_error(in, diag, "metrics", "metrics = false and emf = false: nothing to emit");
    if (bad)
        return -1;
    struct hm_state *st = xcalloc(1, sizeof *st);
    st->conf = conf;
    st->in = in;
    st->aws = in->agent ? in->agent->conf.aws : NULL;
    snprintf(st->hostname, sizeof st->hostname, "%s",
             in->agent && in->agent->conf.hostname ? in->agent->conf.hostname : "localhost");
    snprintf(st->instance_id, sizeof st->instance_id, "%s", st->hostname);
    struct hs_conf *c = &st->hs_conf;
    c->proc_root = conf->proc_root;
    c->host_root = conf->host_root;
    c->docker_socket = conf->docker_socket;
    c->introspection_url = conf->introspection_url;
    c->introspection_refresh_ms = conf->introspection_refresh_ms;
    c->cluster = conf->cluster;
    c->hostname = st->hostname;
    c->instance_id = st->instance_id;
    c->fs_types = &conf->fs_types;
    c->per_device = conf->per_device;
    c->metrics = conf->metrics;
    c->emf = conf->emf;
    c->emf_namespace = conf->emf_namespace;
    c->storage_resolution = (int)conf->storage_resolution;
    st->fe.metric_tag = frame_default_tag(in, "metrics.host");
    st->fe.emf_tag = tag_intern(conf->emf_tag);
    in->ctx = st;
    return 0;
}

static void hm_fill(void *arg, struct mframe *f)
{
    struct hm_state *st = arg;
    if (!st->host_loaded) {
        struct cwl_host_info h;
        if (st->aws) {
            cwl_host_info_load(&h, st->hostname, st->aws, 1);
            snprintf(st->instance_id, sizeof st->instance_id, "%s", h.instance_id);
        }
        st->host_loaded = 1;
    }
    hs_sample(&st->hs, f);
    f->errors = st->hs.errors;
    snprintf(f->error, sizeof f->error, "%s", st->hs.last_error);
    f->samples = st->hs.samples;
}

static void hm_emit(void *arg, const struct mframe *f)
{
    struct hm_state *st = arg;
    if (f->errors != st->errors_seen && f->error[0])
        log_every(&st->err_limit, 60000, LOG_WARN, MOD, "input %s: %s", st->in->name, f->error);
    st->errors_seen = f->errors;
    frame_emit(&st->fe, st->in, f);
}

static int hm_start(struct input_instance *in)
{
    struct hm_state *st = in->ctx;
    hs_init(&st->hs, &st->hs_conf);
    st->sampler = sampler_start(in->loop, st->conf->interval_ms, hm_fill, hm_emit, st);
    if (!st->sampler) {
        hs_free(&st->hs);
        return -1;
    }
    return 0;
}

static void hm_stop(struct input_instance *in)
{
    struct hm_state *st = in->ctx;
    if (st->sampler) {
        sampler_stop(st->sampler);
        st->sampler = NULL;
        hs_free(&st->hs);
    }
}

static void hm_destroy(struct input_instance *in)
{
    struct hm_state *st = in->ctx;
    if (!st)
        return;
    hm_stop(in);
    frame_emitter_free(&st->fe);
    free(st);
    in->ctx = NULL;
}

static void hm_describe(struct input_instance *in, struct buf *out)
{
    struct hm_state *st = in->ctx;
    buf_printf(out, "every %lld ms from %s, %llu metric and %llu EMF records",
               (long long)st->conf->interval_ms, st->conf->proc_root,
               (unsigned long long)st->fe.metrics_emitted,
               (unsigned long long)st->fe.logs_emitted);
}

static void hm_status(struct input_instance *in, json_t *obj)
{
    struct hm_state *st = in->ctx;
    json_object_set_new(obj, "metrics_emitted", json_integer((json_int_t)st->fe.metrics_emitted));
    json_object_set_new(obj, "emf_emitted", json_integer((json_int_t)st->fe.logs_emitted));
    json_object_set_new(obj, "errors", json_integer((json_int_t)st->errors_seen));
    if (st->sampler)
        json_object_set_new(obj, "sampler_cpu_ns",
                            json_integer((json_int_t)sampler_cpu_ns(st->sampler)));
}

const struct input_plugin host_metrics_input = {
    .name = "host_metrics",
    .default_tag = "metrics.host",
    .description = "instance CPU, memory, filesystems, disk, network, running tasks "
                   "(Container Insights instance_* metrics and EMF)",
    .options = hm_options,
    .conf_size = sizeof(struct hm_conf),
    .init = hm_init,
    .start = hm_start,
    .stop = hm_stop,
    .destroy = hm_destroy,
    .describe = hm_describe,
    .status = hm_status,
};
