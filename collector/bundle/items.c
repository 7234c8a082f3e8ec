/* The item table. Paths are those of ecs-logs-collector (anchors.md §3.3)
 * so that people who know its layout find things where they were. */
#include "collector/bundle/items.h"
#include "collector/bundle/proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define A(...)                                                                                     \
    {                                                                                              \
        __VA_ARGS__, NULL                                                                          \
    }

const struct item bundle_items[] = {
    /* common OS logs */
    {"journal", "system.log", .argv = A("journalctl", "--no-pager"), .flags = WINDOW},
    {"syslog", "var_log/syslog", .file = "/var/log/syslog", .flags = OPTIONAL},
    {"messages", "var_log/messages", .file = "/var/log/messages", .flags = OPTIONAL},
    /* kernel */
    {"dmesg-boot", "kernel/dmesg.boot", .file = "/var/log/dmesg", .flags = OPTIONAL},
    {"dmesg", "kernel/dmesg.current", .argv = A("dmesg")},
    {"dmesg-human", "kernel/dmesg.human.current", .argv = A("dmesg", "--ctime")},
    /* mounts, LVM, SELinux, iptables, packages */
    {"mounts", "mounts.txt", .argv = A("sh", "-c", "mount; echo; df -h")},
    {"lvdisplay", "lvdisplay.txt", .argv = A("lvdisplay"), .requires = "lvdisplay",
     .flags = OPTIONAL},
    {"vgdisplay", "vgdisplay.txt", .argv = A("vgdisplay"), .requires = "lvdisplay",
     .flags = OPTIONAL},
    {"pvdisplay", "pvdisplay.txt", .argv = A("pvdisplay"), .requires = "lvdisplay",
     .flags = OPTIONAL},
    {"selinux", "selinux.txt", .argv = A("getenforce"), .flags = OPTIONAL},
    {"iptables-filter", "iptables-filter.txt", .argv = A("iptables", "-nvL", "-t", "filter")},
    {"iptables-nat", "iptables-nat.txt", .argv = A("iptables", "-nvL", "-t", "nat")},
    {"packages", "pkglist.txt", .argv = A("rpm", "-qa"), .alt = A("dpkg", "--list")},
    /* services and processes */
    {"services", "services.txt", .argv = A("systemctl", "list-units", "--no-pager"),
     .flags = IF_SYSTEMD | NO_ROW_WHEN_OFF},
    {"services", "services.txt", .argv = A("service", "--status-all"),
     .flags = IF_NOT_SYSTEMD | NO_ROW_WHEN_OFF},
    {"top", "top.txt", .argv = A("top", "-b", "-n", "1")},
    {"ps", "ps.txt", .argv = A("ps", "fauxwww")},
    {"netstat", "netstat.txt", .argv = A("netstat", "-plant"), .alt = A("ss", "-plant")},
    /* Docker: daemon, containers (docker.c) */
    {"docker", NULL, .fn = collect_docker},
    {"docker-log", "docker_log/docker", .argv = A("journalctl", "-u", "docker", "--no-pager"),
     .flags = IF_SYSTEMD | WINDOW | NO_ROW_WHEN_OFF},
    {"docker-log", "docker_log/docker", .file = "/var/log/docker",
     .flags = IF_NOT_SYSTEMD | NO_ROW_WHEN_OFF | OPTIONAL},
    {"docker-log-upstart", "docker_log/upstart-docker", .file = "/var/log/upstart/docker",
     .flags = IF_NOT_SYSTEMD | NO_ROW_WHEN_OFF | OPTIONAL},
    {"containerd-log", "containerd.log", .argv = A("journalctl", "-u", "containerd", "--no-pager"),
     .flags = IF_SYSTEMD | WINDOW},
    {"docker-unit", "docker/docker.service", .argv = A("systemctl", "cat", "docker.service"),
     .flags = IF_SYSTEMD},
    {"containerd-unit", "docker/containerd.service",
     .argv = A("systemctl", "cat", "containerd.service"), .flags = IF_SYSTEMD},
    {"sysconfig-docker", "docker/sysconfig-docker", .file = "/etc/sysconfig/docker",
     .flags = OPTIONAL},
    {"sysconfig-docker-storage", "docker/sysconfig-docker-storage",
     .file = "/etc/sysconfig/docker-storage", .flags = OPTIONAL},
    {"daemon-json", "docker/daemon.json", .file = "/etc/docker/daemon.json", .flags = OPTIONAL},
    /* ECS agent (ecs.c) */
    {"ecs-logs", "ecs_agent_logs", .fn = collect_ecs_logs},
    {"ecs-state", "ecs-agent/ecs_agent_data.txt", .fn = collect_ecs_state},
    {"ecs-config", "ecs-agent/ecs.config", .file = "/etc/ecs/ecs.config",
     .redact = REDACT_ECS_CONFIG},
    {"ecs-introspection", NULL, .fn = collect_ecs_introspection},
    /* open files, OS identity */
    {"open-files", NULL, .fn = collect_open_files},
    {"os-release", "os-release", .file = "/etc/os-release"},
    {"uname", "uname.txt", .argv = A("uname", "-a")},
    {"dmidecode", "dmidecode.txt", .argv = A("dmidecode"), .flags = OPTIONAL},
    {"lsmod", "lsmod.txt", .argv = A("lsmod"), .flags = OPTIONAL},
    /* cgroups, slices */
    {"cgroupv2-events", "cgroupv2.events", .fn = collect_cgroup_events},
    {"system-slice", "system.slice", .argv = A("systemctl", "status", "system.slice", "--no-pager"),
     .flags = IF_SYSTEMD},
    {"ecstasks-slice", "ecstasks.slice",
     .argv = A("systemctl", "status", "ecstasks.slice", "--no-pager"),
     .flags = IF_SYSTEMD | OPTIONAL},
    /* network */
    {"brctl", "brctlshow.txt", .argv = A("brctl", "show"), .flags = OPTIONAL},
    {"ip-addr", "ipaddrshow.txt", .argv = A("ip", "addr", "show")},
    {"ip-route", "iproute.txt", .argv = A("ip", "route", "show", "table", "all")},
    {"bridges", "bridges.txt", .argv = A("ip", "-d", "link", "show", "type", "bridge")},
    /* GPU */
    {"gpu-list", "gpu/gpu-list.txt", .argv = A("nvidia-smi", "-L"), .flags = OPTIONAL},
    {"gpu-info", "gpu/gpu-info.txt", .argv = A("nvidia-smi", "-q"), .flags = OPTIONAL},
    {"gpu-open-module", "gpu/gpu-open-module.txt",
     .argv = A("ls", "/var/lib/dkms-archive/nvidia-open"), .requires = "nvidia-smi",
     .flags = OPTIONAL},
    {"gpu-kmod", "gpu/gpu-installed-kmod.txt", .argv = A("modinfo", "nvidia"),
     .requires = "nvidia-smi", .flags = OPTIONAL},
    /* beyond the reference: pressure, limits, time, the agent itself */
    {"meminfo", "proc/meminfo", .file = "/proc/meminfo"},
    {"limits", "limits.txt", .fn = collect_limits},
    {"timesync", "timesync.txt", .fn = collect_timesync},
    {"chrony", "chrony-tracking.txt", .argv = A("chronyc", "tracking"), .flags = OPTIONAL,
     .timeout_s = 5},
    {"collector", NULL, .fn = collect_self},
    {NULL, NULL, .fn = NULL},
};

