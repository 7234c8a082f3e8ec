"""A container instance in a box: the agent's image, built without a
registry (docker import of a rootfs holding the binary, the shared libraries
`ldd` names, curl for the health check, CA roots and the shipped conf.d), run
on the real dockerd (tests/integration/dockerd.py) with exactly the mounts,
pid mode, environment and secrets deploy/ecs-task-definition.json declares
(read from the JSON; host paths mapped to test directories), next to
ECS-labelled containers. Their logs, the host's journal and ECS agent log,
and metrics must arrive at the strict fake, and the image's health check
must pass.

The task's network mode is `host`. The private dockerd runs with
--bridge=none and tests talk only to loopback, so the "host" network here is
a network namespace of its own: a pause container's (--network none, only a
loopback). The fake AWS endpoint runs in it (nsenter -n), on the ECS agent's
introspection port 51678, and the agent joins it with
--network container:<pause>. The fake's control API is reached the same way.

What the box does not do as ECS would: the awslogs log driver of the agent's
own container needs AWS (json-file here); secrets are passed as the
environment ECS would make of them; credentials are static keys, not the
task role's (the fake checks SigV4 with them)."""
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

from tests.integration import dockerd
from tests.integration.harness import BINARY, ROOT
from tests.integration.test_journald import JOURNAL_REMOTE, Journal

FAKE = os.path.join(ROOT, "tests", "fakes", "fake_aws.py")
IMAGE = "collector-test/agent:box"
FAKE_PORT = 51678   # the ECS agent's introspection port, which conf.d asks
FAMILY, TASK_ID, CLUSTER = "webapp", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "box-cluster"
TASK_ARN = f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/{TASK_ID}"


def task_definition():
    with open(os.path.join(ROOT, "deploy", "ecs-task-definition.json")) as f:
        return json.load(f)


def dockerfile_healthcheck():
    """The HEALTHCHECK instruction of deploy/Dockerfile, continuation lines joined."""
    with open(os.path.join(ROOT, "deploy", "Dockerfile")) as f:
        text = f.read().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("HEALTHCHECK"))
    return re.sub(r"\s+", " ", line).strip()


