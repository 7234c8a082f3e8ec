/* Container cache: see ctr_cache.h. */
#include "collector/metrics/ctr_cache.h"

#include "collector/docker/ecs_agent.h"
#include "collector/docker/local_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cc_init(struct cc *cc, const char *socket, const char *proc_root, struct cg_reader *cg)
{
    memset(cc, 0, sizeof *cc);
    cc->socket = socket;
    cc->proc_root = proc_root;
    cc->cg = cg;
    cc->http = local_http_new();
    buf_init(&cc->body);
}

static void entry_clear(struct cc_entry *e)
{
    for (int i = 0; i < CG_CTRL_COUNT; i++) {
        free(e->dirs[i]);
        e->dirs[i] = NULL;
    }
}

void cc_free(struct cc *cc)
{
    for (int i = 0; i < cc->n; i++)
        entry_clear(&cc->e[i]);
    free(cc->e);
    local_http_free(cc->http);
    buf_free(&cc->body);
    memset(cc, 0, sizeof *cc);
}

int cc_docker_get(struct cc *cc, const char *path)
{
    if (!cc->http)
        return -1;
    return docker_api_get(cc->http, cc->socket, path, &cc->body, cc->err, sizeof cc->err);
}

static void resolve_cgroups(struct cc *cc, struct cc_entry *e)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%d/cgroup", cc->proc_root, e->c.pid);
    if (e->c.pid <= 0 || cg_read_file(cc->cg, path) < 0)
        return;
    struct cg_paths p;
    if (cg_parse_proc_cgroup(cc->cg->buf, &p) != 0)
        return;
    static char dirs[CG_CTRL_COUNT][CG_PATH_MAX * 2]; /* sampler thread only */
    if (cg_resolve(cc->cg, &p, e->c.id, dirs) != 0)
        return;
    for (int i = 0; i < CG_CTRL_COUNT; i++)
        e->dirs[i] = dirs[i][0] ? xstrdup(dirs[i]) : NULL;
    e->version = p.version;
}

struct list_ctx {
    struct cc *cc;
    char (*ids)[72];
    int n, cap;
};

static void on_id(const char *id, void *arg)
{
    struct list_ctx *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->ids = xrealloc(l->ids, (size_t)l->cap * sizeof *l->ids);
    }
    snprintf(l->ids[l->n++], 72, "%s", id);
}

static struct cc_entry *find(struct cc *cc, const char *id)
{
    for (int i = 0; i < cc->n; i++)
        if (strcmp(cc->e[i].c.id, id) == 0)
            return &cc->e[i];
    return NULL;
}

int cc_refresh(struct cc *cc)
{
    int status = cc_docker_get(cc, "/containers/json");
    if (status != 200) {
        if (status > 0)
            snprintf(cc->err, sizeof cc->err, "GET /containers/json: HTTP %d", status);
        return -1;
    }
    struct list_ctx l = {.cc = cc};
    if (docker_parse_list(cc->body.data, cc->body.len, on_id, &l) < 0) {
        snprintf(cc->err, sizeof cc->err, "GET /containers/json: not a JSON array");
        free(l.ids);
        return -1;
    }
    cc->gen++;
    for (int i = 0; i < l.n; i++) {
        struct cc_entry *e = find(cc, l.ids[i]);
        if (!e) {
            char path[128];
            snprintf(path, sizeof path, "/containers/%s/json", l.ids[i]);
            if (cc_docker_get(cc, path) != 200)
                continue;
            struct docker_container c;
            if (docker_parse_inspect(cc->body.data, cc->body.len, &c) != 0 || !c.running ||
                docker_is_ecs_internal(&c))
                continue;
            cc->inspects++;
            if (cc->n == cc->cap) {
                cc->cap = cc->cap ? cc->cap * 2 : 64;
                cc->e = xrealloc(cc->e, (size_t)cc->cap * sizeof *cc->e);
            }
            e = &cc->e[cc->n++];
            memset(e, 0, sizeof *e);
            e->c = c;
            if (cc->cg)
                resolve_cgroups(cc, e);
        }
        e->gen = cc->gen;
    }
    free(l.ids);
    int w = 0;
    for (int i = 0; i < cc->n; i++) {
        if (cc->e[i].gen == cc->gen)
            cc->e[w++] = cc->e[i];
        else
            entry_clear(&cc->e[i]);
    }
    cc->n = w;
    return w;
}

void cc_identity(const struct cc *cc, const struct sample_conf *conf, const struct ecs_info *ecs,
                 char *cluster, size_t cluster_cap, char *ci_id, size_t ci_cap)
{
    const char *c = conf->cluster && *conf->cluster ? conf->cluster : NULL;
    if (!c && ecs->cluster[0])
        c = ecs->cluster;
    for (int i = 0; !c && i < cc->n; i++)
        if (cc->e[i].c.cluster[0])
            c = cc->e[i].c.cluster;
    if (c)
        ecs_cluster_name(c, cluster, cluster_cap);
    else
        snprintf(cluster, cluster_cap, "%s", conf->hostname);
    snprintf(ci_id, ci_cap, "%s",
             ecs->container_instance_id[0] ? ecs->container_instance_id : conf->instance_id);
}
