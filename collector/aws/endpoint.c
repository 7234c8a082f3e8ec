/* Endpoint resolution (see endpoint.h). */
#include "collector/aws/endpoint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int aws_url_parse(const char *url, struct aws_url *u)
{
    memset(u, 0, sizeof *u);
    if (!url) return -1;
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0) {
        u->https = 1;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        return -1;
    }
    const char *host_end;
    const char *h = p;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end) return -1;
        h = p + 1;
        p = host_end + 1;
    } else {
        p += strcspn(p, ":/?#");
        host_end = p;
    }
    size_t hl = (size_t)(host_end - h);
    if (hl == 0 || hl >= sizeof u->host) return -1;
    memcpy(u->host, h, hl);
    for (size_t i = 0; i < hl; i++)
        if (isspace((unsigned char)u->host[i]) || u->host[i] == '@') return -1;
    if (*p == ':') {
        char *e;
        long port = strtol(p + 1, &e, 10);
        if (e == p + 1 || port <= 0 || port > 65535) return -1;
        u->port = (int)port;
        p = e;
    }
    if (*p && *p != '/' && *p != '?' && *p != '#') return -1;
    size_t pl = strcspn(p, "?#");
    if (pl == 0) {
        strcpy(u->path, "/");
    } else {
        if (pl >= sizeof u->path) return -1;
        memcpy(u->path, p, pl);
    }
    int v6 = strchr(u->host, ':') != NULL;
    int default_port = u->port == 0 || u->port == (u->https ? 443 : 80);
    if (default_port)
        snprintf(u->hostport, sizeof u->hostport, v6 ? "[%s]" : "%s", u->host);
    else
        snprintf(u->hostport, sizeof u->hostport, v6 ? "[%s]:%d" : "%s:%d", u->host, u->port);
    snprintf(u->base, sizeof u->base, "%s://%s", u->https ? "https" : "http", u->hostport);
    return 0;
}

const char *aws_service_name(enum aws_service svc)
{
    switch (svc) {
    case AWS_SVC_LOGS: return "logs";
    case AWS_SVC_MONITORING: return "monitoring";
    case AWS_SVC_STS: return "sts";
    default: return "unknown";
    }
}

const char *aws_service_endpoint_env(enum aws_service svc)
{
    switch (svc) {
    case AWS_SVC_LOGS: return "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS";
    case AWS_SVC_MONITORING: return "AWS_ENDPOINT_URL_CLOUDWATCH";
    case AWS_SVC_STS: return "AWS_ENDPOINT_URL_STS";
    default: return "AWS_ENDPOINT_URL_UNKNOWN";
    }
}

int aws_region_valid(const char *region)
{
    if (!region || !*region || strlen(region) > 50) return 0;
    for (const char *p = region; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-') return 0;
    return region[0] != '-';
}

void aws_endpoint_default(enum aws_service svc, const char *region, int fips, int dualstack,
                          char *out, size_t outlen)
{
    int cn = strncmp(region, "cn-", 3) == 0;
    const char *suffix;
    if (dualstack)
        suffix = cn ? "api.amazonwebservices.com.cn" : "api.aws";
    else
        suffix = cn ? "amazonaws.com.cn" : "amazonaws.com";
    snprintf(out, outlen, "https://%s%s.%s.%s", aws_service_name(svc), fips ? "-fips" : "",
             region, suffix);
}

static int is_true(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static int take(const char *url, const char *what, char *out, size_t outlen, char *err,
                size_t errlen)
{
    struct aws_url u;
    if (aws_url_parse(url, &u) != 0) {
        snprintf(err, errlen, "%s: not an http(s) URL: \"%s\"", what, url);
        return -1;
    }
    /* keep the path (emulators behind a prefix), drop a trailing slash */
    snprintf(out, outlen, "%s%s", u.base, strcmp(u.path, "/") == 0 ? "" : u.path);
    size_t n = strlen(out);
    if (n && out[n - 1] == '/') out[n - 1] = '\0';
    return 0;
}

int aws_endpoint_resolve(enum aws_service svc, const char *region, const char *configured,
                         int fips, int dualstack, char *(*getenv_fn)(const char *),
                         char *out, size_t outlen, const char **origin,
                         char *err, size_t errlen)
{
    if (!getenv_fn) getenv_fn = getenv;
    const char *dummy;
    if (!origin) origin = &dummy;
    if (configured && *configured) {
        *origin = "configuration";
        return take(configured, "endpoint", out, outlen, err, errlen);
    }
    if (!is_true(getenv_fn("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))) {
        const char *name = aws_service_endpoint_env(svc);
        const char *v = getenv_fn(name);
        if (v && *v) {
            *origin = name;
            return take(v, name, out, outlen, err, errlen);
        }
        v = getenv_fn("AWS_ENDPOINT_URL");
        if (v && *v) {
            *origin = "AWS_ENDPOINT_URL";
            return take(v, "AWS_ENDPOINT_URL", out, outlen, err, errlen);
        }
    }
    if (!aws_region_valid(region)) {
        snprintf(err, errlen, "invalid region \"%s\"", region ? region : "");
        return -1;
    }
    *origin = "default";
    aws_endpoint_default(svc, region, fips, dualstack, out, outlen);
    return 0;
}
