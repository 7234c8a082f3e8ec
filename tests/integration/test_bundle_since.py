"""`collector bundle --since`: the journal is asked for the window only, and
ECS log files last modified before it are left out (listed in the manifest
as skipped, "older than --since"); without --since the journal's newest
lines are taken and every file is collected. Uses test_bundle's fake root
and a journalctl that prints the arguments it was given."""
import os
import shutil
import tempfile
import time
import unittest

from tests.integration.test_bundle import make_fake_root, manifest_of, open_archive, run_bundle, \
    write


class BundleSince(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-bundle-since-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.root = os.path.join(self.tmp, "root")
        self.bin = os.path.join(self.tmp, "bin")
        make_fake_root(self.root, instance=False)
        write(self.bin, "/journalctl", '#!/bin/sh\necho "journalctl called with: $*"\n', 0o755)
        three_hours_ago = time.time() - 3 * 3600
        self.old = os.path.join(self.root, "var/log/ecs/ecs-init.log")
        os.utime(self.old, (three_hours_ago, three_hours_ago))

    def bundle(self, extra):
        out = os.path.join(self.tmp, "out" + str(len(extra)))
        os.makedirs(out)
        p, _ = run_bundle(["-o", out, "--root", self.root, "--ecs-url", "http://127.0.0.1:9",
                           "--status-url", "http://127.0.0.1:9/status", "--timeout", "5s", "-q"]
                          + extra, env={"PATH": self.bin + ":" + os.environ["PATH"],
                                        "DOCKER_HOST": "unix:///nonexistent.sock"})
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-3000:])
        tgz = [f for f in os.listdir(out) if f.endswith(".tgz")]
        files, _ = open_archive(os.path.join(out, tgz[0]))
        return files, manifest_of(files, "collect/system/")

    def ecs_log_entries(self, m):
        return {os.path.basename(i["source"]): i for i in m["items"] if i["item"] == "ecs-logs"}

    def test_since_limits_the_journal_and_the_ecs_logs(self):
        started = time.time()
        files, m = self.bundle(["--since", "2h"])
        journal = files["collect/system/system.log"].decode()
        self.assertIn("--since=", journal)
        when = journal.split("--since=")[1].split("\n")[0].strip()
        asked = time.mktime(time.strptime(when, "%Y-%m-%d %H:%M:%S"))  # local time, as sent
        self.assertAlmostEqual(asked, started - 2 * 3600, delta=120)
        self.assertNotIn("--lines=", journal)
        logs = self.ecs_log_entries(m)
        self.assertEqual(logs["ecs-init.log"]["status"], "skipped")
        self.assertIn("older than --since", logs["ecs-init.log"]["error"])
        self.assertFalse([n for n in files if n.endswith("ecs-init.log")])
        self.assertNotEqual(logs["ecs-agent.log"]["status"], "skipped")
        self.assertTrue([n for n in files if n.endswith("ecs-agent.log")])

    def test_without_since_everything_and_the_newest_journal_lines(self):
        files, m = self.bundle([])
        journal = files["collect/system/system.log"].decode()
        self.assertIn("--lines=", journal)
        self.assertNotIn("--since=", journal)
        logs = self.ecs_log_entries(m)
        self.assertNotEqual(logs["ecs-init.log"]["status"], "skipped")
        self.assertTrue([n for n in files if n.endswith("ecs-init.log")])


if __name__ == "__main__":
    unittest.main()
