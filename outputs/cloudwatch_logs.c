/* `cloudwatch_logs` output: PutLogEvents to Amazon CloudWatch Logs.
 *
 * Records are partitioned by their resolved log group and stream (dest_key:
 * "group\nstream"), so the pipeline keeps one batch in flight per stream (order
 * kept) and sends different streams in parallel on the output's `workers`
 * sender threads: thousands of streams need no thread each.
 *
 * Encode once: encode() runs the pure batcher (collector/cloudwatch/
 * logs_batch.h) over a sealed batch: it sorts, drops what AWS would reject
 * (empty, too old, too new; counted then, once), truncates oversize events
 * (counted) and splits the batch into PutLogEvents calls that respect every
 * AWS limit; each call's body is made (JSON, gzip when it pays) and the
 * bodies are kept together as the batch's body (see struct cwl_frame). The
 * disk buffer stores that body; send_encoded() sends its requests one by one
 * as they are, and the number accepted is kept in batch->plugin_state, so a
 * retry resumes after the last accepted call and never sends one twice.
 * send() (the batch's records, planned and encoded per attempt) remains for
 * a batch encode() could not take.
 *
 * ResourceNotFoundException: CreateLogStream, or CreateLogGroup (with
 * retention, class, KMS key, tags) then CreateLogStream, and the call is
 * resent; ResourceAlreadyExistsException counts as success. Those control
 * calls draw on a retry budget of their own, so failing creates never eat the
 * data's retries. A call AWS refuses as invalid (a 4xx that is not
 * throttling, auth or not-found) is logged with AWS's reason and its events
 * counted as rejected: it is not retried in a loop. */
#include "collector/aws/aws.h"
#include "collector/aws/retry.h"
#include "collector/cloudwatch/host_info.h"
#include "collector/cloudwatch/logs_batch.h"
#include "collector/core/gzip.h"
#include "collector/cloudwatch/logs_json.h"
#include "collector/cloudwatch/names.h"
#include "collector/core/config.h"
#include "collector/core/log.h"
#include "collector/pipeline/batch.h"
#include "collector/plugin.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "cloudwatch_logs"
#define GZIP_MIN_BYTES 2048      /* compress = auto: smaller bodies are sent as they are */
#define LOG_INTERVAL_MS 10000    /* rate limit of repeated warnings, per sender thread */

struct cwl_conf {
    char *log_group;
    char *log_stream;
    int auto_create_group;
    int64_t retention_days;
    char *log_group_class;
    char *kms_key_id;
    struct strlist tags;
    int emf;
    char *compress;
    int64_t compress_level;
    char *truncate_marker;
    uint64_t max_event_size;
};

static const struct option_def cwl_options[] = {
    {"log_group", OPT_STRING, "/collector/{hostname}", 0, offsetof(struct cwl_conf, log_group),
     NULL, "log group name template ({hostname}, {tag}, {cluster}, ... see the reference)"},
    {"log_stream", OPT_STRING, "{instance_id}/{tag}", 0, offsetof(struct cwl_conf, log_stream),
     NULL, "log stream name template (same placeholders as log_group)"},
    {"auto_create_group", OPT_BOOL, "true", 0, offsetof(struct cwl_conf, auto_create_group), NULL,
     "create a missing log group (streams are always created)"},
    {"retention_days", OPT_INT, "0", 0, offsetof(struct cwl_conf, retention_days), "0..3653",
     "retention set on groups the agent creates; 0 = never expire. One of 1 3 5 7 14 30 60 "
     "90 120 150 180 365 400 545 731 1096 1827 2192 2557 2922 3288 3653"},
    {"log_group_class", OPT_ENUM, NULL, 0, offsetof(struct cwl_conf, log_group_class),
     "STANDARD|INFREQUENT_ACCESS|DELIVERY", "class of groups the agent creates (AWS default: STANDARD)"},
    {"kms_key_id", OPT_STRING, NULL, 0, offsetof(struct cwl_conf, kms_key_id), NULL,
     "KMS key ARN for groups the agent creates"},
    {"tags", OPT_LIST, NULL, 0, offsetof(struct cwl_conf, tags), NULL,
     "key=value tags for groups the agent creates"},
    {"emf", OPT_BOOL, "false", 0, offsetof(struct cwl_conf, emf), NULL,
     "events are Embedded Metric Format JSON: send the x-amzn-logs-format: json/emf header"},
    {"compress", OPT_ENUM, "auto", 0, offsetof(struct cwl_conf, compress), "auto|gzip|off",
     "gzip request bodies (Content-Encoding: gzip); auto = when the body is 2 KiB or more and "
     "shrinks by 10% or more"},
    {"compress_level", OPT_INT, "1", 0, offsetof(struct cwl_conf, compress_level), "0..3",
     "gzip level (ISA-L igzip): 0 fastest and largest; 1 about 1.6 CPU-s/GB for bodies 19 % of "
     "their size (zlib's default level: 22 CPU-s/GB, 15 %); 2 and 3 cost more for no gain on "
     "log text; a build without ISA-L uses zlib levels 1, 1, 4, 6"},
    {"truncate_marker", OPT_STRING, "[Truncated...]", 0, offsetof(struct cwl_conf, truncate_marker),
     NULL, "appended to an event cut to max_event_size"},
    {"max_event_size", OPT_SIZE, "1048550", 0, offsetof(struct cwl_conf, max_event_size), NULL,
     "longer events (UTF-8 bytes) are truncated, never dropped; at most 1048550 (1 MiB - 26)"},
    {0},
};

