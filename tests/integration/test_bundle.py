"""`collector bundle` against a real dockerd, a fake filesystem root and fake
commands: layout and names of the reference, manifest consistency, planted
secrets, degraded hosts (no Docker, not root, a hanging command), stdout
output, size caps, enable-debug.

Every process started here is stopped by pid: the shared dockerd at exit
(tests/integration/dockerd.py), the ps-secret process and the HTTP servers
in tearDownClass. Traffic goes to 127.0.0.1 and unix sockets only."""
import hashlib
import http.server
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
import unittest

from tests.integration import dockerd
from tests.integration.harness import BINARY, base_env

# Planted secrets: none may survive in any file of the archive.
SECRETS = {
    "ecs.config key id": "AKIAIOSFODNN7PLANTED",
    "ecs.config secret": "wJalrXUtnFEMIK7MDENGbPxRfiCYPLANTEDKEY1",
    "ecs.config auth data": "dockerHubPassPlanted1",
    "ecs.config proxy": "proxyPassPlanted2",
    "container env secret": "containerSecretPlanted3",
    "container env password": "containerPwPlanted4",
    "container env plain": "plainValuePlanted5",
    "journal bearer": "eyJhbGciOiJIUzI1NiJ9.journalPlanted6.sig",
    "journal password": "journalPassPlanted7",
    "ecs agent log": "agentLogSecretPlanted8xyz",
    "ecs agent log token": "FwoGZXIvYXdzEAgentLogPlanted9Token1234567890",
    "nested file": "nestedSessionTokenPlanted10",
    "ps command line": "psCmdPasswordPlanted11",
    "introspection": "introspectionPwPlanted12",
    "state file": "stateFileTokenPlanted13",
    "collector log": "collectorLogPassPlanted14",
    "private key": "MIIEpAIBAAKCAQEAplantedPrivateKey15",
    "status": "statusTokenPlanted16",
}
S = SECRETS
INSTANCE = "mi-0123456789abcdef0"
LONG_DIR = "d" * 120 + "/" + "e" * 120


def write(root, rel, text, mode=0o644):
    path = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    os.chmod(path, mode)
    return path


