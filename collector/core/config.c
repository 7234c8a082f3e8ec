#include "collector/core/config.h"
#include "collector/core/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONFIG_FILE (4 * 1024 * 1024)

void diag_add(struct diag *d, const char *file, int line, const char *fmt, ...)
{
    char raw[1024], text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* Whatever a message quotes (a module's error naming a value): URL
     * userinfo masked, control characters escaped. conf_echo is idempotent,
     * so values already passed through it are unchanged. */
    conf_echo(raw, text, sizeof text);
    d->messages = xrealloc(d->messages, sizeof(char *) * (size_t)(d->count + 1));
    d->pos = xrealloc(d->pos, sizeof *d->pos * (size_t)(d->count + 1));
    d->pos[d->count] = (struct diag_pos){file ? xstrdup(file) : NULL, line};
    if (file && line > 0)
        d->messages[d->count++] = xasprintf("%s:%d: %s", file, line, text);
    else if (file)
        d->messages[d->count++] = xasprintf("%s: %s", file, text);
    else
        d->messages[d->count++] = xstrdup(text);
}

/* Print in file order, then line order: errors found in different passes
 * (syntax, options, cross-section checks) read as one top-to-bottom list. */
void diag_print(const struct diag *d, FILE *out)
{
    int *order = xmalloc(sizeof(int) * (size_t)(d->count + 1));
    for (int i = 0; i < d->count; i++)
        order[i] = i;
    for (int i = 1; i < d->count; i++) { /* insertion sort: stable, lists are short */
        int v = order[i], j = i - 1;
        while (j >= 0) {
            const struct diag_pos *a = &d->pos[order[j]], *b = &d->pos[v];
            int cmp = (a->file && b->file) ? strcmp(a->file, b->file) : 0;
            if (cmp < 0 || (cmp == 0 && a->line <= b->line))
                break;
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = v;
    }
    for (int i = 0; i < d->count; i++)
        fprintf(out, "%s\n", d->messages[order[i]]);
    free(order);
}

void diag_free(struct diag *d)
{
    for (int i = 0; i < d->count; i++) {
        free(d->messages[i]);
        free(d->pos[i].file);
    }
    free(d->messages);
    free(d->pos);
    d->messages = NULL;
    d->pos = NULL;
    d->count = 0;
}

void conf_echo(const char *value, char *out, size_t outlen)
{
    size_t n = 0;
    if (outlen == 0)
        return;
    for (const char *p = value; *p; p++) {
        char piece[8];
        /* "scheme://user:pass@host": everything between "://" and the last
         * '@' before the end of the authority is masked. */
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            const char *auth = p + 3;
            size_t alen = strcspn(auth, "/?# \t");
            const char *at = NULL;
            for (const char *q = auth; q < auth + alen; q++)
                if (*q == '@')
                    at = q;
            if (at) {
                snprintf(piece, sizeof piece, "://***");
                size_t pl = strlen(piece);
                if (n + pl + 1 > outlen)
                    break;
                memcpy(out + n, piece, pl);
                n += pl;
                p = at - 1; /* the loop's p++ lands on '@' */
                continue;
            }
        }
        unsigned char c = (unsigned char)*p;
        if (c == '\n')
            snprintf(piece, sizeof piece, "\\n");
        else if (c == '\t')
            snprintf(piece, sizeof piece, "\\t");
        else if (c == '\r')
            snprintf(piece, sizeof piece, "\\r");
        else if (c < 0x20 || c == 0x7f)
            snprintf(piece, sizeof piece, "\\x%02x", c);
        else
            piece[0] = (char)c, piece[1] = '\0';
        size_t pl = strlen(piece);
        if (n + pl + 1 > outlen) {
            if (outlen > 4)
                n = n > outlen - 4 ? outlen - 4 : n, memcpy(out + n, "...", 3), n += 3;
            break;
        }
        memcpy(out + n, piece, pl);
        n += pl;
    }
    out[n] = '\0';
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Expand ${VAR} and ${VAR:-default}. An unset VAR without a default is an
 * error (a silently empty path or key is worse than refusing to start). */
static char *expand_env(const char *value, const char *file, int line, struct diag *diag,
                        int *failed)
{
    struct buf out;
    buf_init(&out);
    buf_append(&out, "", 0);
    const char *p = value;
    while (*p) {
        if (p[0] != '$' || p[1] != '{') {
            buf_append_char(&out, *p++);
            continue;
        }
        const char *close = strchr(p + 2, '}');
        if (!close) {
            diag_add(diag, file, line, "unterminated ${ in a value (its text is not echoed)");
            buf_free(&out);
            return NULL;
        }
        char *inner = xstrndup(p + 2, (size_t)(close - p - 2));
        char *def = strstr(inner, ":-");
        if (def) {
            *def = '\0';
            def += 2;
        }
        const char *env = getenv(inner);
        if (inner[0] == '\0') {
            *failed = 1;
            diag_add(diag, file, line, "empty variable name in ${} (the value is not echoed)");
        } else if (env && (*env || !def)) {
            buf_append_str(&out, env);
        } else if (def) {
            buf_append_str(&out, def);
        } else {
            *failed = 1;
            diag_add(diag, file, line,
                     "environment variable %s is not set (use ${%s:-default} for a fallback)",
                     inner, inner);
        }
        free(inner);
        p = close + 1;
    }
    return out.data;
}

static void add_section(struct config *cfg, const char *kind, const char *name,
                        const char *file, int line)
{
    cfg->sections = xrealloc(cfg->sections, sizeof *cfg->sections * (size_t)(cfg->nsections + 1));
    struct conf_section *s = &cfg->sections[cfg->nsections++];
    memset(s, 0, sizeof *s);
    s->kind = xstrdup(kind);
    s->name = name ? xstrdup(name) : NULL;
    s->file = file;
    s->line = line;
}

static void add_entry(struct conf_section *s, const char *key, char *value, const char *file,
                      int line, int invalid)
{
    s->entries = xrealloc(s->entries, sizeof *s->entries * (size_t)(s->nentries + 1));
    struct conf_entry *e = &s->entries[s->nentries++];
    e->key = xstrdup(key);
    e->value = value;
    e->file = file;
    e->line = line;
    e->invalid = invalid;
}

static int valid_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

/* "[kind name]" -> a new section; syntax errors go to diag. */
static void parse_header(struct config *cfg, char *line, const char *file, int lineno,
                         struct diag *diag)
{
    char *close = strchr(line, ']');
    if (!close || trim(close + 1)[0] != '\0') {
        diag_add(diag, file, lineno, "malformed section header (expected [kind name])");
        return;
    }
    *close = '\0';
    char *inner = trim(line + 1);
    char *space = inner;
    while (*space && !isspace((unsigned char)*space))
        space++;
    char *name = NULL;
    if (*space) {
        *space = '\0';
        name = trim(space + 1);
    }
    if (!valid_word(inner)) {
        diag_add(diag, file, lineno, "malformed section header (expected [kind name])");
        return;
    }
    if (name && !valid_word(name)) {
        char shown[128];
        conf_echo(name, shown, sizeof shown);
        diag_add(diag, file, lineno,
                 "section name '%s' may hold only letters, digits, '_', '-' and '.'", shown);
        return;
    }
    add_section(cfg, inner, name, file, lineno);
}

static void parse_text(struct config *cfg, const char *file, char *text, struct diag *diag)
{
    int lineno = 0;
    int in_section = 0; /* 0 until a header is seen in this file */
    char *p = text;
    while (*p) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        lineno++;
        char *line = trim(p);
        p = eol ? eol + 1 : p + strlen(p);

        if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            size_t before = (size_t)cfg->nsections;
            parse_header(cfg, line, file, lineno, diag);
            in_section = (size_t)cfg->nsections > before ? 1 : -1;
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            /* Only the first word is echoed: the rest may be a secret whose
             * '=' was forgotten. */
            char word[64], shown[128];
            snprintf(word, sizeof word, "%.*s", (int)strcspn(line, " \t:"), line);
            conf_echo(word, shown, sizeof shown);
            diag_add(diag, file, lineno, "expected 'key = value' or '[section]', got '%s ...'", shown);
            continue;
        }
        *eq = '\0';
        char *key = trim(line);
        char *raw = trim(eq + 1);
        if (!valid_word(key)) {
            char shown[128];
            conf_echo(key, shown, 64);
            diag_add(diag, file, lineno, "malformed key '%s'", shown);
            continue;
        }
        if (in_section == 0) {
            diag_add(diag, file, lineno, "key '%s' is outside any [section]", key);
            continue;
        }
        if (in_section < 0)
            continue; /* the header was already reported */
        /* A '#' after whitespace starts a comment; '#' inside a value (a URL
         * fragment, a log group name) is kept. */
        for (char *h = raw; *h; h++) {
            if (*h == '#' && h > raw && isspace((unsigned char)h[-1])) {
                *h = '\0';
                raw = trim(raw);
                break;
            }
        }
        size_t rl = strlen(raw);
        if (rl >= 2 && ((raw[0] == '"' && raw[rl - 1] == '"') || (raw[0] == '\'' && raw[rl - 1] == '\''))) {
            raw[rl - 1] = '\0';
            raw++;
        }
        int failed = 0;
        char *value = expand_env(raw, file, lineno, diag, &failed);
        if (!value)
            continue;
        add_entry(&cfg->sections[cfg->nsections - 1], key, value, file, lineno, failed);
    }
}

