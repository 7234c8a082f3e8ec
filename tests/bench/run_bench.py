#!/usr/bin/env python3
"""`make bench`: run every tests/bench/bench_*.py module's run(build_dir).
Benchmarks print figures; they assert nothing."""
import argparse
import glob
import importlib.util
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("only", nargs="*", help="names of bench modules to run (default: all)")
    args = ap.parse_args()
    build = os.path.abspath(os.path.join(ROOT, args.build))
    os.environ["COLLECTOR_BUILD"] = build
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    sys.path.insert(0, ROOT)
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "bench", "bench_*.py"))):
        name = os.path.basename(path)[:-3]
        if args.only and name not in args.only and name[6:] not in args.only:
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        print(f"== {name}", flush=True)
        started = time.time()
        mod.run(build)
        print(f"== {name} done in {time.time() - started:.1f}s\n", flush=True)


if __name__ == "__main__":
    main()
