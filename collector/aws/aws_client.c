/* The AWS client: context (region, endpoints, credential source), senders
 * (one keep-alive libcurl handle each) and aws_call with standard-mode
 * retries. See aws.h. */
#include "collector/aws/aws.h"

#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <zlib.h>

#include "collector/aws/credentials.h"
#include "collector/aws/endpoint.h"
#include "collector/aws/errors.h"
#include "collector/aws/http.h"
#include "collector/aws/request.h"
#include "collector/aws/retry.h"
#include "collector/aws/shared_config.h"
#include "collector/core/log.h"

#define MOD "aws"

struct aws_context {
    char region[64];
    char region_origin[64];
    char endpoint[AWS_SVC_COUNT][512];
    struct aws_url url[AWS_SVC_COUNT];
    struct aws_cred_provider *creds;
    struct aws_http_opts http;
    char *ca_file, *ca_path, *proxy, *no_proxy;
    int max_attempts;
    int64_t base_delay_ms, max_backoff_ms;
    struct aws_retry_budget *budget;

    _Atomic uint64_t n_requests, n_calls, n_retries, n_throttles;
    _Atomic uint64_t n_errors[AWS_ERR_KIND_COUNT];
    _Atomic int64_t last_success_ms;
    _Atomic int64_t credentials_expire_ms; /* of the credentials last used; 0 = never expire */

    const struct aws_settings *settings;   /* whose agent this is: aws_abort_settings() */
    _Atomic int aborted;
    _Atomic int warned_plaintext;          /* said once: a session token over http:// */
    struct aws_context *next_live;         /* in `live`, under live_lock */
};

/* Every context alive, so a stop can reach the requests of one agent's. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct aws_context *live;

void aws_abort_settings(const struct aws_settings *s)
{
    pthread_mutex_lock(&live_lock);
    for (struct aws_context *c = live; c; c = c->next_live)
        if (c->settings == s)
            atomic_store(&c->aborted, 1);
    pthread_mutex_unlock(&live_lock);
}

static void live_remove(struct aws_context *ctx)
{
    pthread_mutex_lock(&live_lock);
    for (struct aws_context **p = &live; *p; p = &(*p)->next_live)
        if (*p == ctx) {
            *p = ctx->next_live;
            break;
        }
    pthread_mutex_unlock(&live_lock);
}

/* The shared credentials file holds long-term keys: readable by every user
 * of the host is worth a warning (once per file and process). */
static void warn_world_readable(const char *path)
{
    static _Atomic int warned;
    struct stat st;
    if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IROTH))
        return;
    if (atomic_exchange(&warned, 1))
        return;
    log_msg(LOG_WARN, MOD,
            "the shared credentials file %s is readable by every user (mode %03o); "
            "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
}

struct aws_sender {
    struct aws_context *ctx;
    struct aws_http *http;
    struct aws_req_scratch scratch;
    struct aws_http_response hr;
    struct buf gz;
};

void aws_response_init(struct aws_response *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
}

void aws_response_free(struct aws_response *r)
{
    buf_free(&r->body);
}

/* ---- context ---- */

static char *home_path(const char *env_name, const char *rel)
{
    const char *v = getenv(env_name);
    if (v && *v) {
        if (v[0] == '~' && v[1] == '/') {
            const char *home = getenv("HOME");
            return xasprintf("%s%s", home ? home : "", v + 1);
        }
        return xstrdup(v);
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/";
    }
    return xasprintf("%s/%s", home, rel);
}

