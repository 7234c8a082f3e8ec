/* container_metrics sampling: see container_sample.h. */
#include "collector/metrics/container_sample.h"

#include "collector/core/log.h"
#include "collector/docker/local_http.h"
#include "collector/metrics/ci_names.h"
#include "collector/metrics/dockerstats.h"
#include "collector/metrics/emf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB (1024.0 * 1024.0)
#define ECS_TIMEOUT_MS 1000
#define ECS_RETRY_MS 10000

static const struct sample_source_ops cs_ops;

struct sample_source *cs_new(const struct cs_conf *conf)
{
    struct cs_state *s = xcalloc(1, sizeof *s);
    s->source.ops = &cs_ops;
    s->conf = conf;
    cg_reader_init(&s->cg, conf->cgroup_root);
    cc_init(&s->cc, conf->common.docker_socket, conf->common.proc_root, conf->use_docker_api ? NULL : &s->cg);
    if (conf->common.introspection_url && *conf->common.introspection_url)
        s->ecs_http = local_http_new();
    agg_out_init(&s->out);
    buf_init(&s->scratch);
    return &s->source;
}

static void cs_free(struct sample_source *src)
{
    struct cs_state *s = (struct cs_state *)src;
    cg_reader_free(&s->cg);
    cc_free(&s->cc);
    local_http_free(s->ecs_http);
    ecs_info_free(&s->ecs);
    free(s->agg);
    agg_out_free(&s->out);
    buf_free(&s->scratch);
    free(s);
}

/* ------------------------------------------------------------ derivation */

static double rate(uint64_t prev, uint64_t cur, double secs)
{
    return cur >= prev && secs > 0 ? (double)(cur - prev) / secs : 0.0;
}

static double cpu_reserved_units(const struct docker_container *c, const struct cg_stats *st)
{
    if (c->cpu_shares > 0)
        return (double)c->cpu_shares;
    if (c->nano_cpus > 0)
        return (double)c->nano_cpus / 1e9 * 1024.0;
    if (c->cpu_quota > 0)
        return (double)c->cpu_quota / (double)(c->cpu_period > 0 ? c->cpu_period : 100000) *
               1024.0;
    (void)st;
    return 0.0;
}

static double mem_reserved_bytes(const struct docker_container *c)
{
    if (c->memory_reservation > 0)
        return (double)c->memory_reservation;
    if (c->memory > 0)
        return (double)c->memory;
    return 0.0;
}

void cs_derive(const struct cc_entry *prev, const struct cg_stats *st,
               const struct net_counters *net, int64_t elapsed_ns, uint64_t sys_delta_ns,
               unsigned online_cpus, uint64_t host_mem, struct agg_container *o)
{
    double secs = (double)elapsed_ns / 1e9;
    struct util_fig *f = &o->fig;
    memset(f, 0, sizeof *f);
    uint64_t dcpu = st->cpu_usage_ns >= prev->prev_cpu_ns ? st->cpu_usage_ns - prev->prev_cpu_ns
                                                          : 0;
    f->cpu_utilized = elapsed_ns > 0 ? (double)dcpu / (double)elapsed_ns * 1024.0 : 0.0;
    f->cpu_reserved = cpu_reserved_units(&prev->c, st);
    uint64_t ws = ds_mem_used(st);
    f->mem_utilized = (double)ws / MIB;
    f->mem_reserved = mem_reserved_bytes(&prev->c) / MIB;
    f->net_rx_bps = rate(prev->prev_net.rx_bytes, net->rx_bytes, secs);
    f->net_tx_bps = rate(prev->prev_net.tx_bytes, net->tx_bytes, secs);
    f->net_rx_pps = rate(prev->prev_net.rx_packets, net->rx_packets, secs);
    f->net_tx_pps = rate(prev->prev_net.tx_packets, net->tx_packets, secs);
    f->net_rx_errors = rate(prev->prev_net.rx_errors, net->rx_errors, secs);
    f->net_tx_errors = rate(prev->prev_net.tx_errors, net->tx_errors, secs);
    f->net_rx_dropped = rate(prev->prev_net.rx_dropped, net->rx_dropped, secs);
    f->net_tx_dropped = rate(prev->prev_net.tx_dropped, net->tx_dropped, secs);
    f->storage_read = st->blk_read_bytes >= prev->prev_read_bytes
                          ? (double)(st->blk_read_bytes - prev->prev_read_bytes) : 0.0;
    f->storage_write = st->blk_write_bytes >= prev->prev_write_bytes
                           ? (double)(st->blk_write_bytes - prev->prev_write_bytes) : 0.0;
    f->containers = 1;
    o->cpu_percent = ds_cpu_percent(prev->prev_cpu_ns, st->cpu_usage_ns, 0, sys_delta_ns,
                                    online_cpus);
    uint64_t limit = ds_mem_limit(st, host_mem);
    o->mem_percent = ds_mem_percent(ws, limit);
    o->mem_usage = st->mem_usage;
    o->mem_working_set = ws;
    o->mem_limit = limit;
    o->mem_cache = st->mem_cache;
    o->mem_rss = st->mem_rss;
    o->oom_events = st->oom_events;
    o->throttled_periods = st->nr_throttled;
    o->throttled_ns = st->throttled_ns;
    o->pids = st->pids_current;
    o->blk_read_ops = st->blk_read_ops;
    o->blk_write_ops = st->blk_write_ops;
    o->cpu_usage_ns = st->cpu_usage_ns;
    o->cpu_shares = st->cpu_shares;
    o->cpu_quota_us = st->cpu_quota_us;
    o->cpu_period_us = st->cpu_period_us;
    o->mem_reservation = st->mem_reservation;
}

