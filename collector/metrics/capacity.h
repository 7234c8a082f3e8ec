/* Cluster capacity, per host (pure arithmetic): what this container
 * instance registers with ECS, what its running tasks reserve, what is
 * free, and how many more tasks of each configured size still fit, the
 * figure whose Sum over the cluster's hosts is the cluster's headroom.
 * See docs/metrics.md, "Capacity and cluster scaling". */
#ifndef COLLECTOR_METRICS_CAPACITY_H
#define COLLECTOR_METRICS_CAPACITY_H

#include <stddef.h>
#include <stdint.h>

#define CAPACITY_MAX_PORTS 8

/* One `schedulable_task_sizes` word: NAME:CPU_UNITS:MEMORY_MIB[:PORT...]
 * (each further field a static host port the task binds). */
struct capacity_size {
    char name[64];
    double cpu_units;
    double mem_mib;
    int ports[CAPACITY_MAX_PORTS];
    int nports;
};

/* 0, or -1 with why in err. */
int capacity_parse_size(const char *text, struct capacity_size *out, char *err, size_t errlen);

struct capacity_host {
    double cpu_registered;       /* CPUs x 1024 */
    double mem_registered_mib;   /* MemTotal less ECS_RESERVED_MEMORY */
    double cpu_reserved;         /* the running ECS tasks' reservations */
    double mem_reserved_mib;
    const int *ports_used;       /* host ports bound by running containers */
    int nports_used;
};

double capacity_free_cpu(const struct capacity_host *h);
double capacity_free_mem_mib(const struct capacity_host *h);

/* How many more tasks of size z fit: the floor of free / size, the least
 * over CPU and memory (a size of 0 in one does not limit it); 0 if one of
 * its ports is bound already, else at most 1 when it names ports. */
int64_t capacity_schedulable(const struct capacity_host *h, const struct capacity_size *z);

/* The rule of thumb's reservation threshold for z, in percent: scale out
 * when reservation passes (1 - task reservation / one instance's
 * registered capacity) x 100, the lower of CPU and memory's. */
double capacity_threshold_percent(const struct capacity_host *h, const struct capacity_size *z);

/* ECS_RESERVED_MEMORY (MiB) from ecs.config text (KEY=VALUE lines; the
 * last one wins); 0 when absent. -1 when its value is not a whole number. */
int capacity_reserved_memory(const char *ecs_config, size_t len, int64_t *mib);

#endif
