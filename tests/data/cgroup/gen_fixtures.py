"""Synthetic cgroup / procfs fixture trees for the metrics tests and benchmark.

    python3 tests/data/cgroup/gen_fixtures.py tests/data/cgroup   # the checked-in trees

Layouts (each DIR has proc/ and sys/fs/cgroup/ as the agent would see them):
  v1-cgroupfs   v1, cpu and cpuacct co-mounted (cpu,cpuacct + symlinks), /docker/<id>
  v1-systemd    v1, /system.slice/docker-<id>.scope
  v1-bindmount  v1, /proc/<pid>/cgroup names /outer/ns/docker/<id> but only
                /docker/<id> is mounted (a bind-mounted sub-hierarchy)
  v2-systemd    v2, /system.slice/docker-<id>.scope
  v2-cgroupfs   v2, /docker/<id>
  ecs-v1        v1, ECS task hierarchy /ecs/<task-id>/<id>, two containers of one task
  ecs-v2        v2, /ecstasks.slice/ecstasks-<task-id>.slice/docker-<id>.scope

The figures of container 0 (see EXPECTED) are what test_metrics_cgroup.c checks.
make_tree(root, layout, n) builds n containers (the benchmark uses n = 500).
"""
import os
import sys

MiB = 1024 * 1024
TASK_ID = "0123456789abcdef0123456789abcdef"

EXPECTED = {
    "usage": 100 * MiB, "limit": 256 * MiB, "cache": 20 * MiB, "rss": 70 * MiB,
    "inactive_file": 10 * MiB, "cpu_usage_ns": 5_000_000_000, "read": 5096, "write": 8192,
    "read_ops": 2, "write_ops": 2, "pids": 5, "oom": 2, "throttled": 7,
}


def cid(i):
    return f"{i:064x}"[-64:].replace("0", "c", 1) if i else "c" * 64


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def proc_files(root, pid, cg_text, i):
    write(f"{root}/proc/{pid}/cgroup", cg_text)
    write(f"{root}/proc/{pid}/net/dev",
          "Inter-|   Receive                                                |  Transmit\n"
          " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
          "errs drop fifo colls carrier compressed\n"
          "    lo:     100       1    0    0    0     0          0         0      100       1 "
          "   0    0    0     0       0          0\n"
          f"  eth0: {1000 + i}      10    1    2    0     0          0         0     {2000 + i}"
          "      20    3    4    0     0       0          0\n")


def v1_files(d, ctrl):
    e = EXPECTED
    if ctrl == "memory":
        write(f"{d}/memory.usage_in_bytes", f"{e['usage']}\n")
        write(f"{d}/memory.limit_in_bytes", f"{e['limit']}\n")
        write(f"{d}/memory.soft_limit_in_bytes", f"{128 * MiB}\n")
        write(f"{d}/memory.failcnt", "0\n")
        write(f"{d}/memory.oom_control", f"oom_kill_disable 0\nunder_oom 0\noom_kill {e['oom']}\n")
        write(f"{d}/memory.stat",
              f"cache {e['cache']}\nrss {e['rss']}\nrss_huge 0\nshmem 0\nmapped_file 0\n"
              f"inactive_anon 0\nactive_anon {e['rss']}\ninactive_file {e['inactive_file']}\n"
              f"active_file {e['cache'] - e['inactive_file']}\n"
              f"hierarchical_memory_limit {e['limit']}\ntotal_cache {e['cache']}\n"
              f"total_rss {e['rss']}\ntotal_inactive_file {e['inactive_file']}\n")
    elif ctrl == "cpuacct":
        write(f"{d}/cpuacct.usage", f"{e['cpu_usage_ns']}\n")
        write(f"{d}/cpuacct.stat", "user 300\nsystem 150\n")
    elif ctrl == "cpu":
        write(f"{d}/cpu.stat", f"nr_periods 100\nnr_throttled {e['throttled']}\n"
              "throttled_time 123456789\n")
        write(f"{d}/cpu.shares", "512\n")
        write(f"{d}/cpu.cfs_quota_us", "50000\n")
        write(f"{d}/cpu.cfs_period_us", "100000\n")
    elif ctrl == "blkio":
        write(f"{d}/blkio.io_service_bytes_recursive",
              "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 8192\n8:0 Async 4096\n8:0 Discard 0\n"
              "8:0 Total 12288\n8:16 Read 1000\n8:16 Write 0\n8:16 Total 1000\nTotal 13288\n")
        write(f"{d}/blkio.io_serviced_recursive",
              "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\n8:16 Read 1\n8:16 Write 0\nTotal 4\n")
    elif ctrl == "pids":
        write(f"{d}/pids.current", f"{e['pids']}\n")
        write(f"{d}/pids.max", "max\n")


