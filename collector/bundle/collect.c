/* Function items that read the kernel directly: open files per process,
 * cgroup v2 memory events of containers, limits, clock synchronization. */
#include "collector/bundle/items.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <unistd.h>

static void finish(struct bundle *b, struct bundle_entry *e, const char *rel, struct buf *data,
                   int64_t t0)
{
    bundle_stage_write(b, e, rel, data->data ? data->data : "", data->len, REDACT_TEXT);
    e->duration_ms = mono_ms() - t0;
    bundle_entry_add(b, e);
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* open-file-counts.txt (path, then the number of entries) and
 * open-file-details.txt (every fd and its target), as the reference's
 * loop over /proc/ * /fd and `ls -l /proc/ * /fd`. */
void collect_open_files(struct bundle *b, struct bundle_job *j)
{
    int64_t t0 = mono_ms();
    char *proc = bundle_host_path(b, "/proc");
    struct bundle_entry *ec = bundle_entry_new("open-file-counts", "/proc/*/fd", NULL);
    struct bundle_entry *ed = bundle_entry_new("open-file-details", "/proc/*/fd", NULL);
    struct buf counts, details;
    buf_init(&counts);
    buf_init(&details);
    DIR *d = opendir(proc);
    int denied = 0;
    if (!d) {
        bundle_entry_fail(ec, BUNDLE_ENTRY_FAILED, "cannot open %s: %s", proc, strerror(errno));
        bundle_entry_fail(ed, BUNDLE_ENTRY_FAILED, "cannot open %s: %s", proc, strerror(errno));
    } else {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!all_digits(de->d_name))
                continue;
            char *fddir = xasprintf("%s/%s/fd", proc, de->d_name);
            DIR *fdd = opendir(fddir);
            buf_printf(&details, "/proc/%s/fd:\n", de->d_name);
            if (!fdd) {
                buf_printf(&counts, "/proc/%s/fd\n%s\n", de->d_name, strerror(errno));
                buf_printf(&details, "cannot open: %s\n\n", strerror(errno));
                if (errno == EACCES)
                    denied++;
                free(fddir);
                continue;
            }
            int n = 0;
            struct dirent *fe;
            while ((fe = readdir(fdd))) {
                if (fe->d_name[0] == '.')
                    continue;
                n++;
                char *link = xasprintf("%s/%s", fddir, fe->d_name);
                char target[PATH_MAX];
                ssize_t len = readlink(link, target, sizeof target - 1);
                target[len > 0 ? len : 0] = 0;
                buf_printf(&details, "%s -> %s\n", fe->d_name, len > 0 ? target : "?");
                free(link);
            }
            closedir(fdd);
            buf_printf(&counts, "/proc/%s/fd\n%d\n", de->d_name, n);
            buf_append_char(&details, '\n');
            free(fddir);
        }
        closedir(d);
    }
    if (ec->status == BUNDLE_ENTRY_OK && denied && !b->is_root) {
        buf_printf(&counts, "# %d processes not readable: not root\n", denied);
    }
    finish(b, ec, "open-file-counts.txt", &counts, t0);
    finish(b, ed, "open-file-details.txt", &details, t0);
    buf_free(&counts);
    buf_free(&details);
    free(proc);
    (void)j;
}

/* cgroupv2.events: every memory*events file under /sys/fs/cgroup whose path
 * names a Docker container or an ECS task: the path, then its contents. */
static void walk_cgroup(const char *dir, const char *root_prefix, int depth, struct buf *out)
{
    if (depth > 8)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = xasprintf("%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR) {
            walk_cgroup(p, root_prefix, depth + 1, out);
        } else if (strncmp(de->d_name, "memory", 6) == 0 && strstr(de->d_name, "events") &&
                   (strstr(p, "docker-") || strstr(p, "/docker/") || strstr(p, "ecstask") ||
                    strstr(p, "/ecs/"))) {
            FILE *f = fopen(p, "r");
            if (f) {
                buf_printf(out, "%s\n", p + strlen(root_prefix));
                char line[512];
                while (fgets(line, sizeof line, f))
                    buf_append_str(out, line);
                fclose(f);
            }
        }
        free(p);
    }
    closedir(d);
}

