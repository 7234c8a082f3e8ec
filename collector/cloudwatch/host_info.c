/* Host-wide values for name templates (see host_info.h). */
#include "collector/cloudwatch/host_info.h"
#include "collector/aws/credentials.h"
#include "collector/aws/http.h"
#include "collector/core/log.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MOD "cloudwatch_logs"

/* A metadata value is one short line of printable ASCII. */
static int copy_value(char *dst, size_t dstlen, const struct buf *body)
{
    size_t n = body->len;
    while (n && (body->data[n - 1] == '\n' || body->data[n - 1] == '\r' || body->data[n - 1] == ' '))
        n--;
    if (n == 0 || n >= dstlen)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)body->data[i] <= 0x20 || (unsigned char)body->data[i] >= 0x7f)
            return -1;
    memcpy(dst, body->data, n);
    dst[n] = '\0';
    return 0;
}

static int imds_fetch(struct aws_http *h, const char *base, const char *token, const char *path,
                      char *dst, size_t dstlen)
{
    char url[512], hdr[600];
    const char *hdrs[1] = {hdr};
    snprintf(url, sizeof url, "%s%s", base, path);
    snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", token);
    struct aws_http_response r;
    aws_http_response_init(&r);
    int rc = aws_http_request(h, "GET", url, hdrs, 1, NULL, 0, &r);
    if (rc == 0 && r.status == 200)
        rc = copy_value(dst, dstlen, &r.body);
    else
        rc = -1;
    aws_http_response_free(&r);
    return rc;
}

/* IMDSv2 only: a PUT for the token, then the two GETs. 0 or -1. */
static int from_imds(struct cwl_host_info *h, const struct aws_settings *aws)
{
    char base[256], token[512];
    aws_imds_endpoint(base, sizeof base);
    int64_t timeout = aws->imds_timeout > 0 ? aws->imds_timeout : 1000;
    struct aws_http_opts o = {.connect_timeout_ms = timeout, .timeout_ms = timeout, .direct = 1};
    struct aws_http *http = aws_http_new(&o);
    if (!http)
        return -1;
    char url[300];
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    const char *hdr[] = {"X-aws-ec2-metadata-token-ttl-seconds: 60"};
    struct aws_http_response r;
    aws_http_response_init(&r);
    int rc = aws_http_request(http, "PUT", url, hdr, 1, "", 0, &r);
    if (rc == 0 && r.status == 200)
        rc = copy_value(token, sizeof token, &r.body);
    else
        rc = -1;
    aws_http_response_free(&r);
    char id[64], ip[64];
    if (rc == 0)
        rc = imds_fetch(http, base, token, "/latest/meta-data/instance-id", id, sizeof id);
    if (rc == 0)
        rc = imds_fetch(http, base, token, "/latest/meta-data/local-ipv4", ip, sizeof ip);
    aws_http_free(http);
    if (rc == 0) {
        snprintf(h->instance_id, sizeof h->instance_id, "%s", id);
        snprintf(h->ip_address, sizeof h->ip_address, "%s", ip);
        h->from_imds = 1;
    }
    return rc;
}

static void first_ipv4(char *dst, size_t dstlen)
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return;
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
        if (inet_ntop(AF_INET, &sin->sin_addr, dst, (socklen_t)dstlen))
            break;
        dst[0] = '\0';
    }
    freeifaddrs(list);
}

void cwl_host_info_load(struct cwl_host_info *h, const char *hostname,
                        const struct aws_settings *aws, int want_imds)
{
    memset(h, 0, sizeof *h);
    if (hostname && hostname[0])
        snprintf(h->hostname, sizeof h->hostname, "%s", hostname);
    else if (gethostname(h->hostname, sizeof h->hostname - 1) != 0 || !h->hostname[0])
        snprintf(h->hostname, sizeof h->hostname, "localhost");
    if (want_imds && aws) {
        char why[160];
        if (aws_imds_allowed(aws, why, sizeof why)) {
            if (from_imds(h, aws) != 0)
                log_msg(LOG_WARN, MOD, "instance id / IP not available from IMDS; "
                        "using the hostname and the interfaces' address");
        } else {
            log_msg(LOG_DEBUG, MOD, "instance id / IP from the host (%s)", why);
        }
    }
    if (!h->instance_id[0])
        snprintf(h->instance_id, sizeof h->instance_id, "%.63s", h->hostname);
    if (!h->ip_address[0])
        first_ipv4(h->ip_address, sizeof h->ip_address);
    if (!h->ip_address[0])
        snprintf(h->ip_address, sizeof h->ip_address, "%.63s", h->hostname);
}
