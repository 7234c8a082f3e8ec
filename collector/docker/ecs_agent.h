/* ECS agent introspection (spec §8.1): GET /v1/metadata (cluster, container
 * instance) and GET /v1/tasks (per task: family, revision, and where the
 * agent provides them the task's ServiceName or `group` "service:NAME" and
 * its task-level Limits {CPU (vCPU), Memory (MiB)}). Pure parsers, and
 * ecs_fetch() through the local HTTP core; the samplers and container
 * discovery fetch on their own threads and cache the result. */
#ifndef COLLECTOR_DOCKER_ECS_AGENT_H
#define COLLECTOR_DOCKER_ECS_AGENT_H

#include <stddef.h>

#define ECS_STR 256

struct ecs_task_info {
    char arn[ECS_STR];
    char family[ECS_STR];
    char revision[32];
    char service[ECS_STR];
    double cpu_units;            /* Limits.CPU x 1024; 0 = unknown */
    double mem_mib;              /* Limits.Memory; 0 = unknown */
};

struct ecs_info {
    char cluster[ECS_STR];
    char container_instance_id[128];
    char agent_version[128];     /* /v1/metadata "Version" */
    struct ecs_task_info *tasks;
    int ntasks, cap;
};

void ecs_info_free(struct ecs_info *e);

/* /v1/metadata: Cluster (name, or the name part of an ARN),
 * ContainerInstanceArn (its id part) and Version. 0 or -1. */
int ecs_parse_metadata(const char *json, size_t len, struct ecs_info *e);
/* /v1/tasks: replaces e->tasks. 0 or -1. */
int ecs_parse_tasks(const char *json, size_t len, struct ecs_info *e);

const struct ecs_task_info *ecs_find_task(const struct ecs_info *e, const char *arn);

/* "arn:aws:ecs:r:a:cluster/NAME" -> "NAME"; a plain name is kept. */
void ecs_cluster_name(const char *cluster, char *out, size_t cap);

/* Is url a usable introspection_url: "" (off) or http(s)://host[:port]
 * with no path (the API's paths are added to it)? 0, or -1 with why. */
int ecs_introspection_url_check(const char *url, char *why, size_t len);

struct local_http;
struct buf;
/* Fetch /v1/metadata and /v1/tasks from base_url (blocking, timeout_ms
 * each) into e. 0 or -1. */
int ecs_fetch(struct local_http *http, const char *base_url, long timeout_ms, struct buf *scratch,
              struct ecs_info *e);

#endif
