#include "collector/core/sniff.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* The first non-blank, non-comment character of the text. */
static char first_char(const char *t)
{
    while (*t) {
        while (isspace((unsigned char)*t))
            t++;
        if (*t == '#' || *t == ';') {
            while (*t && *t != '\n')
                t++;
            continue;
        }
        return *t;
    }
    return 0;
}

/* Does a line start (after blanks) with this text, case-insensitively? */
static int has_line(const char *text, const char *start)
{
    size_t n = strlen(start);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, start, n) == 0)
            return 1;
    }
    return 0;
}

/* Lines of the form `key: value` or `- item` with no `=` and no [section]. */
static int looks_yaml(const char *text)
{
    int yamlish = 0, ini = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        const char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '#' || *q == '\n' || !*q)
            continue;
        const char *eol = strchr(q, '\n');
        size_t len = eol ? (size_t)(eol - q) : strlen(q);
        const char *eq = memchr(q, '=', len), *colon = memchr(q, ':', len);
        if (*q == '[' || (eq && (!colon || eq < colon)))
            ini++;
        else if (strncmp(q, "---", 3) == 0 || (*q == '-' && q[1] == ' ') ||
                 (colon && (colon + 1 == q + len || colon[1] == ' ')))
            yamlish++;
    }
    return yamlish > 0 && yamlish > ini;
}

enum sniff_format sniff_format(const char *text)
{
    if (!text)
        return SNIFF_OURS;
    char c = first_char(text);
    if (c == '{') {
        if (strstr(text, "\"logs_collected\"") || strstr(text, "\"metrics_collected\"") ||
            strstr(text, "\"log_group_name\"") || strstr(text, "\"collect_list\""))
            return SNIFF_CWAGENT_JSON;
        return SNIFF_JSON;
    }
    if (has_line(text, "[SERVICE]") || has_line(text, "[INPUT]") || has_line(text, "[OUTPUT]") ||
        has_line(text, "[FILTER]") || has_line(text, "[PARSER]") || has_line(text, "@INCLUDE"))
        return SNIFF_FLUENTBIT;
    if (has_line(text, "[general]") || has_line(text, "log_group_name") ||
        has_line(text, "datetime_format") || has_line(text, "multi_line_start_pattern"))
        return SNIFF_AWSLOGS;
    if (c != '[' && looks_yaml(text))
        return SNIFF_YAML;
    return SNIFF_OURS;
}

const char *sniff_format_name(enum sniff_format f)
{
    switch (f) {
    case SNIFF_AWSLOGS: return "an awslogs agent configuration (awslogs.conf)";
    case SNIFF_CWAGENT_JSON: return "a CloudWatch agent configuration (JSON)";
    case SNIFF_JSON: return "JSON";
    case SNIFF_FLUENTBIT: return "a Fluent Bit configuration";
    case SNIFF_YAML: return "YAML";
    default: return "this agent's configuration";
    }
}

const char *sniff_format_advice(enum sniff_format f)
{
    switch (f) {
    case SNIFF_AWSLOGS:
        return "convert it with `collector import awslogs FILE -o DIR` and remove it from here";
    case SNIFF_CWAGENT_JSON:
        return "convert it with `collector import cloudwatch-agent FILE -o DIR` and remove it "
               "from here";
    case SNIFF_FLUENTBIT:
        return "this agent reads INI sections [input NAME] / [output NAME] with key = value; "
               "docs/migrating.md maps Fluent Bit's tail, Name/Match and cloudwatch_logs "
               "options to them";
    case SNIFF_JSON:
    case SNIFF_YAML:
        return "this agent reads INI files: [input NAME] / [output NAME] sections with "
               "key = value lines (see the shipped conf.d and README's reference); a CloudWatch "
               "agent JSON file converts with `collector import cloudwatch-agent FILE`";
    default:
        return "";
    }
}
