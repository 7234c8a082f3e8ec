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
#include <strings.h>

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
    [RK_ENV_VALUE] = "environment-value",
    [RK_DOCKER_AUTH] = "docker-auth",
    [RK_AUTH] = "auth",
    [RK_UNCHECKED] = "unchecked-text",
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

/* A quoted value (the quotes kept around {REDACTED}) or an unquoted word. */
#define VALUE "(?<v>\"(?:[^\"\\\\\\n]|\\\\.)*\"|'[^'\\n]*'|(?![{\\[])[^\\s,;\"'&}\\]]+)"
/* A JSON string's quote, plain or escaped once (JSON inside a JSON string). */
#define Q "(?<q>\\\\?\")"
#define QSTR "\\k<q>(?<v>(?:(?!\\k<q>)[^\\n])*)\\k<q>"

/* CLS_FIXED: the match is a secret of rules[].kind. CLS_BY_KEY: the named
 * group "k" is a key; it is a secret when classify_key says so, else the
 * scan moves on after the key (a value may hold key=value pairs itself). */
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
    /* its JSON value may span lines */
    {"ECS_ENGINE_AUTH_DATA[\"']?[ \\t]*[=:][ \\t]*(?<v>(?<b>\\{(?:[^{}]|(?&b))*\\})"
     "|\"(?:[^\"\\\\\\n]|\\\\.)*\"|[^\\s\"]+)",
     0, CLS_FIXED, RK_ECS_AUTH_DATA},
    /* name/value pairs (task definitions, ECS state, logs): the value, whatever the name */
    {Q "name\\k<q>[ \\t]*:[ \\t]*\\k<q>[^\"\\\\\\n]*\\k<q>[ \\t]*,[ \\t]*\\k<q>value\\k<q>[ \\t]*:"
       "[ \\t]*" QSTR,
     PCRE2_CASELESS, CLS_FIXED, RK_ENV_VALUE},
    {Q "value\\k<q>[ \\t]*:[ \\t]*" QSTR "[ \\t]*,[ \\t]*\\k<q>name\\k<q>[ \\t]*:", PCRE2_CASELESS,
     CLS_FIXED, RK_ENV_VALUE},
    {"\\bbearer[ \\t]+(?<v>[A-Za-z0-9._~+/=-]{12,})", PCRE2_CASELESS, CLS_FIXED, RK_BEARER},
    {"authorization[\"']?[ \\t]*[:=][ \\t]*[\"']?basic[ \\t]+(?<v>[A-Za-z0-9+/=]{8,})",
     PCRE2_CASELESS, CLS_FIXED, RK_BASIC_AUTH},
    {"authorization[\"']?[ \\t]*[:=][ \\t]*[\"']?(?:[A-Za-z0-9-]+[ \\t]+)?(?<v>[^\\s\"',;]+)",
     PCRE2_CASELESS, CLS_FIXED, RK_AUTH},
    {"(?<![A-Za-z0-9])[\"']?(?<k>[A-Za-z][A-Za-z0-9_.-]*)[\"']?[ \\t]*[:=][ \\t]*" VALUE,
     PCRE2_CASELESS, CLS_BY_KEY, 0},
    {"(?<![A-Za-z0-9-])(?<k>--?[A-Za-z][A-Za-z0-9-]*)[ \\t]+(?<v>(?!-)[^\\s\"']+)", PCRE2_CASELESS,
     CLS_BY_KEY, 0},
    {"(?<![A-Z0-9])(?<v>(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-"
     "9])",
     0, CLS_FIXED, RK_AWS_ACCESS_KEY_ID},
    {"(?<v>(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{20,})", 0, CLS_FIXED, RK_AWS_SESSION_TOKEN},
    {"\\b[a-z][a-z0-9+.-]*://[^/\\s:@\"']+:(?<v>[^@\\s/\"']+)@", PCRE2_CASELESS, CLS_FIXED,
     RK_URL_CREDENTIALS},
};
#define NRULES (sizeof rules / sizeof rules[0])

static const char env_key_pattern[] =
    "(?:(?<![A-Za-z0-9_])|(?=\\\\?\"))(?<q>\\\\?\"|)(?:env|environment|environment_?variables)\\k<q>"
    "\\s*[:=]\\s*(?=[{\\[]|map\\[)";
static pcre2_code *env_key_re;
static pcre2_code *compiled[NRULES];
static pcre2_match_context *match_limits; /* NULL: PCRE2's defaults */

