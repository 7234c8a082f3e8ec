/* awslogs.conf -> conf.d. The awslogs surface (../shared/spec/anchors.md §4):
 * [general] and one section per log stream with file, log_group_name,
 * log_stream_name, datetime_format, time_zone, file_fingerprint_lines,
 * multi_line_start_pattern, initial_position, encoding, buffer_duration,
 * batch_count, batch_size. Python ConfigParser syntax: `key = value` or
 * `key: value`, comments with # or ; at the start of a line. */
#include "collector/import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_KEYS 32

struct kv {
    char key[64];
    char *value;
    int line;
    int used;
};

struct section {
    char name[256];
    int line;
    struct kv keys[MAX_KEYS];
    int nkeys;
};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static struct kv *get(struct section *s, const char *key)
{
    for (int i = 0; i < s->nkeys; i++)
        if (strcasecmp(s->keys[i].key, key) == 0) {
            s->keys[i].used = 1;
            return &s->keys[i];
        }
    return NULL;
}

/* Parse into sections; returns how many. Lines that are neither are noted. */
static int parse(char *text, const char *source, struct section *secs, int max,
                 struct import_result *r)
{
    int n = 0, lineno = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *t = trim(line);
        if (!*t || *t == '#' || *t == ';')
            continue;
        if (*t == '[') {
            char *close = strrchr(t, ']');
            if (!close) {
                import_note(r, source, lineno, "'%s': not a section header; skipped", t);
                continue;
            }
            *close = '\0';
            if (n == max) {
                import_note(r, source, lineno, "more than %d sections; the rest are skipped", max);
                break;
            }
            memset(&secs[n], 0, sizeof secs[n]);
            snprintf(secs[n].name, sizeof secs[n].name, "%s", trim(t + 1));
            secs[n].line = lineno;
            n++;
            continue;
        }
        char *sep = strpbrk(t, "=:");
        if (!sep || n == 0) {
            import_note(r, source, lineno, "'%.60s': not `key = value` in a section; skipped", t);
            continue;
        }
        *sep = '\0';
        struct section *s = &secs[n - 1];
        if (s->nkeys == MAX_KEYS)
            continue;
        struct kv *kv = &s->keys[s->nkeys++];
        snprintf(kv->key, sizeof kv->key, "%s", trim(t));
        kv->value = trim(sep + 1);
        kv->line = lineno;
    }
    return n;
}

static int parse_int(const char *v, long long *out)
{
    char *end;
    long long x = strtoll(v, &end, 10);
    if (end == v || *trim(end))
        return -1;
    *out = x;
    return 0;
}