static const int valid_retention[] = {1,   3,   5,   7,   14,  30,   60,   90,   120,  150,  180,
                                      365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};

/* Groups this output created with retention_days set: their retention is
 * known, so events older than it are dropped before sending. */
struct known_group {
    struct known_group *next;
    char name[];
};

struct cwl_ctx {
    struct cwl_conf *conf;
    struct aws_context *aws;
    struct aws_retry_budget *control_budget;
    struct cwl_template *group_t, *stream_t;
    struct cwl_host_info host;
    struct cwl_host_values hv;
    char region[64];
    struct cwl_limits lim;
    size_t marker_len;
    char *static_key;                  /* the key when no placeholder varies per record */
    pthread_mutex_t lock;
    struct known_group *known;
    _Atomic uint64_t calls, calls_failed, groups_created, streams_created, rejected_by_aws;
    _Atomic uint64_t bytes_sent, bytes_wire;
    _Atomic uint64_t requests_encoded;   /* PutLogEvents bodies made (encode once) */
};

struct cwl_worker {
    struct aws_sender *sender;
    struct cwl_plan plan;
    struct cwl_event_in *ev;
    uint32_t ev_cap;
    struct buf body;                   /* PutLogEvents JSON */
    struct buf gz;                     /* its gzip form */
    struct buf control;                /* control-plane bodies */
    struct buf names;                  /* "group\0stream\0" */
    struct gzip_encoder *gzip;             /* made on first use */
    struct aws_response resp;
    struct log_limit drop_limit, error_limit, reject_limit, invalid_limit;
    uint64_t buffers_noted;            /* its buffers' bytes in out->buffer_bytes */
};

/* ----------------------------------------------------------------- init */

static int conf_error(struct output_instance *out, struct diag *diag, const char *key,
                      const char *fmt, const char *value)
{
    const struct conf_entry *e = conf_section_get(out->section, key);
    char msg[512];
    snprintf(msg, sizeof msg, fmt, value);
    diag_add(diag, e ? e->file : (out->section ? out->section->file : NULL),
             e ? e->line : (out->section ? out->section->line : 0), "%s", msg);
    return -1;
}

static int retention_ok(int64_t days)
{
    if (days == 0)
        return 1;
    for (size_t i = 0; i < sizeof valid_retention / sizeof valid_retention[0]; i++)
        if (valid_retention[i] == days)
            return 1;
    return 0;
}

static int check_options(struct output_instance *out, struct cwl_conf *conf, struct diag *diag)
{
    int bad = 0;
    char num[32];
    if (!retention_ok(conf->retention_days)) {
        snprintf(num, sizeof num, "%lld", (long long)conf->retention_days);
        bad |= conf_error(out, diag, "retention_days",
                          "retention_days = %s: CloudWatch Logs accepts 1, 3, 5, 7, 14, 30, 60, "
                          "90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
                          "3288 or 3653 (0 = never expire)", num);
    }
    if (conf->max_event_size > CWL_MAX_EVENT_BYTES || conf->max_event_size < 64) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)conf->max_event_size);
        bad |= conf_error(out, diag, "max_event_size",
                          "max_event_size = %s: must be 64..1048550 bytes (1 MiB - 26)", num);
    } else if (cwl_utf8_sanitized_len(conf->truncate_marker, strlen(conf->truncate_marker)) >=
               conf->max_event_size / 2) {
        bad |= conf_error(out, diag, "truncate_marker",
                          "truncate_marker = '%s': longer than half of max_event_size",
                          conf->truncate_marker);
    }
    for (int i = 0; i < conf->tags.count; i++) {
        const char *t = conf->tags.items[i];
        const char *eq = strchr(t, '=');
        if (!eq || eq == t || strlen(eq + 1) > 256 || (size_t)(eq - t) > 128)
            bad |= conf_error(out, diag, "tags",
                              "tags: '%s' is not key=value (key 1-128, value at most 256 chars)", t);
    }
    if (conf->tags.count > 50)
        bad |= conf_error(out, diag, "tags", "tags: %s", "at most 50 tags");
    if (conf->kms_key_id && strlen(conf->kms_key_id) > 256)
        bad |= conf_error(out, diag, "kms_key_id", "kms_key_id = '%s': at most 256 characters",
                          conf->kms_key_id);
    return bad ? -1 : 0;
}

static void key_render(const struct cwl_ctx *ctx, const struct tag *tag, const struct meta *meta,
                       struct buf *key)
{
    size_t start = key->len;
    cwl_template_render(ctx->group_t, &ctx->hv, tag ? tag->name : NULL, meta, key);
    cwl_sanitize_group(key, start);
    buf_append_char(key, '\n');
    start = key->len;
    cwl_template_render(ctx->stream_t, &ctx->hv, tag ? tag->name : NULL, meta, key);
    cwl_sanitize_stream(key, start);
}

