"""Start, drive and stop tests/fakes/fake_aws.py from Python tests (urllib only).

    with FakeAWS() as aws:
        aws.fault("throttle", count=2, target="PutLogEvents")
        ... point the agent at aws.url ...
        assert aws.state()["log_groups"]
"""

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_aws.py")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class FakeAWSError(RuntimeError):
    """The fake could not be started or a control call failed."""


class FakeAWS:
    """One fake_aws.py process on 127.0.0.1 (ephemeral port)."""

    def __init__(self, tls_cert=None, tls_key=None, credentials=(("AKIDTEST", "secret"),),
                 region="us-east-1", sts_duration=None, extra_args=(), daemon_calls=True):
        # daemon_calls=False: what is called of this fake is not the running
        # agent's (a test tool, an operator's one-off command), so it is not
        # recorded in $COLLECTOR_FAKE_OPS_LOG for the IAM policy comparison
        self.daemon_calls = daemon_calls
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.credentials = list(credentials)
        self.region = region
        self.sts_duration = sts_duration
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self._tmpdir = None
        self._stderr = None
        self.allow_bad_emf = False  # a test that sends malformed EMF on purpose sets it

    # ------------------------------------------------------------ process

    def command(self, port_file):
        """The server command line."""
        cmd = [sys.executable, SERVER, "--port-file", port_file, "--region", self.region]
        for cred in self.credentials:
            cmd += ["--credentials", ":".join(c for c in cred if c)]
        if self.tls_cert:
            cmd += ["--tls-cert", self.tls_cert, "--tls-key", self.tls_key]
        if self.sts_duration is not None:
            cmd += ["--sts-duration", str(self.sts_duration)]
        return cmd + self.extra_args

    def start(self):
        """Spawn the server and wait (<= 10 s) for its port file."""
        self._tmpdir = tempfile.mkdtemp(prefix="fake_aws.")
        port_file = os.path.join(self._tmpdir, "port")
        self._stderr = open(os.path.join(self._tmpdir, "stderr"), "w+b")
        env = dict(os.environ)
        if not self.daemon_calls:
            env.pop("COLLECTOR_FAKE_OPS_LOG", None)
        self.proc = subprocess.Popen(self.command(port_file), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._stderr, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    self.port = int(f.read().strip())
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        err = self.stderr_text()
        self.stop()
        raise FakeAWSError("fake_aws did not start: %s" % (err or "timeout"))

    def stderr_text(self):
        """Everything the server wrote to stderr so far."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM the server, SIGKILL after 5 s, and clean up. Then fail (raise
        AssertionError, in the test that used this fake) if the fake met a bug of
        its own or stored an event that breaks the EMF specification (which
        CloudWatch would drop silently) -- unless the test set allow_bad_emf."""
        problems = []
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self._tmpdir is not None:
            for line in self.stderr_text().splitlines():
                if line.startswith("FAKE_AWS_INTERNAL_ERROR") or (
                        line.startswith("FAKE_AWS_EMF_ERROR") and not self.allow_bad_emf):
                    problems.append(line)
            self._stderr.close()
            self._stderr = None
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        if problems:
            raise AssertionError("fake_aws: %d problem(s):\n%s" % (len(problems),
                                                                 "\n".join(problems[:10])))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        scheme = "https" if self.tls_cert else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.port)

    # ------------------------------------------------------------ control API

    def _call(self, method, path, body=None):
        """One control-API call; returns the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        context = None
        if self.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            with urllib.request.urlopen(req, timeout=10, context=context) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            raise FakeAWSError("%s %s -> %d %s" % (method, path, err.code,
                                                   err.read().decode("utf-8", "replace")))

    def add_credentials(self, access_key_id, secret_access_key, session_token=None,
                        expires_in=None):
        """Make the fake accept another key (expires_in may be negative)."""
        body = {"access_key_id": access_key_id, "secret_access_key": secret_access_key}
        if session_token is not None:
            body["session_token"] = session_token
        if expires_in is not None:
            body["expires_in"] = expires_in
        return self._call("POST", "/_fake/credentials", body)

    def fault(self, kind, **kw):
        """Queue a fault: kind throttle|status|latency|reset|expire|close; count, status,
        ms, target."""
        return self._call("POST", "/_fake/faults", dict(kw, kind=kind))

    def imds(self, **kw):
        """Configure IMDS: role, region, instance_id, local_ipv4, hostname, allow_v1,
        credentials_expire_in."""
        return self._call("POST", "/_fake/imds", kw)

    def ecs_credentials(self, **kw):
        """Configure the ECS credentials endpoint: path, token, expire_in."""
        return self._call("POST", "/_fake/ecs_credentials", kw)

    def introspection(self, metadata=None, tasks=None):
        """Set the /v1/metadata and /v1/tasks documents."""
        body = {}
        if metadata is not None:
            body["metadata"] = metadata
        if tasks is not None:
            body["tasks"] = tasks
        return self._call("POST", "/_fake/introspection", body)

    def requests(self):
        """The request log (list of dicts)."""
        return self._call("GET", "/_fake/requests")["requests"]

    def state(self):
        """Stored log groups and metrics."""
        return self._call("GET", "/_fake/state")

    def messages(self, group, stream, start=0):
        """Messages of one stream in arrival order, from index start on."""
        out = []
        while True:
            got = self._call("POST", "/_fake/messages",
                             {"group": group, "stream": stream, "start": start + len(out)})
            out += got["messages"]
            if not got["messages"] or start + len(out) >= got["total"]:
                return out

    def config(self, rate_limits=None, error_type=None):
        """Per-API rate limits ({"CreateLogStream": 50, "PutLogEvents per stream": 5},
        0 turns one off) and the error __type form (bare|qualified|alternate)."""
        body = {}
        if rate_limits is not None:
            body["rate_limits"] = rate_limits
        if error_type is not None:
            body["error_type"] = error_type
        return self._call("POST", "/_fake/config", body)

    def create_log_group(self, name):
        return self._call("POST", "/_fake/resources", {"create_group": name})

    def delete_log_group(self, name):
        return self._call("POST", "/_fake/resources", {"delete_group": name})

    def delete_log_stream(self, group, stream):
        return self._call("POST", "/_fake/resources", {"delete_stream": [group, stream]})

    def problems(self):
        """{"emf_errors": [...], "internal_errors": [...]} recorded so far."""
        return self._call("GET", "/_fake/problems")

    def reset(self):
        """Clear state, faults and the request log (credentials are kept)."""
        return self._call("POST", "/_fake/reset", {})
