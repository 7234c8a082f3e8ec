"""The shipped conf.d and the deployment files agree: every log group the
conf.d can write is one the CloudFormation task role allows, the agent's
own awslogs group too; the task definition gives the agent what conf.d
reads from the environment; and the extra configuration ECS delivers in
COLLECTOR_EXTRA_CONFIG is read by the agent."""
import fnmatch
import json
import os
import re
import unittest

from tests.integration.harness import ROOT, run_cli
from tests.integration.test_deploy import load_cfn, read

CONF_D = os.path.join(ROOT, "conf.d")
SAMPLE = {  # a value per placeholder, with the characters they may hold
    "hostname": "ip-10-0-0-7", "instance_id": "i-0abc", "ip_address": "10.0.0.7",
    "region": "us-east-1", "tag": "host.ecs.agent", "file_name": "a.log",
    "file_path": "/var/log/a.log", "cluster": "prod", "container_instance_id": "f00",
    "task_id": "0123", "task_arn": "arn:aws:ecs:us-east-1:1:task/prod/0123",
    "task_family": "web", "task_revision": "3", "container_name": "nginx",
    "container_id": "0123456789ab", "image": "nginx:1.27", "unit": "docker.service",
    "identifier": "kernel",
}


def conf_sections(text):
    """[kind name] -> {key: value} of an INI text (the agent's syntax)."""
    sections, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        m = re.match(r"\[(\w+)(?:\s+([^\]]+))?\]$", line)
        if m:
            cur = sections.setdefault((m.group(1), m.group(2)), {})
            continue
        key, _, value = line.partition("=")
        cur[key.strip()] = value.strip()
    return sections


def shipped_sections():
    out = {}
    for name in sorted(os.listdir(CONF_D)):
        if name.endswith(".conf"):
            with open(os.path.join(CONF_D, name)) as f:
                out.update(conf_sections(f.read()))
    return out


def expand_env(value, env):
    """The agent's ${VAR} and ${VAR:-default} expansion."""
    def sub(m):
        name, _, default = m.group(1).partition(":-")
        return env.get(name, default)
    return re.sub(r"\$\{([^}]+)\}", sub, value)


def render(template, env):
    value = expand_env(template, env)
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], value)


