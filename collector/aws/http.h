/* One libcurl easy handle, reused so the connection is kept alive between
 * requests (one per sender thread; not shared). TLS verification is always
 * on; CA file/path, proxy, timeouts and the User-Agent come from settings. */
#ifndef COLLECTOR_AWS_HTTP_H
#define COLLECTOR_AWS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "collector/aws/aws.h"
#include "collector/core/util.h"

struct aws_http_opts {
    const char *ca_file;
    const char *ca_path;
    const char *proxy;          /* NULL: libcurl's environment handling */
    const char *no_proxy;
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
    int direct;                 /* metadata endpoints: never through a proxy */
    const _Atomic int *abort;   /* nonzero: a transfer in progress stops (checked by libcurl's
                                   progress callback, at least once a second) and new ones
                                   fail at once; NULL = never */
};

struct aws_http_response {
    long status;                /* 0 when no response */
    struct buf body;
    char request_id[96];        /* x-amzn-RequestId / x-amz-request-id */
    char error_type[160];       /* x-amzn-ErrorType */
    char query_error[160];      /* x-amzn-query-error */
    char curl_error[256];       /* transport failure text */
    int transport_error;        /* nonzero: CURLcode of a failed transfer */
};

struct aws_http;

struct aws_http *aws_http_new(const struct aws_http_opts *opts);
void aws_http_free(struct aws_http *h);

void aws_http_response_init(struct aws_http_response *r);
void aws_http_response_free(struct aws_http_response *r);

/* method "GET"/"PUT"/"POST"; headers "Name: value". Returns 0 when an HTTP
 * response arrived (any status), -1 on transport failure (details in r). */
int aws_http_request(struct aws_http *h, const char *method, const char *url,
                     const char *const *headers, int nheaders, const void *body, size_t len,
                     struct aws_http_response *r);

const char *aws_user_agent(void);

#endif
