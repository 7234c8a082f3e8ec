#include "collector/core/options.h"
#include "collector/core/config.h"
#include "collector/core/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void strlist_free(struct strlist *list)
{
    for (int i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int strlist_contains(const struct strlist *list, const char *item)
{
    for (int i = 0; i < list->count; i++)
        if (strcmp(list->items[i], item) == 0)
            return 1;
    return 0;
}

static void strlist_split_into(struct strlist *list, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        const char *start = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',')
            p++;
        if (p > start) {
            list->items = xrealloc(list->items, sizeof(char *) * (size_t)(list->count + 1));
            list->items[list->count++] = xstrndup(start, (size_t)(p - start));
        }
    }
}

const struct option_def *options_find(const struct option_def *defs, const char *name)
{
    for (const struct option_def *d = defs; d->name; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

static int enum_allows(const char *choices, const char *value)
{
    size_t n = strlen(value);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, value, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int parse_int(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return -1;
    *out = v;
    return 0;
}

/* Parse one value into its field. Returns NULL on success or a static
 * message describing what was expected. */
static const char *set_value(const struct option_def *d, void *target, const char *value)
{
    char *field = (char *)target + d->offset;
    switch (d->type) {
    case OPT_STRING:
    case OPT_SECRET:
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return NULL;
    case OPT_ENUM:
        if (!enum_allows(d->choices, value))
            return "not one of the allowed values";
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return NULL;
    case OPT_BOOL:
        return parse_bool(value, (int *)field) < 0 ? "expected true or false" : NULL;
    case OPT_INT: {
        int64_t v;
        if (parse_int(value, &v) < 0)
            return "expected a whole number";
        if (d->choices) {
            long long lo, hi;
            if (sscanf(d->choices, "%lld..%lld", &lo, &hi) == 2 && (v < lo || v > hi))
                return "out of range";
        }
        *(int64_t *)field = v;
        return NULL;
    }
    case OPT_DURATION:
        return parse_duration_ms(value, (int64_t *)field) < 0
                   ? "expected a duration such as 500ms, 5s, 2m or 1h"
                   : NULL;
    case OPT_SIZE:
        return parse_size(value, (uint64_t *)field) < 0
                   ? "expected a size such as 512, 64KiB, 8MiB or 1GiB"
                   : NULL;
    case OPT_LIST:
        strlist_split_into((struct strlist *)field, value);
        return NULL;
    case OPT_END:
        break;
    }
    return "unsupported option type";
}

static void apply_defaults(const struct option_binding *b)
{
    for (const struct option_def *d = b->defs; d->name; d++)
        if (d->default_value)
            (void)set_value(d, b->target, d->default_value);
}

int options_apply(const struct conf_section *section, const struct option_binding *bindings,
                  int nbindings, struct diag *diag)
{
    int before = diag->count;
    for (int i = 0; i < nbindings; i++)
        apply_defaults(&bindings[i]);

    /* Which table entries were set explicitly, to find duplicates and missing keys. */
    int total = 0;
    for (int i = 0; i < nbindings; i++)
        for (const struct option_def *d = bindings[i].defs; d->name; d++)
            total++;
    int *seen_line = xcalloc((size_t)total + 1, sizeof(int));

    for (int e = 0; e < section->nentries; e++) {
        const struct conf_entry *entry = &section->entries[e];
        const struct option_def *def = NULL;
        void *target = NULL;
        int index = 0, found = -1;
        for (int i = 0; i < nbindings && !def; i++) {
            for (const struct option_def *d = bindings[i].defs; d->name; d++, index++) {
                if (strcmp(d->name, entry->key) == 0) {
                    def = d;
                    target = bindings[i].target;
                    found = index;
                    break;
                }
            }
        }
        if (!def) {
            diag_add(diag, entry->file, entry->line, "unknown key '%s' in [%s%s%s]", entry->key,
                     section->kind, section->name ? " " : "", section->name ? section->name : "");
            continue;
        }
        if (seen_line[found] && !(def->flags & OPT_MULTI)) {
            diag_add(diag, entry->file, entry->line, "key '%s' is set twice (first at line %d)",
                     entry->key, seen_line[found]);
            continue;
        }
        /* An explicit list replaces its default rather than appending to it. */
        if (def->type == OPT_LIST && !seen_line[found])
            strlist_free((struct strlist *)((char *)target + def->offset));
        seen_line[found] = entry->line;
        if (entry->invalid)
            continue;
        const char *err = set_value(def, target, entry->value);
        if (err) {
            /* The value is echoed masked (URL userinfo) and escaped; a
             * secret's never. */
            char shown[256];
            if (def->type == OPT_SECRET)
                snprintf(shown, sizeof shown, "****");
            else
                conf_echo(entry->value, shown, sizeof shown);
            if (def->type == OPT_ENUM || (def->type == OPT_INT && def->choices))
                diag_add(diag, entry->file, entry->line, "%s = '%s': %s (%s)", entry->key, shown, err,
                         def->choices);
            else
                diag_add(diag, entry->file, entry->line, "%s = '%s': %s", entry->key, shown, err);
        } else if (def->type != OPT_LIST && def->type != OPT_BOOL && def->type != OPT_INT &&
                   entry->value[0] == '\0' && (def->flags & OPT_REQUIRED)) {
            diag_add(diag, entry->file, entry->line, "%s must not be empty", entry->key);
        }
    }

    int index = 0;
    for (int i = 0; i < nbindings; i++) {
        for (const struct option_def *d = bindings[i].defs; d->name; d++, index++) {
            if ((d->flags & OPT_REQUIRED) && !seen_line[index] && !d->default_value)
                diag_add(diag, section->file, section->line, "[%s%s%s] is missing required key '%s'",
                         section->kind, section->name ? " " : "", section->name ? section->name : "",
                         d->name);
        }
    }
    free(seen_line);
    return diag->count - before;
}

void options_free(const struct option_def *defs, void *target)
{
    for (const struct option_def *d = defs; d->name; d++) {
        char *field = (char *)target + d->offset;
        switch (d->type) {
        case OPT_STRING:
        case OPT_SECRET:
        case OPT_ENUM:
            free(*(char **)field);
            *(char **)field = NULL;
            break;
        case OPT_LIST:
            strlist_free((struct strlist *)field);
            break;
        default:
            break;
        }
    }
}

static void format_value(const struct option_def *d, const void *target, char *out, size_t len)
{
    const char *field = (const char *)target + d->offset;
    switch (d->type) {
    case OPT_STRING:
    case OPT_ENUM: {
        const char *s = *(char *const *)field;
        conf_echo(s ? s : "", out, len);
        break;
    }
    case OPT_SECRET: {
        const char *s = *(char *const *)field;
        snprintf(out, len, "%s", s && *s ? "****" : "");
        break;
    }
    case OPT_BOOL:
        snprintf(out, len, "%s", *(const int *)field ? "true" : "false");
        break;
    case OPT_INT:
        snprintf(out, len, "%" PRId64, *(const int64_t *)field);
        break;
    case OPT_DURATION: {
        int64_t ms = *(const int64_t *)field;
        if (ms % 1000 == 0)
            snprintf(out, len, "%" PRId64 "s", ms / 1000);
        else
            snprintf(out, len, "%" PRId64 "ms", ms);
        break;
    }
    case OPT_SIZE: {
        uint64_t v = *(const uint64_t *)field;
        if (v && v % (1024 * 1024) == 0)
            snprintf(out, len, "%" PRIu64 "MiB", v / (1024 * 1024));
        else if (v && v % 1024 == 0)
            snprintf(out, len, "%" PRIu64 "KiB", v / 1024);
        else
            snprintf(out, len, "%" PRIu64, v);
        break;
    }
    case OPT_LIST: {
        const struct strlist *l = (const struct strlist *)field;
        size_t used = 0;
        out[0] = '\0';
        for (int i = 0; i < l->count && used + 2 < len; i++) {
            if (i)
                out[used++] = ' ';
            conf_echo(l->items[i], out + used, len - used);
            used += strlen(out + used);
        }
        break;
    }
    case OPT_END:
        out[0] = '\0';
        break;
    }
}

void options_print(FILE *out, const struct option_def *defs, const void *target)
{
    char value[4096];
    for (const struct option_def *d = defs; d->name; d++) {
        format_value(d, target, value, sizeof value);
        fprintf(out, "%-22s = %s\n", d->name, value);
    }
}

static const char *type_name(enum opt_type t)
{
    switch (t) {
    case OPT_STRING: return "string";
    case OPT_SECRET: return "secret";
    case OPT_BOOL: return "bool";
    case OPT_INT: return "integer";
    case OPT_DURATION: return "duration";
    case OPT_SIZE: return "size";
    case OPT_ENUM: return "enum";
    case OPT_LIST: return "list";
    case OPT_END: break;
    }
    return "?";
}

void options_print_help(FILE *out, const struct option_def *defs)
{
    for (const struct option_def *d = defs; d->name; d++) {
        fprintf(out, "  %-22s %-8s %s%s\n", d->name, type_name(d->type),
                (d->flags & OPT_REQUIRED) ? "(required) " : "",
                d->description ? d->description : "");
        if (d->type == OPT_ENUM && d->choices)
            fprintf(out, "  %-22s %-8s one of: %s\n", "", "", d->choices);
        if (d->default_value)
            fprintf(out, "  %-22s %-8s default: %s\n", "", "", d->default_value[0] ? d->default_value : "(empty)");
    }
}

void options_print_markdown(FILE *out, const struct option_def *defs)
{
    for (const struct option_def *d = defs; d->name; d++) {
        char type[256];
        if (d->type == OPT_ENUM && d->choices) {
            /* '|' separates table cells in Markdown */
            size_t n = 0;
            for (const char *c = d->choices; *c && n < sizeof type - 3; c++) {
                if (*c == '|') {
                    type[n++] = ' ';
                    type[n++] = '/';
                    type[n++] = ' ';
                } else {
                    type[n++] = *c;
                }
            }
            type[n] = '\0';
        } else if (d->type == OPT_INT && d->choices) {
            snprintf(type, sizeof type, "integer %s", d->choices);
        } else {
            snprintf(type, sizeof type, "%s", type_name(d->type));
        }
        fprintf(out, "| `%s` | %s | %s | %s%s |\n", d->name, type,
                d->default_value ? (d->default_value[0] ? d->default_value : "(empty)")
                                 : ((d->flags & OPT_REQUIRED) ? "**required**" : "-"),
                d->description ? d->description : "",
                d->type == OPT_SECRET ? " (secret: masked everywhere)" : "");
    }
}
