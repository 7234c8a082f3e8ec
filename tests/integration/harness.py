"""Helpers for integration tests that run the real `collector` binary.

    with Agent('''
        [agent]
        data_dir = {data_dir}
        [input gen]
        type = generate
        count = 10
        [output out]
        type = file
        match = *
        path = {out_dir}
        flush_interval = 200ms
    ''') as agent:
        agent.start()
        agent.wait_for(lambda: len(read_file_output(agent.out_dir)) == 10)
        assert agent.stop() == 0

Placeholders {tmp}, {data_dir}, {out_dir} in the configuration are replaced
(plain text replacement, so ${VAR} stays for the agent to expand). Every
agent a test starts is stopped by pid when the context exits.
"""
import glob
import gzip
import json
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("COLLECTOR_BUILD", os.path.join(ROOT, "build")))
BINARY = os.path.join(BUILD, "collector")


def sanitized():
    """Is the binary under test built with AddressSanitizer? Its memory figures
    then include the shadow memory and the free quarantine (16 MiB, below)."""
    try:
        with open(BINARY, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


ASAN_QUARANTINE_KIB = 16 * 1024


def base_env(extra=None):
    env = dict(os.environ)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    # Leak reports under ASan make the process exit non-zero, which tests see.
    # A small quarantine keeps a sanitized agent's RSS near a real one's, so
    # memory bounds can be checked in both builds.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=16")
    if extra:
        env.update(extra)
    return env


def run_cli(args, env=None, timeout=60, cwd=None):
    """Run `collector ARGS...` to completion; returns CompletedProcess (text)."""
    return subprocess.run([BINARY] + list(args), env=base_env(env), capture_output=True,
                          text=True, errors="replace", timeout=timeout, cwd=cwd)


class Agent:
    def __init__(self, config_text=None, env=None, files=None, conf_name="00-test.conf",
                 own_listen=True):
        self.tmp = tempfile.mkdtemp(prefix="collector-test-")
        # An agent whose configuration names no http_listen gets a unix
        # socket of its own (own_status_socket): the default 127.0.0.1:8934
        # is one port for every test running at the same time (the second
        # agent would run without an endpoint, and the tests of the default
        # port would see another test's agent). Those tests say
        # own_listen=False.
        self.own_listen = own_listen
        self.data_dir = os.path.join(self.tmp, "data")
        self.out_dir = os.path.join(self.tmp, "out")
        self.conf_dir = os.path.join(self.tmp, "conf.d")
        os.makedirs(self.conf_dir)
        self.env = env or {}
        self.proc = None
        self._stdout = None
        self._stderr = None
        if config_text is not None:
            self.write_config(config_text, conf_name)
        for name, text in (files or {}).items():
            self.write_config(text, name)

    # -- configuration
    def expand(self, text):
        text = textwrap.dedent(text)
        for key, value in (("{tmp}", self.tmp), ("{data_dir}", self.data_dir),
                           ("{out_dir}", self.out_dir)):
            text = text.replace(key, value)
        return text

    def write_config(self, text, name="00-test.conf"):
        path = os.path.join(self.conf_dir, name)
        with open(path, "w") as f:
            f.write(self.expand(text))
        return path

    def own_status_socket(self):
        """Give a configuration without http_listen a socket in tmp."""
        files = sorted(os.listdir(self.conf_dir))
        texts = {}
        for name in files:
            with open(os.path.join(self.conf_dir, name)) as f:
                texts[name] = f.read()
        if any("http_listen" in t for t in texts.values()):
            return
        line = "http_listen = %s/status.sock\n" % self.tmp
        for name in files:
            lines = texts[name].splitlines(keepends=True)
            for i, l in enumerate(lines):
                if l.strip() == "[agent]":
                    lines.insert(i + 1, line)
                    with open(os.path.join(self.conf_dir, name), "w") as f:
                        f.write("".join(lines))
                    return
        self.write_config("[agent]\n" + line, name="00-harness-listen.conf")

    # -- process
    def start(self, args=None, wrapper=None):
        """Start `collector run -c <conf.d>` (or `collector ARGS`), under
        `wrapper` (a command prefix such as strace's) when given."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._stdout = open(os.path.join(self.tmp, "agent.stdout"), "ab")
        self._stderr = open(os.path.join(self.tmp, "agent.stderr"), "ab")
        if args is None and self.own_listen:
            self.own_status_socket()
        cmd = [BINARY, "run", "-c", self.conf_dir] if args is None else [BINARY] + list(args)
        cmd = list(wrapper or []) + cmd
        self.proc = subprocess.Popen(cmd, stdout=self._stdout, stderr=self._stderr,
                                     env=base_env(self.env), cwd=self.tmp)
        return self.proc

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.running():
            os.kill(self.proc.pid, sig)

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the agent and wait; returns its exit code (kills it after timeout)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"agent did not stop within {timeout}s after signal {sig}\n"
                                     + self.stderr()[-3000:])
        self._close_files()
        return self.proc.returncode

    def kill9(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def _close_files(self):
        for f in (self._stdout, self._stderr):
            if f:
                f.close()
        self._stdout = self._stderr = None

    def _read(self, name):
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path):
            return ""
        with open(path, errors="replace") as f:
            return f.read()

    def stderr(self):
        return self._read("agent.stderr")

    def stdout(self):
        return self._read("agent.stdout")

    def wait_for(self, pred, timeout=30, interval=0.05, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return True
            if self.proc is not None and self.proc.poll() is not None and not pred():
                raise AssertionError(f"agent exited ({self.proc.returncode}) while waiting for "
                                     f"{what}\n" + self.stderr()[-3000:])
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}\n"
                             + self.stderr()[-3000:])

    def wait_log(self, text, timeout=30):
        return self.wait_for(lambda: text in self.stderr(), timeout, what=repr(text))

    def cleanup(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()
        self._close_files()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


def output_files(out_dir, name=None):
    """The files of one file output, oldest first: <f>.N ... <f>.1, <f>."""
    pattern = os.path.join(out_dir, (name + ".jsonl*") if name else "*.jsonl*")
    files = glob.glob(pattern)

    def order(path):
        base, _, suffix = path.rpartition(".")
        return (0, -int(suffix)) if suffix.isdigit() else (1, 0)
    return sorted(files, key=order)


def read_file_output(out_dir, name=None):
    """Every record the file output wrote, oldest first, as dicts. A line
    being written (no trailing newline yet) is not returned."""
    records = []
    for path in output_files(out_dir, name):
        opener = gzip.open if ".gz" in os.path.basename(path) else open
        try:
            with opener(path, "rb") as f:
                data = f.read()
        except (EOFError, OSError):
            continue  # a gzip member still being written
        lines = data.split(b"\n")
        for line in lines[:-1]:
            if line:
                records.append(json.loads(line))
    return records


def messages(records):
    return [r["message"] for r in records if "message" in r]


# -- delivery: the one way an integration test asserts what arrived ----------
#
# A duplicate can come late: from a rescan (refresh_interval), from a closed
# rotated file (rotate_wait), from a retry after a timeout, or from the
# shutdown flush. So a delivery test first waits until the expected records
# are there, then waits past every timer that could resend (`quiet`), then
# stops the agent (its shutdown flush included), and only then reads
# everything and compares exact counts.

def stop_and_read(agent, quiet=0.0, code=0, name=None, read=None):
    """Wait `quiet` seconds (longer than every timer that could resend), stop
    the agent, assert its exit code (unless code is None), then return every
    message the file output holds (or what `read()` returns, for another
    destination such as the fake CloudWatch)."""
    if quiet:
        time.sleep(quiet)
    rc = agent.stop()
    if code is not None and rc != code:
        raise AssertionError(f"agent exited {rc}, expected {code}\n" + agent.stderr()[-3000:])
    if read is not None:
        return read()
    return messages(read_file_output(agent.out_dir, name))


class DeliveryCounts:
    """Exact counts of one delivery: what was lost, what arrived more than
    once, what arrived that was never sent."""

    def __init__(self, got, expected):
        from collections import Counter
        got_c, exp_c = Counter(got), Counter(expected)
        self.lost = exp_c - got_c
        self.unexpected = Counter({k: v for k, v in got_c.items() if k not in exp_c})
        self.duplicated = Counter({k: got_c[k] - exp_c[k] for k in got_c
                                   if k in exp_c and got_c[k] > exp_c[k]})
        self.n_lost = sum(self.lost.values())
        self.n_duplicated = sum(self.duplicated.values())
        self.n_unexpected = sum(self.unexpected.values())

    def __str__(self):
        return (f"{self.n_lost} lost (e.g. {list(self.lost)[:3]}), {self.n_duplicated} "
                f"duplicated (e.g. {list(self.duplicated)[:3]}), {self.n_unexpected} never "
                f"sent (e.g. {list(self.unexpected)[:3]})")


def assert_delivered(got, expected, max_duplicates=0, ordered=False, what="records"):
    """Every expected record arrived, nothing arrived that was not sent, and at
    most `max_duplicates` extra copies (0 where the design promises once).
    With ordered, each record's first arrival follows the previous one's.
    Returns the DeliveryCounts."""
    counts = DeliveryCounts(got, expected)
    if counts.n_lost or counts.n_unexpected or counts.n_duplicated > max_duplicates:
        raise AssertionError(f"{what}: {counts}; allowed {max_duplicates} duplicates")
    if ordered:
        first = []
        seen = set()
        for r in got:
            if r not in seen:
                seen.add(r)
                first.append(r)
        unique_expected = list(dict.fromkeys(expected))
        if first != unique_expected:
            at = next(i for i, (x, y) in enumerate(zip(first, unique_expected)) if x != y)
            raise AssertionError(f"{what}: out of order at {at}: {first[at:at + 3]} "
                                 f"where {unique_expected[at:at + 3]} was expected")
    return counts


def assert_exactly_once(got, expected, ordered=False, what="records"):
    """0 lost, 0 duplicated, nothing never sent."""
    return assert_delivered(got, expected, 0, ordered, what)


def kill9_duplicate_bound(kills, checkpoint_interval_s, records_per_second, in_flight=0,
                          run_seconds=None):
    """The most copies kill -9 may add: a kill loses at most the
    acknowledgements of the last checkpoint_interval (records acknowledged but
    whose offset was not saved yet) plus what was in flight (sent, not yet
    acknowledged): those are read and sent again by the next run. Each kill
    can do that once.

    With run_seconds (how long each run lived before its kill), a run shorter
    than checkpoint_interval may have saved nothing, so its window adds to the
    one before it; the answer is then the largest single resend (one kill's
    window, in records), not the total."""
    if run_seconds is None:
        return kills * (int(checkpoint_interval_s * records_per_second) + in_flight)
    window = largest = 0.0
    for lived in run_seconds:
        window = window + lived if lived < checkpoint_interval_s else checkpoint_interval_s
        largest = max(largest, window)
    return int(largest * records_per_second) + in_flight


def resend_runs(got):
    """The lengths of the runs of repeated records in arrival order: a record
    seen before starts or continues a run, a new one ends it. A resent batch
    or a re-read from a checkpoint shows as one run, so a test can bound both
    how many times something was sent again and how much each time."""
    seen, runs, current = set(), [], 0
    for r in got:
        if r in seen:
            current += 1
        else:
            seen.add(r)
            if current:
                runs.append(current)
            current = 0
    if current:
        runs.append(current)
    return runs