void redact_set_match_limit(uint32_t limit)
{
    if (!limit) {
        pcre2_match_context_free(match_limits);
        match_limits = NULL;
        return;
    }
    if (!match_limits)
        match_limits = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(match_limits, limit);
    pcre2_set_depth_limit(match_limits, limit);
}

/* A pattern stopped before the end of in (a limit, an error): in[pos..] has
 * not been looked at by every rule, so it is withheld. */
static void withhold_rest(struct buf *out, const char *in, size_t pos, size_t upto,
                          struct redact_stats *st)
{
    buf_append(out, in + pos, upto - pos);
    buf_append_str(out, REDACT_WITHHELD);
    st->counts[RK_UNCHECKED]++;
}
static pthread_once_t compile_once = PTHREAD_ONCE_INIT;

static void compile_rules(void)
{
    for (size_t i = 0; i < NRULES; i++) {
        int err;
        PCRE2_SIZE off;
        compiled[i] = pcre2_compile((PCRE2_SPTR)rules[i].pattern, PCRE2_ZERO_TERMINATED,
                                    rules[i].flags | PCRE2_DUPNAMES, &err, &off, NULL);
        if (!compiled[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            fprintf(stderr, "redact: rule %zu does not compile at %zu: %s\n", i, (size_t)off,
                    (char *)msg);
            abort();
        }
        pcre2_jit_compile(compiled[i], PCRE2_JIT_COMPLETE); /* optional: interpreter otherwise */
    }
    int err;
    PCRE2_SIZE off;
    env_key_re = pcre2_compile((PCRE2_SPTR)env_key_pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS,
                               &err, &off, NULL);
    if (!env_key_re)
        abort();
    pcre2_jit_compile(env_key_re, PCRE2_JIT_COMPLETE);
}

/* Words of a key, upper-cased: split at anything not alphanumeric and at a
 * lower-to-upper change (apiKey -> API KEY). Returns the count. */
static size_t key_words(const char *k, size_t len, char words[][32], size_t max)
{
    size_t n = 0, w = 0;
    for (size_t i = 0; i <= len; i++) {
        int alnum = i < len && isalnum((unsigned char)k[i]);
        int camel =
            alnum && i > 0 && isupper((unsigned char)k[i]) && islower((unsigned char)k[i - 1]);
        if ((!alnum || camel) && w) {
            words[n][w] = 0;
            if (++n == max)
                return n;
            w = 0;
        }
        if (alnum && w + 1 < 32)
            words[n][w++] = (char)toupper((unsigned char)k[i]);
    }
    return n;
}

static int word_is(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return 1;
    return 0;
}

/* Whether a key names a secret, and which kind; -1 when it does not. The
 * keywords: pass, pwd, auth, token, secret, key, credential in their usual
 * spellings, as whole words of the key (DB_PASS, MYSQL_PWD, apiKey,
 * X-Registry-Auth) or inside one (PGPASSWORD, GITHUB_TOKEN). A key that
 * describes a secret rather than holding one (AUTH_TYPE) is not. */
static int classify_key(const char *k, size_t len)
{
    char words[16][32];
    size_t n = key_words(k, len, words, 16);
    if (n == 0)
        return -1;
    static const char *const describes[] = {"TYPE", "MODE",   "METHOD", "ENABLED", "FILE",
                                            "PATH", "LENGTH", "ID",     "NAME",    NULL};
    char norm[128];
    size_t nl = 0;
    for (size_t i = 0; i < n; i++)
        for (const char *c = words[i]; *c && nl + 1 < sizeof norm; c++)
            norm[nl++] = *c;
    norm[nl] = 0;
    /* whole-key forms first: their kind is the most precise */
    static const struct {
        const char *word;
        enum redact_kind kind;
    } inside[] = {
        {"AUTHDATA", RK_ECS_AUTH_DATA},
        {"SECRETACCESSKEY", RK_AWS_SECRET_KEY},
        {"SECRETKEY", RK_AWS_SECRET_KEY},
        {"SESSIONTOKEN", RK_AWS_SESSION_TOKEN},
        {"SECURITYTOKEN", RK_AWS_SESSION_TOKEN},
        {"ACCESSKEYID", RK_AWS_ACCESS_KEY_ID},
        {"PRIVATEKEY", RK_PRIVATE_KEY},
        {"REGISTRYAUTH", RK_DOCKER_AUTH},
        {"PASSWORD", RK_PASSWORD},
        {"PASSWD", RK_PASSWORD},
        {"PASSPHRASE", RK_PASSWORD},
        {"APIKEY", RK_API_KEY},
        {"TOKEN", RK_TOKEN},
        {"SECRET", RK_SECRET},
        {"CREDENTIAL", RK_CREDENTIAL},
    };
    int kind = -1;
    for (size_t i = 0; i < sizeof inside / sizeof inside[0] && kind < 0; i++)
        if (strstr(norm, inside[i].word))
            kind = (int)inside[i].kind;
    static const char *const pass[] = {"PASS", "PWD", "PW", "PASSWORDS", NULL};
    static const char *const auth[] = {"AUTH", "AUTHS", "AUTHN", NULL};
    static const char *const key[] = {"KEY", "KEYS", NULL};
    static const char *const cred[] = {"CREDS", "CRED", NULL};
    for (size_t i = 0; i < n && kind < 0; i++) {
        if (word_is(words[i], pass))
            /* $PWD is the shell's directory; "pwd" in JSON is a password */
            kind = len == 3 && memcmp(k, "PWD", 3) == 0 ? -1 : RK_PASSWORD;
        else if (word_is(words[i], auth))
            kind = n == 1 && strcmp(words[0], "AUTH") == 0 ? RK_DOCKER_AUTH : RK_AUTH;
        else if (word_is(words[i], key) && n > 1) /* a bare "key" names anything */
            kind = RK_API_KEY;
        else if (word_is(words[i], cred))
            kind = RK_CREDENTIAL;
    }
    if (kind >= 0 && kind != RK_AWS_ACCESS_KEY_ID && n > 1 && word_is(words[n - 1], describes))
        return -1;
    return kind;
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
        int rc = pcre2_match(re, (PCRE2_SPTR)in, len, start, 0, md, match_limits);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) { /* fail closed: what follows start was not checked */
            withhold_rest(out, in, pos, start, st);
            pcre2_match_data_free(md);
            return 1;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t vs = ov[2 * vgroup], ve = ov[2 * vgroup + 1];
        size_t mend = ov[1];
        int kind = (int)rules[idx].kind;
        if (kgroup > 0) {
            kind = classify_key(in + ov[2 * kgroup], ov[2 * kgroup + 1] - ov[2 * kgroup]);
            if (kind < 0) { /* not a secret: look again inside the value */
                start = ov[2 * kgroup + 1] > ov[0] ? ov[2 * kgroup + 1] : ov[0] + 1;
                continue;
            }
        }
        if (vs != PCRE2_UNSET && ve > vs && vs >= pos && !already_redacted(in + vs, ve - vs)) {
            int quoted = ve - vs >= 2 && (in[vs] == '"' || in[vs] == '\'') && in[ve - 1] == in[vs];
            replaced = 1;
            buf_append(out, in + pos, vs - pos);
            if (quoted)
                buf_append_char(out, in[vs]);
            buf_append_str(out, REDACTED);
            if (quoted)
                buf_append_char(out, in[vs]);
            pos = ve;
            st->counts[kind]++;
        }
        start = mend > ov[0] ? mend : ov[0] + 1;
    }
    if (replaced)
        buf_append(out, in + pos, len - pos);
    pcre2_match_data_free(md);
    return replaced;
}