static void ctx_free(struct cwl_ctx *ctx)
{
    if (!ctx)
        return;
    aws_context_free(ctx->aws);
    aws_retry_budget_free(ctx->control_budget);
    cwl_template_free(ctx->group_t);
    cwl_template_free(ctx->stream_t);
    free(ctx->static_key);
    for (struct known_group *g = ctx->known, *next; g; g = next) {
        next = g->next;
        free(g);
    }
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

static int cwl_init(struct output_instance *out, struct diag *diag)
{
    struct cwl_conf *conf = out->conf;
    struct cwl_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->conf = conf;
    pthread_mutex_init(&ctx->lock, NULL);
    int bad = check_options(out, conf, diag);
    ctx->group_t = cwl_template_compile(conf->log_group, out->section, "log_group", diag);
    ctx->stream_t = cwl_template_compile(conf->log_stream, out->section, "log_stream", diag);
    if (bad || !ctx->group_t || !ctx->stream_t) {
        ctx_free(ctx);
        return -1;
    }
    char err[512];
    ctx->aws = aws_context_new(out->host->aws, err, sizeof err);
    if (!ctx->aws) {
        diag_add(diag, out->section ? out->section->file : NULL,
                 out->section ? out->section->line : 0, "output %s: %s", out->name, err);
        ctx_free(ctx);
        return -1;
    }
    ctx->control_budget = aws_retry_budget_new(AWS_RETRY_DEFAULT_BUDGET);
    uint32_t vars = cwl_template_vars(ctx->group_t) | cwl_template_vars(ctx->stream_t);
    int want_imds = (vars & ((1u << CWL_VAR_INSTANCE_ID) | (1u << CWL_VAR_IP_ADDRESS))) != 0;
    cwl_host_info_load(&ctx->host, out->host->hostname, out->host->aws, want_imds);
    snprintf(ctx->region, sizeof ctx->region, "%s",
             aws_context_region(ctx->aws) ? aws_context_region(ctx->aws) : "");
    ctx->hv.hostname = ctx->host.hostname;
    ctx->hv.instance_id = ctx->host.instance_id;
    ctx->hv.ip_address = ctx->host.ip_address;
    ctx->hv.region = ctx->region;

    cwl_limits_default(&ctx->lim);
    ctx->lim.max_event_bytes = (uint32_t)conf->max_event_size;
    ctx->marker_len = strlen(conf->truncate_marker);
    ctx->lim.marker_size = (uint32_t)cwl_utf8_sanitized_len(conf->truncate_marker, ctx->marker_len);
    if (out->common.batch_max_records > 0 && out->common.batch_max_records < CWL_MAX_EVENTS)
        ctx->lim.max_events = (uint32_t)out->common.batch_max_records;
    if (out->common.batch_max_bytes > 0 && out->common.batch_max_bytes < CWL_MAX_BATCH_BYTES)
        ctx->lim.max_bytes = (uint32_t)out->common.batch_max_bytes;
    if (ctx->lim.max_bytes < ctx->lim.max_event_bytes + CWL_EVENT_OVERHEAD)
        ctx->lim.max_event_bytes = ctx->lim.max_bytes - CWL_EVENT_OVERHEAD;
    if (ctx->lim.max_event_bytes <= ctx->lim.marker_size) {
        diag_add(diag, out->section ? out->section->file : NULL,
                 out->section ? out->section->line : 0,
                 "output %s: batch_max_bytes leaves no room for one event", out->name);
        ctx_free(ctx);
        return -1;
    }
    if (!(vars & CWL_VARS_PER_RECORD)) {
        struct buf key;
        buf_init(&key);
        key_render(ctx, NULL, NULL, &key);
        ctx->static_key = xstrdup(key.data);
        buf_free(&key);
    }
    out->ctx = ctx;
    return 0;
}

/* The options and templates, as init checks them, without the AWS context. */
static int cwl_check(struct output_instance *out, struct diag *diag)
{
    struct cwl_conf *conf = out->conf;
    int bad = check_options(out, conf, diag);
    struct cwl_template *g = cwl_template_compile(conf->log_group, out->section, "log_group", diag);
    struct cwl_template *st = cwl_template_compile(conf->log_stream, out->section, "log_stream", diag);
    bad = bad || !g || !st;
    cwl_template_free(g);
    cwl_template_free(st);
    return bad ? -1 : 0;
}

static int cwl_available(struct output_instance *out, struct buf *why)
{
    return aws_settings_usable(out->host->aws, why);
}

static void cwl_dest_key(struct output_instance *out, const struct tag *tag,
                         const struct meta *meta, struct buf *key)
{
    struct cwl_ctx *ctx = out->ctx;
    if (ctx->static_key)
        buf_append_str(key, ctx->static_key);
    else
        key_render(ctx, tag, meta, key);
}

/* -------------------------------------------------------------- workers */

static void *cwl_worker_init(struct output_instance *out)
{
    struct cwl_ctx *ctx = out->ctx;
    struct cwl_worker *w = xcalloc(1, sizeof *w);
    w->sender = aws_sender_new(ctx->aws);
    cwl_plan_init(&w->plan);
    buf_init(&w->body);
    buf_init(&w->gz);
    buf_init(&w->control);
    buf_init(&w->names);
    aws_response_init(&w->resp);
    return w;
}

/* The worker's reusable buffers count against memory_limit (the
 * pipeline's "output_buffers"): the JSON body and its gzip form, the event
 * table, the plan, the last response. libcurl's own buffers and the deflate
 * state are not counted. */
static void note_buffers(struct output_instance *out, struct cwl_worker *w)
{
    uint64_t now = w->body.cap + w->gz.cap + w->control.cap + w->names.cap +
                   (uint64_t)w->ev_cap * sizeof *w->ev +
                   (uint64_t)(w->plan.items_cap + w->plan.tmp_cap) * sizeof(struct cwl_item) +
                   (uint64_t)w->plan.calls_cap * sizeof(struct cwl_call) + w->resp.body.cap;
    plugin_buffers_note(&out->buffer_bytes, &w->buffers_noted, now);
}

static void cwl_worker_free(struct output_instance *out, void *worker)
{
    struct cwl_worker *w = worker;
    if (!w)
        return;
    plugin_buffers_note(&out->buffer_bytes, &w->buffers_noted, 0);
    aws_sender_free(w->sender);
    cwl_plan_free(&w->plan);
    free(w->ev);
    buf_free(&w->body);
    buf_free(&w->gz);
    buf_free(&w->control);
    buf_free(&w->names);
    gzip_encoder_free(w->gzip);
    aws_response_free(&w->resp);
    free(w);
}

/* ----------------------------------------------------------- retention */

static int known_retention(struct cwl_ctx *ctx, const char *group)
{
    if (ctx->conf->retention_days <= 0)
        return 0;
    int days = 0;
    pthread_mutex_lock(&ctx->lock);
    for (struct known_group *g = ctx->known; g; g = g->next)
        if (strcmp(g->name, group) == 0) {
            days = (int)ctx->conf->retention_days;
            break;
        }
    pthread_mutex_unlock(&ctx->lock);
    return days;
}

static void remember_group(struct cwl_ctx *ctx, const char *group)
{
    size_t n = strlen(group);
    struct known_group *g = xmalloc(sizeof *g + n + 1);
    memcpy(g->name, group, n + 1);
    pthread_mutex_lock(&ctx->lock);
    g->next = ctx->known;
    ctx->known = g;
    pthread_mutex_unlock(&ctx->lock);
}

/* ------------------------------------------------------------- control */

static int already_exists(const struct aws_response *r)
{
    return strcmp(r->error.code, "ResourceAlreadyExistsException") == 0;
}

/* One control-plane call on the control budget. 0 (or already exists), else
 * -(kind). */
static int control_call(struct cwl_ctx *ctx, struct cwl_worker *w, const char *op)
{
    char target[64];
    snprintf(target, sizeof target, "Logs_20140328.%s", op);
    struct aws_request req = {.service = AWS_SVC_LOGS, .target = target, .body = w->control.data,
                              .len = w->control.len, .budget = ctx->control_budget};
    int rc = aws_call(w->sender, &req, &w->resp);
    if (rc == 0 || already_exists(&w->resp))
        return 0;
    return rc;
}

static void log_control_error(struct output_instance *out, struct cwl_worker *w, const char *op,
                              const char *name)
{
    log_every(&w->error_limit, LOG_INTERVAL_MS, LOG_ERROR, MOD, "output %s: %s %s failed: %s%s%s",
              out->name, op, name,
              w->resp.error.code[0] ? w->resp.error.code
                                    : aws_error_kind_name(w->resp.error.kind),
              w->resp.error.message[0] ? ": " : "", w->resp.error.message);
}

static int create_group(struct output_instance *out, struct cwl_worker *w, const char *group)
{
    struct cwl_ctx *ctx = out->ctx;
    struct cwl_conf *conf = ctx->conf;
    buf_reset(&w->control);
    cwl_json_group_body(&w->control, group, conf->kms_key_id, conf->log_group_class,
                        conf->tags.items, conf->tags.count);
    struct aws_request req = {.service = AWS_SVC_LOGS, .target = "Logs_20140328.CreateLogGroup",
                              .body = w->control.data, .len = w->control.len,
                              .budget = ctx->control_budget};
    int rc = aws_call(w->sender, &req, &w->resp);
    if (rc != 0 && already_exists(&w->resp))
        return 0; /* someone else created it: its retention is theirs */
    if (rc != 0) {
        log_control_error(out, w, "CreateLogGroup", group);
        return rc;
    }
    ctx->groups_created++;
    log_msg(LOG_INFO, MOD, "output %s: created log group %s", out->name, group);
    if (conf->retention_days > 0) {
        buf_reset(&w->control);
        cwl_json_retention_body(&w->control, group, (int)conf->retention_days);
        if (control_call(ctx, w, "PutRetentionPolicy") != 0)
            log_control_error(out, w, "PutRetentionPolicy", group);
        else
            remember_group(ctx, group);
    }
    return 0;
}

/* The stream (and, when allowed, the group) exist afterwards. 0 or -(kind). */
static int create_stream(struct output_instance *out, struct cwl_worker *w, const char *group,
                         const char *stream)
{
    struct cwl_ctx *ctx = out->ctx;
    buf_reset(&w->control);
    cwl_json_stream_body(&w->control, group, stream);
    int rc = control_call(ctx, w, "CreateLogStream");
    if (rc == -AWS_ERR_NOT_FOUND) {
        if (!ctx->conf->auto_create_group) {
            log_every(&w->error_limit, LOG_INTERVAL_MS, LOG_ERROR, MOD,
                      "output %s: log group %s does not exist and auto_create_group = false",
                      out->name, group);
            return rc;
        }
        rc = create_group(out, w, group);
        if (rc != 0)
            return rc;
        buf_reset(&w->control);
        cwl_json_stream_body(&w->control, group, stream);
        rc = control_call(ctx, w, "CreateLogStream");
    }
    if (rc != 0) {
        log_control_error(out, w, "CreateLogStream", stream);
        return rc;
    }
    ctx->streams_created++;
    log_msg(LOG_DEBUG, MOD, "output %s: created log stream %s in %s", out->name, stream, group);
    return 0;
}

/* ------------------------------------------------------------- sending */

/* gzip body into w->gz with one encoder per sender thread. 0 or -1. */
static int gzip_body(struct output_instance *out, struct cwl_worker *w)
{
    struct cwl_ctx *ctx = out->ctx;
    if (!w->gzip)
        w->gzip = gzip_encoder_new((int)ctx->conf->compress_level);
    return gzip_encode(w->gzip, w->body.data, w->body.len, &w->gz);
}

/* Whether w->body is sent gzip'ed (then w->gz holds it): compress = gzip, or
 * auto when it is large enough and shrinks enough. */
static int compress_body(struct output_instance *out, struct cwl_worker *w)
{
    struct cwl_ctx *ctx = out->ctx;
    const char *mode = ctx->conf->compress;
    if (strcmp(mode, "gzip") == 0 || (strcmp(mode, "auto") == 0 && w->body.len >= GZIP_MIN_BYTES)) {
        if (gzip_body(out, w) == 0)
            return mode[0] == 'g' || w->gz.len <= w->body.len - w->body.len / 10;
    }
    return 0;
}

/* One PutLogEvents call with the request body as it goes on the wire
 * (plain_len: its size before gzip, for the status figures). */
static int put_request(struct output_instance *out, struct cwl_worker *w, const char *data,
                       size_t len, int gz, size_t plain_len)
{
    struct cwl_ctx *ctx = out->ctx;
    struct aws_header hdr[2];
    int nh = 0;
    if (gz)
        hdr[nh++] = (struct aws_header){"Content-Encoding", "gzip"};
    if (ctx->conf->emf)
        hdr[nh++] = (struct aws_header){"x-amzn-logs-format", "json/emf"};
    struct aws_request req = {.service = AWS_SVC_LOGS, .target = "Logs_20140328.PutLogEvents",
                              .body = data, .len = len, .headers = hdr, .nheaders = nh};
    int rc = aws_call(w->sender, &req, &w->resp);
    output_note_credentials(out, rc != -AWS_ERR_CREDENTIALS,
                            aws_context_credentials_expiry(ctx->aws));
    ctx->calls++;
    out->stats.throttled += (uint64_t)w->resp.throttles;
    if (rc == 0) {
        ctx->bytes_sent += plain_len;
        ctx->bytes_wire += req.len;
    }
    return rc;
}

static int put_events(struct output_instance *out, struct cwl_worker *w)
{
    int gz = compress_body(out, w);
    return put_request(out, w, gz ? w->gz.data : w->body.data, gz ? w->gz.len : w->body.len, gz,
                       w->body.len);
}

static const char *source_of(const struct batch *b, const struct cwl_item *it)
{
    const struct log_record *r = &b->logs[it->index];
    const char *s = meta_get(r->meta, "file_path");
    if (!s)
        s = meta_get(r->meta, "container_name");
    if (!s)
        s = r->tag ? r->tag->name : "?";
    return s;
}

/* Count the fates of a finished call's range: drops and truncations. */
static void account_range(struct output_instance *out, struct cwl_worker *w, struct batch *b,
                          const struct cwl_call *c)
{
    uint32_t empty, old, fresh, trunc;
    cwl_call_fates(&w->plan, c, &empty, &old, &fresh, &trunc);
    if (empty)
        output_drop_records(out, b, DROP_INVALID, empty);
    if (old)
        output_drop_records(out, b, DROP_TOO_OLD, old);
    if (fresh)
        output_drop_records(out, b, DROP_TOO_NEW, fresh);
    out->stats.records_truncated += trunc;
    if (old || fresh) {
        const struct cwl_item *first = NULL;
        for (uint32_t i = c->begin; i < c->end && !first; i++)
            if (w->plan.items[i].fate == CWL_TOO_OLD || w->plan.items[i].fate == CWL_TOO_NEW)
                first = &w->plan.items[i];
        log_every(&w->drop_limit, LOG_INTERVAL_MS, LOG_WARN, MOD,
                  "output %s: dropped %u events too old and %u too new for CloudWatch Logs "
                  "(accepted: now - 14 days or the retention .. now + 2 h), e.g. from %s",
                  out->name, old, fresh, source_of(b, first));
    }
}

/* What AWS's answer says it did not store. */
static void account_rejected(struct output_instance *out, struct cwl_worker *w,
                             struct batch *b, const struct cwl_call *c)
{
    struct cwl_ctx *ctx = out->ctx;
    struct cwl_rejected rej;
    if (cwl_json_parse_rejected(w->resp.body.data, w->resp.body.len, &rej) != 0)
        return;
    uint32_t old, fresh;
    cwl_rejected_counts(&rej, c->nsend, &old, &fresh);
    if (!old && !fresh)
        return;
    if (old)
        output_drop_records(out, b, DROP_TOO_OLD, old);
    if (fresh)
        output_drop_records(out, b, DROP_TOO_NEW, fresh);
    ctx->rejected_by_aws += old + fresh;
    const struct cwl_item *first = NULL;
    for (uint32_t i = c->begin; b->logs && i < c->end && !first; i++)
        if (w->plan.items[i].fate == CWL_SEND)
            first = &w->plan.items[i];
    log_every(&w->reject_limit, LOG_INTERVAL_MS, LOG_WARN, MOD,
              "output %s: CloudWatch Logs rejected %u events as too old (or past the group's "
              "retention) and %u as too new, e.g. from %s", out->name, old, fresh,
              first ? source_of(b, first) : b->dest_key ? b->dest_key : "?");
}

static enum output_result fail_result(int rc)
{
    /* Only AWS saying the call itself is invalid is final; throttling, 5xx,
     * network, credentials, auth, a missing group and local failures keep
     * the batch for a later retry. */
    return -rc == AWS_ERR_CLIENT ? OUTPUT_DROP : OUTPUT_RETRY;
}

/* Send one call, creating the stream/group on ResourceNotFoundException.
 * data NULL: the body in w->body, compressed here; else the encoded request. */
static int send_call(struct output_instance *out, struct cwl_worker *w, const char *group,
                     const char *stream, const char *data, size_t len, int gz, size_t plain_len)
{
    int rc = data ? put_request(out, w, data, len, gz, plain_len) : put_events(out, w);
    if (rc == -AWS_ERR_NOT_FOUND) {
        rc = create_stream(out, w, group, stream);
        if (rc == 0)
            rc = data ? put_request(out, w, data, len, gz, plain_len) : put_events(out, w);
        else if (rc != -AWS_ERR_CLIENT)
            rc = -AWS_ERR_NOT_FOUND; /* keep the batch: retried later */
        /* a create refused as invalid (bad tags, say) is not retried either */
    }
    return rc;
}

static void fill_events(struct cwl_worker *w, const struct batch *b)
{
    if (w->ev_cap < b->count) {
        w->ev_cap = b->count;
        w->ev = xrealloc(w->ev, (size_t)w->ev_cap * sizeof *w->ev);
    }
    for (uint32_t i = 0; i < b->count; i++) {
        const struct log_record *r = &b->logs[i];
        int64_t ns = r->timestamp_ns;
        w->ev[i].timestamp_ms = ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000);
        w->ev[i].msg = batch_str(b, r->message_off);
        w->ev[i].len = r->message_len;
    }
}

