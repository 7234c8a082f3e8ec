/* cgroup v1 / v2 readers: see cgroup.h. */
#include "collector/metrics/cgroup.h"

#include "collector/core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define NS_PER_USEC 1000ull
#define NS_PER_TICK 10000000ull /* USER_HZ = 100 */

static const char *const ctrl_names[CG_CTRL_COUNT] = {"memory", "cpuacct", "cpu", "blkio", "pids"};

/* ----------------------------------------------------------- pure parsers */

/* Does the comma-separated list contain name? */
static int list_has(const char *list, size_t len, const char *name)
{
    size_t n = strlen(name);
    const char *p = list, *end = list + len;
    while (p < end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        size_t l = c ? (size_t)(c - p) : (size_t)(end - p);
        if (l == n && memcmp(p, name, n) == 0)
            return 1;
        if (!c)
            break;
        p = c + 1;
    }
    return 0;
}

static void copy_path(char *dst, const char *src, size_t len)
{
    if (len >= CG_PATH_MAX)
        len = CG_PATH_MAX - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

int cg_parse_proc_cgroup(const char *text, struct cg_paths *out)
{
    memset(out, 0, sizeof *out);
    int have_v2 = 0, have_v1 = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (c2) {
            const char *ctrls = c1 + 1;
            size_t clen = (size_t)(c2 - ctrls);
            const char *path = c2 + 1;
            size_t plen = len - (size_t)(path - line);
            if (clen == 0 && c1 - line == 1 && line[0] == '0') {
                copy_path(out->v2, path, plen);
                have_v2 = 1;
            } else {
                for (int i = 0; i < CG_CTRL_COUNT; i++) {
                    if (list_has(ctrls, clen, ctrl_names[i])) {
                        copy_path(out->v1[i], path, plen);
                        have_v1 = 1;
                    }
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (out->v1[CG_MEMORY][0] || out->v1[CG_CPUACCT][0])
        out->version = 1;
    else if (have_v2)
        out->version = 2;
    else
        return -1;
    (void)have_v1;
    return 0;
}

int cg_kv_get(const char *text, const char *key, uint64_t *value)
{
    size_t n = strlen(key);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, key, n) == 0 && (p[n] == ' ' || p[n] == '\t')) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(p + n + 1, &end, 10);
            if (errno || end == p + n + 1)
                return -1;
            *value = v;
            return 0;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

int cg_parse_u64(const char *text, uint64_t *value)
{
    while (*text == ' ' || *text == '\t')
        text++;
    if (strncmp(text, "max", 3) == 0) {
        *value = UINT64_MAX;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text)
        return -1;
    *value = v;
    return 0;
}

void cg_parse_blkio_v1(const char *text, uint64_t *read, uint64_t *write)
{
    *read = *write = 0;
    char op[16];
    unsigned long long v;
    unsigned maj, min;
    for (const char *p = text; p && *p;) {
        if (sscanf(p, "%u:%u %15s %llu", &maj, &min, op, &v) == 4) {
            if (strcasecmp(op, "read") == 0)
                *read += v;
            else if (strcasecmp(op, "write") == 0)
                *write += v;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
}

static uint64_t field_after(const char *line, size_t len, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = line; p + n <= line + len; p++) {
        if ((p == line || p[-1] == ' ') && memcmp(p, key, n) == 0)
            return strtoull(p + n, NULL, 10);
    }
    return 0;
}

void cg_parse_io_stat_v2(const char *text, uint64_t *rbytes, uint64_t *wbytes, uint64_t *rios,
                         uint64_t *wios)
{
    *rbytes = *wbytes = *rios = *wios = 0;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        *rbytes += field_after(p, len, "rbytes=");
        *wbytes += field_after(p, len, "wbytes=");
        *rios += field_after(p, len, "rios=");
        *wios += field_after(p, len, "wios=");
        p = nl ? nl + 1 : NULL;
    }
}

void cg_parse_cpu_max(const char *text, int64_t *quota_us, uint64_t *period_us)
{
    *quota_us = -1;
    *period_us = 100000;
    while (*text == ' ')
        text++;
    char *end;
    if (strncmp(text, "max", 3) == 0) {
        end = (char *)text + 3;
    } else {
        long long q = strtoll(text, &end, 10);
        if (end == text)
            return;
        *quota_us = q;
    }
    unsigned long long per = strtoull(end, &end, 10);
    if (per)
        *period_us = per;
}

uint64_t cg_weight_to_shares(uint64_t weight)
{
    if (weight == 0)
        return 0;
    /* inverse of weight = 1 + ((shares - 2) * 9999) / 262142, rounded up */
    uint64_t shares = 2 + ((weight - 1) * 262142 + 9998) / 9999;
    return shares;
}

/* ---------------------------------------------------------------- reading */

void cg_reader_init(struct cg_reader *r, const char *root)
{
    r->root = root;
    r->cap = 8192;
    r->buf = xmalloc(r->cap);
}

void cg_reader_free(struct cg_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

long cg_read_file(struct cg_reader *r, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        if (len + 1 >= r->cap) {
            r->cap *= 2;
            r->buf = xrealloc(r->buf, r->cap);
        }
        ssize_t n = read(fd, r->buf + len, r->cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            if (n < 0)
                return -1;
            break;
        }
        len += (size_t)n;
    }
    r->buf[len] = '\0';
    return (long)len;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* root[/ctrl]/path, stripping leading components of path until it exists. */
static int resolve_one(const char *root, const char *ctrl, const char *path, const char *id,
                       char *dst, size_t dstlen)
{
    const char *p = path;
    const char *sep = ctrl ? "/" : "";
    for (;;) {
        snprintf(dst, dstlen, "%s%s%s%s", root, sep, ctrl ? ctrl : "", p);
        if (*p && is_dir(dst))
            return 0;
        const char *next = strchr(p + 1, '/');
        if (!next || !*p)
            break;
        p = next;
    }
    if (id && *id) {
        static const char *const conv[] = {"/docker/%s", "/system.slice/docker-%s.scope"};
        for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
            char rel[CG_PATH_MAX];
            snprintf(rel, sizeof rel, conv[i], id);
            snprintf(dst, dstlen, "%s%s%s%s", root, sep, ctrl ? ctrl : "", rel);
            if (is_dir(dst))
                return 0;
        }
    }
    dst[0] = '\0';
    return -1;
}

int cg_resolve(struct cg_reader *r, const struct cg_paths *p, const char *container_id,
               char dirs[CG_CTRL_COUNT][CG_PATH_MAX * 2])
{
    for (int i = 0; i < CG_CTRL_COUNT; i++)
        dirs[i][0] = '\0';
    if (p->version == 2)
        return resolve_one(r->root, NULL, p->v2, container_id, dirs[0], CG_PATH_MAX * 2);
    int rc = -1;
    for (int i = 0; i < CG_CTRL_COUNT; i++) {
        if (!p->v1[i][0])
            continue;
        int ok = resolve_one(r->root, ctrl_names[i], p->v1[i], container_id, dirs[i],
                             CG_PATH_MAX * 2);
        if (i == CG_MEMORY)
            rc = ok;
    }
    return rc;
}

/* Read dir/name into r->buf; 0 or -1. */
static int readf(struct cg_reader *r, const char *dir, const char *name)
{
    if (!dir || !dir[0])
        return -1;
    char path[CG_PATH_MAX * 2 + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return cg_read_file(r, path) < 0 ? -1 : 0;
}

static uint64_t read_u64(struct cg_reader *r, const char *dir, const char *name, uint64_t dflt)
{
    uint64_t v;
    if (readf(r, dir, name) == 0 && cg_parse_u64(r->buf, &v) == 0)
        return v;
    return dflt;
}

static uint64_t kv(const char *text, const char *key)
{
    uint64_t v = 0;
    return cg_kv_get(text, key, &v) == 0 ? v : 0;
}

static int read_v1(struct cg_reader *r, char *const dirs[CG_CTRL_COUNT], struct cg_stats *s)
{
    const char *mem = dirs[CG_MEMORY];
    if (readf(r, mem, "memory.usage_in_bytes") != 0 || cg_parse_u64(r->buf, &s->mem_usage) != 0)
        return -1;
    s->mem_limit = read_u64(r, mem, "memory.limit_in_bytes", 0);
    s->mem_failcnt = read_u64(r, mem, "memory.failcnt", 0);
    s->mem_reservation = read_u64(r, mem, "memory.soft_limit_in_bytes", 0);
    if (readf(r, mem, "memory.stat") == 0) {
        s->mem_cache = kv(r->buf, "cache");
        s->mem_rss = kv(r->buf, "rss");
        s->mem_inactive_file = kv(r->buf, "inactive_file");
        s->has_total_inactive_file =
            cg_kv_get(r->buf, "total_inactive_file", &s->mem_total_inactive_file) == 0;
    }
    if (readf(r, mem, "memory.oom_control") == 0)
        s->oom_events = kv(r->buf, "oom_kill");

    const char *acct = dirs[CG_CPUACCT] && dirs[CG_CPUACCT][0] ? dirs[CG_CPUACCT] : dirs[CG_CPU];
    s->cpu_usage_ns = read_u64(r, acct, "cpuacct.usage", 0);
    if (readf(r, acct, "cpuacct.stat") == 0) {
        s->cpu_user_ns = kv(r->buf, "user") * NS_PER_TICK;
        s->cpu_system_ns = kv(r->buf, "system") * NS_PER_TICK;
    }
    const char *cpu = dirs[CG_CPU] && dirs[CG_CPU][0] ? dirs[CG_CPU] : dirs[CG_CPUACCT];
    if (readf(r, cpu, "cpu.stat") == 0) {
        s->nr_periods = kv(r->buf, "nr_periods");
        s->nr_throttled = kv(r->buf, "nr_throttled");
        s->throttled_ns = kv(r->buf, "throttled_time");
    }
    s->cpu_shares = read_u64(r, cpu, "cpu.shares", 0);
    s->cpu_quota_us = -1;
    if (readf(r, cpu, "cpu.cfs_quota_us") == 0)
        s->cpu_quota_us = strtoll(r->buf, NULL, 10);
    s->cpu_period_us = read_u64(r, cpu, "cpu.cfs_period_us", 100000);

    const char *blk = dirs[CG_BLKIO];
    static const char *const bytes_files[] = {"blkio.io_service_bytes_recursive",
                                              "blkio.throttle.io_service_bytes_recursive",
                                              "blkio.throttle.io_service_bytes"};
    static const char *const ops_files[] = {"blkio.io_serviced_recursive",
                                            "blkio.throttle.io_serviced_recursive",
                                            "blkio.throttle.io_serviced"};
    for (size_t i = 0; i < 3; i++) {
        if (readf(r, blk, bytes_files[i]) == 0) {
            cg_parse_blkio_v1(r->buf, &s->blk_read_bytes, &s->blk_write_bytes);
            if (s->blk_read_bytes || s->blk_write_bytes)
                break;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        if (readf(r, blk, ops_files[i]) == 0) {
            cg_parse_blkio_v1(r->buf, &s->blk_read_ops, &s->blk_write_ops);
            if (s->blk_read_ops || s->blk_write_ops)
                break;
        }
    }
    s->pids_current = read_u64(r, dirs[CG_PIDS], "pids.current", 0);
    s->pids_max = read_u64(r, dirs[CG_PIDS], "pids.max", 0);
    return 0;
}

static int read_v2(struct cg_reader *r, const char *dir, struct cg_stats *s)
{
    if (readf(r, dir, "memory.current") != 0 || cg_parse_u64(r->buf, &s->mem_usage) != 0)
        return -1;
    s->mem_limit = read_u64(r, dir, "memory.max", UINT64_MAX);
    s->mem_reservation = read_u64(r, dir, "memory.low", 0);
    if (readf(r, dir, "memory.stat") == 0) {
        s->mem_cache = kv(r->buf, "file");
        s->mem_rss = kv(r->buf, "anon");
        s->mem_inactive_file = kv(r->buf, "inactive_file");
    }
    if (readf(r, dir, "memory.events") == 0) {
        s->oom_events = kv(r->buf, "oom_kill");
        s->mem_failcnt = kv(r->buf, "oom");
    }
    if (readf(r, dir, "cpu.stat") == 0) {
        s->cpu_usage_ns = kv(r->buf, "usage_usec") * NS_PER_USEC;
        s->cpu_user_ns = kv(r->buf, "user_usec") * NS_PER_USEC;
        s->cpu_system_ns = kv(r->buf, "system_usec") * NS_PER_USEC;
        s->nr_periods = kv(r->buf, "nr_periods");
        s->nr_throttled = kv(r->buf, "nr_throttled");
        s->throttled_ns = kv(r->buf, "throttled_usec") * NS_PER_USEC;
    }
    s->cpu_shares = cg_weight_to_shares(read_u64(r, dir, "cpu.weight", 0));
    s->cpu_quota_us = -1;
    s->cpu_period_us = 100000;
    if (readf(r, dir, "cpu.max") == 0)
        cg_parse_cpu_max(r->buf, &s->cpu_quota_us, &s->cpu_period_us);
    if (readf(r, dir, "io.stat") == 0)
        cg_parse_io_stat_v2(r->buf, &s->blk_read_bytes, &s->blk_write_bytes, &s->blk_read_ops,
                            &s->blk_write_ops);
    s->pids_current = read_u64(r, dir, "pids.current", 0);
    s->pids_max = read_u64(r, dir, "pids.max", 0);
    return 0;
}

int cg_read(struct cg_reader *r, int version, char *const dirs[CG_CTRL_COUNT],
            struct cg_stats *out)
{
    memset(out, 0, sizeof *out);
    out->version = version;
    return version == 2 ? read_v2(r, dirs[0], out) : read_v1(r, dirs, out);
}