void collect_file_job(struct bundle *b, struct bundle_job *j)
{
    bundle_collect_file(b, j->id, j->path, j->out, j->redact, 0);
}

static int has_argv(const char *const *argv)
{
    return argv[0] != NULL;
}

/* journalctl window: --since when asked, else the newest lines that fit the item cap. */
static void add_window(struct bundle *b, struct bundle_job *j)
{
    int n = 0;
    while (j->argv[n])
        n++;
    j->argv = xrealloc(j->argv, (size_t)(n + 2) * sizeof *j->argv);
    if (b->o->since_ms) {
        time_t t = (time_t)((now_ms() - b->o->since_ms) / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        char when[64];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        j->argv[n] = xasprintf("--since=%s", when);
    } else {
        j->argv[n] = xasprintf("--lines=%llu", (unsigned long long)(b->o->item_max / 120 + 1));
    }
    j->argv[n + 1] = NULL;
}

static void skip_row(struct bundle *b, const struct item *it, const char *why)
{
    struct bundle_entry *e = bundle_entry_new(it->id, it->file ? it->file : "command", NULL);
    if (has_argv(it->argv)) {
        free(e->command);
        e->command = argv_join((char *const *)it->argv);
    }
    bundle_entry_fail(e, BUNDLE_ENTRY_SKIPPED, "%s", why);
    bundle_entry_add(b, e);
}

void items_queue(struct bundle *b)
{
    for (const struct item *it = bundle_items; it->id; it++) {
        int on = 1;
        if ((it->flags & IF_SYSTEMD) && !b->systemd)
            on = 0;
        if ((it->flags & IF_NOT_SYSTEMD) && b->systemd)
            on = 0;
        if (!on) {
            if (!(it->flags & NO_ROW_WHEN_OFF))
                skip_row(b, it,
                         b->systemd ? "not collected on a systemd host"
                                    : "not a systemd host (PID 1 is not systemd)");
            continue;
        }
        if (it->requires) {
            char *p = bundle_which(it->requires);
            if (!p) {
                char *why = xasprintf("not present: %s not found in PATH", it->requires);
                skip_row(b, it, why);
                free(why);
                continue;
            }
            free(p);
        }
        struct bundle_job *j =
            bundle_job_new(it->id, it->out, it->fn ? it->fn : bundle_job_command);
        j->redact = it->redact;
        j->timeout_ms = it->timeout_s * 1000;
        j->flags = it->flags;
        if (it->file) {
            j->fn = collect_file_job;
            j->path = xstrdup(it->file);
        } else if (has_argv(it->argv)) {
            const char *const *argv = it->argv;
            if (has_argv(it->alt)) {
                char *p = bundle_which(it->argv[0]);
                if (!p)
                    argv = it->alt;
                free(p);
            }
            bundle_job_set_argv(j, argv);
            if (it->flags & WINDOW)
                add_window(b, j);
        }
        bundle_push(b, j);
    }
}
