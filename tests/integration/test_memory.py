"""memory_limit counts what it claims and /status shows where the bytes are
(issue 17): the "memory" object of /status's "pipeline" (limit, total and
its parts: batches, encoded bodies, spare batches, disk-buffer reads, input
read buffers, output buffers) is consistent during an outage with a memory
buffer and back to no batches once everything is delivered; the containers
input reading many containers' backlogs at once pauses at memory_limit and
then delivers every line exactly once.

The outage is a file output whose directory is a regular file for a while
(as in test_buffer). No RSS is asserted here (benchmarks print it)."""
import json
import os
import time
import unittest
import uuid

from tests.integration import dockerd
from tests.integration.harness import (Agent, assert_exactly_once, read_file_output,
                                       stop_and_read)
from tests.integration.test_status import get_retry, parse_prometheus, sample

PARTS = ("batches", "encoded", "spare_batches", "spool_reads", "read_buffers", "output_buffers")


def memory(agent):
    """/status's "pipeline" object."""
    code, _, body = get_retry(os.path.join(agent.tmp, "status.sock"), "/status")
    assert code == 200, code
    return json.loads(body)["pipeline"]


def wait_paused(agent):
    """Until the input has read nothing more for 10 polls (1 s) while batches
    are in memory: paused by memory_limit. Returns the last "pipeline"."""
    seen = []

    def paused():
        seen.append(memory(agent))
        return (len(seen) > 10 and seen[-1]["memory"]["batches"] > 0
                and seen[-1]["records_pending"] == seen[-11]["records_pending"])
    agent.wait_for(paused, timeout=60, interval=0.1, what="the input paused by memory_limit")
    return seen[-1]


class Breakdown(unittest.TestCase):
    def assert_consistent(self, pl, limit):
        mem = pl["memory"]
        self.assertEqual(mem["limit"], limit)
        self.assertEqual(pl["memory_limit"], limit)
        self.assertEqual(mem["total"], sum(mem[k] for k in PARTS), mem)
        self.assertEqual(pl["buffer_bytes"], mem["batches"] + mem["encoded"] + mem["spool_reads"])
        for k in PARTS:
            self.assertGreaterEqual(mem[k], 0, k)
        return mem

    def test_outage_with_a_memory_buffer_then_delivery(self):
        limit = 2 << 20
        count = 40000
        conf = f"""
        [agent]
        data_dir = {{data_dir}}
        http_listen = {{tmp}}/status.sock
        memory_limit = {limit}
        shutdown_timeout = 5s

        [input gen]
        type = generate
        count = {count}
        size = 200
        tag = app.gen

        [output out]
        type = file
        match = app.*
        path = {{out_dir}}
        flush_interval = 100ms
        batch_max_records = 500
        retry_max_backoff = 200ms
        buffer = memory
        """
        with Agent(conf) as a:
            open(a.out_dir, "w").close()  # the outage: the output's directory cannot be made
            a.start()
            # the input pauses at memory_limit: what it read stops growing, short of the count
            pl = wait_paused(a)
            mem = self.assert_consistent(pl, limit)
            self.assertLess(pl["records_pending"], count, "the input read everything anyway")
            self.assertGreater(mem["batches"], 0)
            # over the limit by at most one read's worth (the input checks between reads)
            self.assertLessEqual(mem["batches"], mem["total"])
            self.assertLessEqual(mem["total"], limit + (1 << 20), mem)
            self.assertGreaterEqual(mem["total"], limit, "paused below the limit?")

            os.unlink(a.out_dir)      # the outage ends
            a.wait_for(lambda: len(read_file_output(a.out_dir)) >= count, timeout=120,
                       interval=0.2, what=f"{count} records delivered")
            # delivered: no batch or body is left in memory (spare batches and buffers may be)
            a.wait_for(lambda: memory(a)["records_pending"] == 0, timeout=10,
                       what="every record acknowledged")
            after = self.assert_consistent(memory(a), limit)
            self.assertEqual(after["batches"], 0, after)
            self.assertEqual(after["encoded"], 0, after)
            self.assertEqual(after["spool_reads"], 0, after)
            got = stop_and_read(a, quiet=0.5)
        assert_exactly_once([int(m.split()[1]) for m in got], list(range(count)))

    def test_metrics_carry_the_same_parts(self):
        conf = """
        [agent]
        data_dir = {data_dir}
        http_listen = {tmp}/status.sock
        [input gen]
        type = generate
        count = 10
        tag = app.gen
        [output out]
        type = file
        match = app.*
        path = {out_dir}
        flush_interval = 100ms
        """
        with Agent(conf) as a:
            a.start()
            a.wait_for(lambda: len(read_file_output(a.out_dir)) >= 10, what="10 records")
            code, _, body = get_retry(os.path.join(a.tmp, "status.sock"), "/metrics")
            self.assertEqual(code, 200)
            m = parse_prometheus(body.decode())
            parts = {k: sample(m, "collector_pipeline_memory_bytes", kind=k) for k in PARTS}
            self.assertEqual(parts["batches"] + parts["encoded"] + parts["spool_reads"],
                             sample(m, "collector_pipeline_buffer_bytes"))
            self.assertEqual(a.stop(), 0)