/* ------------------------------------------------------------ ECS */

static void ecs_refresh(struct cs_state *s)
{
    if (!s->ecs_http)
        return;
    s->ecs_ok = ecs_fetch(s->ecs_http, s->conf->common.introspection_url, ECS_TIMEOUT_MS, &s->scratch,
                          &s->ecs) == 0;
    if (!s->ecs_ok)
        s->ecs_errors++;
}

static void ecs_maybe_refresh(struct cs_state *s, int64_t now)
{
    if (!s->ecs_http || now < s->ecs_next_ms)
        return;
    ecs_refresh(s);
    s->ecs_next_ms = now + (s->ecs_ok ? s->conf->common.introspection_refresh_ms : ECS_RETRY_MS);
}

/* A task seen in labels but not in the cached task list: refresh early
 * (at most every ECS_RETRY_MS). */
static void ecs_want_task(struct cs_state *s, const char *arn, int64_t now)
{
    if (s->ecs_http && s->ecs_ok && !ecs_find_task(&s->ecs, arn) &&
        s->ecs_next_ms > now + ECS_RETRY_MS)
        s->ecs_next_ms = now + ECS_RETRY_MS;
}

/* ------------------------------------------------------------ sampling */

static int read_system(struct cs_state *s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/stat", s->conf->common.proc_root);
    if (cg_read_file(&s->cg, path) < 0 || ds_system_cpu(s->cg.buf, &s->sys_ns,
                                                        &s->online_cpus) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/meminfo", s->conf->common.proc_root);
    uint64_t kb = 0;
    if (cg_read_file(&s->cg, path) >= 0 && cg_kv_get(s->cg.buf, "MemTotal:", &kb) == 0)
        s->host_mem = kb * 1024;
    return 0;
}

static int read_container(struct cs_state *s, struct cc_entry *e, struct cg_stats *st,
                          struct net_counters *net, uint64_t *sys_ns)
{
    *sys_ns = s->sys_ns;
    if (s->conf->use_docker_api) {
        char path[160];
        snprintf(path, sizeof path, "/containers/%s/stats?stream=false&one-shot=true", e->c.id);
        unsigned cpus;
        if (cc_docker_get(&s->cc, path) != 200 ||
            ds_parse_api_stats(s->cc.body.data, s->cc.body.len, st, net, sys_ns, &cpus) != 0)
            return -1;
        if (cpus)
            s->online_cpus = cpus;
        return 0;
    }
    if (!e->version || cg_read(&s->cg, e->version, e->dirs, st) != 0)
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/%d/net/dev", s->conf->common.proc_root, e->c.pid);
    memset(net, 0, sizeof *net);
    if (cg_read_file(&s->cg, path) >= 0)
        netdev_parse(s->cg.buf, NULL, NULL, net);
    return 0;
}

static void fill_identity(struct cs_state *s, const struct cc_entry *e, struct agg_container *a)
{
    const struct docker_container *c = &e->c;
    snprintf(a->id, sizeof a->id, "%s", c->id);
    snprintf(a->name, sizeof a->name, "%s", c->name);
    snprintf(a->image, sizeof a->image, "%s", c->image);
    snprintf(a->ecs_name, sizeof a->ecs_name, "%s", c->ecs_name);
    snprintf(a->task_arn, sizeof a->task_arn, "%s", c->task_arn);
    snprintf(a->task_id, sizeof a->task_id, "%s", c->task_arn[0] ? docker_task_id(c->task_arn) : "");
    snprintf(a->family, sizeof a->family, "%s", c->family);
    snprintf(a->revision, sizeof a->revision, "%s", c->revision);
    a->service[0] = '\0';
    a->task_cpu_units = a->task_mem_mib = 0;
    const struct ecs_task_info *t = c->task_arn[0] ? ecs_find_task(&s->ecs, c->task_arn) : NULL;
    if (t) {
        snprintf(a->service, sizeof a->service, "%s", t->service);
        a->task_cpu_units = t->cpu_units;
        a->task_mem_mib = t->mem_mib;
        if (!a->family[0])
            snprintf(a->family, sizeof a->family, "%s", t->family);
    }
}

static void resolve_cluster(struct cs_state *s)
{
    cc_identity(&s->cc, &s->conf->common, &s->ecs, s->cluster, sizeof s->cluster, s->ci_id,
                sizeof s->ci_id);
}

/* ------------------------------------------------------------ frame */

struct fig_metric {
    const char *name;
    const char *unit;
    size_t off;
};

#define FIG(n, u, field) {n, u, offsetof(struct util_fig, field)}
static const struct fig_metric fig_metrics[] = {
    FIG("CpuUtilized", CI_UNIT_NONE, cpu_utilized),
    FIG("CpuReserved", CI_UNIT_NONE, cpu_reserved),
    FIG("MemoryUtilized", CI_UNIT_MB, mem_utilized),
    FIG("MemoryReserved", CI_UNIT_MB, mem_reserved),
    FIG("NetworkRxBytes", CI_UNIT_BPS, net_rx_bps),
    FIG("NetworkTxBytes", CI_UNIT_BPS, net_tx_bps),
    FIG("StorageReadBytes", CI_UNIT_BYTES, storage_read),
    FIG("StorageWriteBytes", CI_UNIT_BYTES, storage_write),
};
#define NFIG (sizeof fig_metrics / sizeof fig_metrics[0])

static double fig_value(const struct util_fig *f, size_t i)
{
    return *(const double *)((const char *)f + fig_metrics[i].off);
}

static void add_fig(struct mframe *fr, const struct util_fig *f, const char *prefix,
                    const char *const *names, const char *const *values, int n, int with_count)
{
    uint8_t nd;
    uint32_t dims = mframe_dims(fr, names, values, n, &nd);
    if (nd != n)
        return; /* a dimension is unknown (no service): leave the set out */
    char name[64];
    for (size_t i = 0; i < NFIG; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, fig_metrics[i].name);
        mframe_add(fr, name, fig_metrics[i].unit, fig_value(f, i), dims, nd);
    }
    if (with_count)
        mframe_add(fr, "RunningTaskCount", CI_UNIT_COUNT, f->tasks, dims, nd);
}