def v2_files(d):
    e = EXPECTED
    write(f"{d}/memory.current", f"{e['usage']}\n")
    write(f"{d}/memory.max", f"{e['limit']}\n")
    write(f"{d}/memory.low", f"{128 * MiB}\n")
    write(f"{d}/memory.stat",
          f"anon {e['rss']}\nfile {e['cache']}\nkernel_stack 16384\nshmem 0\n"
          f"active_anon {e['rss']}\ninactive_anon 0\nactive_file {e['cache'] - e['inactive_file']}\n"
          f"inactive_file {e['inactive_file']}\n")
    write(f"{d}/memory.events", f"low 0\nhigh 0\nmax 3\noom 1\noom_kill {e['oom']}\n")
    write(f"{d}/cpu.stat",
          f"usage_usec {e['cpu_usage_ns'] // 1000}\nuser_usec 3000000\nsystem_usec 1500000\n"
          f"nr_periods 100\nnr_throttled {e['throttled']}\nthrottled_usec 123456\n")
    write(f"{d}/cpu.max", "50000 100000\n")
    write(f"{d}/cpu.weight", "20\n")
    write(f"{d}/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
          "8:16 rbytes=1000 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n")
    write(f"{d}/pids.current", f"{e['pids']}\n")
    write(f"{d}/pids.max", "max\n")


def host_files(root):
    write(f"{root}/proc/stat",
          "cpu  10000 500 3000 80000 400 0 100 50 0 0\n"
          "cpu0 5000 250 1500 40000 200 0 50 25 0 0\n"
          "cpu1 5000 250 1500 40000 200 0 50 25 0 0\nintr 1\nctxt 2\n")
    write(f"{root}/proc/meminfo",
          "MemTotal:        8000000 kB\nMemFree:         2000000 kB\n"
          "MemAvailable:    5000000 kB\nBuffers:          100000 kB\nCached:          2500000 kB\n"
          "SwapTotal:       1000000 kB\nSwapFree:         900000 kB\n")
    write(f"{root}/proc/loadavg", "0.50 0.25 0.10 1/100 12345\n")


def rel_path(layout, i):
    c = cid(i)
    if layout in ("v1-cgroupfs", "v2-cgroupfs", "v1-bindmount"):
        return f"/docker/{c}"
    if layout in ("v1-systemd", "v2-systemd"):
        return f"/system.slice/docker-{c}.scope"
    if layout == "ecs-v1":
        return f"/ecs/{TASK_ID}/{c}"
    if layout == "ecs-v2":
        return f"/ecstasks.slice/ecstasks-{TASK_ID}.slice/docker-{c}.scope"
    raise ValueError(layout)


def make_tree(root, layout, n=1):
    host_files(root)
    cgroot = f"{root}/sys/fs/cgroup"
    v2 = layout.startswith("v2") or layout == "ecs-v2"
    if v2:
        write(f"{cgroot}/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
    for i in range(n):
        pid = 1000 + i
        rel = rel_path(layout, i)
        if v2:
            v2_files(cgroot + rel)
            proc_files(root, pid, f"0::{rel}\n", i)
            continue
        shown = "/outer/ns" + rel if layout == "v1-bindmount" else rel
        cpu_line = "2:cpu,cpuacct:" if layout == "v1-cgroupfs" else "2:cpuacct:{0}\n3:cpu:"
        lines = (f"12:pids:{shown}\n11:blkio:{shown}\n9:memory:{shown}\n"
                 + cpu_line.format(shown) + f"{shown}\n1:name=systemd:{shown}\n0::/\n")
        proc_files(root, pid, lines, i)
        for ctrl in ("memory", "cpuacct", "cpu", "blkio", "pids"):
            base = "cpu,cpuacct" if layout == "v1-cgroupfs" and ctrl in ("cpu", "cpuacct") else ctrl
            v1_files(f"{cgroot}/{base}{rel}", ctrl)
    if layout == "v1-cgroupfs":
        for link in ("cpu", "cpuacct"):
            if not os.path.lexists(f"{cgroot}/{link}"):
                os.symlink("cpu,cpuacct", f"{cgroot}/{link}")


LAYOUTS = ("v1-cgroupfs", "v1-systemd", "v1-bindmount", "v2-systemd", "v2-cgroupfs", "ecs-v1",
           "ecs-v2")

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for lay in LAYOUTS:
        make_tree(os.path.join(out, lay), lay, 2 if lay.startswith("ecs") else 1)
