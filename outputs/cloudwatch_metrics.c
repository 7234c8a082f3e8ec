/* `cloudwatch_metrics` output: PutMetricData to Amazon CloudWatch.
 *
 * send() folds a batch's metric records by (name, dimensions, unit,
 * storage resolution, time bucket) into datums, StatisticValues
 * {SampleCount, Sum, Minimum, Maximum} or Values/Counts, after checking
 * every sample against the limits of PutMetricData (spec/cloudwatch.md
 * §3.2): what AWS would refuse is dropped and counted (reason "invalid",
 * or "too_old" / "too_new" for timestamps outside -14 days .. +2 hours),
 * never sent to fail a call. The datums are cut into calls of at most 1,000
 * datums and 1 MiB, JSON 1.0 (awsJson, X-Amz-Target
 * GraniteServiceVersion20100801.PutMetricData) or the query protocol;
 * bodies of gzip_min_size (10 KiB) or more are gzipped (§3.4). Retries are
 * the AWS core's; a call still failing with a retryable error makes the
 * batch retried from the first call not yet accepted (batch->plugin_state),
 * a call refused as invalid is logged and its samples counted as rejected.
 * The pure parts are in collector/metrics/pmd.h. */
#include "collector/aws/aws.h"
#include "collector/core/config.h"
#include "collector/core/log.h"
#include "collector/metrics/ci_names.h"
#include "collector/metrics/pmd.h"
#include "collector/pipeline/batch.h"
#include "collector/plugin.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "cloudwatch_metrics"
#define LOG_INTERVAL_MS 10000
#define MAX_SETS 64

struct cwm_conf {
    char *namespace_;
    char *protocol;
    int64_t storage_resolution;
    char *fold;
    struct strlist dimension_sets;
    uint64_t gzip_min_size;
    int64_t max_datums;
};

static const struct option_def cwm_options[] = {
    {"namespace", OPT_STRING, CI_DEFAULT_NAMESPACE, 0, offsetof(struct cwm_conf, namespace_), NULL,
     "CloudWatch namespace (1-255 printable ASCII, not starting with ':' or AWS/)"},
    {"protocol", OPT_ENUM, "json", 0, offsetof(struct cwm_conf, protocol), "json|query",
     "PutMetricData wire protocol: JSON 1.0 (awsJson) or the query (form) protocol"},
    {"storage_resolution", OPT_INT, "60", 0, offsetof(struct cwm_conf, storage_resolution),
     "1..60", "1 = high resolution (per-second buckets), 60 = standard (per-minute buckets)"},
    {"fold", OPT_ENUM, "statistics", 0, offsetof(struct cwm_conf, fold), "statistics|values",
     "samples of one metric in one bucket become StatisticValues, or Values/Counts"},
    {"dimension_sets", OPT_LIST, NULL, 0, offsetof(struct cwm_conf, dimension_sets), NULL,
     "publish only these dimension sets, each as names joined by '+' (e.g. ClusterName "
     "ClusterName+ServiceName); empty = every set"},
    {"gzip_min_size", OPT_SIZE, "10240", 0, offsetof(struct cwm_conf, gzip_min_size), NULL,
     "gzip request bodies of this size or more (Content-Encoding: gzip); 0 = never"},
    {"max_datums", OPT_INT, "1000", 0, offsetof(struct cwm_conf, max_datums), "1..1000",
     "datums per PutMetricData call"},
    {0},
};

struct dimset {
    char *names[PMD_MAX_DIMS];
    int n;
};

struct cwm_ctx {
    struct cwm_conf *conf;
    struct aws_context *aws;
    enum pmd_protocol protocol;
    enum pmd_fold fold;
    int resolution;
    struct dimset sets[MAX_SETS];
    int nsets;
    _Atomic uint64_t calls, calls_failed, datums_sent, invalid, gzipped, bytes_sent;
};

struct cwm_worker {
    struct aws_sender *sender;
    struct pmd_folder folder;
    struct pmd_encoder enc;
    struct buf body;
    struct pmd_dim dims[PMD_MAX_DIMS + 1];
    struct aws_response resp;
    struct log_limit invalid_limit, error_limit;
};

/* ----------------------------------------------------------------- init */

static int conf_error(struct output_instance *out, struct diag *diag, const char *key,
                      const char *msg)
{
    const struct conf_entry *e = out->section ? conf_section_get(out->section, key) : NULL;
    diag_add(diag, e ? e->file : (out->section ? out->section->file : NULL),
             e ? e->line : (out->section ? out->section->line : 0), "output %s: %s", out->name,
             msg);
    return -1;
}

