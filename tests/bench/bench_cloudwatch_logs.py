"""tail -> cloudwatch_logs -> a local HTTPS CloudWatch Logs sink over loopback.

Ships one file (CWL_BENCH_MB, default 500 MB, ~220-byte lines) as fast as the
sink takes it in three configurations: compress = off with buffer = memory,
compress = off with buffer = disk, and the shipped default (compress = auto,
i.e. gzip, buffer = disk). Prints events/s, MB/s, the agent's CPU seconds per
GB shipped, its peak RSS, and the CPU per GB as a multiple of the floor
(build/tools/floor on the same file: reading, splitting, JSON-escaping into
bodies, SHA-256, gzip when the row compresses, AES-GCM; nothing else).

The sink is build/tools/cwl_sink (C, OpenSSL): it answers every call with 200
and only counts, so the agent is what is measured; its own CPU is printed to
show it is not the bottleneck. TLS uses a self-signed certificate made here
with the openssl command, passed to the agent by configuration (ca_file).
Environment: CWL_BENCH_MB (500), CWL_BENCH_WORKERS (4), CWL_BENCH_MEMORY (agent
memory_limit, 16MiB: the shipped setting), CWL_BENCH_ROWS (e.g. "0,2": only those
rows), CWL_BENCH_RUNS (3: each row's runs, summarised as median and range),
CWL_BENCH_FLOOR (the floor tool, to bench an older build)."""
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

from tests.bench.procstat import cpu_seconds, memory_kib
from tests.integration.harness import Agent

MB = int(os.environ.get("CWL_BENCH_MB", "500"))
RUNS = max(1, int(os.environ.get("CWL_BENCH_RUNS", "3")))
WORKERS = int(os.environ.get("CWL_BENCH_WORKERS", "4"))
# The pipeline holds at most this much in batches: it bounds the RSS when the
# file is read faster than it can be shipped (the shipped conf.d says 16MiB).
MEMORY = os.environ.get("CWL_BENCH_MEMORY", "16MiB")
LINE = 220


WORDS = ("GET POST /api/v1/orders /health user_id= status=200 status=503 latency_ms= "
         "request_id= upstream timeout connection reset cache hit miss db query took ms "
         "worker started stopped retry backoff payload bytes region us-east-1 eu-west-1 "
         "container task service deploy ok error warn info debug trace").split()


