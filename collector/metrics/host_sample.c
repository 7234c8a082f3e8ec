/* host_metrics sampling: see host_sample.h. */
#include "collector/metrics/host_sample.h"

#include "collector/core/options.h"
#include "collector/docker/local_http.h"
#include "collector/metrics/ci_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#define ECS_TIMEOUT_MS 1000
#define ECS_RETRY_MS 10000

static const struct sample_source_ops hs_ops;

struct sample_source *hs_new(const struct hs_conf *conf)
{
    struct hs_state *s = xcalloc(1, sizeof *s);
    s->source.ops = &hs_ops;
    s->conf = conf;
    cg_reader_init(&s->rd, "/");
    s->docker = conf->common.docker_socket && *conf->common.docker_socket;
    cc_init(&s->cc, conf->common.docker_socket, conf->common.proc_root, NULL);
    if (conf->common.introspection_url && *conf->common.introspection_url)
        s->ecs_http = local_http_new();
    buf_init(&s->scratch);
    return &s->source;
}

static void hs_free(struct sample_source *src)
{
    struct hs_state *s = (struct hs_state *)src;
    cg_reader_free(&s->rd);
    cc_free(&s->cc);
    local_http_free(s->ecs_http);
    ecs_info_free(&s->ecs);
    free(s->devs);
    buf_free(&s->scratch);
    free(s);
}

static const char *read_proc(struct hs_state *s, const char *a, const char *b)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s->conf->common.proc_root, a);
    if (cg_read_file(&s->rd, path) >= 0)
        return s->rd.buf;
    if (b) {
        snprintf(path, sizeof path, "%s/%s", s->conf->common.proc_root, b);
        if (cg_read_file(&s->rd, path) >= 0)
            return s->rd.buf;
    }
    return NULL;
}