static void sets_free(struct cwm_ctx *ctx)
{
    for (int i = 0; i < ctx->nsets; i++)
        for (int k = 0; k < ctx->sets[i].n; k++)
            free(ctx->sets[i].names[k]);
    ctx->nsets = 0;
}

static int parse_sets(struct output_instance *out, struct cwm_ctx *ctx, struct diag *diag)
{
    const struct strlist *l = &ctx->conf->dimension_sets;
    char msg[512];
    if (l->count > MAX_SETS)
        return conf_error(out, diag, "dimension_sets", "dimension_sets: at most 64 sets");
    for (int i = 0; i < l->count; i++) {
        struct dimset *s = &ctx->sets[ctx->nsets++];
        const char *p = l->items[i];
        while (*p) {
            const char *plus = strchr(p, '+');
            size_t len = plus ? (size_t)(plus - p) : strlen(p);
            if (len == 0 || s->n == PMD_MAX_DIMS) {
                snprintf(msg, sizeof msg, "dimension_sets: '%s' is not NAME+NAME... (1-30 names)",
                         l->items[i]);
                return conf_error(out, diag, "dimension_sets", msg);
            }
            s->names[s->n++] = xstrndup(p, len);
            p = plus ? plus + 1 : p + len;
        }
    }
    return 0;
}

static void ctx_free(struct cwm_ctx *ctx)
{
    if (!ctx)
        return;
    sets_free(ctx);
    aws_context_free(ctx->aws);
    free(ctx);
}

/* What init checks of the options, into ctx (its dimension sets). */
static int check_options(struct output_instance *out, struct cwm_ctx *ctx, struct diag *diag)
{
    const struct cwm_conf *conf = ctx->conf;
    int bad = 0;
    if (!pmd_namespace_valid(conf->namespace_))
        bad |= conf_error(out, diag, "namespace",
                          "namespace must be 1-255 printable ASCII characters, not starting "
                          "with ':' or 'AWS/'");
    if (conf->storage_resolution != 1 && conf->storage_resolution != 60)
        bad |= conf_error(out, diag, "storage_resolution", "storage_resolution must be 1 or 60");
    bad |= parse_sets(out, ctx, diag);
    return bad;
}

static int cwm_check(struct output_instance *out, struct diag *diag)
{
    struct cwm_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->conf = out->conf;
    int bad = check_options(out, ctx, diag);
    ctx_free(ctx);
    return bad ? -1 : 0;
}

static int cwm_init(struct output_instance *out, struct diag *diag)
{
    struct cwm_conf *conf = out->conf;
    struct cwm_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->conf = conf;
    int bad = check_options(out, ctx, diag);
    if (bad) {
        ctx_free(ctx);
        return -1;
    }
    char err[512];
    ctx->aws = aws_context_new(out->host->aws, err, sizeof err);
    if (!ctx->aws) {
        conf_error(out, diag, "type", err);
        ctx_free(ctx);
        return -1;
    }
    ctx->protocol = strcmp(conf->protocol, "query") == 0 ? PMD_QUERY : PMD_JSON;
    ctx->fold = strcmp(conf->fold, "values") == 0 ? PMD_FOLD_VALUES : PMD_FOLD_STATS;
    ctx->resolution = (int)conf->storage_resolution;
    out->ctx = ctx;
    return 0;
}

static int cwm_available(struct output_instance *out, struct buf *why)
{
    return aws_settings_usable(out->host->aws, why);
}

/* -------------------------------------------------------------- workers */

static void *cwm_worker_init(struct output_instance *out)
{
    struct cwm_ctx *ctx = out->ctx;
    struct cwm_worker *w = xcalloc(1, sizeof *w);
    w->sender = aws_sender_new(ctx->aws);
    pmd_folder_init(&w->folder, ctx->fold);
    pmd_encoder_init(&w->enc, ctx->protocol, ctx->conf->namespace_);
    w->enc.max_datums = (uint32_t)ctx->conf->max_datums;
    buf_init(&w->body);
    aws_response_init(&w->resp);
    return w;
}

static void cwm_worker_free(struct output_instance *out, void *worker)
{
    (void)out;
    struct cwm_worker *w = worker;
    aws_sender_free(w->sender);
    pmd_folder_free(&w->folder);
    pmd_encoder_free(&w->enc);
    buf_free(&w->body);
    aws_response_free(&w->resp);
    free(w);
}

/* ------------------------------------------------------------- sending */

