/* sd-journal.h includes <syslog.h>, whose LOG_INFO and LOG_DEBUG macros
 * would replace the agent's log levels of the same names. */
#include <systemd/sd-journal.h>
#undef LOG_INFO
#undef LOG_DEBUG
#undef LOG_ERR
#undef LOG_WARNING

#include "collector/inputs/journald/journald_files.h"
#include "collector/core/log.h"
#include "collector/core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const system_dirs[] = {"/var/log/journal", "/run/log/journal", NULL};

void jd_files_init(struct jd_files *f, const char *path)
{
    memset(f, 0, sizeof *f);
    f->path = path ? xstrdup(path) : NULL;
}

void jd_files_free(struct jd_files *f)
{
    free(f->path);
    free(f->items);
    memset(f, 0, sizeof *f);
}

static int is_journal_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 8 && strcmp(name + n - 8, ".journal") == 0) ||
           (n > 9 && strcmp(name + n - 9, ".journal~") == 0);
}

static const struct jd_file *find(const struct jd_file *items, int count, uint64_t dev,
                                  uint64_t ino)
{
    for (int i = 0; i < count; i++)
        if (items[i].dev == dev && items[i].ino == ino)
            return &items[i];
    return NULL;
}

/* Can sd-journal open this file and read its first entry? 0, or -errno.
 * sd_journal_open_files() passes over a file it cannot map (bad header,
 * truncated) and succeeds with nothing open: then no bytes are in use. */
static int probe(const char *file)
{
    sd_journal *j = NULL;
    const char *files[] = {file, NULL};
    int r = sd_journal_open_files(&j, files, 0);
    if (r < 0)
        return r;
    uint64_t used = 0;
    r = sd_journal_get_usage(j, &used);
    if (r >= 0 && used == 0)
        r = -EBADMSG;
    if (r >= 0)
        r = sd_journal_seek_head(j);
    if (r >= 0)
        r = sd_journal_next(j);
    sd_journal_close(j);
    return r < 0 ? r : 0;
}

struct scan {
    struct jd_files *f;
    const struct jd_file *old;
    int old_count;
    struct jd_file *found;
    int count, cap;
    const char *input_name;
    int became_readable;
    int64_t now_ms;
};

#define JD_FILE_SETTLE_MS 2000

static void scan_dir(struct scan *s, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = xasprintf("%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) < 0) { /* gone since readdir: nothing to look at */
            free(p);
            continue;
        }
        if (S_ISDIR(st.st_mode) && depth == 0) {
            scan_dir(s, p, 1);
        } else if (S_ISREG(st.st_mode) && is_journal_name(de->d_name)) {
            const struct jd_file *known = find(s->old, s->old_count, st.st_dev, st.st_ino);
            struct jd_file file = {.dev = st.st_dev, .ino = st.st_ino};
            if (known && (known->corrupt || !known->failing_since)) {
                file = *known;
            } else {
                int r = probe(p);
                if (r >= 0) {
                    s->became_readable++;
                } else {
                    file.failing_since = known ? known->failing_since : s->now_ms;
                    if (s->now_ms - file.failing_since >= JD_FILE_SETTLE_MS) {
                        file.corrupt = 1;
                        s->f->corrupt++;
                        log_msg(LOG_WARN, "journald", "[%s] skipping journal file %s: %s",
                                s->input_name, p, strerror(-r));
                    }
                }
            }
            if (s->count == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 16;
                s->found = xrealloc(s->found, (size_t)s->cap * sizeof *s->found);
            }
            s->found[s->count++] = file;
        }
        free(p);
    }
    closedir(d);
}

int jd_files_check(struct jd_files *f, const char *input_name)
{
    struct scan s = {.f = f, .old = f->items, .old_count = f->count, .input_name = input_name,
                     .now_ms = mono_ms()};
    if (f->path) {
        scan_dir(&s, f->path, 0);
    } else {
        for (int i = 0; system_dirs[i]; i++)
            scan_dir(&s, system_dirs[i], 0);
    }
    free(f->items);
    f->items = s.found;
    f->count = s.count;
    return s.became_readable;
}

int jd_files_count(const struct jd_files *f)
{
    int n = 0;
    for (int i = 0; i < f->count; i++)
        n += !f->items[i].corrupt && !f->items[i].failing_since;
    return n;
}

int jd_files_corrupt(const struct jd_files *f)
{
    return f->corrupt;
}