static const char *remember_file(struct config *cfg, const char *path)
{
    cfg->files = xrealloc(cfg->files, sizeof(char *) * (size_t)(cfg->nfiles + 1));
    cfg->files[cfg->nfiles] = xstrdup(path);
    return cfg->files[cfg->nfiles++];
}

/* A configuration file is opened without blocking (a FIFO named *.conf
 * must not hang check-config or a reload) and must be a regular file. Links
 * are followed: the operator's own tree may link its files. */
static FILE *open_regular(const char *path, struct diag *diag)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        diag_add(diag, path, 0, "cannot read configuration: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        diag_add(diag, path, 0, "not a regular file (a FIFO, socket or device); not read");
        close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "r");
    if (!f) {
        diag_add(diag, path, 0, "cannot read configuration: %s", strerror(errno));
        close(fd);
    }
    return f;
}

static int load_file(struct config *cfg, const char *path, struct diag *diag)
{
    FILE *f = open_regular(path, diag);
    if (!f)
        return -1;
    struct buf text;
    buf_init(&text);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf_append(&text, chunk, n);
        if (text.len > MAX_CONFIG_FILE) {
            diag_add(diag, path, 0, "configuration file is larger than 4 MiB");
            fclose(f);
            buf_free(&text);
            return -1;
        }
    }
    fclose(f);
    if (text.len && memchr(text.data, '\0', text.len)) {
        diag_add(diag, path, 0, "configuration file contains NUL bytes (binary file?)");
        buf_free(&text);
        return -1;
    }
    const char *name = remember_file(cfg, path);
    if (text.data)
        parse_text(cfg, name, text.data, diag);
    buf_free(&text);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int config_load(struct config *cfg, const char *path, struct diag *diag)
{
    int before = diag->count;
    memset(cfg, 0, sizeof *cfg);
    struct stat st;
    if (!path || !*path) {
        diag_add(diag, NULL, 0, "no configuration path given (use -c FILE or -c DIRECTORY)");
        return -1;
    }
    if (stat(path, &st) < 0) {
        diag_add(diag, path, 0,
                 "configuration not found (%s); pass -c with a file or a directory of *.conf files, "
                 "for example -c conf.d from a checkout or -c /etc/collector/conf.d",
                 strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        if (!dir) {
            diag_add(diag, path, 0, "cannot open configuration directory: %s", strerror(errno));
            return -1;
        }
        char **names = NULL;
        int count = 0;
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.' || !ends_with(de->d_name, ".conf"))
                continue;
            names = xrealloc(names, sizeof(char *) * (size_t)(count + 1));
            names[count++] = xstrdup(de->d_name);
        }
        closedir(dir);
        if (count > 1)
            qsort(names, (size_t)count, sizeof(char *), cmp_str);
        for (int i = 0; i < count; i++) {
            char *full = xasprintf("%s/%s", path, names[i]);
            load_file(cfg, full, diag);
            free(full);
            free(names[i]);
        }
        free(names);
        if (count == 0)
            diag_add(diag, path, 0,
                     "no *.conf files in this directory; copy the shipped conf.d here or pass -c");
    } else {
        load_file(cfg, path, diag);
    }
    if (diag->count == before && cfg->nsections == 0)
        diag_add(diag, path, 0, "configuration is empty: it needs at least one [input] and one [output]");
    return diag->count == before ? 0 : -1;
}

int config_load_string(struct config *cfg, const char *name, const char *text, struct diag *diag)
{
    int before = diag->count;
    memset(cfg, 0, sizeof *cfg);
    const char *file = remember_file(cfg, name);
    char *copy = xstrdup(text);
    parse_text(cfg, file, copy, diag);
    free(copy);
    return diag->count == before ? 0 : -1;
}

void config_free(struct config *cfg)
{
    for (int i = 0; i < cfg->nsections; i++) {
        struct conf_section *s = &cfg->sections[i];
        for (int j = 0; j < s->nentries; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->kind);
        free(s->name);
    }
    free(cfg->sections);
    for (int i = 0; i < cfg->nfiles; i++)
        free(cfg->files[i]);
    free(cfg->files);
    memset(cfg, 0, sizeof *cfg);
}

const struct conf_entry *conf_section_get(const struct conf_section *s, const char *key)
{
    for (int i = s->nentries - 1; i >= 0; i--)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}
