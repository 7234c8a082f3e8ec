"""The tail input: read one 500 MB file of ~220-byte lines from head to the
`null` output, then follow 1,000 files written at 10 lines/s each for 60 s.
Prints lines/s, MB/s, CPU seconds per GB (and as a multiple of the floor:
build/tools/floor reading and splitting the same file), peak RSS, CPU % and RSS.

Completion of the big read is known from the checkpoint: the acknowledged
offset of the file reaches its size (saved every checkpoint_interval, here
100 ms, after the null output's flush_interval of 50 ms: the figures include
at most ~150 ms of waiting).
Environment: TAIL_BENCH_MB (500), TAIL_BENCH_FILES (1000), TAIL_BENCH_SECONDS (60)."""
import os
import subprocess
import threading
import time

from tests.bench.procstat import cpu_seconds, memory_kib
from tests.integration.harness import Agent

BIG_MB = int(os.environ.get("TAIL_BENCH_MB", "500"))
NFILES = int(os.environ.get("TAIL_BENCH_FILES", "1000"))
SECONDS = int(os.environ.get("TAIL_BENCH_SECONDS", "60"))
LINE = 220


def conf(path, extra="", agent_extra="", checkpoint="100ms", flush="50ms"):
    return f"""
    [agent]
    data_dir = {{data_dir}}
    {agent_extra}
    [input t]
    type = tail
    path = {path}
    read_from_head = true
    checkpoint_interval = {checkpoint}
    {extra}
    [output sink]
    type = null
    match = *
    flush_interval = {flush}
    """


def write_big(path, mb):
    block = 10000
    lines = 0
    with open(path, "wb") as f:
        while f.tell() < mb * 1000 * 1000:
            f.write("".join(f"2024-01-01T00:00:00.000Z INFO bench line {lines + i:012d} "
                            f"{'q' * (LINE - 58)}\n" for i in range(block)).encode())
            lines += block
    return lines


def bench_big_file(memory_limit=None):
    agent_extra = f"memory_limit = {memory_limit}" if memory_limit else ""
    with Agent(conf("{tmp}/big.log", agent_extra=agent_extra)) as a:
        path = os.path.join(a.tmp, "big.log")
        lines = write_big(path, BIG_MB)
        size = os.path.getsize(path)
        tool = os.environ.get("TAIL_BENCH_FLOOR", os.path.join(os.environ["COLLECTOR_BUILD"],
                                                               "tools", "floor"))
        floor = float(subprocess.run([tool, path, "read"], check=True, capture_output=True,
                                     text=True).stdout.split()[2])
        # Drop the file from the page cache? Not possible without root tools
        # everywhere; the figure is for a file in the page cache (a log just
        # written usually is).
        ck = os.path.join(a.data_dir, "tail", "t.ckpt")
        started = time.time()
        a.start()

        def done():
            try:
                return f" {size} " in open(ck).read()
            except OSError:
                return False
        a.wait_for(done, timeout=600, interval=0.02, what="the whole file acknowledged")
        elapsed = time.time() - started
        cpu = cpu_seconds(a.pid)
        _, peak = memory_kib(a.pid)
        a.stop()
    mb = size / 1e6
    limit = f"memory_limit {memory_limit}" if memory_limit else "default memory_limit (16MiB)"
    print(f"tail 1 file of {mb:,.0f} MB ({lines:,} lines of {LINE} B) from head -> null, {limit}: "
          f"{elapsed:.2f}s, {lines / elapsed:,.0f} lines/s, {mb / elapsed:,.0f} MB/s, "
          f"{cpu / (mb / 1000):.2f} CPU-s/GB = {cpu / (mb / 1000) / floor:.1f}x the floor "
          f"({floor:.2f}), peak RSS {peak / 1024:.1f} MiB")


def bench_many_files():
    # Default checkpoint_interval; the output flushes every second.
    with Agent(conf("{tmp}/many/*.log", "max_open_files = 2000", checkpoint="2s",
                    flush="1s")) as a:
        d = os.path.join(a.tmp, "many")
        os.makedirs(d)
        files = [open(os.path.join(d, f"app{i:04d}.log"), "a", buffering=1) for i in range(NFILES)]
        a.start()
        a.wait_log(f"following {NFILES} files")
        stop = threading.Event()
        written = [0]

        def writer():
            # 10 lines/s per file, spread evenly: one pass over all files
            # every 100 ms.
            n = 0
            next_t = time.time()
            while not stop.is_set():
                for f in files:
                    f.write(f"2024-01-01T00:00:00Z INFO request {n:09d} served in 3 ms "
                            f"{'r' * 100}\n")
                n += 1
                written[0] += len(files)
                next_t += 0.1
                delay = next_t - time.time()
                if delay > 0:
                    time.sleep(delay)
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        time.sleep(5)  # settle
        cpu0, t0 = cpu_seconds(a.pid), time.time()
        rss_max = 0
        while time.time() - t0 < SECONDS:
            time.sleep(1)
            rss_max = max(rss_max, memory_kib(a.pid)[0])
        cpu1, t1 = cpu_seconds(a.pid), time.time()
        _, peak = memory_kib(a.pid)
        stop.set()
        t.join()
        for f in files:
            f.close()
        a.stop()
    pct = 100 * (cpu1 - cpu0) / (t1 - t0)
    rate = written[0] / (t1 - t0 + 5) if written[0] else 0
    print(f"tail follow {NFILES} files x 10 lines/s for {SECONDS}s ({rate:,.0f} lines/s total): "
          f"agent CPU {pct:.2f}% of one core, RSS {rss_max / 1024:.1f} MiB "
          f"(peak {peak / 1024:.1f} MiB)")


def run(build_dir):
    # The input itself holds one read buffer (max_line_size + 1); the rest of
    # the peak RSS is batches the pipeline holds, up to the agent's
    # memory_limit, so the figure is given for the default and a small limit.
    bench_big_file()
    bench_big_file("8MiB")
    bench_many_files()


if __name__ == "__main__":
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    run(os.environ.get("COLLECTOR_BUILD", "build"))
