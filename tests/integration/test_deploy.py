"""Static checks of the deployment files in deploy/: they parse, carry the
required fields, grant exactly the least-privilege IAM actions, mount the
host read-only, and run the binary with a command it has. Docker builds
cannot run here (no network for base images), so the Dockerfile is checked
as text against the real binary (its commands and its shared libraries)."""
import json
import os
import re
import shlex
import shutil
import subprocess
import unittest

from tests.integration.harness import BINARY, ROOT, run_cli

DEPLOY = os.path.join(ROOT, "deploy")

LEAST_PRIVILEGE = {
    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
    "logs:PutRetentionPolicy", "logs:DescribeLogStreams", "cloudwatch:PutMetricData",
}
HOST_MOUNTS = {  # container path -> host path, all read-only
    "/var/log": "/var/log",
    "/run/log/journal": "/run/log/journal",
    "/var/lib/docker/containers": "/var/lib/docker/containers",
    "/sys/fs/cgroup": "/sys/fs/cgroup",
    "/host/proc": "/proc",
    "/var/run/docker.sock": "/var/run/docker.sock",
}
DATA_DIR = "/var/lib/collector"
RUN_ARGS = ["run", "-c", "/etc/collector/conf.d"]


def read(name):
    with open(os.path.join(DEPLOY, name)) as f:
        return f.read()