def write_file(path, mb):
    """~220-byte lines of log-like text: a timestamp, a counter and words
    drawn from a small vocabulary (compresses about as well as real logs)."""
    import random
    rnd = random.Random(1)
    pool = []
    for _ in range(4000):
        words = []
        while sum(len(w) + 1 for w in words) < LINE - 60:
            w = rnd.choice(WORDS)
            words.append(w + str(rnd.randint(0, 99999)) if w.endswith("=") else w)
        pool.append(" ".join(words)[:LINE - 60])
    block = 10000
    lines = 0
    with open(path, "wb") as f:
        while f.tell() < mb * 1000 * 1000:
            f.write("".join(f"2024-01-01T00:00:00.000Z INFO bench line {lines + i:012d} "
                            f"{pool[(lines + i) * 7919 % len(pool)]}\n"
                            for i in range(block)).encode())
            lines += block
    return lines


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class Sink:
    def __init__(self, build, d, cert, key):
        self.port_file = os.path.join(d, "sink.port")
        self.stats_file = os.path.join(d, "sink.stats")
        for p in (self.port_file, self.stats_file):
            if os.path.exists(p):
                os.unlink(p)
        self.proc = subprocess.Popen([os.path.join(build, "tools", "cwl_sink"), "--port-file",
                                      self.port_file, "--stats-file", self.stats_file,
                                      "--tls-cert", cert, "--tls-key", key],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not os.path.exists(self.port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("cwl_sink did not start: " + self.proc.stderr.read().decode())
            time.sleep(0.02)
        self.port = int(open(self.port_file).read())

    def stats(self):
        try:
            text = open(self.stats_file).read()
        except OSError:
            return {}
        return {k: int(v) for k, v in (w.split("=") for w in text.split())}

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_once(build, d, path, lines, cert, key, compress, buffer):
    sink = Sink(build, d, cert, key)
    env = {"AWS_ENDPOINT_URL": f"https://127.0.0.1:{sink.port}", "AWS_ACCESS_KEY_ID": "AKIDTEST",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"}
    conf = f"""
    [agent]
    data_dir = {{data_dir}}
    ca_file = {cert}
    memory_limit = {MEMORY}
    http_listen = off
    [input t]
    type = tail
    path = {path}
    read_from_head = true
    [output cw]
    type = cloudwatch_logs
    match = *
    log_group = /bench
    log_stream = {{file_name}}
    compress = {compress}
    buffer = {buffer}
    workers = {WORKERS}
    flush_interval = 1s
    """
    try:
        with Agent(conf, env=env) as a:
            started = time.time()
            a.start()
            peak = 0
            while sink.stats().get("events", 0) < lines:
                if not a.running():
                    raise RuntimeError("agent exited:\n" + a.stderr()[-2000:])
                peak = max(peak, memory_kib(a.pid)[1])
                if time.time() - started > 900:
                    raise RuntimeError("timed out; sink: %r\n%s" % (sink.stats(), a.stderr()[-2000:]))
                time.sleep(0.05)
            elapsed = time.time() - started
            cpu = cpu_seconds(a.pid)
            peak = max(peak, memory_kib(a.pid)[1])
            sink_cpu = cpu_seconds(sink.proc.pid)
            a.stop()
    finally:
        sink.stop()
    st = sink.stats()
    return {"elapsed": elapsed, "cpu": cpu, "peak_kib": peak, "sink_cpu": sink_cpu, **st}


def floor(build, path):
    """{name: CPU-s/GB} from build/tools/floor on the same file."""
    tool = os.environ.get("CWL_BENCH_FLOOR", os.path.join(build, "tools", "floor"))
    out = subprocess.run([tool, path], check=True,
                         capture_output=True, text=True).stdout
    print("  " + out.strip().replace("\n", "\n  "))
    return {w[1]: float(w[2]) for w in (line.split() for line in out.splitlines())}


def report(name, r, size, floor_cpu):
    gb = size / 1e9
    print(f"  {name}: {r['events']} events in {r['elapsed']:.1f}s = "
          f"{r['events'] / r['elapsed']:,.0f} events/s, {size / 1e6 / r['elapsed']:.1f} MB/s of file")
    print(f"    agent CPU {r['cpu']:.2f}s = {r['cpu'] / gb:.2f} CPU-s/GB shipped "
          f"= {r['cpu'] / gb / floor_cpu:.1f}x the floor, "
          f"peak RSS {r['peak_kib'] / 1024:.1f} MiB; {r['puts']} PutLogEvents, "
          f"{r['body_bytes'] / 1e6:.0f} MB of JSON, {r['wire_bytes'] / 1e6:.0f} MB on the wire; "
          f"sink CPU {r['sink_cpu']:.1f}s")


def run(build_dir):
    d = tempfile.mkdtemp(prefix="bench-cwl-")
    try:
        cert, key = make_cert(d)
        path = os.path.join(d, "big.log")
        lines = write_file(path, MB)
        size = os.path.getsize(path)
        print(f"  file: {size / 1e6:.0f} MB, {lines} lines; HTTPS to 127.0.0.1 (cwl_sink), "
              f"workers = {WORKERS}, memory_limit = {MEMORY}")
        fl = floor(build_dir, path)
        rows = [("compress = off,  buffer = memory", "off", "memory", "plain"),
                ("compress = off,  buffer = disk  ", "off", "disk", "plain"),
                ("shipped default: compress = auto (gzip), buffer = disk", "auto", "disk", "gzip")]
        only = os.environ.get("CWL_BENCH_ROWS")  # e.g. "0,2": run only those rows
        chosen = [(i, row) for i, row in enumerate(rows) if not only or str(i) in only.split(",")]
        # This guest's CPU figures move by 10-30 % between runs of the same row:
        # every row runs RUNS times, the rows taking turns, and the summary
        # gives the median and the range.
        per_row = {i: [] for i, _ in chosen}
        for run_no in range(RUNS):
            for i, (name, compress, buffer, kind) in chosen:
                r = run_once(build_dir, d, path, lines, cert, key, compress, buffer)
                report(name if RUNS == 1 else f"{name} (run {run_no + 1})", r, size, fl[kind])
                per_row[i].append(r)
        if RUNS > 1:
            print(f"  summary of {RUNS} runs each (median, then range):")
            for i, (name, _, _, kind) in chosen:
                cpu = sorted(r["cpu"] / (size / 1e9) for r in per_row[i])
                mbs = statistics.median(size / 1e6 / r["elapsed"] for r in per_row[i])
                peak = max(r["peak_kib"] for r in per_row[i]) / 1024
                med = statistics.median(cpu)
                print(f"    {name.strip()}: {med:.2f} CPU-s/GB ({cpu[0]:.2f}-{cpu[-1]:.2f}) "
                      f"= {med / fl[kind]:.1f}x the floor, {mbs:.0f} MB/s, "
                      f"peak RSS {peak:.1f} MiB (highest)")
    finally:
        shutil.rmtree(d, ignore_errors=True)