/* -------------------------------------------------------------- environment maps */

/* "Environment": {"NAME": "value", ...}, "env": ["NAME=value", ...] in any
 * text (pretty-printed state, a JSON log line, JSON quoted once inside
 * another string): every value is redacted, whatever its name. */

static void emit_redacted(struct buf *out, const char *in, size_t *pos, size_t vs, size_t ve,
                          struct redact_stats *st)
{
    if (ve <= vs || vs < *pos || already_redacted(in + vs, ve - vs))
        return;
    buf_append(out, in + *pos, vs - *pos);
    buf_append_str(out, REDACTED);
    *pos = ve;
    st->counts[RK_ENV_VALUE]++;
}

/* Scans the map or list starting at in[at] ('{' or '['); returns where it ends. */
static size_t scan_env_map(const char *in, size_t len, size_t at, size_t qlen, struct buf *out,
                           size_t *pos, struct redact_stats *st)
{
    if (qlen != 2) /* a bare key (Environment={...}): the map's own strings are plain */
        qlen = 1;
    const char *q = qlen == 2 ? "\\\"" : "\"";
    int depth = 0, top_is_list = in[at] == '[';
    char last = 0; /* last significant character at depth 1 outside strings */
    size_t limit = len - at > (1u << 20) ? at + (1u << 20) : len;
    for (size_t i = at; i < limit; i++) {
        char c = in[i];
        if (qlen <= len - i && memcmp(in + i, q, qlen) == 0) {
            size_t s = i + qlen, e = s;
            while (e < limit && !(e + qlen <= limit && memcmp(in + e, q, qlen) == 0)) {
                if (qlen == 1 && in[e] == '\\')
                    e++;
                e++;
            }
            if (e >= limit)
                return limit;
            if (depth == 1 && top_is_list) {
                const char *eq = memchr(in + s, '=', e - s);
                emit_redacted(out, in, pos, eq ? (size_t)(eq - in) + 1 : s, e, st);
            } else if (depth == 1 && last == ':') {
                emit_redacted(out, in, pos, s, e, st);
            }
            last = '"';
            i = e + qlen - 1;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i + 1;
        } else if (depth == 1 && (c == ':' || c == ',')) {
            last = c;
        }
    }
    return limit;
}