void collect_cgroup_events(struct bundle *b, struct bundle_job *j)
{
    int64_t t0 = mono_ms();
    struct bundle_entry *e = bundle_entry_new(j->id, "/sys/fs/cgroup/**/memory*events", NULL);
    char *cg = bundle_host_path(b, "/sys/fs/cgroup");
    char *ctl = xasprintf("%s/cgroup.controllers", cg);
    if (access(ctl, F_OK) != 0) {
        bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "not present: no cgroup v2 (%s missing)",
                          "/sys/fs/cgroup/cgroup.controllers");
        e->duration_ms = mono_ms() - t0;
        bundle_entry_add(b, e);
    } else {
        struct buf out;
        buf_init(&out);
        size_t prefix = strlen(cg) - strlen("/sys/fs/cgroup");
        char *rootp = xstrndup(cg, prefix);
        walk_cgroup(cg, rootp, 0, &out);
        free(rootp);
        finish(b, e, j->out, &out, t0);
        buf_free(&out);
    }
    free(ctl);
    free(cg);
}

static void add_proc_value(struct bundle *b, struct buf *out, const char *name, const char *path)
{
    char *line = bundle_read_host_line(b, path);
    if (line)
        buf_printf(out, "%s %s\n", name, line);
    else
        buf_printf(out, "%s ? (%s: %s)\n", name, path, strerror(errno));
    free(line);
}

/* limits.txt: inotify and file-descriptor limits, the numbers the summary judges. */
void collect_limits(struct bundle *b, struct bundle_job *j)
{
    int64_t t0 = mono_ms();
    struct bundle_entry *e = bundle_entry_new(j->id, "/proc/sys", NULL);
    struct buf out;
    buf_init(&out);
    add_proc_value(b, &out, "fs.inotify.max_user_watches", "/proc/sys/fs/inotify/max_user_watches");
    add_proc_value(b, &out, "fs.inotify.max_user_instances",
                   "/proc/sys/fs/inotify/max_user_instances");
    add_proc_value(b, &out, "fs.inotify.max_queued_events",
                   "/proc/sys/fs/inotify/max_queued_events");
    add_proc_value(b, &out, "fs.file-nr", "/proc/sys/fs/file-nr");
    add_proc_value(b, &out, "fs.file-max", "/proc/sys/fs/file-max");
    add_proc_value(b, &out, "fs.nr_open", "/proc/sys/fs/nr_open");
    add_proc_value(b, &out, "kernel.pid_max", "/proc/sys/kernel/pid_max");
    add_proc_value(b, &out, "kernel.threads-max", "/proc/sys/kernel/threads-max");
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        buf_printf(&out, "ulimit.nofile %llu %llu\n", (unsigned long long)rl.rlim_cur,
                   (unsigned long long)rl.rlim_max);
    finish(b, e, j->out, &out, t0);
    buf_free(&out);
}

/* timesync.txt: the kernel's view of clock synchronization (adjtimex), no daemon needed. */
void collect_timesync(struct bundle *b, struct bundle_job *j)
{
    int64_t t0 = mono_ms();
    struct bundle_entry *e = bundle_entry_new(j->id, "adjtimex(2)", NULL);
    struct buf out;
    buf_init(&out);
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state < 0) {
        buf_printf(&out, "adjtimex: %s\n", strerror(errno));
    } else {
        buf_printf(&out, "synchronized %s\n",
                   (tx.status & STA_UNSYNC) || state == TIME_ERROR ? "no" : "yes");
        buf_printf(&out, "state %d\nstatus 0x%x\noffset_us %ld\nmaxerror_us %ld\nesterror_us %ld\n",
                   state, (unsigned)tx.status, (long)tx.offset, (long)tx.maxerror,
                   (long)tx.esterror);
    }
    finish(b, e, j->out, &out, t0);
    buf_free(&out);
}
