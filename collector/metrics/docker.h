/* Docker Engine API, as the container sampler needs it:
 *   GET /containers/json              running containers (ids)
 *   GET /containers/<id>/json         pid, name, image, labels, HostConfig
 *   GET /containers/<id>/stats?stream=false&one-shot=true   (source = docker_api)
 * The parsers are pure (JSON text in, structs out); the sampler does the
 * requests with http_get.h. ECS labels (spec §8.3) are read here too. */
#ifndef COLLECTOR_METRICS_DOCKER_H
#define COLLECTOR_METRICS_DOCKER_H

#include <stddef.h>
#include <stdint.h>

struct cg_stats;
struct net_counters;

#define DK_STR 256

struct dk_container {
    char id[72];
    char name[DK_STR];           /* without the leading '/' */
    char image[DK_STR];
    int pid;
    int running;
    /* ECS labels ("" when absent) */
    char cluster[DK_STR];
    char task_arn[DK_STR];
    char ecs_name[DK_STR];
    char family[DK_STR];
    char revision[32];
    /* HostConfig reservations */
    int64_t cpu_shares;          /* 0 = unset (Docker default 1024) */
    int64_t nano_cpus;
    int64_t cpu_quota;           /* microseconds per period; 0 = unset */
    int64_t cpu_period;
    int64_t memory;              /* bytes; 0 = unlimited */
    int64_t memory_reservation;
};

/* Ids of /containers/json: fn(id, arg) for each. Number of ids, or -1. */
int dk_parse_list(const char *json, size_t len, void (*fn)(const char *id, void *arg), void *arg);

/* /containers/<id>/json into c. 0 or -1. */
int dk_parse_inspect(const char *json, size_t len, struct dk_container *c);

/* One-shot stats into the cgroup-shaped structs (network summed over
 * interfaces); system_ns / online_cpus from cpu_stats. 0 or -1. */
int dk_parse_stats(const char *json, size_t len, struct cg_stats *s, struct net_counters *net,
                   uint64_t *system_ns, unsigned *online_cpus);

/* The task id: the last '/'-separated part of a task ARN. */
const char *dk_task_id(const char *task_arn);

/* Skip the ECS pause container (~internal~ecs~pause). */
int dk_is_ecs_internal(const struct dk_container *c);

#endif