static void frame_metrics(struct cs_state *s, struct mframe *fr)
{
    unsigned lv = s->conf->levels;
    const char *cl = s->cluster;
    if (lv & CI_LEVEL_CLUSTER) {
        const char *n[] = {CI_DIM_CLUSTER}, *v[] = {cl};
        add_fig(fr, &s->out.cluster, "", n, v, 1, 1);
    }
    if (lv & CI_LEVEL_SERVICE) {
        for (int i = 0; i < s->out.nservices; i++) {
            const char *n[] = {CI_DIM_CLUSTER, CI_DIM_SERVICE}, *v[] = {cl, s->out.services[i].name};
            add_fig(fr, &s->out.services[i].fig, "", n, v, 2, 1);
        }
    }
    if (lv & CI_LEVEL_FAMILY) {
        for (int i = 0; i < s->out.nfamilies; i++) {
            const char *n[] = {CI_DIM_CLUSTER, CI_DIM_FAMILY}, *v[] = {cl, s->out.families[i].name};
            add_fig(fr, &s->out.families[i].fig, "", n, v, 2, 1);
        }
    }
    if (lv & CI_LEVEL_TASK) {
        for (int i = 0; i < s->out.ntasks; i++) {
            const struct agg_container *c = s->out.tasks[i].first;
            const char *n[] = {CI_DIM_CLUSTER, CI_DIM_FAMILY, CI_DIM_TASK};
            const char *v[] = {cl, c->family, c->task_id};
            add_fig(fr, &s->out.tasks[i].fig, "", n, v, 3, 0);
        }
    }
    if (lv & CI_LEVEL_CONTAINER) {
        for (int i = 0; i < s->nagg; i++) {
            const struct agg_container *c = &s->agg[i];
            const char *cname = c->ecs_name[0] ? c->ecs_name : c->name;
            uint8_t nd;
            uint32_t dims;
            if (c->family[0]) {
                const char *n[] = {CI_DIM_CLUSTER, CI_DIM_FAMILY, CI_DIM_CONTAINER};
                const char *v[] = {cl, c->family, cname};
                dims = mframe_dims(fr, n, v, 3, &nd);
            } else {
                const char *n[] = {CI_DIM_CLUSTER, CI_DIM_CONTAINER}, *v[] = {cl, cname};
                dims = mframe_dims(fr, n, v, 2, &nd);
            }
            for (size_t k = 0; k < NFIG; k++) {
                char name[64];
                snprintf(name, sizeof name, "Container%s", fig_metrics[k].name);
                mframe_add(fr, name, fig_metrics[k].unit, fig_value(&c->fig, k), dims, nd);
            }
            mframe_add(fr, "ContainerCpuUtilization", CI_UNIT_PERCENT, c->cpu_percent, dims, nd);
            mframe_add(fr, "ContainerMemoryUtilization", CI_UNIT_PERCENT, c->mem_percent, dims,
                       nd);
        }
    }
}

