"""Hardening (issue 15): what an attacker or a careless operator tried against
the agent, each row of the issue's table as a test that failed before.

- regex labels: a tenant's collector.multiline.start regex runs only where
  the operator opted in, and under a match limit (real dockerd);
- stop and reload with a request in flight to an endpoint that never answers
  (a black-hole socket on 127.0.0.1), a second SIGTERM (also while the agent
  waits for a sender stuck in a request no stop aborts), reloads that cannot
  start (data_dir under a file, http_listen port taken, a new output whose
  disk buffer cannot open: the previous configuration starts again);
- memory_limit = 0, a FIFO in conf.d;
- secrets in check-config and errors (URL userinfo, control characters);
- 1,024 idle connections to the status endpoint, the unix socket's mode;
- AWS_CONTAINER_CREDENTIALS_FULL_URI host checks, credential-file warnings
  (build/tools/aws_probe against the strict fake on 127.0.0.1).

Everything talks to 127.0.0.1 or unix sockets; every process is stopped by pid."""
import collections
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from tests.fakes.fake_aws_ctl import FakeAWS
from tests.integration import dockerd
from tests.integration.harness import BUILD, Agent, read_file_output, run_cli
from tests.integration.test_status import free_port, get, get_retry, parse_prometheus, sample

PROBE = os.path.join(BUILD, "tools", "aws_probe")
GROUP, STREAM = "/hardening", "app"