def load_cfn(text):
    """yaml.safe_load with CloudFormation's short-form tags (!Ref, !Sub ...)
    turned into their long forms."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader, suffix, node):
        name = "Ref" if suffix == "Ref" else "Fn::" + suffix
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", construct)
    return yaml.load(text, Loader=Loader)


def binary_commands():
    """The commands `collector help` lists."""
    r = run_cli(["help"])
    assert r.returncode == 0, r.stderr
    block = r.stdout.split("commands:", 1)[1].split("\n\n", 1)[0]
    return {line.split()[0] for line in block.strip().splitlines()}


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) per instruction, continuation lines joined,
    comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = pending + line
        pending = ""
        word, _, rest = full.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


class TaskDefinition(unittest.TestCase):
    def setUp(self):
        self.td = json.loads(read("ecs-task-definition.json"))

    def check_container(self, c, volumes):
        self.assertEqual(c["entryPoint"], ["/usr/local/bin/collector"])
        self.assertEqual(c["command"], RUN_ARGS)
        self.assertTrue(c["essential"])
        mounts = {m["containerPath"]: m for m in c["mountPoints"]}
        for cpath, hpath in HOST_MOUNTS.items():
            self.assertIn(cpath, mounts)
            self.assertIs(mounts[cpath]["readOnly"], True, cpath)
            self.assertEqual(volumes[mounts[cpath]["sourceVolume"]], hpath)
        self.assertIs(mounts[DATA_DIR]["readOnly"], False)
        self.assertEqual(volumes[mounts[DATA_DIR]["sourceVolume"]], DATA_DIR)
        hc = c["healthCheck"]["command"]
        self.assertIn(hc[0], ("CMD", "CMD-SHELL"))
        self.assertIn("curl", " ".join(hc))
        self.assertIn("-f", " ".join(hc))
        self.assertIn("http://127.0.0.1:8934/health", hc[-1] if hc[0] == "CMD" else hc[1])
        env = {e["name"]: e["value"] for e in c.get("environment", [])}
        self.assertEqual(env.get("COLLECTOR_DATA_DIR"), DATA_DIR)

    def test_fields_and_mounts(self):
        td = self.td
        for key in ("family", "containerDefinitions", "volumes", "taskRoleArn",
                    "requiresCompatibilities", "networkMode"):
            self.assertIn(key, td)
        self.assertEqual(td["requiresCompatibilities"], ["EC2"])
        self.assertEqual(td["networkMode"], "host")
        volumes = {v["name"]: v["host"]["sourcePath"] for v in td["volumes"]}
        self.assertEqual(len(td["containerDefinitions"]), 1)
        self.check_container(td["containerDefinitions"][0], volumes)

    def test_matches_the_cloudformation_task_definition(self):
        cfn = load_cfn(read("cloudformation.yaml"))
        props = cfn["Resources"]["TaskDefinition"]["Properties"]
        c = props["ContainerDefinitions"][0]
        j = self.td["containerDefinitions"][0]
        self.assertEqual(c["Command"], j["command"])
        self.assertEqual(c["EntryPoint"], j["entryPoint"])
        self.assertEqual(c["HealthCheck"]["Command"], j["healthCheck"]["command"])
        self.assertEqual(props["NetworkMode"], self.td["networkMode"])
        cm = {(m["ContainerPath"], m["ReadOnly"]) for m in c["MountPoints"]}
        jm = {(m["containerPath"], m["readOnly"]) for m in j["mountPoints"]}
        self.assertEqual(cm, jm)


class CloudFormation(unittest.TestCase):
    def setUp(self):
        self.cfn = load_cfn(read("cloudformation.yaml"))
        self.res = self.cfn["Resources"]

    def test_daemon_service(self):
        self.assertEqual(self.cfn["AWSTemplateFormatVersion"], "2010-09-09")
        services = [r for r in self.res.values() if r["Type"] == "AWS::ECS::Service"]
        self.assertEqual(len(services), 1)
        p = services[0]["Properties"]
        self.assertEqual(p["SchedulingStrategy"], "DAEMON")
        self.assertEqual(p["TaskDefinition"], {"Ref": "TaskDefinition"})
        self.assertEqual(p["Cluster"], {"Ref": "ClusterName"})
        self.assertIn("ClusterName", self.cfn["Parameters"])
        self.assertIn("Image", self.cfn["Parameters"])

    def test_task_role_is_least_privilege(self):
        td = self.res["TaskDefinition"]["Properties"]
        self.assertEqual(td["TaskRoleArn"], {"Fn::GetAtt": ["TaskRole", "Arn"]})
        role = self.res["TaskRole"]
        self.assertEqual(role["Type"], "AWS::IAM::Role")
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual([s["Principal"]["Service"] for s in trust], ["ecs-tasks.amazonaws.com"])
        self.assertNotIn("ManagedPolicyArns", role["Properties"])
        actions = []
        for policy in role["Properties"]["Policies"]:
            for st in policy["PolicyDocument"]["Statement"]:
                self.assertEqual(st["Effect"], "Allow")
                acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                for a in acts:
                    self.assertNotIn("*", a, "no wildcard actions")
                actions += acts
        self.assertEqual(sorted(actions), sorted(LEAST_PRIVILEGE))
        self.assertEqual(len(actions), len(set(actions)))

    def test_mounts_read_only(self):
        td = self.res["TaskDefinition"]["Properties"]
        volumes = {}
        for v in td["Volumes"]:
            volumes[v["Name"]] = v["Host"]["SourcePath"]
        c = td["ContainerDefinitions"][0]
        for m in c["MountPoints"]:
            if m["ContainerPath"] == DATA_DIR:
                self.assertIs(m["ReadOnly"], False)
                self.assertEqual(volumes[m["SourceVolume"]], {"Ref": "DataDir"})
            else:
                self.assertIs(m["ReadOnly"], True, m)
                self.assertEqual(HOST_MOUNTS[m["ContainerPath"]], volumes[m["SourceVolume"]])
        self.assertEqual({m["ContainerPath"] for m in c["MountPoints"]},
                         set(HOST_MOUNTS) | {DATA_DIR})


class Dockerfile(unittest.TestCase):
    def setUp(self):
        self.text = read("Dockerfile")
        self.ins = dockerfile_instructions(self.text)

    def test_multi_stage_on_debian_12(self):
        froms = [args for word, args in self.ins if word == "FROM"]
        self.assertEqual(len(froms), 2)
        for f in froms:
            self.assertRegex(f, r"^debian:12(-slim)?\b")
        self.assertIn("AS build", froms[0])
        self.assertIn("COPY --from=build /src/build/collector /usr/local/bin/collector",
                      self.text)
        build_stage = self.text.split("FROM ", 2)[1]
        self.assertRegex(build_stage, r"\bmake\b")

    def test_entrypoint_and_cmd_match_the_binary(self):
        entry = [json.loads(a) for w, a in self.ins if w == "ENTRYPOINT"]
        cmd = [json.loads(a) for w, a in self.ins if w == "CMD"]
        self.assertEqual(entry[-1], ["/usr/local/bin/collector"])
        self.assertEqual(cmd[-1], RUN_ARGS)
        self.assertIn(cmd[-1][0], binary_commands())
        # The binary accepts exactly that command line (check-config parses -c the same way).
        self.assertIn("status", binary_commands())
        r = run_cli(["help", cmd[-1][0]])
        self.assertEqual(r.returncode, 0)
        self.assertIn("-c PATH", r.stdout)
        health = [a for w, a in self.ins if w == "HEALTHCHECK"][0]
        self.assertIn("http://127.0.0.1:8934/health", health)
        self.assertIn("-f", health)

    def test_runtime_stage_has_the_shared_libraries_and_nothing_to_build(self):
        runtime = self.text.split("FROM ", 2)[2]
        pkgs = set(re.findall(r"\b(lib[a-z0-9.+-]+|zlib1g|ca-certificates|curl)\b",
                              " ".join(a for w, a in dockerfile_instructions("FROM " + runtime)
                                       if w == "RUN")))
        self.assertFalse({p for p in pkgs if p.endswith("-dev")}, "no -dev packages at runtime")
        self.assertNotRegex(runtime, r"\b(gcc|make|pkg-config)\b")
        if not shutil.which("readelf") or not shutil.which("dpkg"):
            self.skipTest("readelf/dpkg not available")
        out = subprocess.run(["readelf", "-d", BINARY], capture_output=True, text=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)
        self.assertTrue(needed)
        for lib in needed:
            if re.match(r"lib(c|m|pthread|dl|rt|gcc_s)\.so|ld-linux", lib):
                continue  # libc6 and libgcc-s1 are in the base image
            if re.match(r"lib(asan|ubsan|lsan|tsan)\.so", lib):
                continue  # a sanitizer build (make SAN=1); the image builds without
            owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True).stdout
            owners = {line.split(":")[0] for line in owner.splitlines() if ":" in line}
            owners = {o for o in owners if not o.endswith("-dev")}
            self.assertTrue(owners & pkgs, f"{lib} (from {owners}) missing in the runtime stage")


class SystemdUnit(unittest.TestCase):
    def setUp(self):
        self.text = read("collector.service")
        self.keys = {}
        for line in self.text.splitlines():
            if "=" in line and not line.startswith(("#", "[")):
                k, _, v = line.partition("=")
                self.keys.setdefault(k.strip(), []).append(v.strip())

    def test_fields(self):
        start = shlex.split(self.keys["ExecStart"][0])
        self.assertEqual(start, ["/usr/local/bin/collector"] + RUN_ARGS)
        self.assertIn(start[1], binary_commands())
        self.assertEqual(self.keys["Restart"], ["on-failure"])
        self.assertEqual(self.keys["RestartPreventExitStatus"], ["2"])  # config errors
        self.assertIn(self.keys["Type"][0], ("simple", "exec", "notify"))
        if self.keys["Type"][0] == "notify":
            self.fail("Type=notify needs sd_notify, which the agent does not call")
        self.assertEqual(self.keys["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        self.assertIn("/var/lib/collector", " ".join(self.keys.get("ReadWritePaths", [])))
        self.assertEqual(self.keys["ProtectSystem"], ["strict"])
        # Must still read every log file: the capability to bypass read permission.
        self.assertIn("CAP_DAC_READ_SEARCH", self.keys["CapabilityBoundingSet"][0])
        self.assertEqual(self.keys["WantedBy"], ["multi-user.target"])
        # The stop timeout leaves room for the agent's shutdown_timeout (10s default).
        self.assertGreater(int(self.keys["TimeoutStopSec"][0].rstrip("s")), 10)

    def test_systemd_analyze_verify(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze not available")
        r = subprocess.run(["systemd-analyze", "verify", os.path.join(DEPLOY, "collector.service")],
                           capture_output=True, text=True, timeout=60)
        problems = [line for line in (r.stdout + r.stderr).splitlines()
                    if line.strip() and "/usr/local/bin/collector" not in line]
        self.assertEqual(problems, [])


class UserData(unittest.TestCase):
    def test_shell_syntax_and_contents(self):
        path = os.path.join(DEPLOY, "user-data.sh")
        self.assertTrue(os.access(path, os.X_OK))
        r = subprocess.run(["bash", "-n", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        if shutil.which("shellcheck"):
            r = subprocess.run(["shellcheck", path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout)
        text = read("user-data.sh")
        self.assertIn("systemctl enable --now collector.service", text)
        self.assertIn('"$PREFIX/bin/collector" check-config -c /etc/collector/conf.d', text)
        self.assertIn("cfn-init", text)
        self.assertIn("http://127.0.0.1:8934/ready", text)


if __name__ == "__main__":
    unittest.main()
