"""The command line as a user meets it (issue 16): --help on every command,
`help TOPIC`, usage errors that name what is missing, `collector status`'s
exit codes, liveness (/health) and readiness (/ready), the default port."""
import json
import os
import signal
import socket
import unittest

from tests.integration.harness import Agent, run_cli
from tests.integration.test_status import conf, free_port, get, get_retry

COMMANDS = ["run", "check-config", "status", "bundle", "dashboard", "import", "version", "help"]


class Help(unittest.TestCase):
    def test_every_command_answers_help(self):
        for cmd in COMMANDS:
            for flag in ("--help", "-h"):
                r = run_cli([cmd, flag])
                self.assertEqual(r.returncode, 0, f"{cmd} {flag}: {r.stderr}")
                self.assertIn("usage: collector", r.stdout, f"{cmd} {flag}")
                self.assertNotIn("unexpected argument", r.stderr)

    def test_help_after_other_arguments(self):
        r = run_cli(["run", "-c", "/nonexistent", "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("usage: collector run", r.stdout)

    def test_help_bundle_is_bundle_help(self):
        a = run_cli(["help", "bundle"])
        b = run_cli(["bundle", "--help"])
        self.assertEqual(a.returncode, 0, a.stderr)
        self.assertEqual(a.stdout, b.stdout)
        for opt in ("--since", "--max-size", "--item-max", "-j JOBS"):
            self.assertIn(opt, a.stdout)
        self.assertEqual(run_cli(["help", "status"]).stdout, run_cli(["status", "--help"]).stdout)

    def test_help_topics_inputs_and_outputs(self):
        r = run_cli(["help", "input"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for t in ("tail", "containers", "host_metrics", "container_metrics", "generate"):
            self.assertRegex(r.stdout, rf"\n  {t}\s+\S")
        r = run_cli(["help", "output"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for t in ("cloudwatch_logs", "cloudwatch_metrics", "file", "stdout"):
            self.assertRegex(r.stdout, rf"\n  {t}\s+\S")
        # By type alone, with the common options from the tables.
        r = run_cli(["help", "tail"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("input tail:", r.stdout)
        self.assertIn("multiline.start", r.stdout)
        self.assertRegex(r.stdout, r"\n  tag\s")
        r = run_cli(["help", "output", "cloudwatch_logs"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for key in ("retention_days", "match", "flush_interval", "enabled", "buffer.max_size"):
            self.assertRegex(r.stdout, rf"\n  {key}\s")
        r = run_cli(["help", "nosuchthing"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown topic 'nosuchthing'", r.stderr)

    def test_usage_errors_name_what_is_missing(self):
        for cmd in ("run", "check-config", "dashboard"):
            r = run_cli([cmd, "-c"])
            self.assertEqual(r.returncode, 2, cmd)
            self.assertIn("-c needs a path", r.stderr, cmd)
        r = run_cli(["status", "--addr"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--addr needs an address", r.stderr)


class Dashboard(unittest.TestCase):
    def test_says_which_region_and_cluster_it_assumed(self):
        with Agent("""
            [agent]
            data_dir = {data_dir}
            [input h]
            type = host_metrics
            [output m]
            type = null
            match = *
            """) as agent:
            env = {"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}
            r = run_cli(["dashboard", "-c", agent.conf_dir], env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("assuming us-east-1", r.stderr)
            self.assertIn("assuming cluster 'default'", r.stderr)
            json.loads(r.stdout)  # the body itself stays clean JSON on stdout
            r = run_cli(["dashboard", "-c", agent.conf_dir, "--cluster", "prod"],
                        env={"AWS_REGION": "eu-west-1"})
            self.assertNotIn("assuming", r.stderr)


class StatusExitCodes(unittest.TestCase):
    def test_ready_0_not_ready_3_unreachable_1(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent() as agent:
            blocker = os.path.join(agent.tmp, "blocker")
            with open(blocker, "w") as f:
                f.write("a file where the output wants a directory\n")
            agent.write_config(conf(port, count=50, out_path=blocker + "/out", stall="1s"))
            agent.start()
            self.assertEqual(get_retry(addr, "/ready")[0], 200)
            r = run_cli(["status", "--addr", f"127.0.0.1:{port}"])
            self.assertEqual(r.returncode, 0, r.stderr)
            agent.wait_for(lambda: get(addr, "/ready")[0] == 503, timeout=20, what="not ready")
            r = run_cli(["status", "--addr", f"127.0.0.1:{port}"])
            self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
            self.assertIn("NOT READY", r.stdout)
            self.assertIn("output f has not delivered", r.stdout)
            self.assertEqual(run_cli(["status", "--addr", f"127.0.0.1:{port}", "--json"]).returncode, 3)
            # Liveness is not readiness: the process works, /health stays 200.
            status, _, body = get(addr, "/health")
            self.assertEqual(status, 200)
            self.assertFalse(json.loads(body)["ready"])
            os.unlink(blocker)
            agent.wait_for(lambda: get(addr, "/ready")[0] == 200, timeout=20, what="ready again")
            self.assertEqual(agent.stop(), 0)
        r = run_cli(["status", "--addr", f"127.0.0.1:{port}"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot reach the agent", r.stderr)


class Health(unittest.TestCase):
    def test_failed_reload_fails_readiness_not_liveness(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent(conf(port, count=10)) as agent:
            agent.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            good = open(os.path.join(agent.conf_dir, "00-test.conf")).read()
            agent.write_config(good + "\n[output broken]\ntype = nosuchoutput\nmatch = *\n")
            agent.send_signal(signal.SIGHUP)
            agent.wait_for(lambda: get(addr, "/ready")[0] == 503, timeout=20, what="/ready 503")
            doc = json.loads(get(addr, "/ready")[2])
            self.assertEqual(doc["failures"][0]["check"], "config_reload")
            status, _, body = get(addr, "/health")
            self.assertEqual(status, 200, body)
            doc = json.loads(body)
            self.assertEqual(doc["status"], "ok")
            self.assertFalse(doc["ready"])
            self.assertIn("configuration reload failed", doc["not_ready_because"])
            self.assertEqual(agent.stop(), 0)

    def test_default_port_is_no_common_agents(self):
        """Fluent Bit's 2020 (and the CloudWatch agent's, Fluentd's...) stay free."""
        r = run_cli(["help", "agent"])
        self.assertIn("127.0.0.1:8934", r.stdout)
        taken = []
        # Hold Fluent Bit's port; the agent's default endpoint still comes up.
        for port in (2020, 25888, 24220):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                s.listen(1)
                taken.append(s)
            except OSError:
                s.close()
        try:
            with Agent("""
                [agent]
                data_dir = {data_dir}
                [input g]
                type = generate
                count = 1
                [output n]
                type = null
                match = *
                """, own_listen=False) as agent:
                agent.start()
                agent.wait_for(lambda: "status endpoint" in agent.stderr()
                               or "cannot listen" in agent.stderr(), what="the endpoint's line")
                if "cannot listen" in agent.stderr():
                    self.skipTest("127.0.0.1:8934 is in use on this machine")
                self.assertIn("status endpoint on http://127.0.0.1:8934", agent.stderr())
                status, _, body = get_retry(("127.0.0.1", 8934), "/status", timeout=10)
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(body)["pid"], agent.pid)
                self.assertEqual(agent.stop(), 0)
        finally:
            for s in taken:
                s.close()


if __name__ == "__main__":
    unittest.main()
