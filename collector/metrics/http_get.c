/* Blocking HTTP GET for samplers: see http_get.h. */
#include "collector/metrics/http_get.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#define MH_MAX_BODY (64u << 20)

struct mh_client {
    CURL *curl;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t len = size * n;
    if (b->len + len > MH_MAX_BODY)
        return 0;
    buf_append(b, ptr, len);
    return len;
}

struct mh_client *mh_new(void)
{
    struct mh_client *c = xcalloc(1, sizeof *c);
    c->curl = curl_easy_init();
    if (!c->curl) {
        free(c);
        return NULL;
    }
    return c;
}

void mh_free(struct mh_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

int mh_get(struct mh_client *c, const char *unix_socket, const char *url, long timeout_ms,
           struct buf *body, char *err, size_t errlen)
{
    CURL *h = c->curl;
    buf_reset(body);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (unix_socket)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, unix_socket);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return (int)status;
}
