/* `host_metrics` input: the instance's CPU, memory, swap, load,
 * filesystems, disk I/O, network and running tasks/containers, as Container
 * Insights instance_* metrics (and EMF events), every `interval`. Sampling
 * runs on its own thread (collector/metrics/sampler.h); frames are emitted
 * here on the loop thread. See docs/metrics.md. */
#include "collector/plugin.h"
#include "collector/core/log.h"
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
    int capacity;
    int64_t ecs_agent_unhealthy_ms;
    char *ecs_agent_check;     /* ready | health | off */
    char *ecs_config;
    struct strlist task_sizes;
};

static const struct option_def hm_options[] = {
    OPT_INCLUDE_ROW(offsetof(struct hm_conf, base), sampler_input_options),
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
    {"filesystems", OPT_LIST, "ext2 ext3 ext4 xfs btrfs zfs f2fs vfat", 0,
     offsetof(struct hm_conf, fs_types), NULL, "filesystem types reported"},
    {"per_device", OPT_BOOL, "false", 0, offsetof(struct hm_conf, per_device), NULL,
     "also report each filesystem (MountPath), disk (Device) and interface (InterfaceName): "
     "5, 5 and 8 more series per host for each (custom metrics are billed per series)"},
    {"capacity", OPT_BOOL, "false", 0, offsetof(struct hm_conf, capacity), NULL,
     "publish cluster capacity: registered, reserved and free CPU and memory, SchedulableTasks "
     "and ReservationThreshold per task size, EcsAgentConnected (docs/metrics.md)"},
    {"schedulable_task_sizes", OPT_LIST, NULL, OPT_MULTI, offsetof(struct hm_conf, task_sizes),
     NULL, "task sizes NAME:CPU_UNITS:MEMORY_MIB[:PORT...] (static host ports) whose "
     "SchedulableTasks are published with capacity = true"},
    {"ecs_agent_check", OPT_ENUM, "ready", 0, offsetof(struct hm_conf, ecs_agent_check),
     "ready|health|off",
     "with capacity = true, where an ECS agent that has not answered /v1/metadata for "
     "ecs_agent_unhealthy_after is reported: ready = /ready fails (readiness); health = /health "
     "fails too (liveness: a probe on it restarts the collector); off = neither"},
    {"ecs_agent_unhealthy_after", OPT_DURATION, "5m", 0,
     offsetof(struct hm_conf, ecs_agent_unhealthy_ms), NULL,
     "how long the ECS agent may not answer before ecs_agent_check fails; 0 = never"},
    {"ecs_config", OPT_STRING, "/etc/ecs/ecs.config", 0, offsetof(struct hm_conf, ecs_config),
     NULL, "the ECS agent's configuration: ECS_RESERVED_MEMORY is not registered capacity"},
    {"emf", OPT_BOOL, "false", 0, offsetof(struct hm_conf, base.emf), NULL,
     "also emit EMF log records (Instance, InstanceFS, InstanceDiskIO, InstanceNet)"},
    {"emf_tag", OPT_STRING, "emf.host", 0, offsetof(struct hm_conf, base.emf_tag), NULL,
     "tag of the EMF log records"},
    {0},
};

struct hm_state {
    struct sampler_input si;   /* first: in->ctx is both */
    struct hm_conf *conf;
    struct hs_conf hs_conf;
    struct capacity_size sizes[16];
    /* loop thread, from the frames: the ECS agent */
    int ecs_agent;                  /* 1 answers, -1 does not, 0 not asked yet */
    int64_t ecs_agent_seen_ms;      /* last answer (or the start) */
    char ecs_agent_version[128];
};

static const struct sampler_input_ops hm_ops;

