/* docker stats formulas: see dockerstats.h. */
#include "collector/metrics/dockerstats.h"

#include "collector/metrics/cgroup.h"
#include "collector/metrics/netdev.h"

#include <jansson.h>
#include <strings.h>

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

/* A counter of the stats JSON: integer (or real) and positive, else 0. */
static uint64_t u64_of(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
    if (json_is_real(v))
        return json_real_value(v) > 0 ? (uint64_t)json_real_value(v) : 0;
    return 0;
}

static void blkio_sum(json_t *list, uint64_t *read, uint64_t *write)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *op = json_string_value(json_object_get(e, "op"));
        uint64_t v = u64_of(e, "value");
        if (!op)
            continue;
        if (strcasecmp(op, "read") == 0)
            *read += v;
        else if (strcasecmp(op, "write") == 0)
            *write += v;
    }
}

int ds_parse_api_stats(const char *json, size_t len, struct cg_stats *s, struct net_counters *net,
                       uint64_t *system_ns, unsigned *online_cpus)
{
    memset(s, 0, sizeof *s);
    memset(net, 0, sizeof *net);
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    json_t *cpu = json_object_get(root, "cpu_stats");
    json_t *usage = json_object_get(cpu, "cpu_usage");
    s->cpu_usage_ns = u64_of(usage, "total_usage");
    s->cpu_user_ns = u64_of(usage, "usage_in_usermode");
    s->cpu_system_ns = u64_of(usage, "usage_in_kernelmode");
    *system_ns = u64_of(cpu, "system_cpu_usage");
    *online_cpus = (unsigned)u64_of(cpu, "online_cpus");
    if (*online_cpus == 0)
        *online_cpus = (unsigned)json_array_size(json_object_get(usage, "percpu_usage"));
    json_t *thr = json_object_get(cpu, "throttling_data");
    s->nr_periods = u64_of(thr, "periods");
    s->nr_throttled = u64_of(thr, "throttled_periods");
    s->throttled_ns = u64_of(thr, "throttled_time");
    json_t *mem = json_object_get(root, "memory_stats");
    s->mem_usage = u64_of(mem, "usage");
    s->mem_limit = u64_of(mem, "limit");
    s->mem_failcnt = u64_of(mem, "failcnt");
    json_t *st = json_object_get(mem, "stats");
    json_t *tif = json_object_get(st, "total_inactive_file");
    if (tif) {
        s->has_total_inactive_file = 1;
        s->mem_total_inactive_file = u64_of(st, "total_inactive_file");
        s->mem_cache = u64_of(st, "cache");
        s->mem_rss = u64_of(st, "rss");
    } else {
        s->mem_cache = u64_of(st, "file");
        s->mem_rss = u64_of(st, "anon");
        s->oom_events = u64_of(st, "oom_kill");
    }
    s->mem_inactive_file = u64_of(st, "inactive_file");
    json_t *blk = json_object_get(root, "blkio_stats");
    blkio_sum(json_object_get(blk, "io_service_bytes_recursive"), &s->blk_read_bytes,
              &s->blk_write_bytes);
    blkio_sum(json_object_get(blk, "io_serviced_recursive"), &s->blk_read_ops, &s->blk_write_ops);
    json_t *pids = json_object_get(root, "pids_stats");
    s->pids_current = u64_of(pids, "current");
    s->pids_max = u64_of(pids, "limit");
    const char *k;
    json_t *ifc;
    json_object_foreach(json_object_get(root, "networks"), k, ifc) {
        net->rx_bytes += u64_of(ifc, "rx_bytes");
        net->rx_packets += u64_of(ifc, "rx_packets");
        net->rx_errors += u64_of(ifc, "rx_errors");
        net->rx_dropped += u64_of(ifc, "rx_dropped");
        net->tx_bytes += u64_of(ifc, "tx_bytes");
        net->tx_packets += u64_of(ifc, "tx_packets");
        net->tx_errors += u64_of(ifc, "tx_errors");
        net->tx_dropped += u64_of(ifc, "tx_dropped");
    }
    json_decref(root);
    return 0;
}