/* "group\nstream" -> two C strings in w->names. 0, or -1 if the key has no
 * stream. */
static int split_key(struct cwl_worker *w, const struct batch *b, const char **group,
                     const char **stream)
{
    buf_reset(&w->names);
    buf_append_str(&w->names, b->dest_key ? b->dest_key : "");
    char *nl = strchr(w->names.data, '\n');
    if (!nl)
        return -1;
    *nl = '\0';
    *group = w->names.data;
    *stream = nl + 1;
    return 0;
}

static enum output_result cwl_send(struct output_instance *out, void *worker, struct batch *b)
{
    struct cwl_ctx *ctx = out->ctx;
    struct cwl_worker *w = worker;
    if (b->kind != BATCH_LOGS || b->count == 0)
        return OUTPUT_OK;
    const char *group, *stream;
    if (split_key(w, b, &group, &stream) < 0)
        return OUTPUT_DROP;

    fill_events(w, b);
    uint32_t done = (uint32_t)(uintptr_t)b->plugin_state;
    if (done)
        log_msg(LOG_DEBUG, MOD, "output %s: %s/%s: resuming a batch after its first %u of %u "
                "events (accepted calls are not sent again)", out->name, group, stream, done,
                b->count);
    cwl_plan_build(&w->plan, w->ev, b->count, done, now_ms(), known_retention(ctx, group),
                   &ctx->lim);
    if (w->plan.ncalls == 0) {
        struct cwl_call all = {.begin = done, .end = b->count};
        account_range(out, w, b, &all);
        return OUTPUT_OK;
    }
    for (uint32_t k = 0; k < w->plan.ncalls; k++) {
        const struct cwl_call *c = &w->plan.calls[k];
        buf_reset(&w->body);
        cwl_json_put_body(&w->body, group, stream, w->ev, &w->plan, c,
                          ctx->conf->truncate_marker, ctx->marker_len);
        int rc = send_call(out, w, group, stream, NULL, 0, 0, 0);
        if (rc != 0) {
            ctx->calls_failed++;
            enum output_result res = fail_result(rc);
            if (res == OUTPUT_RETRY) {
                log_every(&w->error_limit, LOG_INTERVAL_MS, LOG_WARN, MOD,
                          "output %s: PutLogEvents to %s/%s failed (%s%s%s); retrying the "
                          "%u events not yet accepted", out->name, group, stream,
                          w->resp.error.code[0] ? w->resp.error.code
                                                : aws_error_kind_name(w->resp.error.kind),
                          w->resp.error.message[0] ? ": " : "", w->resp.error.message,
                          b->count - c->begin);
                return OUTPUT_RETRY;
            }
            /* The call itself is wrong: say why, count its events, go on. */
            log_every(&w->invalid_limit, LOG_INTERVAL_MS, LOG_ERROR, MOD,
                      "output %s: PutLogEvents to %s/%s rejected, %u events dropped: %s: %s",
                      out->name, group, stream, c->nsend, w->resp.error.code,
                      w->resp.error.message);
            output_drop_records(out, b, DROP_REJECTED, c->nsend);
        } else {
            account_rejected(out, w, b, c);
        }
        account_range(out, w, b, c);
        b->plugin_state = (void *)(uintptr_t)c->end;
    }
    return OUTPUT_OK;
}

