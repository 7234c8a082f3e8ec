/* The agent's own resource use, from /proc/self: RSS, CPU time, open
 * descriptors and inotify watches. The parsers are pure (unit-tested); the
 * readers open /proc. */
#ifndef COLLECTOR_STATUS_SELFSTAT_H
#define COLLECTOR_STATUS_SELFSTAT_H

#include <stddef.h>
#include <stdint.h>

struct selfstat {
    uint64_t rss_bytes;
    double cpu_user_seconds;
    double cpu_system_seconds;
    uint64_t threads;
    uint64_t open_fds;
    uint64_t inotify_watches;
    uint64_t max_fds;             /* soft RLIMIT_NOFILE */
    double start_time_seconds;    /* process start, seconds since the epoch */
};

/* Fill s from /proc/self; fields that cannot be read stay 0. */
void selfstat_read(struct selfstat *s);

/* Parse /proc/PID/stat text: utime, stime (clock ticks), num_threads,
 * starttime (ticks after boot) and rss (pages). 0 or -1. */
int selfstat_parse_stat(const char *text, uint64_t *utime, uint64_t *stime, uint64_t *threads,
                        uint64_t *starttime, uint64_t *rss_pages);
/* Count "inotify wd:" lines in /proc/PID/fdinfo/N text. */
uint64_t selfstat_count_watches(const char *fdinfo);

#endif
