/* Credential chain and cache (see credentials.h). Never logs a secret:
 * messages name the source and the access key id's first four characters
 * at most. */
#include "collector/aws/credentials.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "collector/aws/endpoint.h"
#include "collector/aws/errors.h"
#include "collector/aws/request.h"
#include "collector/aws/retry.h"
#include "collector/aws/shared_config.h"
#include "collector/core/config.h"
#include "collector/core/log.h"
#include "collector/core/util.h"

#define MOD "aws"
#define ECS_HOST_URL "http://169.254.170.2"
#define IMDS_DEFAULT "http://169.254.169.254"
#define REFRESH_AHEAD_MS (5 * 60 * 1000)
#define ROLE_DURATION_S 3600

enum cred_kind { CRED_NONE, CRED_STATIC, CRED_ASSUME_ROLE, CRED_ECS, CRED_IMDS };

struct aws_cred_provider {
    enum cred_kind kind;
    char source[768];
    struct aws_creds fixed;              /* CRED_STATIC */

    char url[1024];                      /* ECS */
    char *auth_token;
    char *auth_token_file;

    char imds_base[256];                 /* IMDS */
    int imds_v1;
    int64_t imds_timeout_ms;

    struct aws_cred_provider *base;      /* assume role */
    char *role_arn, *external_id, *session_name;
    char region[64];
    char sts_endpoint[512];
    struct aws_http_opts http;
    char *ca_file, *ca_path, *proxy, *no_proxy;   /* owned copies behind http */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    int refreshing;
    int have;
    int force;
    struct aws_creds cached;
    int64_t fetched_ms;
    _Atomic uint64_t refreshes;
};

/* snprintf through a va_list: messages are truncated on purpose when long. */
static void fmt(char *out, size_t outlen, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t outlen, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, outlen, f, ap);
    va_end(ap);
}

void aws_creds_clear(struct aws_creds *c)
{
    OPENSSL_cleanse(c, sizeof *c);
}

static int is_true(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int set_creds(struct aws_creds *c, const char *akid, const char *secret,
                     const char *token, int64_t expires_ms)
{
    memset(c, 0, sizeof *c);
    if (!akid || !secret || strlen(akid) >= sizeof c->akid || strlen(secret) >= sizeof c->secret ||
        (token && strlen(token) >= sizeof c->token))
        return -1;
    strcpy(c->akid, akid);
    strcpy(c->secret, secret);
    if (token) strcpy(c->token, token);
    c->expires_ms = expires_ms;
    return 0;
}

int64_t aws_parse_iso8601_ms(const char *s)
{
    struct tm tm = { 0 };
    int n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    const char *p = s + n;
    int64_t frac_ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 3) frac_ms = frac_ms * 10 + (*p - '0');
        for (; digits < 3; digits++) frac_ms *= 10;
    }
    int64_t offset_s = 0;
    if (*p == '+' || *p == '-') {
        int hh = 0, mm = 0;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) < 1) return -1;
        offset_s = (int64_t)(hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
    } else if (*p != 'Z' && *p != 'z' && *p != '\0') {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -1;
    return ((int64_t)t - offset_s) * 1000 + frac_ms;
}

/* ---- where IMDS may be probed ---- */

static int file_starts_with(const char *path, const char *prefix, int anywhere)
{
    char buf[256];
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (anywhere) return strstr(buf, prefix) != NULL;
    return strncasecmp(buf, prefix, strlen(prefix)) == 0;
}

int aws_host_is_ec2(const char *root)
{
    char path[512];
    if (!root || !*root) root = "";
    else if (strcmp(root, "/") == 0) root = "";
    fmt(path, sizeof path, "%s/sys/class/dmi/id/sys_vendor", root);
    if (file_starts_with(path, "Amazon", 1)) return 1;
    fmt(path, sizeof path, "%s/sys/class/dmi/id/product_uuid", root);
    if (file_starts_with(path, "ec2", 0)) return 1;
    fmt(path, sizeof path, "%s/sys/hypervisor/uuid", root);
    if (file_starts_with(path, "ec2", 0)) return 1;
    return 0;
}

