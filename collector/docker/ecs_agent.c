/* ECS agent introspection client: see ecs_agent.h. */
#include "collector/docker/ecs_agent.h"

#include "collector/aws/endpoint.h"
#include "collector/core/util.h"
#include "collector/docker/local_http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ecs_info_free(struct ecs_info *e)
{
    free(e->tasks);
    memset(e, 0, sizeof *e);
}

void ecs_cluster_name(const char *cluster, char *out, size_t cap)
{
    const char *slash = strncmp(cluster, "arn:", 4) == 0 ? strrchr(cluster, '/') : NULL;
    snprintf(out, cap, "%s", slash ? slash + 1 : cluster);
}

int ecs_parse_metadata(const char *json, size_t len, struct ecs_info *e)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    const char *cl = json_string_value(json_object_get(root, "Cluster"));
    const char *ci = json_string_value(json_object_get(root, "ContainerInstanceArn"));
    if (cl)
        ecs_cluster_name(cl, e->cluster, sizeof e->cluster);
    const char *version = json_string_value(json_object_get(root, "Version"));
    if (version)
        snprintf(e->agent_version, sizeof e->agent_version, "%s", version);
    if (ci) {
        const char *slash = strrchr(ci, '/');
        snprintf(e->container_instance_id, sizeof e->container_instance_id, "%s",
                 slash ? slash + 1 : ci);
    }
    json_decref(root);
    return cl ? 0 : -1;
}

static double num_of(json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v))
        return strtod(json_string_value(v), NULL);
    return 0;
}

static void service_of(json_t *t, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(t, "ServiceName"));
    if (s && *s) {
        snprintf(out, cap, "%s", s);
        return;
    }
    static const char *const keys[] = {"Group", "group"};
    for (int i = 0; i < 2; i++) {
        const char *g = json_string_value(json_object_get(t, keys[i]));
        if (g && strncmp(g, "service:", 8) == 0 && g[8]) {
            snprintf(out, cap, "%s", g + 8);
            return;
        }
    }
    out[0] = '\0';
}

int ecs_parse_tasks(const char *json, size_t len, struct ecs_info *e)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *tasks = json_object_get(root, "Tasks");
    if (!json_is_array(tasks)) {
        json_decref(root);
        return -1;
    }
    e->ntasks = 0;
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t) {
        const char *arn = json_string_value(json_object_get(t, "Arn"));
        if (!arn)
            continue;
        if (e->ntasks == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 32;
            e->tasks = xrealloc(e->tasks, (size_t)e->cap * sizeof *e->tasks);
        }
        struct ecs_task_info *ti = &e->tasks[e->ntasks++];
        memset(ti, 0, sizeof *ti);
        snprintf(ti->arn, sizeof ti->arn, "%s", arn);
        const char *fam = json_string_value(json_object_get(t, "Family"));
        snprintf(ti->family, sizeof ti->family, "%s", fam ? fam : "");
        const char *ver = json_string_value(json_object_get(t, "Version"));
        snprintf(ti->revision, sizeof ti->revision, "%s", ver ? ver : "");
        service_of(t, ti->service, sizeof ti->service);
        json_t *lim = json_object_get(t, "Limits");
        ti->cpu_units = num_of(json_object_get(lim, "CPU")) * 1024.0;
        ti->mem_mib = num_of(json_object_get(lim, "Memory"));
    }
    json_decref(root);
    return 0;
}

const struct ecs_task_info *ecs_find_task(const struct ecs_info *e, const char *arn)
{
    for (int i = 0; i < e->ntasks; i++)
        if (strcmp(e->tasks[i].arn, arn) == 0)
            return &e->tasks[i];
    return NULL;
}

int ecs_introspection_url_check(const char *url, char *why, size_t len)
{
    struct aws_url u;
    if (!url || !*url)
        return 0;
    if (strlen(url) > 400 || aws_url_parse(url, &u) < 0) {
        snprintf(why, len, "'%s' is not an http:// URL of the ECS agent (e.g. "
                 "http://127.0.0.1:51678; empty = off)", url);
        return -1;
    }
    if (strcmp(u.path, "/") != 0) {
        snprintf(why, len, "'%s' has a path: give scheme, host and port only "
                 "(/v1/metadata and /v1/tasks are added)", url);
        return -1;
    }
    return 0;
}

int ecs_fetch(struct local_http *http, const char *base_url, long timeout_ms, struct buf *scratch,
              struct ecs_info *e)
{
    char url[512], err[256];
    struct local_http_req req = {.url = url, .timeout_ms = timeout_ms};
    int n = (int)strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--; /* http://host:port/ */
    snprintf(url, sizeof url, "%.*s/v1/metadata", n, base_url);
    if (local_http_get(http, &req, scratch, err, sizeof err) != 200 ||
        ecs_parse_metadata(scratch->data, scratch->len, e) != 0)
        return -1;
    snprintf(url, sizeof url, "%.*s/v1/tasks", n, base_url);
    if (local_http_get(http, &req, scratch, err, sizeof err) != 200 ||
        ecs_parse_tasks(scratch->data, scratch->len, e) != 0)
        return -1;
    return 0;
}
