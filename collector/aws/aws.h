/* The AWS client core: the one header the CloudWatch outputs use.
 *
 *   struct aws_context *ctx = aws_context_new(&settings, err, sizeof err);
 *   struct aws_sender *s = aws_sender_new(ctx);          (one per sender thread)
 *   struct aws_request req = { .service = AWS_SVC_LOGS,
 *       .target = "Logs_20140328.PutLogEvents", .body = json, .len = n };
 *   struct aws_response resp; aws_response_init(&resp);
 *   if (aws_call(s, &req, &resp) < 0) ... resp.error.code / resp.error.kind
 *   aws_response_free(&resp);
 *
 * The context resolves region, endpoints and the credential source once (no
 * network except IMDS for the region when nothing else names one). Senders
 * own a keep-alive libcurl handle and reusable buffers; aws_call signs
 * (SigV4), sends, retries the AWS "standard" way and sleeps on the calling
 * thread. Credentials are refreshed on the sender thread that needs them,
 * never on the main loop. No secret is ever logged. */
#ifndef COLLECTOR_AWS_H
#define COLLECTOR_AWS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "collector/core/options.h"
#include "collector/core/util.h"

/* Configuration keys of the [agent] section (see aws_options.c). */
struct aws_settings {
    char *region;
    char *access_key_id;        /* OPT_SECRET: discouraged, masked */
    char *secret_access_key;    /* OPT_SECRET */
    char *profile;
    char *role_arn;
    char *external_id;
    char *session_name;
    char *imds;                 /* "auto" | "on" | "off" */
    int imds_v1;                /* allow the IMDSv1 fallback */
    char *endpoint_logs;
    char *endpoint_metrics;
    char *endpoint_sts;
    int use_fips;
    int use_dualstack;
    char *ca_file;
    char *ca_path;
    char *proxy;
    char *no_proxy;
    int64_t connect_timeout;    /* ms */
    int64_t request_timeout;    /* ms, whole request */
    int64_t max_attempts;       /* 1 = no retry */
    int64_t retry_max_backoff;  /* ms, cap of the jittered backoff */
    int64_t retry_base_delay;   /* ms, first backoff bound */
    int64_t retry_budget;       /* token bucket capacity; 0 = unlimited */
    int64_t imds_timeout;       /* ms, per metadata request */
    /* Not configuration keys (no option rows): test hooks. */
    const char *sysfs_root;     /* root for /sys DMI checks; NULL = "/" */
};

extern const struct option_def aws_options[];

/* Fill s with the table's defaults without a config file (tools, tests).
 * Strings are heap copies; release with aws_settings_free. */
void aws_settings_defaults(struct aws_settings *s);
void aws_settings_free(struct aws_settings *s);

enum aws_service { AWS_SVC_LOGS = 0, AWS_SVC_MONITORING, AWS_SVC_STS, AWS_SVC_COUNT };

/* Error kinds; aws_call returns the negated kind on failure. */
enum aws_error_kind {
    AWS_ERR_NONE = 0,
    AWS_ERR_THROTTLE,     /* throttling codes: retried */
    AWS_ERR_TRANSIENT,    /* 5xx, RequestTimeout...: retried */
    AWS_ERR_NETWORK,      /* connect/reset/timeout: retried */
    AWS_ERR_EXPIRED,      /* ExpiredToken...: refresh credentials once */
    AWS_ERR_AUTH,         /* UnrecognizedClient, AccessDenied, signature */
    AWS_ERR_CLIENT,       /* validation and other 4xx: never retried */
    AWS_ERR_NOT_FOUND,    /* ResourceNotFoundException */
    AWS_ERR_CREDENTIALS,  /* no credentials could be obtained */
    AWS_ERR_INTERNAL,     /* local failure (compression, bad URL) */
    AWS_ERR_KIND_COUNT
};

const char *aws_error_kind_name(enum aws_error_kind kind);

