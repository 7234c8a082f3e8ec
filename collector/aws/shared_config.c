/* AWS shared config/credentials file parser (see shared_config.h). */
#include "collector/aws/shared_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/core/util.h"

#define MAX_FILE_SIZE (4 << 20)

static char *trim_dup(const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    return xstrndup(s, len);
}

static void add_entry(struct aws_ini_section *s, char *key, char *value, int line)
{
    /* A repeated key replaces the earlier one (last wins). */
    for (int i = 0; i < s->nentries; i++) {
        if (strcmp(s->entries[i].key, key) == 0) {
            free(s->entries[i].value);
            free(key);
            s->entries[i].value = value;
            s->entries[i].line = line;
            return;
        }
    }
    s->entries = xrealloc(s->entries, sizeof *s->entries * (size_t)(s->nentries + 1));
    s->entries[s->nentries].key = key;
    s->entries[s->nentries].value = value;
    s->entries[s->nentries].line = line;
    s->nentries++;
}

static struct aws_ini_section *get_section(struct aws_ini *ini, char *name, int line)
{
    for (int i = 0; i < ini->nsections; i++) {
        if (strcmp(ini->sections[i].name, name) == 0) {
            free(name);
            return &ini->sections[i];
        }
    }
    ini->sections = xrealloc(ini->sections, sizeof *ini->sections * (size_t)(ini->nsections + 1));
    struct aws_ini_section *s = &ini->sections[ini->nsections++];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->line = line;
    return s;
}

static void lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

/* Split "key = value" / "key: value" at the first '=' or ':'. */
static int split_kv(const char *p, size_t len, char **key, char **value)
{
    const char *sep = NULL;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '=' || p[i] == ':') {
            sep = p + i;
            break;
        }
    }
    if (!sep) return -1;
    *key = trim_dup(p, (size_t)(sep - p));
    if (!**key) {
        free(*key);
        return -2;
    }
    lower(*key);
    *value = trim_dup(sep + 1, len - (size_t)(sep - p) - 1);
    return 0;
}

int aws_ini_parse(const char *text, size_t len, struct aws_ini *out, char *err, size_t errlen)
{
    struct aws_ini_section *cur = NULL;
    struct aws_ini_entry *last = NULL;  /* for continuation lines */
    int cur_index = -1, last_index = -1;
    const char *p = text, *end = text + len;
    int lineno = 0;

    memset(out, 0, sizeof *out);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t l = (size_t)(le - p);
        lineno++;
        if (l && p[l - 1] == '\r') l--;
        const char *s = p;
        size_t sl = l;
        while (sl && isspace((unsigned char)*s)) s++, sl--;
        int indented = s != p;
        p = nl ? nl + 1 : end;

        if (sl == 0 || *s == '#' || *s == ';') continue;
        /* After a section is re-selected by pointer realloc, refresh pointers. */
        cur = cur_index >= 0 ? &out->sections[cur_index] : NULL;
        last = cur && last_index >= 0 ? &cur->entries[last_index] : NULL;
        if (indented && last) {
            if (last->value[0] == '\0' || strchr(last->key, '.')) {
                char *k, *v;
                if (split_kv(s, sl, &k, &v) != 0) {
                    snprintf(err, errlen, "line %d: expected 'key = value' in nested block", lineno);
                    goto fail;
                }
                /* nested keys hang off the parent: "parent.sub" */
                char *parent = xstrdup(last->key);
                char *dot = strchr(parent, '.');
                if (dot) *dot = '\0';
                char *full = xasprintf("%s.%s", parent, k);
                free(parent);
                free(k);
                add_entry(cur, full, v, lineno);
                /* keep `last` on the parent so further lines nest too */
            } else {
                char *add = trim_dup(s, sl);
                char *joined = xasprintf("%s\n%s", last->value, add);
                free(add);
                free(last->value);
                last->value = joined;
            }
            continue;
        }
        if (*s == '[') {
            const char *close = memchr(s, ']', sl);
            if (!close) {
                snprintf(err, errlen, "line %d: section header without ']'", lineno);
                goto fail;
            }
            char *name = trim_dup(s + 1, (size_t)(close - s - 1));
            if (!*name) {
                free(name);
                snprintf(err, errlen, "line %d: empty section name", lineno);
                goto fail;
            }
            cur = get_section(out, name, lineno);
            cur_index = (int)(cur - out->sections);
            last_index = -1;
            continue;
        }
        if (!cur) {
            snprintf(err, errlen, "line %d: key outside of any [section]", lineno);
            goto fail;
        }
        char *k, *v;
        int rc = split_kv(s, sl, &k, &v);
        if (rc == -1) {
            snprintf(err, errlen, "line %d: expected 'key = value'", lineno);
            goto fail;
        }
        if (rc == -2) {
            snprintf(err, errlen, "line %d: empty key", lineno);
            goto fail;
        }
        add_entry(cur, k, v, lineno);
        for (int i = 0; i < cur->nentries; i++)
            if (cur->entries[i].line == lineno) last_index = i;
    }
    return 0;
