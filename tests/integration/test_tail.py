"""Integration tests of the tail input: real files, real renames, the real
binary. Every test asserts the exact multiset of lines delivered.

Sizes: the 1 GB file and 10,000-file cases run at full size by default;
TAIL_BIG_MB and TAIL_MANY_FILES override them (for a quick local run)."""
import collections
import logging
import logging.handlers
import os
import re
import shutil
import signal
import stat
import subprocess
import threading
import time
import unittest

from tests.integration.harness import (Agent, BINARY, assert_delivered, assert_exactly_once, base_env,
                                       kill9_duplicate_bound, messages, read_file_output,
                                       run_cli, stop_and_read)

BIG_MB = int(os.environ.get("TAIL_BIG_MB", "1024"))
MANY_FILES = int(os.environ.get("TAIL_MANY_FILES", "10000"))

# Past every timer of conf() that could make the agent read something again:
# rotate_wait (2 s) closes a rotated file, refresh_interval (1 s) rescans.
QUIET = 3.2


def conf(paths, extra="", out_extra="", agent_extra="", refresh="1s"):
    path_lines = "\n".join(f"    path = {p}" for p in ([paths] if isinstance(paths, str) else paths))
    return f"""
    [agent]
    data_dir = {{data_dir}}
    shutdown_timeout = 20s
    {agent_extra}

    [input t]
    type = tail
{path_lines}
    refresh_interval = {refresh}
    rotate_wait = 2s
    {extra}

    [output out]
    type = file
    match = *
    path = {{out_dir}}
    flush_interval = 200ms
    rotate_size = 4GiB
    {out_extra}
    """


def counter(agent):
    return collections.Counter(messages(read_file_output(agent.out_dir)))


def wait_count(agent, n, timeout=60):
    """Wait until n records were delivered; returns their messages."""
    box = {}

    def done():
        box["m"] = messages(read_file_output(agent.out_dir))
        return len(box["m"]) >= n
    try:
        agent.wait_for(done, timeout=timeout, interval=0.2, what=f"{n} records")
    except AssertionError as e:
        raise AssertionError(f"{len(box.get('m', []))} of {n} records delivered; {e}") from None
    return box["m"]


class Writer(threading.Thread):
    """Writes `total` numbered lines at about `rate` lines/s to path, calling
    rotate(writer) every `every` lines. Lines: "<tag> <seq> <padding>"."""

    def __init__(self, path, total, rate=5000, every=0, rotate=None, tag="w", pad=60):
        super().__init__(daemon=True)
        self.path, self.total, self.rate, self.every = path, total, rate, every
        self.rotate_fn, self.tag, self.pad = rotate, tag, "x" * pad
        self.lines = []
        self.f = None
        self.error = None

    def open(self):
        self.f = open(self.path, "a", buffering=1)

    def run(self):
        try:
            self.open()
            start = time.time()
            for i in range(self.total):
                if self.every and i and i % self.every == 0:
                    self.rotate_fn(self)
                line = f"{self.tag} {i:08d} {self.pad}"
                self.f.write(line + "\n")
                self.lines.append(line)
                if self.rate and i % 100 == 0:
                    ahead = i / self.rate - (time.time() - start)
                    if ahead > 0:
                        time.sleep(ahead)
            self.f.close()
        except Exception as e:  # surfaced by the test
            self.error = e


class TailTestCase(unittest.TestCase):
    def agent(self, text, **kw):
        a = Agent(text, **kw)
        self.addCleanup(a.cleanup)
        os.makedirs(os.path.join(a.tmp, "logs"), exist_ok=True)
        return a

    def assertExactly(self, got, expected):
        """0 lost, 0 duplicated, nothing never written (read after stop_and_read)."""
        assert_exactly_once(got, expected, what="lines")


