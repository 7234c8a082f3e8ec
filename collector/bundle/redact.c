/* Redaction patterns (PCRE2, compiled once, JIT when available).
 *
 * Each rule finds a secret and names the part of the match to replace (the
 * named group "v"); a value that is already {REDACTED} is left alone, so a
 * second pass finds nothing. The rules, in order:
 *   private-key         -----BEGIN ... PRIVATE KEY----- body -----END ...-----
 *   ecs-engine-auth-data  ECS_ENGINE_AUTH_DATA=<json or word>, whole value
 *   key=value / key: value / "key": "value" where the key names a secret
 *                       (secret, password, passwd, token, auth_data, api_key,
 *                       access_key, credential, private_key; any case)
 *   --password VALUE    command-line flags naming a secret, space separated
 *   aws-access-key-id   AKIA/ASIA/... followed by 16 upper-case alphanumerics
 *   aws-session-token   the recognizable base64 prefixes of STS tokens
 *   bearer / basic      Authorization schemes
 *   url-credentials     scheme://user:PASSWORD@host */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "collector/bundle/redact.h"

#include <ctype.h>
#include <jansson.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[RK_COUNT] = {
    [RK_PRIVATE_KEY] = "private-key",
    [RK_ECS_AUTH_DATA] = "ecs-engine-auth-data",
    [RK_AWS_SECRET_KEY] = "aws-secret-access-key",
    [RK_AWS_SESSION_TOKEN] = "aws-session-token",
    [RK_AWS_ACCESS_KEY_ID] = "aws-access-key-id",
    [RK_PASSWORD] = "password",
    [RK_API_KEY] = "api-key",
    [RK_TOKEN] = "token",
    [RK_SECRET] = "secret",
    [RK_CREDENTIAL] = "credential",
    [RK_BEARER] = "bearer-token",
    [RK_BASIC_AUTH] = "basic-auth",
    [RK_URL_CREDENTIALS] = "url-credentials",
    [RK_ECS_CONFIG_ALLOWLIST] = "ecs-config-not-allowlisted",
    [RK_CONTAINER_ENV] = "container-env-value",
};

const char *redact_kind_name(enum redact_kind kind)
{
    return kind < RK_COUNT ? kind_names[kind] : "?";
}

unsigned redact_total(const struct redact_stats *st)
{
    unsigned n = 0;
    for (int i = 0; i < RK_COUNT; i++)
        n += st->counts[i];
    return n;
}

void redact_stats_add(struct redact_stats *to, const struct redact_stats *from)
{
    for (int i = 0; i < RK_COUNT; i++)
        to->counts[i] += from->counts[i];
}

void redact_stats_format(const struct redact_stats *st, struct buf *out)
{
    int first = 1;
    for (int i = 0; i < RK_COUNT; i++) {
        if (!st->counts[i])
            continue;
        buf_printf(out, "%s%s x%u", first ? "" : ", ", kind_names[i], st->counts[i]);
        first = 0;
    }
}

/* -------------------------------------------------------------- rules */

#define KEYWORDS                                                                                   \
    "secret|password|passwd|token|auth_?data|api_?key|access_?key|credential|private_?key"
#define VALUE "(?<v>\"(?:[^\"\\\\\\n]|\\\\.)*\"|'[^'\\n]*'|(?![{\\[])[^\\s,;\"'&}\\]]+)"

enum rule_class { CLS_FIXED, CLS_BY_KEY };

struct rule {
    const char *pattern;
    uint32_t flags;
    enum rule_class cls;
    enum redact_kind kind; /* CLS_FIXED */
};

