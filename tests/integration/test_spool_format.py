"""The disk buffer's chunk files from outside: chunks the previous release
wrote (format CLCHUNK1, zlib bodies) are read and delivered once, in order,
and said in the log; a FIFO named like a chunk does not block the start and is
moved aside. The destination is a `file` output (see test_buffer.py)."""
import glob
import os
import struct
import time
import unittest
import zlib

from tests.integration.harness import Agent, messages, read_file_output
from tests.integration.test_buffer import conf


def v1_chunk(msgs, tag="app.gen", key=b"", ts_ns=1700000000000000000):
    """A CLCHUNK1 chunk as the previous release's spool_write made it: the
    header, then zlib(tags, metas, records, arena), CRC-32 of each."""
    arena = b""
    records = b""
    for i, m in enumerate(msgs):
        records += struct.pack("<QIIIIII", ts_ns + i, len(arena), len(m), 0, 0, 0,
                               0xFFFFFFFF)
        arena += m
    tag = tag.encode()
    raw = (struct.pack("<I", 1) + struct.pack("<I", len(tag)) + tag + struct.pack("<I", 0) +
           records + struct.pack("<I", len(arena)) + arena)
    packed = zlib.compress(raw, 6)
    head = (b"CLCHUNK1" + struct.pack("<IIQq", 1, len(msgs), len(arena), int(time.time() * 1000)) +
            struct.pack("<I", len(key)) + key + struct.pack("<II", len(raw), len(packed)))
    head += struct.pack("<I", zlib.crc32(head))
    return head + packed + struct.pack("<I", zlib.crc32(packed))


class ChunkFormats(unittest.TestCase):
    def test_previous_format_delivered_once_and_fifo_moved_aside(self):
        # the agent's own generator tags its records other.tag: they match
        # nothing, so only what the buffer holds can arrive
        with Agent(conf(1, tag="other.tag")) as a:
            buf = os.path.join(a.data_dir, "buffer", "out")
            os.makedirs(buf)
            old = [f"old {i} from the previous release".encode() for i in range(300)]
            with open(os.path.join(buf, "0000000000000005.chunk"), "wb") as f:
                f.write(v1_chunk(old[:200]))
            with open(os.path.join(buf, "0000000000000006.chunk"), "wb") as f:
                f.write(v1_chunk(old[200:]))
            os.mkfifo(os.path.join(buf, "0000000000000009.chunk"))
            a.start()
            a.wait_log("2 chunks written by an earlier version (format CLCHUNK1, zlib) are read "
                       "and sent as usual")
            a.wait_log("not a regular file")
            a.wait_for(lambda: not glob.glob(os.path.join(buf, "*.chunk")), timeout=30,
                       what="buffer drained")
            self.assertEqual(a.stop(), 0)
            got = messages(read_file_output(a.out_dir))
            self.assertEqual(got, [m.decode() for m in old])
            moved = glob.glob(os.path.join(a.data_dir, "corrupt", "out", "0000000000000009-*"))
            self.assertEqual(len(moved), 1)


if __name__ == "__main__":
    unittest.main()
