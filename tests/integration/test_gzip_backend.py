"""Which deflate the agent was built with (Makefile: GZIP=isal or zlib,
core/gzip.h): `collector version` names it, the agent says it once in its
log at start (not again at a reload), and it is the one the build directory's
gzip-backend file records. A zlib build does not need libisal, which Amazon
Linux 2023 does not have.

    COLLECTOR_BUILD=$PWD/build-zlib python3 -m unittest tests.integration.test_gzip_backend
"""
import os
import re
import shutil
import signal
import subprocess
import unittest

from tests.integration.harness import BINARY, BUILD, Agent, run_cli

NAMES = {"isal": r"ISA-L igzip", "zlib": r"zlib \d+\.\d+[.\w-]*"}

CONF = """
    [input gen]
    type = generate
    count = 1
    tag = app.gen
    [output out]
    type = null
    match = app.*
    """


def built_with():
    with open(os.path.join(BUILD, "gzip-backend")) as f:
        return f.read().strip()


class GzipBackend(unittest.TestCase):
    def test_version_names_the_deflate_built_in(self):
        r = run_cli(["version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^gzip: " + NAMES[built_with()] + "$")

    def test_logged_once_at_start(self):
        with Agent(CONF) as a:
            a.start()
            a.wait_log("running with")
            a.send_signal(signal.SIGHUP)
            a.wait_log("configuration reloaded")
            self.assertEqual(a.stop(), 0)
            lines = [line for line in a.stderr().splitlines()
                     if "request bodies gzipped by" in line]
            self.assertEqual(len(lines), 1, a.stderr())
            self.assertRegex(lines[0], 'msg="request bodies gzipped by ' + NAMES[built_with()] + '"')

    @unittest.skipUnless(shutil.which("readelf"), "readelf not installed")
    def test_links_libisal_only_when_built_with_it(self):
        dyn = subprocess.run(["readelf", "-d", BINARY], capture_output=True, text=True,
                             check=True).stdout
        needed = re.findall(r"\(NEEDED\).*\[(.+)\]", dyn)
        self.assertIn("libz.so.1", needed)
        self.assertEqual(any(n.startswith("libisal") for n in needed),
                         built_with() == "isal", needed)


if __name__ == "__main__":
    unittest.main()
