/* libcurl transport (see http.h). */
#include "collector/aws/http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#ifndef COLLECTOR_VERSION
#define COLLECTOR_VERSION "0.0.0"
#endif

struct aws_http {
    CURL *curl;
    struct aws_http_opts opts;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *aws_user_agent(void)
{
    return "collector/" COLLECTOR_VERSION;
}

struct aws_http *aws_http_new(const struct aws_http_opts *opts)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    struct aws_http *h = xcalloc(1, sizeof *h);
    h->curl = c;
    h->opts = *opts;
    return h;
}

void aws_http_free(struct aws_http *h)
{
    if (!h) return;
    curl_easy_cleanup(h->curl);
    free(h);
}

void aws_http_response_init(struct aws_http_response *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
}

void aws_http_response_free(struct aws_http_response *r)
{
    buf_free(&r->body);
}

static void response_reset(struct aws_http_response *r)
{
    r->status = 0;
    buf_reset(&r->body);
    r->request_id[0] = r->error_type[0] = r->query_error[0] = r->curl_error[0] = '\0';
    r->transport_error = 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct aws_http_response *r = userdata;
    size_t n = size * nmemb;
    if (r->body.len + n > (64u << 20)) return 0;   /* refuse absurd bodies */
    buf_append(&r->body, ptr, n);
    return n;
}

/* Copy a header value (trimmed) if the line is "name: value". */
static void grab(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl && isspace((unsigned char)*v)) v++, vl--;
    while (vl && isspace((unsigned char)v[vl - 1])) vl--;
    if (vl >= outlen) vl = outlen - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
    struct aws_http_response *r = userdata;
    size_t n = size * nitems;
    if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or 100-continue): forget the old */
        r->request_id[0] = r->error_type[0] = r->query_error[0] = '\0';
        return n;
    }
    grab(line, n, "x-amzn-RequestId", r->request_id, sizeof r->request_id);
    grab(line, n, "x-amz-request-id", r->request_id, sizeof r->request_id);
    grab(line, n, "x-amzn-ErrorType", r->error_type, sizeof r->error_type);
    grab(line, n, "x-amzn-query-error", r->query_error, sizeof r->query_error);
    return n;
}

static int env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

/* libcurl calls this while a transfer runs, also when nothing moves: the
 * way a stop reaches a request to an endpoint that never answers. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const struct aws_http *h = userdata;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return h->opts.abort && atomic_load(h->opts.abort) ? 1 : 0;
}

static void apply_opts(struct aws_http *h, int is_http)
{
    CURL *c = h->curl;
    const struct aws_http_opts *o = &h->opts;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, aws_user_agent());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (o->ca_path) curl_easy_setopt(c, CURLOPT_CAPATH, o->ca_path);
    if (o->direct) {
        curl_easy_setopt(c, CURLOPT_PROXY, "");
    } else {
        if (o->proxy) {
            curl_easy_setopt(c, CURLOPT_PROXY, o->proxy);
        } else if (is_http && !env_set("http_proxy") && env_set("HTTP_PROXY")) {
            /* libcurl reads only lower-case http_proxy (a CGI precaution that
             * does not apply to an agent); botocore honors HTTP_PROXY too */
            curl_easy_setopt(c, CURLOPT_PROXY, getenv("HTTP_PROXY"));
        }
        if (o->no_proxy) curl_easy_setopt(c, CURLOPT_NOPROXY, o->no_proxy);
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms > 0 ? o->timeout_ms : 30000));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
    if (o->abort) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    }
}

int aws_http_request(struct aws_http *h, const char *method, const char *url,
                     const char *const *headers, int nheaders, const void *body, size_t len,
                     struct aws_http_response *r)
{
    CURL *c = h->curl;
    struct curl_slist *list = NULL;

    response_reset(r);
    if (h->opts.abort && atomic_load(h->opts.abort)) {
        r->transport_error = (int)CURLE_ABORTED_BY_CALLBACK;
        snprintf(r->curl_error, sizeof r->curl_error, "aborted: the agent is stopping");
        return -1;
    }
    /* reset clears per-request state but keeps the connection cache */
    curl_easy_reset(c);
    apply_opts(h, strncasecmp(url, "http://", 7) == 0);
    h->errbuf[0] = '\0';
    for (int i = 0; i < nheaders; i++) list = curl_slist_append(list, headers[i]);
    list = curl_slist_append(list, "Expect:");   /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
        if (strcmp(method, "POST") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(list);
    if (rc != CURLE_OK) {
        r->transport_error = (int)rc;
        if (rc == CURLE_ABORTED_BY_CALLBACK)
            snprintf(r->curl_error, sizeof r->curl_error, "aborted: the agent is stopping");
        else
            snprintf(r->curl_error, sizeof r->curl_error, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
        r->status = 0;
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (!r->body.data) buf_append(&r->body, "", 0);
    return 0;
}
