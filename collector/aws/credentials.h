/* The credential chain, in botocore's order:
 *   1. configuration (access_key_id/secret_access_key), then the environment
 *      (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN);
 *   2. shared files: credentials file, then config file, for the profile;
 *   3. role_arn (configuration, or role_arn + source_profile in the profile):
 *      STS AssumeRole signed with the credentials of the rest of the chain;
 *   4. ECS task role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI);
 *   5. EC2 instance profile through IMDSv2 (v1 only when allowed), probed
 *      only on EC2 (DMI/hypervisor uuid) or with imds = on, never when
 *      AWS_EC2_METADATA_DISABLED=true.
 * The source is chosen once, without network. Temporary credentials are
 * cached and refreshed ahead of expiry by whichever sender thread asks
 * first; the others keep using the still-valid ones meanwhile. */
#ifndef COLLECTOR_AWS_CREDENTIALS_H
#define COLLECTOR_AWS_CREDENTIALS_H

#include <stdint.h>

#include "collector/aws/aws.h"
#include "collector/aws/http.h"
#include "collector/aws/shared_config.h"

/* Wipe secrets. */
void aws_creds_clear(struct aws_creds *c);

/* The JSON the ECS and IMDS credential endpoints answer
 * ({"AccessKeyId","SecretAccessKey","Token","Expiration"}): 0, or -1 with
 * the reason in err. Pure (the fuzz target's entry point). */
int aws_creds_parse_json(const char *body, size_t len, struct aws_creds *out, char *err,
                         size_t errlen);

struct aws_cred_provider;

/* What the provider needs beyond the settings. */
struct aws_cred_env {
    const struct aws_settings *settings;
    const char *profile;
    const struct aws_ini *credentials_file;
    const char *credentials_path;
    const struct aws_ini *config_file;
    const char *config_path;
    const char *region;
    const char *sts_endpoint;              /* resolved URL */
    struct aws_http_opts http;             /* CA/proxy/timeouts for STS */
};

/* Choose the source (no network). NULL with a message only for an invalid
 * setup (half a key pair, a bad container URI, role_arn with nothing to
 * assume it with); no credentials at all is a provider of source "none: ...". */
struct aws_cred_provider *aws_cred_provider_new(const struct aws_cred_env *env, char *err,
                                                size_t errlen);
void aws_cred_provider_free(struct aws_cred_provider *p);

/* Copy current credentials into out, refreshing if needed (may block the
 * calling sender thread for the refresh). 0, or -1 with a message. */
int aws_credentials_get(struct aws_cred_provider *p, struct aws_creds *out, char *err,
                        size_t errlen);

/* The server rejected these credentials (ExpiredToken...): refresh at the
 * next get unless someone already did since `seen` was handed out. */
void aws_credentials_invalidate(struct aws_cred_provider *p, const struct aws_creds *seen);

const char *aws_credentials_describe_source(const struct aws_cred_provider *p);
int aws_credentials_refreshable(const struct aws_cred_provider *p);
uint64_t aws_credentials_refresh_count(const struct aws_cred_provider *p);

/* IMDS policy: 1 if IMDS may be contacted, else 0 with the reason. */
int aws_imds_allowed(const struct aws_settings *s, char *why, size_t whylen);
/* DMI sys_vendor contains "Amazon", or product_uuid / hypervisor uuid starts
 * with "ec2". root NULL = "/". */
int aws_host_is_ec2(const char *sysfs_root);
/* The IMDS base URL (AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254). */
void aws_imds_endpoint(char *out, size_t outlen);
/* placement/region from IMDS. 0 or -1. */
int aws_imds_region(const struct aws_settings *s, char *out, size_t outlen, char *err,
                    size_t errlen);

/* "2016-02-25T06:03:31Z" (fraction, "+00:00" accepted) -> ms; -1 if bad. */
int64_t aws_parse_iso8601_ms(const char *s);

#endif
