/* Cluster capacity arithmetic: see capacity.h. */
#include "collector/metrics/capacity.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int whole(const char *s, size_t n, double max, double *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end || v < 0 || (double)v > max)
        return -1;
    *out = (double)v;
    return 0;
}

int capacity_parse_size(const char *text, struct capacity_size *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *fields[3 + CAPACITY_MAX_PORTS + 1];
    size_t lens[3 + CAPACITY_MAX_PORTS + 1];
    int n = 0;
    const char *p = text;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (n == (int)(sizeof fields / sizeof fields[0])) {
            snprintf(err, errlen, "'%s': at most %d ports", text, CAPACITY_MAX_PORTS);
            return -1;
        }
        fields[n] = p;
        lens[n++] = len;
        if (!colon)
            break;
        p = colon + 1;
    }
    if (n < 3 || lens[0] == 0 || lens[0] >= sizeof out->name) {
        snprintf(err, errlen, "'%s': expected NAME:CPU_UNITS:MEMORY_MIB[:PORT...]", text);
        return -1;
    }
    memcpy(out->name, fields[0], lens[0]);
    if (whole(fields[1], lens[1], 1024.0 * 1024, &out->cpu_units) < 0 ||
        whole(fields[2], lens[2], 1024.0 * 1024 * 1024, &out->mem_mib) < 0) {
        snprintf(err, errlen, "'%s': CPU units and MiB must be whole numbers", text);
        return -1;
    }
    if (out->cpu_units == 0 && out->mem_mib == 0) {
        snprintf(err, errlen, "'%s': a task size needs CPU units or memory", text);
        return -1;
    }
    for (int i = 3; i < n; i++) {
        double port;
        if (whole(fields[i], lens[i], 65535, &port) < 0 || port == 0) {
            snprintf(err, errlen, "'%s': a port is a number from 1 to 65535", text);
            return -1;
        }
        out->ports[out->nports++] = (int)port;
    }
    return 0;
}

double capacity_free_cpu(const struct capacity_host *h)
{
    double v = h->cpu_registered - h->cpu_reserved;
    return v > 0 ? v : 0;
}

double capacity_free_mem_mib(const struct capacity_host *h)
{
    double v = h->mem_registered_mib - h->mem_reserved_mib;
    return v > 0 ? v : 0;
}

int64_t capacity_schedulable(const struct capacity_host *h, const struct capacity_size *z)
{
    double fit = INFINITY;
    if (z->cpu_units > 0)
        fit = floor(capacity_free_cpu(h) / z->cpu_units);
    if (z->mem_mib > 0)
        fit = fmin(fit, floor(capacity_free_mem_mib(h) / z->mem_mib));
    if (!isfinite(fit))
        return 0;
    for (int i = 0; i < z->nports; i++)
        for (int k = 0; k < h->nports_used; k++)
            if (z->ports[i] == h->ports_used[k])
                return 0;
    if (z->nports && fit > 1)
        fit = 1; /* a static host port: one such task per host */
    return (int64_t)fit;
}

double capacity_threshold_percent(const struct capacity_host *h, const struct capacity_size *z)
{
    double t = 100.0;
    if (z->cpu_units > 0 && h->cpu_registered > 0)
        t = fmin(t, (1.0 - z->cpu_units / h->cpu_registered) * 100.0);
    if (z->mem_mib > 0 && h->mem_registered_mib > 0)
        t = fmin(t, (1.0 - z->mem_mib / h->mem_registered_mib) * 100.0);
    return t > 0 ? t : 0;
}

int capacity_reserved_memory(const char *text, size_t len, int64_t *mib)
{
    static const char key[] = "ECS_RESERVED_MEMORY=";
    *mib = 0;
    const char *end = text + len;
    for (const char *line = text; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *stop = nl ? nl : end;
        while (line < stop && (*line == ' ' || *line == '\t'))
            line++;
        if ((size_t)(stop - line) >= sizeof key - 1 && memcmp(line, key, sizeof key - 1) == 0) {
            const char *v = line + sizeof key - 1;
            size_t n = (size_t)(stop - v);
            while (n && (v[n - 1] == '\r' || v[n - 1] == ' '))
                n--;
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v++;
                n -= 2;
            }
            double d;
            if (whole(v, n, 1e12, &d) < 0)
                return -1;
            *mib = (int64_t)d;
        }
        line = stop + 1;
    }
    return 0;
}
