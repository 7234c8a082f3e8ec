/* What the containers input knows about one container, and the pure logic
 * on it: parsing Docker's inspect JSON (GET /containers/<id>/json, or
 * <docker_root>/containers/<id>/config.v2.json without the socket), the
 * include/exclude filters, and the struct meta records carry (the keys
 * collector/cloudwatch/names.c reads for the log group/stream templates).
 * No I/O. */
#ifndef COLLECTOR_CONTAINERS_META_H
#define COLLECTOR_CONTAINERS_META_H

#include "collector/core/options.h"
#include "collector/docker/engine.h"

#include <stddef.h>

#define CM_LABELS_MAX 8192

struct meta;

struct ctr_info {
    struct docker_container dk;          /* id, name, image, ECS labels, running */
    char labels[CM_LABELS_MAX];      /* "key=value\0key=value\0...\0" */
    size_t labels_len;
    int64_t started_ns;              /* State.StartedAt; 0 unknown or never started */
    /* From ECS introspection ("" when unknown). */
    char container_instance_id[128];
};

/* Fill info from an inspect or config.v2.json document; id_hint names the
 * container when the document says "ID" rather than "Id". 0 or -1. */
int cm_parse(const char *json, size_t len, const char *id_hint, struct ctr_info *info);

/* The value of label key, or NULL. */
const char *cm_label(const struct ctr_info *info, const char *key);

struct cm_filter {
    const struct strlist *include_name, *exclude_name;
    const struct strlist *include_image, *exclude_image;
    const struct strlist *include_label, *exclude_label;   /* "key=value" globs */
    const char *self_id;             /* the agent's own container ("" = none) */
};

/* Should this container's logs be read? If not, *why says why. */
int cm_wanted(const struct cm_filter *flt, const struct ctr_info *info, const char **why);

/* Is it an ECS task's container (cluster or task ARN known)? */
int cm_is_ecs(const struct ctr_info *info);

/* The meta of its records of one stream ("stdout"/"stderr"/NULL): id,
 * name, image, ECS keys, container_instance_id, and the labels matching
 * label_allow as "label.<key>". One reference for the caller. */
struct meta *cm_meta(const struct ctr_info *info, const char *stream,
                     const struct strlist *label_allow);

/* The 64-hex container id in /proc/self/cgroup or mountinfo text (the
 * agent's own container), written to out[65]; 0 or -1. */
int cm_self_id(const char *text, size_t len, char *out);

/* The container id of a log path <root>/containers/<id>/<id>-json.log or
 * one of its rotations <id>-json.log.<N>, written to out[65]. Returns the
 * file's age (0 the current log, N for .log.<N>), or -1 for any other name
 * (Docker's compressed rotations .log.<N>.gz included). */
int cm_id_of_path(const char *path, char *out);

#endif
