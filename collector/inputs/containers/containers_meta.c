/* Container metadata, filters and record meta: see containers_meta.h. */
#include "collector/inputs/containers/containers_meta.h"

#include "collector/docker/ecs_agent.h"
#include "collector/pipeline/record.h"
#include "parsers/docker_json.h"

#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void add_labels(struct ctr_info *info, json_t *labels)
{
    const char *k;
    json_t *v;
    info->labels_len = 0;
    json_object_foreach(labels, k, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        size_t need = strlen(k) + 1 + strlen(s) + 1;
        if (info->labels_len + need + 1 > sizeof(info->labels))
            break;
        info->labels_len += (size_t)snprintf(info->labels + info->labels_len,
                                             sizeof(info->labels) - info->labels_len, "%s=%s", k, s) + 1;
    }
    info->labels[info->labels_len] = '\0';
}

int cm_parse(const char *json, size_t len, const char *id_hint, struct ctr_info *info)
{
    memset(info, 0, sizeof(*info));
    docker_parse_inspect(json, len, &info->dk); /* fills what it finds even without "Id" */
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    if (!info->dk.id[0]) {
        const char *id = json_string_value(json_object_get(root, "ID"));
        snprintf(info->dk.id, sizeof(info->dk.id), "%s", id ? id : id_hint ? id_hint : "");
    }
    add_labels(info, json_object_get(json_object_get(root, "Config"), "Labels"));
    const char *started = json_string_value(json_object_get(json_object_get(root, "State"),
                                                             "StartedAt"));
    if (!started || rfc3339_ns(started, strlen(started), &info->started_ns) < 0 ||
        info->started_ns < 0)
        info->started_ns = 0; /* Docker says 0001-01-01T00:00:00Z for never */
    json_decref(root);
    return info->dk.id[0] ? 0 : -1;
}

const char *cm_label(const struct ctr_info *info, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = info->labels; *p; p += strlen(p) + 1)
        if (strncmp(p, key, klen) == 0 && p[klen] == '=')
            return p + klen + 1;
    return NULL;
}

static int any_glob(const struct strlist *l, const char *s)
{
    for (int i = 0; l && i < l->count; i++)
        if (fnmatch(l->items[i], s, 0) == 0)
            return 1;
    return 0;
}

static int any_label(const struct strlist *l, const struct ctr_info *info)
{
    for (const char *p = info->labels; *p; p += strlen(p) + 1)
        if (any_glob(l, p))
            return 1;
    return 0;
}

int cm_wanted(const struct cm_filter *flt, const struct ctr_info *info, const char **why)
{
    const struct docker_container *c = &info->dk;
    const char *optout = cm_label(info, "collector.logs");
    if (optout && (strcmp(optout, "false") == 0 || strcmp(optout, "0") == 0 ||
                   strcmp(optout, "no") == 0 || strcmp(optout, "off") == 0))
        return *why = "label collector.logs=false", 0;
    if (docker_is_ecs_internal(c) || strstr(c->name, "~internal~ecs~pause"))
        return *why = "the ECS pause container", 0;
    if (flt->self_id && flt->self_id[0] && strcmp(flt->self_id, c->id) == 0)
        return *why = "the agent's own container", 0;
    if (flt->include_name && flt->include_name->count && !any_glob(flt->include_name, c->name))
        return *why = "name not in include_name", 0;
    if (any_glob(flt->exclude_name, c->name))
        return *why = "name in exclude_name", 0;
    if (flt->include_image && flt->include_image->count && !any_glob(flt->include_image, c->image))
        return *why = "image not in include_image", 0;
    if (any_glob(flt->exclude_image, c->image))
        return *why = "image in exclude_image", 0;
    if (flt->include_label && flt->include_label->count && !any_label(flt->include_label, info))
        return *why = "no label in include_label", 0;
    if (any_label(flt->exclude_label, info))
        return *why = "a label in exclude_label", 0;
    return *why = NULL, 1;
}