class BlackHole:
    """Accepts connections on 127.0.0.1 and never answers (a black-holed
    endpoint); counts the connections it got."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()
        self.thread.join(5)


CW_OUTPUT = f"""
    [output cw]
    type = cloudwatch_logs
    match = app
    log_group = {GROUP}
    log_stream = {STREAM}
    flush_interval = 100ms
    """


def cw_conf(lines_path, extra_agent="", shutdown="2s", extra_out=""):
    return f"""
    [agent]
    data_dir = {{data_dir}}
    http_listen = off
    shutdown_timeout = {shutdown}
    {extra_agent}

    [input app]
    type = tail
    path = {lines_path}
    read_from_head = true
    tag = app

    """ + CW_OUTPUT + f"""
    {extra_out}
    """


def append_lines(path, start, stop):
    with open(path, "a") as f:
        for i in range(start, stop):
            f.write(f"line {i}\n")


def write_lines(path, n):
    open(path, "w").close()
    append_lines(path, 0, n)


AWS_ENV = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST",
           "AWS_SECRET_ACCESS_KEY": "secret"}


def assert_exactly_once(test, messages, n):
    got = collections.Counter(messages)
    want = collections.Counter(f"line {i}" for i in range(n))
    test.assertEqual(sorted((want - got).elements()), [], "lost")
    test.assertEqual(sorted((got - want).elements()), [], "duplicated")


class StopAndReload(unittest.TestCase):
    """Requests in flight to an endpoint that accepts and never answers."""

    def setUp(self):
        self.hole = BlackHole()

    def tearDown(self):
        self.hole.close()

    def two_sigterms(self, a):
        """Start a with a request in flight, SIGTERM twice: a's exit code,
        which must come within 10 s of the second."""
        self.start_stuck(a)
        a.send_signal(signal.SIGTERM)
        a.wait_log("stopping; delivering what is buffered")
        a.send_signal(signal.SIGTERM)
        rc = a.wait_exit(timeout=10)
        self.assertIsNotNone(rc, "still running 10 s after the second SIGTERM")
        return rc

    def restart_delivers_exactly_once(self, a, n):
        with FakeAWS() as aws:
            a.env = dict(AWS_ENV, AWS_ENDPOINT_URL=aws.url)
            a.start()
            a.wait_for(lambda: len(aws.messages(GROUP, STREAM)) >= n, timeout=30,
                       what=f"{n} lines delivered after the restart")
            self.assertEqual(a.stop(), 0)
            assert_exactly_once(self, aws.messages(GROUP, STREAM), n)

    def start_stuck(self, agent):
        agent.start()
        agent.wait_for(lambda: self.hole.conns, timeout=20, what="a request in flight")
        time.sleep(0.3)

    def test_sigterm_is_bounded_by_shutdown_timeout_and_loses_nothing(self):
        n = 100
        with Agent(env=dict(AWS_ENV, AWS_ENDPOINT_URL=self.hole.url)) as a:
            write_lines(os.path.join(a.tmp, "app.log"), n)
            a.write_config(cw_conf("{tmp}/app.log", shutdown="2s"))
            self.start_stuck(a)
            a.send_signal(signal.SIGTERM)
            # shutdown_timeout (2 s) plus the abort (libcurl's progress
            # callback runs at least once a second): well under 10 s. Before,
            # the agent waited out request_timeout and every retry (> 40 s).
            rc = a.wait_exit(timeout=10)
            self.assertIsNotNone(rc, "still running 10 s after SIGTERM (shutdown_timeout = 2s)")
            self.assertIn("aborted: the agent is stopping", a.stderr())
            # Nothing acknowledged was lost: the next start delivers every
            # line exactly once, to an endpoint that answers.
            self.restart_delivers_exactly_once(a, n)

    def test_second_sigterm_stops_at_once(self):
        with Agent(env=dict(AWS_ENV, AWS_ENDPOINT_URL=self.hole.url)) as a:
            write_lines(os.path.join(a.tmp, "app.log"), 10)
            # a memory buffer: the drain waits for the (never answered) request
            # instead of ending once the batch is on disk
            a.write_config(cw_conf("{tmp}/app.log", shutdown="120s", extra_out="buffer = memory"))
            self.assertEqual(self.two_sigterms(a), 0)
            self.assertIn("second stop signal", a.stderr())

    def test_second_sigterm_while_waiting_for_a_sender_that_cannot_be_aborted(self):
        # The sender is stuck fetching credentials from instance metadata
        # (the black hole, imds_timeout 60s), a request no stop aborts: after
        # the loop ends, the agent waits for that sender thread. A second
        # SIGTERM must still be read there and end the wait.
        n = 30
        with Agent() as a:
            a.env = {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.hole.url,
                     "AWS_EC2_METADATA_DISABLED": "false",
                     "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.hole.url,
                     "AWS_SHARED_CREDENTIALS_FILE": os.path.join(a.tmp, "none"),
                     "AWS_CONFIG_FILE": os.path.join(a.tmp, "none")}
            write_lines(os.path.join(a.tmp, "app.log"), n)
            a.write_config(cw_conf("{tmp}/app.log", shutdown="60s",
                                   extra_agent="imds = on\n    imds_timeout = 60s",
                                   extra_out="buffer = memory"))
            # shutdown_timeout is 60 s and the stuck request as long: exiting
            # within 10 s is the second signal's doing.
            self.assertEqual(self.two_sigterms(a), 0)
            self.assertIn("exiting without waiting for 1 sender", a.stderr())
            # The stuck batch was never acknowledged: the next start (to an
            # endpoint that answers, static keys) delivers every line once.
            a.write_config(cw_conf("{tmp}/app.log"))
            self.restart_delivers_exactly_once(a, n)

    def test_sighup_with_a_request_in_flight_is_bounded(self):
        with Agent(env=dict(AWS_ENV, AWS_ENDPOINT_URL=self.hole.url)) as a:
            write_lines(os.path.join(a.tmp, "app.log"), 10)
            a.write_config(cw_conf("{tmp}/app.log", shutdown="2s"))
            self.start_stuck(a)
            a.send_signal(signal.SIGHUP)
            a.wait_log("configuration reloaded", timeout=10)
            self.assertTrue(a.running())
            a.send_signal(signal.SIGTERM)
            self.assertIsNotNone(a.wait_exit(timeout=10))


def gen_conf(port, data_dir="{data_dir}"):
    return f"""
    [agent]
    data_dir = {data_dir}
    http_listen = 127.0.0.1:{port}
    shutdown_timeout = 5s

    [input g]
    type = generate
    rate = 50

    [output f]
    type = file
    match = *
    path = {{out_dir}}
    flush_interval = 100ms
    """


class ReloadThatCannotStart(unittest.TestCase):
    """A configuration that passes check-config but cannot start: the running
    one stays, /ready says the reload failed (/health, liveness, does not),
    records keep flowing."""

    def check_kept(self, a, addr, bad_conf, reason):
        a.write_config(bad_conf)
        before = len(read_file_output(a.out_dir))
        a.send_signal(signal.SIGHUP)
        a.wait_for(lambda: get(addr, "/ready")[0] == 503, timeout=20, what="503 after reload")
        doc = json.loads(get(addr, "/ready")[2])
        self.assertIn("configuration reload failed", doc["reason"])
        self.assertIn(reason, doc["reason"])
        self.assertTrue(a.running())
        a.wait_for(lambda: len(read_file_output(a.out_dir)) > before + 50, timeout=20,
                   what="records still delivered by the running configuration")

    def test_data_dir_under_a_file(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent(gen_conf(port)) as a:
            a.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            blocker = os.path.join(a.tmp, "blocker")
            with open(blocker, "w") as f:
                f.write("a file where a directory is wanted\n")
            self.check_kept(a, addr, gen_conf(port, data_dir=blocker + "/data"),
                            "cannot create data_dir")
            self.assertEqual(a.stop(), 0)

    def test_http_listen_port_taken(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        try:
            with Agent(gen_conf(port)) as a:
                a.start()
                self.assertEqual(get_retry(addr, "/health")[0], 200)
                self.check_kept(a, addr, gen_conf(taken.getsockname()[1]), "cannot listen")
                self.assertEqual(a.stop(), 0)
        finally:
            taken.close()


def tail_conf(port, output):
    return f"""
    [agent]
    data_dir = {{data_dir}}
    http_listen = 127.0.0.1:{port}
    shutdown_timeout = 5s

    [input app]
    type = tail
    path = {{tmp}}/app.log
    read_from_head = true
    tag = app
    """ + output


FILE_OUTPUT = """
    [output f]
    type = file
    match = app
    path = {out_dir}
    flush_interval = 100ms
    """


def ready_code(addr):
    """/ready's status, None while the endpoint restarts with a configuration."""
    try:
        return get(addr, "/ready")[0]
    except OSError:
        return None


