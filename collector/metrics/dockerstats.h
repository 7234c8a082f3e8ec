/* The figures `docker stats` shows, computed exactly as docker/cli does
 * (cli/command/container/stats_helpers.go; spec/cloudwatch.md §9.4), from
 * our own cgroup readings instead of the Engine API. Pure functions. */
#ifndef COLLECTOR_METRICS_DOCKERSTATS_H
#define COLLECTOR_METRICS_DOCKERSTATS_H

#include <stddef.h>
#include <stdint.h>

struct cg_stats;
struct net_counters;

/* The Engine API's one-shot stats (GET /containers/<id>/stats, the
 * source = docker_api samplers) into the cgroup-shaped structs (network
 * summed over interfaces); system_ns / online_cpus from cpu_stats. 0 or -1. */
int ds_parse_api_stats(const char *json, size_t len, struct cg_stats *s, struct net_counters *net,
                       uint64_t *system_ns, unsigned *online_cpus);

/* The `cpu ` line of /proc/stat: system_cpu_usage in ns (sum of the first
 * seven fields x 1e9 / USER_HZ) and online_cpus (the cpuN lines), as the
 * daemon computes them. 0 or -1. */
int ds_system_cpu(const char *proc_stat, uint64_t *system_ns, unsigned *online_cpus);

/* CPU %: (dcontainer / dsystem) x online_cpus x 100 when both deltas > 0. */
double ds_cpu_percent(uint64_t prev_total_ns, uint64_t total_ns, uint64_t prev_system_ns,
                      uint64_t system_ns, unsigned online_cpus);

/* Memory "used" (usage minus inactive file, v1 total_inactive_file first). */
uint64_t ds_mem_used(const struct cg_stats *s);

/* The limit docker reports: the cgroup limit, clamped to the host's memory. */
uint64_t ds_mem_limit(const struct cg_stats *s, uint64_t host_mem_bytes);

/* used / limit x 100, 0 when the limit is 0. */
double ds_mem_percent(uint64_t used, uint64_t limit);

#endif
