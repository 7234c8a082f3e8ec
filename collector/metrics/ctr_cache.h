/* The running containers, as the samplers know them: listed from the
 * Docker Engine API each interval, inspected once when first seen (pid,
 * labels, reservations), their cgroup directories resolved once from
 * /proc/<pid>/cgroup, and forgotten when they stop. Each entry also keeps
 * the previous sample's counters, for rates. Sampler thread only. */
#ifndef COLLECTOR_METRICS_CTR_CACHE_H
#define COLLECTOR_METRICS_CTR_CACHE_H

#include "collector/core/util.h"
#include "collector/docker/engine.h"
#include "collector/metrics/sample_source.h"
#include "collector/metrics/cgroup.h"
#include "collector/metrics/netdev.h"

#include <stdint.h>

struct local_http;

struct cc_entry {
    struct docker_container c;
    int version;                     /* cgroup version; 0 = not resolved */
    char *dirs[CG_CTRL_COUNT];       /* resolved cgroup directories (owned) */
    unsigned gen;
    /* the previous sample */
    int has_prev;
    int64_t prev_mono_ns;
    uint64_t prev_cpu_ns, prev_sys_ns;
    struct net_counters prev_net;
    uint64_t prev_read_bytes, prev_write_bytes;
};

struct cc {
    struct cc_entry *e;
    int n, cap;
    unsigned gen;
    const char *socket;              /* Docker API unix socket */
    const char *proc_root;
    struct cg_reader *cg;            /* resolve cgroups when set */
    struct local_http *http;
    struct buf body;
    char err[256];                   /* why the last refresh failed */
    uint64_t inspects;               /* containers inspected (new ones) */
};

void cc_init(struct cc *cc, const char *socket, const char *proc_root, struct cg_reader *cg);
void cc_free(struct cc *cc);

/* List and inspect; entries of stopped containers are removed. Number of
 * running containers, or -1 when the Docker API cannot be reached (the
 * entries are kept). */
int cc_refresh(struct cc *cc);

/* GET path on the Docker socket into cc->body; HTTP status or -1. */
int cc_docker_get(struct cc *cc, const char *path);

/* The ClusterName and container instance id the samplers publish: the
 * configured cluster, else ECS introspection's, else a container's ECS
 * label, else the hostname; the instance id from introspection, else
 * the EC2 instance id. */
struct ecs_info;
void cc_identity(const struct cc *cc, const struct sample_conf *conf, const struct ecs_info *ecs,
                 char *cluster, size_t cluster_cap, char *ci_id, size_t ci_cap);

#endif
