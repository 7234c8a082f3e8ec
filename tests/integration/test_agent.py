"""Integration tests of the foundation: command line, configuration errors,
routing, graceful stop, reload, and the local outputs, all through the real
binary."""
import gzip
import json
import os
import re
import signal
import subprocess
import time
import unittest

from tests.integration.harness import (Agent, BINARY, ROOT, messages, output_files,
                                       read_file_output, run_cli)


def gen_conf(count=1000, rate=0, size=100, tag="app.gen", extra_out="", extra_agent=""):
    return f"""
    [agent]
    data_dir = {{data_dir}}
    shutdown_timeout = 10s
    {extra_agent}

    [input gen]
    type = generate
    count = {count}
    rate = {rate}
    size = {size}
    tag = {tag}

    [output out]
    type = file
    match = app.*
    path = {{out_dir}}
    flush_interval = 100ms
    {extra_out}
    """


def seqs(records):
    """The sequence numbers of generate's messages, in delivery order."""
    return [int(m.split()[1]) for m in messages(records)]


class CommandLine(unittest.TestCase):
    def test_version_and_help(self):
        r = run_cli(["version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^collector \d+\.\d+\.\d+")
        r = run_cli(["help"])
        self.assertEqual(r.returncode, 0)
        for word in ("run", "check-config", "version", "generate", "file", "stdout", "null"):
            self.assertIn(word, r.stdout)
        r = run_cli(["help", "output", "file"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("rotate_size", r.stdout)
        self.assertEqual(run_cli(["help", "output", "nope"]).returncode, 2)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run_cli([]).returncode, 2)
        r = run_cli(["frobnicate"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", r.stderr)
        self.assertEqual(run_cli(["run", "--bogus"]).returncode, 2)

    def test_missing_or_empty_config(self):
        r = run_cli(["check-config", "-c", "/nonexistent/conf.d"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/conf.d: configuration not found", r.stdout)
        self.assertIn("-c", r.stdout)  # says what to do
        with Agent() as a:
            r = run_cli(["run", "-c", a.conf_dir])
            self.assertEqual(r.returncode, 2)
            self.assertIn("no *.conf files", r.stderr)
            a.write_config("# only a comment\n", "empty.conf")
            r = run_cli(["check-config", "-c", a.conf_dir])
            self.assertEqual(r.returncode, 2)
            self.assertIn("configuration is empty", r.stdout)


class ConfigurationErrors(unittest.TestCase):
    BAD = """\
[agent]
log_levl = debug
shutdown_timeout = soon

[input gen]
type = generate
count = many
bogus = 1

[input gen]
type = generate

[input other]
type = no_such_input

[output out]
type = file
path = ${COLLECTOR_TEST_SURELY_UNSET}
match = *
gzip = maybe

[output nomatch]
type = stdout

[parser p]
type = json

[widget w]
this line has no equals sign
"""

    EXPECTED = [
        "50-bad.conf:2: unknown key 'log_levl' in [agent]",
        "50-bad.conf:3: shutdown_timeout = 'soon': expected a duration",
        "50-bad.conf:7: count = 'many': expected a whole number",
        "50-bad.conf:8: unknown key 'bogus' in [input gen]",
        "50-bad.conf:10: duplicate section [input gen] (first defined at",
        "50-bad.conf:14: unknown input type 'no_such_input' (available:",
        "50-bad.conf:18: environment variable COLLECTOR_TEST_SURELY_UNSET is not set",
        "50-bad.conf:20: gzip = 'maybe': expected true or false",
        "50-bad.conf:22: [output nomatch] is missing required key 'match'",
        "50-bad.conf:25: [parser p]: no parser modules exist",
        "50-bad.conf:28: unknown section kind 'widget'",
        "50-bad.conf:29: expected 'key = value' or '[section]'",
    ]

    def test_every_error_reported_with_file_and_line(self):
        with Agent() as a:
            a.write_config(self.BAD, "50-bad.conf")
            r = run_cli(["check-config", "-c", a.conf_dir])
            self.assertEqual(r.returncode, 2, r.stdout)
            for want in self.EXPECTED:
                self.assertIn(want, r.stdout)
            self.assertIn(f"{len(self.EXPECTED)} errors", r.stdout)
            # run refuses to start, with the same messages, and exit code 2
            r = run_cli(["run", "-c", a.conf_dir], timeout=20)
            self.assertEqual(r.returncode, 2)
            for want in self.EXPECTED:
                self.assertIn(want, r.stderr)
            self.assertIn("not starting", r.stderr)
            self.assertFalse(os.path.exists(a.data_dir), "run must not start")

    def test_misspelled_key_in_one_file_of_a_directory(self):
        with Agent(gen_conf()) as a:
            self.assertEqual(run_cli(["check-config", "-c", a.conf_dir]).returncode, 0)
            a.write_config("[output extra]\ntype = null\nmatch = *\nflush_intervall = 1s\n",
                           "90-extra.conf")
            r = run_cli(["check-config", "-c", a.conf_dir])
            self.assertEqual(r.returncode, 2)
            path = os.path.join(a.conf_dir, "90-extra.conf")
            self.assertIn(f"{path}:4: unknown key 'flush_intervall' in [output extra]", r.stdout)

    def test_binary_garbage_config(self):
        with Agent() as a:
            with open(os.path.join(a.conf_dir, "junk.conf"), "wb") as f:
                f.write(os.urandom(4096) + b"\0")
            r = run_cli(["check-config", "-c", a.conf_dir])
            self.assertEqual(r.returncode, 2)
            self.assertIn("NUL bytes", r.stdout)

    def test_check_config_prints_effective_values_with_secrets_masked(self):
        conf = gen_conf(extra_agent="secret_access_key = wJalrSECRETVALUE\naccess_key_id = AKIDSECRET")
        with Agent(conf, env={"COLLECTOR_OUT": "x"}) as a:
            r = run_cli(["check-config", "-c", a.conf_dir])
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertNotIn("wJalrSECRETVALUE", r.stdout)
            self.assertNotIn("AKIDSECRET", r.stdout)
            self.assertIn("secret_access_key", r.stdout)
            self.assertIn("****", r.stdout)
            self.assertIn("flush_interval         = 100ms", r.stdout)  # effective, parsed
            self.assertIn("rotate_size            = 100MiB", r.stdout)  # default shown
            self.assertIn("configuration OK", r.stdout)

    def test_env_defaults_expand(self):
        conf = gen_conf().replace("path = {out_dir}", "path = ${COLLECTOR_T_OUT:-{out_dir}}")
        with Agent(conf) as a:
            r = run_cli(["check-config", "-c", a.conf_dir])
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn(f"path                   = {a.out_dir}", r.stdout)


class Pipeline(unittest.TestCase):
    def test_every_record_delivered_once_in_order(self):
        with Agent(gen_conf(count=50000, size=200)) as a:
            a.start()
            a.wait_log("all 50000 records acknowledged", timeout=60)
            self.assertEqual(a.stop(), 0)
            recs = read_file_output(a.out_dir)
            self.assertEqual(seqs(recs), list(range(50000)))
            self.assertTrue(all(r["tag"] == "app.gen" for r in recs))
            self.assertTrue(all(len(r["message"]) == 200 for r in recs))

    def test_routing_by_tag(self):
        conf = """
        [agent]
        data_dir = {data_dir}
        [input a]
        type = generate
        count = 100
        tag = ecs.agent
        [input b]
        type = generate
        count = 70
        tag = docker.daemon
        [input c]
        type = generate
        count = 30
        tag = unrouted.thing
        [output ecs]
        type = file
        match = ecs.*
        path = {out_dir}
        flush_interval = 100ms
        [output all]
        type = file
        match = ecs.* docker.*
        path = {out_dir}
        flush_interval = 100ms
        """
        with Agent(conf) as a:
            a.start()
            for n in ("a", "b", "c"):
                a.wait_log(f"input {n}: all")
            self.assertEqual(a.stop(), 0)
            ecs = read_file_output(a.out_dir, "ecs")
            both = read_file_output(a.out_dir, "all")
            self.assertEqual(len(ecs), 100)
            self.assertEqual({r["tag"] for r in ecs}, {"ecs.agent"})
            self.assertEqual(len(both), 170)
            self.assertEqual(sorted(seqs([r for r in both if r["tag"] == "docker.daemon"])),
                             list(range(70)))
            err = a.stderr()
            # unrouted records are counted and said once for their tag
            self.assertEqual(err.count("records with tag 'unrouted.thing'"), 1)
            self.assertRegex(err, r"input c: 30 records in, 30 acknowledged, 30 unrouted")

    def test_graceful_stop_loses_nothing(self):
        # A steady stream, stopped mid-way: everything generated is delivered.
        with Agent(gen_conf(count=0, rate=20000)) as a:
            a.start()
            a.wait_for(lambda: len(read_file_output(a.out_dir)) > 5000, timeout=30)
            self.assertEqual(a.stop(), 0)
            recs = read_file_output(a.out_dir)
            m = re.search(r"input gen: (\d+) records in, (\d+) acknowledged", a.stderr())
            self.assertIsNotNone(m, a.stderr())
            self.assertEqual(int(m.group(1)), int(m.group(2)))
            self.assertEqual(seqs(recs), list(range(int(m.group(1)))))
            self.assertIn("stopped", a.stderr())

    def test_sigint_also_stops_cleanly(self):
        with Agent(gen_conf(count=10)) as a:
            a.start()
            a.wait_log("all 10 records acknowledged")
            self.assertEqual(a.stop(signal.SIGINT), 0)

    def test_memory_limit_pauses_input_instead_of_growing(self):
        # The output cannot write (its directory is a regular file) while the
        # input produces as fast as it can: the agent must stay within its
        # memory limit and lose nothing once the output recovers.
        conf = gen_conf(count=300000, size=200, extra_agent="memory_limit = 2MiB",
                        extra_out="retry_max_backoff = 200ms")
        with Agent(conf) as a:
            open(a.out_dir, "w").close()
            a.start()
            a.wait_log("cannot create", timeout=20)
            time.sleep(2)
            rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{a.pid}/status").read()).group(1))
            # 300,000 x 200 bytes would be over 60 MB held in memory; bounded, the
            # agent stays far below (the margin covers ASan's own overhead).
            self.assertLess(rss, 48 * 1024, "RSS in KiB while the output is stalled")
            os.unlink(a.out_dir)
            os.makedirs(a.out_dir)
            a.wait_log("all 300000 records acknowledged", timeout=90)
            self.assertEqual(a.stop(), 0)
            self.assertEqual(seqs(read_file_output(a.out_dir)), list(range(300000)))


class Reload(unittest.TestCase):
    def test_sighup_good_then_bad_configuration(self):
        with Agent(gen_conf(count=0, rate=2000)) as a:
            a.start()
            a.wait_for(lambda: len(read_file_output(a.out_dir, "out")) > 500)
            # good: a new output name and tag
            a.write_config(gen_conf(count=0, rate=2000, tag="app.reloaded").replace(
                "[output out]", "[output after]"))
            a.send_signal(signal.SIGHUP)
            a.wait_log("configuration reloaded")
            a.wait_for(lambda: len(read_file_output(a.out_dir, "after")) > 100)
            self.assertEqual({r["tag"] for r in read_file_output(a.out_dir, "after")},
                             {"app.reloaded"})
            # bad: reported, and the running configuration keeps going
            a.write_config("[input broken]\ntype = generate\nrate = fast\n", "99-broken.conf")
            a.send_signal(signal.SIGHUP)
            a.wait_log("reload failed")
            self.assertIn("99-broken.conf:3: rate = 'fast'", a.stderr())
            before = len(read_file_output(a.out_dir, "after"))
            a.wait_for(lambda: len(read_file_output(a.out_dir, "after")) > before + 500)
            self.assertTrue(a.running())
            self.assertEqual(a.stop(), 0)


class FileOutput(unittest.TestCase):
    def test_exact_content(self):
        conf = gen_conf(count=3, size=10).replace(
            "type = generate", 'type = generate\nmessage = q"uo\\te ü')
        with Agent(conf) as a:
            a.start()
            a.wait_log("all 3 records acknowledged")
            self.assertEqual(a.stop(), 0)
            raw = open(os.path.join(a.out_dir, "out.jsonl"), "rb").read().decode()
            lines = raw.splitlines()
            self.assertEqual(len(lines), 3)
            rec = json.loads(lines[1])
            self.assertEqual(set(rec), {"timestamp", "tag", "message"})
            self.assertEqual(rec["message"], 'q"uo\\te ü 0000000001')
            self.assertEqual(rec["tag"], "app.gen")
            self.assertIsInstance(rec["timestamp"], int)
            self.assertLess(abs(rec["timestamp"] - time.time() * 1000), 60000)

    def test_rotation_keeps_capped_number_of_files(self):
        conf = gen_conf(count=20000, size=100,
                        extra_out="rotate_size = 256KiB\nrotate_keep = 3\nbatch_max_records = 500")
        with Agent(conf) as a:
            a.start()
            a.wait_log("all 20000 records acknowledged", timeout=60)
            self.assertEqual(a.stop(), 0)
            files = output_files(a.out_dir, "out")
            self.assertEqual([os.path.basename(f) for f in files],
                             ["out.jsonl.3", "out.jsonl.2", "out.jsonl.1", "out.jsonl"])
            for f in files:
                self.assertLessEqual(os.path.getsize(f), 256 * 1024)
            got = seqs(read_file_output(a.out_dir, "out"))
            # the newest records, contiguous up to the last one
            self.assertEqual(got, list(range(20000 - len(got), 20000)))

    def test_gzip(self):
        with Agent(gen_conf(count=5000, extra_out="gzip = true")) as a:
            a.start()
            a.wait_log("all 5000 records acknowledged")
            self.assertEqual(a.stop(), 0)
            path = os.path.join(a.out_dir, "out.jsonl.gz")
            with gzip.open(path, "rt") as f:
                got = [json.loads(line)["message"].split()[1] for line in f]
            self.assertEqual([int(s) for s in got], list(range(5000)))
            # gzip -t agrees the file is valid
            self.assertEqual(subprocess.run(["gzip", "-t", path]).returncode, 0)

    def test_unwritable_path_keeps_data_until_it_recovers(self):
        conf = gen_conf(count=2000, extra_out="retry_max_backoff = 200ms")
        with Agent(conf) as a:
            open(a.out_dir, "w").close()  # a file where the directory should be
            a.start()
            a.wait_log("cannot create", timeout=20)
            self.assertTrue(a.running())
            os.unlink(a.out_dir)
            a.wait_log("all 2000 records acknowledged", timeout=30)
            self.assertEqual(a.stop(), 0)
            self.assertEqual(seqs(read_file_output(a.out_dir)), list(range(2000)))
            self.assertRegex(a.stderr(), r"output out: 2000 records out in \d+ batches, 0 dropped")

    def test_full_disk(self):
        mnt = os.path.join("/tmp", f"collector-full-{os.getpid()}")
        os.makedirs(mnt, exist_ok=True)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt],
                          capture_output=True).returncode != 0:
            os.rmdir(mnt)
            self.skipTest("cannot mount a small tmpfs here (needs root)")
        try:
            conf = gen_conf(count=20000, size=100, extra_out="retry_max_backoff = 200ms").replace(
                "path = {out_dir}", f"path = {mnt}/out")
            with Agent(conf) as a:
                a.start()
                a.wait_log("No space left on device", timeout=30)
                self.assertTrue(a.running())
                # make room: the agent must finish, with every record once
                subprocess.run(["mount", "-o", "remount,size=16m", mnt], check=True)
                a.wait_log("all 20000 records acknowledged", timeout=60)
                self.assertEqual(a.stop(), 0)
                self.assertEqual(seqs(read_file_output(f"{mnt}/out")), list(range(20000)))
        finally:
            subprocess.run(["umount", mnt])
            os.rmdir(mnt)


class OtherOutputs(unittest.TestCase):
    def test_stdout_and_null(self):
        conf = """
        [agent]
        data_dir = {data_dir}
        [input gen]
        type = generate
        count = 25
        tag = t
        [output console]
        type = stdout
        match = *
        flush_interval = 100ms
        [output sink]
        type = null
        match = *
        """
        with Agent(conf) as a:
            a.start()
            a.wait_log("all 25 records acknowledged")
            self.assertEqual(a.stop(), 0)
            lines = [json.loads(l) for l in a.stdout().splitlines()]
            self.assertEqual([int(r["message"].split()[1]) for r in lines], list(range(25)))
            self.assertRegex(a.stderr(), r"output sink: 25 records out")



class Enabled(unittest.TestCase):
    """`enabled = true|false|auto|fallback` on outputs."""

    CONF = """
    [agent]
    data_dir = {data_dir}
    [input gen]
    type = generate
    count = 50
    tag = app.gen
    [output cloud]
    type = cloudwatch_logs
    enabled = auto
    match = *
    [output local]
    type = file
    enabled = fallback
    match = *
    path = {out_dir}
    flush_interval = 100ms
    [output off]
    type = stdout
    enabled = false
    match = *
    """
    NO_AWS = {"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ACCESS_KEY_ID": "",
              "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "",
              "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}

    def test_auto_without_aws_falls_back_to_the_local_file(self):
        with Agent(self.CONF, env=self.NO_AWS) as a:
            r = run_cli(["check-config", "-c", a.conf_dir], env=self.NO_AWS)
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("# disabled: output cloud (cloudwatch_logs): no region", r.stdout)
            self.assertIn("# disabled: output off (stdout): enabled = false", r.stdout)
            self.assertIn("[output local]", r.stdout)
            a.start()
            a.wait_log("all 50 records acknowledged")
            self.assertEqual(a.stop(), 0)
            self.assertEqual(len(read_file_output(a.out_dir)), 50)
            self.assertEqual(a.stdout(), "")  # the disabled stdout output wrote nothing
            self.assertIn("output cloud (cloudwatch_logs): no region", a.stderr())  # said at start

    def test_auto_with_aws_disables_the_fallback(self):
        env = dict(self.NO_AWS, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="AKIDTEST",
                   AWS_SECRET_ACCESS_KEY="secret", AWS_ENDPOINT_URL="http://127.0.0.1:9")
        with Agent(self.CONF, env=env) as a:
            r = run_cli(["check-config", "-c", a.conf_dir], env=env)
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("[output cloud]", r.stdout)
            self.assertIn("# disabled: output local (file): enabled = fallback, and another "
                          "output is enabled", r.stdout)
            self.assertIn("#   aws credentials: environment", r.stdout)
            self.assertNotIn("secret\n", r.stdout)

    def test_every_output_disabled_is_an_error(self):
        conf = self.CONF.replace("enabled = fallback", "enabled = false")
        with Agent(conf, env=self.NO_AWS) as a:
            r = run_cli(["check-config", "-c", a.conf_dir], env=self.NO_AWS)
            self.assertEqual(r.returncode, 2)
            self.assertIn("every output is disabled", r.stdout)


class ShippedConfiguration(unittest.TestCase):
    """The conf.d `make run` uses: valid, starts on a host without ECS, Docker or
    AWS, writes what it collects to the local output, stops cleanly."""

    def test_check_config_and_run(self):
        conf_d = os.path.join(ROOT, "conf.d")
        with Agent() as a:
            env = dict(Enabled.NO_AWS, COLLECTOR_DATA_DIR=a.data_dir)
            r = run_cli(["check-config", "-c", conf_d], env=env)
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("configuration OK", r.stdout)
            a.env = env
            a.start(["run", "-c", conf_d])
            a.wait_log("running with")
            out = os.path.join(a.data_dir, "out")
            self.assertIn(f"JSON lines in {out}/local.jsonl", a.stderr())  # says where
            self.assertIn("output cloudwatch (cloudwatch_logs): no region", a.stderr())  # and why
            # host metrics reach the local output about 10 s after the start: the
            # first sample only primes the CPU counters, the next one publishes
            # (then every interval on the minute grid)
            a.wait_for(lambda: read_file_output(out), timeout=30, what="records in the local output")
            time.sleep(1)
            self.assertTrue(a.running())
            # Two samples have looked for Docker and the ECS agent and found
            # neither, and nothing was sent over HTTP: libcurl and libarchive
            # (and the ~35 libraries they bring) are not mapped (core/libload.h)
            with open(f"/proc/{a.pid}/maps") as f:
                maps = f.read()
            self.assertNotIn("libarchive.so", maps)
            if not os.path.exists("/var/run/docker.sock"):
                self.assertNotIn("libcurl.so", maps)
            self.assertEqual(a.stop(), 0)
            self.assertIn("stopped", a.stderr())


class Layers(unittest.TestCase):
    """The include graph (scripts/layers.py): no module or folder cycle, and
    no file includes one of a higher layer (an input including the agent or
    the status service, say)."""
    test_kind = "static"

    def test_no_cycle_and_no_upward_include(self):
        r = subprocess.run(["python3", os.path.join(ROOT, "scripts", "layers.py")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("module cycles: 0, folder cycles: 0, upward includes: 0", r.stdout)


class Docs(unittest.TestCase):
    def test_readme_reference_is_current(self):
        """README's configuration reference is generated from the option tables."""
        r = subprocess.run(["python3", os.path.join(ROOT, "scripts", "update_reference.py"),
                            "--check"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
