"""container_metrics sampling cost: 500 synthetic containers (250 ECS tasks of
50 families) in a cgroup fixture tree (tests/data/cgroup/gen_fixtures.py),
listed by a fake Docker Engine API on a unix socket, sampled every 1 s into
the `null` output. Prints the agent's CPU % of one core at the 1 s interval,
the CPU time per sample, and what that means at the default 60 s interval.

Two configurations: the default levels (cluster, service, family) with
metric records only, and every level (plus task and container) with EMF.
The agent's CPU is read from /proc/<pid>/stat (all threads: sampler, loop,
pipeline, sender). Environment: METRICS_BENCH_CONTAINERS (500),
METRICS_BENCH_SECONDS (20), METRICS_BENCH_LAYOUT (v2-systemd; or v1-cgroupfs)."""
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "data", "cgroup"))

import gen_fixtures  # noqa: E402
from tests.bench.procstat import cpu_seconds, memory_kib  # noqa: E402

N = int(os.environ.get("METRICS_BENCH_CONTAINERS", "500"))
SECONDS = int(os.environ.get("METRICS_BENCH_SECONDS", "20"))
LAYOUT = os.environ.get("METRICS_BENCH_LAYOUT", "v2-systemd")
WARMUP = 3


def bench(tree, sock, levels, emf, label):
    from tests.integration.harness import Agent
    conf = f"""
    [agent]
    data_dir = {{data_dir}}
    hostname = benchhost
    [input c]
    type = container_metrics
    interval = 1s
    docker_socket = {sock}
    proc_root = {tree}/proc
    cgroup_root = {tree}/sys/fs/cgroup
    introspection_url =
    cluster = bench
    levels = {levels}
    emf = {"true" if emf else "false"}
    [output sink]
    type = null
    match = *
    flush_interval = 200ms
    """
    with Agent(conf) as a:
        a.start()
        time.sleep(WARMUP)
        c0, t0 = cpu_seconds(a.pid), time.monotonic()
        time.sleep(SECONDS)
        c1, t1 = cpu_seconds(a.pid), time.monotonic()
        rss, hwm = memory_kib(a.pid)
        a.stop()
        summary = [line for line in a.stderr().splitlines() if "input c:" in line]
    pct = (c1 - c0) / (t1 - t0) * 100.0
    per_sample_ms = (c1 - c0) / (t1 - t0) * 1000.0
    print(f"{label}: {N} containers ({LAYOUT}), 1 s interval: {pct:.2f}% of a core "
          f"({per_sample_ms:.1f} ms CPU per sample); at 60 s: {pct / 60:.3f}% of a core; "
          f"RSS {rss // 1024} MiB (peak {hwm // 1024} MiB)")
    if summary:
        print("   ", summary[-1].split("msg=", 1)[-1])
    return pct


def run(build_dir):
    os.environ.setdefault("COLLECTOR_BUILD", build_dir)
    from tests.integration.test_metrics import FakeDocker, inspect_doc, labels
    tmp = tempfile.mkdtemp(prefix="collector-bench-metrics-")
    try:
        tree = os.path.join(tmp, "tree")
        gen_fixtures.make_tree(tree, LAYOUT, N)
        containers = {}
        for i in range(N):
            cid = gen_fixtures.cid(i)
            containers[cid] = inspect_doc(cid, 1000 + i, f"c{i}",
                                          labels(i // 2, f"family{(i // 2) % 50}", f"c{i % 2}"),
                                          shares=256, memory=512 << 20)
        sock = os.path.join(tmp, "docker.sock")
        with FakeDocker(sock, containers):
            bench(tree, sock, "cluster service family", False, "default levels, metrics")
            bench(tree, sock, "cluster service family task container", True,
                  "all levels + EMF")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run(os.environ.get("COLLECTOR_BUILD", os.path.join(ROOT, "build")))