def make_fake_root(root, instance=True):
    """The ECS agent's layout, ecs.config, state file, and the agent's own files."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    if instance:
        write(root, "/var/lib/amazon/ssm/registration",
              json.dumps({"ManagedInstanceID": INSTANCE, "Region": "us-east-1"}))
    write(root, "/etc/ecs/ecs.config", f"""\
        ECS_CLUSTER=prod-cluster
        ECS_LOGLEVEL=info
        AWS_ACCESS_KEY_ID={S['ecs.config key id']}
        AWS_SECRET_ACCESS_KEY={S['ecs.config secret']}
        ECS_ENGINE_AUTH_TYPE=dockercfg
        ECS_ENGINE_AUTH_DATA={{"https://index.docker.io/v1/":{{"auth":"x","password":"{S['ecs.config auth data']}"}}}}
        HTTPS_PROXY=http://user:{S['ecs.config proxy']}@proxy:3128
        """)
    write(root, "/var/log/ecs/ecs-agent.log", f"""\
        level=info time={now} msg="Loading configuration"
        level=info time={now} msg="Registered container instance" AWS_SECRET_ACCESS_KEY={S['ecs agent log']}
        level=error time={now} msg="Error connecting to ACS" token {S['ecs agent log token']}
        level=info time={now} msg="Connected to ACS endpoint"
        """)
    write(root, "/var/log/ecs/ecs-init.log", "2024-01-01T00:00:00Z [INFO] pre-start\n")
    write(root, "/var/log/ecs/audit.log", "audit ok\n")
    write(root, "/var/log/ecs/sub/nested/cni.log",
          f'{{"msg":"assume role","SessionToken":"{S["nested file"]}"}}\n')
    write(root, f"/var/log/ecs/{LONG_DIR}/long.log", "a file under a long path\n")
    write(root, "/var/lib/ecs/data/ecs_agent_data.json",
          json.dumps({"Data": {"Cluster": "prod-cluster", "Token": S["state file"]}, "Version": 28}))
    write(root, "/etc/docker/daemon.json", '{"log-driver": "json-file"}\n')
    write(root, "/var/log/syslog", "Nov 22 kernel: hello syslog\n")
    write(root, "/var/log/dmesg", "[0.0] boot dmesg\n")
    write(root, "/etc/os-release", 'NAME="Fake Linux"\nID=fake\n')
    write(root, "/var/log/collector/collector.log",
          f"ts=2024 level=warn module=x msg=\"login\" password={S['collector log']}\n"
          f"-----BEGIN RSA PRIVATE KEY-----\n{S['private key']}\nabc\n-----END RSA PRIVATE KEY-----\n")
    write(root, "/var/lib/collector/tail/ecs_agent.ckpt", "collector-checkpoint 1\n/var/log/ecs/ecs-agent.log 1 2 300\n")
    write(root, "/var/lib/collector/out/local.jsonl", "{}\n")


def make_fake_bin(bindir, hang_docker=False):
    """journalctl with secrets; optionally a docker that hangs."""
    write(bindir, "/journalctl", f"""\
        #!/bin/sh
        echo "Nov 22 04:00:00 host app[1]: Authorization: Bearer {S['journal bearer']}"
        echo "Nov 22 04:00:01 host app[1]: connecting with password={S['journal password']}"
        """, 0o755)
    if hang_docker:
        write(bindir, "/docker", "#!/bin/sh\nexec sleep 6001\n", 0o755)


class Server:
    """A tiny HTTP server on 127.0.0.1 for ECS introspection and /status."""

    def __init__(self, routes):
        routes_ = routes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = routes_.get(self.path.split("?")[0])
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                if self.headers.get("X-aws-ec2-metadata-token") is None and \
                        self.path.startswith("/latest/"):
                    self.send_response(401)
                    self.end_headers()
                    return
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                self.server.puts = getattr(self.server, "puts", 0) + 1
                if self.path == "/latest/api/token":
                    data = b"imds-session-token"
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self.send_response(404)
                    self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def run_bundle(args, env=None, timeout=120, user=None):
    env = base_env(env)
    preexec = None
    if user == "nobody":
        def preexec():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
    started = time.time()
    p = subprocess.run([BINARY, "bundle"] + list(args), env=env, capture_output=True,
                       timeout=timeout, preexec_fn=preexec)
    return p, time.time() - started


def open_archive(path):
    """{name: bytes} of every regular file, and the list of all names."""
    files = {}
    with tarfile.open(path, "r:gz") as tar:
        names = tar.getnames()
        for m in tar.getmembers():
            if m.isfile():
                files[m.name] = tar.extractfile(m).read()
    return files, names


def manifest_of(files, prefix):
    return json.loads(files[prefix + "manifest.json"])


class BundleDockerTest(unittest.TestCase):
    """The full bundle on a host with a real dockerd, ECS-like containers and a fake root."""

    @classmethod
    def setUpClass(cls):
        reason = dockerd.skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.mkdtemp(prefix="collector-bundle-")
        cls.root = os.path.join(cls.tmp, "root")
        cls.bin = os.path.join(cls.tmp, "bin")
        make_fake_root(cls.root)
        make_fake_bin(cls.bin)
        cls.conf = write(cls.tmp, "/conf.d/00.conf", """\
            [agent]
            data_dir = /var/lib/collector
            [input g]
            type = generate
            count = 1
            [output o]
            type = stdout
            match = *
            """)
        cls.d = dockerd.shared()
        cls.cids = []
        for i in range(3):
            cls.cids.append(cls.d.run(
                name=f"ecs-web-{i}-app-{os.getpid()}",
                labels={"com.amazonaws.ecs.cluster": "prod-cluster",
                        "com.amazonaws.ecs.task-arn": f"arn:aws:ecs:us-east-1:123456789012:task/prod/{i:032x}",
                        "com.amazonaws.ecs.container-name": "app",
                        "com.amazonaws.ecs.task-definition-family": "web",
                        "com.amazonaws.ecs.task-definition-version": "3"},
                env={"AWS_SECRET_ACCESS_KEY": S["container env secret"],
                     "DB_PASSWORD": S["container env password"],
                     "PLAIN_SETTING": S["container env plain"]},
                log_opts={"max-size": "1m", "max-file": "2"}))
        stopped = cls.d.run(name=f"stopped-{os.getpid()}", cmd=["true"])
        cls.cids.append(stopped)
        cls.d.docker("wait", stopped)
        # The daemon is shared with other suites: count what is there now.
        cls.running = len(cls.d.containers(all=False))
        cls.stopped = len(cls.d.containers()) - cls.running
        # A process whose command line carries a secret.
        cls.ps_proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)",
                                        "--password", S["ps command line"]],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.intro = Server({
            "/v1/metadata": {"Cluster": "prod-cluster",
                             "ContainerInstanceArn": "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/abc",
                             "Version": "Amazon ECS Agent - v1.89.0 (fake)"},
            "/v1/tasks": {"Tasks": [{"Arn": "arn:aws:ecs:us-east-1:123456789012:task/prod/0",
                                     "Family": "web", "KnownStatus": "RUNNING",
                                     "Containers": [{"DockerId": cls.cids[0], "Name": "app",
                                                     "Environment": {"DB_PASSWORD": S["introspection"]}}]}]},
            "/status": {"version": "0.1.0", "uptime_s": 5, "auth": {"token": S["status"]}},
        })
        cls.out = os.path.join(cls.tmp, "out")
        os.makedirs(cls.out)
        cls.proc, cls.elapsed = run_bundle(
            ["-o", cls.out, "--root", cls.root, "-c", cls.conf, "--ecs-url", cls.intro.url,
             "--status-url", cls.intro.url + "/status", "--timeout", "20s"],
            env={"PATH": cls.bin + ":" + os.environ["PATH"], "DOCKER_HOST": cls.d.host})
        tgz = [f for f in os.listdir(cls.out) if f.endswith(".tgz")]
        cls.archive = os.path.join(cls.out, tgz[0]) if tgz else None
        cls.prefix = f"collect/{INSTANCE}/"
        cls.files, cls.names = open_archive(cls.archive) if cls.archive else ({}, [])

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "ps_proc", None):
            cls.ps_proc.kill()
            cls.ps_proc.wait()
        if getattr(cls, "intro", None):
            cls.intro.stop()
        for cid in getattr(cls, "cids", []):
            cls.d.remove(cid)
        shutil.rmtree(getattr(cls, "tmp", "/nonexistent"), ignore_errors=True)

    def test_runs_and_names_archive_as_reference(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr.decode()[-3000:])
        name = os.path.basename(self.archive)
        self.assertRegex(name, r"^collect-mi-0123456789abcdef0-\d{12}\.tgz$")
        self.assertIn(self.archive.encode(), self.proc.stdout)
        self.assertIn(b"Trying to collect ", self.proc.stderr)

    def test_every_expected_path(self):
        short = [c[:12] for c in self.cids]
        expected = [
            "system.log", "var_log/syslog", "kernel/dmesg.boot", "kernel/dmesg.current",
            "kernel/dmesg.human.current", "mounts.txt", "iptables-filter.txt", "iptables-nat.txt",
            "pkglist.txt", "services.txt", "top.txt", "ps.txt", "netstat.txt",
            "docker/docker-info.txt", "docker/docker-ps.txt", "docker/docker-images.txt",
            "docker/docker-version.txt", "docker/docker-stats.txt", "docker/daemon.json",
            "ecs_agent_logs/ecs-agent.log", "ecs_agent_logs/ecs-init.log", "ecs_agent_logs/audit.log",
            "ecs_agent_logs/sub/nested/cni.log", f"ecs_agent_logs/{LONG_DIR}/long.log",
            "ecs-agent/ecs_agent_data.txt", "ecs-agent/ecs.config", "ecs-agent/agent-running-info.txt",
            "ecs-agent/agent-metadata.txt", "open-file-counts.txt", "open-file-details.txt",
            "os-release", "uname.txt", "ipaddrshow.txt", "instance-id.txt",
            "manifest.json", "summary.txt", "redactions.txt", "proc/meminfo", "limits.txt",
            "timesync.txt", "disk-usage.txt", "collector/config.txt", "collector/status.json",
            "collector/log/collector.log", "collector/data-dir-listing.txt",
            "collector/checkpoints/tail/ecs_agent.ckpt",
        ] + [f"docker/container-{s}.txt" for s in short]
        missing = [p for p in expected if self.prefix + p not in self.files]
        self.assertEqual(missing, [], sorted(self.files)[:80])
        self.assertEqual(self.files[self.prefix + "instance-id.txt"].strip().decode(), INSTANCE)
        inspect = json.loads(self.files[self.prefix + f"docker/container-{short[0]}.txt"])
        self.assertEqual(inspect[0]["Config"]["Labels"]["com.amazonaws.ecs.cluster"], "prod-cluster")
        self.assertIn(b"Amazon ECS Agent", self.files[self.prefix + "ecs-agent/agent-metadata.txt"])
        self.assertIn(b"ECS_CLUSTER=prod-cluster", self.files[self.prefix + "ecs-agent/ecs.config"])

    def test_manifest_consistent_with_files(self):
        m = manifest_of(self.files, self.prefix)
        self.assertEqual(m["instance_id"], INSTANCE)
        listed = set()
        for item in m["items"]:
            for key in ("item", "source", "command", "path", "bytes", "sha256", "exit_status",
                        "duration_ms", "error", "status"):
                self.assertIn(key, item)
            if item["path"]:
                data = self.files.get(self.prefix + item["path"])
                self.assertIsNotNone(data, item["path"])
                self.assertEqual(len(data), item["bytes"], item["path"])
                self.assertEqual(hashlib.sha256(data).hexdigest(), item["sha256"], item["path"])
                listed.add(item["path"])
            if item["status"] != "ok":
                self.assertTrue(item["error"], item)
        in_archive = {n[len(self.prefix):] for n in self.files if n.startswith(self.prefix)}
        self.assertEqual(in_archive - listed, {"manifest.json"})
        ver = [i for i in m["items"] if i["item"] == "docker-version"][0]
        self.assertEqual(ver["exit_status"], 0)
        self.assertEqual(ver["command"], "docker version")

    def test_gnu_tar_extracts(self):
        dest = tempfile.mkdtemp(dir=self.tmp)
        r = subprocess.run(["tar", "xzf", self.archive, "-C", dest], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(dest, self.prefix, "ecs_agent_logs", LONG_DIR,
                                                    "long.log")))

    def test_no_planted_secret_survives(self):
        leaks = []
        for name, data in self.files.items():
            for what, secret in SECRETS.items():
                if secret.encode() in data:
                    leaks.append(f"{what} in {name}")
        self.assertEqual(leaks, [])
        # ...and they were really collected (so the absence means redaction, not omission)
        ps = self.files[self.prefix + "ps.txt"].decode()
        self.assertIn("--password {REDACTED}", ps)
        self.assertIn(b"{REDACTED}", self.files[self.prefix + "system.log"])

    def test_redactions_txt_names_each_place(self):
        red = self.files[self.prefix + "redactions.txt"].decode()
        for path in ("ecs-agent/ecs.config", "ecs_agent_logs/ecs-agent.log",
                     "ecs_agent_logs/sub/nested/cni.log", "system.log", "ps.txt",
                     "ecs-agent/agent-running-info.txt", "ecs-agent/ecs_agent_data.txt",
                     "collector/log/collector.log", "collector/status.json",
                     f"docker/container-{self.cids[0][:12]}.txt"):
            self.assertRegex(red, r"(?m)^" + path.replace(".", r"\.") + r": ", path)
        self.assertIn("container-env-value", red)
        self.assertIn("ecs-config-not-allowlisted", red)
        self.assertIn("private-key", red)
        for secret in SECRETS.values():
            self.assertNotIn(secret, red)
        self.assertIn("redact check: passed", red)

    def test_summary_verdicts(self):
        s = self.files[self.prefix + "summary.txt"].decode()
        self.assertRegex(s, r"(?m)^OK\s+docker\s+running")
        self.assertRegex(s, r"(?m)^OK\s+containers\s+%d running, %d stopped" % (self.running, self.stopped))
        self.assertRegex(s, r"(?m)^OK\s+ecs agent\s+Amazon ECS Agent - v1\.89\.0 \(fake\), cluster prod-cluster, registered")
        self.assertRegex(s, r"(?m)^WARN\s+ecs agent errors\s+1 error line in the last hour")
        self.assertRegex(s, r"(?m)^OK\s+ecs acs connection\s+connected")
        self.assertRegex(s, r"(?m)^INFO\s+collector agent\s+running")
        for topic in ("disk", "memory", "oom kills", "inotify", "file descriptors", "time sync", "bundle"):
            self.assertRegex(s, r"(?m)^(OK|WARN|FAIL)\s+" + topic + r"\s", topic)


class BundleDegradedTest(unittest.TestCase):
    """No Docker, not root, a command that hangs; stdout output; size caps."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-bundle-")
        os.chmod(self.tmp, 0o755)
        self.root = os.path.join(self.tmp, "root")
        self.bin = os.path.join(self.tmp, "bin")
        self.out = os.path.join(self.tmp, "out")
        os.makedirs(self.out)
        os.chmod(self.out, 0o777)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def bundle(self, extra, env=None, user=None, timeout=120):
        make_fake_root(self.root, instance=False)
        for dirpath, dirs, files in os.walk(self.tmp):
            for n in dirs:
                os.chmod(os.path.join(dirpath, n), 0o755)
        os.chmod(self.out, 0o777)
        p, elapsed = run_bundle(["-o", self.out, "--root", self.root, "--ecs-url", "http://127.0.0.1:9",
                                 "--status-url", "http://127.0.0.1:9/status"] + extra,
                                env=env, user=user, timeout=timeout)
        tgz = [f for f in os.listdir(self.out) if f.endswith(".tgz")]
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-3000:])
        self.assertEqual(len(tgz), 1)
        self.assertRegex(tgz[0], r"^collect-\d{12}\.tgz$")
        files, _ = open_archive(os.path.join(self.out, tgz[0]))
        return files, manifest_of(files, "collect/system/"), elapsed, p

    def items(self, m, name):
        return [i for i in m["items"] if i["item"] == name]

    def test_without_docker_as_nobody(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to switch to nobody")
        files, m, elapsed, _ = self.bundle(
            ["--timeout", "5s"], user="nobody",
            env={"DOCKER_HOST": "unix://" + os.path.join(self.tmp, "no-docker.sock")})
        p = "collect/system/"
        self.assertFalse(m["privileged"])
        self.assertIn(p + "docker/docker-not-running.txt", files)
        for name in ("docker-info", "docker-ps", "docker-stats", "docker-inspect"):
            self.assertEqual(self.items(m, name)[0]["status"], "skipped")
            self.assertIn("docker not running", self.items(m, name)[0]["error"])
        ipt = self.items(m, "iptables-filter")[0]
        if ipt["status"] != "skipped":  # iptables present: it must say why it failed
            self.assertEqual(ipt["status"], "failed")
            self.assertIn("not permitted", ipt["error"])
        self.assertIn("NOT root", files[p + "summary.txt"].decode())
        for secret in SECRETS.values():
            for name, data in files.items():
                self.assertNotIn(secret.encode(), data, name)

    def test_hanging_docker_costs_only_its_item(self):
        make_fake_bin(self.bin, hang_docker=True)
        files, m, elapsed, _ = self.bundle(
            ["--timeout", "2s", "-q"], env={"PATH": self.bin + ":" + os.environ["PATH"]})
        ver = self.items(m, "docker-version")[0]
        self.assertEqual(ver["status"], "timed_out")
        self.assertIn("timed out", ver["error"])
        self.assertIn("collect/system/docker/docker-not-running.txt", files)
        self.assertIn("timed out", files["collect/system/docker/docker-not-running.txt"].decode())
        # the process group was killed: no `sleep 6001` left behind
        left = subprocess.run(["pgrep", "-f", "sleep 6001"], capture_output=True, text=True)
        self.assertEqual(left.stdout.strip(), "")

    def test_stdout_and_size_caps(self):
        make_fake_root(self.root, instance=False)
        big = "".join(f"line {i:07d} " + "x" * 90 + "\n" for i in range(20000))  # ~2 MB
        write(self.root, "/var/log/ecs/ecs-agent.log.2024010100", big)
        p, _ = run_bundle(["-o", "-", "-q", "--root", self.root, "--max-size", "1MiB",
                           "--ecs-url", "http://127.0.0.1:9", "--status-url", "http://127.0.0.1:9/s",
                           "--timeout", "5s"])
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        self.assertEqual(p.stderr, b"")
        with tarfile.open(fileobj=io.BytesIO(p.stdout), mode="r:gz") as tar:
            files = {mm.name: tar.extractfile(mm).read() for mm in tar.getmembers() if mm.isfile()}
        m = manifest_of(files, "collect/system/")
        total = sum(i["bytes"] for i in m["items"] if i["path"])
        self.assertLess(total, (1 << 20) + 64 * 1024)  # the summary/redactions/etc. come after the cut
        log = self.items(m, "ecs-logs")
        big_item = [i for i in log if i["path"].endswith("ecs-agent.log.2024010100")][0]
        self.assertTrue(big_item["truncated"])
        data = files["collect/system/" + big_item["path"]]
        self.assertTrue(data.endswith(b"line 0019999 " + b"x" * 90 + b"\n"))
        self.assertTrue(data.startswith(b"line "))
        self.assertEqual(hashlib.sha256(data).hexdigest(), big_item["sha256"])

    def test_unloadable_libarchive_is_a_clear_failure(self):
        # libarchive is opened when the archive is written: a host where it
        # cannot be loaded gets the reason and exit 1, and no archive file
        lib = os.path.join(self.tmp, "lib")
        os.makedirs(lib)
        with open(os.path.join(lib, "libarchive.so.13"), "w") as f:
            f.write("not a shared object\n")
        make_fake_root(self.root, instance=False)
        p, _ = run_bundle(["-o", self.out, "-q", "--root", self.root, "--timeout", "2s",
                           "--ecs-url", "http://127.0.0.1:9", "--status-url", "http://127.0.0.1:9/s"],
                          env={"LD_LIBRARY_PATH": lib})
        err = p.stderr.decode()
        self.assertEqual(p.returncode, 1, err[-2000:])
        self.assertIn("cannot load libarchive.so.13", err)
        self.assertIn("cannot write the archive: libarchive could not be loaded", err)
        self.assertEqual(os.listdir(self.out), [])

    def test_bad_arguments(self):
        p, _ = run_bundle(["--mode=debug"])
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"brief or enable-debug", p.stderr)


