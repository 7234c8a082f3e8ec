"""The disk buffer: batches survive outages, kill -9 and restarts; damaged
chunks are moved aside and counted; a full buffer pauses inputs (or drops the
oldest chunks when so configured); a full disk is reported and recovered from.

The destination is a `file` output whose directory is made unwritable (a
regular file stands where the directory should be) to simulate an outage:
batches then wait in the disk buffer."""
import glob
import os
import re
import subprocess
import time
import unittest

from tests.integration.harness import Agent, messages, read_file_output


def conf(count, buffer_opts="", agent_opts="", out_path="{out_dir}", tag="app.gen", size=100,
         shutdown="2s"):
    return f"""
    [agent]
    data_dir = {{data_dir}}
    shutdown_timeout = {shutdown}
    {agent_opts}

    [input gen]
    type = generate
    count = {count}
    size = {size}
    tag = {tag}

    [output out]
    type = file
    match = app.*
    path = {out_path}
    flush_interval = 100ms
    batch_max_records = 500
    retry_max_backoff = 200ms
    buffer = disk
    {buffer_opts}
    """


def seqs(records):
    return [int(m.split()[1]) for m in messages(records)]


def chunks(agent):
    return sorted(glob.glob(os.path.join(agent.data_dir, "buffer", "out", "*.chunk")))


class DiskBuffer(unittest.TestCase):
    def stall(self, agent):
        open(agent.out_dir, "w").close()

    def recover(self, agent):
        os.unlink(agent.out_dir)

    def restart_quiet(self, agent):
        """Restart with an input that emits nothing for the output: only what
        the buffer holds can arrive."""
        agent.write_config(conf(1, tag="other.tag"))
        agent.start()

    def test_outage_then_kill9_then_recovery_delivers_everything_once(self):
        with Agent(conf(20000)) as a:
            self.stall(a)
            a.start()
            a.wait_log("all 20000 records acknowledged", timeout=60)  # durable in the buffer
            self.assertGreaterEqual(len(chunks(a)), 40)
            a.kill9()
            self.recover(a)
            self.restart_quiet(a)
            a.wait_log("left in the disk buffer by the last run will be sent first")
            a.wait_for(lambda: len(chunks(a)) == 0, timeout=60, what="buffer drained")
            self.assertEqual(a.stop(), 0)
            self.assertEqual(seqs(read_file_output(a.out_dir)), list(range(20000)))

    def test_graceful_stop_persists_instead_of_waiting(self):
        with Agent(conf(5000, shutdown="30s")) as a:
            self.stall(a)
            a.start()
            a.wait_log("all 5000 records acknowledged", timeout=30)
            # everything is on disk, so there is nothing to wait 30 s for: the stop is
            # asked to finish within 10 s (how long it takes: bench_latency.py)
            self.assertEqual(a.stop(timeout=10), 0)
            self.assertTrue(chunks(a))

    def test_corrupt_chunk_is_moved_aside_counted_and_the_rest_delivered(self):
        with Agent(conf(10000)) as a:
            self.stall(a)
            a.start()
            a.wait_log("all 10000 records acknowledged", timeout=30)
            self.assertEqual(a.stop(), 0)
            files = chunks(a)
            self.assertGreaterEqual(len(files), 10)
            victim = files[len(files) // 2]
            with open(victim, "r+b") as f:
                f.seek(os.path.getsize(victim) // 2)
                f.write(b"\xde\xad\xbe\xef" * 4)
            self.recover(a)
            self.restart_quiet(a)
            a.wait_for(lambda: len(chunks(a)) == 0, timeout=60, what="buffer drained")
            self.assertEqual(a.stop(), 0)
            got = seqs(read_file_output(a.out_dir))
            missing = sorted(set(range(10000)) - set(got))
            self.assertEqual(len(got), len(set(got)), "no duplicates")
            self.assertTrue(missing, "the damaged chunk's records cannot be delivered")
            self.assertEqual(missing, list(range(missing[0], missing[-1] + 1)), "one chunk")
            self.assertEqual(sorted(got), got, "order kept")
            self.assertEqual(len(glob.glob(os.path.join(a.data_dir, "corrupt", "out", "*"))), 1)
            self.assertIn("is damaged", a.stderr())
            self.assertRegex(a.stderr(), r"output out: \d+ records out in \d+ batches, "
                             + str(len(missing)) + " dropped")

    def test_full_buffer_pauses_input_and_loses_nothing(self):
        opts = "buffer.max_size = 256KiB"
        with Agent(conf(60000, buffer_opts=opts, agent_opts="memory_limit = 1MiB")) as a:
            self.stall(a)
            a.start()
            a.wait_log("disk buffer full", timeout=30)
            time.sleep(1)
            st = a.stderr()
            self.assertNotIn("all 60000 records acknowledged", st)  # the input waits
            size = sum(os.path.getsize(f) for f in chunks(a))
            self.assertLess(size, 256 * 1024 + 64 * 1024)
            self.recover(a)
            a.wait_log("all 60000 records acknowledged", timeout=90)
            a.wait_for(lambda: len(chunks(a)) == 0, timeout=60, what="buffer drained")
            self.assertEqual(a.stop(), 0)
            self.assertEqual(seqs(read_file_output(a.out_dir)), list(range(60000)))
            self.assertRegex(a.stderr(), r"output out: 60000 records out in \d+ batches, 0 dropped")

    def test_full_buffer_drop_oldest_policy_counts_what_it_drops(self):
        opts = "buffer.max_size = 128KiB\nbuffer.full_policy = drop_oldest"
        with Agent(conf(30000, buffer_opts=opts)) as a:
            self.stall(a)
            a.start()
            a.wait_log("all 30000 records acknowledged", timeout=60)
            self.recover(a)
            a.wait_for(lambda: len(chunks(a)) == 0, timeout=60, what="buffer drained")
            self.assertEqual(a.stop(), 0)
            got = seqs(read_file_output(a.out_dir))
            m = re.search(r"output out: (\d+) records out in \d+ batches, (\d+) dropped", a.stderr())
            out, dropped = int(m.group(1)), int(m.group(2))
            self.assertGreater(dropped, 0)
            self.assertEqual(out + dropped, 30000)
            self.assertEqual(len(got), out)
            self.assertEqual(got[-1], 29999, "the newest records are kept")
            self.assertEqual(sorted(got), got)
            self.assertIn("dropped the oldest chunk", a.stderr())

    def test_full_disk_for_data_dir(self):
        mnt = f"/tmp/collector-bufdisk-{os.getpid()}"
        os.makedirs(mnt, exist_ok=True)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", mnt],
                          capture_output=True).returncode != 0:
            os.rmdir(mnt)
            self.skipTest("cannot mount a small tmpfs here (needs root)")
        try:
            text = conf(20000).replace("data_dir = {data_dir}", f"data_dir = {mnt}")
            with Agent(text) as a:
                self.stall(a)
                a.start()
                a.wait_log("cannot write to the disk buffer", timeout=30)
                self.assertTrue(a.running())
                subprocess.run(["mount", "-o", "remount,size=64m", mnt], check=True)
                self.recover(a)
                a.wait_log("all 20000 records acknowledged", timeout=60)
                a.wait_for(lambda: not glob.glob(f"{mnt}/buffer/out/*.chunk"), timeout=60,
                           what="buffer drained")
                self.assertEqual(a.stop(), 0)
                self.assertEqual(seqs(read_file_output(a.out_dir)), list(range(20000)))
        finally:
            subprocess.run(["umount", mnt])
            os.rmdir(mnt)


if __name__ == "__main__":
    unittest.main()