/* Does the record's set of dimension names equal one configured set? */
static int set_wanted(const struct cwm_ctx *ctx, const struct pmd_dim *dims, int n)
{
    if (ctx->nsets == 0)
        return 1;
    for (int i = 0; i < ctx->nsets; i++) {
        const struct dimset *s = &ctx->sets[i];
        if (s->n != n)
            continue;
        int all = 1;
        for (int k = 0; k < n && all; k++) {
            int found = 0;
            for (int j = 0; j < s->n && !found; j++)
                found = strcmp(s->names[j], dims[k].name) == 0;
            all = found;
        }
        if (all)
            return 1;
    }
    return 0;
}

/* Fold the batch; what cannot be sent is counted by drop reason into bad_by.
 * Returns the number of such samples. */
static uint64_t fold_batch(struct output_instance *out, struct cwm_worker *w,
                           const struct batch *b, int log_invalid,
                           uint64_t bad_by[DROP_REASON_COUNT])
{
    struct cwm_ctx *ctx = out->ctx;
    pmd_folder_reset(&w->folder);
    int64_t now = now_ms();
    uint64_t invalid = 0;
    for (uint32_t i = 0; i < b->count; i++) {
        const struct metric_record *r = &b->metrics[i];
        const char *name = batch_str(b, r->name_off);
        const char *unit = batch_str(b, r->unit_off);
        int nd = r->ndims > PMD_MAX_DIMS ? PMD_MAX_DIMS + 1 : r->ndims;
        for (int k = 0; k < nd; k++)
            batch_metric_dim(b, r, k, &w->dims[k].name, &w->dims[k].value);
        if (!set_wanted(ctx, w->dims, nd))
            continue;
        enum pmd_bad bad = pmd_check(name, unit, w->dims, r->ndims, r->value, r->timestamp_ms,
                                     now);
        if (bad != PMD_OK) {
            invalid++;
            bad_by[bad == PMD_BAD_TOO_OLD ? DROP_TOO_OLD
                   : bad == PMD_BAD_TOO_NEW ? DROP_TOO_NEW : DROP_INVALID]++;
            if (log_invalid)
                log_every(&w->invalid_limit, LOG_INTERVAL_MS, LOG_WARN, MOD,
                          "output %s: metric '%.255s' dropped: invalid %s for PutMetricData",
                          out->name, name, pmd_bad_names[bad]);
            continue;
        }
        pmd_folder_add(&w->folder, name, unit, w->dims, nd, r->timestamp_ms, ctx->resolution,
                       r->value);
    }
    return invalid;
}

static enum output_result fail_result(int rc)
{
    switch (-rc) {
    case AWS_ERR_CLIENT:
    case AWS_ERR_INTERNAL:
    case AWS_ERR_NOT_FOUND:
        return OUTPUT_DROP;
    default:
        return OUTPUT_RETRY;
    }
}

static int put(struct cwm_ctx *ctx, struct cwm_worker *w)
{
    static const struct aws_header query_mode = {"x-amzn-query-mode", "true"};
    struct aws_request req = {
        .service = AWS_SVC_MONITORING,
        .body = w->body.data,
        .len = w->body.len,
        .gzip = pmd_should_gzip(w->body.len, ctx->conf->gzip_min_size),
    };
    if (ctx->protocol == PMD_QUERY) {
        req.content_type = "application/x-www-form-urlencoded; charset=utf-8";
    } else {
        req.target = PMD_TARGET;
        req.content_type = "application/x-amz-json-1.0";
        req.headers = &query_mode;
        req.nheaders = 1;
    }
    aws_response_free(&w->resp);
    aws_response_init(&w->resp);
    ctx->calls++;
    if (req.gzip)
        ctx->gzipped++;
    ctx->bytes_sent += w->body.len;
    return aws_call(w->sender, &req, &w->resp);
}

