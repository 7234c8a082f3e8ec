"""check-config tells the same truth on every machine (issue 16): every
section validated whether its output is enabled here or not, what depends on
the machine in a separate labelled part, routing checked, "did you mean",
unitless durations, ignored files, pasted foreign configurations, identity,
and the metrics inputs' identity on a host that is not EC2."""
import json
import os
import shutil
import socket
import tempfile
import textwrap
import unittest

from tests.integration.harness import Agent, read_file_output, run_cli

NO_AWS = {"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ACCESS_KEY_ID": "",
          "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent",
          "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}


class ConfDir:
    def __init__(self, files):
        self.dir = tempfile.mkdtemp(prefix="collector-check-")
        for name, text in files.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(textwrap.dedent(text).replace("{tmp}", self.dir))

    def check(self, env=None):
        e = dict(NO_AWS)
        e.update(env or {})
        return run_cli(["check-config", "-c", self.dir], env=e)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


BASE = """
[agent]
data_dir = {tmp}/data

[input app]
type = tail
path = {tmp}/app.log

[output local]
type = file
match = app
path = {tmp}/out
"""


def check(text, files=None, env=None):
    fs = {"00.conf": text}
    fs.update(files or {})
    with ConfDir(fs) as c:
        return c.check(env)


class SameEverywhere(unittest.TestCase):
    def test_outputs_left_out_here_are_still_validated(self):
        """enabled = auto with no region or credentials: the output is left
        out on this machine, and its mistakes are still errors."""
        cases = [
            ("cloudwatch_logs", "retention_days = 45", "retention_days = 45: CloudWatch Logs accepts"),
            ("cloudwatch_logs", "log_group = /app/{nosuch}", r"unknown placeholder \{nosuch\}"),
            ("cloudwatch_metrics", "storage_resolution = 5", "storage_resolution must be 1 or 60"),
        ]
        for kind, line, error in cases:
            r = check(BASE + f"\n[output cw]\ntype = {kind}\nenabled = auto\nmatch = app\n{line}\n")
            self.assertEqual(r.returncode, 2, f"{line}: {r.stdout}{r.stderr}")
            self.assertRegex(r.stdout, rf"00\.conf:18: .*{error}", line)

    def test_machine_part_is_separate_and_labelled(self):
        r = check(BASE + """
[output cw]
type = cloudwatch_logs
enabled = auto
match = app
""")
        self.assertEqual(r.returncode, 0, r.stdout)
        head, sep, machine = r.stdout.partition("---- on this machine")
        self.assertTrue(sep, r.stdout)
        self.assertIn("disabled: output cw (cloudwatch_logs): no region", machine)
        self.assertNotIn("no region", head)
        self.assertIn("configuration OK", r.stdout)


class Routing(unittest.TestCase):
    def test_unrouted_input_and_useless_match(self):
        r = check(BASE + """
[input orphan]
type = tail
path = {tmp}/orphan.log

[output nothing]
type = null
match = nomatch.*
""")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, r"warning: \S*00\.conf:14: \[input orphan\]: no output's match "
                                   r"takes its tag 'orphan'")
        self.assertRegex(r.stdout, r"warning: \S*00\.conf:20: \[output nothing\]: match "
                                   r"'nomatch\.\*' takes no input's tag")
        self.assertIn("with 2 warnings", r.stdout)

    def test_an_auto_output_counts_as_a_taker_everywhere(self):
        """Routing is judged on the declared outputs: an output left out on
        this host (no region) still takes its tags, so the warnings are the
        same on the instance."""
        r = check(BASE.replace("match = app", "match = other") + """
[output cw]
type = cloudwatch_logs
enabled = auto
match = app
""")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("disabled: output cw (cloudwatch_logs): no region", r.stdout)
        self.assertNotIn("takes its tag 'app'", r.stdout)
        self.assertIn("[output local]: match 'other' takes no input's tag", r.stdout)

    def test_containers_input_refuses_tag(self):
        r = check(BASE + """
[input c]
type = containers
tag = mine
""")
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertRegex(r.stdout, r"00\.conf:16: \[input c\]: the containers input does not use "
                                   r"`tag`.*tag_\* options")

    def test_introspection_url_must_be_a_url_without_a_path(self):
        # it used to be accepted and failed at every sample, counted as an error
        r = check(BASE + """
[input hm]
type = host_metrics
introspection_url = 127.0.0.1:51678
[input cm]
type = container_metrics
introspection_url = http://127.0.0.1:51678/v1
[input c]
type = containers
introspection_url = not a url
[input fine]
type = host_metrics
introspection_url = http://127.0.0.1:51678/
[input off]
type = container_metrics
introspection_url =
""")
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("00.conf:16: input hm: introspection_url: '127.0.0.1:51678' is not an "
                      "http:// URL of the ECS agent", r.stdout)
        self.assertIn("00.conf:19: input cm: introspection_url: 'http://127.0.0.1:51678/v1' "
                      "has a path", r.stdout)
        self.assertIn("00.conf:22: [input c] introspection_url: 'not a url' is not an "
                      "http:// URL", r.stdout)
        self.assertNotIn("input fine", r.stdout)
        self.assertNotIn("input off", r.stdout)
        self.assertIn("3 errors", r.stdout)

    def test_containers_tags_are_routed(self):
        r = check(BASE + """
[input c]
type = containers
tag_ecs = ecs.logs
tag_docker = docker.logs

[output ecs]
type = null
match = ecs.*
""")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("takes its tag 'docker.logs'", r.stdout)
        self.assertNotIn("takes its tag 'ecs.logs'", r.stdout)

    def test_metrics_default_tag_is_the_same_word_everywhere(self):
        r = check(BASE + """
[input h]
type = host_metrics

[output m]
type = null
match = metrics.host
""")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertNotIn("warning", r.stdout)
        self.assertRegex(r.stdout, r"\[input h\][^\[]*\ntag\s+= metrics\.host")