int cm_is_ecs(const struct ctr_info *info)
{
    return info->dk.cluster[0] || info->dk.task_arn[0];
}

#define CM_PAIRS_MAX 64

static int add_pair(const char **pairs, int n, const char *k, const char *v)
{
    if (!v || !v[0])
        return n;
    pairs[2 * n] = k;
    pairs[2 * n + 1] = v;
    return n + 1;
}

struct meta *cm_meta(const struct ctr_info *info, const char *stream,
                     const struct strlist *label_allow)
{
    const struct docker_container *c = &info->dk;
    const char *pairs[2 * CM_PAIRS_MAX];
    char keys[CM_PAIRS_MAX][128];
    int n = 0;
#define PAIR(k, v) n = add_pair(pairs, n, (k), (v))
    char cluster[DOCKER_STR];
    ecs_cluster_name(c->cluster, cluster, sizeof(cluster));
    PAIR("container_id", c->id);
    PAIR("container_name", c->name);
    PAIR("image", c->image);
    PAIR("cluster", cluster);
    PAIR("task_arn", c->task_arn);
    PAIR("task_id", c->task_arn[0] ? docker_task_id(c->task_arn) : NULL);
    PAIR("task_family", c->family);
    PAIR("task_revision", c->revision);
    PAIR("ecs_container_name", c->ecs_name);
    PAIR("container_instance_id", info->container_instance_id);
    PAIR("stream", stream);
    int nk = 0;
    for (const char *p = info->labels; *p && n < CM_PAIRS_MAX && nk < CM_PAIRS_MAX; p += strlen(p) + 1) {
        const char *eq = strchr(p, '=');
        if (!eq || !label_allow || !label_allow->count)
            continue;
        snprintf(keys[nk], sizeof(keys[nk]), "label.%.*s", (int)(eq - p), p);
        if (!any_glob(label_allow, keys[nk] + 6))
            continue;
        pairs[2 * n] = keys[nk];
        pairs[2 * n + 1] = eq + 1;
        n++;
        nk++;
    }
#undef PAIR
    return meta_new(pairs, n);
}

static int is_hex64(const char *p, const char *end)
{
    if (end - p < 64)
        return 0;
    for (int i = 0; i < 64; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return end - p == 64 || !((p[64] >= '0' && p[64] <= '9') || (p[64] >= 'a' && p[64] <= 'f'));
}

int cm_self_id(const char *text, size_t len, char *out)
{
    const char *end = text + len;
    /* "/docker/<id>", "docker-<id>.scope", ".../containers/<id>/..." */
    static const char *const marks[] = {"/docker/", "docker-", "/containers/"};
    for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
        size_t ml = strlen(marks[m]);
        for (const char *p = text; p && p < end; ) {
            const char *hit = memmem(p, (size_t)(end - p), marks[m], ml);
            if (!hit)
                break;
            const char *id = hit + ml;
            if (is_hex64(id, end)) {
                memcpy(out, id, 64);
                out[64] = '\0';
                return 0;
            }
            p = hit + 1;
        }
    }
    return -1;
}

int cm_id_of_path(const char *path, char *out)
{
    const char *base = strrchr(path, '/');
    if (!base || base == path)
        return -1;
    const char *dir = base - 1;
    while (dir > path && *dir != '/')
        dir--;
    const char *id = dir + 1;
    if (base - id != 64 || !is_hex64(id, base))
        return -1;
    if (strncmp(base + 1, id, 64) != 0 || strncmp(base + 65, "-json.log", 9) != 0)
        return -1;
    /* -json.log, or a rotation -json.log.<N>; not a compressed .<N>.gz */
    const char *rest = base + 74;
    int age = 0;
    if (*rest == '.') {
        for (rest++; *rest >= '0' && *rest <= '9' && age < 1000000; rest++)
            age = age * 10 + (*rest - '0');
        if (age == 0)
            return -1;
    }
    if (*rest)
        return -1;
    memcpy(out, id, 64);
    out[64] = '\0';
    return age;
}
