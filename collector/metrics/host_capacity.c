/* host_metrics' cluster capacity figures: see host_sample.h and
 * docs/metrics.md, "Capacity and cluster scaling". Sampler thread. */
#include "collector/docker/ecs_agent.h"
#include "collector/docker/local_http.h"
#include "collector/metrics/ci_names.h"
#include "collector/metrics/emf.h"
#include "collector/metrics/host_sample.h"

#include <stdio.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define PROBE_TIMEOUT_MS 1000
#define DIM_TASK_SIZE "TaskSize"

/* ECS_RESERVED_MEMORY of ecs.config; a file that is not there reserves 0. */
static double reserved_by_config(struct hs_state *s)
{
    const char *path = s->conf->ecs_config;
    FILE *fp = path && *path ? fopen(path, "re") : NULL;
    if (!fp)
        return 0;
    char text[65536];
    size_t n = fread(text, 1, sizeof text, fp);
    fclose(fp);
    int64_t mib = 0;
    if (capacity_reserved_memory(text, n, &mib) < 0) {
        s->errors++;
        snprintf(s->last_error, sizeof s->last_error,
                 "%s: ECS_RESERVED_MEMORY is not a whole number of MiB; counted as 0", path);
    }
    return (double)mib;
}

static double container_cpu(const struct docker_container *c)
{
    return c->cpu_shares > 0 ? (double)c->cpu_shares
           : c->nano_cpus > 0 ? (double)c->nano_cpus / 1e9 * 1024.0
                              : 0.0;
}

static double container_mem_mib(const struct docker_container *c)
{
    return (c->memory_reservation > 0 ? (double)c->memory_reservation
                                       : (double)(c->memory > 0 ? c->memory : 0)) / MIB;
}

/* The running ECS tasks' reservations (task Limits when the ECS agent
 * gives them, else the sum of the task's containers', as CpuReserved and
 * MemoryReserved count them), and the host ports every container binds. */
static void reserved_by_tasks(struct hs_state *s, struct capacity_host *h, int *ports, int cap)
{
    for (int i = 0; i < s->cc.n; i++) {
        const struct docker_container *c = &s->cc.e[i].c;
        for (int p = 0; p < c->nhost_ports && h->nports_used < cap; p++)
            ports[h->nports_used++] = c->host_ports[p];
        if (!c->task_arn[0])
            continue;
        int first = 1;
        for (int k = 0; k < i && first; k++)
            first = strcmp(s->cc.e[k].c.task_arn, c->task_arn) != 0;
        if (!first)
            continue; /* the task is counted at its first container */
        double cpu = 0, mem = 0;
        for (int k = i; k < s->cc.n; k++) {
            if (strcmp(s->cc.e[k].c.task_arn, c->task_arn) == 0) {
                cpu += container_cpu(&s->cc.e[k].c);
                mem += container_mem_mib(&s->cc.e[k].c);
            }
        }
        const struct ecs_task_info *t = ecs_find_task(&s->ecs, c->task_arn);
        h->cpu_reserved += t && t->cpu_units > 0 ? t->cpu_units : cpu;
        h->mem_reserved_mib += t && t->mem_mib > 0 ? t->mem_mib : mem;
    }
}

/* Does the ECS agent answer /v1/metadata and name its cluster? Its
 * version into version[]. */
static int probe_agent(struct hs_state *s, char *version, size_t cap)
{
    const char *base = s->conf->common.introspection_url;
    if (!s->ecs_http || !base || !*base)
        return 0;
    char url[512], err[256];
    snprintf(url, sizeof url, "%s/v1/metadata", base);
    struct local_http_req req = {.url = url, .timeout_ms = PROBE_TIMEOUT_MS};
    struct ecs_info info;
    memset(&info, 0, sizeof info);
    int ok = local_http_get(s->ecs_http, &req, &s->scratch, err, sizeof err) == 200 &&
             ecs_parse_metadata(s->scratch.data, s->scratch.len, &info) == 0 && info.cluster[0];
    snprintf(version, cap, "%s", ok ? info.agent_version : "");
    ecs_info_free(&info);
    return ok;
}

static void put(struct mframe *f, const char *name, const char *unit, double v, uint32_t *dims,
                const uint8_t *nd, int nsets)
{
    for (int i = 0; i < nsets; i++)
        mframe_add(f, name, unit, v, dims[i], nd[i]);
}

static void emf(struct hs_state *s, struct mframe *f, const struct emf_num *nums, int n,
                const struct emf_dimset *sets, const struct emf_str *strs, int nstrs)
{
    struct emf_num ts = {"Timestamp", NULL, (double)f->timestamp_ms};
    struct emf_doc d = {
        .timestamp_ms = f->timestamp_ms, .namespace_ = s->conf->common.emf_namespace,
        .storage_resolution = (int)s->conf->common.storage_resolution, .sets = sets, .nsets = 2,
        .metrics = nums, .nmetrics = n, .extra = &ts, .nextra = 1, .strs = strs, .nstrs = nstrs,
    };
    buf_reset(&s->scratch);
    emf_encode(&s->scratch, &d);
    mframe_add_log(f, s->scratch.data, s->scratch.len);
}