static int resolve_region(struct aws_context *ctx, const struct aws_settings *s,
                          const struct aws_ini *config, const char *profile,
                          char *err, size_t errlen)
{
    const char *r = NULL, *origin = NULL;
    if (s->region && *s->region) r = s->region, origin = "configuration";
    else if (getenv("AWS_REGION") && *getenv("AWS_REGION")) r = getenv("AWS_REGION"), origin = "AWS_REGION";
    else if (getenv("AWS_DEFAULT_REGION") && *getenv("AWS_DEFAULT_REGION"))
        r = getenv("AWS_DEFAULT_REGION"), origin = "AWS_DEFAULT_REGION";
    else if ((r = aws_ini_get(aws_profile(config, profile, 1), "region"))) origin = "profile";
    if (r) {
        if (!aws_region_valid(r)) {
            snprintf(err, errlen, "invalid region \"%s\" (from %s)", r, origin);
            return -1;
        }
        snprintf(ctx->region, sizeof ctx->region, "%s", r);
        snprintf(ctx->region_origin, sizeof ctx->region_origin, "%s", origin);
        return 0;
    }
    char why[160], ierr[300];
    if (!aws_imds_allowed(s, why, sizeof why)) {
        snprintf(err, errlen, "no region: set region in [agent], AWS_REGION or the profile (%s)", why);
        return -1;
    }
    if (aws_imds_region(s, ctx->region, sizeof ctx->region, ierr, sizeof ierr) != 0) {
        snprintf(err, errlen, "no region: not configured and IMDS failed: %s", ierr);
        return -1;
    }
    snprintf(ctx->region_origin, sizeof ctx->region_origin, "IMDS");
    return 0;
}

static const char *profile_name(const struct aws_settings *s)
{
    if (s->profile && *s->profile) return s->profile;
    if (getenv("AWS_PROFILE") && *getenv("AWS_PROFILE")) return getenv("AWS_PROFILE");
    if (getenv("AWS_DEFAULT_PROFILE") && *getenv("AWS_DEFAULT_PROFILE")) return getenv("AWS_DEFAULT_PROFILE");
    return "default";
}

struct aws_context *aws_context_new(const struct aws_settings *s, char *err, size_t errlen)
{
    struct aws_context *ctx = xcalloc(1, sizeof *ctx);
    struct aws_ini cred_ini, conf_ini;
    char *cred_path = home_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    char *conf_path = home_path("AWS_CONFIG_FILE", ".aws/config");
    const char *profile = profile_name(s);
    int ok = 0;

    memset(&cred_ini, 0, sizeof cred_ini);
    memset(&conf_ini, 0, sizeof conf_ini);
    if (aws_ini_load(cred_path, &cred_ini, err, errlen) < 0) goto out;
    warn_world_readable(cred_path);
    if (aws_ini_load(conf_path, &conf_ini, err, errlen) < 0) goto out;
    if (resolve_region(ctx, s, &conf_ini, profile, err, errlen) != 0) goto out;

    for (int svc = 0; svc < AWS_SVC_COUNT; svc++) {
        const char *configured = svc == AWS_SVC_LOGS ? s->endpoint_logs
                               : svc == AWS_SVC_MONITORING ? s->endpoint_metrics : s->endpoint_sts;
        const char *origin;
        char eerr[300];
        if (aws_endpoint_resolve((enum aws_service)svc, ctx->region, configured, s->use_fips,
                                 s->use_dualstack, NULL, ctx->endpoint[svc], sizeof ctx->endpoint[svc],
                                 &origin, eerr, sizeof eerr) != 0 ||
            aws_url_parse(ctx->endpoint[svc], &ctx->url[svc]) != 0) {
            snprintf(err, errlen, "%s endpoint: %s", aws_service_name((enum aws_service)svc), eerr);
            goto out;
        }
    }

    ctx->ca_file = s->ca_file ? xstrdup(s->ca_file) : NULL;
    ctx->ca_path = s->ca_path ? xstrdup(s->ca_path) : NULL;
    ctx->proxy = s->proxy ? xstrdup(s->proxy) : NULL;
    ctx->no_proxy = s->no_proxy ? xstrdup(s->no_proxy) : NULL;
    ctx->http = (struct aws_http_opts){
        .ca_file = ctx->ca_file, .ca_path = ctx->ca_path, .proxy = ctx->proxy,
        .no_proxy = ctx->no_proxy, .connect_timeout_ms = s->connect_timeout > 0 ? s->connect_timeout : 5000,
        .timeout_ms = s->request_timeout > 0 ? s->request_timeout : 30000,
        .abort = &ctx->aborted,
    };
    ctx->settings = s;
    ctx->max_attempts = s->max_attempts > 0 ? (int)(s->max_attempts > 100 ? 100 : s->max_attempts) : 3;
    ctx->base_delay_ms = s->retry_base_delay > 0 ? s->retry_base_delay : 1000;
    ctx->max_backoff_ms = s->retry_max_backoff > 0 ? s->retry_max_backoff : 20000;
    ctx->budget = aws_retry_budget_new((int)(s->retry_budget < 0 ? 0 : s->retry_budget > 1000000 ? 1000000 : s->retry_budget));

