"""The AWS client core (collector/aws) end to end, through build/tools/aws_probe,
against the strict fake AWS server (tests/fakes/fake_aws.py).

Run from the repository root:  python3 -m unittest tests.integration.test_aws_core
(COLLECTOR_BUILD selects the build directory, default "build".)

Every test talks only to 127.0.0.1: AWS_ENDPOINT_URL points at the fake,
AWS_EC2_METADATA_DISABLED=true except in the IMDS tests (which force IMDS on
with --imds on and point AWS_EC2_METADATA_SERVICE_ENDPOINT at the fake), and
the ECS tests use AWS_CONTAINER_CREDENTIALS_FULL_URI on the fake.
"""

import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from tests.fakes.fake_aws_ctl import FakeAWS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("COLLECTOR_BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
PROBE = os.path.join(BUILD, "tools", "aws_probe")

AKID, SECRET = "AKIDTEST", "secret"
DESCRIBE = ["--service", "logs", "--target", "Logs_20140328.DescribeLogGroups", "--body", "{}"]
FAST_RETRY = ["--retry-base-delay", "20ms", "--retry-max-backoff", "100ms"]


class TinyProxy:
    """A forward + CONNECT HTTP proxy on 127.0.0.1 that records what it was asked."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen = []
        self.lock = threading.Lock()
        self.conns = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass
        self.thread.join(5)

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_head(sock):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None, b""
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        return head, rest

    def _pipe(self, a, b):
        socks = [a, b]
        while self.running:
            readable, _, _ = select.select(socks, [], [], 1.0)
            for s in readable:
                try:
                    data = s.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                (b if s is a else a).sendall(data)

    def _serve(self, conn):
        up = None
        try:
            head, rest = self._read_head(conn)
            if head is None:
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            with self.lock:
                self.seen.append((method, target))
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                up = socket.create_connection((host, int(port)), timeout=10)
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if rest:
                    up.sendall(rest)
                self._pipe(conn, up)
                return
            u = urllib.parse.urlsplit(target)
            headers = [h for h in lines[1:]
                       if h.split(":", 1)[0].strip().lower() not in ("proxy-connection", "connection")]
            length = 0
            for h in headers:
                if h.split(":", 1)[0].strip().lower() == "content-length":
                    length = int(h.split(":", 1)[1])
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                rest += chunk
            path = u.path or "/"
            if u.query:
                path += "?" + u.query
            out = "\r\n".join(["%s %s HTTP/1.1" % (method, path)] + headers + ["Connection: close"])
            up = socket.create_connection((u.hostname, u.port or 80), timeout=10)
            up.sendall(out.encode("latin-1") + b"\r\n\r\n" + rest)
            rhead, rrest = self._read_head(up)
            if rhead is None:
                return
            status, _, others = rhead.partition(b"\r\n")
            kept = [h for h in others.split(b"\r\n") if not h.lower().startswith(b"connection:")]
            conn.sendall(b"\r\n".join([status] + kept + [b"Connection: close"]) + b"\r\n\r\n" + rrest)
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                conn.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (up, conn):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass


@unittest.skipUnless(os.access(PROBE, os.X_OK), "build/tools/aws_probe not built")
class AwsCoreTest(unittest.TestCase):
    fake_kwargs = {}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_aws_core.")
        self.fake = FakeAWS(daemon_calls=False, **self.fake_kwargs).start()  # aws_probe calls it

    def tearDown(self):
        self.fake.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def env(self, **extra):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp,
               "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": self.fake.url}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def static_env(self, **extra):
        return self.env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET, **extra)

    def probe(self, args, env, expect_rc=None, timeout=30):
        cmd = [PROBE, "--region", "us-east-1"] + args if "--no-region" not in args else \
            [PROBE] + [a for a in args if a != "--no-region"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
        info = {"rc": proc.returncode, "stderr": proc.stderr, "lines": lines,
                "header": lines[0] if lines else {},
                "calls": [l for l in lines if "call" in l],
                "counters": next((l["counters"] for l in lines if "counters" in l), {})}
        if expect_rc is not None:
            self.assertEqual(proc.returncode, expect_rc,
                             "aws_probe rc %d\nstdout:\n%s\nstderr:\n%s"
                             % (proc.returncode, proc.stdout, proc.stderr[-3000:]))
        self.assertNotIn("ERROR: AddressSanitizer", proc.stderr)
        self.assertNotIn("runtime error:", proc.stderr)
        return info

    def api_requests(self, service="logs"):
        return [r for r in self.fake.requests() if r["service"] == service]

    def assert_no_secret(self, info, *secrets):
        text = json.dumps(info["lines"]) + info["stderr"]
        for s in secrets:
            self.assertNotIn(s, text)

    # ------------------------------------------------------------ credential sources

    def test_environment_credentials(self):
        info = self.probe(DESCRIBE + ["--debug"], self.static_env(), expect_rc=0)
        self.assertEqual(info["header"]["source"], "environment")
        self.assertEqual(info["header"]["endpoint"], self.fake.url)
        call = info["calls"][0]
        self.assertEqual((call["status"], call["attempts"], call["code"]), (200, 1, ""))
        self.assertTrue(call["request_id"])
        reqs = self.api_requests()
        self.assertEqual(len(reqs), 1)
        self.assertEqual(reqs[0]["operation"], "DescribeLogGroups")
        self.assertEqual(reqs[0]["access_key_id"], AKID)
        self.assertTrue(reqs[0]["headers"]["user-agent"].startswith("collector/"))
        self.assertNotIn("x-amz-security-token", reqs[0]["headers"])
        self.assert_no_secret(info, SECRET)

    def test_shared_file_profile(self):
        self.fake.add_credentials("AKIDFILE", "file-secret-value")
        creds = os.path.join(self.tmp, "creds")
        config = os.path.join(self.tmp, "config")
        with open(creds, "w") as f:
            f.write("# test file\n[default]\naws_access_key_id = AKIDWRONG\n"
                    "aws_secret_access_key = nope\n\n; the one we use\n[shipper]\n"
                    "aws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret-value\n")
        with open(config, "w") as f:
            f.write("[profile shipper]\nregion = us-east-1\n")
        env = self.env(AWS_SHARED_CREDENTIALS_FILE=creds, AWS_CONFIG_FILE=config,
                       AWS_PROFILE="shipper")
        info = self.probe(["--no-region"] + DESCRIBE, env, expect_rc=0)
        self.assertEqual(info["header"]["source"],
                         "shared credentials file %s (profile shipper)" % creds)
        self.assertEqual(info["header"]["region"], "us-east-1")
        self.assertEqual(self.api_requests()[0]["access_key_id"], "AKIDFILE")
        self.assert_no_secret(info, "file-secret-value")

    def test_bad_shared_file_is_reported(self):
        creds = os.path.join(self.tmp, "creds")
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = A\nthis is not ini\n")
        info = self.probe(DESCRIBE, self.env(AWS_SHARED_CREDENTIALS_FILE=creds), expect_rc=2)
        self.assertIn("%s:3: expected 'key = value'" % creds, info["header"]["error"])
        self.assertEqual(self.fake.requests(), [])

    def test_assume_role_with_external_id(self):
        arn = "arn:aws:iam::123456789012:role/cross-account-shipper"
        info = self.probe(DESCRIBE + ["--role-arn", arn, "--external-id", "ext-42",
                                      "--session-name", "probe-session", "--repeat", "2"],
                          self.static_env(), expect_rc=0)
        self.assertEqual(info["header"]["source"], "assume role %s via environment" % arn)
        sts = self.api_requests("sts")
        self.assertEqual(len(sts), 1, "credentials cached across calls")
        self.assertEqual(sts[0]["operation"], "AssumeRole")
        self.assertEqual(sts[0]["status"], 200)
        self.assertEqual(sts[0]["access_key_id"], AKID)
        form = sts[0]["form"]
        self.assertEqual(form["RoleArn"], arn)
        self.assertEqual(form["ExternalId"], "ext-42")
        self.assertEqual(form["RoleSessionName"], "probe-session")
        logs = self.api_requests()
        self.assertEqual(len(logs), 2)
        for r in logs:
            self.assertTrue(r["access_key_id"].startswith("ASIA"))
            self.assertIn("x-amz-security-token", r["headers"])
            self.assertEqual(r["status"], 200)

    def test_ecs_full_uri_with_token(self):
        path = "/v2/credentials/task-role"
        self.fake.ecs_credentials(path=path, token="ecs-auth-token-1")
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.fake.url + path,
                       AWS_CONTAINER_AUTHORIZATION_TOKEN="ecs-auth-token-1")
        info = self.probe(DESCRIBE, env, expect_rc=0)
        self.assertEqual(info["header"]["source"],
                         "ECS container credentials (%s%s)" % (self.fake.url, path))
        ecs = self.api_requests("ecs_credentials")
        self.assertEqual(len(ecs), 1)
        self.assertEqual(ecs[0]["headers"]["authorization"], "ecs-auth-token-1")
        self.assertTrue(self.api_requests()[0]["access_key_id"].startswith("ASIA"))
        self.assert_no_secret(info, "ecs-auth-token-1")

    def test_ecs_token_file_wins(self):
        path = "/v2/credentials/task-role"
        self.fake.ecs_credentials(path=path, token="from-the-file")
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write("from-the-file\n")
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.fake.url + path,
                       AWS_CONTAINER_AUTHORIZATION_TOKEN="stale-env-token",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token_file)
        self.probe(DESCRIBE, env, expect_rc=0)
        self.assertEqual(self.api_requests("ecs_credentials")[0]["headers"]["authorization"],
                         "from-the-file")

    def test_ecs_wrong_token_fails_clearly(self):
        path = "/v2/credentials/task-role"
        self.fake.ecs_credentials(path=path, token="right")
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.fake.url + path,
                       AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong")
        info = self.probe(DESCRIBE, env, expect_rc=1)
        call = info["calls"][0]
        self.assertEqual(call["kind"], "credentials")
        self.assertIn("HTTP 403", call["message"])
        self.assertEqual(self.api_requests(), [], "nothing sent unsigned")

    def test_imds_v2(self):
        env = self.env(AWS_EC2_METADATA_DISABLED=None,
                       AWS_EC2_METADATA_SERVICE_ENDPOINT=self.fake.url)
        info = self.probe(["--no-region", "--imds", "on"] + DESCRIBE, env, expect_rc=0)
        self.assertEqual(info["header"]["source"],
                         "EC2 instance profile (IMDSv2, endpoint overridden)")
        self.assertEqual(info["header"]["region"], "us-east-1")  # placement/region
        imds = self.api_requests("imds")
        self.assertEqual(imds[0]["method"], "PUT")
        self.assertEqual(imds[0]["headers"]["x-aws-ec2-metadata-token-ttl-seconds"], "21600")
        gets = [r for r in imds if r["method"] == "GET"]
        self.assertTrue(gets)
        for r in gets:
            self.assertIn("x-aws-ec2-metadata-token", r["headers"])
            self.assertEqual(r["status"], 200)
        self.assertTrue(self.api_requests()[0]["access_key_id"].startswith("ASIA"))

    def test_imds_disabled_by_environment_even_when_on(self):
        env = self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=self.fake.url)
        info = self.probe(["--imds", "on"] + DESCRIBE, env, expect_rc=1)
        self.assertTrue(info["header"]["source"].startswith("none: "))
        self.assertIn("AWS_EC2_METADATA_DISABLED", info["header"]["source"])
        self.assertEqual(self.fake.requests(), [])

    def test_imds_v1_refused_unless_allowed(self):
        self.fake.imds(allow_v1=True)
        env = self.env(AWS_EC2_METADATA_DISABLED=None,
                       AWS_EC2_METADATA_SERVICE_ENDPOINT=self.fake.url)
        # no IMDSv2 token (403): without imds_v1 the agent stops there
        self.fake.fault("status", status=403, count=1, target="imds")
        info = self.probe(["--imds", "on"] + DESCRIBE, env, expect_rc=1)
        self.assertEqual(info["calls"][0]["kind"], "credentials")
        self.assertIn("IMDSv1 fallback not allowed", info["calls"][0]["message"])
        self.assertEqual([r["method"] for r in self.api_requests("imds")], ["PUT"])
        # allowed: falls back to token-less GETs
        self.fake.reset()
        self.fake.imds(allow_v1=True)
        self.fake.fault("status", status=403, count=1, target="imds")
        info = self.probe(["--imds", "on", "--imds-v1"] + DESCRIBE, env, expect_rc=0)
        self.assertEqual(info["header"]["source"],
                         "EC2 instance profile (IMDSv2, IMDSv1 fallback allowed, endpoint overridden)")
        gets = [r for r in self.api_requests("imds") if r["method"] == "GET"]
        self.assertTrue(gets)
        self.assertTrue(all("x-aws-ec2-metadata-token" not in r["headers"] for r in gets))

    def test_refresh_before_expiry(self):
        path = "/v2/credentials/short"
        self.fake.ecs_credentials(path=path, expire_in=3)
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.fake.url + path)
        info = self.probe(DESCRIBE + ["--repeat", "3", "--interval-ms", "2000"], env, expect_rc=0)
        self.assertEqual([c["attempts"] for c in info["calls"]], [1, 1, 1])
        logs = self.api_requests()
        self.assertEqual([r["status"] for r in logs], [200, 200, 200], "no failed request")
        keys = [r["access_key_id"] for r in logs]
        self.assertEqual(len(set(keys)), 3, "each call after the half-life used new credentials")
        self.assertEqual(len(self.api_requests("ecs_credentials")), 3)
        self.assertEqual(info["counters"]["credential_refreshes"], 3)

    def test_sender_threads_share_one_refresh(self):
        path = "/v2/credentials/shared"
        self.fake.ecs_credentials(path=path, expire_in=3)
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.fake.url + path)
        info = self.probe(DESCRIBE + ["--threads", "4", "--repeat", "3", "--interval-ms", "1000"],
                          env, expect_rc=0)
        self.assertEqual(len(info["calls"]), 12)
        self.assertEqual({c["attempts"] for c in info["calls"]}, {1})
        self.assertEqual({r["status"] for r in self.api_requests()}, {200})
        fetches = len(self.api_requests("ecs_credentials"))
        self.assertLessEqual(fetches, 4, "one refresh per expiry window, not one per thread")
        self.assertGreaterEqual(fetches, 2)

    def test_describe_masks_proxy_password(self):
        proc = subprocess.run([PROBE, "--region", "us-east-1", "--describe-text", "--proxy",
                               "http://user:hunter2@127.0.0.1:3128"],
                              env=self.static_env(), capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("aws proxy: http://***@127.0.0.1:3128", proc.stdout)
        self.assertIn("aws credentials: environment", proc.stdout)
        self.assertIn("aws endpoint logs: %s" % self.fake.url, proc.stdout)
        self.assertNotIn("hunter2", proc.stdout + proc.stderr)
        self.assertNotIn(SECRET, proc.stdout + proc.stderr)
        self.assertEqual(self.fake.requests(), [])

    # ------------------------------------------------------------ errors and retries

    def test_throttle_twice_then_success(self):
        self.fake.fault("throttle", count=2, target="DescribeLogGroups")
        info = self.probe(DESCRIBE + FAST_RETRY, self.static_env(), expect_rc=0)
        call = info["calls"][0]
        self.assertEqual((call["attempts"], call["throttles"], call["status"]), (3, 2, 200))
        self.assertEqual(info["counters"]["throttles"], 2)
        self.assertEqual(info["counters"]["retries"], 2)
        self.assertEqual(info["counters"]["requests"], 3)
        self.assertEqual([r["error_code"] for r in self.api_requests()],
                         ["ThrottlingException", "ThrottlingException", None])

    def test_503_storm_gives_up(self):
        self.fake.fault("status", status=503, count=50)
        info = self.probe(DESCRIBE + FAST_RETRY + ["--max-attempts", "4"], self.static_env(),
                          expect_rc=1)
        call = info["calls"][0]
        self.assertEqual(call["attempts"], 4)
        self.assertEqual(call["status"], 503)
        self.assertEqual(call["kind"], "transient")
        self.assertEqual(call["code"], "ServiceUnavailableException")
        self.assertEqual(call["rc"], -2)
        self.assertEqual(info["counters"]["errors"]["transient"], 1)
        self.assertEqual(len(self.api_requests()), 4)

    def test_validation_error_not_retried(self):
        body = json.dumps({"logGroupName": "bad name with spaces"})
        info = self.probe(["--target", "Logs_20140328.CreateLogGroup", "--body", body] + FAST_RETRY,
                          self.static_env(), expect_rc=1)
        call = info["calls"][0]
        self.assertEqual((call["attempts"], call["kind"]), (1, "client"))
        self.assertEqual(call["code"], "InvalidParameterException")
        body = json.dumps({"logGroupName": "missing", "logStreamName": "s",
                           "logEvents": [{"timestamp": int(time.time() * 1000), "message": "m"}]})
        info = self.probe(["--target", "Logs_20140328.PutLogEvents", "--body", body] + FAST_RETRY,
                          self.static_env(), expect_rc=1)
        call = info["calls"][0]
        self.assertEqual((call["attempts"], call["kind"]), (1, "not_found"))
        self.assertEqual(call["code"], "ResourceNotFoundException")

    def test_unknown_key_not_retried(self):
        info = self.probe(DESCRIBE + FAST_RETRY,
                          self.env(AWS_ACCESS_KEY_ID="AKIDUNKNOWN", AWS_SECRET_ACCESS_KEY="x"),
                          expect_rc=1)
        call = info["calls"][0]
        self.assertEqual(call["code"], "UnrecognizedClientException")
        self.assertEqual(call["kind"], "auth")
        self.assertEqual(call["attempts"], 2, "one resend after refreshing credentials, no more")

    def test_expired_token_refreshes_and_succeeds(self):
        path = "/v2/credentials/task-role"
        self.fake.ecs_credentials(path=path)
        self.fake.fault("expire", count=1, target="DescribeLogGroups")
        env = self.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=self.fake.url + path)
        info = self.probe(DESCRIBE + FAST_RETRY, env, expect_rc=0)
        self.assertEqual(info["calls"][0]["attempts"], 2)
        self.assertEqual(len(self.api_requests("ecs_credentials")), 2, "credentials refetched")
        self.assertEqual([r["error_code"] for r in self.api_requests()],
                         ["ExpiredTokenException", None])

    def test_connection_reset_retried(self):
        self.fake.fault("reset", count=1, target="DescribeLogGroups")
        info = self.probe(DESCRIBE + FAST_RETRY, self.static_env(), expect_rc=0)
        self.assertEqual(info["calls"][0]["attempts"], 2)
        self.assertEqual(info["counters"]["retries"], 1)

    def test_server_closing_every_connection(self):
        self.fake.fault("close", count=10)
        info = self.probe(DESCRIBE + ["--repeat", "5"], self.static_env(), expect_rc=0)
        self.assertEqual([c["attempts"] for c in info["calls"]], [1] * 5)

    def test_gzip_body_signed(self):
        body = json.dumps({"Namespace": "Probe", "MetricData": [
            {"MetricName": "m", "Value": 1.0, "Unit": "Count"}]})
        info = self.probe(["--service", "monitoring", "--target",
                           "GraniteServiceVersion20100801.PutMetricData", "--body", body,
                           "--gzip"], self.static_env(), expect_rc=0)
        req = self.api_requests("monitoring")[0]
        self.assertTrue(req["gzip"])
        self.assertEqual(req["status"], 200)
        self.assertIn("content-encoding", req["headers"]["authorization"])
        self.assertEqual(info["calls"][0]["attempts"], 1)

    # ------------------------------------------------------------ proxy

    def test_configured_proxy_is_used(self):
        with TinyProxy() as proxy:
            self.probe(DESCRIBE + ["--repeat", "2"], self.static_env(), expect_rc=0)
            self.assertEqual(proxy.seen, [], "no proxy unless configured")
            info = self.probe(DESCRIBE + ["--repeat", "2", "--proxy", proxy.url],
                              self.static_env(), expect_rc=0)
            self.assertEqual([c["attempts"] for c in info["calls"]], [1, 1])
            self.assertEqual(proxy.seen, [("POST", self.fake.url + "/")] * 2)
        self.assertEqual(len(self.api_requests()), 4)

    def test_environment_proxy(self):
        with TinyProxy() as proxy:
            self.probe(DESCRIBE, self.static_env(HTTP_PROXY=proxy.url), expect_rc=0)
            self.assertEqual(proxy.seen, [("POST", self.fake.url + "/")])
            self.probe(DESCRIBE, self.static_env(HTTP_PROXY=proxy.url, NO_PROXY="127.0.0.1"),
                       expect_rc=0)
            self.assertEqual(len(proxy.seen), 1, "NO_PROXY honored")
            self.probe(DESCRIBE + ["--no-proxy", "127.0.0.1"],
                       self.static_env(http_proxy=proxy.url), expect_rc=0)
            self.assertEqual(len(proxy.seen), 1, "no_proxy setting honored")


@unittest.skipUnless(os.access(PROBE, os.X_OK), "build/tools/aws_probe not built")
@unittest.skipUnless(shutil.which("openssl"), "openssl CLI not installed")
class AwsTlsTest(unittest.TestCase):
    """A TLS fake with a certificate from a throw-away CA."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="test_aws_tls.")
        t = lambda name: os.path.join(cls.tmp, name)  # noqa: E731
        with open(t("ext.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n")
        steps = [
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", t("ca.key"),
             "-out", t("ca.pem"), "-days", "2", "-subj", "/CN=collector test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", t("server.key"),
             "-out", t("server.csr"), "-subj", "/CN=127.0.0.1"],
            ["openssl", "x509", "-req", "-in", t("server.csr"), "-CA", t("ca.pem"),
             "-CAkey", t("ca.key"), "-CAcreateserial", "-out", t("server.pem"), "-days", "2",
             "-extfile", t("ext.cnf")],
        ]
        for cmd in steps:
            subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        cls.ca = t("ca.pem")
        cls.fake = FakeAWS(tls_cert=t("server.pem"), tls_key=t("server.key"),
                           daemon_calls=False).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def probe(self, extra, expect_rc):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp,
               "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": self.fake.url,
               "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        proc = subprocess.run([PROBE, "--region", "us-east-1"] + DESCRIBE + extra, env=env,
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, expect_rc, proc.stdout + proc.stderr[-3000:])
        return [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]

    def test_accepted_with_ca_file(self):
        lines = self.probe(["--ca-file", self.ca], 0)
        self.assertEqual(lines[1]["status"], 200)
        self.assertTrue(self.fake.url.startswith("https://"))

    def test_refused_without_ca(self):
        lines = self.probe(["--max-attempts", "1"], 1)
        self.assertEqual(lines[1]["kind"], "network")
        self.assertEqual(lines[1]["status"], 0)
        self.assertRegex(lines[1]["message"].lower(), "certificate|ssl")

    def test_tls_through_connect_proxy(self):
        with TinyProxy() as proxy:
            lines = self.probe(["--ca-file", self.ca, "--proxy", proxy.url], 0)
            self.assertEqual(lines[1]["status"], 200)
            self.assertEqual(proxy.seen, [("CONNECT", "127.0.0.1:%d" % self.fake.port)])


if __name__ == "__main__":
    unittest.main()
