/* What a bundle collects: one declarative table, in the order of the
 * reference's collect_brief (anchors.md §3.3), plus what we add (bundle.md).
 * A row is a command (argv, run through PATH, alt when the first is absent),
 * a host file (under --root), or a function for what needs code. */
#ifndef COLLECTOR_BUNDLE_ITEMS_H
#define COLLECTOR_BUNDLE_ITEMS_H

#include "collector/bundle/job.h"

enum item_flags {
    IF_SYSTEMD = 1 << 0,      /* only when PID 1 is systemd */
    IF_NOT_SYSTEMD = 1 << 1,  /* only when it is not */
    NO_ROW_WHEN_OFF = 1 << 2, /* a sibling row writes the same path: no "skipped" row */
    WINDOW = 1 << 3,          /* journalctl: --since, else newest lines only */
    OPTIONAL = 1 << 4,        /* absent is normal (not counted as a problem) */
};

struct item {
    const char *id;
    const char *out;
    const char *argv[8];
    const char *alt[8];
    const char *file;
    bundle_job_fn fn;
    const char *requires; /* an executable that must be present, else skipped */
    enum redact_mode redact;
    unsigned flags;
    int timeout_s;
};

extern const struct item bundle_items[];

/* Queue a job for every item that applies to this host. */
void items_queue(struct bundle *b);

/* Function items (collect.c, docker.c, ecs.c, self.c). */
void collect_open_files(struct bundle *b, struct bundle_job *j);
void collect_cgroup_events(struct bundle *b, struct bundle_job *j);
void collect_limits(struct bundle *b, struct bundle_job *j);
void collect_timesync(struct bundle *b, struct bundle_job *j);
void collect_docker(struct bundle *b, struct bundle_job *j);
void collect_ecs_logs(struct bundle *b, struct bundle_job *j);
void collect_ecs_state(struct bundle *b, struct bundle_job *j);
void collect_ecs_introspection(struct bundle *b, struct bundle_job *j);
void collect_self(struct bundle *b, struct bundle_job *j);
void collect_file_job(struct bundle *b, struct bundle_job *j);

#endif