/* ---------------------------------------------------------- encode once */

/* The encoded form of a batch: its PutLogEvents requests one after the
 * other, each as it goes on the wire, framed as
 *   u32 wire_len, u32 flags (1 = gzip), u32 events sent, u32 plain_len, bytes
 * (native byte order: a chunk is read back by the host that wrote it). The
 * batcher's decisions (order, truncation, the 24 h split, events too old or
 * too new, empty ones) are taken here, once, with the clock of this moment,
 * and counted now. Events that age out while the body waits in the disk
 * buffer are not re-decided: AWS's rejectedLogEventsInfo says which, and
 * they are counted as too old when the call returns (re-deciding would mean
 * re-encoding, which is what this form avoids). */
struct cwl_frame {
    uint32_t wire_len, flags, nsend, plain_len;
};

static int cwl_encode(struct output_instance *out, void *worker, struct batch *b, struct buf *body)
{
    struct cwl_ctx *ctx = out->ctx;
    struct cwl_worker *w = worker;
    const char *group, *stream;
    if (!w || b->kind != BATCH_LOGS || !b->logs || split_key(w, b, &group, &stream) < 0)
        return -1;
    fill_events(w, b);
    cwl_plan_build(&w->plan, w->ev, b->count, 0, now_ms(), known_retention(ctx, group), &ctx->lim);
    if (w->plan.ncalls == 0) {
        struct cwl_call all = {.begin = 0, .end = b->count};
        account_range(out, w, b, &all);
    }
    /* Room for the whole body at once (its JSON is the messages and ~40
     * bytes per event), not grown (and copied) step by step. Still by
     * doubling: a buffer of exactly that size cost three times the agent's
     * CPU (glibc mapped, faulted in and unmapped one per batch). */
    int plain = strcmp(ctx->conf->compress, "off") == 0;
    buf_reserve(body, (plain ? b->payload_bytes + (size_t)b->count * 16 : b->payload_bytes / 3) +
                          (size_t)(w->plan.ncalls + 1) * 1024);
    for (uint32_t k = 0; k < w->plan.ncalls; k++) {
        const struct cwl_call *c = &w->plan.calls[k];
        struct cwl_frame f = {0};
        if (plain) {
            /* the JSON is the request: written in place after its frame */
            size_t at = body->len;
            buf_append(body, &f, sizeof f);
            cwl_json_put_body(body, group, stream, w->ev, &w->plan, c, ctx->conf->truncate_marker,
                              ctx->marker_len);
            uint32_t n = (uint32_t)(body->len - at - sizeof f);
            f = (struct cwl_frame){n, 0u, c->nsend, n};
            memcpy(body->data + at, &f, sizeof f);
        } else {
            buf_reset(&w->body);
            cwl_json_put_body(&w->body, group, stream, w->ev, &w->plan, c,
                              ctx->conf->truncate_marker, ctx->marker_len);
            int gz = compress_body(out, w);
            const struct buf *wire = gz ? &w->gz : &w->body;
            f = (struct cwl_frame){(uint32_t)wire->len, gz ? 1u : 0u, c->nsend,
                                   (uint32_t)w->body.len};
            buf_append(body, &f, sizeof f);
            buf_append(body, wire->data, wire->len);
        }
        account_range(out, w, b, c);
        ctx->requests_encoded++;
    }
    note_buffers(out, w);
    return 0;
}