static const struct rule rules[] = {
    {"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?<v>.+?)(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\\z)",
     PCRE2_DOTALL, CLS_FIXED, RK_PRIVATE_KEY},
    {"ECS_ENGINE_AUTH_DATA[\"']?[ \\t]*[=:][ \\t]*(?<v>(?<b>\\{(?:[^{}\\n]|(?&b))*\\})"
     "|\"(?:[^\"\\\\\\n]|\\\\.)*\"|[^\\s\"]+)",
     0, CLS_FIXED, RK_ECS_AUTH_DATA},
    {"(?<![A-Za-z0-9])[\"']?(?<k>[A-Za-z0-9_.-]*(?:" KEYWORDS ")[A-Za-z0-9_.-]*)[\"']?"
     "[ \\t]*[:=][ \\t]*" VALUE,
     PCRE2_CASELESS, CLS_BY_KEY, 0},
    {"(?<![A-Za-z0-9])(?<k>--?[A-Za-z0-9-]*(?:password|passwd|secret|token|api-?key))[ \\t]+"
     "(?<v>(?!-)[^\\s]+)",
     PCRE2_CASELESS, CLS_BY_KEY, 0},
    {"(?<![A-Z0-9])(?<v>(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-"
     "9])",
     0, CLS_FIXED, RK_AWS_ACCESS_KEY_ID},
    {"(?<v>(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{20,})", 0, CLS_FIXED, RK_AWS_SESSION_TOKEN},
    {"\\bbearer[ \\t]+(?<v>[A-Za-z0-9._~+/=-]{12,})", PCRE2_CASELESS, CLS_FIXED, RK_BEARER},
    {"authorization[\"']?[ \\t]*[:=][ \\t]*[\"']?basic[ \\t]+(?<v>[A-Za-z0-9+/=]{8,})",
     PCRE2_CASELESS, CLS_FIXED, RK_BASIC_AUTH},
    {"\\b[a-z][a-z0-9+.-]*://[^/\\s:@\"']+:(?<v>[^@\\s/\"']+)@", PCRE2_CASELESS, CLS_FIXED,
     RK_URL_CREDENTIALS},
};
#define NRULES (sizeof rules / sizeof rules[0])

static pcre2_code *compiled[NRULES];
static pthread_once_t compile_once = PTHREAD_ONCE_INIT;

static void compile_rules(void)
{
    for (size_t i = 0; i < NRULES; i++) {
        int err;
        PCRE2_SIZE off;
        compiled[i] = pcre2_compile((PCRE2_SPTR)rules[i].pattern, PCRE2_ZERO_TERMINATED,
                                    rules[i].flags, &err, &off, NULL);
        if (!compiled[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            fprintf(stderr, "redact: rule %zu does not compile at %zu: %s\n", i, (size_t)off,
                    (char *)msg);
            abort();
        }
        pcre2_jit_compile(compiled[i], PCRE2_JIT_COMPLETE); /* optional: interpreter otherwise */
    }
}

/* Upper-case alphanumerics of key, for keyword tests. */
static enum redact_kind classify_key(const char *k, size_t len)
{
    char norm[128];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < sizeof norm; i++)
        if (isalnum((unsigned char)k[i]))
            norm[n++] = (char)toupper((unsigned char)k[i]);
    norm[n] = 0;
    static const struct {
        const char *word;
        enum redact_kind kind;
    } map[] = {
        {"AUTHDATA", RK_ECS_AUTH_DATA},
        {"SECRETACCESSKEY", RK_AWS_SECRET_KEY},
        {"SECRETKEY", RK_AWS_SECRET_KEY},
        {"SESSIONTOKEN", RK_AWS_SESSION_TOKEN},
        {"SECURITYTOKEN", RK_AWS_SESSION_TOKEN},
        {"PASSWORD", RK_PASSWORD},
        {"PASSWD", RK_PASSWORD},
        {"APIKEY", RK_API_KEY},
        {"PRIVATEKEY", RK_PRIVATE_KEY},
        {"ACCESSKEY", RK_AWS_ACCESS_KEY_ID},
        {"TOKEN", RK_TOKEN},
        {"SECRET", RK_SECRET},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strstr(norm, map[i].word))
            return map[i].kind;
    return RK_CREDENTIAL;
}

