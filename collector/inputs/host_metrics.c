/* `host_metrics` input: the instance's CPU, memory, swap, load,
 * filesystems, disk I/O, network and running tasks/containers, as Container
 * Insights instance_* metrics (and EMF events), every `interval`. Sampling
 * runs on its own thread (collector/metrics/sampler.h); frames are emitted
 * here on the loop thread. See docs/metrics.md. */
#include "collector/agent.h"
#include "collector/metrics/ci_names.h"
#include "collector/metrics/host_sample.h"
#include "collector/metrics/sampler_input.h"

#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MOD "host_metrics"

struct hm_conf {
    struct sample_conf base;   /* the rows both sampler inputs have */
    char *host_root;
    struct strlist fs_types;
    int per_device;
};

static const struct option_def hm_options[] = {
    {"interval", OPT_DURATION, "60s", 0, offsetof(struct hm_conf, base.interval_ms), NULL,
     "sampling interval (1s or more)"},
    {"proc_root", OPT_STRING, "/proc", 0, offsetof(struct hm_conf, base.proc_root), NULL,
     "procfs of the host (/host/proc when the agent runs in a container)"},
    {"host_root", OPT_STRING, "", 0, offsetof(struct hm_conf, host_root), NULL,
     "prefix of the host's mount points for statvfs (/host when the agent runs in a container)"},
    {"docker_socket", OPT_STRING, "/var/run/docker.sock", 0,
     offsetof(struct hm_conf, base.docker_socket), NULL,
     "Docker Engine API socket, for running task/container counts and reservations; empty = "
     "off"},
    {"introspection_url", OPT_STRING, "http://127.0.0.1:51678", 0,
     offsetof(struct hm_conf, base.introspection_url), NULL,
     "ECS agent introspection API (cluster, container instance id); empty = off"},
    {"introspection_refresh", OPT_DURATION, "300s", 0,
     offsetof(struct hm_conf, base.introspection_refresh_ms), NULL, "how long ECS metadata is cached"},
    {"cluster", OPT_STRING, NULL, 0, offsetof(struct hm_conf, base.cluster), NULL,
     "ClusterName; default from ECS introspection or container labels, else the hostname"},
    {"filesystems", OPT_LIST, "ext2 ext3 ext4 xfs btrfs zfs f2fs vfat", 0,
     offsetof(struct hm_conf, fs_types), NULL, "filesystem types reported"},
    {"per_device", OPT_BOOL, "true", 0, offsetof(struct hm_conf, per_device), NULL,
     "also report each filesystem (MountPath), disk (Device) and interface (InterfaceName)"},
    {"metrics", OPT_BOOL, "true", 0, offsetof(struct hm_conf, base.metrics), NULL,
     "emit metric records (for cloudwatch_metrics, stdout, file)"},
    {"emf", OPT_BOOL, "false", 0, offsetof(struct hm_conf, base.emf), NULL,
     "also emit EMF log records (Instance, InstanceFS, InstanceDiskIO, InstanceNet)"},
    {"emf_tag", OPT_STRING, "emf.host", 0, offsetof(struct hm_conf, base.emf_tag), NULL,
     "tag of the EMF log records"},
    {"emf_namespace", OPT_STRING, CI_NAMESPACE, 0, offsetof(struct hm_conf, base.emf_namespace), NULL,
     "CloudWatch namespace declared in the EMF records"},
    {"storage_resolution", OPT_INT, "60", 0, offsetof(struct hm_conf, base.storage_resolution),
     "1..60", "EMF StorageResolution: 1 (high resolution) or 60"},
    {0},
};

struct hm_state {
    struct sampler_input si;   /* first: in->ctx is both */
    struct hm_conf *conf;
    struct hs_conf hs_conf;
};

static const struct sampler_input_ops hm_ops;

static int hm_init(struct input_instance *in, struct diag *diag)
{
    struct hm_conf *conf = in->conf;
    if (sampler_input_check(in, diag, &conf->base))
        return -1;
    const struct agent_conf *ac = in->agent ? &in->agent->conf : NULL;
    struct hm_state *st = sampler_input_new(in, sizeof *st, &hm_ops, &conf->base, "metrics.host",
                                            ac ? ac->aws : NULL, ac ? ac->hostname : NULL);
    st->conf = conf;
    struct hs_conf *c = &st->hs_conf;
    sampler_input_sampling(&st->si, &conf->base, &c->common);
    c->host_root = conf->host_root;
    c->fs_types = &conf->fs_types;
    c->per_device = conf->per_device;
    st->si.source = hs_new(c);
    return 0;
}

static void hm_describe(struct input_instance *in, struct buf *out)
{
    struct hm_state *st = in->ctx;
    buf_printf(out, "every %lld ms from %s, %llu metric and %llu EMF records",
               (long long)st->conf->base.interval_ms, st->conf->base.proc_root,
               (unsigned long long)st->si.fe.metrics_emitted,
               (unsigned long long)st->si.fe.logs_emitted);
}

static const struct sampler_input_ops hm_ops = {.mod = MOD};

const struct input_plugin host_metrics_input = {
    .name = "host_metrics",
    .description = "instance CPU, memory, filesystems, disk, network, running tasks "
                   "(Container Insights instance_* metrics and EMF)",
    .options = hm_options,
    .conf_size = sizeof(struct hm_conf),
    .init = hm_init,
    .start = sampler_input_start,
    .stop = sampler_input_stop,
    .destroy = sampler_input_destroy,
    .describe = hm_describe,
    .status = sampler_input_status,
};
