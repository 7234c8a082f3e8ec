"""Which deflate goes on the wire: build/tools/deflate_bench gzips ~1 MiB
PutLogEvents bodies made from the cloudwatch_logs benchmark's log-like lines
with zlib (levels 1, 4 and 6), libdeflate (1-6) and ISA-L igzip (0-3), the
last two where installed, one thread, and prints CPU seconds per GB, MB/s
and the compressed size in % of the input. The agent uses igzip
(collector/core/gzip_isal.c), or zlib level 1 where there is no ISA-L
(gzip_zlib.c; level 4 is its compress_level 2); docs/cloudwatch_logs.md says
why. Environment: DEFLATE_BENCH_MB (200)."""
import os
import shutil
import subprocess
import tempfile

from tests.bench.bench_cloudwatch_logs import write_file

MB = int(os.environ.get("DEFLATE_BENCH_MB", "200"))


def run(build_dir):
    d = tempfile.mkdtemp(prefix="bench-deflate-")
    try:
        path = os.path.join(d, "lines.log")
        write_file(path, MB)
        out = subprocess.run([os.path.join(build_dir, "tools", "deflate_bench"), path, str(MB)],
                             check=True, capture_output=True, text=True).stdout
        print("  " + out.strip().replace("\n", "\n  "))
    finally:
        shutil.rmtree(d, ignore_errors=True)