class Rotation(TailTestCase):
    def run_scheme(self, paths, rotate, total=20000, every=4000, extra="", rate=5000, box=None):
        a = self.agent(conf(paths, extra))
        if box is not None:
            box["agent"] = a
        log = os.path.join(a.tmp, "logs", "app.log")
        open(log, "w").close()
        a.start()
        a.wait_log("following 1 files")
        w = Writer(log, total, rate=rate, every=every, rotate=rotate)
        w.start()
        w.join(120)
        self.assertIsNone(w.error)
        got = wait_count(a, total, timeout=60)
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, w.lines)
        return a

    def test_rename_create(self):
        """logrotate `create` (and the ECS agent's hourly rollover): rename
        to a name the glob does not match, then create a new file."""
        n = [0]

        def rotate(w):
            w.f.close()
            n[0] += 1
            os.rename(w.path, f"{w.path}.{n[0]}")
            w.open()
        self.run_scheme("{tmp}/logs/app.log", rotate)

    def test_python_rotating_file_handler(self):
        """Python's RotatingFileHandler, with a glob that also matches the
        rotated names (app.log*): they are recognised, not read again."""
        a = self.agent(conf("{tmp}/logs/app.log*"))
        log = os.path.join(a.tmp, "logs", "app.log")
        open(log, "w").close()
        a.start()
        a.wait_log("following 1 files")
        logger = logging.getLogger("tail-test")
        logger.propagate = False
        h = logging.handlers.RotatingFileHandler(log, maxBytes=200000, backupCount=50)
        h.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(h)
        logger.setLevel(logging.INFO)
        expected = []
        start = time.time()
        for i in range(20000):
            line = f"py {i:08d} " + "y" * 60
            logger.info(line)
            expected.append(line)
            if i % 100 == 0:
                ahead = i / 5000 - (time.time() - start)
                if ahead > 0:
                    time.sleep(ahead)
        h.close()
        logger.removeHandler(h)
        wait_count(a, len(expected))
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, expected)

    def test_copytruncate(self):
        """logrotate `copytruncate`: the shrink is detected and reading
        restarts at 0, every time, nothing read twice. The scheme itself
        loses what was written but not yet read when the file is truncated
        (the copy holds it, under a name the glob does not match): every
        agent has that window, ours is ~20 ms on write events. So that the
        test checks the agent and not the machine's scheduling (under ASan
        on a loaded CI machine a 50 ms pause was once not enough), the
        writer waits until what it wrote was delivered before it rotates."""
        n = [0]
        box = {}

        def rotate(w):
            w.f.flush()
            box["agent"].wait_for(
                lambda: len(messages(read_file_output(box["agent"].out_dir))) >= len(w.lines),
                timeout=30, interval=0.05, what=f"{len(w.lines)} records before the truncation")
            n[0] += 1
            shutil.copyfile(w.path, f"{w.path}.{n[0]}")
            os.truncate(w.path, 0)
        self.run_scheme("{tmp}/logs/app.log", rotate, box=box)

    def test_delete_while_open(self):
        """A file deleted while open is read to its end (its writer keeps
        writing for a while); the next file of that name is followed."""
        def rotate(w):
            os.unlink(w.path)
            time.sleep(0.2)  # still writing to the deleted file: see below
        a = self.agent(conf("{tmp}/logs/app.log"))
        log = os.path.join(a.tmp, "logs", "app.log")
        open(log, "w").close()
        a.start()
        a.wait_log("following 1 files")
        w = Writer(log, 3000, rate=5000)
        w.start()
        time.sleep(0.3)
        os.unlink(log)            # the writer keeps its fd and keeps writing
        w.join(60)
        w2 = Writer(log, 2000, rate=5000, tag="second")
        w2.start()
        w2.join(60)
        expected = w.lines + w2.lines
        wait_count(a, len(expected))
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, expected)