    struct aws_cred_env ce = {
        .settings = s, .profile = profile,
        .credentials_file = &cred_ini, .credentials_path = cred_path,
        .config_file = &conf_ini, .config_path = conf_path,
        .region = ctx->region, .sts_endpoint = ctx->endpoint[AWS_SVC_STS], .http = ctx->http,
    };
    ctx->creds = aws_cred_provider_new(&ce, err, errlen);
    if (!ctx->creds) goto out;
    ok = 1;
out:
    aws_ini_free(&cred_ini);
    aws_ini_free(&conf_ini);
    free(cred_path);
    free(conf_path);
    if (!ok) {
        aws_context_free(ctx);
        return NULL;
    }
    pthread_mutex_lock(&live_lock);
    ctx->next_live = live;
    live = ctx;
    pthread_mutex_unlock(&live_lock);
    return ctx;
}

void aws_context_free(struct aws_context *ctx)
{
    if (!ctx) return;
    live_remove(ctx);
    aws_cred_provider_free(ctx->creds);
    aws_retry_budget_free(ctx->budget);
    free(ctx->ca_file);
    free(ctx->ca_path);
    free(ctx->proxy);
    free(ctx->no_proxy);
    free(ctx);
}

const char *aws_context_region(const struct aws_context *ctx) { return ctx->region; }

const char *aws_context_credential_source(const struct aws_context *ctx)
{
    return aws_credentials_describe_source(ctx->creds);
}

const char *aws_context_endpoint(const struct aws_context *ctx, enum aws_service svc)
{
    return (unsigned)svc < AWS_SVC_COUNT ? ctx->endpoint[svc] : "";
}

/* Print a proxy URL with its user:password part replaced by "***". */
static void print_masked_url(FILE *out, const char *url)
{
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    const char *end = auth + strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', (size_t)(end - auth));
    if (!at) {
        fputs(url, out);
        return;
    }
    fprintf(out, "%.*s***%s", (int)(auth - url), url, at);
}

void aws_context_describe(const struct aws_context *ctx, FILE *out)
{
    fprintf(out, "aws region: %s (from %s)\n", ctx->region, ctx->region_origin);
    for (int svc = 0; svc < AWS_SVC_COUNT; svc++)
        fprintf(out, "aws endpoint %s: %s\n", aws_service_name((enum aws_service)svc),
                ctx->endpoint[svc]);
    fprintf(out, "aws credentials: %s\n", aws_credentials_describe_source(ctx->creds));
    fputs("aws proxy: ", out);
    if (ctx->proxy)
        print_masked_url(out, ctx->proxy);
    else
        fputs("(from the environment, if any)", out);
    fputc('\n', out);
    fprintf(out, "aws retries: max_attempts %d, backoff %lld..%lld ms, budget %d\n",
            ctx->max_attempts, (long long)ctx->base_delay_ms, (long long)ctx->max_backoff_ms,
            aws_retry_budget_available(ctx->budget));
}

void aws_context_counters(const struct aws_context *ctx, struct aws_counters *out)
{
    struct aws_context *c = (struct aws_context *)ctx;
    memset(out, 0, sizeof *out);
    out->requests = atomic_load(&c->n_requests);
    out->calls = atomic_load(&c->n_calls);
    out->retries = atomic_load(&c->n_retries);
    out->throttles = atomic_load(&c->n_throttles);
    for (int i = 0; i < AWS_ERR_KIND_COUNT; i++) out->errors[i] = atomic_load(&c->n_errors[i]);
    out->credential_refreshes = aws_credentials_refresh_count(c->creds);
    out->last_success_ms = atomic_load(&c->last_success_ms);
    out->credentials_expire_ms = atomic_load(&c->credentials_expire_ms);
}

/* ---- senders ---- */

/* Never NULL: the HTTP handle is made here if it can be, else at each call
 * (aws_call), where a missing one (libcurl could not be loaded) is a
 * network error, retried like one, so what waits to be sent stays buffered. */
