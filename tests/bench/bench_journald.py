"""The journald input: read a journal of 200,000 entries (~120-byte
messages, written by systemd-journal-remote) from its head to the `null`
output, all entries kept, then with a unit filter that keeps one in ten.
Prints entries/s, CPU seconds per 100,000 entries read and peak RSS.

Completion is known from the checkpoint: its count of acknowledged records
reaches what was kept (saved every 100 ms after the null output's 50 ms
flush: the figures include at most ~150 ms of waiting).
Environment: JOURNALD_BENCH_ENTRIES (200000)."""
import os
import shutil
import time

from tests.bench.procstat import cpu_seconds, memory_kib
from tests.integration.harness import Agent
from tests.integration.test_journald import JOURNAL_REMOTE, Journal

ENTRIES = int(os.environ.get("JOURNALD_BENCH_ENTRIES", "200000"))


def conf(extra=""):
    return f"""
    [agent]
    data_dir = {{data_dir}}
    [input j]
    type = journald
    path = {{tmp}}/journal
    read_from_head = true
    checkpoint_interval = 100ms
    {extra}
    [output sink]
    type = null
    match = *
    flush_interval = 50ms
    """


def write_journal(path, n):
    j = Journal(path)
    units = ["docker.service"] + [f"app{i}.service" for i in range(9)]
    chunk = 20000
    for start in range(0, n, chunk):
        j.write([{"MESSAGE": f"level=info msg=\"request served\" id={i:09d} path=/api/v1/items "
                             f"status=200 bytes=5120 duration=0.0123",
                  "_SYSTEMD_UNIT": units[i % 10], "SYSLOG_IDENTIFIER": "app", "PRIORITY": 6,
                  "_PID": 4242, "_HOSTNAME": "ip-10-0-0-7"}
                 for i in range(start, min(n, start + chunk))])


def bench(journal_dir, extra, kept, label):
    with Agent(conf(extra)) as a:
        os.makedirs(os.path.join(a.tmp, "journal"))
        for name in os.listdir(journal_dir):
            shutil.copy(os.path.join(journal_dir, name), os.path.join(a.tmp, "journal", name))
        ck = os.path.join(a.data_dir, "journald", "j.ckpt")
        started = time.time()
        a.start()

        def done():
            try:
                line = open(ck).read().splitlines()[1]
                return int(line.split()[4]) >= kept
            except (OSError, IndexError, ValueError):
                return False
        a.wait_for(done, timeout=600, interval=0.02, what=f"{kept} entries acknowledged")
        elapsed = time.time() - started
        cpu = cpu_seconds(a.pid)
        _, peak = memory_kib(a.pid)
        a.stop()
    print(f"journald {ENTRIES:,} entries from head -> null, {label}: {elapsed:.2f}s, "
          f"{ENTRIES / elapsed:,.0f} entries/s read, {kept / elapsed:,.0f} records/s, "
          f"{cpu / (ENTRIES / 100000):.3f} CPU-s per 100k entries, peak RSS {peak / 1024:.1f} MiB")


def run(build):
    if not os.access(JOURNAL_REMOTE, os.X_OK):
        print("journald: systemd-journal-remote not installed, skipped")
        return
    work = Agent()
    try:
        d = os.path.join(work.tmp, "journal")
        os.makedirs(d)
        write_journal(os.path.join(d, "system.journal"), ENTRIES)
        bench(d, "", ENTRIES, "every entry kept")
        bench(d, "units = docker.service", ENTRIES // 10, "units filter keeping 1 in 10")
    finally:
        work.cleanup()