class Restart(TailTestCase):
    def test_restart_resumes_exactly(self):
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true"))
        log = os.path.join(a.tmp, "logs", "app.log")
        w1 = Writer(log, 5000, rate=0, tag="one")
        w1.run()
        a.start()
        wait_count(a, 5000)
        self.assertEqual(a.stop(), 0)
        w2 = Writer(log, 3000, rate=0, tag="two")   # written while stopped
        w2.run()
        a.start()
        w3 = Writer(log, 3000, rate=5000, tag="three")
        w3.start()
        w3.join(60)
        expected = w1.lines + w2.lines + w3.lines
        wait_count(a, len(expected))
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, expected)

    def test_kill9_mid_stream_loses_nothing(self):
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true\n    checkpoint_interval = 500ms"))
        log = os.path.join(a.tmp, "logs", "app.log")
        open(log, "w").close()
        a.start()
        a.wait_log("following 1 files")
        w = Writer(log, 30000, rate=10000)
        w.start()
        time.sleep(1.2)
        a.kill9()
        time.sleep(0.3)
        a.start()
        w.join(60)
        wait_count(a, len(w.lines))
        got = stop_and_read(a, QUIET)
        # What one kill -9 may resend: lines delivered but whose offset was not
        # checkpointed yet (checkpoint_interval 500 ms) plus one flush's batch in
        # flight (flush_interval 200 ms), at the writer's 10,000 lines/s.
        bound = kill9_duplicate_bound(kills=1, checkpoint_interval_s=0.5, records_per_second=10000,
                                      in_flight=int(0.2 * 10000))
        assert_delivered(got, w.lines, max_duplicates=bound, what="lines after kill -9")

    def test_file_replaced_while_stopped(self):
        """Rotated (to a name outside the glob) and recreated while the
        agent was down: the rest of the old file and all of the new one."""
        a = self.agent(conf("{tmp}/logs/app.log", "read_from_head = true"))
        log = os.path.join(a.tmp, "logs", "app.log")
        w1 = Writer(log, 2000, rate=0, tag="before")
        w1.run()
        a.start()
        wait_count(a, 2000)
        self.assertEqual(a.stop(), 0)
        w2 = Writer(log, 1000, rate=0, tag="unread")   # appended while down
        w2.run()
        os.rename(log, log + ".1")
        w3 = Writer(log, 1500, rate=0, tag="new")
        w3.run()
        a.start()
        expected = w1.lines + w2.lines + w3.lines
        wait_count(a, len(expected))
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, expected)

    def test_rotated_within_glob_while_stopped(self):
        """app.log* while stopped: app.log -> app.log.1 (matched, known by its
        inode: resumed where it was) and a new app.log (read from its start)."""
        a = self.agent(conf("{tmp}/logs/app.log*", "read_from_head = true"))
        log = os.path.join(a.tmp, "logs", "app.log")
        w1 = Writer(log, 1000, rate=0, tag="before")
        w1.run()
        a.start()
        wait_count(a, 1000)
        self.assertEqual(a.stop(), 0)
        w2 = Writer(log, 500, rate=0, tag="unread")
        w2.run()
        os.rename(log, log + ".1")
        w3 = Writer(log, 700, rate=0, tag="new")
        w3.run()
        a.start()
        expected = w1.lines + w2.lines + w3.lines
        wait_count(a, len(expected))
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, expected)

    def test_reload_keeps_positions(self):
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true"))
        log = os.path.join(a.tmp, "logs", "app.log")
        open(log, "w").close()
        a.start()
        a.wait_log("following 1 files")
        w = Writer(log, 6000, rate=3000)
        w.start()
        time.sleep(0.7)
        a.send_signal(signal.SIGHUP)
        w.join(60)
        wait_count(a, len(w.lines))
        got = stop_and_read(a, QUIET)
        self.assertIn("reloading", a.stderr())
        self.assertExactly(got, w.lines)

    def test_read_from_head_defaults(self):
        """Files present at the very first start are read from their end;
        files appearing later (or while stopped) from their start."""
        a = self.agent(conf("{tmp}/logs/*.log"))
        logs = os.path.join(a.tmp, "logs")
        with open(os.path.join(logs, "old.log"), "w") as f:
            f.write("old before start\n")
        a.start()
        a.wait_log("following 1 files")
        with open(os.path.join(logs, "old.log"), "a") as f:
            f.write("old after start\n")
        with open(os.path.join(logs, "new.log"), "w") as f:
            f.write("new 1\nnew 2\n")
        wait_count(a, 3)
        self.assertEqual(a.stop(), 0)
        with open(os.path.join(logs, "while_down.log"), "w") as f:
            f.write("while down\n")
        a.start()
        wait_count(a, 4)
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, ["old after start", "new 1", "new 2", "while down"])

    def test_corrupt_checkpoint_is_moved_aside(self):
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true"))
        os.makedirs(os.path.join(a.data_dir, "tail"))
        ck = os.path.join(a.data_dir, "tail", "t.ckpt")
        with open(ck, "w") as f:
            f.write("garbage\x00\x01 not a checkpoint\n")
        with open(os.path.join(a.tmp, "logs", "a.log"), "w") as f:
            f.write("one\ntwo\n")
        a.start()
        wait_count(a, 2)
        a.wait_log("is corrupt; moved aside")
        self.assertTrue(os.path.exists(ck + ".corrupt"))
        self.assertEqual(a.stop(), 0)
        with open(ck) as f:
            self.assertTrue(f.read().startswith("collector-checkpoint 1\n"))