def ldd_paths(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in out.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            paths.append(m.group(1))
    return paths


def rootfs_tar(files, conf_d):
    """files: container path -> host path (contents are dereferenced)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        dirs = set()

        def add_dirs(path):
            parts = path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)

        for cpath, hpath in sorted(files.items()):
            add_dirs(cpath)
            with open(hpath, "rb") as f:
                data = f.read()
            info = tarfile.TarInfo(cpath.lstrip("/"))
            info.size = len(data)
            info.mode = os.stat(hpath).st_mode & 0o777
            tar.addfile(info, io.BytesIO(data))
        for d in ("tmp", "var/lib/collector", "etc/collector/conf.d", "proc", "sys", "dev",
                  "host"):
            if d not in dirs:
                info = tarfile.TarInfo(d)
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
                tar.addfile(info)
        for name in sorted(os.listdir(conf_d)):
            if name.endswith(".conf"):
                tar.add(os.path.join(conf_d, name), "etc/collector/conf.d/" + name)
        passwd = b"root:x:0:0:root:/root:/sbin/nologin\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return out.getvalue()


def build_image(d):
    curl = shutil.which("curl")
    files = {"/usr/local/bin/collector": BINARY, "/usr/bin/curl": curl,
             "/etc/ssl/certs/ca-certificates.crt": "/etc/ssl/certs/ca-certificates.crt"}
    for exe in (BINARY, curl):
        for lib in ldd_paths(exe):
            files[lib] = os.path.realpath(lib)
    health = dockerfile_healthcheck()
    changes = ['ENTRYPOINT ["/usr/local/bin/collector"]',
               'CMD ["run", "-c", "/etc/collector/conf.d"]',
               "ENV COLLECTOR_DATA_DIR=/var/lib/collector", health]
    args = ["import"]
    for c in changes:
        args += ["--change", c]
    args += ["-", IMAGE]
    r = subprocess.run([dockerd._which("docker")] + args, env=d.env(),
                       input=rootfs_tar(files, os.path.join(ROOT, "conf.d")),
                       capture_output=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError("docker import: " + r.stderr.decode(errors="replace"))
    return health


def export_entries(unit, ident, messages, priority=6):
    return [{"MESSAGE": m, "_SYSTEMD_UNIT": unit, "SYSLOG_IDENTIFIER": ident,
             "PRIORITY": priority, "_PID": 1, "_HOSTNAME": "ip-10-0-0-7"} for m in messages]


@unittest.skipIf(dockerd.skip_reason(), dockerd.skip_reason() or "")
@unittest.skipUnless(os.access(JOURNAL_REMOTE, os.X_OK), "systemd-journal-remote not installed")
@unittest.skipUnless(shutil.which("curl") and shutil.which("nsenter"), "curl/nsenter missing")
class ContainerInstance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = dockerd.shared()
        cls.d.ensure_image()
        cls.health = build_image(cls.d)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-box-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.started = []
        self.addCleanup(self.remove_containers)
        self.fake = None
        self.addCleanup(self.stop_fake)

    def remove_containers(self):
        for cid in reversed(self.started):
            self.d.docker("rm", "-f", cid, check=False)

    def stop_fake(self):
        if self.fake and self.fake.poll() is None:
            self.fake.terminate()
            try:
                self.fake.wait(10)
            except subprocess.TimeoutExpired:
                self.fake.kill()
                self.fake.wait()

    # -- the "host" network namespace and the fake in it
    def start_network(self):
        cid = self.d.run(name=None, cmd=["sleep", "3600"])
        self.started.append(cid)
        pid = self.d.inspect(cid)["State"]["Pid"]
        port_file = os.path.join(self.tmp, "fake.port")
        self.fake_err = open(os.path.join(self.tmp, "fake.stderr"), "wb")
        self.addCleanup(self.fake_err.close)
        self.fake = subprocess.Popen(
            ["nsenter", "-t", str(pid), "-n", sys.executable, FAKE, "--port-file", port_file,
             "--port", str(FAKE_PORT), "--credentials", "AKIDBOX:boxsecret"],
            stdout=subprocess.DEVNULL, stderr=self.fake_err)
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            self.assertIsNone(self.fake.poll(), "fake_aws exited")
            self.assertLess(time.time(), deadline, "fake_aws did not start")
            time.sleep(0.05)
        self.netns_pid = pid
        return cid

    def fake_call(self, method, path, body=None):
        """The fake's control API, from inside the namespace it listens in."""
        code = ("import json,sys,urllib.request\n"
                "data = sys.stdin.buffer.read() or None\n"
                "req = urllib.request.Request(sys.argv[1], data=data, method=sys.argv[2],"
                " headers={'Content-Type': 'application/json'})\n"
                "sys.stdout.write(urllib.request.urlopen(req, timeout=10).read().decode())\n")
        r = subprocess.run(["nsenter", "-t", str(self.netns_pid), "-n", sys.executable, "-c", code,
                            f"http://127.0.0.1:{FAKE_PORT}{path}", method],
                           input=json.dumps(body).encode() if body is not None else b"",
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        return json.loads(r.stdout)

    # -- the agent's container, as the task definition says
    def host_paths(self):
        """Each host path the task definition mounts -> where it is in this box."""
        varlog = os.path.join(self.tmp, "varlog")
        for sub in ("ecs", "journal/0123456789abcdef0123456789abcdef"):
            os.makedirs(os.path.join(varlog, sub), exist_ok=True)
        run_journal = os.path.join(self.tmp, "run-journal")
        data = os.path.join(self.tmp, "data")
        for p in (run_journal, data):
            os.makedirs(p, exist_ok=True)
        root = self.d.docker("info", "--format", "{{.DockerRootDir}}").stdout.strip()
        return {"/var/log": varlog, "/run/log/journal": run_journal,
                "/var/lib/docker/containers": os.path.join(root, "containers"),
                "/sys/fs/cgroup": "/sys/fs/cgroup", "/proc": "/proc",
                "/var/run/docker.sock": self.d.sock, "/var/lib/collector": data}

    def run_agent(self, network_cid, extra_config):
        td = task_definition()
        c = td["containerDefinitions"][0]
        volumes = {v["name"]: v["host"]["sourcePath"] for v in td["volumes"]}
        paths = self.host_paths()
        self.assertEqual(set(volumes.values()), set(paths),
                         "every host path of the task definition is mapped in the box")
        args = ["run", "-d", "--network", "container:" + network_cid,
                "--health-interval", "1s", "--health-start-period", "1s"]
        if td.get("pidMode") == "host":
            args += ["--pid", "host"]
        for m in c["mountPoints"]:
            spec = f"{paths[volumes[m['sourceVolume']]]}:{m['containerPath']}"
            args += ["-v", spec + (":ro" if m["readOnly"] else "")]
        env = {e["name"]: e["value"] for e in c["environment"]}
        # ECS fills secrets from SSM / Secrets Manager into the environment.
        for s in c.get("secrets", []):
            self.assertEqual(s["name"], "COLLECTOR_EXTRA_CONFIG")
            env[s["name"]] = extra_config
        env.update({
            "AWS_ACCESS_KEY_ID": "AKIDBOX", "AWS_SECRET_ACCESS_KEY": "boxsecret",
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{FAKE_PORT}",
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        for k, v in env.items():
            args += ["-e", f"{k}={v}"]
        if c.get("readonlyRootFilesystem"):
            args += ["--read-only"]
        if c.get("linuxParameters", {}).get("initProcessEnabled"):
            args += ["--init"]
        for u in c.get("ulimits", []):
            # No more than this machine allows (a container instance's is higher).
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1] if u["name"] == "nofile" else None
            soft_l, hard_l = u["softLimit"], u["hardLimit"]
            if hard is not None and hard != resource.RLIM_INFINITY:
                soft_l, hard_l = min(soft_l, hard), min(hard_l, hard)
            args += ["--ulimit", f"{u['name']}={soft_l}:{hard_l}"]
        if "stopTimeout" in c:
            args += ["--stop-timeout", str(c["stopTimeout"])]
        args += ["--entrypoint", c["entryPoint"][0], IMAGE] + c["entryPoint"][1:] + c["command"]
        cid = self.d.docker(*args).stdout.strip()
        self.started.append(cid)
        return cid, paths

    def agent_log(self, cid):
        r = self.d.docker("logs", cid, check=False)
        return r.stdout + r.stderr

    def wait(self, pred, what, cid, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = pred()
            if got:
                return got
            time.sleep(0.5)
        try:
            state = self.fake_call("GET", "/_fake/state")
            streams = {g: sorted(v["streams"]) for g, v in state["log_groups"].items()}
        except AssertionError as e:
            streams = str(e)
        state = {k: v for k, v in self.d.inspect(cid)["State"].items() if k != "Health"}
        self.fail(f"timed out waiting for {what}\n--- at the fake: {streams}\n"
                  f"--- agent container: {state}\n"
                  f"--- agent log:\n{self.agent_log(cid)[-8000:]}")

    def events(self, group, stream=None):
        state = self.fake_call("GET", "/_fake/state")
        g = state["log_groups"].get(group)
        if not g:
            return []
        streams = [stream] if stream else list(g["streams"])
        return [e["message"] for s in streams for e in g["streams"].get(s, {}).get("events", [])]

    def test_container_instance(self):
        net = self.start_network()
        extra = ("[input box_extra]\ntype = generate\ncount = 3\nmessage = from-ssm\n"
                 "tag = host.ecs.extra\n")
        agent, paths = self.run_agent(net, extra)
        self.wait(lambda: "running with" in self.agent_log(agent), "the agent to start", agent)
        self.wait(lambda: "reading the journal" in self.agent_log(agent), "journald", agent)

        # The host writes: the ECS agent's log file, the journal (a new file
        # in /var/log/journal/<machine-id>/), and an ECS task's container.
        ecs_log = os.path.join(paths["/var/log"], "ecs", "ecs-agent.log")
        self.wait(lambda: re.search(r"following \d+ files", self.agent_log(agent)), "tail", agent)
        with open(ecs_log, "a") as f:
            for i in range(5):
                f.write(f"level=info time=2026-12-07T06:00:0{i}Z msg=\"agent line {i}\"\n")
        Journal.clock = max(Journal.clock, int(time.time() * 1e6))  # CloudWatch takes recent events
        journal = Journal(os.path.join(paths["/var/log"], "journal",
                                       "0123456789abcdef0123456789abcdef", "system.journal"))
        journal.write(export_entries("docker.service", "dockerd", ["docker 1", "docker 2"])
                      + export_entries("ecs.service", "ecs-init", ["ecs-init 1"])
                      + export_entries(None, "kernel", ["Out of memory: Killed process 42"], 3)
                      + export_entries("sshd.service", "sshd", ["not shipped"]))
        app = self.d.run(cmd=["sh", "-c", "for i in 1 2 3; do echo app line $i; done; sleep 3600"],
                         labels={"com.amazonaws.ecs.cluster": CLUSTER,
                                 "com.amazonaws.ecs.task-arn": TASK_ARN,
                                 "com.amazonaws.ecs.container-name": "web",
                                 "com.amazonaws.ecs.task-definition-family": FAMILY,
                                 "com.amazonaws.ecs.task-definition-version": "7"})
        self.started.append(app)

        # Off EC2 the host's stream is named after its hostname (the instance id on EC2).
        stream = self.d.inspect(agent)["Config"]["Hostname"]
        self.wait(lambda: len(self.events("/ecs/host/host.ecs.agent", stream)) >= 5,
                  "the ECS agent log", agent)
        self.wait(lambda: len(self.events("/ecs/host/docker.service", stream)) >= 2,
                  "docker.service", agent)
        self.wait(lambda: self.events("/ecs/host/ecs.service", stream), "ecs.service", agent)
        self.wait(lambda: self.events("/ecs/host/system", stream + "/kernel"), "kernel", agent)
        self.wait(lambda: len(self.events(f"/ecs/{FAMILY}", f"web/{TASK_ID}")) >= 3,
                  "the ECS task's container log", agent)
        self.wait(lambda: len(self.events("/ecs/host/host.ecs.extra", stream)) >= 3,
                  "the extra configuration's input", agent)
        # Metrics: the host's, and the ECS task's container's, under Container Insights.
        metrics = self.wait(
            lambda: [m for m in self.fake_call("GET", "/_fake/state")["metrics"]
                     if any(d.get("Name") == "TaskDefinitionFamily" and d.get("Value") == FAMILY
                            for d in m.get("Dimensions", []))],
            "container metrics of the ECS task", agent, timeout=180)
        self.assertTrue(all(m["Namespace"] for m in metrics))
        # The image's health check, run by dockerd inside the container.
        health = self.wait(
            lambda: self.d.inspect(agent)["State"].get("Health", {}).get("Status") == "healthy",
            "the health check", agent, timeout=60)
        self.assertTrue(health)

        # Stop as ECS does (SIGTERM, stopTimeout), then read what arrived.
        self.d.docker("stop", agent, timeout=120)
        self.assertEqual(self.d.inspect(agent)["State"]["ExitCode"], 0, self.agent_log(agent))
        state = self.fake_call("GET", "/_fake/state")
        groups = set(state["log_groups"])
        self.assertTrue(all(g.startswith("/ecs/") for g in groups), groups)
        self.assertEqual(self.events("/ecs/host/host.ecs.agent", stream),
                         [f"level=info time=2026-12-07T06:00:0{i}Z msg=\"agent line {i}\""
                          for i in range(5)])
        self.assertEqual(self.events("/ecs/host/docker.service", stream), ["docker 1", "docker 2"])
        self.assertEqual(self.events("/ecs/host/ecs.service", stream), ["ecs-init 1"])
        self.assertEqual(self.events("/ecs/host/system", stream + "/kernel"),
                         ["Out of memory: Killed process 42"])
        self.assertNotIn("/ecs/host/sshd.service", groups)
        self.assertEqual(self.events(f"/ecs/{FAMILY}", f"web/{TASK_ID}"),
                         ["app line 1", "app line 2", "app line 3"])
        self.assertEqual(len(self.events("/ecs/host/host.ecs.extra", stream)), 3)
        # The image's health check is the task definition's.
        td_health = task_definition()["containerDefinitions"][0]["healthCheck"]["command"]
        self.assertIn(json.dumps(td_health[1:]), self.health)


if __name__ == "__main__":
    unittest.main()
