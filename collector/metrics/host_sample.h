/* One interval of the host_metrics input, on its sampler thread: CPU
 * (user, system, iowait, steal), memory and swap, load, each filesystem
 * (used %, inodes), disk I/O and network per device, and the running ECS
 * tasks and containers with their reservations (Docker API), as
 * Container Insights instance_* metrics with {ClusterName} and
 * {ClusterName, InstanceId, ContainerInstanceId}, plus EMF events of types
 * Instance, InstanceFS, InstanceDiskIO and InstanceNet. */
#ifndef COLLECTOR_METRICS_HOST_SAMPLE_H
#define COLLECTOR_METRICS_HOST_SAMPLE_H

#include "collector/docker/ecs_agent.h"
#include "collector/metrics/capacity.h"
#include "collector/metrics/cgroup.h"
#include "collector/metrics/ctr_cache.h"
#include "collector/metrics/emf.h"
#include "collector/metrics/frame.h"
#include "collector/metrics/sample_source.h"
#include "collector/metrics/host.h"
#include "collector/metrics/netdev.h"

struct hs_conf {
    struct sample_conf common;       /* the settings both inputs share */
    const char *host_root;            /* prefix for statvfs of mount points ("" = /) */
    const struct strlist *fs_types;   /* filesystem types to report */
    int per_device;
    /* Cluster capacity (host_capacity.c) */
    int capacity;
    const char *ecs_config;           /* ECS_RESERVED_MEMORY from here */
    const struct capacity_size *sizes;
    int nsizes;
};

struct hs_dev_prev {
    char name[64];
    uint64_t a, b, c, d, e, f, g, h;  /* previous counters */
    unsigned gen;
};

struct hs_state {
    struct sample_source source;      /* first: the wrapper's handle */
    const struct hs_conf *conf;
    struct cg_reader rd;
    struct cc cc;
    int docker;
    struct local_http *ecs_http;
    struct ecs_info ecs;
    int64_t ecs_next_ms;
    int has_prev;
    int64_t prev_mono_ns;
    struct host_cpu prev_cpu;
    struct hs_dev_prev *devs;
    int ndevs, devs_cap;
    unsigned gen;
    char cluster[256], ci_id[128];
    /* per-event collection */
    struct emf_num nums[64];
    int nnums;
    struct buf scratch;
    uint64_t samples, errors;
    char last_error[512];
    int agent_connected;              /* the last /v1/metadata probe named a cluster */
};

/* Capacity figures of one sample (host_capacity.c): registered CPU and
 * memory and EcsAgentConnected, and when the Docker API answered (tasks
 * known) reserved and free CPU and memory, SchedulableTasks and
 * ReservationThreshold per task size. ncpu and mem_total from /proc. */
void host_capacity(struct hs_state *s, struct mframe *f, unsigned ncpu, uint64_t mem_total,
                   int tasks_known);

/* A host sampler reading conf (kept by the caller). */
struct sample_source *hs_new(const struct hs_conf *conf);

#endif
