/* aws_probe: build an aws_context from flags (mirroring the [agent] AWS keys)
 * plus the environment, print the credential source, then make N calls,
 * one JSON line each. Used by tests/integration/test_aws_core.py.
 *
 * --threads N runs N senders on one context (N x repeat lines, with "thread").
 *
 *   aws_probe --region us-east-1 --endpoint-logs http://127.0.0.1:8080 \
 *       --service logs --target Logs_20140328.DescribeLogGroups --body '{}' \
 *       --repeat 2 --interval-ms 100
 *
 * Exit: 0 all calls succeeded, 1 some failed, 2 the context could not be built. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/aws/aws.h"
#include "collector/core/log.h"
#include "collector/core/util.h"

static void json_str(struct buf *b, const char *key, const char *v)
{
    buf_printf(b, "\"%s\":\"", key);
    buf_append_json_escaped(b, v ? v : "", v ? strlen(v) : 0);
    buf_append_str(b, "\"");
}

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct call_plan {
    struct aws_context *ctx;
    enum aws_service svc;
    const char *target, *ctype, *body;
    int gzip, repeat, interval;
    int thread;
    int failed;
};

/* One sender: `repeat` calls, one JSON line each. */
static void *run_calls(void *arg)
{
    struct call_plan *p = arg;
    struct aws_sender *snd = aws_sender_new(p->ctx);
    struct aws_response resp;
    struct buf out;
    aws_response_init(&resp);
    buf_init(&out);
    for (int i = 0; i < p->repeat; i++) {
        if (i > 0 && p->interval > 0) {
            struct timespec ts = { p->interval / 1000, (long)(p->interval % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
        struct aws_request req = {
            .service = p->svc, .target = p->target, .content_type = p->ctype,
            .body = p->body, .len = strlen(p->body), .gzip = p->gzip,
        };
        int rc = aws_call(snd, &req, &resp);
        if (rc != 0) p->failed = 1;
        buf_reset(&out);
        buf_printf(&out, "{\"call\":%d,\"thread\":%d,\"rc\":%d,\"status\":%d,\"attempts\":%d,"
                   "\"throttles\":%d,", i + 1, p->thread, rc, resp.status, resp.attempts,
                   resp.throttles);
        json_str(&out, "code", resp.error.code);
        buf_append_str(&out, ",");
        json_str(&out, "kind", aws_error_kind_name(resp.error.kind));
        buf_append_str(&out, ",");
        json_str(&out, "message", resp.error.message);
        buf_append_str(&out, ",");
        json_str(&out, "request_id", resp.request_id);
        buf_append_str(&out, "}\n");
        pthread_mutex_lock(&out_lock);
        fputs(out.data, stdout);
        fflush(stdout);
        pthread_mutex_unlock(&out_lock);
    }
    buf_free(&out);
    aws_response_free(&resp);
    aws_sender_free(snd);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: aws_probe [--region R] [--profile P] [--access-key-id K --secret-access-key S]\n"
            "  [--role-arn A] [--external-id X] [--session-name N] [--imds auto|on|off] [--imds-v1]\n"
            "  [--endpoint-logs URL] [--endpoint-metrics URL] [--endpoint-sts URL] [--use-fips]\n"
            "  [--use-dualstack] [--ca-file F] [--ca-path D] [--proxy URL] [--no-proxy HOSTS]\n"
            "  [--connect-timeout D] [--request-timeout D] [--max-attempts N] [--retry-base-delay D]\n"
            "  [--retry-max-backoff D] [--retry-budget N] [--sysfs-root DIR]\n"
            "  [--service logs|monitoring|sts] [--target T] [--body JSON] [--content-type CT]\n"
            "  [--gzip] [--repeat N] [--interval-ms M] [--threads N] [--describe] [--describe-text]\n"
            "  [--debug]\n");
    exit(2);
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = xstrdup(v);
}

static void set_dur(int64_t *field, const char *v)
{
    if (parse_duration_ms(v, field) != 0) {
        fprintf(stderr, "bad duration: %s\n", v);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    struct aws_settings s;
    aws_settings_defaults(&s);
    const char *service = "logs", *target = NULL, *body = "{}", *ctype = NULL;
    int repeat = 1, interval = 0, gzip = 0, describe = 0, threads = 1, describe_text = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && (v || (usage(), 0)) && ++i)
        if (ARG("--region")) set_str(&s.region, v);
        else if (ARG("--profile")) set_str(&s.profile, v);
        else if (ARG("--access-key-id")) set_str(&s.access_key_id, v);
        else if (ARG("--secret-access-key")) set_str(&s.secret_access_key, v);
        else if (ARG("--role-arn")) set_str(&s.role_arn, v);
        else if (ARG("--external-id")) set_str(&s.external_id, v);
        else if (ARG("--session-name")) set_str(&s.session_name, v);
        else if (ARG("--imds")) set_str(&s.imds, v);
        else if (strcmp(a, "--imds-v1") == 0) s.imds_v1 = 1;
        else if (ARG("--endpoint-logs")) set_str(&s.endpoint_logs, v);
        else if (ARG("--endpoint-metrics")) set_str(&s.endpoint_metrics, v);
        else if (ARG("--endpoint-sts")) set_str(&s.endpoint_sts, v);
        else if (strcmp(a, "--use-fips") == 0) s.use_fips = 1;
        else if (strcmp(a, "--use-dualstack") == 0) s.use_dualstack = 1;
        else if (ARG("--ca-file")) set_str(&s.ca_file, v);
        else if (ARG("--ca-path")) set_str(&s.ca_path, v);
        else if (ARG("--proxy")) set_str(&s.proxy, v);
        else if (ARG("--no-proxy")) set_str(&s.no_proxy, v);
        else if (ARG("--connect-timeout")) set_dur(&s.connect_timeout, v);
        else if (ARG("--request-timeout")) set_dur(&s.request_timeout, v);
        else if (ARG("--retry-base-delay")) set_dur(&s.retry_base_delay, v);
        else if (ARG("--retry-max-backoff")) set_dur(&s.retry_max_backoff, v);
        else if (ARG("--max-attempts")) s.max_attempts = atoi(v);
        else if (ARG("--retry-budget")) s.retry_budget = atoi(v);
        else if (ARG("--sysfs-root")) s.sysfs_root = v;
        else if (ARG("--service")) service = v;
        else if (ARG("--target")) target = v;
        else if (ARG("--body")) body = v;
        else if (ARG("--content-type")) ctype = v;
        else if (strcmp(a, "--gzip") == 0) gzip = 1;
        else if (ARG("--repeat")) repeat = atoi(v);
        else if (ARG("--interval-ms")) interval = atoi(v);
        else if (strcmp(a, "--describe") == 0) describe = 1;
        else if (strcmp(a, "--describe-text") == 0) describe = describe_text = 1;
        else if (ARG("--threads")) threads = atoi(v);
        else if (strcmp(a, "--debug") == 0) log_set_level(LOG_DEBUG);
        else usage();
#undef ARG
    }
    enum aws_service svc = strcmp(service, "monitoring") == 0 ? AWS_SVC_MONITORING
                         : strcmp(service, "sts") == 0 ? AWS_SVC_STS : AWS_SVC_LOGS;

    char err[1024];
    struct buf out;
    buf_init(&out);
    struct aws_context *ctx = aws_context_new(&s, err, sizeof err);
    if (!ctx) {
        buf_append_str(&out, "{");
        json_str(&out, "error", err);
        buf_append_str(&out, "}\n");
        fputs(out.data, stdout);
        buf_free(&out);
        aws_settings_free(&s);
        return 2;
    }
    buf_append_str(&out, "{");
    json_str(&out, "source", aws_context_credential_source(ctx));
    buf_append_str(&out, ",");
    json_str(&out, "region", aws_context_region(ctx));
    buf_append_str(&out, ",");
    json_str(&out, "endpoint", aws_context_endpoint(ctx, svc));
    buf_append_str(&out, "}\n");
    fputs(out.data, stdout);
    if (describe_text) aws_context_describe(ctx, stdout);
    fflush(stdout);

    int failed = 0;
    if (!describe) {
        struct call_plan plan = { ctx, svc, target, ctype, body, gzip, repeat, interval, 0, 0 };
        if (threads <= 1) {
            run_calls(&plan);
        } else {
            /* several sender threads sharing one context (and its credentials) */
            pthread_t tids[64];
            struct call_plan plans[64];
            if (threads > 64) threads = 64;
            for (int t = 0; t < threads; t++) {
                plans[t] = plan;
                plans[t].thread = t + 1;
                pthread_create(&tids[t], NULL, run_calls, &plans[t]);
            }
            for (int t = 0; t < threads; t++) {
                pthread_join(tids[t], NULL);
                plan.failed |= plans[t].failed;
            }
        }
        failed = plan.failed;
        struct aws_counters c;
        aws_context_counters(ctx, &c);
        buf_reset(&out);
        buf_printf(&out, "{\"counters\":{\"requests\":%llu,\"calls\":%llu,\"retries\":%llu,"
                   "\"throttles\":%llu,\"credential_refreshes\":%llu,\"last_success_ms\":%lld,"
                   "\"errors\":{",
                   (unsigned long long)c.requests, (unsigned long long)c.calls,
                   (unsigned long long)c.retries, (unsigned long long)c.throttles,
                   (unsigned long long)c.credential_refreshes, (long long)c.last_success_ms);
        for (int k = 1; k < AWS_ERR_KIND_COUNT; k++)
            buf_printf(&out, "%s\"%s\":%llu", k > 1 ? "," : "", aws_error_kind_name(k),
                       (unsigned long long)c.errors[k]);
        buf_append_str(&out, "}}}\n");
        fputs(out.data, stdout);
    }
    buf_free(&out);
    aws_context_free(ctx);
    aws_settings_free(&s);
    return failed;
}