def add_output_that_cannot_start(a):
    """A new output whose disk buffer directory is taken by a file: the
    configuration passes check-config and the reload's checks, and fails
    inside its start."""
    os.makedirs(os.path.join(a.data_dir, "buffer"), exist_ok=True)
    with open(os.path.join(a.data_dir, "buffer", "spooled"), "w") as f:
        f.write("a file where the disk buffer's directory goes\n")
    a.write_config("""
    [output spooled]
    type = file
    match = app
    path = {tmp}/spooled
    buffer = disk
    """, name="10-spooled.conf")


class ReloadFailsInsideStart(unittest.TestCase):
    """A configuration that passes check-config and the reload's checks but
    fails while starting (here: a new output's disk buffer directory is taken
    by a file). The running configuration comes back, /ready says why, and
    the lines written before and after the SIGHUP arrive exactly once."""

    def check_comes_back(self, a, addr, delivered, n=200):
        log = os.path.join(a.tmp, "app.log")
        append_lines(log, 0, n)
        a.start()
        self.assertEqual(get_retry(addr, "/health")[0], 200)
        a.wait_for(lambda: len(delivered()) >= n, timeout=20, what=f"the first {n} lines")
        add_output_that_cannot_start(a)
        append_lines(log, n, n + 50)      # before the SIGHUP
        a.send_signal(signal.SIGHUP)
        a.wait_for(lambda: ready_code(addr) == 503, timeout=20,
                   what="/ready 503 after the failed reload")
        # liveness stays: the previous configuration runs
        self.assertEqual(get(addr, "/health")[0], 200)
        doc = json.loads(get(addr, "/ready")[2])
        self.assertIn("configuration reload failed", doc["reason"])
        self.assertIn("outputs could not start", doc["reason"])
        self.assertIn("cannot open the disk buffer", a.stderr())
        self.assertIn("the previous configuration runs again", a.stderr())
        self.assertTrue(a.running())
        append_lines(log, n + 50, 2 * n)  # after it
        a.wait_for(lambda: len(delivered()) >= 2 * n, timeout=20,
                   what="the lines written around the SIGHUP")
        self.assertEqual(a.stop(), 0)
        assert_exactly_once(self, delivered(), 2 * n)

    def test_new_output_whose_disk_buffer_cannot_open(self):
        port = free_port()
        with Agent(tail_conf(port, FILE_OUTPUT)) as a:
            self.check_comes_back(a, ("127.0.0.1", port),
                                  lambda: [r["message"] for r in read_file_output(a.out_dir, "f")])

    def test_cloudwatch_output_with_a_disk_buffer(self):
        # a batch sent after the drain found everything on disk is completed
        # (its chunk removed), not sent again by the configuration that
        # comes back
        port = free_port()
        with FakeAWS() as aws, Agent(tail_conf(port, CW_OUTPUT)) as a:
            a.env = dict(AWS_ENV, AWS_ENDPOINT_URL=aws.url)
            self.check_comes_back(a, ("127.0.0.1", port), lambda: aws.messages(GROUP, STREAM))

    def test_cloudwatch_output_comes_back_after_its_request_was_aborted(self):
        # The fake holds the first PutLogEvents 8 s; the drain's deadline
        # (shutdown_timeout 1s) aborts it. Started again, the old output must
        # get AWS clients that are not aborted, or nothing more is delivered.
        port = free_port()
        addr = ("127.0.0.1", port)
        n = 200
        conf = tail_conf(port, CW_OUTPUT).replace("shutdown_timeout = 5s", "shutdown_timeout = 1s")
        with FakeAWS() as aws, Agent(conf) as a:
            a.env = dict(AWS_ENV, AWS_ENDPOINT_URL=aws.url)
            aws.fault("latency", ms=8000, target="PutLogEvents")
            log = os.path.join(a.tmp, "app.log")
            append_lines(log, 0, n)
            a.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            held = lambda: [r for r in aws.requests() if r["fault"] == "latency"]
            a.wait_for(held, timeout=20, what="a PutLogEvents held by the fake")
            add_output_that_cannot_start(a)
            a.send_signal(signal.SIGHUP)
            a.wait_for(lambda: ready_code(addr) == 503, timeout=20,
                       what="/ready 503 after the failed reload")
            self.assertIn("aborted: the agent is stopping", a.stderr())
            append_lines(log, n, 2 * n)
            want = collections.Counter(f"line {i}" for i in range(2 * n))
            a.wait_for(lambda: not want - collections.Counter(aws.messages(GROUP, STREAM)),
                       timeout=30, what="every line delivered by the configuration that came back")
            # the held request ends (the fake stores it after its latency)
            a.wait_for(lambda: held()[0]["status"] is not None, timeout=20, what="the held request")
            self.assertEqual(a.stop(), 0)
            got = collections.Counter(aws.messages(GROUP, STREAM))
            self.assertEqual(sorted((want - got).elements()), [], "lost")
            # at least once: the aborted batch had reached the fake, which
            # stored it after the agent gave up; the disk buffer sent it again
            in_flight = collections.Counter(e["message"] for e in held()[0]["json"]["logEvents"])
            self.assertEqual(got - want, in_flight, "duplicated beyond the aborted batch")