class Hints(unittest.TestCase):
    def test_options_that_need_capacity_say_so(self):
        # read and silently unused before: an operator who set the ECS agent check
        # without capacity = true had no check at all
        r = check(BASE + """
[input hm]
type = host_metrics
ecs_agent_check = health
ecs_agent_unhealthy_after = 2m
schedulable_task_sizes = small:256:512
[input cap]
type = host_metrics
capacity = true
ecs_agent_check = health
schedulable_task_sizes = small:256:512
""")
        self.assertEqual(r.returncode, 0, r.stdout)
        for line, key in ((16, "ecs_agent_check"), (17, "ecs_agent_unhealthy_after"),
                          (18, "schedulable_task_sizes")):
            self.assertIn(f"00.conf:{line}: [input hm]: {key} has no effect without "
                          f"capacity = true", r.stdout)
        self.assertNotIn("[input cap]: ecs_agent_check", r.stdout)
        self.assertNotIn("[input cap]: schedulable_task_sizes", r.stdout)
        self.assertIn("with 5 warnings", r.stdout)  # 3, and the two unrouted tags

    def test_did_you_mean(self):
        r = check(BASE + """
[inptu x]
type = tail

[output y]
type = cloudwatch_log
match = *

[input z]
type = tial
path = /x

[input w]
type = tail
pathh = /x
""")
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stdout, r"00\.conf:14: unknown section kind 'inptu' \(did you mean 'input'\?")
        self.assertRegex(r.stdout, r"00\.conf:18: unknown output type 'cloudwatch_log' \(did you mean "
                                   r"'cloudwatch_logs'\?")
        self.assertRegex(r.stdout, r"00\.conf:22: unknown input type 'tial' \(did you mean 'tail'\?")
        self.assertRegex(r.stdout, r"00\.conf:27: unknown key 'pathh' in \[input w\]; did you mean "
                                   r"'path'\?")

    def test_unitless_duration_far_out_of_range(self):
        r = check(BASE.replace("path = {tmp}/out", "path = {tmp}/out\nflush_interval = 5000"))
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, r"warning: \S*00\.conf:13: flush_interval = 5000 has no unit, so "
                                   r"it is 5000 seconds \(83 minutes; the default is 5s\); write "
                                   r"5000ms")
        for fine in ("5", "30", "5000ms", "90m"):
            r = check(BASE.replace("path = {tmp}/out", "path = {tmp}/out\nflush_interval = " + fine))
            self.assertNotIn("has no unit", r.stdout, fine)

    def test_ignored_files_in_the_directory(self):
        r = check(BASE, files={"10-extra.conf.bak": "[input x]\n", "README": "notes\n"})
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, r"warning: \S*/10-extra\.conf\.bak: not read: only files ending "
                                   r"in \.conf")
        self.assertRegex(r.stdout, r"warning: \S*/README: not read")

    def test_pasted_foreign_configurations(self):
        cases = {
            "awslogs": ("""
                [general]
                state_file = /var/lib/awslogs/agent-state

                [/var/log/messages]
                datetime_format = %b %d %H:%M:%S
                file = /var/log/messages
                log_stream_name = {instance_id}
                log_group_name = /var/log/messages
                """, "an awslogs agent configuration.*collector import awslogs FILE"),
            "cwagent": ("""
                {"logs": {"logs_collected": {"files": {"collect_list": [
                  {"file_path": "/var/log/messages", "log_group_name": "messages"}]}}}}
                """, "a CloudWatch agent configuration.*collector import cloudwatch-agent FILE"),
            "fluentbit": ("""
                [SERVICE]
                    Flush 5
                [INPUT]
                    Name tail
                    Path /var/log/*.log
                [OUTPUT]
                    Name cloudwatch_logs
                    Match *
                """, "a Fluent Bit configuration.*docs/migrating.md"),
            "yaml": ("""
                service:
                  flush: 5
                pipeline:
                  inputs:
                    - name: tail
                      path: /var/log/*.log
                """, "YAML, not this agent's format"),
            "json": ('{"inputs": [{"type": "tail"}]}\n', "JSON, not this agent's format"),
        }
        for name, (text, expect) in cases.items():
            r = check(BASE, files={"50-pasted.conf": text})
            self.assertEqual(r.returncode, 2, name)
            lines = [l for l in r.stdout.splitlines() if "50-pasted.conf" in l]
            self.assertEqual(len(lines), 1, f"{name}: one message, not one per line: {r.stdout}")
            self.assertRegex(lines[0], r"50-pasted\.conf:1: this file is " + expect, name)