REASON = dockerd.skip_reason()


@unittest.skipIf(REASON, REASON or "")
class ManyContainers(unittest.TestCase):
    """12 exited containers' backlogs (~7 MB of json-file logs) read from
    head at once under memory_limit = 1MiB with the output down: the input
    pauses (it has read far less than the backlogs), the breakdown counts its
    read buffer, and once the output is back every line arrives once."""

    N = 12
    LINES = 3000

    def test_many_backlogs_obey_memory_limit_then_exactly_once(self):
        d = dockerd.shared()
        d.ensure_image()
        prefix = "m" + uuid.uuid4().hex[:8] + "-"
        cids = []
        try:
            for i in range(self.N):
                script = (f"i=0; while [ $i -lt {self.LINES} ]; do "
                          f"echo \"c{i} line $i {'x' * 150}\"; i=$((i+1)); done")
                cids.append(d.run(name=f"{prefix}{i}", cmd=["sh", "-c", script]))
            d.wait_exited(cids, timeout=120)
            limit = 1 << 20
            conf = f"""
            [agent]
            data_dir = {{data_dir}}
            http_listen = {{tmp}}/status.sock
            memory_limit = {limit}
            shutdown_timeout = 20s

            [input c]
            type = containers
            docker_socket = {d.sock}
            docker_root = {d.data_root}
            introspection_url =
            include_name = {prefix}*
            read_from_head = true
            refresh_interval = 1s
            rotate_wait = 2s

            [output out]
            type = file
            match = *
            path = {{out_dir}}
            flush_interval = 200ms
            retry_max_backoff = 200ms
            rotate_size = 4GiB
            """
            total = self.N * self.LINES
            with Agent(conf) as a:
                open(a.out_dir, "w").close()  # the outage
                a.start()
                pl = wait_paused(a)
                mem = pl["memory"]
                self.assertEqual(mem["total"], sum(mem[k] for k in PARTS), mem)
                self.assertGreater(mem["read_buffers"], 0, "the input's read buffer is counted")
                # the backlogs are ~7 MB: under a 1 MiB limit the input read a small part
                self.assertLess(pl["records_pending"], total // 3, pl)
                self.assertLessEqual(mem["batches"] + mem["encoded"], limit + (1 << 20), mem)
                os.unlink(a.out_dir)      # the outage ends
                a.wait_for(lambda: len(read_file_output(a.out_dir)) >= total, timeout=180,
                           interval=0.5, what=f"{total} lines delivered")
                got = stop_and_read(a, quiet=3.2)
            want = [f"c{i} line {n} {'x' * 150}" for i in range(self.N) for n in range(self.LINES)]
            assert_exactly_once(got, want)
        finally:
            for cid in cids:
                d.remove(cid)


if __name__ == "__main__":
    unittest.main()