static void fig_nums(const struct util_fig *f, struct emf_num *m, struct emf_num *extra)
{
    for (size_t i = 0; i < NFIG; i++)
        m[i] = (struct emf_num){fig_metrics[i].name, fig_metrics[i].unit, fig_value(f, i)};
    extra[0] = (struct emf_num){"NetworkRxPackets", NULL, f->net_rx_pps};
    extra[1] = (struct emf_num){"NetworkRxErrors", NULL, f->net_rx_errors};
    extra[2] = (struct emf_num){"NetworkRxDropped", NULL, f->net_rx_dropped};
    extra[3] = (struct emf_num){"NetworkTxPackets", NULL, f->net_tx_pps};
    extra[4] = (struct emf_num){"NetworkTxErrors", NULL, f->net_tx_errors};
    extra[5] = (struct emf_num){"NetworkTxDropped", NULL, f->net_tx_dropped};
}

static void frame_emf(struct cs_state *s, struct mframe *fr)
{
    const struct cs_conf *cf = s->conf;
    static const struct emf_dimset task_sets[] = {
        {{CI_DIM_CLUSTER}, 1},
        {{CI_DIM_CLUSTER, CI_DIM_FAMILY}, 2},
        {{CI_DIM_CLUSTER, CI_DIM_SERVICE}, 2},
    };
    for (int i = 0; i < s->out.ntasks; i++) {
        const struct agg_task *t = &s->out.tasks[i];
        const struct agg_container *c = t->first;
        struct emf_num m[NFIG], extra[8];
        fig_nums(&t->fig, m, extra);
        extra[6] = (struct emf_num){"ContainerCount", NULL, t->fig.containers};
        extra[7] = (struct emf_num){"Timestamp", NULL, (double)fr->timestamp_ms};
        struct emf_str strs[] = {
            {"Version", "0"}, {"Type", "Task"}, {CI_DIM_CLUSTER, s->cluster},
            {CI_DIM_SERVICE, c->service}, {CI_DIM_FAMILY, c->family},
            {"TaskDefinitionRevision", c->revision}, {"TaskId", c->task_id},
            {"TaskArn", c->task_arn}, {"ContainerInstanceId", s->ci_id},
            {"EC2InstanceId", cf->common.instance_id},
        };
        struct emf_doc d = {
            .timestamp_ms = fr->timestamp_ms, .namespace_ = cf->common.emf_namespace,
            .storage_resolution = cf->common.storage_resolution, .sets = task_sets, .nsets = 3,
            .metrics = m, .nmetrics = (int)NFIG, .extra = extra, .nextra = 8, .strs = strs,
            .nstrs = (int)(sizeof strs / sizeof strs[0]),
        };
        buf_reset(&s->scratch);
        emf_encode(&s->scratch, &d);
        mframe_add_log(fr, s->scratch.data, s->scratch.len);
    }
    static const struct emf_dimset ctr_sets[] = {
        {{CI_DIM_CLUSTER, CI_DIM_FAMILY, CI_DIM_CONTAINER}, 3},
    };
    for (int i = 0; i < s->nagg; i++) {
        const struct agg_container *c = &s->agg[i];
        struct emf_num m[NFIG], extra[24];
        fig_nums(&c->fig, m, extra);
        int ne = 6;
        extra[ne++] = (struct emf_num){"CpuUtilization", "Percent", c->cpu_percent};
        extra[ne++] = (struct emf_num){"MemoryUtilization", "Percent", c->mem_percent};
        extra[ne++] = (struct emf_num){"MemoryUsageBytes", NULL, (double)c->mem_usage};
        extra[ne++] = (struct emf_num){"MemoryWorkingSetBytes", NULL, (double)c->mem_working_set};
        extra[ne++] = (struct emf_num){"MemoryLimitBytes", NULL, (double)c->mem_limit};
        extra[ne++] = (struct emf_num){"MemoryCacheBytes", NULL, (double)c->mem_cache};
        extra[ne++] = (struct emf_num){"MemoryRssBytes", NULL, (double)c->mem_rss};
        extra[ne++] = (struct emf_num){"OomEvents", NULL, (double)c->oom_events};
        extra[ne++] = (struct emf_num){"CpuThrottledPeriods", NULL, (double)c->throttled_periods};
        extra[ne++] = (struct emf_num){"CpuThrottledTimeNs", NULL, (double)c->throttled_ns};
        extra[ne++] = (struct emf_num){"CpuUsageNs", NULL, (double)c->cpu_usage_ns};
        extra[ne++] = (struct emf_num){"Pids", NULL, (double)c->pids};
        extra[ne++] = (struct emf_num){"StorageReadOps", NULL, (double)c->blk_read_ops};
        extra[ne++] = (struct emf_num){"StorageWriteOps", NULL, (double)c->blk_write_ops};
        /* reservations as the kernel has them (CpuReserved/MemoryReserved: Docker's) */
        extra[ne++] = (struct emf_num){"CpuShares", NULL, (double)c->cpu_shares};
        extra[ne++] = (struct emf_num){"CpuQuotaUs", NULL, (double)c->cpu_quota_us};
        extra[ne++] = (struct emf_num){"CpuPeriodUs", NULL, (double)c->cpu_period_us};
        extra[ne++] = (struct emf_num){"MemoryReservationBytes", NULL,
                                       (double)c->mem_reservation};
        struct emf_str strs[] = {
            {"Version", "0"}, {"Type", "Container"}, {CI_DIM_CLUSTER, s->cluster},
            {CI_DIM_CONTAINER, c->ecs_name[0] ? c->ecs_name : c->name}, {"DockerName", c->name},
            {"ContainerId", c->id}, {"Image", c->image}, {CI_DIM_SERVICE, c->service},
            {CI_DIM_FAMILY, c->family}, {"TaskDefinitionRevision", c->revision},
            {"TaskId", c->task_id}, {"ContainerInstanceId", s->ci_id},
            {"EC2InstanceId", cf->common.instance_id}, {"ContainerKnownStatus", "RUNNING"},
        };
        /* container figures are declared as metrics only with the container level */
        int declare = (cf->levels & CI_LEVEL_CONTAINER) != 0;
        struct emf_doc d = {
            .timestamp_ms = fr->timestamp_ms, .namespace_ = cf->common.emf_namespace,
            .storage_resolution = cf->common.storage_resolution, .sets = ctr_sets, .nsets = 1,
            .metrics = declare ? m : NULL, .nmetrics = declare ? (int)NFIG : 0,
            .extra = extra, .nextra = ne, .strs = strs,
            .nstrs = (int)(sizeof strs / sizeof strs[0]),
        };
        buf_reset(&s->scratch);
        emf_encode(&s->scratch, &d);
        if (!declare) {
            /* add the Container Insights figures as plain members */
            s->scratch.len--; /* drop '}' */
            for (size_t k = 0; k < NFIG; k++) {
                buf_printf(&s->scratch, ",\"%s\":", m[k].name);
                emf_append_number(&s->scratch, m[k].value);
            }
            buf_append_char(&s->scratch, '}');
        }
        mframe_add_log(fr, s->scratch.data, s->scratch.len);
    }
}

