/* A single signed request (see request.h). */
#include "collector/aws/request.h"

#include <stdio.h>
#include <string.h>

#define MAX_HEADERS 24

void aws_req_scratch_init(struct aws_req_scratch *s)
{
    memset(s, 0, sizeof *s);
    sigv4_out_init(&s->sig);
    buf_init(&s->lines);
}

void aws_req_scratch_free(struct aws_req_scratch *s)
{
    sigv4_out_free(&s->sig);
    buf_free(&s->lines);
    memset(&s->keys, 0, sizeof s->keys);
}

int aws_send_signed(struct aws_http *h, const struct aws_signed_req *r,
                    const struct aws_creds *c, int64_t now_s, struct aws_req_scratch *s,
                    struct aws_http_response *resp)
{
    struct aws_header hdr[MAX_HEADERS];
    int n = 0;
    char amz_date[17], date8[9];

    sigv4_amz_date(now_s, amz_date);
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    hdr[n++] = (struct aws_header){ "Host", r->url->hostport };
    hdr[n++] = (struct aws_header){ "X-Amz-Date", amz_date };
    if (r->content_type) hdr[n++] = (struct aws_header){ "Content-Type", r->content_type };
    if (r->target) hdr[n++] = (struct aws_header){ "X-Amz-Target", r->target };
    if (r->gzipped) hdr[n++] = (struct aws_header){ "Content-Encoding", "gzip" };
    if (c->token[0]) hdr[n++] = (struct aws_header){ "X-Amz-Security-Token", c->token };
    for (int i = 0; i < r->nextra && n < MAX_HEADERS - 1; i++) hdr[n++] = r->extra[i];

    struct sigv4_request sr = {
        .method = "POST", .path = r->url->path, .query = NULL, .headers = hdr,
        .nheaders = n, .payload = r->body, .payload_len = r->len, .amz_date = amz_date,
        .region = r->region, .service = r->service,
    };
    const unsigned char *key = sigv4_key_cached(&s->keys, c->secret, date8, r->region, r->service);
    if (sigv4_sign(&sr, c->akid, key, &s->sig) != 0) {
        aws_http_response_init(resp);
        snprintf(resp->curl_error, sizeof resp->curl_error, "cannot sign request");
        resp->transport_error = -1;
        return -1;
    }

    /* "Name: value" lines, NUL-separated in one reused buffer */
    size_t offs[MAX_HEADERS + 1];
    buf_reset(&s->lines);
    for (int i = 0; i < n; i++) {
        offs[i] = s->lines.len;
        buf_printf(&s->lines, "%s: %s", hdr[i].name, hdr[i].value);
        buf_append_char(&s->lines, '\0');
    }
    offs[n] = s->lines.len;
    buf_append_str(&s->lines, "Authorization: ");
    buf_append(&s->lines, s->sig.authz.data, s->sig.authz.len);
    buf_append_char(&s->lines, '\0');
    const char *lines[MAX_HEADERS + 1];
    for (int i = 0; i <= n; i++) lines[i] = s->lines.data + offs[i];

    char url[700];
    snprintf(url, sizeof url, "%s%s", r->url->base, r->url->path);
    return aws_http_request(h, "POST", url, lines, n + 1, r->body, r->len, resp);
}
