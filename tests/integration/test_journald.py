"""Integration tests of the journald input: real journal files written by
systemd-journal-remote from export-format text (no journald daemon), read by
the real binary through sd-journal. Delivery tests stop the agent before they
read the output and assert exact counts: none lost, none repeated."""
import collections
import os
import shutil
import struct
import subprocess
import time
import unittest

from tests.integration.harness import Agent, messages, read_file_output

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT_ID = "0123456789abcdef0123456789abcdef"


def export_entry(fields, realtime_us, monotonic_us):
    """One entry in the journal export format; a value with a newline or
    bytes that are not text is written in the binary form."""
    out = bytearray()
    out += b"__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n" % (
        realtime_us, monotonic_us, BOOT_ID.encode())
    for key, value in fields.items():
        if value is None:
            continue
        data = value if isinstance(value, bytes) else str(value).encode()
        try:
            data.decode("utf-8")
            plain = b"\n" not in data
        except UnicodeDecodeError:
            plain = False
        if plain:
            out += key.encode() + b"=" + data + b"\n"
        else:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
    return bytes(out) + b"\n"


class Journal:
    """Appends entries to a journal file with systemd-journal-remote."""
    clock = 1_700_000_000_000_000  # shared, so every entry ever written is later than the last

    def __init__(self, path):
        self.path = path

    def write(self, entries):
        """Returns each entry's __REALTIME_TIMESTAMP (µs)."""
        text = bytearray()
        stamps = []
        for fields in entries:
            Journal.clock += 1000
            stamps.append(Journal.clock)
            text += export_entry(fields, Journal.clock, Journal.clock - 1_690_000_000_000_000)
        proc = subprocess.run([JOURNAL_REMOTE, "--output=" + self.path, "-"], input=bytes(text),
                              capture_output=True, timeout=120)
        if proc.returncode != 0:
            raise AssertionError(f"journal-remote failed: {proc.stderr.decode(errors='replace')}")
        return stamps

    def lines(self, tag, n, unit="docker.service", **extra):
        entries = [dict({"MESSAGE": f"{tag} {i:07d}", "_SYSTEMD_UNIT": unit, "PRIORITY": 6,
                         "_PID": 1234, "_HOSTNAME": "ip-10-0-0-7", "SYSLOG_IDENTIFIER": "dockerd"},
                        **extra) for i in range(n)]
        self.write(entries)
        return [e["MESSAGE"] for e in entries]


def conf(extra="", agent_extra=""):
    return f"""
    [agent]
    data_dir = {{data_dir}}
    shutdown_timeout = 20s
    {agent_extra}

    [input j]
    type = journald
    path = {{tmp}}/journal
    {extra}

    [output out]
    type = file
    match = *
    path = {{out_dir}}
    flush_interval = 100ms
    """


@unittest.skipUnless(os.access(JOURNAL_REMOTE, os.X_OK), "systemd-journal-remote not installed")
class JournaldTestCase(unittest.TestCase):
    def agent(self, text, **kw):
        a = Agent(text, **kw)
        self.addCleanup(a.cleanup)
        os.makedirs(os.path.join(a.tmp, "journal"), exist_ok=True)
        return a

    def journal(self, a, name="system.journal"):
        return Journal(os.path.join(a.tmp, "journal", name))

    def wait_count(self, a, n, timeout=60):
        a.wait_for(lambda: len(read_file_output(a.out_dir)) >= n, timeout,
                   what=f"{n} records")

    def assertExactly(self, got, expected):
        got_c, exp_c = collections.Counter(got), collections.Counter(expected)
        lost = exp_c - got_c
        repeated = got_c - exp_c
        self.assertEqual(sum(lost.values()), 0, f"lost: {list(lost)[:5]}")
        self.assertEqual(sum(repeated.values()), 0, f"repeated or unknown: {list(repeated)[:5]}")
        self.assertEqual(got, expected, "order")


