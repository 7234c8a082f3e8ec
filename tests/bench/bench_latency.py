"""Latencies that integration tests used to bound by wall clock (flaky under
load; tests now assert the behaviour, this prints the figures):

- a new file in a new directory found by inotify (refresh_interval 60 s);
- SIGTERM under load (100,000 records/s, 200 idle HTTP clients) to exit,
  with shutdown_timeout = 3s;
- SIGTERM with 5,000 records waiting in the disk buffer (destination down,
  shutdown_timeout = 30s): persisted, not waited for.

Each is measured ROUNDS times (LATENCY_BENCH_ROUNDS, default 5): median and
worst printed. The bundle's durations are bench_bundle.py's."""
import os
import socket
import statistics
import time

from tests.integration.harness import Agent, read_file_output

ROUNDS = int(os.environ.get("LATENCY_BENCH_ROUNDS", "5"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(pred, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.005)
    raise RuntimeError("timed out")


def new_file_found():
    with Agent("""
        [agent]
        data_dir = {data_dir}
        http_listen = off
        [input t]
        type = tail
        path = {tmp}/logs/**/*.log
        refresh_interval = 60s
        [output out]
        type = file
        match = *
        path = {out_dir}
        flush_interval = 10ms
        """) as a:
        os.makedirs(os.path.join(a.tmp, "logs"))
        a.start()
        wait(lambda: "following 0 files" in a.stderr())
        d = os.path.join(a.tmp, "logs", "later", "deeper")
        os.makedirs(d)
        t0 = time.time()
        with open(os.path.join(d, "x.log"), "w") as f:
            f.write("found me\n")
        wait(lambda: read_file_output(a.out_dir))
        took = time.time() - t0
        a.stop()
        return took


def sigterm_under_load():
    port = free_port()
    with Agent(f"""
        [agent]
        data_dir = {{data_dir}}
        http_listen = 127.0.0.1:{port}
        shutdown_timeout = 3s
        [input g]
        type = generate
        count = 0
        rate = 100000
        [output f]
        type = file
        match = *
        path = {{out_dir}}
        flush_interval = 100ms
        rotate_size = 0
        """) as a:
        a.start()
        wait(lambda: len(read_file_output(a.out_dir)) > 20000)
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
        try:
            t0 = time.time()
            a.stop(timeout=30)
            return time.time() - t0
        finally:
            for s in idle:
                s.close()


def stop_with_full_disk_buffer():
    with Agent("""
        [agent]
        data_dir = {data_dir}
        http_listen = off
        shutdown_timeout = 30s
        [input gen]
        type = generate
        count = 5000
        tag = app.gen
        [output out]
        type = file
        match = app.*
        path = {out_dir}
        flush_interval = 100ms
        batch_max_records = 500
        retry_max_backoff = 200ms
        buffer = disk
        """) as a:
        open(a.out_dir, "w").close()  # the destination is down
        a.start()
        wait(lambda: "all 5000 records acknowledged" in a.stderr())
        t0 = time.time()
        a.stop(timeout=60)
        return time.time() - t0


def run(build):
    for name, fn in (("new file found by inotify", new_file_found),
                     ("SIGTERM under load to exit", sigterm_under_load),
                     ("SIGTERM with a full disk buffer to exit", stop_with_full_disk_buffer)):
        took = [fn() for _ in range(ROUNDS)]
        print(f"  {name}: median {statistics.median(took) * 1000:.0f} ms, "
              f"worst {max(took) * 1000:.0f} ms ({ROUNDS} rounds)", flush=True)