struct aws_sender *aws_sender_new(struct aws_context *ctx)
{
    struct aws_sender *s = xcalloc(1, sizeof *s);
    s->ctx = ctx;
    s->http = aws_http_new(&ctx->http);
    aws_req_scratch_init(&s->scratch);
    aws_http_response_init(&s->hr);
    buf_init(&s->gz);
    return s;
}

void aws_sender_free(struct aws_sender *s)
{
    if (!s) return;
    aws_http_free(s->http);
    aws_req_scratch_free(&s->scratch);
    aws_http_response_free(&s->hr);
    buf_free(&s->gz);
    free(s);
}

/* gzip (RFC 1952) into out, reusing its memory. 0 or -1. */
static int gzip_into(struct buf *out, const void *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t bound = deflateBound(&z, (uLong)len) + 32;
    buf_reset(out);
    buf_reserve(out, bound);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    out->len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return -1;
    out->data[out->len] = '\0';
    return 0;
}

static const char *default_content_type(enum aws_service svc)
{
    switch (svc) {
    case AWS_SVC_LOGS: return "application/x-amz-json-1.1";
    case AWS_SVC_MONITORING: return "application/x-amz-json-1.0";
    default: return "application/x-www-form-urlencoded; charset=utf-8";
    }
}

static void set_error(struct aws_error *e, enum aws_error_kind kind, const char *code, const char *msg)
{
    e->kind = kind;
    snprintf(e->code, sizeof e->code, "%s", code);
    snprintf(e->message, sizeof e->message, "%s", msg);
}

/* budget: the one the call's retries were taken from, which its success
 * refills (a control-plane budget must refill itself, not the data's). */
static int finish(struct aws_sender *s, struct aws_response *resp, struct aws_retry_budget *budget,
                  int taken)
{
    struct aws_context *ctx = s->ctx;
    resp->status = (int)s->hr.status;
    snprintf(resp->request_id, sizeof resp->request_id, "%s", s->hr.request_id);
    buf_reset(&resp->body);
    if (s->hr.body.len) buf_append(&resp->body, s->hr.body.data, s->hr.body.len);
    if (resp->error.kind == AWS_ERR_NONE) {
        aws_retry_budget_success(budget, taken);
        atomic_store(&ctx->last_success_ms, now_ms());
        return 0;
    }
    atomic_fetch_add(&ctx->n_errors[resp->error.kind], 1);
    return -(int)resp->error.kind;
}