class Records(JournaldTestCase):
    def test_fields_filters_and_binary_messages(self):
        a = self.agent(conf("read_from_head = true\n    units = docker.service ecs*.service\n"
                            "    identifiers = kernel\n    priority = info"))
        j = self.journal(a)
        written = j.write([
            {"MESSAGE": "docker up", "_SYSTEMD_UNIT": "docker.service", "PRIORITY": 6,
             "SYSLOG_IDENTIFIER": "dockerd", "_PID": 812, "_HOSTNAME": "ip-10-0-0-7"},
            {"MESSAGE": "too verbose", "_SYSTEMD_UNIT": "docker.service", "PRIORITY": 7},
            {"MESSAGE": "ecs-init started", "_SYSTEMD_UNIT": "ecs.service", "PRIORITY": 5,
             "SYSLOG_IDENTIFIER": "ecs-init"},
            {"MESSAGE": "sshd noise", "_SYSTEMD_UNIT": "sshd.service", "PRIORITY": 6,
             "SYSLOG_IDENTIFIER": "sshd"},
            {"MESSAGE": "Out of memory: Killed process 4242", "SYSLOG_IDENTIFIER": "kernel",
             "PRIORITY": 3},
            {"MESSAGE": b"bad \xff\xfe utf8 and \x00 nul\nsecond line",
             "_SYSTEMD_UNIT": "docker.service", "PRIORITY": 4},
            {"MESSAGE": "", "_SYSTEMD_UNIT": "docker.service", "PRIORITY": 6},
            {"_SYSTEMD_UNIT": "docker.service", "PRIORITY": 6, "CODE_LINE": 3},
            {"MESSAGE": "no priority means info", "_SYSTEMD_UNIT": "ecs.service"},
        ])
        a.start()
        self.wait_count(a, 5)
        time.sleep(0.5)
        self.assertEqual(a.stop(), 0)
        recs = read_file_output(a.out_dir)
        self.assertEqual(messages(recs), [
            "docker up", "ecs-init started", "Out of memory: Killed process 4242",
            "bad \ufffd\ufffd utf8 and \x00 nul\nsecond line", "no priority means info"])
        first = recs[0]
        self.assertEqual(first["_SYSTEMD_UNIT"], "docker.service")
        self.assertEqual(first["SYSLOG_IDENTIFIER"], "dockerd")
        self.assertEqual(first["PRIORITY"], "6")
        self.assertEqual(first["_PID"], "812")
        self.assertEqual(first["_HOSTNAME"], "ip-10-0-0-7")
        self.assertEqual(first["systemd_unit"], "docker.service")
        self.assertEqual(first["syslog_identifier"], "dockerd")
        kernel = recs[2]
        self.assertEqual(kernel["syslog_identifier"], "kernel")
        self.assertNotIn("systemd_unit", kernel)
        # The time is the entry's __REALTIME_TIMESTAMP, not the read time. (The
        # journal clock is shared with test_ecs_host, which moves it to now:
        # compare with what was written, not with a fixed age.)
        stamps = [r["timestamp"] for r in recs]
        self.assertEqual(stamps, [written[i] // 1000 for i in (0, 2, 4, 5, 8)], a.stderr()[-3000:])

    def test_templates_use_unit_and_identifier(self):
        """{unit} and {identifier} in a name template: check-config accepts
        them (the file output has no templates; CloudWatch tests cover
        rendering through the fake in test_ecs_host)."""
        from tests.integration.harness import run_cli
        a = self.agent(conf() + """
    [output cw]
    type = cloudwatch_logs
    match = nothing
    log_group = /ecs/host/{unit}
    log_stream = {identifier}
    """)
        bad = self.agent(conf() + """
    [output cw]
    type = cloudwatch_logs
    match = nothing
    log_group = /ecs/host/{unitt}
    """)
        res = run_cli(["check-config", "-c", a.conf_dir], env={"AWS_REGION": "us-east-1"})
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        res = run_cli(["check-config", "-c", bad.conf_dir], env={"AWS_REGION": "us-east-1"})
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("unknown placeholder {unitt}", res.stdout + res.stderr)

    def test_bad_priority_is_a_config_error(self):
        from tests.integration.harness import run_cli
        a = self.agent(conf("priority = loud"))
        res = run_cli(["check-config", "-c", a.conf_dir])
        self.assertNotEqual(res.returncode, 0)
        self.assertRegex(res.stdout + res.stderr, r"00-test.conf:\d+.*priority = 'loud'")


class Position(JournaldTestCase):
    def test_restart_neither_loses_nor_repeats(self):
        a = self.agent(conf("read_from_head = true"))
        j = self.journal(a)
        first = j.lines("one", 3000)
        a.start()
        self.wait_count(a, 3000)
        self.assertEqual(a.stop(), 0)
        while_stopped = j.lines("two", 2000)
        a.start()
        live = j.lines("three", 1000)
        expected = first + while_stopped + live
        self.wait_count(a, len(expected))
        time.sleep(1)  # anything repeated would arrive now
        self.assertEqual(a.stop(), 0)
        self.assertExactly(messages(read_file_output(a.out_dir)), expected)

    def test_first_start_reads_from_the_end_and_remembers_it(self):
        """Without read_from_head the journal's past is not read; what is
        written after the first start is, even across a restart before
        anything new was acknowledged."""
        a = self.agent(conf())
        j = self.journal(a)
        j.lines("old", 100)
        a.start()
        a.wait_log("reading the journal")
        self.assertEqual(a.stop(), 0)
        after = j.lines("new", 50)      # written while stopped, after the first start
        a.start()
        self.wait_count(a, 50)
        time.sleep(1)
        self.assertEqual(a.stop(), 0)
        self.assertExactly(messages(read_file_output(a.out_dir)), after)

    def test_empty_journal_at_first_start_is_read_from_its_head(self):
        a = self.agent(conf())
        a.start()
        a.wait_log("none yet")
        self.assertEqual(a.stop(), 0)
        lines = self.journal(a).lines("later", 20)
        a.start()
        self.wait_count(a, 20)
        time.sleep(0.5)
        self.assertEqual(a.stop(), 0)
        self.assertExactly(messages(read_file_output(a.out_dir)), lines)

    def test_rotation_and_vacuum(self):
        """A new file appears while running (journald's rotation), the old
        one is deleted while stopped (vacuuming), including the file holding
        the saved cursor's entry: what follows it is read, once."""
        a = self.agent(conf("read_from_head = true"))
        old = self.journal(a, "system@0001.journal")
        first = old.lines("a", 1000)
        a.start()
        self.wait_count(a, 1000)
        new = self.journal(a, "system.journal")
        rotated = new.lines("b", 1000)
        self.wait_count(a, 2000)
        self.assertEqual(a.stop(), 0)
        os.unlink(old.path)                               # vacuumed while stopped
        while_stopped = new.lines("c", 500)
        a.start()
        self.wait_count(a, 2500)
        time.sleep(1)
        self.assertEqual(a.stop(), 0)
        self.assertExactly(messages(read_file_output(a.out_dir)), first + rotated + while_stopped)

    def test_first_file_appears_while_running(self):
        """The journal's first file is created while the agent runs, in a
        machine-id directory, and filled through mmap (no write events):
        found by listing the directory, read once."""
        a = self.agent(conf("read_from_head = true"))
        machine = os.path.join(a.tmp, "journal", "0123456789abcdef0123456789abcdef")
        os.makedirs(machine)
        a.start()
        a.wait_log("none yet")
        j = Journal(os.path.join(machine, "system.journal"))
        first = j.lines("x", 50)
        self.wait_count(a, 50, timeout=20)
        more = j.lines("y", 50)
        self.wait_count(a, 100, timeout=20)
        time.sleep(1)
        self.assertEqual(a.stop(), 0)
        self.assertExactly(messages(read_file_output(a.out_dir)), first + more)
        self.assertNotIn("skipping journal file", a.stderr())

    def test_saved_entry_vacuumed(self):
        """The cursor's own entry is gone at restart: the first entry after
        it is read, not skipped."""
        a = self.agent(conf("read_from_head = true"))
        old = self.journal(a, "system@0001.journal")
        first = old.lines("a", 300)
        a.start()
        self.wait_count(a, 300)
        self.assertEqual(a.stop(), 0)
        new = self.journal(a, "system.journal")
        rotated = new.lines("b", 300)
        os.unlink(old.path)
        a.start()
        self.wait_count(a, 600)
        time.sleep(1)
        self.assertEqual(a.stop(), 0)
        self.assertExactly(messages(read_file_output(a.out_dir)), first + rotated)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root and unshare")
class Memory(JournaldTestCase):
    def test_read_entries_do_not_stay_mapped(self):
        # sd-journal keeps what it read mapped: of 80,000 entries (a 32 MiB
        # journal file), 22.9 MiB stayed resident in the agent's RSS. The
        # input gives the pages up every 16,384 entries: ~5 MiB stay.
        n = 80000
        a = self.agent(conf("read_from_head = true"))
        j = self.journal(a)
        for start in range(0, n, 20000):
            j.write([{"MESSAGE": f"level=info msg=\"request served\" id={i:09d} path=/api/v1/items "
                                 f"status=200 bytes=5120 duration=0.0123",
                      "_SYSTEMD_UNIT": "app.service", "SYSLOG_IDENTIFIER": "app", "PRIORITY": 6,
                      "_PID": 4242, "_HOSTNAME": "ip-10-0-0-7"}
                     for i in range(start, start + 20000)])
        size = os.path.getsize(os.path.join(a.tmp, "journal", "system.journal"))
        a.start()
        self.wait_count(a, n, timeout=120)

        def journal_rss_kib():
            total, inside = 0, False
            with open(f"/proc/{a.pid}/smaps") as f:
                for line in f:
                    head = line.split()
                    if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                        inside = len(head) >= 6 and head[5].endswith((".journal", ".journal~"))
                    elif inside and head[0] == "Rss:":
                        total += int(head[1])
            return total
        rss = journal_rss_kib()
        print(f"\n  journal {size >> 20} MiB read: {rss} KiB of it resident", flush=True)
        self.assertGreater(size, 20 << 20, "the journal is larger than what may stay mapped")
        self.assertLess(rss, 8 << 10, f"{rss} KiB of a {size >> 20} MiB journal still resident")
        self.assertEqual(a.stop(), 0)
        self.assertEqual(len(read_file_output(a.out_dir)), n)


class SystemJournal(JournaldTestCase):
    """Without `path`: the system journal (/var/log/journal), here a test
    directory bind-mounted over /var/log in a mount namespace of the
    agent's own (unshare -m), so the host's journal is neither read nor
    touched."""

    def start_with_var_log(self, a, var_log):
        from tests.integration.harness import BINARY, base_env
        a.own_status_socket()
        cmd = ["unshare", "-m", "sh", "-c",
               'mount --bind "$0" /var/log && exec "$1" run -c "$2"', var_log, BINARY, a.conf_dir]
        out = open(os.path.join(a.tmp, "agent.stdout"), "ab")
        err = open(os.path.join(a.tmp, "agent.stderr"), "ab")
        self.addCleanup(out.close)
        self.addCleanup(err.close)
        a.proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=base_env(a.env), cwd=a.tmp)

    def test_file_created_and_filled_while_running(self):
        """journald (and journal-remote) fill a new file through mmap: the
        system journal's first file, created while the agent runs, is read
        from its first entry, and what is appended later too, once."""
        a = self.agent(conf("units = docker.service").replace("path = {tmp}/journal", ""))
        var_log = os.path.join(a.tmp, "varlog")
        machine = os.path.join(var_log, "journal", "0123456789abcdef0123456789abcdef")
        os.makedirs(machine)
        self.start_with_var_log(a, var_log)
        a.wait_log("none yet")
        j = Journal(os.path.join(machine, "system.journal"))
        expected = j.lines("a", 3)
        time.sleep(1)
        expected += j.lines("b", 2)
        self.wait_count(a, 5, timeout=20)
        time.sleep(3)
        expected += j.lines("c", 2)
        self.wait_count(a, 7, timeout=20)
        time.sleep(1)
        self.assertEqual(a.stop(), 0)
        self.assertExactly(messages(read_file_output(a.out_dir)), expected)


class Trouble(JournaldTestCase):
    def test_corrupt_file_skipped_with_a_log_line(self):
        a = self.agent(conf("read_from_head = true"))
        good = self.journal(a).lines("good", 200)
        bad = os.path.join(a.tmp, "journal", "user-1000.journal")
        with open(bad, "wb") as f:
            f.write(b"LPKSHHRH" + os.urandom(20000))
        a.start()
        self.wait_count(a, 200)
        a.wait_log("skipping journal file " + bad)
        time.sleep(0.5)
        self.assertEqual(a.stop(), 0)
        self.assertExactly(messages(read_file_output(a.out_dir)), good)
        self.assertEqual(a.stderr().count("skipping journal file"), 1)

    def test_no_journal_does_not_stop_the_agent(self):
        """A host (or container) without the journal: said, retried, and the
        other inputs keep going; when it appears it is read."""
        a = self.agent(conf("read_from_head = true").replace("{tmp}/journal", "{tmp}/absent") + """
    [input gen]
    type = generate
    count = 10
    """)
        a.start()
        a.wait_log("cannot open the journal")
        self.wait_count(a, 10)
        os.makedirs(os.path.join(a.tmp, "absent"))
        lines = Journal(os.path.join(a.tmp, "absent", "system.journal")).lines("late", 5)
        self.wait_count(a, 15, timeout=30)
        time.sleep(0.5)
        self.assertEqual(a.stop(), 0)
        got = [m for m in messages(read_file_output(a.out_dir)) if m.startswith("late")]
        self.assertEqual(got, lines)


if __name__ == "__main__":
    unittest.main()