static int already_redacted(const char *v, size_t len)
{
    if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
        v++;
        len -= 2;
    }
    size_t r = strlen(REDACTED);
    if (len == 0)
        return 1; /* nothing to remove */
    return len >= r - 1 && memcmp(v, REDACTED, r - 1) == 0;
}

/* Appends the rewritten text to out and returns 1, or returns 0 without
 * touching out when the rule finds nothing to replace (no copy). */
static int apply_rule(size_t idx, const char *in, size_t len, struct buf *out,
                      struct redact_stats *st)
{
    pcre2_code *re = compiled[idx];
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int vgroup = pcre2_substring_number_from_name(re, (PCRE2_SPTR) "v");
    int kgroup =
        rules[idx].cls == CLS_BY_KEY ? pcre2_substring_number_from_name(re, (PCRE2_SPTR) "k") : -1;
    size_t pos = 0, start = 0;
    int replaced = 0;
    while (start <= len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)in, len, start, 0, md, NULL);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t vs = ov[2 * vgroup], ve = ov[2 * vgroup + 1];
        size_t mend = ov[1];
        if (vs != PCRE2_UNSET && ve > vs && !already_redacted(in + vs, ve - vs)) {
            int quoted = ve - vs >= 2 && (in[vs] == '"' || in[vs] == '\'') && in[ve - 1] == in[vs];
            replaced = 1;
            buf_append(out, in + pos, vs - pos);
            if (quoted)
                buf_append_char(out, in[vs]);
            buf_append_str(out, REDACTED);
            if (quoted)
                buf_append_char(out, in[vs]);
            pos = ve;
            enum redact_kind kind = rules[idx].kind;
            if (kgroup > 0 && ov[2 * kgroup] != PCRE2_UNSET)
                kind = classify_key(in + ov[2 * kgroup], ov[2 * kgroup + 1] - ov[2 * kgroup]);
            st->counts[kind]++;
        }
        start = mend > ov[0] ? mend : ov[0] + 1;
    }
    if (replaced)
        buf_append(out, in + pos, len - pos);
    pcre2_match_data_free(md);
    return replaced;
}

void redact_text(const char *in, size_t len, struct buf *out, struct redact_stats *st)
{
    pthread_once(&compile_once, compile_rules);
    struct buf a, b;
    buf_init(&a);
    buf_init(&b);
    const char *cur = in;
    size_t curlen = len;
    struct buf *dst = &a;
    for (size_t i = 0; i < NRULES; i++) {
        buf_reset(dst);
        if (!apply_rule(i, cur, curlen, dst, st))
            continue; /* nothing replaced: the text stays where it is */
        cur = dst->data;
        curlen = dst->len;
        dst = dst == &a ? &b : &a;
    }
    buf_append(out, cur, curlen);
    buf_free(&a);
    buf_free(&b);
}

/* -------------------------------------------------------------- ecs.config */

/* Keys whose values are configuration, not secrets (after the reference's
 * allowlist; values still pass the generic patterns). */