class Scale(TailTestCase):
    def test_big_file(self):
        """A 1 GB file (TAIL_BIG_MB) from head: every line exactly once."""
        a = self.agent(conf("{tmp}/logs/big.log", "read_from_head = true",
                            out_extra="batch_max_records = 10000"))
        log = os.path.join(a.tmp, "logs", "big.log")
        line_len = 200
        block_lines = 10000
        nblocks = max(1, BIG_MB * 1024 * 1024 // (line_len * block_lines))
        with open(log, "wb") as f:
            for b in range(nblocks):
                base = b * block_lines
                f.write("".join(f"big {base + i:010d} {'z' * (line_len - 16)}\n"
                                for i in range(block_lines)).encode())
        total = nblocks * block_lines
        size = os.path.getsize(log)
        a.start()
        ck = os.path.join(a.data_dir, "tail", "t.ckpt")

        def acked():
            try:
                return f" {size} " in open(ck).read()
            except OSError:
                return False
        a.wait_for(acked, timeout=240, interval=0.5, what="whole file acknowledged")
        self.assertEqual(a.stop(), 0)
        # Stream the output: sequence numbers must be exactly 0..total-1.
        seen = bytearray(total)
        count = 0
        pat = re.compile(rb'"message":"big (\d{10}) ')
        out = os.path.join(a.out_dir, "out.jsonl")
        with open(out, "rb") as f:
            for line in f:
                m = pat.search(line)
                self.assertIsNotNone(m, line[:200])
                seen[int(m.group(1))] += 1
                count += 1
        self.assertEqual(count, total)
        self.assertEqual(seen.count(1), total)

    def test_glob_over_many_files(self):
        """A ** glob over 10,000 files (TAIL_MANY_FILES) in 20 directories,
        more than max_open_files: every line of every file exactly once."""
        a = self.agent(conf("{tmp}/logs/**/*.log", "read_from_head = true\n    max_open_files = 500",
                            refresh="10s"))
        expected = []
        for i in range(MANY_FILES):
            d = os.path.join(a.tmp, "logs", f"d{i % 20:02d}", "sub")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{i:05d}.log"), "w") as f:
                f.write(f"file {i:05d} line 1\nfile {i:05d} line 2\n")
            expected += [f"file {i:05d} line 1", f"file {i:05d} line 2"]
        a.start()
        wait_count(a, len(expected), timeout=120)
        # and new lines appended to a few of them afterwards
        for i in range(0, MANY_FILES, max(1, MANY_FILES // 10)):
            p = os.path.join(a.tmp, "logs", f"d{i % 20:02d}", "sub", f"f{i:05d}.log")
            with open(p, "a") as f:
                f.write(f"file {i:05d} line 3\n")
            expected.append(f"file {i:05d} line 3")
        wait_count(a, len(expected), timeout=60)
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, expected)


class Content(TailTestCase):
    def test_10mb_line_truncated_and_file_keeps_going(self):
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true"))
        log = os.path.join(a.tmp, "logs", "long.log")
        big = "L" * (10 * 1024 * 1024)
        with open(log, "w") as f:
            f.write("before\n" + big + "\nafter\n")
        a.start()
        got = wait_count(a, 3)
        got = stop_and_read(a, QUIET)
        marker = "[truncated]"
        cut = "L" * (1024 * 1024 - len(marker)) + marker
        self.assertExactly(got, ["before", cut, "after"])
        self.assertEqual(len(cut.encode()), 1024 * 1024)

    def test_long_line_split(self):
        a = self.agent(conf("{tmp}/logs/*.log",
                            "read_from_head = true\n    long_lines = split\n    max_line_size = 64KiB"))
        log = os.path.join(a.tmp, "logs", "long.log")
        big = "".join(chr(ord("a") + i % 26) for i in range(200000))
        with open(log, "w") as f:
            f.write("before\n" + big + "\nafter\n")
        a.start()
        wait_count(a, 6)
        got = stop_and_read(a, QUIET)
        pieces = [big[i:i + 65536] for i in range(0, len(big), 65536)]
        self.assertExactly(got, ["before"] + pieces + ["after"])

    def test_invalid_utf8_crlf_nul(self):
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true"))
        log = os.path.join(a.tmp, "logs", "bin.log")
        with open(log, "wb") as f:
            f.write(b"plain\r\n")
            f.write(b"bad \xff\xfe byte\n")
            f.write(b"truncated seq \xe2\x82\n")
            f.write(b"overlong \xc0\xaf\n")
            f.write(b"surrogate \xed\xa0\x80\n")
            f.write(b"nul \x00 inside\n")
            f.write("good \u20ac \U0001F600\n".encode())
            f.write(bytes(range(1, 32)).replace(b"\n", b"") + b"\n")
        a.start()
        wait_count(a, 8)
        got = stop_and_read(a, QUIET)
        R = "\ufffd"
        ctrl = bytes(range(1, 32)).replace(b"\n", b"").decode()
        self.assertExactly(got, ["plain", f"bad {R}{R} byte", f"truncated seq {R}{R}",
                                 f"overlong {R}{R}", f"surrogate {R}{R}{R}", "nul \x00 inside",
                                 "good \u20ac \U0001F600", ctrl])

    def test_multiline_java_and_timeout(self):
        a = self.agent(conf("{tmp}/logs/*.log",
                            "read_from_head = true\n    multiline.parser = java\n"
                            "    multiline.timeout = 500ms"))
        log = os.path.join(a.tmp, "logs", "java.log")
        trace = ("2024-01-01 10:00:01 ERROR failed\n"
                 "java.lang.IllegalStateException: boom\n"
                 "\tat com.example.A.run(A.java:10)\n"
                 "\tat com.example.B.main(B.java:5)\n"
                 "Caused by: java.io.IOException: disk\n"
                 "\t... 2 more\n")
        with open(log, "w") as f:
            f.write("2024-01-01 10:00:00 INFO start\n" + trace + "2024-01-01 10:00:02 INFO last\n")
        a.start()
        got = wait_count(a, 3)   # the last record goes out on the timeout
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, ["2024-01-01 10:00:00 INFO start", trace.rstrip("\n"),
                                 "2024-01-01 10:00:02 INFO last"])

    def test_multiline_custom_start_and_caps(self):
        a = self.agent(conf("{tmp}/logs/*.log",
                            "read_from_head = true\n    multiline.start = ^\\[\n"
                            "    multiline.max_lines = 3\n    multiline.timeout = 300ms"))
        log = os.path.join(a.tmp, "logs", "m.log")
        with open(log, "w") as f:
            f.write("[1] a\n b\n c\n d\n e\n[2] x\n")
        a.start()
        wait_count(a, 3)
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, ["[1] a\n b\n c", " d\n e", "[2] x"])

    def test_time_format(self):
        a = self.agent(conf("{tmp}/logs/*.log",
                            "read_from_head = true\n    time_key = time\n"
                            "    time_format = %Y-%m-%dT%H:%M:%S.%f%z"))
        log = os.path.join(a.tmp, "logs", "t.log")
        with open(log, "w") as f:
            f.write("level=info time=2024-03-01T12:00:00.250+02:00 msg=one\n")
            f.write("level=info time=garbage msg=two\n")
            f.write('{"time": "2024-03-01T10:00:01.5Z", "msg": "three"}\n')
        a.start()
        wait_count(a, 3)
        recs = read_file_output(a.out_dir)
        self.assertEqual(a.stop(), 0)
        ts = {r["message"].split("msg")[-1]: r["timestamp"] for r in recs}
        base = 1709294400000  # 2024-03-01T12:00:00Z
        self.assertEqual(ts["=one"], base - 2 * 3600 * 1000 + 250)
        self.assertEqual(ts["=two"], ts["=one"])      # last good timestamp
        self.assertEqual(ts['": "three"}'], base - 2 * 3600 * 1000 + 1500)