static void sample(struct cs_state *s, struct mframe *fr)
{
    int64_t now = fr->timestamp_ms;
    int64_t mono = mono_ns();
    s->samples++;
    if (read_system(s) != 0 && !s->conf->use_docker_api) {
        snprintf(s->last_error, sizeof s->last_error, "cannot read %s/stat", s->conf->common.proc_root);
        return;
    }
    if (cc_refresh(&s->cc) < 0) {
        s->docker_errors++;
        snprintf(s->last_error, sizeof s->last_error, "Docker API at %s: %s",
                 s->conf->common.docker_socket, s->cc.err);
        return;
    }
    ecs_maybe_refresh(s, now);
    resolve_cluster(s);
    if (s->agg_cap < s->cc.n) {
        s->agg_cap = s->cc.n * 2;
        s->agg = xrealloc(s->agg, (size_t)s->agg_cap * sizeof *s->agg);
    }
    s->nagg = 0;
    for (int i = 0; i < s->cc.n; i++) {
        struct cc_entry *e = &s->cc.e[i];
        struct cg_stats st;
        struct net_counters net;
        uint64_t sys_ns;
        if (read_container(s, e, &st, &net, &sys_ns) != 0) {
            /* gone, restarted (new pid) or not resolvable yet: forget the entry, so
             * the next interval inspects the container afresh */
            s->cgroup_errors++;
            e->c.id[0] = '\0';
            continue;
        }
        if (e->c.task_arn[0])
            ecs_want_task(s, e->c.task_arn, now);
        if (e->has_prev) {
            struct agg_container *a = &s->agg[s->nagg++];
            fill_identity(s, e, a);
            uint64_t dsys = sys_ns >= e->prev_sys_ns ? sys_ns - e->prev_sys_ns : 0;
            cs_derive(e, &st, &net, mono - e->prev_mono_ns, dsys, s->online_cpus, s->host_mem,
                      a);
        }
        e->has_prev = 1;
        e->prev_mono_ns = mono;
        e->prev_cpu_ns = st.cpu_usage_ns;
        e->prev_sys_ns = sys_ns;
        e->prev_net = net;
        e->prev_read_bytes = st.blk_read_bytes;
        e->prev_write_bytes = st.blk_write_bytes;
    }
    s->containers = (uint64_t)s->cc.n;
    agg_build(s->agg, s->nagg, &s->out);
    snprintf(fr->cluster, sizeof fr->cluster, "%s", s->cluster);
    snprintf(fr->container_instance_id, sizeof fr->container_instance_id, "%s", s->ci_id);
    snprintf(fr->instance_id, sizeof fr->instance_id, "%s", s->conf->common.instance_id);
    if (s->nagg == 0 && s->cc.n > 0)
        return; /* first sample of everything: counters primed, nothing to report yet */
    if (s->conf->common.metrics)
        frame_metrics(s, fr);
    if (s->conf->common.emf)
        frame_emf(s, fr);
}

static void cs_sample(struct sample_source *src, struct mframe *f)
{
    struct cs_state *s = (struct cs_state *)src;
    sample(s, f);
    f->errors = s->docker_errors + s->cgroup_errors + s->ecs_errors;
    snprintf(f->error, sizeof f->error, "%s", s->last_error);
    f->containers = s->containers;
    f->samples = s->samples;
}

static const struct sample_source_ops cs_ops = {.sample = cs_sample, .free = cs_free};
