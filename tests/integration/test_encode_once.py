"""Encode once (issue 17): a cloudwatch_logs batch becomes its PutLogEvents
request bodies once. A retry re-sends those bytes, the disk buffer stores
them (format CLCHUNK3) and a restart sends them as stored: nothing is encoded
again. Checked against the strict fake (tests/fakes/fake_aws.py) through the
output's `requests_encoded` figure in /status and the chunk files themselves.

    python3 -m unittest tests.integration.test_encode_once
"""
import glob
import os
import time
import unittest
from collections import Counter

from tests.fakes.fake_aws_ctl import FakeAWS
from tests.integration.harness import Agent
from tests.integration.test_cloudwatch_logs import (AGENT, accepted_puts, aws_env, messages,
                                                    output_status)
from tests.integration.test_spool_format import v1_chunk


def out_conf(count, buffer, tag="app.gen"):
    return f"""
        [input gen]
        type = generate
        count = {count}
        size = 100
        tag = {tag}
        [output cw]
        type = cloudwatch_logs
        match = app.*
        log_group = g
        log_stream = s
        compress = off
        buffer = {buffer}
        flush_interval = 100ms
        """


class EncodeOnce(unittest.TestCase):
    def setUp(self):
        self.aws = FakeAWS()
        self.aws.start()
        self.addCleanup(self.aws.stop)

    def agent(self, body):
        a = Agent(AGENT + body, env=aws_env(self.aws))
        self.addCleanup(a.cleanup)
        return a

    def puts(self):
        return [r for r in self.aws.requests() if r["operation"] == "PutLogEvents"]

    def check_retries_send_the_encoded_bytes(self, buffer):
        n = 3000
        a = self.agent(out_conf(n, buffer))
        self.aws.fault("status", status=503, count=3, target="PutLogEvents")
        a.start()
        a.wait_for(lambda: len(messages(self.aws, "g", "s")) >= n, timeout=60,
                   what=f"{n} events in the fake")
        o = output_status(a)
        self.assertEqual(a.stop(), 0)
        accepted = accepted_puts(self.aws)
        failed = [r for r in self.puts() if r["status"] == 503]
        self.assertEqual(len(failed), 3)
        # the first call also met the missing stream (created, then re-sent)
        self.assertEqual(len(self.puts()), len(accepted) + 3 + 1)
        # one body made per request that AWS accepted; the 3 refused
        # attempts were re-sent as they were, not encoded again
        self.assertEqual(o["requests_encoded"], len(accepted))
        sizes = Counter(r["body_bytes"] for r in accepted)
        for r in failed:
            self.assertIn(r["body_bytes"], sizes, "a retry sent other bytes")
        got = messages(self.aws, "g", "s")
        self.assertEqual(len(got), n)
        self.assertEqual(len(set(got)), n)

    def test_retry_resends_encoded_body_memory_buffer(self):
        self.check_retries_send_the_encoded_bytes("memory")

    def test_retry_resends_encoded_body_disk_buffer(self):
        self.check_retries_send_the_encoded_bytes("disk")

    def test_disk_buffer_holds_request_bodies_sent_as_stored_after_kill9(self):
        n = 2000
        a = self.agent(out_conf(n, "disk"))
        # CloudWatch down: every PutLogEvents fails, batches wait in chunks
        self.aws.fault("status", status=503, count=100000, target="PutLogEvents")
        a.start()
        buf = os.path.join(a.data_dir, "buffer", "cw")

        def in_chunks():
            total = 0
            for path in glob.glob(os.path.join(buf, "*.chunk")):
                with open(path, "rb") as f:
                    data = f.read()
                self.assertEqual(data[:8], b"CLCHUNK3")
                # compress = off: the body is the PutLogEvents JSON itself
                self.assertIn(b'"logGroupName":"g"', data)
                total += data.count(b'"message":')
            return total

        # every record ends up in a stored request body (none sent: all fail)
        a.wait_for(lambda: in_chunks() == n, timeout=30, what=f"{n} events in chunks")
        a.kill9()
        self.assertEqual(in_chunks(), n)
        self.assertFalse([r for r in self.puts() if r["status"] == 200])
        self.aws.reset()
        # the generator's new records match no output: only the chunks arrive
        a.write_config(AGENT + out_conf(n, "disk", tag="other.gen"))
        a.start()
        a.wait_for(lambda: not glob.glob(os.path.join(buf, "*.chunk")), timeout=60,
                   what="buffer drained")
        o = output_status(a)
        self.assertEqual(a.stop(), 0)
        self.assertEqual(o["requests_encoded"], 0, "a stored body was encoded again")
        got = messages(self.aws, "g", "s")
        self.assertEqual(len(got), n)
        self.assertEqual(len(set(got)), n, "no duplicate")

    def test_chunks_of_records_are_encoded_once_and_sent(self):
        """Chunks written before encode once (records, format CLCHUNK1 here)
        go through the encode path: delivered once, in order, said in the log."""
        a = self.agent(out_conf(1, "disk", tag="other.gen"))
        buf = os.path.join(a.data_dir, "buffer", "cw")
        os.makedirs(buf)
        old = [f"old {i} from the previous release".encode() for i in range(300)]
        now = time.time_ns() - 60 * 10**9  # a minute ago: within CloudWatch's window
        with open(os.path.join(buf, "0000000000000005.chunk"), "wb") as f:
            f.write(v1_chunk(old[:200], key=b"g\ns", ts_ns=now))
        with open(os.path.join(buf, "0000000000000006.chunk"), "wb") as f:
            f.write(v1_chunk(old[200:], key=b"g\ns", ts_ns=now + 200))
        a.start()
        a.wait_log("2 of them hold records (written before encode once")
        a.wait_for(lambda: not glob.glob(os.path.join(buf, "*.chunk")), timeout=30,
                   what="buffer drained")
        o = output_status(a)
        self.assertEqual(a.stop(), 0)
        self.assertEqual(messages(self.aws, "g", "s"), [m.decode() for m in old])
        self.assertEqual(o["requests_encoded"], len(accepted_puts(self.aws)))


if __name__ == "__main__":
    unittest.main()
