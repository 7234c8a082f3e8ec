/* The Docker Engine API client, as the samplers, container discovery and
 * the bundle need it:
 *   GET /containers/json[?all=1]      containers (ids)
 *   GET /containers/<id>/json         pid, name, image, labels, HostConfig
 *   GET /containers/<id>/stats?stream=false&one-shot=true   (the samplers'
 *                                     source = docker_api; parsed into the
 *                                     cgroup shapes by metrics/dockerstats)
 *   GET /events                       held open: collector/docker/events.h
 * The parsers are pure (JSON text in, structs out); docker_api_get() does
 * a request on the unix socket through the local HTTP core. ECS labels
 * (spec §8.3) are read here too. */
#ifndef COLLECTOR_DOCKER_ENGINE_H
#define COLLECTOR_DOCKER_ENGINE_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

struct local_http;

#define DOCKER_API_TIMEOUT_MS 5000

#define DOCKER_STR 256
#define DOCKER_MAX_PORTS 16

struct docker_container {
    char id[72];
    char name[DOCKER_STR];       /* without the leading '/' */
    char image[DOCKER_STR];
    int pid;
    int running;
    /* ECS labels ("" when absent) */
    char cluster[DOCKER_STR];
    char task_arn[DOCKER_STR];
    char ecs_name[DOCKER_STR];
    char family[DOCKER_STR];
    char revision[32];
    /* HostConfig reservations */
    int64_t cpu_shares;          /* 0 = unset (Docker default 1024) */
    int64_t nano_cpus;
    int64_t cpu_quota;           /* microseconds per period; 0 = unset */
    int64_t cpu_period;
    int64_t memory;              /* bytes; 0 = unlimited */
    int64_t memory_reservation;
    /* Host ports bound (NetworkSettings.Ports), the first DOCKER_MAX_PORTS */
    int host_ports[DOCKER_MAX_PORTS];
    int nhost_ports;
};

/* Ids of /containers/json: fn(id, arg) for each. Number of ids, or -1. */
int docker_parse_list(const char *json, size_t len, void (*fn)(const char *id, void *arg), void *arg);

/* /containers/<id>/json into c. 0 or -1. */
int docker_parse_inspect(const char *json, size_t len, struct docker_container *c);

/* The task id: the last '/'-separated part of a task ARN. */
const char *docker_task_id(const char *task_arn);

/* Skip the ECS pause container (~internal~ecs~pause). */
int docker_is_ecs_internal(const struct docker_container *c);

/* GET path (e.g. "/containers/json") on the Engine API's unix socket
 * into body, within DOCKER_API_TIMEOUT_MS. HTTP status, or -1 (err). */
int docker_api_get(struct local_http *h, const char *unix_socket, const char *path,
                   struct buf *body, char *err, size_t errlen);

#endif