void host_capacity(struct hs_state *s, struct mframe *f, unsigned ncpu, uint64_t mem_total,
                   int tasks_known)
{
    const struct hs_conf *c = s->conf;
    if (!c->capacity)
        return;
    s->agent_connected = probe_agent(s, f->ecs_agent_version, sizeof f->ecs_agent_version);
    f->ecs_agent = s->agent_connected ? 1 : -1;
    int ports[256];
    struct capacity_host h = {
        .cpu_registered = (double)ncpu * 1024.0,
        .mem_registered_mib = (double)(mem_total / (1024 * 1024)) - reserved_by_config(s),
        .ports_used = ports,
    };
    if (h.mem_registered_mib < 0)
        h.mem_registered_mib = 0;
    reserved_by_tasks(s, &h, ports, (int)(sizeof ports / sizeof ports[0]));
    const char *instance = c->common.instance_id;
    /* EcsAgentConnected last: {ClusterName} alone would only count hosts */
    const struct emf_num all_nums[] = {
        {"RegisteredCpu", CI_UNIT_NONE, h.cpu_registered},
        {"RegisteredMemory", CI_UNIT_MB, h.mem_registered_mib},
        {"ReservedCpu", CI_UNIT_NONE, h.cpu_reserved},
        {"ReservedMemory", CI_UNIT_MB, h.mem_reserved_mib},
        {"FreeCpu", CI_UNIT_NONE, capacity_free_cpu(&h)},
        {"FreeMemory", CI_UNIT_MB, capacity_free_mem_mib(&h)},
        {"EcsAgentConnected", CI_UNIT_NONE, s->agent_connected},
    };
    /* without the Docker API the tasks' reservations are not known */
    const struct emf_num known_nums[] = {all_nums[0], all_nums[1], all_nums[6]};
    const struct emf_num *host_nums = tasks_known ? all_nums : known_nums;
    int nhost = tasks_known ? 7 : 3;
    if (c->common.metrics) {
        const char *n[] = {CI_DIM_CLUSTER, CI_DIM_INSTANCE}, *v[] = {s->cluster, instance};
        uint32_t dims[2];
        uint8_t nd[2];
        dims[0] = mframe_dims(f, n, v, 1, &nd[0]);
        dims[1] = mframe_dims(f, n, v, 2, &nd[1]);
        for (int i = 0; i < nhost - 1; i++)
            put(f, host_nums[i].name, host_nums[i].unit, host_nums[i].value, dims, nd, 2);
        put(f, "EcsAgentConnected", CI_UNIT_NONE, s->agent_connected, &dims[1], &nd[1], 1);
    }
    if (c->common.emf) {
        static const struct emf_dimset sets[] = {{{CI_DIM_CLUSTER}, 1},
                                                 {{CI_DIM_CLUSTER, CI_DIM_INSTANCE}, 2}};
        const struct emf_str strs[] = {{"Type", "InstanceCapacity"},
                                       {CI_DIM_CLUSTER, s->cluster},
                                       {CI_DIM_INSTANCE, instance}};
        emf(s, f, host_nums, nhost, sets, strs, 3);
    }
    for (int i = 0; i < c->nsizes && tasks_known; i++) {
        const struct capacity_size *z = &c->sizes[i];
        const struct emf_num nums[] = {
            {"SchedulableTasks", CI_UNIT_COUNT, (double)capacity_schedulable(&h, z)},
            {"ReservationThreshold", CI_UNIT_PERCENT, capacity_threshold_percent(&h, z)},
        };
        if (c->common.metrics) {
            const char *n[] = {CI_DIM_CLUSTER, DIM_TASK_SIZE, CI_DIM_INSTANCE};
            const char *v[] = {s->cluster, z->name, instance};
            const char *n3[] = {CI_DIM_CLUSTER, CI_DIM_INSTANCE, DIM_TASK_SIZE};
            const char *v3[] = {s->cluster, instance, z->name};
            uint32_t dims[2];
            uint8_t nd[2];
            dims[0] = mframe_dims(f, n, v, 2, &nd[0]);
            dims[1] = mframe_dims(f, n3, v3, 3, &nd[1]);
            for (int k = 0; k < 2; k++)
                put(f, nums[k].name, nums[k].unit, nums[k].value, dims, nd, 2);
        }
        if (c->common.emf) {
            static const struct emf_dimset sets[] = {
                {{CI_DIM_CLUSTER, DIM_TASK_SIZE}, 2},
                {{CI_DIM_CLUSTER, CI_DIM_INSTANCE, DIM_TASK_SIZE}, 3}};
            const struct emf_str strs[] = {{"Type", "TaskSizeCapacity"},
                                           {CI_DIM_CLUSTER, s->cluster},
                                           {CI_DIM_INSTANCE, instance},
                                           {DIM_TASK_SIZE, z->name}};
            emf(s, f, nums, 2, sets, strs, 4);
        }
    }
}
