#include "collector/status/selfstat.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int selfstat_parse_stat(const char *text, uint64_t *utime, uint64_t *stime, uint64_t *threads,
                        uint64_t *starttime, uint64_t *rss_pages)
{
    /* The command name (field 2) may hold spaces and parentheses: fields
     * are counted from the last ')'. */
    const char *p = strrchr(text, ')');
    if (!p)
        return -1;
    p++;
    uint64_t v[24] = {0};
    /* After ')': field 3 (state) is a char, fields 4.. are numbers. */
    int field = 3;
    while (*p && field <= 24) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        if (field == 3) {
            p++;
        } else {
            long long x = strtoll(p, &end, 10);
            if (end == p)
                return -1;
            v[field - 1] = x < 0 ? 0 : (uint64_t)x;
            p = end;
        }
        field++;
    }
    if (field <= 24)
        return -1;
    *utime = v[13];     /* field 14 */
    *stime = v[14];     /* field 15 */
    *threads = v[19];   /* field 20 */
    *starttime = v[21]; /* field 22 */
    *rss_pages = v[23]; /* field 24 */
    return 0;
}

uint64_t selfstat_count_watches(const char *fdinfo)
{
    uint64_t n = 0;
    for (const char *p = fdinfo; (p = strstr(p, "inotify wd:")) != NULL; p += 11)
        if (p == fdinfo || p[-1] == '\n')
            n++;
    return n;
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

static double boot_time_seconds(void)
{
    char text[8192];
    if (read_small("/proc/stat", text, sizeof text) < 0)
        return 0;
    const char *p = strstr(text, "\nbtime ");
    return p ? strtod(p + 7, NULL) : 0;
}

static void count_fds(struct selfstat *s)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int dfd = dirfd(d);
    struct dirent *e;
    char link[64], info[4096], path[300];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (atoi(e->d_name) == dfd)
            continue;
        s->open_fds++;
        ssize_t n = readlinkat(dfd, e->d_name, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (strcmp(link, "anon_inode:inotify") != 0)
            continue;
        snprintf(path, sizeof path, "/proc/self/fdinfo/%s", e->d_name);
        /* One fdinfo holds a line per watch; a large watcher needs more
         * than one buffer, so count across reads. */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        size_t keep = 0;
        for (;;) {
            ssize_t r = read(fd, info + keep, sizeof info - 1 - keep);
            if (r <= 0)
                break;
            size_t len = keep + (size_t)r;
            info[len] = '\0';
            char *last_nl = strrchr(info, '\n');
            if (!last_nl) {
                keep = 0;
                continue;
            }
            char saved = last_nl[1];
            last_nl[1] = '\0';
            s->inotify_watches += selfstat_count_watches(info);
            last_nl[1] = saved;
            keep = len - (size_t)(last_nl + 1 - info);
            memmove(info, last_nl + 1, keep);
        }
        close(fd);
    }
    closedir(d);
}

void selfstat_read(struct selfstat *s)
{
    memset(s, 0, sizeof *s);
    char text[2048];
    long tick = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t ut, st, threads, start, rss;
    if (read_small("/proc/self/stat", text, sizeof text) > 0 &&
        selfstat_parse_stat(text, &ut, &st, &threads, &start, &rss) == 0 && tick > 0) {
        s->cpu_user_seconds = (double)ut / (double)tick;
        s->cpu_system_seconds = (double)st / (double)tick;
        s->threads = threads;
        s->rss_bytes = rss * (uint64_t)(page > 0 ? page : 4096);
        double boot = boot_time_seconds();
        if (boot > 0)
            s->start_time_seconds = boot + (double)start / (double)tick;
    }
    count_fds(s);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        s->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)rl.rlim_cur;
}
