/* Redaction of secrets in the text a support bundle writes. Pure: buffers
 * in, buffers out, counts per kind; no files, no I/O.
 *
 *   struct redact_stats st = {0};
 *   struct buf out; buf_init(&out);
 *   redact_text(in, len, &out, &st);         generic patterns, any text
 *   redact_ecs_config(in, len, &out, &st);   ecs.config by allowlist, then generic
 *   redact_inspect(in, len, &out, &st);      docker inspect: every Env value, then generic
 *
 * Every removed value becomes "{REDACTED}" (quotes around a quoted value are
 * kept, so JSON stays JSON). Already redacted values are left alone, so a
 * second pass over redacted text finds nothing (the redact check relies on
 * that). Kinds are names of what was removed, never the values. */
#ifndef COLLECTOR_BUNDLE_REDACT_H
#define COLLECTOR_BUNDLE_REDACT_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

#define REDACTED "{REDACTED}"

enum redact_kind {
    RK_PRIVATE_KEY,
    RK_ECS_AUTH_DATA,
    RK_AWS_SECRET_KEY,
    RK_AWS_SESSION_TOKEN,
    RK_AWS_ACCESS_KEY_ID,
    RK_PASSWORD,
    RK_API_KEY,
    RK_TOKEN,
    RK_SECRET,
    RK_CREDENTIAL,
    RK_BEARER,
    RK_BASIC_AUTH,
    RK_URL_CREDENTIALS,
    RK_ECS_CONFIG_ALLOWLIST,
    RK_CONTAINER_ENV,
    RK_ENV_VALUE,
    RK_DOCKER_AUTH,
    RK_AUTH,
    RK_UNCHECKED,        /* text a pattern could not finish looking at: withheld */
    RK_COUNT
};

/* How a file is redacted: generic patterns, ecs.config's allowlist, docker
 * inspect's Env values. */
enum redact_mode { REDACT_TEXT, REDACT_ECS_CONFIG, REDACT_INSPECT };

struct redact_stats {
    unsigned counts[RK_COUNT];
};

const char *redact_kind_name(enum redact_kind kind);
unsigned redact_total(const struct redact_stats *st);
void redact_stats_add(struct redact_stats *to, const struct redact_stats *from);
/* "aws-secret-access-key x2, password x1" (empty when nothing). */
void redact_stats_format(const struct redact_stats *st, struct buf *out);

/* Generic patterns over any text (appends to out). */
void redact_text(const char *in, size_t len, struct buf *out, struct redact_stats *st);
/* When a pattern cannot finish (PCRE2's match or depth limit, any matching
 * error), the text it had not looked at yet is replaced by REDACT_WITHHELD
 * and counted as "unchecked-text": never shown unredacted. Tests lower the
 * match limit to make that happen (0 = PCRE2's default). Not thread-safe:
 * call before redacting. */
#define REDACT_WITHHELD "{REDACTED: the rest could not be checked}"
void redact_set_match_limit(uint32_t limit);
/* Text whose oldest bytes were cut away: a private key block whose BEGIN
 * line was cut is removed up to its END line. Then the generic patterns
 * still apply (call redact_* on the result). */
void redact_cut_text(const char *in, size_t len, struct buf *out, struct redact_stats *st);
/* ecs.config: lines KEY=VALUE whose KEY is not on the allowlist become
 * KEY={REDACTED}; lines without '=' inherit the previous line's verdict. */
void redact_ecs_config(const char *in, size_t len, struct buf *out, struct redact_stats *st);
int redact_ecs_key_allowed(const char *key, size_t len);
/* A JSON document (docker inspect, the ECS agent's state): every value of
 * an environment (Env lists, Environment maps, name/value lists) and of
 * every name/value pair redacted, the document re-indented, then the
 * generic patterns; not JSON: generic patterns only. */
void redact_inspect(const char *in, size_t len, struct buf *out, struct redact_stats *st);
/* One of the three above, by mode. */
void redact_by_mode(enum redact_mode mode, const char *in, size_t len, struct buf *out,
                    struct redact_stats *st);

#endif
