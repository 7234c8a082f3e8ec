/* The [agent] keys of the AWS client (bound to the agent section by the
 * agent; see options.h). */
#include <stddef.h>
#include <string.h>

#include "collector/aws/aws.h"
#include "collector/core/config.h"
#include "collector/core/options.h"

#define F(field) offsetof(struct aws_settings, field)

const struct option_def aws_options[] = {
    { "region", OPT_STRING, NULL, 0, F(region), NULL,
      "AWS region; else AWS_REGION, AWS_DEFAULT_REGION, the profile, then IMDS" },
    { "access_key_id", OPT_SECRET, NULL, 0, F(access_key_id), NULL,
      "static access key id (discouraged: prefer roles, env or shared files)" },
    { "secret_access_key", OPT_SECRET, NULL, 0, F(secret_access_key), NULL,
      "static secret access key (discouraged)" },
    { "profile", OPT_STRING, NULL, 0, F(profile), NULL,
      "profile in the shared files; else AWS_PROFILE, then default" },
    { "role_arn", OPT_STRING, NULL, 0, F(role_arn), NULL,
      "role to assume with STS, using the credentials found by the rest of the chain" },
    { "external_id", OPT_STRING, NULL, 0, F(external_id), NULL, "ExternalId for role_arn" },
    { "session_name", OPT_STRING, NULL, 0, F(session_name), NULL,
      "RoleSessionName for role_arn (default collector-<time>)" },
    { "imds", OPT_ENUM, "auto", 0, F(imds), "auto|on|off",
      "EC2 instance metadata: auto = only on an EC2 host, on = always, off = never" },
    { "imds_v1", OPT_BOOL, "false", 0, F(imds_v1), NULL,
      "allow falling back to IMDSv1 when no IMDSv2 token can be had" },
    { "imds_timeout", OPT_DURATION, "1s", 0, F(imds_timeout), NULL,
      "timeout of each instance metadata request" },
    { "endpoint_logs", OPT_STRING, NULL, 0, F(endpoint_logs), NULL,
      "CloudWatch Logs endpoint URL (else AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, AWS_ENDPOINT_URL)" },
    { "endpoint_metrics", OPT_STRING, NULL, 0, F(endpoint_metrics), NULL,
      "CloudWatch endpoint URL (else AWS_ENDPOINT_URL_CLOUDWATCH, AWS_ENDPOINT_URL)" },
    { "endpoint_sts", OPT_STRING, NULL, 0, F(endpoint_sts), NULL,
      "STS endpoint URL (else AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL)" },
    { "use_fips", OPT_BOOL, "false", 0, F(use_fips), NULL, "use FIPS endpoints" },
    { "use_dualstack", OPT_BOOL, "false", 0, F(use_dualstack), NULL,
      "use dual-stack (IPv4+IPv6) endpoints" },
    { "ca_file", OPT_STRING, NULL, 0, F(ca_file), NULL, "CA bundle for TLS verification" },
    { "ca_path", OPT_STRING, NULL, 0, F(ca_path), NULL, "CA directory for TLS verification" },
    { "proxy", OPT_STRING, NULL, 0, F(proxy), NULL,
      "HTTP(S) proxy URL; else HTTPS_PROXY/https_proxy/http_proxy" },
    { "no_proxy", OPT_STRING, NULL, 0, F(no_proxy), NULL,
      "hosts not to proxy, comma separated; else NO_PROXY" },
    { "connect_timeout", OPT_DURATION, "5s", 0, F(connect_timeout), NULL,
      "TCP+TLS connect timeout" },
    { "request_timeout", OPT_DURATION, "30s", 0, F(request_timeout), NULL,
      "timeout of one whole HTTP request" },
    { "max_attempts", OPT_INT, "3", 0, F(max_attempts), "1..20",
      "attempts per call, the first included (AWS standard retry mode)" },
    { "retry_base_delay", OPT_DURATION, "1s", 0, F(retry_base_delay), NULL,
      "bound of the first jittered backoff; doubles per retry" },
    { "retry_max_backoff", OPT_DURATION, "20s", 0, F(retry_max_backoff), NULL,
      "cap of the jittered backoff" },
    { "retry_budget", OPT_INT, "500", 0, F(retry_budget), "0..1000000",
      "retry token bucket (a retry costs 5, 10 after a timeout); 0 = unlimited" },
    { 0 },
};

void aws_settings_defaults(struct aws_settings *s)
{
    memset(s, 0, sizeof *s);
    struct conf_section empty;
    memset(&empty, 0, sizeof empty);
    empty.kind = "agent";
    struct option_binding b = { aws_options, s };
    struct diag d = { 0 };
    options_apply(&empty, &b, 1, &d);
    diag_free(&d);
}

void aws_settings_free(struct aws_settings *s)
{
    options_free(aws_options, s);
    memset(s, 0, sizeof *s);
}