class Discovery(TailTestCase):
    def test_new_dirs_and_files_found_quickly_with_exclude(self):
        a = self.agent(conf("{tmp}/logs/**/*.log", "exclude_path = *.skip.log", refresh="60s"))
        a.start()
        a.wait_log("following 0 files")
        d = os.path.join(a.tmp, "logs", "later", "deeper")
        os.makedirs(d)
        with open(os.path.join(d, "x.log"), "w") as f:
            f.write("found me\n")
        with open(os.path.join(d, "y.skip.log"), "w") as f:
            f.write("excluded\n")
        # found by inotify, not by the 60 s rescan (how fast: bench_latency.py)
        wait_count(a, 1, timeout=10)
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, ["found me"])

    def test_low_watch_cap_falls_back_to_polling(self):
        a = self.agent(conf("{tmp}/logs/*/*.log",
                            "read_from_head = true\n    max_watches = 2\n    poll_interval = 300ms"))
        expected = []
        for d in range(5):
            os.makedirs(os.path.join(a.tmp, "logs", f"d{d}"))
        a.start()
        a.wait_log("max_watches (2) reached")
        for d in range(5):
            with open(os.path.join(a.tmp, "logs", f"d{d}", "a.log"), "w") as f:
                for i in range(100):
                    f.write(f"d{d} {i}\n")
                    expected.append(f"d{d} {i}")
        w = Writer(os.path.join(a.tmp, "logs", "d4", "a.log"), 3000, rate=5000, tag="poll")
        w.start()
        w.join(30)
        expected += w.lines
        wait_count(a, len(expected))
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, expected)
        self.assertEqual(a.stderr().count("max_watches (2) reached"), 1)

    def test_inotify_queue_overflow(self):
        """Events lost (IN_Q_OVERFLOW: the agent is stopped with SIGSTOP while
        more than fs.inotify.max_queued_events happen): said once, rescanned,
        nothing lost."""
        try:
            with open("/proc/sys/fs/inotify/max_queued_events") as f:
                limit = int(f.read())
        except OSError:
            limit = 16384
        if limit > 100000:
            self.skipTest(f"max_queued_events is {limit}")
        a = self.agent(conf("{tmp}/logs/*.log", refresh="60s"))
        logs = os.path.join(a.tmp, "logs")
        with open(os.path.join(logs, "busy.log"), "w") as f:
            f.write("present at start, not read\n")
        a.start()
        a.wait_log("following 1 files")
        expected = []
        os.kill(a.pid, signal.SIGSTOP)
        try:
            n = limit // 2 + 200   # create + modify per file: more events than the queue holds
            for i in range(n):
                with open(os.path.join(logs, f"o{i:05d}.log"), "w") as f:
                    f.write(f"overflow {i}\n")
                expected.append(f"overflow {i}")
            with open(os.path.join(logs, "busy.log"), "a") as f:
                f.write("appended while stopped\n")
            expected.append("appended while stopped")
        finally:
            os.kill(a.pid, signal.SIGCONT)
        wait_count(a, len(expected), timeout=60)
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, expected)
        self.assertEqual(a.stderr().count("inotify queue overflowed"), 1)

    def test_no_inotify_at_all(self):
        a = self.agent(conf("{tmp}/logs/*.log", "max_watches = 0\n    poll_interval = 200ms"))
        log = os.path.join(a.tmp, "logs", "app.log")
        open(log, "w").close()
        a.start()
        a.wait_log("following 1 files")
        n = [0]

        def rotate(w):
            w.f.close()
            n[0] += 1
            os.rename(w.path, f"{w.path}.{n[0]}")
            w.open()
        w = Writer(log, 6000, rate=5000, every=2000, rotate=rotate)
        w.start()
        w.join(60)
        wait_count(a, len(w.lines))
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, w.lines)