/* Go's %v of a map, as the ECS agent logs a container's environment:
 * map[NAME:value OTHER:two words]. Every value goes (a word without ':'
 * continues the previous value). Returns where the map ends. */
static size_t scan_go_map(const char *in, size_t len, size_t at, struct buf *out, size_t *pos,
                          struct redact_stats *st)
{
    size_t i = at + 4; /* after "map[" */
    size_t limit = len - at > (1u << 20) ? at + (1u << 20) : len;
    while (i < limit && in[i] != ']') {
        while (i < limit && in[i] == ' ')
            i++;
        size_t tok = i;
        while (i < limit && in[i] != ' ' && in[i] != ']' && in[i] != '\n')
            i++;
        if (i < limit && in[i] == '\n')
            return i; /* a line ends before the map does: stop there */
        const char *colon = memchr(in + tok, ':', i - tok);
        emit_redacted(out, in, pos, colon ? (size_t)(colon - in) + 1 : tok, i, st);
    }
    return i < limit ? i + 1 : limit;
}

static int redact_env_maps(const char *in, size_t len, struct buf *out, struct redact_stats *st)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(env_key_re, NULL);
    int qgroup = pcre2_substring_number_from_name(env_key_re, (PCRE2_SPTR) "q");
    size_t pos = 0, start = 0, before = out->len;
    unsigned found = 0;
    int rc = 0;
    while (start < len &&
           (rc = pcre2_match(env_key_re, (PCRE2_SPTR)in, len, start, 0, md, match_limits)) >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t qlen = ov[2 * qgroup + 1] - ov[2 * qgroup];
        unsigned was = redact_total(st);
        start = in[ov[1]] == 'm' ? scan_go_map(in, len, ov[1], out, &pos, st)
                                 : scan_env_map(in, len, ov[1], qlen, out, &pos, st);
        found += redact_total(st) - was;
        if (start <= ov[0])
            start = ov[0] + 1;
    }
    pcre2_match_data_free(md);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH && start < len) {
        withhold_rest(out, in, pos, start, st); /* fail closed */
        return 1;
    }
    if (!found) {
        out->len = before;
        return 0;
    }
    buf_append(out, in + pos, len - pos);
    return 1;
}

/* -------------------------------------------------------------- cut secrets */

/* Text whose head was cut away (the newest bytes of a log kept) may begin
 * inside a private key block: everything before its END line goes. */
static int redact_cut_head(const char *in, size_t len, struct buf *out, struct redact_stats *st)
{
    static const char end_marker[] = "PRIVATE KEY-----";
    const char *end = memmem(in, len, end_marker, sizeof end_marker - 1);
    if (!end)
        return 0;
    const char *begin = memmem(in, (size_t)(end - in), "-----BEGIN", 10);
    if (begin)
        return 0;
    const char *line = end;
    while (line > in && line[-1] != '\n')
        line--;
    if (line == in)
        return 0; /* the END line is the first line: nothing of the body kept */
    buf_append_str(out, REDACTED "\n");
    buf_append(out, line, len - (size_t)(line - in));
    st->counts[RK_PRIVATE_KEY]++;
    return 1;
}

