"""`collector bundle` on this machine with 20 running containers (a private
dockerd, tests/integration/dockerd.py): wall time, CPU (the bundle and every
command it ran: user+sys of waited-for children) and archive size.
A healthy host should take seconds. Environment: BUNDLE_BENCH_CONTAINERS (20)."""
import os
import resource
import shutil
import subprocess
import tempfile
import time

from tests.integration import dockerd
from tests.integration.harness import BINARY, base_env

N = int(os.environ.get("BUNDLE_BENCH_CONTAINERS", "20"))


def run(build_dir):
    reason = dockerd.skip_reason()
    if reason:
        print(f"bundle: skipped ({reason})")
        return
    d = dockerd.shared()
    tmp = tempfile.mkdtemp(prefix="collector-bench-bundle-")
    cids = []
    try:
        for i in range(N):
            cids.append(d.run(name=f"bench-{os.getpid()}-{i}",
                              labels={"com.amazonaws.ecs.cluster": "bench",
                                      "com.amazonaws.ecs.container-name": f"c{i}"},
                              env={"DB_PASSWORD": "x" * 16},
                              cmd=["sh", "-c", "while true; do echo tick; sleep 1; done"],
                              log_opts={"max-size": "1m", "max-file": "2"}))
        env = base_env({"DOCKER_HOST": d.host})
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.time()
        p = subprocess.run([BINARY, "bundle", "-q", "-o", tmp, "--ecs-url", "http://127.0.0.1:9",
                            "--status-url", "http://127.0.0.1:9/status"],
                           env=env, capture_output=True, text=True, timeout=600)
        wall = time.time() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if p.returncode != 0:
            print(f"bundle: failed ({p.returncode}): {p.stderr[-2000:]}")
            return
        archive = p.stdout.strip()
        size = os.path.getsize(archive)
        listing = subprocess.run(["tar", "tzf", archive], capture_output=True, text=True).stdout
        files = sum(1 for line in listing.splitlines() if not line.endswith("/"))
        print(f"bundle with {N} running containers: {wall:.2f}s wall, {cpu:.2f}s CPU "
              f"(bundle + commands it ran), archive {size / 1024:.0f} KiB, {files} files, "
              f"largest peak RSS among them {after.ru_maxrss / 1024:.1f} MiB")
    finally:
        for cid in cids:
            d.remove(cid)
        shutil.rmtree(tmp, ignore_errors=True)
