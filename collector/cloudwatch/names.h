/* Log group and stream names from templates, pure.
 *
 *   log_group  = /ecs/{cluster}/{task_family}
 *   log_stream = {hostname}/{container_name}/{task_id}
 *
 * A template is parsed once at init (unknown placeholders and unclosed
 * braces are configuration errors with file:line) and rendered per source
 * (tag + meta) into a name; characters AWS forbids are replaced by '_':
 * group names keep only [.-_/#A-Za-z0-9] and may not start with "aws/";
 * stream names lose ':' '*' and control characters; both are 1-512.
 * A placeholder with no value for a record (a container field on a file
 * record, say) renders as "unknown". */
#ifndef COLLECTOR_CWL_NAMES_H
#define COLLECTOR_CWL_NAMES_H

#include "collector/core/util.h"

#include <stddef.h>
#include <stdint.h>

struct meta;
struct conf_section;
struct diag;

enum cwl_var {
    CWL_VAR_HOSTNAME = 0,
    CWL_VAR_INSTANCE_ID,
    CWL_VAR_IP_ADDRESS,
    CWL_VAR_REGION,
    CWL_VAR_TAG,
    CWL_VAR_FILE_NAME,
    CWL_VAR_FILE_PATH,
    CWL_VAR_CLUSTER,
    CWL_VAR_CONTAINER_INSTANCE_ID,
    CWL_VAR_TASK_ID,
    CWL_VAR_TASK_ARN,
    CWL_VAR_TASK_FAMILY,
    CWL_VAR_TASK_REVISION,
    CWL_VAR_CONTAINER_NAME,
    CWL_VAR_CONTAINER_ID,
    CWL_VAR_IMAGE,
    CWL_VAR_UNIT,         /* journald: _SYSTEMD_UNIT */
    CWL_VAR_IDENTIFIER,   /* journald: SYSLOG_IDENTIFIER */
    CWL_VAR_COUNT
};

#define CWL_NAME_MAX 512
#define CWL_UNKNOWN_VALUE "unknown"

/* Host-wide values, resolved once (host_info.h). */
struct cwl_host_values {
    const char *hostname;
    const char *instance_id;
    const char *ip_address;
    const char *region;
};

struct cwl_template;

/* Parse text; NULL with a message in err for an unknown placeholder, an
 * unclosed '{' or an empty template. */
struct cwl_template *cwl_template_parse(const char *text, char *err, size_t errlen);
/* The same, reporting to diag at the file:line of key in section. */
struct cwl_template *cwl_template_compile(const char *text, const struct conf_section *section,
                                          const char *key, struct diag *diag);
void cwl_template_free(struct cwl_template *t);

/* Bit (1 << enum cwl_var) for every placeholder used. */
uint32_t cwl_template_vars(const struct cwl_template *t);
/* Placeholders that differ between records (tag, file, container...). */
#define CWL_VARS_PER_RECORD                                                                   \
    (~((1u << CWL_VAR_HOSTNAME) | (1u << CWL_VAR_INSTANCE_ID) | (1u << CWL_VAR_IP_ADDRESS) |  \
       (1u << CWL_VAR_REGION)) & ((1u << CWL_VAR_COUNT) - 1))

/* Append the rendered raw name (not sanitized) to out. tag may be NULL. */
void cwl_template_render(const struct cwl_template *t, const struct cwl_host_values *host,
                         const char *tag, const struct meta *meta, struct buf *out);

/* Make out[from..] a valid name, in place. */
void cwl_sanitize_group(struct buf *out, size_t from);
void cwl_sanitize_stream(struct buf *out, size_t from);

/* "{hostname}, {instance_id}, ..." for messages and docs. */
const char *cwl_template_placeholders(void);

#endif
