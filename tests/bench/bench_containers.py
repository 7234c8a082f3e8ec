"""The containers input on a real dockerd (tests/integration/dockerd.py): 50
containers each logging ~1,000 lines/s for 60 s, read by the agent and
written by a file output. Prints the agent's CPU %, RSS (current and peak)
and the end-to-end latency p50/p99: from Docker's timestamp of a line (when
dockerd received it from the container) to when the line is seen in the
output file (polled every 50 ms by a thread of its own from the agent's start,
so that lines written while the 50 containers are being started are timed
too; the file output flushes every 50 ms). The figures cover the steady
state: lines Docker stamped after the last container had started.
Environment: CONTAINERS_BENCH_N (50), CONTAINERS_BENCH_SECONDS (60),
CONTAINERS_BENCH_BATCH (100 lines every 100 ms per container)."""
import json
import os
import threading
import time
import uuid

from tests.bench.procstat import cpu_seconds, memory_kib
from tests.integration import dockerd
from tests.integration.harness import Agent, output_files

N = int(os.environ.get("CONTAINERS_BENCH_N", "50"))
SECONDS = int(os.environ.get("CONTAINERS_BENCH_SECONDS", "60"))
BATCH = int(os.environ.get("CONTAINERS_BENCH_BATCH", "100"))
LINE = "bench line 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Tailer:
    """New records of the file output, with the time they were seen."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.off = {}
        self.rest = {}

    def poll(self):
        """[(docker timestamp ms, latency ms)] of the lines new since the last poll."""
        now_ms = time.time() * 1000
        lat = []
        for path in output_files(self.out_dir):
            if path.endswith(".gz"):
                continue
            with open(path, "rb") as f:
                f.seek(self.off.get(path, 0))
                data = f.read()
            self.off[path] = self.off.get(path, 0) + len(data)
            data = self.rest.pop(path, b"") + data
            lines = data.split(b"\n")
            self.rest[path] = lines[-1]
            for line in lines[:-1]:
                if line:
                    ts = json.loads(line)["timestamp"]
                    lat.append((ts, now_ms - ts))
        return lat


class Poller(threading.Thread):
    def __init__(self, tailer):
        super().__init__(daemon=True)
        self.tailer, self.lat, self.halt = tailer, [], threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.lat += self.tailer.poll()
            time.sleep(0.05)

    def stop(self):
        self.halt.set()
        self.join()
        self.lat += self.tailer.poll()


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def run(build_dir):
    reason = dockerd.skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return
    d = dockerd.shared()
    d.ensure_image()
    prefix = "b" + uuid.uuid4().hex[:6] + "-"
    conf = f"""
    [agent]
    data_dir = {{data_dir}}
    http_listen = {{tmp}}/status.sock
    [input c]
    type = containers
    docker_socket = {d.sock}
    docker_root = {d.data_root}
    introspection_url =
    include_name = {prefix}*
    [output out]
    type = file
    match = *
    path = {{out_dir}}
    flush_interval = 50ms
    rotate_size = 4GiB
    """
    script = (f"while :; do yes '{LINE}' | head -n {BATCH}; usleep 100000; done")
    cids = []
    with Agent(conf) as a:
        a.start()
        poller = Poller(Tailer(a.out_dir))
        poller.start()
        try:
            for i in range(N):
                cids.append(d.run(name=f"{prefix}{i}", cmd=["sh", "-c", script]))
            cpu0, t0 = cpu_seconds(a.pid), time.time()
            rss = []
            while time.time() - t0 < SECONDS:
                time.sleep(0.25)
                rss.append(memory_kib(a.pid)[0])
            cpu1, t1 = cpu_seconds(a.pid), time.time()
            _, hwm = memory_kib(a.pid)
            time.sleep(1)
        finally:
            poller.stop()
            for cid in cids:
                d.docker("rm", "-f", cid, check=False)
        lat = [ms for ts, ms in poller.lat if t0 * 1000 <= ts <= t1 * 1000]
        lines_s = len(lat) / (t1 - t0)
        print(f"{N} containers x ~{BATCH * 10} lines/s for {SECONDS}s: "
              f"{len(lat)} lines delivered ({lines_s:.0f}/s)")
        print(f"agent CPU {100 * (cpu1 - cpu0) / (t1 - t0):.1f}%  "
              f"RSS {max(rss) / 1024:.1f} MiB (peak {hwm / 1024:.1f} MiB)")
        print(f"latency write->delivered p50 {pct(lat, 50):.0f} ms  p99 {pct(lat, 99):.0f} ms")
        a.stop()
