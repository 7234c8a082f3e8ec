#!/usr/bin/env python3
"""Run every test and end with one summary line: `N passed, N failed`.

Unit tests are the cmocka executables build/tests/test_* (TAP output is
parsed per test case); integration tests are the Python unittest modules
tests/integration/test_*.py, which drive the real binary, run by two worker
processes (--jobs) that split the modules, each module's output printed in
one block. The line before last counts agent tests (unit tests included),
fake self-tests and static checks apart. Exit status is 1 when anything
failed, else 0.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import threading
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


# What a test exercises, for the closing summary: the agent (default), the
# test tools themselves (the fake AWS endpoint, the harness's parsers), or
# static checks of shipped files (deploy/, README). A TestCase class may say
# so itself with a `test_kind` attribute ("agent", "fake" or "static").
KIND_BY_NAME = {
    "test_fake_aws": "fake",
    "test_status.PrometheusParser": "fake",
    "test_deploy": "static",
    "test_agent.Docs": "static",
}
KINDS = ("agent", "fake", "static")
# Modules that take longest go first, so that two workers finish together.
SLOW_FIRST = ("test_tail", "test_delivery", "test_containers", "test_cloudwatch_logs",
              "test_buffer", "test_metrics", "test_bundle", "test_status")


def test_kind(test):
    cls = type(test)
    explicit = getattr(cls, "test_kind", None)
    if explicit in KINDS:
        return explicit
    module = cls.__module__.rpartition(".")[2]
    return (KIND_BY_NAME.get(f"{module}.{cls.__name__}") or KIND_BY_NAME.get(module)
            or "agent")


class CountingResult(unittest.TextTestResult):
    """Counts passed / failed / skipped per kind of test."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.by_kind = {k: {"passed": 0, "failed": 0, "skipped": 0} for k in KINDS}

    def _count(self, test, what):
        self.by_kind[test_kind(test)][what] += 1

    def addSuccess(self, test):
        super().addSuccess(test)
        self._count(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._count(test, "failed")

    def addError(self, test, err):
        super().addError(test, err)
        # an error in setUpClass / tearDownClass comes as a _ErrorHolder
        self.by_kind[test_kind(test) if isinstance(test, unittest.TestCase) else "agent"][
            "failed"] += 1

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._count(test, "skipped")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._count(test, "failed")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._count(test, "passed")


def add_kinds(total, by_kind):
    for kind, c in by_kind.items():
        for key, n in c.items():
            total[kind][key] += n


def run_module(name, stream):
    """Run one integration module; returns its counts by kind."""
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromName(f"tests.integration.{name}")
    runner = unittest.TextTestRunner(stream=stream, verbosity=2, resultclass=CountingResult)
    started = time.time()
    result = runner.run(suite)
    c = {k: sum(v[k] for v in result.by_kind.values()) for k in ("passed", "failed", "skipped")}
    print(f"integration {name}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} "
          f"skipped ({time.time() - started:.1f}s)", file=stream, flush=True)
    return result.by_kind


def worker(modules):
    """One worker process: run these modules one after another; each module's
    output is printed in one block followed by a RESULT line for the parent."""
    import io
    for name in modules:
        buf = io.StringIO()
        real = sys.stdout
        sys.stdout = buf  # figures the tests print stay with their module
        try:
            by_kind = run_module(name, buf)
        finally:
            sys.stdout = real
        real.write(buf.getvalue())
        real.write("@@RESULT " + json.dumps({"module": name, "by_kind": by_kind}) + "\n")
        real.flush()


def split(modules, jobs):
    """Slow modules first, dealt out in turn: each worker gets a share."""
    order = [m for m in SLOW_FIRST if m in modules] + sorted(m for m in modules
                                                             if m not in SLOW_FIRST)
    return [order[i::jobs] for i in range(jobs)]


def run_integration(kinds, pattern, jobs):
    modules = sorted(os.path.basename(p)[:-3] for p in
                     glob.glob(os.path.join(ROOT, "tests", "integration", pattern))
                     if os.path.basename(p).startswith("test_"))
    started = time.time()
    jobs = max(1, min(jobs, len(modules)))
    if jobs == 1:
        for name in modules:
            add_kinds(kinds, run_module(name, sys.stdout))
    else:
        procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"] + share,
                                  stdout=subprocess.PIPE, text=True, errors="replace", cwd=ROOT)
                 for share in split(modules, jobs)]
        lock = threading.Lock()
        seen = set()

        def drain(proc):
            block = []
            for line in proc.stdout:
                if line.startswith("@@RESULT "):
                    got = json.loads(line[len("@@RESULT "):])
                    with lock:
                        seen.add(got["module"])
                        add_kinds(kinds, got["by_kind"])
                        sys.stdout.write("".join(block))
                        sys.stdout.flush()
                    block = []
                else:
                    block.append(line)
            proc.wait()
            if block or proc.returncode:
                with lock:
                    sys.stdout.write("".join(block))
                    print(f"integration worker exited {proc.returncode}", flush=True)
        threads = [threading.Thread(target=drain, args=(p,)) for p in procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name in sorted(set(modules) - seen):
            print(f"integration {name}: did not finish (its worker died)", flush=True)
            kinds["agent"]["failed"] += 1
    total = {k: sum(v[k] for v in kinds.values()) for k in ("passed", "failed", "skipped")}
    print(f"integration: {total['passed']} passed, {total['failed']} failed, "
          f"{total['skipped']} skipped ({time.time() - started:.1f}s, {jobs} workers)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--pattern", default="test_*.py", help="integration modules to run")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("COLLECTOR_TEST_JOBS", "2")),
                    help="integration worker processes (default 2: both cores)")
    ap.add_argument("--worker", nargs="+", metavar="MODULE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build))
    os.environ["COLLECTOR_BUILD"] = build
    os.environ["COLLECTOR_SRC"] = ROOT
    # Never let a test reach real instance metadata.
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.chdir(ROOT)
    if args.worker:
        sys.path.insert(0, ROOT)
        worker(args.worker)
        return 0
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    run_unit(build, counts)
    kinds = {k: {"passed": 0, "failed": 0, "skipped": 0} for k in KINDS}
    if not args.unit_only:
        sys.path.insert(0, ROOT)
        ops_log = os.path.join(build, "fake-operations.txt")
        os.environ["COLLECTOR_FAKE_OPS_LOG"] = ops_log
        open(ops_log, "w").close()
        run_integration(kinds, args.pattern, args.jobs)
        if args.pattern == "test_*.py":  # only a whole run has seen every call
            from tests.integration.iam_operations import compare
            ok, text = compare(ops_log)
            print(("ok: " if ok else "FAILED: ") + text, flush=True)
            kinds["static"]["passed" if ok else "failed"] += 1
    # the agent's unit tests are agent tests too
    kinds["agent"]["passed"] += counts["passed"]
    kinds["agent"]["failed"] += counts["failed"]
    labels = {"agent": "agent tests", "fake": "fake self-tests", "static": "static checks"}
    print("; ".join(f"{labels[k]}: {c['passed']} passed, {c['failed']} failed"
                    + (f", {c['skipped']} skipped" if c["skipped"] else "")
                    for k, c in kinds.items()), flush=True)
    total = {key: sum(c[key] for c in kinds.values()) for key in ("passed", "failed", "skipped")}
    line = f"{total['passed']} passed, {total['failed']} failed"
    if total["skipped"]:
        line += f", {total['skipped']} skipped"
    print(line, flush=True)
    return 1 if total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