static enum output_result cwl_send_encoded(struct output_instance *out, void *worker,
                                           struct batch *b, const char *body, size_t len)
{
    struct cwl_ctx *ctx = out->ctx;
    struct cwl_worker *w = worker;
    const char *group, *stream;
    if (split_key(w, b, &group, &stream) < 0)
        return OUTPUT_DROP;
    /* plugin_state: the requests already accepted (never sent again) */
    uint32_t done = (uint32_t)(uintptr_t)b->plugin_state;
    if (done)
        log_msg(LOG_DEBUG, MOD, "output %s: %s/%s: resuming a batch after its first %u "
                "requests (accepted calls are not sent again)", out->name, group, stream, done);
    size_t pos = 0;
    for (uint32_t k = 0; pos < len; k++) {
        struct cwl_frame f;
        if (len - pos < sizeof f)
            return OUTPUT_DROP;
        memcpy(&f, body + pos, sizeof f);
        pos += sizeof f;
        if (f.wire_len > len - pos || f.nsend > b->count)
            return OUTPUT_DROP;
        const char *data = body + pos;
        pos += f.wire_len;
        if (k < done)
            continue;
        struct cwl_call c = {.nsend = f.nsend};
        int rc = send_call(out, w, group, stream, data, f.wire_len, (int)(f.flags & 1),
                           f.plain_len);
        if (rc != 0) {
            ctx->calls_failed++;
            if (fail_result(rc) == OUTPUT_RETRY) {
                log_every(&w->error_limit, LOG_INTERVAL_MS, LOG_WARN, MOD,
                          "output %s: PutLogEvents to %s/%s failed (%s%s%s); retrying the "
                          "requests not yet accepted (%u done)", out->name, group, stream,
                          w->resp.error.code[0] ? w->resp.error.code
                                                : aws_error_kind_name(w->resp.error.kind),
                          w->resp.error.message[0] ? ": " : "", w->resp.error.message, k);
                return OUTPUT_RETRY;
            }
            log_every(&w->invalid_limit, LOG_INTERVAL_MS, LOG_ERROR, MOD,
                      "output %s: PutLogEvents to %s/%s rejected, %u events dropped: %s: %s",
                      out->name, group, stream, f.nsend, w->resp.error.code,
                      w->resp.error.message);
            output_drop_records(out, b, DROP_REJECTED, f.nsend);
        } else {
            account_rejected(out, w, b, &c);
        }
        b->plugin_state = (void *)(uintptr_t)(k + 1);
    }
    return OUTPUT_OK;
}