def role_log_group_patterns(cfn, prefix):
    """The log-group ARNs' name parts the task role allows, as globs."""
    patterns = []
    for policy in cfn["Resources"]["TaskRole"]["Properties"]["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            if "logs:PutLogEvents" not in actions:
                continue
            for res in st["Resource"]:
                arn = res["Fn::Sub"] if isinstance(res, dict) else res
                m = re.search(r":log-group:(.*)$", arn)
                if m and ":log-stream:" not in m.group(1):
                    patterns.append(m.group(1).replace("${LogGroupPrefix}", prefix))
    return patterns


class LogGroupsAllowed(unittest.TestCase):
    def setUp(self):
        self.cfn = load_cfn(read("cloudformation.yaml"))
        self.td = json.loads(read("ecs-task-definition.json"))
        self.prefix = self.cfn["Parameters"]["LogGroupPrefix"]["Default"]
        self.patterns = role_log_group_patterns(self.cfn, self.prefix)
        self.assertTrue(self.patterns)
        c = self.td["containerDefinitions"][0]
        self.env = {e["name"]: e["value"] for e in c["environment"]}

    def groups(self, env):
        out = {}
        for (kind, name), keys in shipped_sections().items():
            if kind == "output" and keys.get("type") == "cloudwatch_logs":
                out[name] = render(keys.get("log_group", "/collector/{hostname}"), env)
        return out

    def allowed(self, group):
        return any(fnmatch.fnmatchcase(group, p) for p in self.patterns)

    def test_every_shipped_group_is_allowed(self):
        groups = self.groups(self.env)
        self.assertGreaterEqual(len(groups), 4)
        for output, group in groups.items():
            self.assertTrue(self.allowed(group), f"output {output} writes {group}, which the "
                            f"role ({self.patterns}) does not allow")
        # Outside the task (a host install) the default prefix is the role's.
        for output, group in self.groups({}).items():
            self.assertTrue(self.allowed(group), f"{output}: {group}")

    def test_the_task_passes_the_role_prefix(self):
        cfn_env = {e["Name"]: e["Value"] for e in
                   self.cfn["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
                   ["Environment"]}
        self.assertEqual(cfn_env["COLLECTOR_LOG_GROUP_PREFIX"], {"Ref": "LogGroupPrefix"})
        self.assertEqual(self.env["COLLECTOR_LOG_GROUP_PREFIX"], self.prefix)

    def test_agent_container_log_group_is_allowed_and_created(self):
        c = self.td["containerDefinitions"][0]
        self.assertEqual(c["logConfiguration"]["logDriver"], "awslogs")
        group = c["logConfiguration"]["options"]["awslogs-group"]
        self.assertTrue(self.allowed(group), group)
        res = self.cfn["Resources"]
        cc = res["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
        self.assertEqual(cc["LogConfiguration"]["LogDriver"], "awslogs")
        self.assertEqual(cc["LogConfiguration"]["Options"]["awslogs-group"],
                         {"Ref": "AgentLogGroup"})
        name = res["AgentLogGroup"]["Properties"]["LogGroupName"]["Fn::Sub"]
        self.assertTrue(self.allowed(name.replace("${LogGroupPrefix}", self.prefix)), name)
        self.assertEqual(name.replace("${LogGroupPrefix}", self.prefix), group)

    def test_drift_is_caught(self):
        """The check itself: a group outside the prefix is not allowed."""
        self.assertFalse(self.allowed("/collector/host.ecs.agent"))
        self.assertFalse(self.allowed("/docker/nginx"))


class TaskEnvironment(unittest.TestCase):
    def setUp(self):
        self.td = json.loads(read("ecs-task-definition.json"))
        self.c = self.td["containerDefinitions"][0]
        self.env = {e["name"]: e["value"] for e in self.c["environment"]}
        self.mounts = {m["containerPath"]: m for m in self.c["mountPoints"]}

    def test_pid_mode_and_mounts_for_what_conf_d_reads(self):
        self.assertEqual(self.td["pidMode"], "host")
        cfn = load_cfn(read("cloudformation.yaml"))
        self.assertEqual(cfn["Resources"]["TaskDefinition"]["Properties"]["PidMode"], "host")
        self.assertIn(self.env["COLLECTOR_PROC_ROOT"], self.mounts)
        self.assertIn(self.env["COLLECTOR_CGROUP_ROOT"], self.mounts)
        for journal in ("/var/log", "/run/log/journal"):   # /var/log/journal is under /var/log
            self.assertIn(journal, self.mounts)
        # conf.d takes them from the environment, nothing is hard-coded.
        sections = shipped_sections()
        for key in (("input", "containers"), ("input", "host")):
            self.assertIn("${COLLECTOR_PROC_ROOT", sections[key]["proc_root"])
        self.assertIn("${COLLECTOR_CGROUP_ROOT", sections[("input", "containers")]["cgroup_root"])

    def test_environment_same_in_json_and_cloudformation(self):
        cfn = load_cfn(read("cloudformation.yaml"))
        cc = cfn["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
        self.assertEqual({e["Name"] for e in cc["Environment"]}, set(self.env))
        self.assertEqual([s["Name"] for s in cc["Secrets"]],
                         [s["name"] for s in self.c["secrets"]])
        self.assertEqual([s["name"] for s in self.c["secrets"]], ["COLLECTOR_EXTRA_CONFIG"])
        # The execution role may read that parameter (ECS fetches secrets with it).
        stmts = [st for p in cfn["Resources"]["ExecutionRole"]["Properties"]["Policies"]
                 for st in p["PolicyDocument"]["Statement"]]
        self.assertTrue(any("ssm:GetParameters" in st["Action"] for st in stmts))

    def test_shipped_conf_d_with_the_task_environment_and_extra_config(self):
        extra = "[input app]\ntype = tail\npath = /var/log/app/*.log\ntag = host.app\n"
        env = dict(self.env, COLLECTOR_EXTRA_CONFIG=extra, COLLECTOR_DATA_DIR="/tmp/x")
        r = run_cli(["check-config", "-c", CONF_D], env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"\[input app\]")
        self.assertRegex(r.stdout, r"proc_root\s+= /host/proc")
        bad = dict(env, COLLECTOR_EXTRA_CONFIG="[input app]\ntype = tail\n")
        r = run_cli(["check-config", "-c", CONF_D], env=bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("$COLLECTOR_EXTRA_CONFIG:", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