class Resources(TailTestCase):
    def test_close_inactive_and_reopen(self):
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true\n    close_inactive = 300ms"))
        logs = os.path.join(a.tmp, "logs")
        for i in range(3):
            with open(os.path.join(logs, f"f{i}.log"), "w") as f:
                f.write(f"f{i} first\n")
        a.start()
        wait_count(a, 3)
        pid = a.pid
        fd_dir = f"/proc/{pid}/fd"

        def open_logs():
            n = 0
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(os.path.join(fd_dir, fd)).startswith(logs):
                        n += 1
                except OSError:
                    pass
            return n
        a.wait_for(lambda: open_logs() == 0, timeout=10, what="idle files closed")
        for i in range(3):
            with open(os.path.join(logs, f"f{i}.log"), "a") as f:
                f.write(f"f{i} second\n")
        wait_count(a, 6)
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, [f"f{i} {w}" for i in range(3) for w in ("first", "second")])


class Errors(TailTestCase):
    def test_invalid_multiline_regex_is_a_config_error(self):
        a = self.agent(conf("{tmp}/logs/*.log", "multiline.start = ^(unclosed"))
        r = run_cli(["check-config", "-c", a.conf_dir])
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr + r.stdout, r"00-test\.conf:\d+: .*multiline\.start: invalid regex")

    def test_unknown_time_directive_is_a_config_error(self):
        a = self.agent(conf("{tmp}/logs/*.log", "time_format = %Y-%Q"))
        r = run_cli(["check-config", "-c", a.conf_dir])
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr + r.stdout, r"00-test\.conf:\d+: .*time_format: unknown directive %Q")

    def test_directory_fifo_and_vanishing_file(self):
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true"))
        logs = os.path.join(a.tmp, "logs")
        os.mkdir(os.path.join(logs, "dir.log"))
        os.mkfifo(os.path.join(logs, "fifo.log"))
        with open(os.path.join(logs, "ok.log"), "w") as f:
            f.write("ok 1\n")
        a.start()
        wait_count(a, 1)
        a.wait_log("dir.log: is a directory")
        a.wait_log("fifo.log: not a regular file")
        # a file that vanishes right after it appears, and one that appears later
        for i in range(20):
            p = os.path.join(logs, f"flash{i}.log")
            with open(p, "w") as f:
                f.write(f"flash {i}\n")
            os.unlink(p)
        with open(os.path.join(logs, "ok.log"), "a") as f:
            f.write("ok 2\n")
        wait_count(a, 2)
        time.sleep(QUIET)
        self.assertTrue(a.running())
        got = [m for m in stop_and_read(a) if not m.startswith("flash")]
        self.assertExactly(got, ["ok 1", "ok 2"])
        self.assertEqual(a.stderr().count("dir.log: is a directory"), 1)

    def test_vanished_mount(self):
        """A volume unmounted under a followed file: said clearly, the open
        file read to its end, the agent keeps running, and files on a volume
        mounted there later are followed."""
        a = self.agent(conf("{tmp}/logs/vol/*.log", "read_from_head = true"))
        vol = os.path.join(a.tmp, "logs", "vol")
        os.makedirs(vol)
        if subprocess.run(["mount", "-t", "tmpfs", "none", vol], capture_output=True).returncode:
            self.skipTest("cannot mount tmpfs here")
        self.addCleanup(subprocess.run, ["umount", "-l", vol], capture_output=True)
        log = os.path.join(vol, "app.log")
        with open(log, "w") as f:
            f.write("on volume 1\n")
        a.start()
        wait_count(a, 1)
        writer = open(log, "a", buffering=1)
        writer.write("on volume 2\n")
        subprocess.run(["umount", "-l", vol], check=True)
        writer.write("after unmount, through the open file\n")
        writer.close()
        a.wait_log("went away (deleted or unmounted)")
        wait_count(a, 3)
        subprocess.run(["mount", "-t", "tmpfs", "none", vol], check=True)
        with open(os.path.join(vol, "back.log"), "w") as f:
            f.write("new volume\n")
        wait_count(a, 4, timeout=15)
        time.sleep(QUIET)
        self.assertTrue(a.running())
        got = stop_and_read(a)
        self.assertExactly(got, ["on volume 1", "on volume 2", "after unmount, through the open file",
                                 "new volume"])

    def test_permission_denied_then_fixed(self):
        """Run as nobody: an unreadable file is reported once, retried, and
        read fully once its mode is fixed."""
        a = self.agent(conf("{tmp}/logs/*.log", "read_from_head = true"))
        logs = os.path.join(a.tmp, "logs")
        secret = os.path.join(logs, "secret.log")
        with open(secret, "w") as f:
            f.write("secret 1\n")
        os.chmod(secret, 0)
        with open(os.path.join(logs, "ok.log"), "w") as f:
            f.write("ok 1\n")
        for root, dirs, files in os.walk(a.tmp):
            for n in dirs:
                os.chmod(os.path.join(root, n), 0o777)
            for n in files:
                if n != "secret.log":
                    os.chmod(os.path.join(root, n), 0o666)
        os.chmod(a.tmp, 0o777)
        a.proc = subprocess.Popen([BINARY, "run", "-c", a.conf_dir], env=base_env(),
                                  stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(a.tmp, "agent.stderr"), "ab"),
                                  cwd=a.tmp, preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        wait_count(a, 1)
        a.wait_log("secret.log: Permission denied")
        os.chmod(secret, 0o644)
        with open(secret, "a") as f:
            f.write("secret 2\n")
        wait_count(a, 3, timeout=15)
        got = stop_and_read(a, QUIET)
        self.assertExactly(got, ["ok 1", "secret 1", "secret 2"])
        self.assertEqual(a.stderr().count("secret.log: Permission denied"), 1)


if __name__ == "__main__":
    unittest.main()