/* -------------------------------------------------------------- status */

static void cwl_describe(struct output_instance *out, struct buf *text)
{
    struct cwl_ctx *ctx = out->ctx;
    const char *src = aws_context_credential_source(ctx->aws);
    buf_printf(text, "CloudWatch Logs at %s (region %s, credentials: %s), group '%s', stream "
               "'%s', compress %s, %lld sender thread(s)",
               aws_context_endpoint(ctx->aws, AWS_SVC_LOGS), ctx->region, src ? src : "?",
               ctx->conf->log_group, ctx->conf->log_stream, ctx->conf->compress,
               (long long)(out->common.workers > 0 ? out->common.workers : 1));
}

static void cwl_status(struct output_instance *out, struct json_t *obj)
{
    struct cwl_ctx *ctx = out->ctx;
    json_object_set_new(obj, "region", json_string(ctx->region));
    json_object_set_new(obj, "put_log_events_calls", json_integer((json_int_t)ctx->calls));
    json_object_set_new(obj, "put_log_events_failed", json_integer((json_int_t)ctx->calls_failed));
    json_object_set_new(obj, "groups_created", json_integer((json_int_t)ctx->groups_created));
    json_object_set_new(obj, "streams_created", json_integer((json_int_t)ctx->streams_created));
    json_object_set_new(obj, "events_rejected_by_aws",
                        json_integer((json_int_t)ctx->rejected_by_aws));
    json_object_set_new(obj, "body_bytes", json_integer((json_int_t)ctx->bytes_sent));
    json_object_set_new(obj, "wire_bytes", json_integer((json_int_t)ctx->bytes_wire));
    json_object_set_new(obj, "requests_encoded", json_integer((json_int_t)ctx->requests_encoded));
}

