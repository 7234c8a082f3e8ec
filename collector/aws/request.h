/* One signed attempt: build the header set (Host, X-Amz-Date, target,
 * content type and encoding, session token, extras), sign it with SigV4 over
 * the exact body bytes, send it through an aws_http handle. Used by aws_call
 * (which adds retries) and by the STS credential provider. */
#ifndef COLLECTOR_AWS_REQUEST_H
#define COLLECTOR_AWS_REQUEST_H

#include <stdint.h>

#include "collector/aws/aws.h"
#include "collector/aws/endpoint.h"
#include "collector/aws/http.h"
#include "collector/aws/sigv4.h"

struct aws_signed_req {
    const struct aws_url *url;     /* the endpoint: https://logs.us-east-1.amazonaws.com */
    const char *region;
    const char *service;           /* signing name */
    const char *target;            /* X-Amz-Target or NULL */
    const char *content_type;
    int gzipped;                   /* body is gzip: send and sign Content-Encoding */
    const struct aws_header *extra;
    int nextra;
    const void *body;
    size_t len;
};

/* Reused between attempts and calls: no allocation once warm. */
struct aws_req_scratch {
    struct sigv4_out sig;
    struct sigv4_key_cache keys;
    struct buf lines;              /* "Name: value\0" lines for libcurl */
};

void aws_req_scratch_init(struct aws_req_scratch *s);
void aws_req_scratch_free(struct aws_req_scratch *s);

/* 0 when a response arrived, -1 on transport failure (see aws_http_request). */
int aws_send_signed(struct aws_http *h, const struct aws_signed_req *r,
                    const struct aws_creds *c, int64_t now_s, struct aws_req_scratch *s,
                    struct aws_http_response *resp);

#endif