/* A credential set, as the chain (credentials.h) hands it to the signer. */
struct aws_creds {
    char akid[128];
    char secret[128];
    char token[4096];     /* "" without a session token */
    int64_t expires_ms;   /* wall clock; 0 = does not expire */
};

struct aws_error {
    char code[128];       /* "ThrottlingException", "" if none */
    char message[512];
    enum aws_error_kind kind;
};

struct aws_header {
    const char *name;
    const char *value;
};

struct aws_retry_budget;

struct aws_request {
    enum aws_service service;
    const char *target;        /* X-Amz-Target; NULL for query-protocol bodies */
    const char *content_type;  /* NULL: application/x-amz-json-1.1 (logs), -1.0 (monitoring) */
    const void *body;
    size_t len;
    int gzip;                  /* compress, then sign the gzip bytes + content-encoding */
    const struct aws_header *headers;  /* extra headers, all signed */
    int nheaders;
    struct aws_retry_budget *budget;   /* NULL: the context's shared budget */
};

struct aws_response {
    int status;               /* last HTTP status, 0 if none */
    struct buf body;          /* last response body */
    char request_id[96];
    struct aws_error error;   /* kind NONE on success */
    int attempts;
    int throttles;
};

void aws_response_init(struct aws_response *r);
void aws_response_free(struct aws_response *r);

struct aws_context;
struct aws_sender;

struct aws_context *aws_context_new(const struct aws_settings *s, char *err, size_t errlen);
/* Could an output work with these settings here (a region and a credential
 * source)? 1, or 0 with the reason in why. For `enabled = auto`. */
int aws_settings_usable(const struct aws_settings *s, struct buf *why);
void aws_context_free(struct aws_context *ctx);
/* Stop: every context made from these settings (one agent's configuration)
 * aborts the requests it has in flight, skips its retry waits and fails new
 * calls at once (a network error: the batch stays buffered, its records
 * unacknowledged). Thread-safe; for the agent's stop and reload. */
void aws_abort_settings(const struct aws_settings *s);
const char *aws_context_region(const struct aws_context *ctx);
const char *aws_context_credential_source(const struct aws_context *ctx);
const char *aws_context_endpoint(const struct aws_context *ctx, enum aws_service svc);

/* For check-config: region (and where it came from), endpoints, credential
 * source, proxy and retry settings, one "key: value" line each. No secrets. */
void aws_context_describe(const struct aws_context *ctx, FILE *out);

struct aws_sender *aws_sender_new(struct aws_context *ctx);
void aws_sender_free(struct aws_sender *s);

/* Sign, send, retry. 0 on 2xx, else -(enum aws_error_kind). */
int aws_call(struct aws_sender *s, const struct aws_request *req, struct aws_response *resp);

/* A retry budget of its own for a group of calls (else the context's). */
struct aws_retry_budget *aws_retry_budget_new(int capacity);
void aws_retry_budget_free(struct aws_retry_budget *b);

struct aws_counters {
    uint64_t requests;        /* HTTP attempts */
    uint64_t calls;           /* aws_call invocations */
    uint64_t retries;
    uint64_t throttles;
    uint64_t errors[AWS_ERR_KIND_COUNT];  /* failed calls by final kind */
    uint64_t credential_refreshes;
    int64_t last_success_ms;  /* wall clock, 0 = never */
    int64_t credentials_expire_ms; /* of the temporary credentials in use; 0 = none/static */
};

void aws_context_counters(const struct aws_context *ctx, struct aws_counters *out);
/* When the temporary credentials last used expire (wall clock ms; 0 = static
 * or none yet). */
int64_t aws_context_credentials_expiry(const struct aws_context *ctx);

/* Test hooks: the sleep used between retries, and the [0,1) random source of
 * the jitter. NULL restores the defaults. Process-wide. */
void aws_set_sleep_fn(void (*fn)(int64_t ms));
void aws_set_random_fn(double (*fn)(void));

#endif