/* One stream section -> [input] + [output]. */
static void stream(struct section *s, const char *source, int gzip, struct import_result *r)
{
    struct buf *c = &r->conf;
    struct kv *file = get(s, "file"), *group = get(s, "log_group_name");
    struct kv *stream_name = get(s, "log_stream_name");
    if (!file || !group) {
        import_note(r, source, s->line, "[%s]: no %s: section skipped (awslogs needs file and "
                    "log_group_name)", s->name, !file ? "file" : "log_group_name");
        return;
    }
    if (r->ninputs == IMPORT_MAX_INPUTS) {
        import_note(r, source, s->line, "[%s]: more than %d streams; skipped", s->name,
                    IMPORT_MAX_INPUTS);
        return;
    }
    char taken[IMPORT_MAX_INPUTS][128];
    for (int i = 0; i < r->ninputs; i++)
        memcpy(taken[i], r->inputs[i].name, sizeof taken[i]);
    char name[128];
    import_section_name(s->name, taken, r->ninputs, name, sizeof name);
    struct import_input *in = &r->inputs[r->ninputs++];
    snprintf(in->name, sizeof in->name, "%s", name);
    snprintf(in->path, sizeof in->path, "%s", file->value);

    buf_printf(c, "\n# ---- [%s] (%s:%d) ----\n", s->name, source, s->line);
    buf_printf(c, "[input %s]\ntype = tail\ntag = awslogs.%s\n", name, name);
    buf_printf(c, "path = %s    # file = %s (line %d)\n", file->value, file->value, file->line);
    struct kv *pos = get(s, "initial_position");
    int from_start = !pos || strcasecmp(pos->value, "end_of_file") != 0;
    if (pos && strcasecmp(pos->value, "start_of_file") != 0 &&
        strcasecmp(pos->value, "end_of_file") != 0)
        import_note(r, source, pos->line, "initial_position = %s: not start_of_file or "
                    "end_of_file; start_of_file (awslogs' default) used", pos->value);
    if (import_is_glob(file->value)) {
        /* awslogs pushes only the newest (mtime) file matching the glob. */
        buf_printf(c, "# awslogs followed only the newest file matching this glob. This agent "
                      "follows every match, so:\n"
                      "# files present at the very first start are read from their end (older "
                      "matches are not resent),\n"
                      "# files that appear later (the next rotation or day) from their first "
                      "line, and a rotated file\n"
                      "# is recognised by its inode and never read twice.\n"
                      "read_from_head = false\nread_newly_discovered_files_from_head = true\n");
        if (from_start)
            import_note(r, source, pos ? pos->line : file->line,
                        "[%s] initial_position = start_of_file with a glob: the lines already in "
                        "the newest matching file at the first start are not sent (awslogs sent "
                        "that one file from its start; set read_from_head = true to send every "
                        "matching file from its start)", s->name);
    } else {
        buf_printf(c, "read_from_head = %s    # initial_position = %s (only when no position is "
                      "saved)\n", from_start ? "true" : "false",
                   pos ? pos->value : "start_of_file (default)");
    }

    struct kv *dt = get(s, "datetime_format"), *tz = get(s, "time_zone");
    if (dt) {
        struct buf tf;
        buf_init(&tf);
        char bad = 0;
        if (import_time_format(dt->value, &tf, &bad) == 0)
            buf_printf(c, "time_format = %s    # datetime_format (line %d); read at the start of "
                          "the line\n", tf.data, dt->line);
        else
            import_note(r, source, dt->line, "datetime_format = %s: %%%c has no equivalent; "
                        "records get the read time", dt->value, bad ? bad : '?');
        buf_free(&tf);
        int has_zone = strstr(dt->value, "%z") || strstr(dt->value, "%Z");
        if (tz && strcasecmp(tz->value, "UTC") == 0)
            buf_printf(c, "# time_zone = UTC (line %d): times without an offset are read as UTC, "
                          "as here\n", tz->line);
        else if (!has_zone)
            import_note(r, source, tz ? tz->line : dt->line,
                        "time_zone = LOCAL%s: this agent reads times without an offset as UTC; "
                        "on a host whose zone is not UTC, log the offset and add %%z to "
                        "time_format", tz ? "" : " (awslogs' default)");
    } else if (tz) {
        buf_printf(c, "# time_zone = %s (line %d): no datetime_format, records get the read time\n",
                   tz->value, tz->line);
    }

    /* awslogs always groups lines: a line that does not match the start
     * pattern (default ^[^\s], i.e. starting with white space) continues
     * the previous event. */
    struct kv *ml = get(s, "multi_line_start_pattern");
    if (ml && strcmp(ml->value, "{datetime_format}") == 0) {
        struct buf re;
        buf_init(&re);
        char bad = 0;
        int ok = dt && import_format_regex(dt->value, &re, &bad) == 0;
        if (ok)
            buf_printf(c, "multiline.start = %s    # multi_line_start_pattern = {datetime_format} "
                          "(line %d)\n", re.data, ml->line);
        else
            import_note(r, source, ml->line, "multi_line_start_pattern = {datetime_format}: %s; "
                        "default ^[^\\s] used", dt ? "the format has no pattern" :
                                                    "no datetime_format");
        if (!ok)
            buf_printf(c, "multiline.start = ^[^\\s]\n");
        buf_free(&re);
    } else if (ml) {
        buf_printf(c, "multiline.start = %s    # multi_line_start_pattern (line %d)\n", ml->value,
                   ml->line);
    } else {
        buf_printf(c, "multiline.start = ^[^\\s]    # awslogs' default multi_line_start_pattern: "
                      "an indented line continues the previous event\n");
    }

    struct kv *enc = get(s, "encoding");
    if (enc) {
        const char *e = enc->value;
        if (strcasecmp(e, "utf_8") == 0 || strcasecmp(e, "utf-8") == 0 ||
            strcasecmp(e, "utf8") == 0 || strcasecmp(e, "ascii") == 0)
            buf_printf(c, "# encoding = %s (line %d): read as UTF-8 (invalid bytes repaired)\n", e,
                       enc->line);
        else
            import_note(r, source, enc->line, "encoding = %s: this agent reads UTF-8 only; other "
                        "bytes are replaced by U+FFFD (convert the file, or log in UTF-8)", e);
    }
    struct kv *fp = get(s, "file_fingerprint_lines");
    if (fp)
        import_note(r, source, fp->line, "file_fingerprint_lines = %s: not needed: a file is "
                    "identified by device, inode and a hash of its first 256 bytes", fp->value);

    buf_printf(c, "\n[output %s]\ntype = cloudwatch_logs\nmatch = awslogs.%s\n", name, name);
    buf_printf(c, "log_group = %s    # log_group_name (line %d)\n", group->value, group->line);
    if (stream_name && (strstr(stream_name->value, "{cluster}") ||
                        strstr(stream_name->value, "{container_instance_id}"))) {
        /* Not awslogs variables: user-data scripts substituted them before
         * awslogs read the file. For a file this agent knows neither. */
        buf_printf(c, "log_stream = {instance_id}    # log_stream_name = %s (line %d)\n",
                   stream_name->value, stream_name->line);
        import_note(r, source, stream_name->line, "log_stream_name = %s: {cluster} and "
                    "{container_instance_id} are not awslogs variables (user-data scripts "
                    "replaced them before awslogs started) and a file input has neither: "
                    "{instance_id} used, one stream per instance; write the literal names back "
                    "if you need them", stream_name->value);
    } else if (stream_name) {
        buf_printf(c, "log_stream = %s    # log_stream_name (line %d)\n", stream_name->value,
                   stream_name->line);
    } else {
        buf_printf(c, "log_stream = {instance_id}    # no log_stream_name\n");
    }
    struct kv *bd = get(s, "buffer_duration"), *bc = get(s, "batch_count"), *bs = get(s, "batch_size");
    long long v;
    if (bd && parse_int(bd->value, &v) == 0 && v > 0)
        buf_printf(c, "flush_interval = %lldms    # buffer_duration = %s ms (line %d)\n",
                   v < 5000 ? 5000 : v, bd->value, bd->line);
    else
        buf_printf(c, "flush_interval = 5000ms    # awslogs' buffer_duration default\n");
    if (bc && parse_int(bc->value, &v) == 0 && v > 0)
        buf_printf(c, "batch_max_records = %lld    # batch_count (line %d)\n", v > 10000 ? 10000 : v,
                   bc->line);
    else
        buf_printf(c, "batch_max_records = 1000    # awslogs' batch_count default\n");
    if (bs && parse_int(bs->value, &v) == 0 && v > 0)
        buf_printf(c, "batch_max_bytes = %lld    # batch_size (line %d)\n", v > 1048576 ? 1048576 : v,
                   bs->line);
    else
        buf_printf(c, "batch_max_bytes = 32768    # awslogs' batch_size default\n");
    buf_printf(c, "compress = %s    # use_gzip_http_content_encoding%s\n", gzip ? "auto" : "off",
               gzip ? " (default true)" : " = false");
    for (int i = 0; i < s->nkeys; i++)
        if (!s->keys[i].used)
            import_note(r, source, s->keys[i].line, "[%s] %s = %s: not an awslogs key; ignored",
                        s->name, s->keys[i].key, s->keys[i].value);
}

