/* docker stats formulas: see dockerstats.h. */
#include "collector/metrics/dockerstats.h"

#include "collector/metrics/cgroup.h"

#include <stdlib.h>
#include <string.h>

#define USER_HZ 100ull

int ds_system_cpu(const char *proc_stat, uint64_t *system_ns, unsigned *online_cpus)
{
    int found = 0;
    unsigned cpus = 0;
    uint64_t ticks = 0;
    for (const char *p = proc_stat; p && *p;) {
        if (strncmp(p, "cpu ", 4) == 0) {
            char *q = (char *)p + 4;
            for (int i = 0; i < 7; i++) {
                char *end;
                unsigned long long v = strtoull(q, &end, 10);
                if (end == q)
                    break;
                ticks += v;
                q = end;
            }
            found = 1;
        } else if (strncmp(p, "cpu", 3) == 0 && p[3] >= '0' && p[3] <= '9') {
            cpus++;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!found)
        return -1;
    *system_ns = ticks * (1000000000ull / USER_HZ);
    *online_cpus = cpus;
    return 0;
}

double ds_cpu_percent(uint64_t prev_total_ns, uint64_t total_ns, uint64_t prev_system_ns,
                      uint64_t system_ns, unsigned online_cpus)
{
    double cpu_delta = (double)total_ns - (double)prev_total_ns;
    double sys_delta = (double)system_ns - (double)prev_system_ns;
    if (cpu_delta > 0.0 && sys_delta > 0.0)
        return (cpu_delta / sys_delta) * (double)online_cpus * 100.0;
    return 0.0;
}

uint64_t ds_mem_used(const struct cg_stats *s)
{
    if (s->has_total_inactive_file && s->mem_total_inactive_file < s->mem_usage)
        return s->mem_usage - s->mem_total_inactive_file;
    if (s->mem_inactive_file < s->mem_usage)
        return s->mem_usage - s->mem_inactive_file;
    return s->mem_usage;
}

uint64_t ds_mem_limit(const struct cg_stats *s, uint64_t host_mem_bytes)
{
    if (host_mem_bytes > 0 && s->mem_limit > host_mem_bytes)
        return host_mem_bytes;
    return s->mem_limit;
}

double ds_mem_percent(uint64_t used, uint64_t limit)
{
    return limit ? (double)used / (double)limit * 100.0 : 0.0;
}
