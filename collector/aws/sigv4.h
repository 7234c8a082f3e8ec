/* AWS Signature Version 4, pure: no I/O, no clock. The caller supplies the
 * time (X-Amz-Date), the headers that will be sent and the exact payload
 * bytes (the gzip bytes when the body is compressed).
 *
 * Paths are given decoded (as a person would write them: "/", "/a b/") and
 * are normalized and URI-encoded once here, as for every service but S3.
 * The query string is given as it appears after '?' (encoded or not): each
 * name and value is decoded, then re-encoded per RFC 3986 and sorted. */
#ifndef COLLECTOR_AWS_SIGV4_H
#define COLLECTOR_AWS_SIGV4_H

#include <stddef.h>

#include "collector/aws/aws.h"
#include "collector/core/util.h"

#define SIGV4_KEY_LEN 32

struct sigv4_request {
    const char *method;
    const char *path;               /* decoded path; NULL = "/" */
    const char *query;              /* after '?', or NULL */
    const struct aws_header *headers;  /* every header to sign, incl. host, x-amz-date */
    int nheaders;
    const void *payload;
    size_t payload_len;
    const char *payload_hash;       /* hex SHA-256 if already known, else NULL */
    const char *amz_date;           /* "20150830T123600Z" */
    const char *region;
    const char *service;
};

/* Results; buffers are reused across calls (sigv4_out_reset is implicit). */
struct sigv4_out {
    struct buf creq;                /* canonical request */
    struct buf sts;                 /* string to sign */
    struct buf signed_headers;      /* "content-type;host;x-amz-date" */
    struct buf authz;               /* Authorization header value */
    char signature[65];
};

void sigv4_out_init(struct sigv4_out *o);
void sigv4_out_free(struct sigv4_out *o);

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date8), region), service), "aws4_request") */
void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[SIGV4_KEY_LEN]);

/* Build creq, sts, signature and Authorization. 0, or -1 on a malformed
 * request (no amz_date, bad date, missing region/service). */
int sigv4_sign(const struct sigv4_request *r, const char *access_key_id,
               const unsigned char key[SIGV4_KEY_LEN], struct sigv4_out *out);

/* The derived key changes once a day per region/service: one cache per
 * sender (not shared, no lock). Keyed by a digest of the secret, never the
 * secret itself. */
struct sigv4_key_cache {
    int valid;
    unsigned char secret_digest[32];
    char date8[9];
    char region[64];
    char service[32];
    unsigned char key[SIGV4_KEY_LEN];
};

const unsigned char *sigv4_key_cached(struct sigv4_key_cache *c, const char *secret,
                                      const char *date8, const char *region,
                                      const char *service);

/* Helpers shared with the client. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);
/* "YYYYMMDDTHHMMSSZ" for t (seconds since the epoch, UTC). */
void sigv4_amz_date(long long t, char out[17]);
/* Append s percent-encoded per RFC 3986 (unreserved kept; '/' kept if keep_slash). */
void sigv4_uri_encode(struct buf *b, const char *s, size_t len, int keep_slash);

#endif
