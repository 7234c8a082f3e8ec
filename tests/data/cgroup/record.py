"""Record a real v1 cgroup fixture and the Docker numbers of the same moment.

Run as root on a cgroup v1 host with Docker (uses tests/integration/dockerd.py):

    python3 tests/data/cgroup/record.py tests/data/cgroup/recorded-v1

It starts a container burning CPU (--cpus 0.5) and one holding ~40 MiB in
/dev/shm (--memory 128m), then copies each one's cgroup files,
/proc/<pid>/cgroup and /proc/<pid>/net/dev, and /proc/stat and /proc/meminfo
into the fixture tree, right after asking the Engine API for its stats
(stream=false: with precpu_stats) and the CLI for `docker stats --no-stream`.
docker_stats.json keeps both, for test_metrics_cgroup.c.
"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))
from tests.integration import dockerd  # noqa: E402

CTRLS = ("memory", "cpuacct", "cpu", "blkio", "pids")
# the files collector/metrics/cgroup.c reads
KEEP = {"memory.usage_in_bytes", "memory.limit_in_bytes", "memory.failcnt",
        "memory.soft_limit_in_bytes", "memory.stat", "memory.oom_control", "cpuacct.usage",
        "cpuacct.stat", "cpu.stat", "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us",
        "blkio.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive",
        "blkio.throttle.io_service_bytes", "blkio.io_serviced_recursive",
        "blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced", "pids.current",
        "pids.max"}


def api(d, path):
    out = subprocess.run(["curl", "-s", "--unix-socket", d.sock, "http://localhost" + path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def copy_tree(dst, pid, cid):
    cg = open(f"/proc/{pid}/cgroup").read()
    os.makedirs(f"{dst}/proc/{pid}/net", exist_ok=True)
    open(f"{dst}/proc/{pid}/cgroup", "w").write(cg)
    shutil.copy(f"/proc/{pid}/net/dev", f"{dst}/proc/{pid}/net/dev")
    for line in cg.splitlines():
        _, ctrls, path = line.split(":", 2)
        for c in ctrls.split(","):
            if c not in CTRLS:
                continue
            src = f"/sys/fs/cgroup/{c}{path}"
            out = f"{dst}/sys/fs/cgroup/{c}{path}"
            os.makedirs(out, exist_ok=True)
            for name in os.listdir(src):
                if name not in KEEP:
                    continue
                try:
                    data = open(os.path.join(src, name)).read()
                except OSError:
                    continue
                open(os.path.join(out, name), "w").write(data)


def main(dst):
    d = dockerd.Dockerd()
    d.start()
    try:
        burn = d.run(name="burn", cmd=["sh", "-c", "while :; do :; done"],
                     extra=["--cpus", "0.5"])
        hold = d.run(name="hold", cmd=["sh", "-c",
                     "dd if=/dev/zero of=/dev/shm/x bs=1M count=40 2>/dev/null; sleep 3600"],
                     extra=["--memory", "128m"])
        time.sleep(3)
        rec = {}
        for name, cid in (("burn", burn), ("hold", hold)):
            pid = d.inspect(cid)["State"]["Pid"]
            stats = api(d, f"/containers/{cid}/stats?stream=false")
            copy_tree(dst, pid, cid)
            cli = d.docker("stats", "--no-stream", "--format", "{{json .}}", cid).stdout
            rec[name] = {"id": cid, "pid": pid, "api": stats, "cli": json.loads(cli)}
        os.makedirs(f"{dst}/proc", exist_ok=True)
        shutil.copy("/proc/stat", f"{dst}/proc/stat")
        shutil.copy("/proc/meminfo", f"{dst}/proc/meminfo")
        with open(f"{dst}/docker_stats.json", "w") as f:
            json.dump(rec, f, indent=1, sort_keys=True)
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    main(sys.argv[1])
