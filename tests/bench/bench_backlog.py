"""The containers input reading many exited containers' json-file backlogs
from head, on a real dockerd (tests/integration/dockerd.py), to a null
output: the many-files memory case of issue 17. BACKLOG_N containers (20)
each print BACKLOG_LINES (100,000) lines of ~220 bytes and exit (~510 MB of
json-file logs in all); then the agent starts with read_from_head = true and
reads them all. Prints MB/s, CPU-s/GB of json-file log, the peak RSS
(VmHWM), the largest pipeline memory figure /status showed (and its
breakdown at that moment, when the agent has one), and RssAnon/RssFile at
the end. Environment: BACKLOG_N, BACKLOG_LINES, BACKLOG_MEMORY (agent
memory_limit; default: the agent's own default)."""
import json
import os
import time
import uuid

from tests.bench.procstat import cpu_seconds, memory_kib
from tests.integration import dockerd
from tests.integration.harness import Agent
from tests.integration.test_status import get

N = int(os.environ.get("BACKLOG_N", "20"))
LINES = int(os.environ.get("BACKLOG_LINES", "100000"))
MEMORY = os.environ.get("BACKLOG_MEMORY", "")
LINE = ("2024-01-01T00:00:00.000Z INFO backlog line of a container that exited "
        "GET /api/v1/orders status=200 latency_ms=12 request_id=0123456789abcdef "
        "upstream=orders-svc cache=miss db_query_ms=3 region=us-east-1 bytes=5120 ok")


def status(sock):
    r = get(sock, "/status")
    if r is None or r[0] != 200:
        raise OSError(f"/status answered {r and r[0]}")
    return json.loads(r[2])


def rss_split(pid):
    """(RssAnon, RssFile) in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0])
    return out.get("RssAnon", 0), out.get("RssFile", 0) + out.get("RssShmem", 0)


def run(build_dir):
    reason = dockerd.skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return
    d = dockerd.shared()
    d.ensure_image()
    prefix = "bl" + uuid.uuid4().hex[:6] + "-"
    script = f"yes '{LINE}' | head -n {LINES}"
    cids = [d.run(name=f"{prefix}{i}", cmd=["sh", "-c", script]) for i in range(N)]
    try:
        d.wait_exited(cids, timeout=600, interval=0.5)
        size = sum(os.path.getsize(d.inspect(c)["LogPath"]) for c in cids)
        total = N * LINES
        agent_extra = f"memory_limit = {MEMORY}" if MEMORY else ""
        conf = f"""
        [agent]
        data_dir = {{data_dir}}
        http_listen = {{tmp}}/status.sock
        {agent_extra}
        [input c]
        type = containers
        docker_socket = {d.sock}
        docker_root = {d.data_root}
        introspection_url =
        include_name = {prefix}*
        read_from_head = true
        [output sink]
        type = null
        match = *
        flush_interval = 1s
        """
        with Agent(conf) as a:
            sock = os.path.join(a.tmp, "status.sock")
            started = time.time()
            a.start()
            peak_mem, peak_doc = 0, None
            while True:
                if not a.running():
                    raise RuntimeError("agent exited:\n" + a.stderr()[-2000:])
                if time.time() - started > 900:
                    raise RuntimeError("timed out:\n" + a.stderr()[-2000:])
                try:
                    st = status(sock)
                except OSError:
                    time.sleep(0.1)
                    continue
                pl = st["pipeline"]
                counted = pl["memory"]["total"] if "memory" in pl else pl["buffer_bytes"]
                if counted >= peak_mem:
                    peak_mem, peak_doc = counted, pl.get("memory")
                outs = st["outputs"]
                out = outs["sink"] if isinstance(outs, dict) else outs[0]
                if out["records_out"] >= total:
                    break
                time.sleep(0.1)
            elapsed = time.time() - started
            cpu = cpu_seconds(a.pid)
            _, hwm = memory_kib(a.pid)
            anon, filek = rss_split(a.pid)
            limit = st["pipeline"]["memory_limit"]
            a.stop()
    finally:
        for cid in cids:
            d.remove(cid)
    mb = size / 1e6
    print(f"{N} exited containers' json-file logs from head -> null: {mb:,.0f} MB, {total:,} lines "
          f"in {elapsed:.1f}s = {mb / elapsed:,.0f} MB/s, {cpu / (mb / 1000):.2f} CPU-s/GB")
    print(f"  peak RSS {hwm / 1024:.1f} MiB; at the end RssAnon {anon / 1024:.1f} MiB, "
          f"RssFile {filek / 1024:.1f} MiB; memory_limit {limit / 2**20:.0f} MiB, "
          f"largest pipeline figure seen {peak_mem / 2**20:.1f} MiB"
          + (f" ({json.dumps(peak_doc)})" if peak_doc else ""))