fail:
    aws_ini_free(out);
    return -1;
}

FILE *aws_fopen_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) close(fd);
    return f;
}

int aws_ini_load(const char *path, struct aws_ini *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = aws_fopen_regular(path);
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR) return 1;
        snprintf(err, errlen, "%s: %s", path,
                 errno == EINVAL ? "not a regular file (a FIFO, socket or device)" : strerror(errno));
        return -1;
    }
    struct buf b;
    buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        buf_append(&b, tmp, n);
        if (b.len > MAX_FILE_SIZE) break;
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr || b.len > MAX_FILE_SIZE) {
        snprintf(err, errlen, "%s: %s", path, rerr ? "read error" : "file too large");
        buf_free(&b);
        return -1;
    }
    char perr[200];
    int rc = aws_ini_parse(b.data ? b.data : "", b.len, out, perr, sizeof perr);
    /* the file may hold secrets: wipe the copy */
    if (b.data) memset(b.data, 0, b.len);
    buf_free(&b);
    if (rc != 0) {
        /* perr is "line N: why" -> "PATH:N: why" */
        const char *msg = perr;
        int line = 0;
        if (sscanf(perr, "line %d:", &line) == 1 && (msg = strchr(perr, ':')))
            snprintf(err, errlen, "%s:%d:%s", path, line, msg + 1);
        else
            snprintf(err, errlen, "%s: %s", path, perr);
        return -1;
    }
    return 0;
}

void aws_ini_free(struct aws_ini *ini)
{
    for (int i = 0; i < ini->nsections; i++) {
        struct aws_ini_section *s = &ini->sections[i];
        for (int j = 0; j < s->nentries; j++) {
            free(s->entries[j].key);
            if (s->entries[j].value) {
                memset(s->entries[j].value, 0, strlen(s->entries[j].value));
                free(s->entries[j].value);
            }
        }
        free(s->entries);
        free(s->name);
    }
    free(ini->sections);
    memset(ini, 0, sizeof *ini);
}

const struct aws_ini_section *aws_ini_section(const struct aws_ini *ini, const char *name)
{
    for (int i = 0; i < ini->nsections; i++)
        if (strcmp(ini->sections[i].name, name) == 0) return &ini->sections[i];
    return NULL;
}

const char *aws_ini_get(const struct aws_ini_section *s, const char *key)
{
    if (!s) return NULL;
    for (int i = 0; i < s->nentries; i++)
        if (strcasecmp(s->entries[i].key, key) == 0) return s->entries[i].value;
    return NULL;
}

const struct aws_ini_section *aws_profile(const struct aws_ini *ini, const char *profile,
                                          int config_file)
{
    if (!profile || !*profile) profile = "default";
    if (!config_file) return aws_ini_section(ini, profile);
    if (strcmp(profile, "default") == 0) {
        const struct aws_ini_section *s = aws_ini_section(ini, "default");
        return s ? s : aws_ini_section(ini, "profile default");
    }
    /* "[profile  name]": any run of spaces between the word and the name */
    for (int i = 0; i < ini->nsections; i++) {
        const char *n = ini->sections[i].name;
        if (strncmp(n, "profile", 7) != 0 || !isspace((unsigned char)n[7])) continue;
        n += 7;
        while (isspace((unsigned char)*n)) n++;
        if (strcmp(n, profile) == 0) return &ini->sections[i];
    }
    return NULL;
}
