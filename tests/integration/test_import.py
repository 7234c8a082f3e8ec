"""`collector import awslogs|cloudwatch-agent` (issue 16): the translation
delivers what the old agent delivered, to the strict fake CloudWatch Logs,
and the switch-over from a running CloudWatch agent neither resends nor
loses a line."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

from tests.fakes.fake_aws_ctl import FakeAWS
from tests.integration.harness import BINARY, Agent, base_env, run_cli

AKID, SECRET = "AKIDTEST", "secret"


def aws_env(aws):
    return {"AWS_ENDPOINT_URL": aws.url, "AWS_ACCESS_KEY_ID": AKID,
            "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}


def agent_conf(data_dir):
    # The shipped 00-agent.conf's part: a data_dir; fast retries for the test.
    return textwrap.dedent(f"""
        [agent]
        data_dir = {data_dir}
        hostname = testhost
        http_listen = off
        retry_base_delay = 10ms
        retry_max_backoff = 50ms
        """)


class ImportCommand(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-import-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def test_usage_errors(self):
        r = run_cli(["import"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("which configuration?", r.stderr)
        r = run_cli(["import", "awslogs"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("the file to import is missing", r.stderr)
        r = run_cli(["import", "fluentd", "x"])
        self.assertEqual(r.returncode, 2)
        r = run_cli(["import", "awslogs", "/nonexistent/awslogs.conf"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open /nonexistent/awslogs.conf", r.stderr)
        r = run_cli(["import", "awslogs", self.write("x.conf", "[general]\n")])
        self.assertEqual(r.returncode, 2)
        self.assertIn("no log stream section", r.stderr)

    def test_output_dir_file_passes_check_config_and_lists_what_did_not_map(self):
        src = self.write("awslogs.conf", """
            [general]
            state_file = /var/lib/awslogs/agent-state

            [/var/log/messages]
            datetime_format = %b %d %H:%M:%S
            file = /var/log/messages
            log_stream_name = {instance_id}
            log_group_name = /var/log/messages
            encoding = latin_1
            """)
        out = os.path.join(self.tmp, "conf.d")
        r = run_cli(["import", "awslogs", src, "-o", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("wrote " + out + "/60-imported-awslogs.conf: 1 input", r.stdout)
        self.assertIn("not mapped (3), each with the reason:", r.stdout)
        self.assertIn("awslogs.conf:10: encoding = latin_1: this agent reads UTF-8 only", r.stdout)
        with open(os.path.join(out, "60-imported-awslogs.conf")) as f:
            text = f.read()
        self.assertIn("# ---- not mapped (3): each with the reason ----", text)
        self.assertIn("# " + src + ":10: encoding = latin_1", text)
        with open(os.path.join(out, "00-agent.conf"), "w") as f:
            f.write(agent_conf(os.path.join(self.tmp, "data")))
        r = run_cli(["check-config", "-c", out],
                    env={"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": AKID,
                         "AWS_SECRET_ACCESS_KEY": SECRET})
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertNotIn("warning", r.stdout)


class Delivery(unittest.TestCase):
    """An imported configuration delivers what awslogs would have."""

    def setUp(self):
        self.aws = FakeAWS()
        self.aws.start()
        self.addCleanup(self.aws.stop)

    def test_awslogs_conf_delivers_with_group_stream_time_and_multiline(self):
        with Agent() as agent:
            log = os.path.join(agent.tmp, "app.log")
            src = os.path.join(agent.tmp, "awslogs.conf")
            with open(src, "w") as f:
                f.write(textwrap.dedent(f"""
                    [general]
                    state_file = /var/lib/awslogs/agent-state

                    [app]
                    file = {log}
                    log_group_name = /app/{{hostname}}
                    log_stream_name = {{instance_id}}
                    datetime_format = %Y-%m-%d %H:%M:%S
                    time_zone = UTC
                    initial_position = start_of_file
                    buffer_duration = 5000
                    """))
            t0 = int(time.time()) - 60
            stamp = [time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + i)) for i in (0, 1)]
            with open(log, "w") as f:
                f.write(f"{stamp[0]} first\n"
                        "  continued line\n"
                        f"{stamp[1]} second\n")
            r = run_cli(["import", "awslogs", src, "-o", agent.conf_dir])
            self.assertEqual(r.returncode, 0, r.stderr)
            agent.write_config(agent_conf(agent.data_dir), "00-agent.conf")
            agent.env = aws_env(self.aws)
            agent.start()
            # flush_interval is awslogs' 5 s: wait for both events.
            agent.wait_for(lambda: len(self.aws.messages("/app/testhost", "testhost")) >= 2,
                           timeout=30, what="two events")
            self.assertEqual(agent.stop(), 0, agent.stderr())
        events = self.aws.state()["log_groups"]["/app/testhost"]["streams"]["testhost"]["events"]
        self.assertEqual([e["message"] for e in events],
                         [f"{stamp[0]} first\n  continued line", f"{stamp[1]} second"])
        self.assertEqual([e["timestamp"] for e in events], [t0 * 1000, (t0 + 1) * 1000])


def count_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.read().splitlines())


OLD_AGENT = r'''
# A stand-in for the CloudWatch agent's file tailer: sends complete lines (to
# sent.txt, flushed) and keeps its state file as the real one does: the offset
# of what it has published, then the file name. SIGTERM: final state, exit.
import os, signal, sys, time
path, state, sent = sys.argv[1:4]
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
offset = 0
with open(sent, "a") as out:
    while not stop:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        if end:
            out.write(data[:end].decode())
            out.flush()
            offset += end
            with open(state + ".tmp", "w") as s:
                s.write(f"{offset}\n{path}")
            os.rename(state + ".tmp", state)
        time.sleep(0.01)
'''


class SwitchOver(unittest.TestCase):
    """From a running CloudWatch agent: stop it, import its positions, start
    this agent; the writer never pauses. Every line is delivered exactly once
    by one of the two."""

    def setUp(self):
        self.aws = FakeAWS()
        self.aws.start()
        self.addCleanup(self.aws.stop)

    def test_from_the_cloudwatch_agent_no_loss_no_resend(self):
        with Agent() as agent:
            log = os.path.join(agent.tmp, "app.log")
            state_dir = os.path.join(agent.tmp, "cwagent-state")
            os.makedirs(state_dir)
            sent = os.path.join(agent.tmp, "sent.txt")
            open(log, "w").close()
            cw = os.path.join(agent.tmp, "amazon-cloudwatch-agent.json")
            with open(cw, "w") as f:
                json.dump({"logs": {"logs_collected": {"files": {"collect_list": [
                    {"file_path": log, "log_group_name": "app", "log_stream_name": "s"}]}},
                    "force_flush_interval": 1}}, f)

            stop_writer = threading.Event()
            written = []

            def writer():
                n = 0
                with open(log, "a") as f:
                    while not stop_writer.is_set():
                        f.write(f"line {n}\n")
                        f.flush()
                        written.append(n)
                        n += 1
                        time.sleep(0.002)

            old = subprocess.Popen([sys.executable, "-c", OLD_AGENT, log,
                                    os.path.join(state_dir, log.replace("/", "_")), sent])
            t = threading.Thread(target=writer)
            t.start()
            try:
                time.sleep(1.0)
                old.send_signal(signal.SIGTERM)          # 1. stop the old agent
                self.assertEqual(old.wait(timeout=10), 0)
                time.sleep(0.3)                          # lines keep coming meanwhile
                r = run_cli(["import", "cloudwatch-agent", cw, "-o", agent.conf_dir,  # 2.
                             "--positions-from", state_dir, "--data-dir", agent.data_dir])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("the CloudWatch agent's saved position", r.stdout)
                agent.write_config(agent_conf(agent.data_dir), "00-agent.conf")
                agent.env = aws_env(self.aws)
                agent.start()                            # 3. start this agent
                time.sleep(1.0)
            finally:
                stop_writer.set()
                t.join()
                if old.poll() is None:
                    old.kill()
                    old.wait()
            total = len(written)
            with open(sent) as f:
                before = [int(l.split()[1]) for l in f.read().splitlines()]
            self.assertGreater(len(before), 10)
            agent.wait_for(lambda: len(before) + len(self.aws.messages("app", "s")) >= total,
                           timeout=30, what="every line")
            self.assertEqual(agent.stop(), 0, agent.stderr())   # nothing can resend now
        after = [int(m.split()[1]) for m in self.aws.messages("app", "s")]
        self.assertTrue(after, "this agent delivered nothing")
        everything = before + after
        self.assertEqual(len(everything), total, "lines resent" if len(everything) > total
                         else "lines lost")
        self.assertEqual(sorted(everything), list(range(total)))
        self.assertEqual(after[0], before[-1] + 1)

    def test_from_awslogs_at_the_end_resends_nothing(self):
        """awslogs' SQLite state is not read: --positions-at-end, run once
        awslogs has stopped, starts every file where it ends. The writer
        pauses for the handover (the documented condition for losing
        nothing): the old lines are not sent again (initial_position =
        start_of_file would read them from the start), the new ones all are."""
        with Agent() as agent:
            log = os.path.join(agent.tmp, "app.log")
            sent = os.path.join(agent.tmp, "sent.txt")
            with open(log, "w") as f:
                f.writelines(f"line {i}\n" for i in range(200))
            src = os.path.join(agent.tmp, "awslogs.conf")
            with open(src, "w") as f:
                f.write(f"[general]\nstate_file = /var/lib/awslogs/agent-state\n\n"
                        f"[app]\nfile = {log}\nlog_group_name = app\nlog_stream_name = s\n"
                        f"initial_position = start_of_file\n")
            old = subprocess.Popen([sys.executable, "-c", OLD_AGENT, log,
                                    os.path.join(agent.tmp, "awslogs-state"), sent])
            try:
                deadline = time.time() + 20
                while time.time() < deadline and count_lines(sent) < 200:
                    time.sleep(0.05)
                old.send_signal(signal.SIGTERM)
                self.assertEqual(old.wait(timeout=10), 0)
            finally:
                if old.poll() is None:
                    old.kill()
                    old.wait()
            r = run_cli(["import", "awslogs", src, "-o", agent.conf_dir, "--positions-at-end",
                         "--data-dir", agent.data_dir])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"app: {log} from offset {os.path.getsize(log)} (end", r.stdout)
            agent.write_config(agent_conf(agent.data_dir), "00-agent.conf")
            agent.env = aws_env(self.aws)
            agent.start()
            agent.wait_log("following 1 files")
            with open(log, "a") as f:
                f.writelines(f"line {i}\n" for i in range(200, 300))
            agent.wait_for(lambda: len(self.aws.messages("app", "s")) >= 100, timeout=30,
                           what="the new lines")
            self.assertEqual(agent.stop(), 0, agent.stderr())
            with open(sent) as f:
                before = f.read().splitlines()
        after = self.aws.messages("app", "s")
        self.assertEqual(before, [f"line {i}" for i in range(200)])
        self.assertEqual(after, [f"line {i}" for i in range(200, 300)])


if __name__ == "__main__":
    unittest.main()