int import_awslogs(const char *text, const char *source, struct import_result *r, char *err,
                   size_t errlen)
{
    char *copy = xstrdup(text ? text : "");
    struct section *secs = xcalloc(128, sizeof *secs);
    int n = parse(copy, source, secs, 128, r);
    struct buf *c = &r->conf;
    buf_printf(c, "# Imported from awslogs configuration %s by `collector import awslogs`.\n"
                  "# Each awslogs stream is one tail input and one cloudwatch_logs output;\n"
                  "# each line says what it came from. Region and credentials: awslogs took them "
                  "from\n# /etc/awslogs/awscli.conf; this agent from [agent] region, AWS_REGION "
                  "or the instance,\n# and the standard credential chain (the instance role).\n",
               source);
    int gzip = 1;
    for (int i = 0; i < n; i++) {
        if (strcasecmp(secs[i].name, "general") != 0)
            continue;
        struct section *g = &secs[i];
        struct kv *kv;
        if ((kv = get(g, "use_gzip_http_content_encoding")))
            gzip = strcasecmp(kv->value, "false") != 0 && strcmp(kv->value, "0") != 0;
        if ((kv = get(g, "state_file")))
            import_note(r, source, kv->line, "state_file = %s: awslogs' positions (SQLite) are not "
                        "read; see docs/migrating.md for the switch-over", kv->value);
        if ((kv = get(g, "logging_config_file")))
            import_note(r, source, kv->line, "logging_config_file: the agent's own log is "
                        "[agent] log_level, log_format and log_file");
        if ((kv = get(g, "aws_access_key_id")) || (kv = get(g, "aws_secret_access_key")))
            import_note(r, source, kv->line, "AWS keys are not copied: use the instance role (or "
                        "[agent] access_key_id/secret_access_key, masked in check-config)");
        for (int k = 0; k < g->nkeys; k++)
            if (!g->keys[k].used)
                import_note(r, source, g->keys[k].line, "[general] %s: not an awslogs key; "
                            "ignored", g->keys[k].key);
    }
    for (int i = 0; i < n; i++)
        if (strcasecmp(secs[i].name, "general") != 0)
            stream(&secs[i], source, gzip, r);
    free(secs);
    free(copy);
    if (r->ninputs == 0) {
        snprintf(err, errlen, "no log stream section with file and log_group_name in %s", source);
        return -1;
    }
    return 0;
}