class BundleInstanceIdTest(unittest.TestCase):
    """IMDSv2 only on EC2 (DMI under the root), never when AWS_EC2_METADATA_DISABLED=true."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-bundle-")
        self.root = os.path.join(self.tmp, "root")
        write(self.root, "/sys/class/dmi/id/sys_vendor", "Amazon EC2\n")
        self.imds = Server({"/latest/meta-data/instance-id": "i-0fedcba9876543210"})

    def tearDown(self):
        self.imds.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def bundle(self, disabled):
        p, _ = run_bundle(["-o", "-", "-q", "--root", self.root, "--timeout", "3s",
                           "--ecs-url", "http://127.0.0.1:9", "--status-url", "http://127.0.0.1:9/s"],
                          env={"AWS_EC2_METADATA_DISABLED": disabled,
                               "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.imds.url,
                               "DOCKER_HOST": "unix:///nonexistent.sock"})
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        with tarfile.open(fileobj=io.BytesIO(p.stdout), mode="r:gz") as tar:
            return tar.getnames()

    def test_imds_on_ec2(self):
        names = self.bundle("false")
        self.assertIn("collect/i-0fedcba9876543210/manifest.json", names)
        self.assertEqual(getattr(self.imds.httpd, "puts", 0), 1)

    def test_never_when_disabled(self):
        names = self.bundle("true")
        self.assertIn("collect/system/manifest.json", names)
        self.assertEqual(getattr(self.imds.httpd, "puts", 0), 0)


class BundleEnableDebugTest(unittest.TestCase):
    def test_enable_debug_changes_and_says_how_to_undo(self):
        tmp = tempfile.mkdtemp(prefix="collector-bundle-")
        try:
            root, bindir = os.path.join(tmp, "root"), os.path.join(tmp, "bin")
            calls = os.path.join(tmp, "calls")
            write(root, "/proc/1/comm", "systemd\n")
            write(root, "/etc/sysconfig/docker", 'OPTIONS="--selinux-enabled"\n')
            write(root, "/etc/ecs/ecs.config", "ECS_CLUSTER=c1\n")
            write(bindir, "/systemctl", f'#!/bin/sh\necho "$@" >> {calls}\n', 0o755)
            p, _ = run_bundle(["--mode", "enable-debug", "--root", root],
                              env={"PATH": bindir + ":" + os.environ["PATH"]})
            out = p.stdout.decode()
            self.assertEqual(p.returncode, 0, out + p.stderr.decode())
            with open(os.path.join(root, "etc/sysconfig/docker")) as f:
                self.assertEqual(f.read(), 'OPTIONS="-D --selinux-enabled"\n')
            with open(os.path.join(root, "etc/ecs/ecs.config")) as f:
                self.assertEqual(f.read(), "ECS_CLUSTER=c1\nECS_LOGLEVEL=debug\n")
            with open(calls) as f:
                self.assertEqual(f.read().split("\n")[:2], ["restart docker.service", "restart ecs"])
            self.assertEqual(out.count("to undo: cp -p "), 2)
            backups = [f for f in os.listdir(os.path.join(root, "etc/ecs")) if "collector-backup" in f]
            self.assertEqual(len(backups), 1)
            self.assertNotIn("manifest", out)  # collects nothing
            # second run: nothing changed
            p, _ = run_bundle(["--mode", "enable-debug", "--root", root],
                              env={"PATH": bindir + ":" + os.environ["PATH"]})
            self.assertEqual(p.stdout.decode().count("nothing changed"), 2)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
