/* Aggregation: see aggregate.h. */
#include "collector/metrics/aggregate.h"

#include "collector/core/util.h"

#include <stdlib.h>
#include <string.h>

void agg_out_init(struct agg_out *o)
{
    memset(o, 0, sizeof *o);
}

void agg_out_free(struct agg_out *o)
{
    free(o->tasks);
    free(o->services);
    free(o->families);
    memset(o, 0, sizeof *o);
}

void util_fig_add(struct util_fig *a, const struct util_fig *b)
{
    a->cpu_utilized += b->cpu_utilized;
    a->cpu_reserved += b->cpu_reserved;
    a->mem_utilized += b->mem_utilized;
    a->mem_reserved += b->mem_reserved;
    a->net_rx_bps += b->net_rx_bps;
    a->net_tx_bps += b->net_tx_bps;
    a->net_rx_pps += b->net_rx_pps;
    a->net_tx_pps += b->net_tx_pps;
    a->net_rx_errors += b->net_rx_errors;
    a->net_tx_errors += b->net_tx_errors;
    a->net_rx_dropped += b->net_rx_dropped;
    a->net_tx_dropped += b->net_tx_dropped;
    a->storage_read += b->storage_read;
    a->storage_write += b->storage_write;
    a->tasks += b->tasks;
    a->containers += b->containers;
}

static void *grow(void *arr, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return arr;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    *cap = nc;
    return xrealloc(arr, (size_t)nc * size);
}

static struct agg_group *group_get(struct agg_group **arr, int *n, int *cap, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*arr)[i].name, name) == 0)
            return &(*arr)[i];
    *arr = grow(*arr, cap, *n + 1, sizeof **arr);
    struct agg_group *g = &(*arr)[(*n)++];
    memset(g, 0, sizeof *g);
    g->name = name;
    return g;
}

void agg_build(const struct agg_container *c, int n, struct agg_out *o)
{
    o->ntasks = o->nservices = o->nfamilies = 0;
    memset(&o->cluster, 0, sizeof o->cluster);
    for (int i = 0; i < n; i++) {
        struct util_fig f = c[i].fig;
        f.containers = 1;
        f.tasks = 0;
        if (!c[i].task_arn[0]) {
            util_fig_add(&o->cluster, &f);
            continue;
        }
        struct agg_task *t = NULL;
        for (int k = 0; k < o->ntasks; k++)
            if (strcmp(o->tasks[k].first->task_arn, c[i].task_arn) == 0)
                t = &o->tasks[k];
        if (!t) {
            o->tasks = grow(o->tasks, &o->tasks_cap, o->ntasks + 1, sizeof *o->tasks);
            t = &o->tasks[o->ntasks++];
            memset(t, 0, sizeof *t);
            t->first = &c[i];
            t->fig.tasks = 1;
        }
        util_fig_add(&t->fig, &f);
    }
    for (int k = 0; k < o->ntasks; k++) {
        struct agg_task *t = &o->tasks[k];
        const struct agg_container *first = t->first;
        /* task-level limits win over the sum of container reservations */
        if (first->task_cpu_units > 0)
            t->fig.cpu_reserved = first->task_cpu_units;
        if (first->task_mem_mib > 0)
            t->fig.mem_reserved = first->task_mem_mib;
        util_fig_add(&o->cluster, &t->fig);
        if (first->service[0])
            util_fig_add(&group_get(&o->services, &o->nservices, &o->services_cap,
                                    first->service)->fig, &t->fig);
        if (first->family[0])
            util_fig_add(&group_get(&o->families, &o->nfamilies, &o->families_cap,
                                    first->family)->fig, &t->fig);
    }
}
