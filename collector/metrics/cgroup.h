/* Per-container cgroup figures, read straight from the cgroup filesystem.
 *
 * Where a container's cgroup is comes from its main process:
 * /proc/<pid>/cgroup names the cgroup of every v1 controller (or the one v2
 * path), whatever the driver (cgroupfs `/docker/<id>`, systemd
 * `/system.slice/docker-<id>.scope`, ECS `/ecs/<task>/<id>`). The path is
 * looked up under the configured root (default /sys/fs/cgroup); when the
 * agent sees a bind-mounted sub-hierarchy, leading components are stripped
 * until the directory exists.
 *
 * The parsers are pure functions over text (unit-tested on fixture files);
 * cg_read() is the thin I/O shell that reads the files with one reused
 * buffer, so a sample allocates nothing. */
#ifndef COLLECTOR_METRICS_CGROUP_H
#define COLLECTOR_METRICS_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define CG_PATH_MAX 512

enum cg_ctrl { CG_MEMORY = 0, CG_CPUACCT, CG_CPU, CG_BLKIO, CG_PIDS, CG_CTRL_COUNT };

/* Where a process's cgroups are, relative to each hierarchy's root. */
struct cg_paths {
    int version;                          /* 1 or 2; 0 = unknown */
    char v2[CG_PATH_MAX];                 /* the "0::" path */
    char v1[CG_CTRL_COUNT][CG_PATH_MAX];  /* per v1 controller ("" = not mounted) */
};

/* Counters and gauges of one cgroup, as Docker names them. */
struct cg_stats {
    int version;
    uint64_t cpu_usage_ns, cpu_user_ns, cpu_system_ns;
    uint64_t nr_periods, nr_throttled, throttled_ns;
    uint64_t mem_usage, mem_limit, mem_cache, mem_rss;
    uint64_t mem_total_inactive_file; /* v1 memory.stat total_inactive_file */
    int has_total_inactive_file;
    uint64_t mem_inactive_file;       /* memory.stat inactive_file (0 when absent) */
    uint64_t oom_events;          /* v2 memory.events oom; v1 memory.oom_control oom_kill */
    uint64_t mem_failcnt;
    uint64_t blk_read_bytes, blk_write_bytes, blk_read_ops, blk_write_ops;
    uint64_t pids_current, pids_max;
    /* reservations as the kernel has them */
    uint64_t cpu_shares;          /* v1 cpu.shares; v2 cpu.weight converted back to shares */
    int64_t cpu_quota_us;         /* -1 = unlimited */
    uint64_t cpu_period_us;
    uint64_t mem_reservation;     /* v1 memory.soft_limit_in_bytes; v2 memory.low */
};

/* Parse the text of /proc/<pid>/cgroup. 0, or -1 if nothing usable. The
 * version is 1 when a v1 memory or cpuacct controller is listed, else 2. */
int cg_parse_proc_cgroup(const char *text, struct cg_paths *out);

/* Pure parsers (text = the whole file, NUL-terminated). */
/* "key value" lines (memory.stat, cpu.stat, memory.events): value of key, or
 * -1 when absent. */
int cg_kv_get(const char *text, const char *key, uint64_t *value);
/* A single number; "max" (v2) is UINT64_MAX. 0 or -1. */
int cg_parse_u64(const char *text, uint64_t *value);
/* v1 blkio.*io_service*_recursive: sums "MAJ:MIN Read N" / "Write N" lines. */
void cg_parse_blkio_v1(const char *text, uint64_t *read, uint64_t *write);
/* v2 io.stat: sums rbytes=, wbytes=, rios=, wios= over devices. */
void cg_parse_io_stat_v2(const char *text, uint64_t *rbytes, uint64_t *wbytes, uint64_t *rios,
                         uint64_t *wios);
/* v2 cpu.max "QUOTA PERIOD" ("max" = -1). */
void cg_parse_cpu_max(const char *text, int64_t *quota_us, uint64_t *period_us);
/* cpu.weight (1..10000) to Docker shares (2..262144), the inverse of runc's
 * conversion weight = 1 + ((shares - 2) * 9999) / 262142. */
uint64_t cg_weight_to_shares(uint64_t weight);

/* A reader with its own reusable file buffer. */
struct cg_reader {
    const char *root;      /* "/sys/fs/cgroup" */
    char *buf;
    size_t cap;
};

void cg_reader_init(struct cg_reader *r, const char *root);
void cg_reader_free(struct cg_reader *r);

/* Read a whole small file into r->buf (NUL-terminated). Length or -1. */
long cg_read_file(struct cg_reader *r, const char *path);

/* Resolve paths (relative to the hierarchy roots) to directories under the
 * reader's root: dirs[c] for v1 controllers, dirs[0] for v2. container_id,
 * when given, is used for the conventional locations if the path from
 * /proc is not found. Returns 0 when the memory (v1) or unified (v2)
 * directory exists. */
int cg_resolve(struct cg_reader *r, const struct cg_paths *p, const char *container_id,
               char dirs[CG_CTRL_COUNT][CG_PATH_MAX * 2]);

/* Read every figure (missing files leave zeros). 0, or -1 when the memory
 * / unified directory is gone (the container exited). */
int cg_read(struct cg_reader *r, int version, char *const dirs[CG_CTRL_COUNT],
            struct cg_stats *out);

#endif