static int hm_init(struct input_instance *in, struct diag *diag)
{
    struct hm_conf *conf = in->conf;
    int bad = sampler_input_check(in, diag, &conf->base);
    struct capacity_size sizes[16];
    int nsizes = conf->task_sizes.count;
    char err[256];
    if (nsizes > 16) {
        bad |= sampler_input_error(in, diag, "schedulable_task_sizes", "at most 16 task sizes");
        nsizes = 16;
    }
    for (int i = 0; i < nsizes; i++) {
        if (capacity_parse_size(conf->task_sizes.items[i], &sizes[i], err, sizeof err) < 0) {
            char msg[400];
            snprintf(msg, sizeof msg, "schedulable_task_sizes: %s", err);
            bad |= sampler_input_error(in, diag, "schedulable_task_sizes", msg);
        }
    }
    if (bad)
        return -1;
    struct hm_state *st = sampler_input_new(in, sizeof *st, &hm_ops, &conf->base, "metrics.host",
                                            in->host ? in->host->aws : NULL, in->host ? in->host->hostname : NULL);
    st->conf = conf;
    struct hs_conf *c = &st->hs_conf;
    sampler_input_sampling(&st->si, &conf->base, &c->common);
    c->host_root = conf->host_root;
    c->fs_types = &conf->fs_types;
    c->per_device = conf->per_device;
    c->capacity = conf->capacity;
    c->ecs_config = conf->ecs_config;
    memcpy(st->sizes, sizes, sizeof sizes);
    c->sizes = st->sizes;
    c->nsizes = nsizes;
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

static void hm_emitted(struct input_instance *in, const struct mframe *f)
{
    struct hm_state *st = in->ctx;
    if (!f->ecs_agent)
        return;
    if (f->ecs_agent > 0) {
        st->ecs_agent_seen_ms = mono_ms();
        snprintf(st->ecs_agent_version, sizeof st->ecs_agent_version, "%s",
                 f->ecs_agent_version);
    }
    if (f->ecs_agent != st->ecs_agent)
        log_msg(f->ecs_agent > 0 ? LOG_INFO : LOG_WARN, MOD, "input %s: the ECS agent at %s %s",
                in->name, st->conf->base.introspection_url,
                f->ecs_agent > 0 ? "answers" : "does not answer /v1/metadata");
    st->ecs_agent = f->ecs_agent;
}

static void hm_status(struct input_instance *in, json_t *obj)
{
    struct hm_state *st = in->ctx;
    if (!st->conf->capacity)
        return;
    json_t *agent = json_object();
    json_object_set_new(agent, "connected",
                        st->ecs_agent ? json_boolean(st->ecs_agent > 0) : json_null());
    if (st->ecs_agent_version[0])
        json_object_set_new(agent, "version", json_string(st->ecs_agent_version));
    json_object_set_new(obj, "ecs_agent", agent);
}

/* The ECS agent stopped answering for ecs_agent_unhealthy_after: not ready,
 * or not live, as ecs_agent_check says. */
static int hm_health(struct input_instance *in, char *why, size_t len)
{
    struct hm_state *st = in->ctx;
    const struct hm_conf *conf = st->conf;
    if (!conf->capacity || conf->ecs_agent_unhealthy_ms <= 0 ||
        strcmp(conf->ecs_agent_check, "off") == 0)
        return INPUT_HEALTHY;
    int64_t quiet = mono_ms() - st->ecs_agent_seen_ms;
    if (st->ecs_agent >= 0 || quiet < conf->ecs_agent_unhealthy_ms)
        return INPUT_HEALTHY;
    snprintf(why, len, "the ECS agent at %s has not answered for %llds "
             "(ecs_agent_unhealthy_after %llds)", conf->base.introspection_url,
             (long long)(quiet / 1000), (long long)(conf->ecs_agent_unhealthy_ms / 1000));
    return strcmp(conf->ecs_agent_check, "health") == 0 ? INPUT_NOT_LIVE : INPUT_NOT_READY;
}

static int hm_start(struct input_instance *in)
{
    struct hm_state *st = in->ctx;
    st->ecs_agent_seen_ms = mono_ms();
    return sampler_input_start(in);
}

static const struct sampler_input_ops hm_ops = {
    .mod = MOD, .status = hm_status, .emitted = hm_emitted,
};

const struct input_plugin host_metrics_input = {
    .name = "host_metrics",
    .default_tag = "metrics.host",
    .description = "instance CPU, memory, filesystems, disk, network, running tasks "
                   "(Container Insights instance_* metrics and EMF)",
    .options = hm_options,
    .conf_size = sizeof(struct hm_conf),
    .init = hm_init,
    .start = hm_start,
    .stop = sampler_input_stop,
    .destroy = sampler_input_destroy,
    .describe = hm_describe,
    .status = sampler_input_status,
    .health = hm_health,
};