static const char *const ecs_allowlist[] = {
    "AWS_DEFAULT_REGION",
    "DOCKER_HOST",
    "ECS_CLUSTER",
    "ECS_RESERVED_PORTS",
    "ECS_RESERVED_PORTS_UDP",
    "ECS_ENGINE_AUTH_TYPE",
    "ECS_LOGLEVEL",
    "ECS_LOGLEVEL_ON_INSTANCE",
    "ECS_LOGFILE",
    "ECS_CHECKPOINT",
    "ECS_DATADIR",
    "ECS_UPDATES_ENABLED",
    "ECS_UPDATE_DOWNLOAD_DIR",
    "ECS_DISABLE_METRICS",
    "ECS_POLL_METRICS",
    "ECS_POLLING_METRICS_WAIT_DURATION",
    "ECS_RESERVED_MEMORY",
    "ECS_AVAILABLE_LOGGING_DRIVERS",
    "ECS_DISABLE_PRIVILEGED",
    "ECS_SELINUX_CAPABLE",
    "ECS_APPARMOR_CAPABLE",
    "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION",
    "ECS_CONTAINER_STOP_TIMEOUT",
    "ECS_CONTAINER_START_TIMEOUT",
    "ECS_CONTAINER_CREATE_TIMEOUT",
    "ECS_ENABLE_TASK_IAM_ROLE",
    "ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST",
    "ECS_DISABLE_IMAGE_CLEANUP",
    "ECS_IMAGE_CLEANUP_INTERVAL",
    "ECS_IMAGE_MINIMUM_CLEANUP_AGE",
    "NON_ECS_IMAGE_MINIMUM_CLEANUP_AGE",
    "ECS_NUM_IMAGES_DELETE_PER_CYCLE",
    "ECS_IMAGE_PULL_BEHAVIOR",
    "ECS_IMAGE_PULL_INACTIVITY_TIMEOUT",
    "ECS_IMAGE_PULL_TIMEOUT",
    "ECS_INSTANCE_ATTRIBUTES",
    "ECS_ENABLE_TASK_ENI",
    "ECS_ENABLE_HIGH_DENSITY_ENI",
    "ECS_CNI_PLUGINS_PATH",
    "ECS_AWSVPC_BLOCK_IMDS",
    "ECS_AWSVPC_ADDITIONAL_LOCAL_ROUTES",
    "ECS_ENABLE_CONTAINER_METADATA",
    "ECS_HOST_DATA_DIR",
    "ECS_ENABLE_TASK_CPU_MEM_LIMIT",
    "ECS_CGROUP_PATH",
    "ECS_CGROUP_CPU_PERIOD",
    "ECS_TASK_METADATA_RPS_LIMIT",
    "ECS_SHARED_VOLUME_MATCH_FULL_CONFIG",
    "ECS_CONTAINER_INSTANCE_PROPAGATE_TAGS_FROM",
    "ECS_CONTAINER_INSTANCE_TAGS",
    "ECS_ENABLE_UNTRACKED_IMAGE_CLEANUP",
    "ECS_EXCLUDE_UNTRACKED_IMAGE",
    "ECS_ENABLE_SPOT_INSTANCE_DRAINING",
    "ECS_LOG_ROLLOVER_TYPE",
    "ECS_LOG_OUTPUT_FORMAT",
    "ECS_LOG_MAX_FILE_SIZE_MB",
    "ECS_LOG_MAX_ROLL_COUNT",
    "ECS_LOG_DRIVER",
    "ECS_LOG_OPTS",
    "ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE",
    "ECS_FSX_WINDOWS_FILE_SERVER_SUPPORTED",
    "ECS_ENABLE_GPU_SUPPORT",
    "ECS_NVIDIA_RUNTIME",
    "ECS_ENABLE_INF_SUPPORT",
    "ECS_DISABLE_DOCKER_HEALTH_CHECK",
    "ECS_ENABLE_RUNTIME_STATS",
    "ECS_EXTERNAL",
    "ECS_WARM_POOLS_CHECK",
    "ECS_SKIP_LOCALHOST_TRAFFIC_FILTER",
    "ECS_ALLOW_OFFHOST_INTROSPECTION_ACCESS",
    "ECS_OFFHOST_INTROSPECTION_INTERFACE_NAME",
    "HTTP_PROXY",
    "NO_PROXY",
    "ECS_DYNAMIC_HOST_PORT_RANGE",
    "ECS_TASK_PIDS_LIMIT",
    "ECS_AGENT_LABELS",
    "ECS_AGENT_HEALTHCHECK_HOST",
    "ECS_INSTANCE_IP_COMPATIBILITY",
    "ECS_GMSA_SUPPORTED",
    "ECS_VOLUME_PLUGIN_CAPABILITIES",
    "ECS_PULL_DEPENDENT_CONTAINERS_UPFRONT",
    "ECS_ENABLE_EBS_TASK_ATTACH",
    "ECS_BACKEND_HOST",
    "ECS_ENABLE_MEMORY_UNBOUNDED_WINDOWS_WORKAROUND",
    "ECS_ENABLE_CPU_UNBOUNDED_WINDOWS_WORKAROUND",
    "ECS_ENABLE_PREFIX_DELEGATION",
    NULL,
};