/* Previous counters of a device, created on first sight (then has_prev = 0). */
static struct hs_dev_prev *dev_prev(struct hs_state *s, const char *kind, const char *name,
                                    int *had)
{
    char key[64];
    snprintf(key, sizeof key, "%s:%s", kind, name);
    for (int i = 0; i < s->ndevs; i++) {
        if (strcmp(s->devs[i].name, key) == 0) {
            *had = 1;
            s->devs[i].gen = s->gen;
            return &s->devs[i];
        }
    }
    if (s->ndevs == s->devs_cap) {
        s->devs_cap = s->devs_cap ? s->devs_cap * 2 : 32;
        s->devs = xrealloc(s->devs, (size_t)s->devs_cap * sizeof *s->devs);
    }
    struct hs_dev_prev *d = &s->devs[s->ndevs++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", key);
    d->gen = s->gen;
    *had = 0;
    return d;
}

static double per_sec(uint64_t prev, uint64_t cur, double secs)
{
    return cur >= prev && secs > 0 ? (double)(cur - prev) / secs : 0.0;
}

/* ------------------------------------------------------- event building */

struct hs_event {
    struct hs_state *s;
    struct mframe *f;
    const char *type;          /* EMF Type */
    const char *extra_key;     /* per-device dimension name, or NULL */
    const char *extra_value;
};

static void num(struct hs_state *s, const char *name, const char *unit, double v)
{
    if (s->nnums < (int)(sizeof s->nums / sizeof s->nums[0]))
        s->nums[s->nnums++] = (struct emf_num){name, unit, v};
}

/* Flush the collected numbers as metric events and/or one EMF event. */
static void flush(struct hs_event *ev)
{
    struct hs_state *s = ev->s;
    const struct hs_conf *c = s->conf;
    if (c->common.metrics) {
        if (ev->extra_key) {
            const char *n[] = {CI_DIM_CLUSTER, CI_DIM_INSTANCE, CI_DIM_CONTAINER_INSTANCE,
                               ev->extra_key};
            const char *v[] = {s->cluster, c->common.instance_id, s->ci_id, ev->extra_value};
            uint8_t nd;
            uint32_t dims = mframe_dims(ev->f, n, v, 4, &nd);
            for (int i = 0; i < s->nnums; i++)
                mframe_add(ev->f, s->nums[i].name, s->nums[i].unit, s->nums[i].value, dims, nd);
        } else {
            const char *n1[] = {CI_DIM_CLUSTER}, *v1[] = {s->cluster};
            const char *n3[] = {CI_DIM_CLUSTER, CI_DIM_INSTANCE, CI_DIM_CONTAINER_INSTANCE};
            const char *v3[] = {s->cluster, c->common.instance_id, s->ci_id};
            uint8_t nd1, nd3;
            uint32_t d1 = mframe_dims(ev->f, n1, v1, 1, &nd1);
            uint32_t d3 = mframe_dims(ev->f, n3, v3, 3, &nd3);
            for (int i = 0; i < s->nnums; i++) {
                mframe_add(ev->f, s->nums[i].name, s->nums[i].unit, s->nums[i].value, d1, nd1);
                mframe_add(ev->f, s->nums[i].name, s->nums[i].unit, s->nums[i].value, d3, nd3);
            }
        }
    }
    if (c->common.emf) {
        static const struct emf_dimset inst_sets[] = {
            {{CI_DIM_CLUSTER}, 1},
            {{CI_DIM_CLUSTER, CI_DIM_INSTANCE, CI_DIM_CONTAINER_INSTANCE}, 3},
        };
        struct emf_dimset dev_set = {{CI_DIM_CLUSTER, CI_DIM_INSTANCE, CI_DIM_CONTAINER_INSTANCE,
                                      ev->extra_key}, 4};
        struct emf_num ts = {"Timestamp", NULL, (double)ev->f->timestamp_ms};
        struct emf_str strs[] = {
            {"Version", "0"}, {"Type", ev->type}, {CI_DIM_CLUSTER, s->cluster},
            {CI_DIM_INSTANCE, c->common.instance_id}, {CI_DIM_CONTAINER_INSTANCE, s->ci_id},
            {"EC2InstanceId", c->common.instance_id},
            {ev->extra_key ? ev->extra_key : "", ev->extra_value},
        };
        struct emf_doc d = {
            .timestamp_ms = ev->f->timestamp_ms, .namespace_ = c->common.emf_namespace,
            .storage_resolution = c->common.storage_resolution,
            .sets = ev->extra_key ? &dev_set : inst_sets, .nsets = ev->extra_key ? 1 : 2,
            .metrics = s->nums, .nmetrics = s->nnums, .extra = &ts, .nextra = 1,
            .strs = strs, .nstrs = ev->extra_key ? 7 : 6,
        };
        buf_reset(&s->scratch);
        emf_encode(&s->scratch, &d);
        mframe_add_log(ev->f, s->scratch.data, s->scratch.len);
    }
    s->nnums = 0;
}

/* ------------------------------------------------------- filesystems */

struct fs_walk {
    struct hs_state *s;
    struct mframe *f;
    double used, size;
    char seen[64][128];
    int nseen;
};

static void on_mount(const char *dev, const char *dir, const char *type, void *arg)
{
    struct fs_walk *w = arg;
    struct hs_state *s = w->s;
    if (!strlist_contains(s->conf->fs_types, type))
        return;
    for (int i = 0; i < w->nseen; i++)
        if (strcmp(w->seen[i], dev) == 0)
            return; /* the same filesystem mounted twice (bind mounts) */
    if (w->nseen < 64)
        snprintf(w->seen[w->nseen++], sizeof w->seen[0], "%s", dev);
    char path[1200];
    snprintf(path, sizeof path, "%s%s", s->conf->host_root, dir);
    struct statvfs sv;
    if (statvfs(path, &sv) != 0 || sv.f_blocks == 0)
        return;
    double size = (double)sv.f_blocks * (double)sv.f_frsize;
    double avail = (double)sv.f_bavail * (double)sv.f_frsize;
    double used = (double)(sv.f_blocks - sv.f_bfree) * (double)sv.f_frsize;
    w->used += used;
    w->size += used + avail;
    if (!s->conf->per_device)
        return;
    double ipct = sv.f_files ? (double)(sv.f_files - sv.f_ffree) / (double)sv.f_files * 100.0
                             : 0.0;
    num(s, "instance_filesystem_utilization", CI_UNIT_PERCENT,
        used + avail > 0 ? used / (used + avail) * 100.0 : 0.0);
    num(s, "instance_filesystem_available", CI_UNIT_BYTES, avail);
    num(s, "instance_filesystem_capacity", CI_UNIT_BYTES, size);
    num(s, "instance_filesystem_inodes_utilization", CI_UNIT_PERCENT, ipct);
    num(s, "instance_filesystem_inodes_free", CI_UNIT_COUNT, (double)sv.f_ffree);
    struct hs_event ev = {s, w->f, "InstanceFS", "MountPath", dir};
    flush(&ev);
}

/* ------------------------------------------------------- disks, network */

struct dev_walk {
    struct hs_state *s;
    struct mframe *f;
    double secs;
    int first;
    double rx, tx, rbytes, wbytes;
};

static void on_disk(const struct host_disk *d, void *arg)
{
    struct dev_walk *w = arg;
    int had;
    struct hs_dev_prev *p = dev_prev(w->s, "disk", d->name, &had);
    if (had && !w->first) {
        double rb = per_sec(p->b, d->read_bytes, w->secs), wb = per_sec(p->d, d->write_bytes,
                                                                        w->secs);
        w->rbytes += rb;
        w->wbytes += wb;
        if (w->s->conf->per_device) {
            num(w->s, "instance_diskio_read_bytes", CI_UNIT_BPS, rb);
            num(w->s, "instance_diskio_write_bytes", CI_UNIT_BPS, wb);
            num(w->s, "instance_diskio_reads", "Count/Second", per_sec(p->a, d->reads, w->secs));
            num(w->s, "instance_diskio_writes", "Count/Second", per_sec(p->c, d->writes, w->secs));
            num(w->s, "instance_diskio_io_time", "Milliseconds", (double)(d->io_ms - p->e));
            struct hs_event ev = {w->s, w->f, "InstanceDiskIO", "Device", d->name};
            flush(&ev);
        }
    }
    p->a = d->reads;
    p->b = d->read_bytes;
    p->c = d->writes;
    p->d = d->write_bytes;
    p->e = d->io_ms;
}

static void on_iface(const char *name, const struct net_counters *c, void *arg)
{
    struct dev_walk *w = arg;
    if (strcmp(name, "lo") == 0)
        return;
    int had;
    struct hs_dev_prev *p = dev_prev(w->s, "net", name, &had);
    if (had && !w->first) {
        double rx = per_sec(p->a, c->rx_bytes, w->secs), tx = per_sec(p->e, c->tx_bytes, w->secs);
        w->rx += rx;
        w->tx += tx;
        if (w->s->conf->per_device) {
            num(w->s, "instance_interface_network_rx_bytes", CI_UNIT_BPS, rx);
            num(w->s, "instance_interface_network_tx_bytes", CI_UNIT_BPS, tx);
            num(w->s, "instance_interface_network_rx_packets", "Count/Second",
                per_sec(p->b, c->rx_packets, w->secs));
            num(w->s, "instance_interface_network_tx_packets", "Count/Second",
                per_sec(p->f, c->tx_packets, w->secs));
            num(w->s, "instance_interface_network_rx_errors", "Count/Second",
                per_sec(p->c, c->rx_errors, w->secs));
            num(w->s, "instance_interface_network_tx_errors", "Count/Second",
                per_sec(p->g, c->tx_errors, w->secs));
            num(w->s, "instance_interface_network_rx_dropped", "Count/Second",
                per_sec(p->d, c->rx_dropped, w->secs));
            num(w->s, "instance_interface_network_tx_dropped", "Count/Second",
                per_sec(p->h, c->tx_dropped, w->secs));
            struct hs_event ev = {w->s, w->f, "InstanceNet", "InterfaceName", name};
            flush(&ev);
        }
    }
    p->a = c->rx_bytes;
    p->b = c->rx_packets;
    p->c = c->rx_errors;
    p->d = c->rx_dropped;
    p->e = c->tx_bytes;
    p->f = c->tx_packets;
    p->g = c->tx_errors;
    p->h = c->tx_dropped;
}

/* ------------------------------------------------------- the interval */

static void identity(struct hs_state *s, int64_t now)
{
    if (s->ecs_http && now >= s->ecs_next_ms) {
        int ok = ecs_fetch(s->ecs_http, s->conf->common.introspection_url, ECS_TIMEOUT_MS, &s->scratch,
                           &s->ecs) == 0;
        s->ecs_next_ms = now + (ok ? s->conf->common.introspection_refresh_ms : ECS_RETRY_MS);
    }
    cc_identity(&s->cc, &s->conf->common, &s->ecs, s->cluster, sizeof s->cluster, s->ci_id,
                sizeof s->ci_id);
}

static void sample(struct hs_state *s, struct mframe *f)
{
    s->samples++;
    s->gen++;
    int64_t mono = mono_ns();
    double secs = s->has_prev ? (double)(mono - s->prev_mono_ns) / 1e9 : 0.0;
    int ncontainers = -1, ntasks = 0;
    double cpu_res = 0, mem_res = 0;
    if (s->docker) {
        ncontainers = cc_refresh(&s->cc);
        for (int i = 0; i < s->cc.n && ncontainers >= 0; i++) {
            const struct docker_container *c = &s->cc.e[i].c;
            int first = c->task_arn[0] != 0;
            for (int k = 0; k < i && first; k++)
                if (strcmp(s->cc.e[k].c.task_arn, c->task_arn) == 0)
                    first = 0;
            ntasks += first;
            cpu_res += c->cpu_shares > 0 ? (double)c->cpu_shares
                       : c->nano_cpus > 0 ? (double)c->nano_cpus / 1e9 * 1024.0 : 0.0;
            mem_res += c->memory_reservation > 0 ? (double)c->memory_reservation
                                                 : (double)(c->memory > 0 ? c->memory : 0);
        }
        if (ncontainers < 0) {
            s->errors++;
            snprintf(s->last_error, sizeof s->last_error, "Docker API at %s: %s",
                     s->conf->common.docker_socket, s->cc.err);
        }
    }
    identity(s, f->timestamp_ms);
    snprintf(f->cluster, sizeof f->cluster, "%s", s->cluster);
    snprintf(f->container_instance_id, sizeof f->container_instance_id, "%s", s->ci_id);
    snprintf(f->instance_id, sizeof f->instance_id, "%s", s->conf->common.instance_id);

    struct host_cpu cpu;
    const char *text = read_proc(s, "stat", NULL);
    if (!text || host_parse_cpu(text, &cpu) != 0) {
        s->errors++;
        snprintf(s->last_error, sizeof s->last_error, "cannot read %s/stat", s->conf->common.proc_root);
        return;
    }
    struct dev_walk dw = {.s = s, .f = f, .secs = secs, .first = !s->has_prev};
    /* per-device events first (they flush their own numbers) */
    if ((text = read_proc(s, "diskstats", NULL)))
        host_parse_diskstats(text, on_disk, &dw);
    if ((text = read_proc(s, "1/net/dev", "net/dev")))
        netdev_parse(text, on_iface, &dw, NULL);
    struct fs_walk fw = {.s = s, .f = f};
    if ((text = read_proc(s, "1/mounts", "self/mounts"))) {
        /* statvfs may be slow: copy the text out of the shared buffer first */
        char *copy = xstrdup(text);
        host_parse_mounts(copy, on_mount, &fw);
        free(copy);
    }
    int first = !s->has_prev;
    struct host_cpu prev = s->prev_cpu;
    s->prev_cpu = cpu;
    s->prev_mono_ns = mono;
    s->has_prev = 1;
    /* forget devices that went away */
    int w = 0;
    for (int i = 0; i < s->ndevs; i++)
        if (s->devs[i].gen == s->gen)
            s->devs[w++] = s->devs[i];
    s->ndevs = w;
    if (first)
        return; /* counters primed */

    struct host_cpu_pct pct;
    host_cpu_percent(&prev, &cpu, &pct);
    struct host_mem mem = {0};
    if ((text = read_proc(s, "meminfo", NULL)))
        host_parse_meminfo(text, &mem);
    double load[3] = {0, 0, 0};
    if ((text = read_proc(s, "loadavg", NULL)))
        host_parse_loadavg(text, load);
    double cpu_limit = (double)(cpu.ncpu ? cpu.ncpu : 1) * 1024.0;
    double ws = (double)(mem.total - mem.available);
    num(s, "instance_cpu_utilization", CI_UNIT_PERCENT, pct.busy);
    num(s, "instance_cpu_user", CI_UNIT_PERCENT, pct.user);
    num(s, "instance_cpu_system", CI_UNIT_PERCENT, pct.system);
    num(s, "instance_cpu_iowait", CI_UNIT_PERCENT, pct.iowait);
    num(s, "instance_cpu_steal", CI_UNIT_PERCENT, pct.steal);
    num(s, "instance_cpu_limit", CI_UNIT_NONE, cpu_limit);
    num(s, "instance_cpu_usage_total", CI_UNIT_NONE, pct.busy / 100.0 * cpu_limit);
    num(s, "instance_memory_utilization", CI_UNIT_PERCENT,
        mem.total ? ws / (double)mem.total * 100.0 : 0.0);
    num(s, "instance_memory_working_set", CI_UNIT_BYTES, ws);
    num(s, "instance_memory_available", CI_UNIT_BYTES, (double)mem.available);
    num(s, "instance_memory_limit", CI_UNIT_BYTES, (double)mem.total);
    num(s, "instance_swap_used", CI_UNIT_BYTES, (double)(mem.swap_total - mem.swap_free));
    num(s, "instance_swap_available", CI_UNIT_BYTES, (double)mem.swap_free);
    num(s, "instance_load_1", CI_UNIT_NONE, load[0]);
    num(s, "instance_load_5", CI_UNIT_NONE, load[1]);
    num(s, "instance_load_15", CI_UNIT_NONE, load[2]);
    num(s, "instance_filesystem_utilization", CI_UNIT_PERCENT,
        fw.size > 0 ? fw.used / fw.size * 100.0 : 0.0);
    num(s, "instance_diskio_read_bytes", CI_UNIT_BPS, dw.rbytes);
    num(s, "instance_diskio_write_bytes", CI_UNIT_BPS, dw.wbytes);
    num(s, "instance_network_rx_bytes", CI_UNIT_BPS, dw.rx);
    num(s, "instance_network_tx_bytes", CI_UNIT_BPS, dw.tx);
    num(s, "instance_network_total_bytes", CI_UNIT_BPS, dw.rx + dw.tx);
    if (ncontainers >= 0) {
        num(s, "instance_number_of_running_tasks", CI_UNIT_COUNT, ntasks);
        num(s, "instance_number_of_running_containers", CI_UNIT_COUNT, ncontainers);
        num(s, "instance_cpu_reserved_capacity", CI_UNIT_PERCENT, cpu_res / cpu_limit * 100.0);
        num(s, "instance_memory_reserved_capacity", CI_UNIT_PERCENT,
            mem.total ? mem_res / (double)mem.total * 100.0 : 0.0);
    }
    struct hs_event ev = {s, f, "Instance", NULL, NULL};
    flush(&ev);
    host_capacity(s, f, cpu.ncpu ? cpu.ncpu : 1, mem.total, ncontainers >= 0);
}

static void hs_sample(struct sample_source *src, struct mframe *f)
{
    struct hs_state *s = (struct hs_state *)src;
    f->ecs_agent = 0;
    f->ecs_agent_version[0] = '\0';
    sample(s, f);
    f->errors = s->errors;
    snprintf(f->error, sizeof f->error, "%s", s->last_error);
    f->samples = s->samples;
}

static const struct sample_source_ops hs_ops = {.sample = hs_sample, .free = hs_free};
