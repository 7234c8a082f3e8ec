/* Host-wide values for name templates: hostname, EC2 instance id and local
 * IPv4, read once at init.
 *
 * The instance id and IP come from IMDSv2 only when the AWS core allows it
 * (aws_imds_allowed: an EC2 host, or imds = on; never with
 * AWS_EC2_METADATA_DISABLED=true), at AWS_EC2_METADATA_SERVICE_ENDPOINT when
 * set. Elsewhere (or when IMDS does not answer) the instance id is the
 * hostname and the IP is the first non-loopback IPv4 of the host's
 * interfaces (the hostname if there is none). */
#ifndef COLLECTOR_CWL_HOST_INFO_H
#define COLLECTOR_CWL_HOST_INFO_H

struct aws_settings;

struct cwl_host_info {
    char hostname[256];
    char instance_id[64];
    char ip_address[64];
    int from_imds;          /* instance id and IP came from IMDS */
};

/* hostname: the agent's configured hostname (NULL: gethostname). want_imds:
 * whether instance id / IP are needed at all (no IMDS traffic otherwise). */
void cwl_host_info_load(struct cwl_host_info *h, const char *hostname,
                        const struct aws_settings *aws, int want_imds);

#endif
