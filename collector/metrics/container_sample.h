/* One interval of the container_metrics input, on its sampler thread:
 * refresh the container list, read each container's cgroup counters and
 * network namespace (or its one-shot Docker stats), turn counters into
 * per-interval figures, aggregate (aggregate.h) and fill the frame with
 * metric events for the configured levels and, with EMF on, one EMF event
 * per task and per container. */
#ifndef COLLECTOR_METRICS_CONTAINER_SAMPLE_H
#define COLLECTOR_METRICS_CONTAINER_SAMPLE_H

#include "collector/docker/ecs_agent.h"
#include "collector/metrics/aggregate.h"
#include "collector/metrics/cgroup.h"
#include "collector/metrics/ctr_cache.h"
#include "collector/metrics/frame.h"
#include "collector/metrics/sample_source.h"

#include <stdint.h>

struct cs_conf {
    struct sample_conf common;       /* the settings both inputs share */
    int use_docker_api;              /* source = docker_api */
    const char *cgroup_root;
    unsigned levels;                 /* enum ci_level */
};

struct cs_state {
    struct sample_source source;     /* first: the wrapper's handle */
    const struct cs_conf *conf;
    struct cg_reader cg;
    struct cc cc;
    struct local_http *ecs_http;
    struct ecs_info ecs;
    int64_t ecs_next_ms;
    int ecs_ok;
    struct agg_container *agg;
    int nagg, agg_cap;
    struct agg_out out;
    uint64_t sys_ns;                 /* host system_cpu_usage of this sample */
    unsigned online_cpus;
    uint64_t host_mem;
    struct buf scratch;
    char cluster[256];
    char ci_id[128];
    /* counters (sampler thread writes, status reads: approximate) */
    uint64_t samples, containers, docker_errors, cgroup_errors, ecs_errors;
    char last_error[512];
};

/* A container sampler reading conf (kept by the caller). */
struct sample_source *cs_new(const struct cs_conf *conf);

/* The per-interval figures of one container from two samples (pure).
 * elapsed_ns: wall time between them; sys_delta_ns / online_cpus: the
 * host's, for docker's CPU %. */
struct cc_entry;
void cs_derive(const struct cc_entry *prev, const struct cg_stats *st,
               const struct net_counters *net, int64_t elapsed_ns, uint64_t sys_delta_ns,
               unsigned online_cpus, uint64_t host_mem, struct agg_container *out);

#endif
