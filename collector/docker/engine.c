/* Docker Engine API client: see engine.h. */
#include "collector/docker/engine.h"

#include "collector/docker/local_http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    snprintf(dst, cap, "%s", s);
}

static int64_t int_of(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return 0;
}

int docker_parse_list(const char *json, size_t len, void (*fn)(const char *id, void *arg), void *arg)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!json_is_array(root)) {
        json_decref(root);
        return -1;
    }
    size_t i;
    json_t *c;
    int n = 0;
    json_array_foreach(root, i, c) {
        json_t *id = json_object_get(c, "Id");
        if (json_is_string(id)) {
            fn(json_string_value(id), arg);
            n++;
        }
    }
    json_decref(root);
    return n;
}

/* {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, ...], ...}: each
 * host port once (IPv4 and IPv6 bindings name the same one). */
static void host_ports(json_t *ports, struct docker_container *c)
{
    const char *k;
    json_t *list;
    json_object_foreach(ports, k, list) {
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b) {
            const char *hp = json_string_value(json_object_get(b, "HostPort"));
            int port = hp ? atoi(hp) : 0;
            int seen = port <= 0 || port > 65535;
            for (int j = 0; j < c->nhost_ports && !seen; j++)
                seen = c->host_ports[j] == port;
            if (!seen && c->nhost_ports < DOCKER_MAX_PORTS)
                c->host_ports[c->nhost_ports++] = port;
        }
    }
}

int docker_parse_inspect(const char *json, size_t len, struct docker_container *c)
{
    memset(c, 0, sizeof *c);
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    copy_str(c->id, sizeof c->id, json_object_get(root, "Id"));
    const char *name = json_string_value(json_object_get(root, "Name"));
    snprintf(c->name, sizeof c->name, "%s", name ? (name[0] == '/' ? name + 1 : name) : "");
    json_t *state = json_object_get(root, "State");
    c->pid = (int)int_of(state, "Pid");
    c->running = json_is_true(json_object_get(state, "Running"));
    json_t *config = json_object_get(root, "Config");
    copy_str(c->image, sizeof c->image, json_object_get(config, "Image"));
    json_t *labels = json_object_get(config, "Labels");
    copy_str(c->cluster, sizeof c->cluster, json_object_get(labels, "com.amazonaws.ecs.cluster"));
    copy_str(c->task_arn, sizeof c->task_arn,
             json_object_get(labels, "com.amazonaws.ecs.task-arn"));
    copy_str(c->ecs_name, sizeof c->ecs_name,
             json_object_get(labels, "com.amazonaws.ecs.container-name"));
    copy_str(c->family, sizeof c->family,
             json_object_get(labels, "com.amazonaws.ecs.task-definition-family"));
    copy_str(c->revision, sizeof c->revision,
             json_object_get(labels, "com.amazonaws.ecs.task-definition-version"));
    json_t *hc = json_object_get(root, "HostConfig");
    c->cpu_shares = int_of(hc, "CpuShares");
    c->nano_cpus = int_of(hc, "NanoCpus");
    c->cpu_quota = int_of(hc, "CpuQuota");
    c->cpu_period = int_of(hc, "CpuPeriod");
    c->memory = int_of(hc, "Memory");
    c->memory_reservation = int_of(hc, "MemoryReservation");
    host_ports(json_object_get(json_object_get(root, "NetworkSettings"), "Ports"), c);
    json_decref(root);
    return c->id[0] ? 0 : -1;
}

const char *docker_task_id(const char *task_arn)
{
    const char *slash = strrchr(task_arn, '/');
    return slash ? slash + 1 : task_arn;
}

int docker_is_ecs_internal(const struct docker_container *c)
{
    return strstr(c->ecs_name, "~internal~ecs") != NULL;
}

int docker_api_get(struct local_http *h, const char *unix_socket, const char *path,
                   struct buf *body, char *err, size_t errlen)
{
    char url[512];
    snprintf(url, sizeof url, "http://localhost%s", path);
    struct local_http_req req = {.unix_socket = unix_socket, .url = url,
                                 .timeout_ms = DOCKER_API_TIMEOUT_MS};
    return local_http_get(h, &req, body, err, errlen);
}
