/* Container -> task -> service / task family -> cluster (this host's part).
 *
 * The sampler fills one struct agg_container per running container with the
 * figures of the interval (rates already computed); agg_build() sums them
 * into tasks, then tasks into services, task families and the cluster, the
 * levels and dimension sets of Container Insights. Reservations: a task's
 * CPU and memory limits from ECS task metadata when known, else the sum of
 * its containers' reservations. Pure; the output arrays are reused from one
 * interval to the next (no allocation in the steady state). */
#ifndef COLLECTOR_METRICS_AGGREGATE_H
#define COLLECTOR_METRICS_AGGREGATE_H

#include <stdint.h>

#define AGG_STR 256

/* The Container Insights figures of one container, task, service... */
struct util_fig {
    double cpu_utilized;        /* CPU units (1024 = one vCPU), average over the interval */
    double cpu_reserved;        /* CPU units */
    double mem_utilized;        /* MiB (working set) */
    double mem_reserved;        /* MiB */
    double net_rx_bps, net_tx_bps;            /* bytes/second */
    double net_rx_pps, net_tx_pps;            /* packets/second */
    double net_rx_errors, net_tx_errors;      /* per second */
    double net_rx_dropped, net_tx_dropped;    /* per second */
    double storage_read, storage_write;       /* bytes during the interval */
    int tasks;                  /* running tasks summed here */
    int containers;             /* running containers summed here */
};

struct agg_container {
    char id[72];
    char name[AGG_STR];          /* Docker name without '/' */
    char image[AGG_STR];
    char ecs_name[AGG_STR];      /* com.amazonaws.ecs.container-name ("" if not ECS) */
    char task_arn[AGG_STR];      /* "" if not in an ECS task */
    char task_id[128];
    char family[AGG_STR];
    char revision[32];
    char service[AGG_STR];       /* "" if unknown */
    double task_cpu_units;       /* task-level limit from ECS metadata; 0 = unknown */
    double task_mem_mib;         /* task-level limit from ECS metadata; 0 = unknown */
    struct util_fig fig;
    /* raw and docker-stats figures (container events) */
    double cpu_percent, mem_percent;
    uint64_t mem_usage, mem_working_set, mem_limit, mem_cache, mem_rss;
    uint64_t oom_events, throttled_periods, throttled_ns, pids;
    uint64_t blk_read_ops, blk_write_ops;
    uint64_t cpu_usage_ns;
    uint64_t cpu_shares;
    int64_t cpu_quota_us;
    uint64_t cpu_period_us;
    uint64_t mem_reservation;
};

struct agg_task {
    const struct agg_container *first;   /* names, family... come from here */
    struct util_fig fig;
};

struct agg_group {
    const char *name;            /* the service or family name (points into a container) */
    struct util_fig fig;
};

struct agg_out {
    struct agg_task *tasks;
    int ntasks, tasks_cap;
    struct agg_group *services;
    int nservices, services_cap;
    struct agg_group *families;
    int nfamilies, families_cap;
    struct util_fig cluster;     /* every container on this host, ECS or not */
};

void agg_out_init(struct agg_out *o);
void agg_out_free(struct agg_out *o);

/* Aggregate n containers (their order is kept for tasks). */
void agg_build(const struct agg_container *c, int n, struct agg_out *o);

/* a += b (sums; tasks and containers too). */
void util_fig_add(struct util_fig *a, const struct util_fig *b);

#endif