static enum output_result cwm_send(struct output_instance *out, void *worker, struct batch *b)
{
    struct cwm_ctx *ctx = out->ctx;
    struct cwm_worker *w = worker;
    if (b->kind != BATCH_METRICS || b->count == 0)
        return OUTPUT_OK;
    uintptr_t state = (uintptr_t)b->plugin_state;
    uint64_t bad_by[DROP_REASON_COUNT] = {0};
    uint64_t invalid = fold_batch(out, w, b, state == 0, bad_by);
    if (state == 0 && invalid) {
        for (int r = 0; r < DROP_REASON_COUNT; r++)
            if (bad_by[r])
                output_count_drop(out, (enum drop_reason)r, bad_by[r]);
        ctx->invalid += invalid;
    }
    uint32_t pos = state ? (uint32_t)(state - 1) : 0;
    while (pos < w->folder.n) {
        uint32_t k = pmd_encode_call(&w->enc, &w->folder, pos, &w->body);
        int rc = put(ctx, w);
        output_note_credentials(out, rc != -AWS_ERR_CREDENTIALS,
                                aws_context_credentials_expiry(ctx->aws));
        out->stats.throttled += (uint64_t)w->resp.throttles;
        if (rc != 0) {
            ctx->calls_failed++;
            const char *code = w->resp.error.code[0] ? w->resp.error.code
                                                     : aws_error_kind_name(w->resp.error.kind);
            if (fail_result(rc) == OUTPUT_RETRY) {
                log_every(&w->error_limit, LOG_INTERVAL_MS, LOG_WARN, MOD,
                          "output %s: PutMetricData failed (%s%s%s); retrying %u datums",
                          out->name, code, w->resp.error.message[0] ? ": " : "",
                          w->resp.error.message, w->folder.n - pos);
                b->plugin_state = (void *)(uintptr_t)(pos + 1);
                return OUTPUT_RETRY;
            }
            uint64_t samples = 0;
            for (uint32_t i = pos; i < pos + k; i++)
                samples += (uint64_t)w->folder.d[i].count;
            log_every(&w->error_limit, LOG_INTERVAL_MS, LOG_ERROR, MOD,
                      "output %s: PutMetricData rejected, %u datums (%llu samples) dropped: "
                      "%s: %s", out->name, k, (unsigned long long)samples, code,
                      w->resp.error.message);
            output_count_drop(out, DROP_REJECTED, samples);
        } else {
            ctx->datums_sent += k;
        }
        pos += k;
        b->plugin_state = (void *)(uintptr_t)(pos + 1);
    }
    return OUTPUT_OK;
}

/* -------------------------------------------------------------- status */

static void cwm_describe(struct output_instance *out, struct buf *text)
{
    struct cwm_ctx *ctx = out->ctx;
    const char *src = aws_context_credential_source(ctx->aws);
    const char *region = aws_context_region(ctx->aws);
    buf_printf(text, "CloudWatch PutMetricData at %s (region %s, credentials: %s), namespace "
               "'%s', %s protocol, %lld s resolution",
               aws_context_endpoint(ctx->aws, AWS_SVC_MONITORING), region ? region : "?",
               src ? src : "?", ctx->conf->namespace_, ctx->conf->protocol,
               (long long)ctx->resolution);
}

static void cwm_status(struct output_instance *out, json_t *obj)
{
    struct cwm_ctx *ctx = out->ctx;
    json_object_set_new(obj, "namespace", json_string(ctx->conf->namespace_));
    json_object_set_new(obj, "put_metric_data_calls", json_integer((json_int_t)ctx->calls));
    json_object_set_new(obj, "put_metric_data_failed",
                        json_integer((json_int_t)ctx->calls_failed));
    json_object_set_new(obj, "datums_sent", json_integer((json_int_t)ctx->datums_sent));
    json_object_set_new(obj, "samples_invalid", json_integer((json_int_t)ctx->invalid));
    json_object_set_new(obj, "calls_gzipped", json_integer((json_int_t)ctx->gzipped));
    json_object_set_new(obj, "body_bytes", json_integer((json_int_t)ctx->bytes_sent));
}

static void cwm_shutdown(struct output_instance *out)
{
    struct cwm_ctx *ctx = out->ctx;
    if (!ctx)
        return;
    if (ctx->calls)
        log_msg(LOG_INFO, MOD, "output %s: %llu PutMetricData calls, %llu datums",
                out->name, (unsigned long long)ctx->calls,
                (unsigned long long)ctx->datums_sent);
    ctx_free(ctx);
    out->ctx = NULL;
}

const struct output_plugin cloudwatch_metrics_output = {
    .name = "cloudwatch_metrics",
    .description = "ship metric records to Amazon CloudWatch (PutMetricData)",
    .flags = OUTPUT_METRICS | OUTPUT_DISK_BUFFER | OUTPUT_USES_AWS,
    .options = cwm_options,
    .conf_size = sizeof(struct cwm_conf),
    .init = cwm_init,
    .check = cwm_check,
    .available = cwm_available,
    .worker_init = cwm_worker_init,
    .worker_free = cwm_worker_free,
    .send = cwm_send,
    .describe = cwm_describe,
    .status = cwm_status,
    .shutdown = cwm_shutdown,
};