int redact_ecs_key_allowed(const char *key, size_t len)
{
    for (const char *const *k = ecs_allowlist; *k; k++)
        if (strlen(*k) == len && memcmp(*k, key, len) == 0)
            return 1;
    return 0;
}

void redact_ecs_config(const char *in, size_t len, struct buf *out, struct redact_stats *st)
{
    struct buf tmp;
    buf_init(&tmp);
    int redacting = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *line = in + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        const char *eq = memchr(line, '=', llen);
        size_t skip = 0;
        while (skip < llen && (line[skip] == ' ' || line[skip] == '\t'))
            skip++;
        int comment = skip < llen && line[skip] == '#';
        if (comment || (skip == llen)) {
            buf_append(&tmp, line, llen);
        } else if (eq) {
            const char *k = line + skip;
            size_t klen = (size_t)(eq - k);
            if (klen > 7 && strncmp(k, "export ", 7) == 0) {
                k += 7;
                klen -= 7;
            }
            while (klen && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
                klen--;
            redacting = !redact_ecs_key_allowed(k, klen);
            if (redacting && (size_t)(line + llen - eq - 1) > 0 &&
                !already_redacted(eq + 1, (size_t)(line + llen - eq - 1))) {
                buf_append(&tmp, line, (size_t)(eq - line) + 1);
                buf_append_str(&tmp, REDACTED);
                st->counts[RK_ECS_CONFIG_ALLOWLIST]++;
            } else {
                buf_append(&tmp, line, llen);
            }
        } else if (redacting) {
            buf_append_str(&tmp, REDACTED);
            st->counts[RK_ECS_CONFIG_ALLOWLIST]++;
        } else {
            buf_append(&tmp, line, llen);
        }
        if (nl)
            buf_append_char(&tmp, '\n');
    }
    redact_text(tmp.data ? tmp.data : "", tmp.len, out, st);
    buf_free(&tmp);
}

/* -------------------------------------------------------------- docker inspect */

static void redact_env_array(json_t *env, struct redact_stats *st)
{
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        const char *eq = strchr(s, '=');
        if (!eq || strcmp(eq + 1, REDACTED) == 0 || eq[1] == 0)
            continue;
        char *repl = xasprintf("%.*s=%s", (int)(eq - s), s, REDACTED);
        json_array_set_new(env, i, json_string(repl));
        free(repl);
        st->counts[RK_CONTAINER_ENV]++;
    }
}

void redact_inspect(const char *in, size_t len, struct buf *out, struct redact_stats *st)
{
    json_error_t jerr;
    json_t *doc = json_loadb(in, len, 0, &jerr);
    if (!doc) {
        redact_text(in, len, out, st);
        return;
    }
    json_t *list = json_is_array(doc) ? doc : NULL;
    size_t i;
    json_t *c;
    if (list) {
        json_array_foreach(list, i, c)
        {
            json_t *env = json_object_get(json_object_get(c, "Config"), "Env");
            if (json_is_array(env))
                redact_env_array(env, st);
        }
    } else if (json_is_object(doc)) {
        json_t *env = json_object_get(json_object_get(doc, "Config"), "Env");
        if (json_is_array(env))
            redact_env_array(env, st);
    }
    char *text = json_dumps(doc, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text) {
        redact_text(in, len, out, st);
        return;
    }
    size_t tlen = strlen(text);
    char *with_nl = xmalloc(tlen + 2);
    memcpy(with_nl, text, tlen);
    with_nl[tlen] = '\n';
    free(text);
    redact_text(with_nl, tlen + 1, out, st);
    free(with_nl);
}
