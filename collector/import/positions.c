/* The switch-over: where the old agent stopped, as the tail checkpoints of
 * the imported inputs, so that the first start neither resends nor skips.
 *
 * From the CloudWatch agent's state directory: one file per followed log,
 * "<offset>\n<path>", the offset up to which it has published (it writes it
 * at stop). Or, for awslogs (whose SQLite state is not read), the end of
 * every matching file at the moment of the command: run right after the old
 * agent stopped. Files that match an input but have no position start at
 * their end too: the old agent followed only the newest match of a glob. */
#include "collector/import/import_positions.h"
#include "collector/inputs/checkpoint.h"
#include "collector/inputs/tail/tail_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct old_position {
    char path[1024];
    uint64_t offset;
};

/* The CloudWatch agent's state files. Returns how many were read. */
static int read_state_dir(const char *dir, struct old_position **out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open the state directory %s: %s", dir, strerror(errno));
        return -1;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char full[1400], text[1100];
        snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
        int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, text, sizeof text - 1);
        close(fd);
        if (len <= 0)
            continue;
        text[len] = '\0';
        char *nl = strchr(text, '\n');
        if (!nl)
            continue;
        *nl = '\0';
        char *end;
        unsigned long long off = strtoull(text, &end, 10);
        if (end == text || *end)
            continue;
        char *path = nl + 1;
        path[strcspn(path, "\n")] = '\0';
        if (!*path)
            continue;
        *out = xrealloc(*out, sizeof **out * (size_t)(n + 1));
        snprintf((*out)[n].path, sizeof (*out)[n].path, "%s", path);
        (*out)[n].offset = off;
        n++;
    }
    closedir(d);
    return n;
}

/* One checkpoint entry for path at offset (clamped to its size). */
static int entry_for(const char *path, int64_t offset, struct ckpt_entry *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    uint64_t hash = 0;
    int fp = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? tail_fingerprint(fd, &hash) : -1;
    close(fd);
    if (fp < 0)
        return -1;
    memset(e, 0, sizeof *e);
    e->dev = (uint64_t)st.st_dev;
    e->ino = (uint64_t)st.st_ino;
    e->fp_len = (uint32_t)fp;
    e->fp_hash = hash;
    e->offset = offset < 0 || (uint64_t)offset > (uint64_t)st.st_size ? (uint64_t)st.st_size
                                                                       : (uint64_t)offset;
    e->path = xstrdup(path);
    return 0;
}

int import_write_positions(const struct import_result *r, const char *data_dir,
                           const char *state_dir, FILE *report, char *err, size_t errlen)
{
    struct old_position *old = NULL;
    int nold = 0;
    if (state_dir && (nold = read_state_dir(state_dir, &old, err, errlen)) < 0)
        return -1;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/tail", data_dir);
    if (mkdir_p(dir) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        free(old);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < r->ninputs && rc == 0; i++) {
        const struct import_input *in = &r->inputs[i];
        glob_t g;
        memset(&g, 0, sizeof g);
        glob(in->path, GLOB_NOSORT, NULL, &g);
        struct ckpt_entry *entries = xcalloc(g.gl_pathc + 1, sizeof *entries);
        int n = 0;
        for (size_t k = 0; k < g.gl_pathc; k++) {
            int64_t off = -1; /* the end */
            const char *how = "end (no saved position: the old agent was not sending it)";
            for (int o = 0; o < nold; o++)
                if (strcmp(old[o].path, g.gl_pathv[k]) == 0) {
                    off = (int64_t)old[o].offset;
                    how = "the CloudWatch agent's saved position";
                }
            if (!state_dir)
                how = "end (the old agent has stopped)";
            if (entry_for(g.gl_pathv[k], off, &entries[n]) == 0) {
                fprintf(report, "  %s: %s from offset %" PRIu64 " (%s)\n", in->name,
                        g.gl_pathv[k], entries[n].offset, how);
                n++;
            }
        }
        globfree(&g);
        char path[1400];
        snprintf(path, sizeof path, "%s/%s.ckpt", dir, in->name);
        if (ckpt_write(path, entries, n) < 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            rc = -1;
        }
        for (int k = 0; k < n; k++)
            free(entries[k].path);
        free(entries);
    }
    free(old);
    return rc;
}