int aws_call(struct aws_sender *s, const struct aws_request *req, struct aws_response *resp)
{
    struct aws_context *ctx = s->ctx;
    struct aws_retry_budget *budget = req->budget ? req->budget : ctx->budget;
    const void *body = req->body;
    size_t len = req->len;
    int refreshed = 0, taken = 0;

    resp->status = 0;
    buf_reset(&resp->body);
    resp->request_id[0] = '\0';
    memset(&resp->error, 0, sizeof resp->error);
    resp->attempts = resp->throttles = 0;
    atomic_fetch_add(&ctx->n_calls, 1);
    s->hr.status = 0;
    buf_reset(&s->hr.body);
    s->hr.request_id[0] = '\0';

    if ((unsigned)req->service >= AWS_SVC_COUNT) {
        set_error(&resp->error, AWS_ERR_INTERNAL, "BadService", "unknown service");
        return finish(s, resp, budget, 0);
    }
    if (!s->http && !(s->http = aws_http_new(&ctx->http))) {
        set_error(&resp->error, AWS_ERR_NETWORK, "NoHTTP",
                  "libcurl could not be loaded (the agent's log says why)");
        return finish(s, resp, budget, 0);
    }
    if (req->gzip) {
        if (gzip_into(&s->gz, req->body, req->len) != 0) {
            set_error(&resp->error, AWS_ERR_INTERNAL, "CompressionFailed", "gzip failed");
            return finish(s, resp, budget, 0);
        }
        body = s->gz.data;
        len = s->gz.len;
    }
    struct aws_signed_req sr = {
        .url = &ctx->url[req->service],
        .region = ctx->region, .service = aws_service_name(req->service),
        .target = req->target,
        .content_type = req->content_type ? req->content_type : default_content_type(req->service),
        .gzipped = req->gzip, .extra = req->headers, .nextra = req->nheaders,
        .body = body, .len = len,
    };

    for (int attempt = 1; attempt <= ctx->max_attempts; attempt++) {
        struct aws_creds creds;
        char cerr[512];
        if (aws_credentials_get(ctx->creds, &creds, cerr, sizeof cerr) != 0) {
            set_error(&resp->error, AWS_ERR_CREDENTIALS, "NoCredentials", cerr);
            break;
        }
        atomic_store(&ctx->credentials_expire_ms, creds.expires_ms);
        if (creds.token[0] && !sr.url->https && !atomic_exchange(&ctx->warned_plaintext, 1))
            log_msg(LOG_WARN, MOD,
                    "%s endpoint %s is http://: the session token (X-Amz-Security-Token) is "
                    "sent unencrypted; use https", aws_service_name(req->service),
                    ctx->endpoint[req->service]);
        resp->attempts++;
        atomic_fetch_add(&ctx->n_requests, 1);
        int rc = aws_send_signed(s->http, &sr, &creds, now_ms() / 1000, &s->scratch, &s->hr);
        if (rc != 0) {
            set_error(&resp->error, AWS_ERR_NETWORK, "", s->hr.curl_error);
        } else {
            aws_error_parse((int)s->hr.status, s->hr.error_type, s->hr.query_error,
                            s->hr.body.data, s->hr.body.len, &resp->error);
        }
        if (resp->error.kind == AWS_ERR_NONE) {
            aws_creds_clear(&creds);
            return finish(s, resp, budget, taken);
        }
        if (resp->error.kind == AWS_ERR_THROTTLE) {
            resp->throttles++;
            atomic_fetch_add(&ctx->n_throttles, 1);
        }
        if (aws_error_wants_refresh(resp->error.code) && !refreshed) {
            /* once: fetch new credentials and resend at once; this retry
             * does not count against max_attempts */
            refreshed = 1;
            aws_credentials_invalidate(ctx->creds, &creds);
            aws_creds_clear(&creds);
            log_msg(LOG_INFO, MOD, "%s: %s, refreshing credentials", aws_service_name(req->service),
                    resp->error.code);
            attempt--;
            atomic_fetch_add(&ctx->n_retries, 1);
            continue;
        }
        aws_creds_clear(&creds);
        if (!aws_retry_retryable(resp->error.kind) || attempt == ctx->max_attempts) break;
        int cost = aws_retry_budget_acquire(budget, resp->error.kind);
        if (cost < 0) {
            log_msg(LOG_DEBUG, MOD, "retry budget exhausted, not retrying %s", resp->error.code);
            break;
        }
        taken += cost;
        atomic_fetch_add(&ctx->n_retries, 1);
        int64_t delay = aws_retry_backoff_ms(attempt, ctx->base_delay_ms, ctx->max_backoff_ms,
                                             aws_random01());
        log_msg(LOG_DEBUG, MOD, "%s %s: %s (%s), retry %d in %lld ms",
                aws_service_name(req->service), req->target ? req->target : "",
                resp->error.code[0] ? resp->error.code : aws_error_kind_name(resp->error.kind),
                resp->error.message, attempt, (long long)delay);
        /* the wait, in slices, so that a stop does not sit it out */
        for (int64_t left = delay; left > 0 && !atomic_load(&ctx->aborted); left -= 100)
            aws_sleep_ms(left < 100 ? left : 100);
        if (atomic_load(&ctx->aborted)) break;
    }
    return finish(s, resp, budget, taken);
}

int64_t aws_context_credentials_expiry(const struct aws_context *ctx)
{
    return atomic_load(&((struct aws_context *)ctx)->credentials_expire_ms);
}

int aws_settings_usable(const struct aws_settings *s, struct buf *why)
{
    char err[512];
    struct aws_context *aws = aws_context_new(s, err, sizeof err);
    if (!aws) {
        buf_printf(why, "%s", err);
        return 0;
    }
    const char *src = aws_context_credential_source(aws);
    int ok = src && strncmp(src, "none", 4) != 0;
    if (!ok)
        buf_printf(why, "no AWS credentials (%s)", src ? src : "none");
    aws_context_free(aws);
    return ok;
}
