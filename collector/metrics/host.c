/* Host procfs parsers: see host.h. */
#include "collector/metrics/host.h"

#include "collector/metrics/cgroup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512ull
#define MAX_DISKS 256

int host_parse_cpu(const char *text, struct host_cpu *c)
{
    memset(c, 0, sizeof *c);
    int found = 0;
    for (const char *p = text; p && *p;) {
        if (strncmp(p, "cpu ", 4) == 0) {
            unsigned long long v[8] = {0};
            sscanf(p + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
            c->user = v[0];
            c->nice = v[1];
            c->system = v[2];
            c->idle = v[3];
            c->iowait = v[4];
            c->irq = v[5];
            c->softirq = v[6];
            c->steal = v[7];
            found = 1;
        } else if (strncmp(p, "cpu", 3) == 0 && p[3] >= '0' && p[3] <= '9') {
            c->ncpu++;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return found ? 0 : -1;
}

static double d(uint64_t a, uint64_t b)
{
    return b > a ? (double)(b - a) : 0.0;
}

void host_cpu_percent(const struct host_cpu *p, const struct host_cpu *c, struct host_cpu_pct *o)
{
    double user = d(p->user, c->user) + d(p->nice, c->nice);
    double sys = d(p->system, c->system) + d(p->irq, c->irq) + d(p->softirq, c->softirq);
    double iow = d(p->iowait, c->iowait), steal = d(p->steal, c->steal);
    double idle = d(p->idle, c->idle);
    double total = user + sys + iow + steal + idle;
    memset(o, 0, sizeof *o);
    if (total <= 0)
        return;
    o->user = user / total * 100.0;
    o->system = sys / total * 100.0;
    o->iowait = iow / total * 100.0;
    o->steal = steal / total * 100.0;
    o->idle = idle / total * 100.0;
    o->busy = 100.0 - o->idle - o->iowait;
    if (o->busy < 0)
        o->busy = 0;
}

int host_parse_meminfo(const char *text, struct host_mem *m)
{
    memset(m, 0, sizeof *m);
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"MemTotal:", offsetof(struct host_mem, total)},
        {"MemFree:", offsetof(struct host_mem, free)},
        {"MemAvailable:", offsetof(struct host_mem, available)},
        {"Buffers:", offsetof(struct host_mem, buffers)},
        {"Cached:", offsetof(struct host_mem, cached)},
        {"SwapTotal:", offsetof(struct host_mem, swap_total)},
        {"SwapFree:", offsetof(struct host_mem, swap_free)},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        uint64_t kb;
        if (cg_kv_get(text, keys[i].key, &kb) == 0) {
            *(uint64_t *)((char *)m + keys[i].off) = kb * 1024;
            found++;
        }
    }
    if (!m->available)
        m->available = m->free + m->buffers + m->cached;
    return m->total ? 0 : -1;
}

int host_parse_loadavg(const char *text, double load[3])
{
    return sscanf(text, "%lf %lf %lf", &load[0], &load[1], &load[2]) == 3 ? 0 : -1;
}

/* name = disk + digits, or disk + 'p' + digits (nvme0n1p1, mmcblk0p1). */
static int is_partition_of(const char *name, const char *disk)
{
    size_t n = strlen(disk);
    if (strncmp(name, disk, n) != 0 || !name[n])
        return 0;
    const char *p = name + n;
    if (*p == 'p')
        p++;
    if (!*p)
        return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

int host_parse_diskstats(const char *text, void (*fn)(const struct host_disk *d, void *arg),
                         void *arg)
{
    char seen[MAX_DISKS][32];
    int nseen = 0, n = 0;
    for (const char *p = text; p && *p;) {
        struct host_disk dk;
        unsigned maj, min;
        unsigned long long v[11];
        memset(&dk, 0, sizeof dk);
        if (sscanf(p, "%u %u %31s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &maj,
                   &min, dk.name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
                   &v[9], &v[10]) == 14) {
            int skip = strncmp(dk.name, "loop", 4) == 0 || strncmp(dk.name, "ram", 3) == 0 ||
                       strncmp(dk.name, "zram", 4) == 0;
            for (int i = 0; i < nseen && !skip; i++)
                skip = is_partition_of(dk.name, seen[i]);
            if (!skip) {
                if (nseen < MAX_DISKS)
                    memcpy(seen[nseen++], dk.name, sizeof dk.name);
                dk.reads = v[0];
                dk.read_bytes = v[2] * SECTOR;
                dk.writes = v[4];
                dk.write_bytes = v[6] * SECTOR;
                dk.io_ms = v[9];
                if (fn)
                    fn(&dk, arg);
                n++;
            }
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}

static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

int host_parse_mounts(const char *text,
                      void (*fn)(const char *dev, const char *dir, const char *type, void *arg),
                      void *arg)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        char dev[512], dir[1024], type[64];
        if (sscanf(p, "%511s %1023s %63s", dev, dir, type) == 3) {
            unescape(dir);
            fn(dev, dir, type, arg);
            n++;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}
