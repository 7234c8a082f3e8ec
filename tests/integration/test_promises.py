"""Behaviours README promises that no test checked before (issue 19): each
test runs the real binary and asserts what a user would check.

retry_limit dropping a batch; a second stop signal exiting at once; exit 1
when data_dir cannot be created; log_format = json; buffer.sync; a log group
or stream deleted while the agent runs; auto_create_group = false;
endpoint_logs / endpoint_metrics over the environment; ca_path."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

from tests.fakes.fake_aws_ctl import FakeAWS
from tests.integration.harness import (Agent, assert_exactly_once, messages, read_file_output,
                                       run_cli, stop_and_read)


def gen_to_file(count, agent_extra="", out_extra="", rate=0, tag="app"):
    return f"""
    [agent]
    data_dir = {{data_dir}}
    http_listen = off
    {agent_extra}
    [input gen]
    type = generate
    count = {count}
    rate = {rate}
    tag = {tag}
    [output out]
    type = file
    match = *
    path = {{out_dir}}
    flush_interval = 100ms
    batch_max_records = 100
    retry_max_backoff = 100ms
    {out_extra}
    """


def seqs(got):
    return [int(m.split()[1]) for m in got]


class Promises(unittest.TestCase):
    def test_retry_limit_drops_the_batch_and_counts_it(self):
        """retry_limit = 2: a batch that failed three times is dropped, said and
        counted; the agent goes on, and what comes after the destination is back
        arrives."""
        with Agent(gen_to_file(300, out_extra="retry_limit = 2")) as a:
            open(a.out_dir, "w").close()  # the destination is down
            a.start()
            a.wait_log("after 3 attempts (retry_limit)", timeout=30)
            a.wait_log("all 300 records acknowledged", timeout=30)
            self.assertTrue(a.running())
            self.assertEqual(a.stop(), 0)
            m = re.search(r"output out: (\d+) records out in \d+ batches, (\d+) dropped", a.stderr())
            self.assertIsNotNone(m, a.stderr()[-2000:])
            self.assertEqual((int(m.group(1)), int(m.group(2))), (0, 300))
            self.assertEqual(a.stderr().count("(retry_limit)"), 3, "three batches of 100")

    def test_without_retry_limit_nothing_is_dropped(self):
        """The default (-1) keeps retrying: after the same outage all arrive once."""
        with Agent(gen_to_file(300)) as a:
            open(a.out_dir, "w").close()
            a.start()
            a.wait_log("output out", timeout=30)
            time.sleep(1)  # several failed attempts
            os.unlink(a.out_dir)
            a.wait_for(lambda: len(read_file_output(a.out_dir)) >= 300, timeout=30, what="300")
            got = stop_and_read(a, quiet=0.5)
            assert_exactly_once(seqs(got), list(range(300)))
            self.assertNotIn("(retry_limit)", a.stderr())

    def test_second_stop_signal_exits_at_once(self):
        """With a destination down and shutdown_timeout = 60s the first SIGTERM
        waits to deliver; a second one exits without waiting."""
        text = gen_to_file(300, agent_extra="shutdown_timeout = 60s")
        with Agent(text) as a:
            open(a.out_dir, "w").close()  # the destination is down: batches wait in memory
            a.start()
            a.wait_log("cannot create", timeout=30)
            a.send_signal(signal.SIGTERM)
            a.wait_log("stopping; delivering what is buffered", timeout=10)
            self.assertIsNone(a.wait_exit(timeout=1.5), "the first signal waits")
            a.send_signal(signal.SIGTERM)
            # well within the 60 s the first signal allows
            code = a.wait_exit(timeout=20)
            self.assertIsNotNone(code, "a second SIGTERM did not make the agent exit")
            self.assertIn("second stop signal", a.stderr())

    def test_data_dir_that_cannot_be_created_exits_1(self):
        with Agent(None) as a:
            blocker = os.path.join(a.tmp, "file")
            open(blocker, "w").close()
            a.write_config(gen_to_file(10).replace("data_dir = {data_dir}",
                                                   f"data_dir = {blocker}/data"))
            a.start()
            self.assertEqual(a.wait_exit(timeout=30), 1)
            self.assertIn(f"cannot create data_dir {blocker}/data", a.stderr())

    def test_log_format_json(self):
        """Every line the agent writes to stderr is one JSON object with the
        fields of the logfmt form."""
        with Agent(gen_to_file(10, agent_extra="log_format = json")) as a:
            a.start()
            a.wait_log("all 10 records acknowledged", timeout=30)
            self.assertEqual(a.stop(), 0)
            lines = [line for line in a.stderr().splitlines() if line.strip()]
            self.assertGreater(len(lines), 2)
            for line in lines:
                obj = json.loads(line)
                self.assertIsInstance(obj, dict, line)
                self.assertIn("msg", obj, line)
                self.assertIn("level", obj, line)
            self.assertTrue(any("all 10 records acknowledged" in json.loads(line)["msg"]
                                for line in lines))

    def test_buffer_sync_modes_fsync_as_configured(self):
        """buffer.sync = batch fsyncs every chunk, off never: counted with strace
        when it is installed, else the three modes must at least deliver."""
        strace = subprocess.run(["which", "strace"], capture_output=True).returncode == 0
        syncs = {}
        for mode in ("batch", "interval", "off"):
            text = gen_to_file(2000, out_extra=f"buffer = disk\nbuffer.sync = {mode}")
            # LeakSanitizer cannot run under ptrace (strace): leaks are checked elsewhere
            env = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0"} if strace else None
            with Agent(text, env=env) as a:
                open(a.out_dir, "w").close()  # batches wait in the disk buffer
                trace = os.path.join(a.tmp, "trace")
                a.start(wrapper=["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync,syncfs", "-o",
                                 trace] if strace else None)
                a.wait_log("all 2000 records acknowledged", timeout=60)
                chunks = [n for _, _, names in os.walk(os.path.join(a.data_dir, "buffer"))
                          for n in names if n.endswith(".chunk")]
                os.unlink(a.out_dir)
                a.wait_for(lambda: len(read_file_output(a.out_dir)) >= 2000, timeout=60,
                           what="2000 records")
                if strace:  # the agent is strace's child: signal it, then strace ends
                    with open(f"/proc/{a.pid}/task/{a.pid}/children") as f:
                        agent_pid = int(f.read().split()[0])
                    os.kill(agent_pid, signal.SIGTERM)
                    self.assertEqual(a.wait_exit(timeout=30), 0)
                    got = messages(read_file_output(a.out_dir))
                else:
                    got = stop_and_read(a, quiet=0.3)
                assert_exactly_once(seqs(got), list(range(2000)))
                if strace:
                    with open(trace) as f:
                        text = f.read()
                    syncs[mode] = (len(re.findall(r"f(?:data)?sync\(", text)), len(chunks))
                    # interval: syncfs waits for the whole filesystem, so never
                    # on the event loop (the main thread: the agent's own pid)
                    on_loop = re.findall(rf"^{agent_pid} +syncfs\(", text, re.M)
                    self.assertEqual(on_loop, [], f"{mode}: syncfs on the loop thread")
                    if mode == "interval":
                        self.assertRegex(text, r"^\d+ +syncfs\(", "interval syncs with syncfs")
        if strace:
            print(f"\n  buffer.sync: (fsync calls, chunks) by mode {syncs}", flush=True)
            n_batch, chunks = syncs["batch"]
            self.assertGreaterEqual(n_batch, chunks, f"one fsync per chunk: {syncs}")
            self.assertEqual(syncs["off"][0], 0, f"buffer.sync = off: {syncs}")
            self.assertLess(syncs["interval"][0], n_batch, f"{syncs}")


class AgainstTheFake(unittest.TestCase):
    def setUp(self):
        self.aws = FakeAWS()
        self.aws.start()
        self.addCleanup(self.aws.stop)

    def env(self, **extra):
        env = {"AWS_ENDPOINT_URL": self.aws.url, "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
               "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}
        env.update(extra)
        return env

    def cw_conf(self, out_extra="", agent_extra="", count=0, rate=50):
        return f"""
        [agent]
        data_dir = {{data_dir}}
        http_listen = off
        retry_base_delay = 10ms
        retry_max_backoff = 100ms
        {agent_extra}
        [input gen]
        type = generate
        count = {count}
        rate = {rate}
        tag = app
        [output cw]
        type = cloudwatch_logs
        match = app
        log_group = /promises
        log_stream = s
        flush_interval = 100ms
        retry_max_backoff = 100ms
        {out_extra}
        """

    def stored(self, group="/promises", stream="s"):
        return [int(m.split()[1]) for m in self.aws.messages(group, stream)]

    def test_log_group_deleted_while_running_is_recreated(self):
        with Agent(self.cw_conf(), env=self.env()) as a:
            a.start()
            a.wait_for(lambda: len(self.stored()) >= 20, timeout=30, what="first events")
            self.aws.delete_log_group("/promises")
            a.wait_for(lambda: len(self.stored()) >= 20, timeout=30,
                       what="events in the recreated group")
            self.assertEqual(a.stop(), 0)
            ops = [r["operation"] for r in self.aws.requests() if r["operation"]]
            self.assertGreaterEqual(ops.count("CreateLogGroup"), 2, "created again")
            errors = [r["error_code"] for r in self.aws.requests()
                      if r["operation"] == "PutLogEvents" and r["error_code"]]
            self.assertIn("ResourceNotFoundException", errors)

    def test_log_stream_deleted_while_running_is_recreated(self):
        with Agent(self.cw_conf(), env=self.env()) as a:
            a.start()
            a.wait_for(lambda: len(self.stored()) >= 20, timeout=30, what="first events")
            self.aws.delete_log_stream("/promises", "s")
            a.wait_for(lambda: len(self.stored()) >= 20, timeout=30,
                       what="events in the recreated stream")
            self.assertEqual(a.stop(), 0)
            ops = [r["operation"] for r in self.aws.requests() if r["operation"]]
            self.assertGreaterEqual(ops.count("CreateLogStream"), 2, "created again")

    def test_auto_create_group_false_does_not_create_it(self):
        with Agent(self.cw_conf(out_extra="auto_create_group = false", count=50, rate=0),
                   env=self.env()) as a:
            a.start()
            a.wait_for(lambda: any(r["operation"] == "PutLogEvents" or
                                   r["operation"] == "CreateLogStream"
                                   for r in self.aws.requests()), timeout=30,
                       what="a call for the missing group")
            time.sleep(1)
            ops = [r["operation"] for r in self.aws.requests() if r["operation"]]
            self.assertNotIn("CreateLogGroup", ops)
            self.assertNotIn("/promises", self.aws.state()["log_groups"])
            # once someone else creates it, the events go there
            self.aws.create_log_group("/promises")
            a.wait_for(lambda: len(self.stored()) >= 50, timeout=60, what="50 events")
            got = stop_and_read(a, read=self.stored)
            assert_exactly_once(got, list(range(50)))
            ops = [r["operation"] for r in self.aws.requests() if r["operation"]]
            self.assertNotIn("CreateLogGroup", ops)

    def test_endpoint_options_win_over_the_environment(self):
        """endpoint_logs / endpoint_metrics point the outputs at the fake while
        AWS_ENDPOINT_URL points at a port where nothing listens."""
        dead = "http://127.0.0.1:9"
        text = self.cw_conf(agent_extra=f"endpoint_logs = {self.aws.url}\n"
                                        f"endpoint_metrics = {self.aws.url}", count=30, rate=0)
        text += """
        [input host]
        type = host_metrics
        interval = 1s
        [output cwm]
        type = cloudwatch_metrics
        match = metrics.*
        namespace = Promises
        flush_interval = 200ms
        """
        with Agent(text, env=self.env(AWS_ENDPOINT_URL=dead)) as a:
            a.start()
            a.wait_for(lambda: len(self.stored()) >= 30, timeout=30, what="30 events")
            a.wait_for(lambda: any(r["operation"] == "PutMetricData" and r["status"] == 200
                                   for r in self.aws.requests()), timeout=30,
                       what="PutMetricData at endpoint_metrics")
            self.assertEqual(a.stop(), 0)


class CaPath(unittest.TestCase):
    """ca_path: a directory of hashed CA certificates verifies the fake's TLS
    certificate; without it the same certificate is refused."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-capath-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.tmp])
        key, cert = os.path.join(self.tmp, "key.pem"), os.path.join(self.tmp, "cert.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True)
        if r.returncode:
            self.skipTest("openssl cannot make a certificate here")
        self.cadir = os.path.join(self.tmp, "ca")
        os.mkdir(self.cadir)
        h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", cert],
                           capture_output=True, text=True, check=True).stdout.strip()
        os.symlink(cert, os.path.join(self.cadir, h + ".0"))
        self.aws = FakeAWS(tls_cert=cert, tls_key=key)
        self.aws.start()
        self.addCleanup(self.aws.stop)

    def conf(self, ca):
        return f"""
        [agent]
        data_dir = {{data_dir}}
        http_listen = off
        retry_max_backoff = 100ms
        {ca}
        [input gen]
        type = generate
        count = 10
        tag = app
        [output cw]
        type = cloudwatch_logs
        match = app
        log_group = /tls
        log_stream = s
        flush_interval = 100ms
        retry_max_backoff = 100ms
        """

    def env(self):
        return {"AWS_ENDPOINT_URL": self.aws.url, "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
                "SSL_CERT_FILE": "/nonexistent", "SSL_CERT_DIR": "/nonexistent"}

    def test_ca_path_verifies_and_its_absence_refuses(self):
        with Agent(self.conf(f"ca_path = {self.cadir}"), env=self.env()) as a:
            a.start()
            a.wait_for(lambda: len(self.aws.messages("/tls", "s")) >= 10, timeout=30,
                       what="10 events over TLS")
            self.assertEqual(a.stop(), 0)
        self.aws.reset()
        with Agent(self.conf(""), env=self.env()) as a:
            a.start()
            a.wait_for(lambda: re.search(r"(?i)certificate|SSL", a.stderr()), timeout=30,
                       what="a certificate error")
            self.assertEqual(self.aws.requests(), [], "no request got through the handshake")
            self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    unittest.main()
