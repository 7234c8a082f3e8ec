/* Docker Engine API parsers: see docker.h. */
#include "collector/metrics/docker.h"

#include "collector/metrics/cgroup.h"
#include "collector/metrics/netdev.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void copy_str(char *dst, size_t cap, json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    snprintf(dst, cap, "%s", s);
}

static int64_t int_of(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return 0;
}

static uint64_t u64_of(json_t *obj, const char *key)
{
    int64_t v = int_of(obj, key);
    return v > 0 ? (uint64_t)v : 0;
}

int dk_parse_list(const char *json, size_t len, void (*fn)(const char *id, void *arg), void *arg)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!json_is_array(root)) {
        json_decref(root);
        return -1;
    }
    size_t i;
    json_t *c;
    int n = 0;
    json_array_foreach(root, i, c) {
        json_t *id = json_object_get(c, "Id");
        if (json_is_string(id)) {
            fn(json_string_value(id), arg);
            n++;
        }
    }
    json_decref(root);
    return n;
}

int dk_parse_inspect(const char *json, size_t len, struct dk_container *c)
{
    memset(c, 0, sizeof *c);
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return -1;
    }
    copy_str(c->id, sizeof c->id, json_object_get(root, "Id"));
    const char *name = json_string_value(json_object_get(root, "Name"));
    snprintf(c->name, sizeof c->name, "%s", name ? (name[0] == '/' ? name + 1 : name) : "");
    json_t *state = json_object_get(root, "State");
    c->pid = (int)int_of(state, "Pid");
    c->running = json_is_true(json_object_get(state, "Running"));
    json_t *config = json_object_get(root, "Config");
    copy_str(c->image, sizeof c->image, json_object_get(config, "Image"));
    json_t *labels = json_object_get(config, "Labels");
    copy_str(c->cluster, sizeof c->cluster, json_object_get(labels, "com.amazonaws.ecs.cluster"));
    copy_str(c->task_arn, sizeof c->task_arn,
             json_object_get(labels, "com.amazonaws.ecs.task-arn"));
    copy_str(c->ecs_name, sizeof c->ecs_name,
             json_object_get(labels, "com.amazonaws.ecs.container-name"));
    copy_str(c->family, sizeof c->family,
             json_object_get(labels, "com.amazonaws.ecs.task-definition-family"));
    copy_str(c->revision, sizeof c->revision,
             json_object_get(labels, "com.amazonaws.ecs.task-definition-version"));
    json_t *hc = json_object_get(root, "HostConfig");
    c->cpu_shares = int_of(hc, "CpuShares");
    c->nano_cpus = int_of(hc, "NanoCpus");
    c->cpu_quota = int_of(hc, "CpuQuota");
    c->cpu_period = int_of(hc, "CpuPeriod");
    c->memory = int_of(hc, "Memory");
    c->memory_reservation = int_of(hc, "MemoryReservation");
    json_decref(root);
    return c->id[0] ? 0 : -1;
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

int dk_parse_stats(const char *json, size_t len, struct cg_stats *s, struct net_counters *net,
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

const char *dk_task_id(const char *task_arn)
{
    const char *slash = strrchr(task_arn, '/');
    return slash ? slash + 1 : task_arn;
}

int dk_is_ecs_internal(const struct dk_container *c)
{
    return strstr(c->ecs_name, "~internal~ecs") != NULL;
}
