/* Host figures from procfs: /proc/stat, /proc/meminfo, /proc/loadavg,
 * /proc/diskstats, /proc/<pid>/mounts (for statvfs). Pure parsers over the
 * files' text; host_sample.c does the reading. */
#ifndef COLLECTOR_METRICS_HOST_H
#define COLLECTOR_METRICS_HOST_H

#include <stdint.h>

struct host_cpu {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
    unsigned ncpu;
};

struct host_cpu_pct {
    double user, system, iowait, steal, idle, busy; /* % of all CPUs */
};

struct host_mem {
    uint64_t total, free, available, buffers, cached, swap_total, swap_free; /* bytes */
};

struct host_disk {
    char name[32];
    uint64_t reads, read_bytes, writes, write_bytes, io_ms;
};

int host_parse_cpu(const char *proc_stat, struct host_cpu *c);
void host_cpu_percent(const struct host_cpu *prev, const struct host_cpu *cur,
                      struct host_cpu_pct *out);
int host_parse_meminfo(const char *text, struct host_mem *m);
int host_parse_loadavg(const char *text, double load[3]);

/* Whole disks of /proc/diskstats (partitions of a listed disk, loop and
 * ram devices are left out): fn for each. Number of disks. */
int host_parse_diskstats(const char *text, void (*fn)(const struct host_disk *d, void *arg),
                         void *arg);

/* Mount table lines: fn(device, mount point (octal escapes decoded), type). */
int host_parse_mounts(const char *text,
                      void (*fn)(const char *dev, const char *dir, const char *type, void *arg),
                      void *arg);

#endif