void redact_cut_text(const char *in, size_t len, struct buf *out, struct redact_stats *st)
{
    if (!redact_cut_head(in, len, out, st))
        buf_append(out, in, len);
}

/* One pass of every rule; 1 when something was replaced. */
static int redact_once(const char *in, size_t len, struct buf *out, struct redact_stats *st)
{
    pthread_once(&compile_once, compile_rules);
    struct buf a, b;
    buf_init(&a);
    buf_init(&b);
    const char *cur = in;
    size_t curlen = len;
    struct buf *dst = &a;
    unsigned before = redact_total(st);
    if (redact_env_maps(cur, curlen, dst, st)) {
        cur = dst->data;
        curlen = dst->len;
        dst = &b;
    }
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
    return redact_total(st) != before;
}

/* A replacement can change what the text around it looks like (a bracket
 * inside a removed value, a word before a key): passes repeat until one
 * finds nothing, so the redact check over the result always passes. */
#define MAX_PASSES 8

void redact_text(const char *in, size_t len, struct buf *out, struct redact_stats *st)
{
    struct buf cur, next;
    buf_init(&cur);
    buf_init(&next);
    int changed = redact_once(in, len, &cur, st);
    for (int pass = 1; changed && pass < MAX_PASSES; pass++) {
        buf_reset(&next);
        changed = redact_once(cur.data ? cur.data : "", cur.len, &next, st);
        struct buf t = cur;
        cur = next;
        next = t;
    }
    buf_append(out, cur.data ? cur.data : "", cur.len);
    buf_free(&cur);
    buf_free(&next);
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

static void redact_env_array(json_t *env, enum redact_kind kind, struct redact_stats *st)
{
    size_t i;
    json_t *v;
    json_array_foreach (env, i, v) {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        const char *eq = strchr(s, '=');
        if (!eq || strcmp(eq + 1, REDACTED) == 0 || eq[1] == 0)
            continue;
        char *repl = xasprintf("%.*s=%s", (int)(eq - s), s, REDACTED);
        json_array_set_new(env, i, json_string(repl));
        free(repl);
        st->counts[kind]++;
    }
}

static void redact_string_member(json_t *obj, const char *key, struct redact_stats *st)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (s && *s && strcmp(s, REDACTED) != 0) {
        json_object_set_new(obj, key, json_string(REDACTED));
        st->counts[RK_ENV_VALUE]++;
    }
}

static int is_env_key(const char *k)
{
    return strcasecmp(k, "env") == 0 || strcasecmp(k, "environment") == 0 ||
           strcasecmp(k, "environmentvariables") == 0 ||
           strcasecmp(k, "environment_variables") == 0;
}

/* Every environment (a list of NAME=value, a map, a list of name/value
 * objects) and every name/value pair anywhere in the document. */
static void redact_json_env(json_t *node, int in_config, struct redact_stats *st, int depth)
{
    if (depth > 64)
        return;
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach (node, i, v)
            redact_json_env(v, 0, st, depth + 1);
        return;
    }
    if (!json_is_object(node))
        return;
    const char *name_key = NULL, *value_key = NULL, *k;
    json_t *v;
    json_object_foreach (node, k, v) {
        if (strcasecmp(k, "name") == 0)
            name_key = k;
        else if (strcasecmp(k, "value") == 0)
            value_key = k;
    }
    if (name_key && value_key)
        redact_string_member(node, value_key, st);
    json_object_foreach (node, k, v) {
        if (is_env_key(k) && json_is_array(v)) {
            redact_env_array(v, in_config ? RK_CONTAINER_ENV : RK_ENV_VALUE, st);
        } else if (is_env_key(k) && json_is_object(v)) {
            const char *ek;
            json_t *ev;
            json_object_foreach (v, ek, ev) {
                if (json_is_string(ev))
                    redact_string_member(v, ek, st);
            }
        }
        redact_json_env(v, strcmp(k, "Config") == 0, st, depth + 1);
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
    redact_json_env(doc, 0, st, 0);
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

void redact_by_mode(enum redact_mode mode, const char *in, size_t len, struct buf *out,
                    struct redact_stats *st)
{
    if (mode == REDACT_ECS_CONFIG)
        redact_ecs_config(in, len, out, st);
    else if (mode == REDACT_INSPECT)
        redact_inspect(in, len, out, st);
    else
        redact_text(in, len, out, st);
}
