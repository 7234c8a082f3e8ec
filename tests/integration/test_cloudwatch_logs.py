"""The cloudwatch_logs output end to end: the real binary, generate or tail
inputs, and the strict fake AWS endpoint (tests/fakes/fake_aws.py).

Run from the repository root:
    python3 -m unittest tests.integration.test_cloudwatch_logs
(COLLECTOR_BUILD selects the build directory, default "build".)

Every process is stopped by pid; all traffic goes to 127.0.0.1.
"""
import datetime
import json
import os
import socket
import subprocess
import time
import unittest
from collections import Counter

from tests.fakes.fake_aws_ctl import FakeAWS
from tests.integration.harness import BINARY, Agent, base_env

AKID, SECRET = "AKIDTEST", "secret"

# Fast retries: the AWS core's backoff and the pipeline's.
AGENT = """
[agent]
data_dir = {data_dir}
hostname = testhost
http_listen = {tmp}/status.sock
retry_base_delay = 10ms
retry_max_backoff = 50ms
"""


def aws_env(aws, **extra):
    env = {"AWS_ENDPOINT_URL": aws.url, "AWS_ACCESS_KEY_ID": AKID,
           "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}
    env.update(extra)
    return env


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def status(agent):
    """GET /status over the agent's unix socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(os.path.join(agent.tmp, "status.sock"))
    s.sendall(b"GET /status HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def output_status(agent, name="cw"):
    st = status(agent)
    outs = st.get("outputs")
    if isinstance(outs, dict):
        return outs[name]
    return next(o for o in outs if o.get("name") == name)


def events(aws, group, stream):
    g = aws.state()["log_groups"].get(group)
    if not g or stream not in g["streams"]:
        return []
    return g["streams"][stream]["events"]


def messages(aws, group, stream):
    return [e["message"] for e in events(aws, group, stream)]


def accepted_puts(aws):
    return [r for r in aws.requests() if r["operation"] == "PutLogEvents" and r["status"] == 200]


class CloudWatchLogsTest(unittest.TestCase):
    def setUp(self):
        self.aws = FakeAWS()
        self.aws.start()
        self.addCleanup(self.aws.stop)

    def agent(self, body, agent_extra="", **env):
        a = Agent(AGENT + agent_extra + body, env=aws_env(self.aws, **env))
        self.addCleanup(a.cleanup)
        return a

    def assert_no_duplicate_batch(self):
        seen = Counter()
        for r in accepted_puts(self.aws):
            body = r["json"]
            key = (body["logGroupName"], body["logStreamName"],
                   tuple((e["timestamp"], e["message"]) for e in body["logEvents"]))
            seen[key] += 1
        dups = [k[:2] for k, n in seen.items() if n > 1]
        self.assertEqual(dups, [], "a PutLogEvents body was accepted twice")

    # ------------------------------------------------------------------ basics

    def test_generate_delivered_group_created_with_retention(self):
        n = 25000
        a = self.agent(f"""
            [input gen]
            type = generate
            count = {n}
            size = 120
            tag = app.gen
            [output cw]
            type = cloudwatch_logs
            match = *
            log_group = /test/{{hostname}}/{{region}}
            log_stream = {{tag}}
            retention_days = 14
            log_group_class = INFREQUENT_ACCESS
            tags = team=core env=test
            flush_interval = 200ms
            workers = 4
            """)
        # throttled creates retry on their own budget; the data still arrives
        self.aws.fault("throttle", count=2, target="CreateLogStream")
        a.start()
        # records are acknowledged once in the disk buffer; wait for CloudWatch itself
        a.wait_for(lambda: len(messages(self.aws, "/test/testhost/us-east-1", "app.gen")) >= n,
                   timeout=60, what=f"{n} events in the fake")
        group = self.aws.state()["log_groups"]["/test/testhost/us-east-1"]
        self.assertEqual(group["retentionInDays"], 14)
        self.assertEqual(group["logGroupClass"], "INFREQUENT_ACCESS")
        self.assertEqual(group["tags"], {"team": "core", "env": "test"})
        got = messages(self.aws, "/test/testhost/us-east-1", "app.gen")
        self.assertEqual(len(got), n)
        seqs = [int(m.split()[1]) for m in got]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), n)
        ops = Counter(r["operation"] for r in self.aws.requests())
        self.assertEqual(ops["CreateLogGroup"], 1)
        self.assertEqual(ops["PutRetentionPolicy"], 1)
        # generate at full speed: batches of ~1 MiB are gzipped (compress = auto)
        self.assertTrue(all(r["gzip"] for r in accepted_puts(self.aws)))
        self.assertEqual(a.stop(), 0)
        self.assert_no_duplicate_batch()

    def test_invalid_create_is_logged_counted_and_not_retried(self):
        """CreateLogGroup refused as invalid (a tag value AWS does not allow):
        the batch is dropped with AWS's reason, counted, and not retried in a loop."""
        a = self.agent("""
            [input gen]
            type = generate
            count = 50
            [output cw]
            type = cloudwatch_logs
            match = *
            log_group = g
            log_stream = s
            tags = team=a!b
            flush_interval = 100ms
            """)
        a.start()
        a.wait_log("InvalidParameterException", timeout=30)
        o = output_status(a)
        self.assertEqual(o["dropped"]["rejected"], 50)
        time.sleep(1)
        ops = Counter(r["operation"] for r in self.aws.requests())
        self.assertEqual(ops["CreateLogGroup"], 1)
        self.assertEqual(a.stop(), 0)

    def test_compress_off_and_emf_header(self):
        a = self.agent("""
            [input gen]
            type = generate
            count = 3000
            [output cw]
            type = cloudwatch_logs
            match = *
            log_group = g
            log_stream = s
            compress = off
            emf = true
            flush_interval = 100ms
            """)
        a.start()
        a.wait_for(lambda: len(messages(self.aws, "g", "s")) >= 3000, timeout=30,
                   what="3000 events in the fake")
        puts = accepted_puts(self.aws)
        self.assertTrue(puts)
        for r in puts:
            self.assertFalse(r["gzip"])
            self.assertEqual(r["headers"].get("x-amzn-logs-format"), "json/emf")
        self.assertEqual(len(messages(self.aws, "g", "s")), 3000)
        self.assertEqual(a.stop(), 0)

    def test_unknown_placeholder_is_a_config_error(self):
        a = self.agent("""
            [input gen]
            type = generate
            count = 1
            [output cw]
            type = cloudwatch_logs
            match = *
            log_group = /ecs/{clustr}
            retention_days = 8
            """)
        r = subprocess.run([BINARY, "check-config", "-c", a.conf_dir], env=base_env(a.env),
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        out = r.stdout + r.stderr
        self.assertIn("00-test.conf:16", out)
        self.assertIn("unknown placeholder {clustr}", out)
        self.assertIn("retention_days = 8", out)

    # ------------------------------------------------------- tail, order, faults

    def write_lines(self, path, lines):
        with open(path, "wb") as f:
            for line in lines:
                f.write(line + b"\n")

    def test_tail_every_line_once_in_order_through_throttling_and_503(self):
        """Lines spanning 3.5 days: each pipeline batch becomes several
        PutLogEvents calls (24 h rule), so faults hit batches midway."""
        a = self.agent("""
            [input logs]
            type = tail
            path = {tmp}/logs/*.log
            read_from_head = true
            time_format = %Y-%m-%dT%H:%M:%S.%f%z
            [output cw]
            type = cloudwatch_logs
            match = *
            log_group = /tail
            log_stream = {file_name}
            flush_interval = 300ms
            batch_max_records = 2000
            retry_max_backoff = 100ms
            workers = 2
            """, agent_extra="log_level = debug\n")
        os.makedirs(os.path.join(a.tmp, "logs"))
        now = int(time.time() * 1000)
        n = 6000
        start = now - int(3.5 * 86400000)
        step = (now - 60000 - start) // n
        lines = []
        for i in range(n):
            text = f"line {i:06d} " + ("héllo wörld ✓ " if i % 7 == 0 else "plain ascii text ")
            lines.append((iso(start + i * step) + " " + text).encode())
        lines[10] = lines[10] + b" bad\xffbyte"  # invalid UTF-8 never reaches the wire
        self.write_lines(os.path.join(a.tmp, "logs", "app.log"), lines)
        # Faults are consumed in order; a 1 ms latency fault lets a request
        # through, so the storms start after the first accepted calls.
        self.aws.fault("latency", ms=1, count=2, target="PutLogEvents")
        self.aws.fault("throttle", count=5, target="PutLogEvents")
        self.aws.fault("latency", ms=1, count=3, target="PutLogEvents")
        self.aws.fault("status", status=503, count=12, target="PutLogEvents")
        self.aws.fault("throttle", count=4, target="PutLogEvents")
        a.start()
        a.wait_for(lambda: len(events(self.aws, "/tail", "app.log")) >= n, timeout=90,
                   what="every line delivered")
        time.sleep(0.5)
        got = messages(self.aws, "/tail", "app.log")
        want = [line.decode("utf-8", "replace") for line in lines]
        self.assertEqual(len(got), n)
        self.assertEqual(got, want)
        self.assert_no_duplicate_batch()
        faults = Counter(r["fault"] for r in self.aws.requests() if r["fault"])
        self.assertEqual(faults["throttle"], 9)
        self.assertEqual(faults["status"], 12)
        # faults hit batches midway: they resumed after their accepted calls
        self.assertIn("resuming a batch after its first", a.stderr())
        o = output_status(a)
        self.assertGreater(o["throttled"], 0)
        self.assertEqual(o["records_dropped"], 0)
        self.assertEqual(a.stop(), 0)

    def test_oversize_truncated_old_and_new_dropped_and_counted(self):
        a = self.agent("""
            [input logs]
            type = tail
            path = {tmp}/app.log
            read_from_head = true
            time_format = %Y-%m-%dT%H:%M:%S.%f%z
            [output cw]
            type = cloudwatch_logs
            match = *
            log_group = /t
            log_stream = s
            max_event_size = 1000
            truncate_marker = [cut]
            flush_interval = 200ms
            """)
        now = int(time.time() * 1000)
        lines = [
            (iso(now - 20 * 86400000) + " too old").encode(),
            (iso(now - 60000) + " ok 1").encode(),
            (iso(now - 50000) + " big " + "é" * 3000).encode(),
            (iso(now + 3 * 3600000) + " too new").encode(),
            (iso(now - 40000) + " ok 2").encode(),
        ]
        self.write_lines(os.path.join(a.tmp, "app.log"), lines)
        a.start()
        a.wait_for(lambda: len(events(self.aws, "/t", "s")) >= 3, timeout=30, what="events")
        time.sleep(0.5)
        got = messages(self.aws, "/t", "s")
        self.assertEqual(len(got), 3)
        self.assertTrue(got[0].endswith(" ok 1"))
        self.assertTrue(got[1].endswith("[cut]"))
        self.assertLessEqual(len(got[1].encode()), 1000)
        self.assertGreater(len(got[1].encode()), 990)
        self.assertTrue(got[2].endswith(" ok 2"))
        o = output_status(a)
        self.assertEqual(o["dropped"]["too_old"], 1)
        self.assertEqual(o["dropped"]["too_new"], 1)
        self.assertEqual(o["records_truncated"], 1)
        a.wait_log("too old", timeout=5)
        self.assertIn(os.path.join(a.tmp, "app.log"), a.stderr())  # names the source
        self.assertEqual(a.stop(), 0)

    # -------------------------------------------------------------- templates

    def test_templates_resolved_with_imds(self):
        self.aws.imds(instance_id="i-0123456789abcdef0", local_ipv4="10.1.2.3")
        a = self.agent("""
            [input logs]
            type = tail
            path = {tmp}/logs/*.log
            read_from_head = true
            tag = files
            [output cw]
            type = cloudwatch_logs
            match = *
            log_group = /h/{hostname}/{region}/{ip_address}
            log_stream = {instance_id}:{file_name}*{tag}/{task_id}
            flush_interval = 200ms
            """, agent_extra="imds = on\n", AWS_EC2_METADATA_DISABLED="false",
            AWS_EC2_METADATA_SERVICE_ENDPOINT=self.aws.url)
        os.makedirs(os.path.join(a.tmp, "logs"))
        self.write_lines(os.path.join(a.tmp, "logs", "one.log"), [b"a", b"b"])
        self.write_lines(os.path.join(a.tmp, "logs", "two.log"), [b"c"])
        a.start()
        group = "/h/testhost/us-east-1/10.1.2.3"
        a.wait_for(lambda: len(events(self.aws, group, "i-0123456789abcdef0_two.log_files/unknown")) == 1
                   and len(events(self.aws, group, "i-0123456789abcdef0_one.log_files/unknown")) == 2,
                   timeout=30, what="templated streams")
        self.assertEqual(a.stop(), 0)

    def test_2000_streams(self):
        """2,000 streams against CloudWatch's CreateLogStream rate (50/s): the
        agent meets ThrottlingException, backs off, and every stream gets its
        lines once."""
        nfiles = 2000
        self.aws.config(rate_limits={"CreateLogStream": 50})
        a = self.agent("""
            [input logs]
            type = tail
            path = {tmp}/logs/*.log
            read_from_head = true
            [output cw]
            type = cloudwatch_logs
            match = *
            log_group = /many
            log_stream = {file_name}
            flush_interval = 500ms
            workers = 8
            """)
        d = os.path.join(a.tmp, "logs")
        os.makedirs(d)
        for i in range(nfiles):
            self.write_lines(os.path.join(d, f"c{i:04d}.log"), [f"{i} first".encode(),
                                                              f"{i} second".encode()])
        t0 = time.time()
        a.start()

        def done():
            g = self.aws.state()["log_groups"].get("/many")
            return g and sum(len(s["events"]) for s in g["streams"].values()) >= 2 * nfiles
        a.wait_for(done, timeout=90, interval=1, what="2000 streams")
        elapsed = time.time() - t0
        streams = self.aws.state()["log_groups"]["/many"]["streams"]
        self.assertEqual(len(streams), nfiles)
        for i in (0, 1, 999, 1999):
            self.assertEqual([e["message"] for e in streams[f"c{i:04d}.log"]["events"]],
                             [f"{i} first", f"{i} second"])
        self.assertEqual(a.stop(), 0)
        throttled = [r for r in self.aws.requests() if r["operation"] == "CreateLogStream"
                     and r["error_code"] == "ThrottlingException"]
        self.assertTrue(throttled, "2,000 streams at once meet the CreateLogStream rate")
        for name, st in streams.items():
            i = int(name[1:5])
            self.assertEqual([e["message"] for e in st["events"]], [f"{i} first", f"{i} second"],
                             name)
        # a figure, not an assertion: speed belongs to `make bench`
        print(f"\n  2000 streams created and filled in {elapsed:.1f} s, "
              f"{len(throttled)} CreateLogStream calls throttled", flush=True)
        self.assert_no_duplicate_batch()


if __name__ == "__main__":
    unittest.main()