static void cwl_shutdown(struct output_instance *out)
{
    struct cwl_ctx *ctx = out->ctx;
    if (!ctx)
        return;
    if (ctx->bytes_sent)
        log_msg(LOG_INFO, MOD, "output %s: %llu PutLogEvents calls, %llu body bytes, %llu on the "
                "wire", out->name, (unsigned long long)ctx->calls,
                (unsigned long long)ctx->bytes_sent, (unsigned long long)ctx->bytes_wire);
    ctx_free(ctx);
    out->ctx = NULL;
}

const struct output_plugin cloudwatch_logs_output = {
    .name = "cloudwatch_logs",
    .description = "ship log records to Amazon CloudWatch Logs (PutLogEvents)",
    .flags = OUTPUT_LOGS | OUTPUT_DISK_BUFFER | OUTPUT_USES_AWS,
    .options = cwl_options,
    .conf_size = sizeof(struct cwl_conf),
    .max_batch_records = CWL_MAX_EVENTS,
    .max_batch_bytes = CWL_MAX_BATCH_BYTES,
    .record_overhead = CWL_EVENT_OVERHEAD,
    .init = cwl_init,
    .check = cwl_check,
    .available = cwl_available,
    .dest_key = cwl_dest_key,
    .worker_init = cwl_worker_init,
    .worker_free = cwl_worker_free,
    .send = cwl_send,
    .encode = cwl_encode,
    .send_encoded = cwl_send_encoded,
    .describe = cwl_describe,
    .status = cwl_status,
    .shutdown = cwl_shutdown,
};
