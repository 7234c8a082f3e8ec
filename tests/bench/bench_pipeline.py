"""The pipeline alone: `generate` -> `null`, as fast as it goes. Measures the
cost of routing, batching and acknowledging, without any input or output I/O."""
import re
import time

from tests.bench.procstat import cpu_seconds, memory_kib
from tests.integration.harness import Agent

COUNT = 5_000_000
SIZE = 220


def run(build_dir):
    conf = f"""
    [agent]
    data_dir = {{data_dir}}
    [input gen]
    type = generate
    count = {COUNT}
    size = {SIZE}
    [output sink]
    type = null
    match = *
    flush_interval = 1s
    """
    with Agent(conf) as a:
        started = time.time()
        a.start()
        a.wait_log(f"all {COUNT} records acknowledged", timeout=600)
        elapsed = time.time() - started
        cpu = cpu_seconds(a.pid)
        _, peak = memory_kib(a.pid)
        a.stop()
    mb = COUNT * SIZE / 1e6
    print(f"pipeline generate->null: {COUNT} records of {SIZE} B in {elapsed:.2f}s: "
          f"{COUNT / elapsed:,.0f} records/s, {mb / elapsed:,.0f} MB/s, "
          f"{cpu / (mb / 1000):.2f} CPU-s/GB, peak RSS {peak / 1024:.1f} MiB")
