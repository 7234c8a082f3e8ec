/* The bundle's requests, through the local HTTP core (collector/docker/). */
#include "collector/bundle/http.h"

#include "collector/docker/local_http.h"

#include <stdio.h>

void bundle_http_init(void)
{
    local_http_init();
}

long bundle_http(const char *method, const char *url, const char *header, int64_t timeout_ms,
                 size_t cap, struct buf *body, char *err, size_t errlen)
{
    struct local_http *h = local_http_new();
    if (!h) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    struct local_http_req req = {
        .method = method,
        .url = url,
        .header = header,
        .timeout_ms = (long)timeout_ms,
        .connect_timeout_ms = (long)(timeout_ms < 2000 ? timeout_ms : 2000),
        .max_body = cap,
    };
    long code = local_http_get(h, &req, body, err, errlen);
    local_http_free(h);
    return code;
}
