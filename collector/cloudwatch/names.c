/* Log group and stream name templates (see names.h). */
#include "collector/cloudwatch/names.h"
#include "collector/core/config.h"
#include "collector/pipeline/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const var_names[CWL_VAR_COUNT] = {
    "hostname",  "instance_id", "ip_address",  "region",        "tag",
    "file_name", "file_path",   "cluster",     "container_instance_id",
    "task_id",   "task_arn",    "task_family", "task_revision", "container_name",
    "container_id", "image", "unit", "identifier",
};

/* The meta keys a per-record placeholder reads, first found wins. */
static const char *const var_meta[CWL_VAR_COUNT][2] = {
    [CWL_VAR_FILE_NAME] = {"file_name", NULL},
    [CWL_VAR_FILE_PATH] = {"file_path", NULL},
    [CWL_VAR_CLUSTER] = {"cluster", NULL},
    [CWL_VAR_CONTAINER_INSTANCE_ID] = {"container_instance_id", NULL},
    [CWL_VAR_TASK_ID] = {"task_id", NULL},
    [CWL_VAR_TASK_ARN] = {"task_arn", NULL},
    [CWL_VAR_TASK_FAMILY] = {"task_family", NULL},
    [CWL_VAR_TASK_REVISION] = {"task_revision", NULL},
    /* The ECS container name when the container belongs to a task, else Docker's. */
    [CWL_VAR_CONTAINER_NAME] = {"ecs_container_name", "container_name"},
    [CWL_VAR_CONTAINER_ID] = {"container_id", NULL},
    [CWL_VAR_IMAGE] = {"image", NULL},
    [CWL_VAR_UNIT] = {"systemd_unit", NULL},
    [CWL_VAR_IDENTIFIER] = {"syslog_identifier", NULL},
};

/* A template: parts in order, each a literal (var < 0) or a placeholder. */
struct cwl_part {
    int var;
    char *text;
    size_t len;
};

struct cwl_template {
    struct cwl_part *parts;
    int nparts;
    uint32_t vars;
};

const char *cwl_template_placeholders(void)
{
    return "{hostname}, {instance_id}, {ip_address}, {region}, {tag}, {file_name}, {file_path}, "
           "{cluster}, {container_instance_id}, {task_id}, {task_arn}, {task_family}, "
           "{task_revision}, {container_name}, {container_id}, {image}, {unit}, {identifier}";
}

static void add_part(struct cwl_template *t, int var, const char *text, size_t len)
{
    if (var < 0 && len == 0)
        return;
    t->parts = xrealloc(t->parts, (size_t)(t->nparts + 1) * sizeof *t->parts);
    struct cwl_part *p = &t->parts[t->nparts++];
    p->var = var;
    p->text = var < 0 ? xstrndup(text, len) : NULL;
    p->len = len;
    if (var >= 0)
        t->vars |= 1u << var;
}

static int find_var(const char *name, size_t len)
{
    for (int i = 0; i < CWL_VAR_COUNT; i++)
        if (strlen(var_names[i]) == len && memcmp(var_names[i], name, len) == 0)
            return i;
    return -1;
}

struct cwl_template *cwl_template_parse(const char *text, char *err, size_t errlen)
{
    if (!text || !text[0]) {
        snprintf(err, errlen, "the name template is empty");
        return NULL;
    }
    struct cwl_template *t = xcalloc(1, sizeof *t);
    const char *lit = text, *p = text;
    while (*p) {
        if (*p != '{') {
            p++;
            continue;
        }
        const char *close = strchr(p + 1, '}');
        if (!close) {
            snprintf(err, errlen, "'{' without a closing '}' at \"%s\"", p);
            cwl_template_free(t);
            return NULL;
        }
        int var = find_var(p + 1, (size_t)(close - p - 1));
        if (var < 0) {
            snprintf(err, errlen, "unknown placeholder {%.*s} (known: %s)", (int)(close - p - 1),
                     p + 1, cwl_template_placeholders());
            cwl_template_free(t);
            return NULL;
        }
        add_part(t, -1, lit, (size_t)(p - lit));
        add_part(t, var, NULL, 0);
        p = close + 1;
        lit = p;
    }
    add_part(t, -1, lit, (size_t)(p - lit));
    return t;
}

struct cwl_template *cwl_template_compile(const char *text, const struct conf_section *section,
                                          const char *key, struct diag *diag)
{
    char err[1024];
    struct cwl_template *t = cwl_template_parse(text, err, sizeof err);
    if (!t) {
        const struct conf_entry *e = section ? conf_section_get(section, key) : NULL;
        diag_add(diag, e ? e->file : (section ? section->file : NULL),
                 e ? e->line : (section ? section->line : 0), "%s = '%s': %s", key,
                 text ? text : "", err);
    }
    return t;
}

void cwl_template_free(struct cwl_template *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->nparts; i++)
        free(t->parts[i].text);
    free(t->parts);
    free(t);
}

uint32_t cwl_template_vars(const struct cwl_template *t)
{
    return t->vars;
}

static const char *value_of(int var, const struct cwl_host_values *host, const char *tag,
                            const struct meta *meta)
{
    switch (var) {
    case CWL_VAR_HOSTNAME: return host ? host->hostname : NULL;
    case CWL_VAR_INSTANCE_ID: return host ? host->instance_id : NULL;
    case CWL_VAR_IP_ADDRESS: return host ? host->ip_address : NULL;
    case CWL_VAR_REGION: return host ? host->region : NULL;
    case CWL_VAR_TAG: return tag;
    default: break;
    }
    if (!meta)
        return NULL;
    for (int k = 0; k < 2 && var_meta[var][k]; k++) {
        const char *v = meta_get(meta, var_meta[var][k]);
        if (v && v[0])
            return v;
    }
    return NULL;
}

void cwl_template_render(const struct cwl_template *t, const struct cwl_host_values *host,
                         const char *tag, const struct meta *meta, struct buf *out)
{
    for (int i = 0; i < t->nparts; i++) {
        const struct cwl_part *p = &t->parts[i];
        if (p->var < 0) {
            buf_append(out, p->text, p->len);
            continue;
        }
        const char *v = value_of(p->var, host, tag, meta);
        buf_append_str(out, v && v[0] ? v : CWL_UNKNOWN_VALUE);
    }
}

static int group_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_' || c == '/' || c == '#';
}

/* Keep out[from..] to at most CWL_NAME_MAX bytes, not cutting a UTF-8
 * character in two; an empty name becomes "_". */
static void fix_length(struct buf *out, size_t from)
{
    size_t len = out->len - from;
    if (len > CWL_NAME_MAX) {
        len = CWL_NAME_MAX;
        while (len > 0 && ((unsigned char)out->data[from + len] & 0xC0) == 0x80)
            len--;
        out->len = from + len;
        out->data[out->len] = '\0';
    }
    if (out->len == from)
        buf_append_char(out, '_');
}

void cwl_sanitize_group(struct buf *out, size_t from)
{
    for (size_t i = from; i < out->len; i++)
        if (!group_char_ok((unsigned char)out->data[i]))
            out->data[i] = '_';
    /* "aws/" is reserved for AWS services' own groups. */
    if (out->len - from >= 4 && memcmp(out->data + from, "aws/", 4) == 0)
        out->data[from + 3] = '_';
    fix_length(out, from);
}

void cwl_sanitize_stream(struct buf *out, size_t from)
{
    for (size_t i = from; i < out->len; i++) {
        unsigned char c = (unsigned char)out->data[i];
        if (c == ':' || c == '*' || c < 0x20 || c == 0x7f)
            out->data[i] = '_';
    }
    fix_length(out, from);
}
