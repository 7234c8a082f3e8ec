/* Pure endpoint resolution: region -> service URL, FIPS, dual-stack, China
 * partition, and the overrides (configuration, AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL). http:// is accepted for tests and local emulators. */
#ifndef COLLECTOR_AWS_ENDPOINT_H
#define COLLECTOR_AWS_ENDPOINT_H

#include <stddef.h>

#include "collector/aws/aws.h"

struct aws_url {
    int https;
    char host[256];      /* without brackets for IPv6 */
    int port;            /* 0 when not given */
    char hostport[300];  /* the Host header: host[:port], [v6]:port */
    char base[400];      /* scheme://hostport */
    char path[256];      /* "/" when absent */
};

/* 0, or -1 for anything but an http(s) URL with a host. */
int aws_url_parse(const char *url, struct aws_url *u);

/* "logs", "monitoring", "sts": the endpoint prefix and signing name. */
const char *aws_service_name(enum aws_service svc);
/* "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_STS" */
const char *aws_service_endpoint_env(enum aws_service svc);

/* Letters, digits and '-' only, e.g. "us-east-1". */
int aws_region_valid(const char *region);

/* https://logs.us-east-1.amazonaws.com, logs-fips..., logs.<r>.api.aws,
 * cn-*: amazonaws.com.cn / api.amazonwebservices.com.cn. */
void aws_endpoint_default(enum aws_service svc, const char *region, int fips, int dualstack,
                          char *out, size_t outlen);

/* Pick the endpoint: configured, else the service variable, else
 * AWS_ENDPOINT_URL (both ignored if AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true),
 * else the default. getenv_fn NULL = getenv. *origin names where it came from.
 * 0, or -1 with a message when an override is not a usable URL. */
int aws_endpoint_resolve(enum aws_service svc, const char *region, const char *configured,
                         int fips, int dualstack, char *(*getenv_fn)(const char *),
                         char *out, size_t outlen, const char **origin,
                         char *err, size_t errlen);

#endif
