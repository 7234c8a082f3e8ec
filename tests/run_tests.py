#!/usr/bin/env python3
"""Run every test and end with one summary line: `N passed, N failed`.

Unit tests are the cmocka executables build/tests/test_* (TAP output is
parsed per test case); integration tests are the Python unittest modules
tests/integration/test_*.py, which drive the real binary. Exit status is 1
when anything failed, else 0.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_unit(build, counts):
    for exe in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
        if not os.access(exe, os.X_OK) or exe.endswith(".d"):
            continue
        name = os.path.basename(exe)
        env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
        started = time.time()
        try:
            proc = subprocess.run([exe], cwd=ROOT, env=env, capture_output=True, text=True,
                                  errors="replace", timeout=600)
            out, code = proc.stdout + proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as e:
            out, code = (e.stdout or "") if isinstance(e.stdout, str) else "", -1
            out += "\nTIMEOUT after 600 s"
        passed = len(re.findall(r"^ok \d+", out, re.M))
        failed = len(re.findall(r"^not ok \d+", out, re.M))
        if code != 0 and failed == 0:
            failed = 1  # crashed, sanitizer report, or a failure outside a test case
        counts["passed"] += passed
        counts["failed"] += failed
        status = "ok" if failed == 0 else "FAILED"
        print(f"unit {name}: {passed} passed, {failed} failed ({time.time() - started:.1f}s) {status}",
              flush=True)
        if failed:
            print(out[-6000:], flush=True)


class CountingResult(unittest.TextTestResult):
    pass


def run_integration(counts, pattern):
    loader = unittest.TestLoader()
    suite = loader.discover(os.path.join(ROOT, "tests", "integration"), pattern=pattern,
                            top_level_dir=ROOT)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    started = time.time()
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    counts["passed"] += passed
    counts["failed"] += failed
    counts["skipped"] += skipped
    print(f"integration: {passed} passed, {failed} failed, {skipped} skipped "
          f"({time.time() - started:.1f}s)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--pattern", default="test_*.py", help="integration modules to run")
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build))
    os.environ["COLLECTOR_BUILD"] = build
    os.environ["COLLECTOR_SRC"] = ROOT
    # Never let a test reach real instance metadata.
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.chdir(ROOT)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    run_unit(build, counts)
    if not args.unit_only:
        run_integration(counts, args.pattern)
    line = f"{counts['passed']} passed, {counts['failed']} failed"
    if counts["skipped"]:
        line += f", {counts['skipped']} skipped"
    print(line, flush=True)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