class Identity(unittest.TestCase):
    def test_check_config_prints_identity(self):
        r = check(BASE)
        self.assertEqual(r.returncode, 0, r.stdout)
        host = socket.gethostname()
        self.assertIn(f"#   hostname:    {host} (the system's host name)", r.stdout)
        self.assertRegex(r.stdout, rf"#   instance id: {host} \(the host name: no EC2 instance "
                                   r"metadata")
        self.assertRegex(r.stdout, r"#   region:      none \(no region")
        r = check(BASE + "\n[input h]\ntype = host_metrics\ncluster = prod\n",
                  env={"AWS_REGION": "eu-west-1"})
        self.assertIn("#   cluster:     prod (from [input h] cluster)", r.stdout)
        self.assertIn("#   region:      eu-west-1 (from AWS_REGION", r.stdout)

    def test_metrics_carry_the_host_name_off_ec2(self):
        """Not "localhost": the inputs used to copy the host name before the
        agent had filled it in."""
        with Agent("""
            [agent]
            data_dir = {data_dir}
            http_listen = off

            [input host]
            type = host_metrics
            interval = 1s
            docker_socket =
            introspection_url =

            [output f]
            type = file
            match = *
            path = {out_dir}
            flush_interval = 200ms
            """) as agent:
            agent.start()
            agent.wait_for(lambda: len(read_file_output(agent.out_dir)) > 0, timeout=20,
                           what="metric records")
            self.assertEqual(agent.stop(), 0, agent.stderr())
            records = read_file_output(agent.out_dir)
        host = socket.gethostname()
        dims = [r["dimensions"] for r in records if "dimensions" in r]
        self.assertTrue(dims)
        self.assertEqual({d.get("InstanceId") for d in dims if "InstanceId" in d}, {host})
        self.assertEqual({d["ClusterName"] for d in dims}, {host})
        self.assertNotEqual(host, "localhost")


class Cost(unittest.TestCase):
    HOST = """
        [agent]
        data_dir = {data_dir}
        http_listen = off

        [input host]
        type = host_metrics
        interval = 1s
        docker_socket =
        introspection_url =
        %s

        [output f]
        type = file
        match = *
        path = {out_dir}
        flush_interval = 200ms

        [output cw]
        type = cloudwatch_metrics
        enabled = auto
        match = metrics.*
        """

    def published_series(self, extra=""):
        with Agent(self.HOST % extra) as agent:
            r = run_cli(["check-config", "-c", agent.conf_dir], env=NO_AWS)
            self.assertEqual(r.returncode, 0, r.stdout)
            agent.start()
            # two intervals: every series of one sample is in the file
            agent.wait_for(lambda: len({x["timestamp"] for x in read_file_output(agent.out_dir)})
                           >= 2, timeout=20, what="two samples")
            self.assertEqual(agent.stop(), 0, agent.stderr())
            records = read_file_output(agent.out_dir)
        first = min(x["timestamp"] for x in records)
        series = {(x["metric"], tuple(sorted(x["dimensions"]))) for x in records
                  if x["timestamp"] == first}
        return r.stdout, series

    def test_plan_matches_what_is_published_and_per_device_is_opt_in(self):
        plan, series = self.published_series()
        per_host = [s for s in series if "InstanceId" in s[1]]
        per_cluster = [s for s in series if s[1] == ("ClusterName",)]
        self.assertEqual(len(series), len(per_host) + len(per_cluster))
        self.assertIn(f"per host:    {len(per_host)} series {{ClusterName, InstanceId, "
                      "ContainerInstanceId}", plan)
        self.assertIn(f"per cluster: {len(per_cluster)} series {{ClusterName}}", plan)
        self.assertIn("per_device = false", plan)
        self.assertFalse([s for s in series if {"MountPath", "Device", "InterfaceName"} & set(s[1])])
        # The default namespace is the agent's own, not Container Insights'.
        self.assertIn("to namespace Collector/ECS through [output cw]", plan)

    def test_per_device_when_asked(self):
        plan, series = self.published_series("per_device = true")
        self.assertIn("per_device = true: per host also 5 per filesystem", plan)
        fs = [s for s in series if "MountPath" in s[1]]
        self.assertEqual(len(fs) % 5, 0)
        self.assertTrue(fs)


if __name__ == "__main__":
    unittest.main()
