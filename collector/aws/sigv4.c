/* SigV4 signing (see sigv4.h). Follows the AWS reference algorithm and is
 * checked against AWS's own test suite (tests/data/sigv4). */
#include "collector/aws/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static const char hexdigits[] = "0123456789abcdef";

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hexdigits[in[i] >> 4];
        out[2 * i + 1] = hexdigits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    hex_encode(md, sizeof md, out);
}

static void hmac(const void *key, size_t keylen, const void *data, size_t len,
                 unsigned char out[32])
{
    unsigned int outlen = 32;
    HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen);
}

void sigv4_amz_date(long long t, char out[17])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char key[SIGV4_KEY_LEN])
{
    size_t slen = strlen(secret);
    char *k = xmalloc(slen + 5);
    unsigned char a[32], b[32];

    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen + 1);
    hmac(k, slen + 4, date8, strlen(date8), a);
    hmac(a, 32, region, strlen(region), b);
    hmac(b, 32, service, strlen(service), a);
    hmac(a, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k, slen + 4);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    free(k);
}

const unsigned char *sigv4_key_cached(struct sigv4_key_cache *c, const char *secret,
                                      const char *date8, const char *region,
                                      const char *service)
{
    unsigned char digest[32];
    SHA256((const unsigned char *)secret, strlen(secret), digest);
    if (c->valid && memcmp(c->secret_digest, digest, 32) == 0 &&
        strcmp(c->date8, date8) == 0 && strcmp(c->region, region) == 0 &&
        strcmp(c->service, service) == 0)
        return c->key;
    if (strlen(date8) >= sizeof c->date8 || strlen(region) >= sizeof c->region ||
        strlen(service) >= sizeof c->service) {
        /* Too long to cache: derive into the slot but don't mark it valid. */
        c->valid = 0;
        sigv4_signing_key(secret, date8, region, service, c->key);
        return c->key;
    }
    sigv4_signing_key(secret, date8, region, service, c->key);
    memcpy(c->secret_digest, digest, 32);
    strcpy(c->date8, date8);
    strcpy(c->region, region);
    strcpy(c->service, service);
    c->valid = 1;
    return c->key;
}

void sigv4_out_init(struct sigv4_out *o)
{
    buf_init(&o->creq);
    buf_init(&o->sts);
    buf_init(&o->signed_headers);
    buf_init(&o->authz);
    o->signature[0] = '\0';
}

void sigv4_out_free(struct sigv4_out *o)
{
    buf_free(&o->creq);
    buf_free(&o->sts);
    buf_free(&o->signed_headers);
    buf_free(&o->authz);
}

static int is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

void sigv4_uri_encode(struct buf *b, const char *s, size_t len, int keep_slash)
{
    static const char up[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            buf_append_char(b, (char)c);
        } else {
            char enc[3] = { '%', up[c >> 4], up[c & 15] };
            buf_append(b, enc, 3);
        }
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..len) into a fresh string (invalid escapes kept). */
static char *uri_decode(const char *s, size_t len, size_t *outlen)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[n++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* Remove "." and ".." segments and empty segments ("//"), keep a trailing
 * slash, then encode each segment. */
static void canonical_uri(struct buf *b, const char *path)
{
    if (!path || !*path || strcmp(path, "/") == 0) {   /* every CloudWatch call */
        buf_append_char(b, '/');
        return;
    }
    size_t plen = strlen(path);
    const char **seg = xmalloc(sizeof(char *) * (plen + 1));
    size_t *seglen = xmalloc(sizeof(size_t) * (plen + 1));
    int n = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 1 && p[0] == '.') {
            /* skip */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (n > 0) n--;
        } else {
            seg[n] = p;
            seglen[n] = l;
            n++;
        }
        p += l;
    }
    int trailing = path[plen - 1] == '/' ||
                   (plen >= 2 && path[plen - 1] == '.' && path[plen - 2] == '/');
    buf_append_char(b, '/');
    for (int i = 0; i < n; i++) {
        if (i > 0) buf_append_char(b, '/');
        sigv4_uri_encode(b, seg[i], seglen[i], 0);
    }
    if (trailing && n > 0) buf_append_char(b, '/');
    free(seg);
    free(seglen);
}

struct qparam {
    char *key;   /* encoded */
    char *val;   /* encoded */
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->val, y->val);
}

static char *encode_component(const char *s, size_t len)
{
    size_t dlen;
    char *dec = uri_decode(s, len, &dlen);
    struct buf b;
    buf_init(&b);
    sigv4_uri_encode(&b, dec, dlen, 0);
    free(dec);
    if (!b.data) return xstrdup("");
    return b.data;  /* ownership moves to the caller */
}