class FilesAndLimits(unittest.TestCase):
    def test_memory_limit_zero_is_refused_with_its_line(self):
        with Agent(gen_conf(free_port()).replace("shutdown_timeout = 5s",
                                       "shutdown_timeout = 5s\n    memory_limit = 0")) as a:
            r = run_cli(["check-config", "-c", a.conf_dir], timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("00-test.conf:6: memory_limit = 0 is below the minimum of 1MiB",
                          r.stderr + r.stdout)

    def test_fifo_in_conf_d(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent(gen_conf(port)) as a:
            fifo = os.path.join(a.conf_dir, "50-fifo.conf")
            os.mkfifo(fifo)
            r = run_cli(["check-config", "-c", a.conf_dir], timeout=20)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("50-fifo.conf: not a regular file", r.stderr + r.stdout)
            # and on SIGHUP: the running configuration stays, the loop is not stuck
            os.unlink(fifo)
            a.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            os.mkfifo(fifo)
            a.send_signal(signal.SIGHUP)
            a.wait_for(lambda: get(addr, "/ready", timeout=5)[0] == 503, timeout=20,
                       what="503 after the reload")
            self.assertIn("not a regular file", json.loads(get(addr, "/ready")[2])["reason"])
            self.assertEqual(a.stop(), 0)


class Secrets(unittest.TestCase):
    def test_userinfo_and_control_characters_in_check_config(self):
        conf = """
        [agent]
        data_dir = {data_dir}
        http_listen = off
        region = us-east-1
        proxy = http://alice:S3cr3t@127.0.0.1:3128
        access_key_id = AKIDTEST
        secret_access_key = wJalrXUtnFEMIK7MDENG

        [input g]
        type = generate

        [output cw]
        type = cloudwatch_logs
        match = *
        log_group = /g
        log_stream = s
        """
        with Agent(conf) as a:
            r = run_cli(["check-config", "-c", a.conf_dir], timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout + r.stderr
            self.assertIn("http://***@127.0.0.1:3128", out)
            for secret in ("S3cr3t", "alice", "wJalrXUtnFEMIK7MDENG"):
                self.assertNotIn(secret, out)
            # values echoed in errors: userinfo masked, control characters escaped
            a.write_config(conf.replace("region = us-east-1",
                                        "region = us-east-1\n        use_fips = http://bob:Pw0rd@h\n"
                                        "        log_level = \x1b[2Jdebug"))
            r = run_cli(["check-config", "-c", a.conf_dir], timeout=30)
            self.assertNotEqual(r.returncode, 0)
            out = r.stdout + r.stderr
            self.assertIn("use_fips = 'http://***@h'", out)
            self.assertIn("\\x1b[2Jdebug", out)
            self.assertNotIn("\x1b", out)
            self.assertNotIn("Pw0rd", out)


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return True
    if hard != resource.RLIM_INFINITY and hard < want:
        return False
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return True


class StatusEndpoint(unittest.TestCase):
    def test_health_answers_under_a_flood_of_idle_connections(self):
        if not raise_nofile(2400):
            self.skipTest("RLIMIT_NOFILE hard limit below 2400")
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent(gen_conf(port)) as a:
            a.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            idle = []
            try:
                for _ in range(1024):
                    idle.append(socket.create_connection(addr, timeout=10))
                # Every slot is held by a connection that sent nothing; the
                # probe still gets its answer (an idle one makes room).
                for _ in range(5):
                    r = get(addr, "/health", timeout=5)
                    self.assertIsNotNone(r, "/health closed without an answer")
                    self.assertEqual(r[0], 200, r[2])
                m = parse_prometheus(get(addr, "/metrics")[2].decode())
                self.assertGreaterEqual(sample(m, "collector_http_rejected_total"), 1)
            finally:
                for s in idle:
                    s.close()
            self.assertEqual(a.stop(), 0)

    def test_unix_socket_mode_is_explicit(self):
        old = os.umask(0)
        try:
            with Agent() as a:
                path = os.path.join(a.tmp, "status.sock")
                a.write_config(gen_conf(0).replace("127.0.0.1:0", path))
                a.start()
                self.assertEqual(get_retry(path, "/health")[0], 200)
                self.assertEqual(os.stat(path).st_mode & 0o777, 0o660)
                self.assertEqual(a.stop(), 0)
        finally:
            os.umask(old)


class CredentialEndpoints(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_hardening.")
        self.fake = FakeAWS(daemon_calls=False).start()  # build/tools/aws_probe calls it

    def tearDown(self):
        self.fake.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def probe(self, **env):
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp,
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": self.fake.url}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                base[k] = os.environ[k]
        base.update(env)
        return subprocess.run([PROBE, "--region", "us-east-1", "--service", "logs", "--target",
                               "Logs_20140328.DescribeLogGroups", "--body", "{}"],
                              env=base, capture_output=True, text=True, timeout=30)

    def test_full_uri_hosts(self):
        path = "/v2/credentials/task-role"
        self.fake.ecs_credentials(path=path)
        # host names are refused as they are written, before any lookup
        for host in ("127.evil.example", "127.0.0.1.nip.example", "localhost"):
            r = self.probe(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://%s:%d%s"
                           % (host, self.fake.port, path))
            self.assertNotEqual(r.returncode, 0, host)
            self.assertIn("must be https, or http to a loopback or ECS/EKS address given as an IP",
                          r.stdout + r.stderr, host)
        r = self.probe(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.fake.url + path)
        self.assertEqual(r.returncode, 0, r.stderr)
        # the fake's credentials carry a session token, sent over http://
        self.assertIn("session token (X-Amz-Security-Token) is sent unencrypted", r.stderr)

    def test_world_readable_credentials_file(self):
        creds = os.path.join(self.tmp, "credentials")
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDTEST\naws_secret_access_key = secret\n")
        os.chmod(creds, 0o644)
        r = self.probe(AWS_SHARED_CREDENTIALS_FILE=creds)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("is readable by every user (mode 644)", r.stderr)
        os.chmod(creds, 0o600)
        r = self.probe(AWS_SHARED_CREDENTIALS_FILE=creds)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("readable by every user", r.stderr)


REASON = dockerd.skip_reason()


@unittest.skipIf(REASON, REASON or "")
class RegexLabels(unittest.TestCase):
    """A tenant's label regex: honoured only where the operator opted in, and
    then bounded: lines it cannot decide are kept as their own records."""

    @classmethod
    def setUpClass(cls):
        cls.d = dockerd.shared()
        cls.d.ensure_image()

    def setUp(self):
        self.prefix = "h" + uuid.uuid4().hex[:8] + "-"
        self.cids = []

    def tearDown(self):
        for cid in self.cids:
            self.d.docker("rm", "-f", cid, check=False)

    def test_catastrophic_label_regex(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        inputs = ""
        for name, opt_in in (("on", "true"), ("off", "false")):
            inputs += f"""
    [input {name}]
    type = containers
    docker_socket = {self.d.sock}
    docker_root = {self.d.data_root}
    introspection_url =
    include_name = {self.prefix}{name}*
    refresh_interval = 1s
    multiline.label_regex = {opt_in}
    """
        conf = f"""
    [agent]
    data_dir = {{data_dir}}
    http_listen = 127.0.0.1:{port}
    shutdown_timeout = 20s
    {inputs}
    [output out]
    type = file
    match = *
    path = {{out_dir}}
    flush_interval = 200ms
    """
        bad = "a" * 40 + "b"
        n = 600
        with Agent(conf) as a:
            a.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            self.cids.append(self.d.run(
                name=self.prefix + "on", cmd=["sh", "-c", f"for i in $(seq {n}); do echo {bad}; "
                                                          "done; sleep 3600"],
                labels={"collector.multiline.start": "^(a|aa)+$"}))
            self.cids.append(self.d.run(
                name=self.prefix + "off", cmd=["sh", "-c", "printf 'x\\n y\\n'; sleep 3600"],
                labels={"collector.multiline.start": "^[^ ]"}))
            a.wait_for(lambda: len(read_file_output(a.out_dir)) >= n + 2, timeout=60,
                       what=f"{n + 2} records")
            # the loop is not held: /health answers
            self.assertEqual(get(addr, "/health", timeout=5)[0], 200)
            m = parse_prometheus(get(addr, "/metrics")[2].decode())
            self.assertEqual(a.stop(), 0)
            by = collections.defaultdict(list)
            for r in read_file_output(a.out_dir):
                by[r["container_name"][len(self.prefix):]].append(r["message"])
            # every line its own record: none joined, none lost
            self.assertEqual(by["on"], [bad] * n)
            # each line tested against the regex while another was pending
            # gave up at the limit: every second one
            self.assertEqual(sample(m, "collector_multiline_match_limit_total"), n // 2)
            # not opted in: the label is ignored (and said), lines stay apart
            self.assertEqual(by["off"], ["x", " y"])
            self.assertIn("label collector.multiline.start ignored", a.stderr())


if __name__ == "__main__":
    unittest.main()