int aws_imds_allowed(const struct aws_settings *s, char *why, size_t whylen)
{
    const char *mode = s->imds ? s->imds : "auto";
    if (is_true(getenv("AWS_EC2_METADATA_DISABLED"))) {
        fmt(why, whylen, "IMDS disabled by AWS_EC2_METADATA_DISABLED");
        return 0;
    }
    if (strcmp(mode, "off") == 0) {
        fmt(why, whylen, "IMDS disabled (imds = off)");
        return 0;
    }
    if (strcmp(mode, "on") == 0) return 1;
    if (aws_host_is_ec2(s->sysfs_root)) return 1;
    fmt(why, whylen, "not an EC2 host (imds = auto)");
    return 0;
}

void aws_imds_endpoint(char *out, size_t outlen)
{
    const char *e = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!e && env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") &&
        strcasecmp(getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"), "IPv6") == 0)
        e = "http://[fd00:ec2::254]";
    fmt(out, outlen, "%s", e ? e : IMDS_DEFAULT);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/') out[--n] = '\0';
}

/* ---- HTTP fetch helpers ---- */

static struct aws_http *direct_http(int64_t timeout_ms)
{
    struct aws_http_opts o = { .connect_timeout_ms = timeout_ms, .timeout_ms = timeout_ms,
                               .direct = 1 };
    return aws_http_new(&o);
}

/* IMDSv2 token; "" (and 0) when v1 fallback applies; -1 on error. */
static int imds_token(struct aws_http *h, const char *base, int allow_v1, char *tok,
                      size_t toklen, char *err, size_t errlen)
{
    char url[512];
    struct aws_http_response r;
    const char *hdr[] = { "X-aws-ec2-metadata-token-ttl-seconds: 21600" };
    fmt(url, sizeof url, "%s/latest/api/token", base);
    aws_http_response_init(&r);
    int rc = aws_http_request(h, "PUT", url, hdr, 1, "", 0, &r);
    tok[0] = '\0';
    if (rc == 0 && r.status == 200 && r.body.len > 0 && r.body.len < toklen) {
        memcpy(tok, r.body.data, r.body.len + 1);
        aws_http_response_free(&r);
        return 0;
    }
    int soft = rc != 0 || r.status == 403 || r.status == 404 || r.status == 405;
    if (soft && allow_v1) {
        aws_http_response_free(&r);
        return 0;
    }
    if (rc != 0)
        fmt(err, errlen, "IMDSv2 token request to %s failed: %s%s", base, r.curl_error,
                 allow_v1 ? "" : " (IMDSv1 fallback not allowed: imds_v1 = false)");
    else
        fmt(err, errlen, "IMDSv2 token request to %s: HTTP %ld%s", base, r.status,
                 soft && !allow_v1 ? " (IMDSv1 fallback not allowed: imds_v1 = false)" : "");
    aws_http_response_free(&r);
    return -1;
}

static int imds_get(struct aws_http *h, const char *base, const char *tok, const char *path,
                    struct aws_http_response *r, char *err, size_t errlen)
{
    char url[768], hdr[600];
    const char *hdrs[1] = { hdr };
    fmt(url, sizeof url, "%s%s", base, path);
    fmt(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", tok);
    int rc = aws_http_request(h, "GET", url, hdrs, tok[0] ? 1 : 0, NULL, 0, r);
    if (rc != 0) {
        fmt(err, errlen, "IMDS %s: %s", path, r->curl_error);
        return -1;
    }
    if (r->status != 200) {
        fmt(err, errlen, "IMDS %s: HTTP %ld", path, r->status);
        return -1;
    }
    return 0;
}

int aws_imds_region(const struct aws_settings *s, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    char base[256], tok[512];
    aws_imds_endpoint(base, sizeof base);
    struct aws_http *h = direct_http(s->imds_timeout > 0 ? s->imds_timeout : 1000);
    if (!h) {
        fmt(err, errlen, "cannot create HTTP handle");
        return -1;
    }
    struct aws_http_response r;
    aws_http_response_init(&r);
    int rc = imds_token(h, base, s->imds_v1, tok, sizeof tok, err, errlen);
    if (rc == 0) rc = imds_get(h, base, tok, "/latest/meta-data/placement/region", &r, err, errlen);
    if (rc == 0) {
        char *v = r.body.data;
        size_t n = strcspn(v, "\r\n");
        v[n] = '\0';
        if (!aws_region_valid(v)) {
            fmt(err, errlen, "IMDS returned an invalid region");
            rc = -1;
        } else {
            fmt(out, outlen, "%s", v);
        }
    }
    aws_http_response_free(&r);
    aws_http_free(h);
    OPENSSL_cleanse(tok, sizeof tok);
    return rc;
}

/* {"AccessKeyId","SecretAccessKey","Token","Expiration"} (ECS and IMDS). */
static int parse_json_creds(const char *body, size_t len, struct aws_creds *out, const char *what,
                            char *err, size_t errlen)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    int rc = -1;
    if (!json_is_object(root)) {
        fmt(err, errlen, "%s: response is not a JSON object", what);
        goto done;
    }
    const char *code = json_string_value(json_object_get(root, "Code"));
    if (code && strcmp(code, "Success") != 0) {
        fmt(err, errlen, "%s: Code %s", what, code);
        goto done;
    }
    const char *akid = json_string_value(json_object_get(root, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(root, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(root, "Token"));
    const char *exp = json_string_value(json_object_get(root, "Expiration"));
    if (!akid || !secret) {
        fmt(err, errlen, "%s: AccessKeyId/SecretAccessKey missing", what);
        goto done;
    }
    int64_t exp_ms = exp ? aws_parse_iso8601_ms(exp) : 0;
    if (exp && exp_ms < 0) {
        fmt(err, errlen, "%s: bad Expiration", what);
        goto done;
    }
    if (set_creds(out, akid, secret, token, exp_ms) != 0) {
        fmt(err, errlen, "%s: credentials too long", what);
        goto done;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}

static int fetch_imds(struct aws_cred_provider *p, struct aws_creds *out, char *err, size_t errlen)
{
    char tok[512], path[512], role[256];
    struct aws_http *h = direct_http(p->imds_timeout_ms);
    if (!h) {
        fmt(err, errlen, "cannot create HTTP handle");
        return -1;
    }
    struct aws_http_response r;
    aws_http_response_init(&r);
    int rc = imds_token(h, p->imds_base, p->imds_v1, tok, sizeof tok, err, errlen);
    if (rc == 0)
        rc = imds_get(h, p->imds_base, tok, "/latest/meta-data/iam/security-credentials/", &r,
                      err, errlen);
    if (rc == 0) {
        size_t n = strcspn(r.body.data, "\r\n");
        if (n == 0 || n >= sizeof role) {
            fmt(err, errlen, "IMDS: no instance profile role");
            rc = -1;
        } else {
            memcpy(role, r.body.data, n);
            role[n] = '\0';
            fmt(path, sizeof path, "/latest/meta-data/iam/security-credentials/%s", role);
            rc = imds_get(h, p->imds_base, tok, path, &r, err, errlen);
        }
    }
    if (rc == 0) rc = parse_json_creds(r.body.data, r.body.len, out, "IMDS credentials", err, errlen);
    if (r.body.data) OPENSSL_cleanse(r.body.data, r.body.len);
    aws_http_response_free(&r);
    aws_http_free(h);
    OPENSSL_cleanse(tok, sizeof tok);
    return rc;
}

/* The Authorization value for the container endpoint: the token file wins. */
static int ecs_auth(struct aws_cred_provider *p, char *out, size_t outlen, char *err, size_t errlen)
{
    out[0] = '\0';
    if (p->auth_token_file) {
        FILE *f = aws_fopen_regular(p->auth_token_file);
        if (!f) {
            fmt(err, errlen, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s",
                     p->auth_token_file);
            return -1;
        }
        size_t n = fread(out, 1, outlen - 1, f);
        fclose(f);
        out[n] = '\0';
        while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = '\0';
    } else if (p->auth_token) {
        fmt(out, outlen, "%s", p->auth_token);
    }
    if (strpbrk(out, "\r\n")) {
        fmt(err, errlen, "container authorization token contains a line break");
        OPENSSL_cleanse(out, outlen);
        return -1;
    }
    return 0;
}

static int fetch_ecs(struct aws_cred_provider *p, struct aws_creds *out, char *err, size_t errlen)
{
    char token[2048], hdr[2100];
    if (ecs_auth(p, token, sizeof token, err, errlen) != 0) return -1;
    struct aws_http *h = direct_http(2000);
    if (!h) {
        fmt(err, errlen, "cannot create HTTP handle");
        return -1;
    }
    const char *hdrs[2] = { "Accept: application/json", hdr };
    fmt(hdr, sizeof hdr, "Authorization: %s", token);
    struct aws_http_response r;
    aws_http_response_init(&r);
    int rc = -1;
    for (int attempt = 1; attempt <= 3; attempt++) {   /* botocore: 3 tries, 1 s apart */
        if (attempt > 1) aws_sleep_ms(1000);
        if (aws_http_request(h, "GET", p->url, hdrs, token[0] ? 2 : 1, NULL, 0, &r) != 0) {
            fmt(err, errlen, "ECS credentials %s: %s", p->url, r.curl_error);
            continue;
        }
        if (r.status != 200) {
            struct aws_error e;
            aws_error_parse((int)r.status, NULL, NULL, r.body.data, r.body.len, &e);
            fmt(err, errlen, "ECS credentials %s: HTTP %ld %s", p->url, r.status, e.message);
            if (r.status >= 400 && r.status < 500) break;
            continue;
        }
        rc = parse_json_creds(r.body.data, r.body.len, out, "ECS credentials", err, errlen);
        break;
    }
    if (r.body.data) OPENSSL_cleanse(r.body.data, r.body.len);
    aws_http_response_free(&r);
    aws_http_free(h);
    OPENSSL_cleanse(token, sizeof token);
    OPENSSL_cleanse(hdr, sizeof hdr);
    return rc;
}

static void form_param(struct buf *b, const char *name, const char *value)
{
    if (b->len) buf_append_char(b, '&');
    buf_append_str(b, name);
    buf_append_char(b, '=');
    sigv4_uri_encode(b, value, strlen(value), 0);
}

static int fetch_assume_role(struct aws_cred_provider *p, struct aws_creds *out, char *err,
                             size_t errlen)
{
    struct aws_creds base;
    char berr[300];
    if (aws_credentials_get(p->base, &base, berr, sizeof berr) != 0) {
        fmt(err, errlen, "assume role: base credentials: %s", berr);
        return -1;
    }
    struct aws_url url;
    if (aws_url_parse(p->sts_endpoint, &url) != 0) {
        fmt(err, errlen, "assume role: bad STS endpoint");
        aws_creds_clear(&base);
        return -1;
    }
    struct buf body;
    buf_init(&body);
    form_param(&body, "Action", "AssumeRole");
    form_param(&body, "Version", "2011-06-15");
    form_param(&body, "RoleArn", p->role_arn);
    form_param(&body, "RoleSessionName", p->session_name);
    if (p->external_id) form_param(&body, "ExternalId", p->external_id);
    char dur[16];
    fmt(dur, sizeof dur, "%d", ROLE_DURATION_S);
    form_param(&body, "DurationSeconds", dur);

    struct aws_signed_req req = {
        .url = &url, .region = p->region, .service = "sts",
        .content_type = "application/x-www-form-urlencoded; charset=utf-8",
        .body = body.data, .len = body.len,
    };
    struct aws_http *h = aws_http_new(&p->http);
    struct aws_req_scratch scratch;
    aws_req_scratch_init(&scratch);
    struct aws_http_response r;
    aws_http_response_init(&r);
    int rc = -1;
    for (int attempt = 1; h && attempt <= 3; attempt++) {
        if (aws_send_signed(h, &req, &base, now_ms() / 1000, &scratch, &r) != 0) {
            fmt(err, errlen, "STS AssumeRole %s: %s", p->sts_endpoint, r.curl_error);
            aws_sleep_ms(aws_retry_backoff_ms(attempt, 200, 2000, aws_random01()));
            continue;
        }
        if (r.status != 200) {
            struct aws_error e;
            aws_error_parse((int)r.status, r.error_type, r.query_error, r.body.data, r.body.len, &e);
            fmt(err, errlen, "STS AssumeRole %s: HTTP %ld %s: %s", p->role_arn, r.status,
                     e.code, e.message);
            if (!aws_retry_retryable(e.kind)) break;
            aws_sleep_ms(aws_retry_backoff_ms(attempt, 200, 2000, aws_random01()));
            continue;
        }
        char akid[128], secret[128], exp[64];
        char *token = xmalloc(sizeof out->token);
        if (aws_xml_text(r.body.data, r.body.len, "AccessKeyId", akid, sizeof akid) != 0 ||
            aws_xml_text(r.body.data, r.body.len, "SecretAccessKey", secret, sizeof secret) != 0 ||
            aws_xml_text(r.body.data, r.body.len, "SessionToken", token, sizeof out->token) != 0 ||
            aws_xml_text(r.body.data, r.body.len, "Expiration", exp, sizeof exp) != 0 ||
            set_creds(out, akid, secret, token, aws_parse_iso8601_ms(exp)) != 0) {
            fmt(err, errlen, "STS AssumeRole: unexpected response");
        } else {
            rc = 0;
        }
        OPENSSL_cleanse(secret, sizeof secret);
        OPENSSL_cleanse(token, sizeof out->token);
        free(token);
        break;
    }
    if (!h) fmt(err, errlen, "cannot create HTTP handle");
    if (r.body.data) OPENSSL_cleanse(r.body.data, r.body.len);
    aws_http_response_free(&r);
    aws_req_scratch_free(&scratch);
    aws_http_free(h);
    buf_free(&body);
    aws_creds_clear(&base);
    return rc;
}

static int fetch(struct aws_cred_provider *p, struct aws_creds *out, char *err, size_t errlen)
{
    switch (p->kind) {
    case CRED_ECS: return fetch_ecs(p, out, err, errlen);
    case CRED_IMDS: return fetch_imds(p, out, err, errlen);
    case CRED_ASSUME_ROLE: return fetch_assume_role(p, out, err, errlen);
    default:
        fmt(err, errlen, "no credentials: %s", p->source);
        return -1;
    }
}

/* Refresh when within 5 minutes of expiry, or within half the lifetime for
 * short-lived credentials (tests, very short STS sessions). */
static int needs_refresh(const struct aws_cred_provider *p, int64_t now)
{
    if (!p->have || p->force) return 1;
    if (p->cached.expires_ms == 0) return 0;
    int64_t life = p->cached.expires_ms - p->fetched_ms;
    int64_t ahead = life / 2 < REFRESH_AHEAD_MS ? life / 2 : REFRESH_AHEAD_MS;
    return now >= p->cached.expires_ms - ahead;
}

static int still_valid(const struct aws_cred_provider *p, int64_t now)
{
    return p->have && !p->force && (p->cached.expires_ms == 0 || now < p->cached.expires_ms);
}

int aws_credentials_get(struct aws_cred_provider *p, struct aws_creds *out, char *err,
                        size_t errlen)
{
    if (p->kind == CRED_STATIC) {
        *out = p->fixed;
        return 0;
    }
    if (p->kind == CRED_NONE) {
        fmt(err, errlen, "no credentials: %s", p->source + (strncmp(p->source, "none: ", 6) ? 0 : 6));
        return -1;
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int64_t now = now_ms();
        if (!needs_refresh(p, now)) {
            *out = p->cached;
            pthread_mutex_unlock(&p->lock);
            return 0;
        }
        if (!p->refreshing) break;
        if (still_valid(p, now)) {   /* another sender refreshes; use what we have */
            *out = p->cached;
            pthread_mutex_unlock(&p->lock);
            return 0;
        }
        pthread_cond_wait(&p->cond, &p->lock);
    }
    p->refreshing = 1;
    pthread_mutex_unlock(&p->lock);

    struct aws_creds fresh;
    memset(&fresh, 0, sizeof fresh);
    char ferr[2048] = "";
    int rc = fetch(p, &fresh, ferr, sizeof ferr);
    int64_t now = now_ms();

    pthread_mutex_lock(&p->lock);
    p->refreshing = 0;
    pthread_cond_broadcast(&p->cond);
    if (rc == 0) {
        p->cached = fresh;
        p->have = 1;
        p->force = 0;
        p->fetched_ms = now;
        atomic_fetch_add(&p->refreshes, 1);
        *out = p->cached;
        pthread_mutex_unlock(&p->lock);
        aws_creds_clear(&fresh);
        char k4[5];
        fmt(k4, sizeof k4, "%s", out->akid);
        log_msg(LOG_DEBUG, MOD, "credentials refreshed from %s (key %s..., expires in %llds)",
                p->source, k4,
                out->expires_ms ? (long long)((out->expires_ms - now) / 1000) : -1LL);
        return 0;
    }
    int usable = p->have && (p->cached.expires_ms == 0 || now < p->cached.expires_ms);
    if (usable) {
        /* keep going on the old ones until they really expire */
        *out = p->cached;
        pthread_mutex_unlock(&p->lock);
        static struct log_limit lim;
        log_every(&lim, 60000, LOG_WARN, MOD, "credential refresh failed, using current ones: %s", ferr);
        return 0;
    }
    pthread_mutex_unlock(&p->lock);
    fmt(err, errlen, "%s", ferr);
    return -1;
}

void aws_credentials_invalidate(struct aws_cred_provider *p, const struct aws_creds *seen)
{
    if (p->kind == CRED_STATIC || p->kind == CRED_NONE) return;
    pthread_mutex_lock(&p->lock);
    if (p->have && strcmp(p->cached.akid, seen->akid) == 0 &&
        strcmp(p->cached.token, seen->token) == 0)
        p->force = 1;
    pthread_mutex_unlock(&p->lock);
    if (p->kind == CRED_ASSUME_ROLE && p->base) aws_credentials_invalidate(p->base, seen);
}

const char *aws_credentials_describe_source(const struct aws_cred_provider *p)
{
    return p->source;
}

int aws_credentials_refreshable(const struct aws_cred_provider *p)
{
    return p->kind == CRED_ECS || p->kind == CRED_IMDS || p->kind == CRED_ASSUME_ROLE;
}

uint64_t aws_credentials_refresh_count(const struct aws_cred_provider *p)
{
    return atomic_load(&((struct aws_cred_provider *)p)->refreshes);
}

/* ---- choosing the source ---- */

static struct aws_cred_provider *provider_alloc(enum cred_kind kind)
{
    struct aws_cred_provider *p = xcalloc(1, sizeof *p);
    p->kind = kind;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    return p;
}

void aws_cred_provider_free(struct aws_cred_provider *p)
{
    if (!p) return;
    aws_cred_provider_free(p->base);
    aws_creds_clear(&p->fixed);
    aws_creds_clear(&p->cached);
    if (p->auth_token) OPENSSL_cleanse(p->auth_token, strlen(p->auth_token));
    free(p->auth_token);
    free(p->auth_token_file);
    free(p->role_arn);
    free(p->external_id);
    free(p->session_name);
    free(p->ca_file);
    free(p->ca_path);
    free(p->proxy);
    free(p->no_proxy);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}

/* Static credentials from a profile section; 1 found, 0 none, -1 partial. */
static int profile_keys(const struct aws_ini *ini, const char *profile, int config_file,
                        struct aws_creds *out)
{
    if (!ini) return 0;
    const struct aws_ini_section *s = aws_profile(ini, profile, config_file);
    const char *akid = aws_ini_get(s, "aws_access_key_id");
    const char *secret = aws_ini_get(s, "aws_secret_access_key");
    const char *token = aws_ini_get(s, "aws_session_token");
    if (!token) token = aws_ini_get(s, "aws_security_token");
    if (!akid && !secret) return 0;
    if (!akid || !secret) return -1;
    return set_creds(out, akid, secret, token, 0) == 0 ? 1 : -1;
}

/* http is fine only for loopback and the documented ECS/EKS link-local
 * addresses, compared as IP addresses: a host *name* (even one spelled
 * "127.evil.example" or "localhost") is refused before anything resolves it.
 * https may name any host (the certificate proves who answers). */
static int full_uri_allowed(const char *uri)
{
    struct aws_url u;
    if (aws_url_parse(uri, &u) != 0) return 0;
    if (u.https) return 1;
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, u.host, &v4) == 1) {
        uint32_t a = ntohl(v4.s_addr);
        return (a >> 24) == 127 || a == 0xA9FEAA02u /* 169.254.170.2 */ ||
               a == 0xA9FEAA17u /* 169.254.170.23 */;
    }
    if (inet_pton(AF_INET6, u.host, &v6) == 1) {
        struct in6_addr eks;
        (void)inet_pton(AF_INET6, "fd00:ec2::23", &eks);
        return IN6_IS_ADDR_LOOPBACK(&v6) || memcmp(&v6, &eks, sizeof eks) == 0;
    }
    return 0;
}

/* Steps 1-2 (and 4-5): everything but assume role. */
static struct aws_cred_provider *base_chain(const struct aws_cred_env *e, char *why, size_t whylen,
                                            char *err, size_t errlen, int *failed)
{
    const struct aws_settings *s = e->settings;
    struct aws_cred_provider *p;
    struct aws_creds c;
    *failed = 0;

    if (s->access_key_id || s->secret_access_key) {
        if (!s->access_key_id || !s->secret_access_key ||
            set_creds(&c, s->access_key_id, s->secret_access_key, NULL, 0) != 0) {
            fmt(err, errlen, "access_key_id and secret_access_key must be set together");
            *failed = 1;
            return NULL;
        }
        p = provider_alloc(CRED_STATIC);
        p->fixed = c;
        fmt(p->source, sizeof p->source, "configuration (access_key_id in [agent])");
        return p;
    }
    const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
    if (ak || sk) {
        const char *tok = env("AWS_SESSION_TOKEN");
        if (!tok) tok = env("AWS_SECURITY_TOKEN");
        if (!ak || !sk || set_creds(&c, ak, sk, tok, 0) != 0) {
            fmt(err, errlen, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
            *failed = 1;
            return NULL;
        }
        p = provider_alloc(CRED_STATIC);
        p->fixed = c;
        fmt(p->source, sizeof p->source, "environment");
        return p;
    }
    int r = profile_keys(e->credentials_file, e->profile, 0, &c);
    const char *path = e->credentials_path;
    if (r == 0) {
        r = profile_keys(e->config_file, e->profile, 1, &c);
        path = e->config_path;
    }
    if (r < 0) {
        fmt(err, errlen, "%s: profile %s has only one of aws_access_key_id/aws_secret_access_key",
                 path, e->profile);
        *failed = 1;
        return NULL;
    }
    if (r > 0) {
        p = provider_alloc(CRED_STATIC);
        p->fixed = c;
        aws_creds_clear(&c);
        fmt(p->source, sizeof p->source, "shared %s file %s (profile %s)",
                 path == e->config_path ? "config" : "credentials", path, e->profile);
        return p;
    }

    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (rel || full) {
        p = provider_alloc(CRED_ECS);
        if (rel) {
            fmt(p->url, sizeof p->url, "%s%s%s", ECS_HOST_URL, rel[0] == '/' ? "" : "/", rel);
        } else if (!full_uri_allowed(full)) {
            char shown[300];
            conf_echo(full, shown, sizeof shown);
            fmt(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a "
                     "loopback or ECS/EKS address given as an IP (127.0.0.0/8, ::1, 169.254.170.2, "
                     "169.254.170.23, fd00:ec2::23): %s", shown);
            aws_cred_provider_free(p);
            *failed = 1;
            return NULL;
        } else {
            fmt(p->url, sizeof p->url, "%s", full);
        }
        if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
            p->auth_token_file = xstrdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
        else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
            p->auth_token = xstrdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
        fmt(p->source, sizeof p->source, "ECS container credentials (%s)", p->url);
        return p;
    }

    char imds_why[128];
    if (aws_imds_allowed(s, imds_why, sizeof imds_why)) {
        p = provider_alloc(CRED_IMDS);
        aws_imds_endpoint(p->imds_base, sizeof p->imds_base);
        p->imds_v1 = s->imds_v1;
        p->imds_timeout_ms = s->imds_timeout > 0 ? s->imds_timeout : 1000;
        fmt(p->source, sizeof p->source, "EC2 instance profile (%s%s)",
                 p->imds_v1 ? "IMDSv2, IMDSv1 fallback allowed" : "IMDSv2",
                 strcmp(p->imds_base, IMDS_DEFAULT) ? ", endpoint overridden" : "");
        return p;
    }
    fmt(why, whylen,
             "no access keys in configuration, environment or shared files (%s, %s; profile %s); "
             "no ECS container credentials (AWS_CONTAINER_CREDENTIALS_* unset); %s",
             e->credentials_path ? e->credentials_path : "-", e->config_path ? e->config_path : "-",
             e->profile, imds_why);
    return NULL;
}

struct aws_cred_provider *aws_cred_provider_new(const struct aws_cred_env *e, char *err,
                                                size_t errlen)
{
    const struct aws_settings *s = e->settings;
    char why[900] = "";
    int failed;
    const char *role_arn = s->role_arn, *external_id = s->external_id;
    const char *session_name = s->session_name;
    struct aws_cred_provider *base = NULL;

    /* role_arn + source_profile in the config file's profile */
    const struct aws_ini_section *prof = e->config_file ? aws_profile(e->config_file, e->profile, 1) : NULL;
    const char *source_profile = aws_ini_get(prof, "source_profile");
    if (!role_arn && aws_ini_get(prof, "role_arn") && source_profile) {
        role_arn = aws_ini_get(prof, "role_arn");
        external_id = aws_ini_get(prof, "external_id");
        if (!session_name) session_name = aws_ini_get(prof, "role_session_name");
        struct aws_creds c;
        int r = profile_keys(e->credentials_file, source_profile, 0, &c);
        if (r == 0) r = profile_keys(e->config_file, source_profile, 1, &c);
        if (r <= 0) {
            fmt(err, errlen, "profile %s: source_profile %s has no usable access keys",
                     e->profile, source_profile);
            return NULL;
        }
        base = provider_alloc(CRED_STATIC);
        base->fixed = c;
        aws_creds_clear(&c);
        fmt(base->source, sizeof base->source, "shared files (profile %s)", source_profile);
    } else {
        base = base_chain(e, why, sizeof why, err, errlen, &failed);
        if (failed) return NULL;
    }

    if (role_arn) {
        if (!base) {
            fmt(err, errlen, "role_arn %s: no credentials to assume it with: %s", role_arn, why);
            return NULL;
        }
        struct aws_cred_provider *p = provider_alloc(CRED_ASSUME_ROLE);
        p->base = base;
        p->role_arn = xstrdup(role_arn);
        p->external_id = external_id ? xstrdup(external_id) : NULL;
        p->session_name = session_name ? xstrdup(session_name)
                                       : xasprintf("collector-%lld", (long long)(now_ms() / 1000));
        fmt(p->region, sizeof p->region, "%s", e->region ? e->region : "us-east-1");
        fmt(p->sts_endpoint, sizeof p->sts_endpoint, "%s", e->sts_endpoint ? e->sts_endpoint : "");
        p->http = e->http;
        p->http.direct = 0;
        p->ca_file = e->http.ca_file ? xstrdup(e->http.ca_file) : NULL;
        p->ca_path = e->http.ca_path ? xstrdup(e->http.ca_path) : NULL;
        p->proxy = e->http.proxy ? xstrdup(e->http.proxy) : NULL;
        p->no_proxy = e->http.no_proxy ? xstrdup(e->http.no_proxy) : NULL;
        p->http.ca_file = p->ca_file;
        p->http.ca_path = p->ca_path;
        p->http.proxy = p->proxy;
        p->http.no_proxy = p->no_proxy;
        fmt(p->source, sizeof p->source, "assume role %s via %s", role_arn, base->source);
        return p;
    }
    if (base) return base;
    struct aws_cred_provider *none = provider_alloc(CRED_NONE);
    fmt(none->source, sizeof none->source, "none: %s", why);
    return none;
}

int aws_creds_parse_json(const char *body, size_t len, struct aws_creds *out, char *err,
                         size_t errlen)
{
    return parse_json_creds(body, len, out, "credentials", err, errlen);
}