static void canonical_query(struct buf *b, const char *query)
{
    if (!query || !*query) return;
    size_t qlen = strlen(query), n = 0;
    struct qparam *params = xcalloc(qlen / 2 + 2, sizeof *params);
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t l = amp ? (size_t)(amp - p) : strlen(p);
        if (l > 0) {
            const char *eq = memchr(p, '=', l);
            size_t kl = eq ? (size_t)(eq - p) : l;
            params[n].key = encode_component(p, kl);
            params[n].val = eq ? encode_component(eq + 1, l - kl - 1) : xstrdup("");
            n++;
        }
        p += l;
        if (*p == '&') p++;
    }
    qsort(params, n, sizeof *params, qparam_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i) buf_append_char(b, '&');
        buf_append_str(b, params[i].key);
        buf_append_char(b, '=');
        buf_append_str(b, params[i].val);
        free(params[i].key);
        free(params[i].val);
    }
    free(params);
}

struct hdr {
    char *name;          /* lowercased */
    const char *value;
    int index;           /* original order, for stable duplicate joining */
};

static int hdr_cmp(const void *a, const void *b)
{
    const struct hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->index - y->index;
}

/* Trim, and collapse runs of whitespace (incl. folded line breaks) to one space. */
static void append_trimmed(struct buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') v++;
    int pending = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            pending = 1;
            continue;
        }
        if (pending) buf_append_char(b, ' ');
        pending = 0;
        buf_append_char(b, *v);
    }
}

#define HDR_STACK 32
#define NAME_STACK 1024

static void canonical_headers(struct buf *creq, struct buf *signed_headers,
                              const struct aws_header *headers, int n)
{
    /* The usual request has a handful of short header names: sort and
     * lowercase them on the stack, allocate only for unusual ones. */
    struct hdr stack_h[HDR_STACK];
    char stack_names[NAME_STACK];
    size_t need = 0;
    for (int i = 0; i < n; i++) need += strlen(headers[i].name) + 1;
    struct hdr *h = n <= HDR_STACK ? stack_h : xcalloc((size_t)n, sizeof *h);
    char *names = need <= NAME_STACK ? stack_names : xmalloc(need);
    char *w = names;
    for (int i = 0; i < n; i++) {
        h[i].name = w;
        for (const char *c = headers[i].name; *c; c++) *w++ = (char)tolower((unsigned char)*c);
        *w++ = '\0';
        h[i].value = headers[i].value ? headers[i].value : "";
        h[i].index = i;
    }
    qsort(h, (size_t)n, sizeof *h, hdr_cmp);
    for (int i = 0; i < n; i++) {
        int first = i == 0 || strcmp(h[i].name, h[i - 1].name) != 0;
        if (first) {
            if (i) buf_append_char(creq, '\n');
            buf_append_str(creq, h[i].name);
            buf_append_char(creq, ':');
            if (signed_headers->len) buf_append_char(signed_headers, ';');
            buf_append_str(signed_headers, h[i].name);
        } else {
            buf_append_char(creq, ',');
        }
        append_trimmed(creq, h[i].value);
    }
    if (n) buf_append_char(creq, '\n');
    if (h != stack_h) free(h);
    if (names != stack_names) free(names);
}

static int valid_amz_date(const char *d)
{
    if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z') return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)d[i])) return 0;
    return 1;
}

int sigv4_sign(const struct sigv4_request *r, const char *access_key_id,
               const unsigned char key[SIGV4_KEY_LEN], struct sigv4_out *out)
{
    char date8[9], payload_hash[65], creq_hash[65];
    unsigned char sig[32];

    buf_reset(&out->creq);
    buf_reset(&out->sts);
    buf_reset(&out->signed_headers);
    buf_reset(&out->authz);
    out->signature[0] = '\0';
    if (!valid_amz_date(r->amz_date) || !r->region || !r->service || !r->method)
        return -1;
    memcpy(date8, r->amz_date, 8);
    date8[8] = '\0';

    if (r->payload_hash)
        snprintf(payload_hash, sizeof payload_hash, "%s", r->payload_hash);
    else
        sigv4_sha256_hex(r->payload ? r->payload : "", r->payload ? r->payload_len : 0,
                         payload_hash);

    buf_append_str(&out->creq, r->method);
    buf_append_char(&out->creq, '\n');
    canonical_uri(&out->creq, r->path);
    buf_append_char(&out->creq, '\n');
    canonical_query(&out->creq, r->query);
    buf_append_char(&out->creq, '\n');
    canonical_headers(&out->creq, &out->signed_headers, r->headers, r->nheaders);
    buf_append_char(&out->creq, '\n');
    buf_append(&out->creq, out->signed_headers.data ? out->signed_headers.data : "",
               out->signed_headers.len);
    buf_append_char(&out->creq, '\n');
    buf_append_str(&out->creq, payload_hash);

    sigv4_sha256_hex(out->creq.data, out->creq.len, creq_hash);
    buf_printf(&out->sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", r->amz_date,
               date8, r->region, r->service, creq_hash);

    hmac(key, SIGV4_KEY_LEN, out->sts.data, out->sts.len, sig);
    hex_encode(sig, sizeof sig, out->signature);
    buf_printf(&out->authz,
               "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
               "Signature=%s",
               access_key_id, date8, r->region, r->service,
               out->signed_headers.data ? out->signed_headers.data : "", out->signature);
    return 0;
}
