"""Integration tests of the status endpoint (/health, /metrics, /status),
`collector status`, the agent's own log file, and stopping under load, all
through the real binary."""
import json
import os
import re
import resource
import signal
import socket
import time
import unittest

from tests.integration.harness import Agent, messages, read_file_output, run_cli


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(addr, raw, timeout=10):
    """Send raw bytes to addr ((host, port) or a unix socket path); return
    (status, headers dict, body bytes), or None when the server closed
    without an answer."""
    family = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(addr)
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
    assert m, f"bad status line {lines[0]!r}"
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers and not raw.startswith(b"HEAD "):
        assert int(headers["content-length"]) == len(body), (headers, len(body))
    return int(m.group(1)), headers, body


def get(addr, path, method="GET", timeout=10):
    host = "localhost"
    return http_request(addr, f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
                              f"Connection: close\r\n\r\n".encode(), timeout)


def get_retry(addr, path, timeout=20):
    """GET, retrying while the endpoint is not up yet (start, reload)."""
    deadline = time.time() + timeout
    while True:
        try:
            r = get(addr, path)
            if r is not None:
                return r
        except (ConnectionRefusedError, FileNotFoundError, ConnectionResetError, socket.timeout):
            pass
        if time.time() > deadline:
            raise AssertionError(f"{path} on {addr} did not answer within {timeout}s")
        time.sleep(0.05)


# ---------------------------------------------------------------- Prometheus

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def parse_prometheus(text):
    """A strict parser of the text exposition format (0.0.4): every sample's
    family has one HELP and one TYPE before it, families are contiguous, no
    series repeats, values are numbers, label values are escaped, histogram
    buckets are cumulative and end in +Inf == _count. Returns
    {family: {"type": t, "samples": {(name, ((label, value), ...)): float}}}."""
    assert text.endswith("\n"), "exposition must end with a newline"
    families = {}
    current = None
    seen_series = set()
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {lineno}: {line!r}"
        assert line, f"empty line at {lineno}"
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in families, f"family {name} declared twice ({where})"
            families[name] = {"type": None, "help": True, "samples": {}}
            current = name
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            assert len(parts) == 4, where
            name, kind = parts[2], parts[3]
            assert name == current and families[name]["type"] is None, where
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), where
            families[name]["type"] = kind
            continue
        assert not line.startswith("#"), f"unexpected comment ({where})"
        m = SAMPLE_RE.match(line)
        assert m, f"malformed sample ({where})"
        name, _, labels_text, value_text = m.groups()
        labels = []
        if labels_text:
            pos = 0
            while pos < len(labels_text):
                lm = LABEL_RE.match(labels_text, pos)
                assert lm, f"malformed labels ({where})"
                labels.append((lm.group(1), lm.group(2)))
                pos = lm.end()
            assert len({k for k, _ in labels}) == len(labels), f"repeated label ({where})"
        value = float(value_text)  # accepts NaN, +Inf
        assert current is not None, f"sample before any family ({where})"
        family = families[current]
        kind = family["type"]
        assert kind is not None, f"sample before TYPE ({where})"
        if kind == "histogram":
            assert name in (current + "_bucket", current + "_sum", current + "_count"), where
        else:
            assert name == current, f"sample {name} outside its family {current}"
        if kind == "counter":
            assert current.endswith("_total"), f"counter without _total: {current}"
            assert value >= 0, where
        key = (name, tuple(labels))
        assert key not in seen_series, f"duplicate series ({where})"
        seen_series.add(key)
        family["samples"][key] = value
    for name, fam in families.items():
        assert fam["type"], f"{name} has no TYPE"
        if fam["type"] == "histogram":
            check_histograms(name, fam["samples"])
    return families


def check_histograms(name, samples):
    series = {}
    for (sname, labels), value in samples.items():
        base = tuple(l for l in labels if l[0] != "le")
        series.setdefault(base, {"buckets": [], "sum": None, "count": None})
        if sname.endswith("_bucket"):
            le = dict(labels)["le"]
            series[base]["buckets"].append((float(le), value))
        elif sname.endswith("_sum"):
            series[base]["sum"] = value
        else:
            series[base]["count"] = value
    for base, s in series.items():
        buckets = sorted(s["buckets"])
        assert buckets and buckets[-1][0] == float("inf"), f"{name}{base}: no +Inf bucket"
        counts = [c for _, c in buckets]
        assert counts == sorted(counts), f"{name}{base}: buckets not cumulative"
        assert s["count"] == counts[-1] and s["sum"] is not None, f"{name}{base}"


def sample(families, name, family=None, **labels):
    """The value of one sample; family is needed for histogram parts (_count...)."""
    fam = families[family or name]
    for (sname, slabels), value in fam["samples"].items():
        d = dict(slabels)
        if sname == name and all(d.get(k) == v for k, v in labels.items()):
            return value
    raise AssertionError(f"no sample {name} {labels}")


class PrometheusParser(unittest.TestCase):
    """The test's own parser must reject what Prometheus rejects."""

    def test_rejects_bad_text(self):
        good = "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"v\\\"\"} 1\n"
        self.assertIn("a_total", parse_prometheus(good))
        for bad in ("a 1\n",
                    "# HELP a_total x\n# TYPE a_total counter\na_total 1\na_total 2\n",
                    "# HELP a x\n# TYPE a gauge\na{l=\"unterminated} 1\n",
                    "# HELP a x\n# TYPE a gauge\na one\n",
                    "# HELP a x\n# TYPE a gauge\nb 1\n",
                    "# HELP a x\n# TYPE a gauge\na 1"):
            with self.assertRaises((AssertionError, ValueError), msg=bad):
                parse_prometheus(bad)


# ---------------------------------------------------------------- agents

def conf(port_or_path, count=1000, rate=0, out_path="{out_dir}", stall="5m", extra_agent="",
         extra_out="", outputs="", shutdown="10s"):
    listen = port_or_path if isinstance(port_or_path, str) else f"127.0.0.1:{port_or_path}"
    return f"""
    [agent]
    data_dir = {{data_dir}}
    http_listen = {listen}
    health.max_stall = {stall}
    shutdown_timeout = {shutdown}
    {extra_agent}

    [input g]
    type = generate
    count = {count}
    rate = {rate}

    [output f]
    type = file
    match = *
    path = {out_path}
    flush_interval = 100ms
    retry_max_backoff = 200ms
    {extra_out}
    {outputs}
    """


def listening_sockets(pid):
    """The listening TCP/unix sockets among a process's open files."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, state_col, listen in (("tcp", 3, "0A"), ("tcp6", 3, "0A"), ("unix", 5, "01")):
        with open(f"/proc/{pid}/net/{table}") as f:
            next(f)
            for line in f:
                cols = line.split()
                inode = cols[9] if table != "unix" else cols[6]
                flags_listen = (cols[state_col] == listen) if table != "unix" else (
                    cols[3] == "00010000")
                if inode in inodes and flags_listen:
                    found.append((table, inode))
    return found


def seqs(records):
    return [int(m.split()[1]) for m in messages(records)]


class Health(unittest.TestCase):
    def test_health_fails_while_the_output_stalls_and_recovers(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent() as agent:
            blocker = os.path.join(agent.tmp, "blocker")
            with open(blocker, "w") as f:
                f.write("a regular file where the output wants a directory\n")
            agent.write_config(conf(port, count=200, out_path=blocker + "/out", stall="3s"))
            agent.start()
            status, _, body = get_retry(addr, "/ready")
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["status"], "ready")
            # The output cannot create its directory: after max_stall, /ready 503.
            agent.wait_for(lambda: get(addr, "/ready")[0] == 503, timeout=20, what="503")
            status, headers, body = get(addr, "/ready")
            self.assertEqual(status, 503)
            self.assertEqual(headers["content-type"], "application/json")
            doc = json.loads(body)
            self.assertEqual(doc["status"], "not ready")
            self.assertIn("output f has not delivered", doc["reason"])
            self.assertEqual(doc["failures"][0]["check"], "output_stalled")
            # HEAD answers the same status without a body (curl -I / -f).
            self.assertEqual(get(addr, "/ready", method="HEAD")[0], 503)
            st = json.loads(get(addr, "/status")[2])
            self.assertTrue(st["outputs"][0]["stalled"])
            self.assertGreater(st["outputs"][0]["queue_depth"], 0)
            self.assertIsNotNone(st["outputs"][0]["last_error_ms"])
            # Remove the obstacle: the retried batches go through, 200 again.
            os.unlink(blocker)
            agent.wait_for(lambda: len(read_file_output(blocker + "/out")) == 200, timeout=20,
                           what="all records after recovery")
            agent.wait_for(lambda: get(addr, "/ready")[0] == 200, timeout=10, what="200 again")
            self.assertEqual(sorted(seqs(read_file_output(blocker + "/out"))), list(range(200)))
            self.assertEqual(agent.stop(), 0)

    def test_failed_reload_is_not_ready_until_a_good_one(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent(conf(port, count=10)) as agent:
            agent.start()
            self.assertEqual(get_retry(addr, "/ready")[0], 200)
            good = read_text(os.path.join(agent.conf_dir, "00-test.conf"))
            agent.write_config(good + "\n[output broken]\ntype = nosuchoutput\nmatch = *\n",
                               "00-test.conf")
            agent.send_signal(signal.SIGHUP)
            agent.wait_for(lambda: get(addr, "/ready")[0] == 503, timeout=20,
                           what="503 after the failed reload")
            doc = json.loads(get(addr, "/ready")[2])
            self.assertIn("configuration reload failed", doc["reason"])
            self.assertIn("nosuchoutput", doc["reason"])
            self.assertEqual(doc["failures"][0]["check"], "config_reload")
            metrics = parse_prometheus(get(addr, "/metrics")[2].decode())
            self.assertEqual(sample(metrics, "collector_config_reloads_total", result="failure"), 1)
            self.assertEqual(sample(metrics, "collector_config_last_reload_successful"), 0)
            self.assertEqual(sample(metrics, "collector_ready"), 0)
            # A good configuration again: the reload succeeds, 200.
            agent.write_config(good, "00-test.conf")
            agent.send_signal(signal.SIGHUP)
            agent.wait_log("configuration reloaded")
            self.assertEqual(get_retry(addr, "/ready")[0], 200)
            st = json.loads(get_retry(addr, "/status")[2])
            self.assertEqual(st["config"]["generation"], 2)
            self.assertEqual(st["config"]["reloads_failed"], 1)
            self.assertIsNone(st["config"]["last_reload_error"])
            self.assertEqual(agent.stop(), 0)


class Metrics(unittest.TestCase):
    def test_metrics_parse_and_match_what_was_delivered(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        n = 2500
        nulls = """
    [output nothing]
    type = null
    match = *
    flush_interval = 100ms
    """
        with Agent(conf(port, count=n, outputs=nulls)) as agent:
            agent.start()
            agent.wait_log(f"input g: all {n} records acknowledged")
            status, headers, body = get_retry(addr, "/metrics")
            self.assertEqual(status, 200)
            self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
            m = parse_prometheus(body.decode())
            records = read_file_output(agent.out_dir)
            self.assertEqual(len(records), n)
            msg_bytes = sum(len(r["message"].encode()) for r in records)
            self.assertEqual(sample(m, "collector_input_records_total", input="g", type="generate"), n)
            self.assertEqual(sample(m, "collector_input_bytes_total", input="g"), msg_bytes)
            self.assertEqual(sample(m, "collector_input_records_acked_total", input="g"), n)
            self.assertEqual(sample(m, "collector_input_records_unrouted_total", input="g"), 0)
            for out, kind in (("f", "file"), ("nothing", "null")):
                self.assertEqual(sample(m, "collector_output_records_total", output=out, type=kind), n)
                self.assertGreaterEqual(sample(m, "collector_output_bytes_total", output=out),
                                        msg_bytes)
                self.assertGreaterEqual(sample(m, "collector_output_batches_total", output=out), 1)
                self.assertEqual(sample(m, "collector_output_batches_pending", output=out), 0)
                self.assertEqual(sample(m, "collector_output_batch_retries_total", output=out), 0)
                for reason in ("retries_exhausted", "rejected", "buffer_full"):
                    self.assertEqual(sample(m, "collector_output_records_dropped_total",
                                            output=out, reason=reason), 0)
                self.assertGreater(sample(m, "collector_output_last_success_timestamp_seconds",
                                          output=out), time.time() - 120)
                self.assertEqual(sample(m, "collector_output_last_error_timestamp_seconds",
                                        output=out), 0)
            self.assertEqual(m["collector_output_send_duration_seconds"]["type"], "histogram")
            for out in ("f", "nothing"):
                # one observation per send(): every batch, none lost
                hist = "collector_output_send_duration_seconds"
                self.assertEqual(sample(m, hist + "_count", family=hist, output=out),
                                 sample(m, "collector_output_batches_total", output=out))
                self.assertEqual(sample(m, hist + "_bucket", family=hist, output=out, le="+Inf"),
                                 sample(m, "collector_output_batches_total", output=out))
            self.assertEqual(sample(m, "collector_pipeline_records_pending"), 0)
            self.assertEqual(sample(m, "collector_pipeline_buffer_bytes"), 0)
            self.assertEqual(sample(m, "collector_healthy"), 1)
            self.assertEqual(sample(m, "collector_build_info"), 1)
            self.assertGreater(sample(m, "collector_process_resident_memory_bytes"), 100000)
            self.assertGreaterEqual(sample(m, "collector_process_cpu_seconds_total", mode="user"), 0)
            self.assertGreater(sample(m, "collector_process_open_fds"), 3)
            self.assertGreater(sample(m, "collector_process_start_time_seconds"),
                               time.time() - 600)
            self.assertGreaterEqual(sample(m, "collector_http_requests_total"), 1)
            for name, fam in m.items():
                self.assertTrue(name.startswith("collector_"), name)
            self.assertEqual(agent.stop(), 0)


class StatusDocument(unittest.TestCase):
    def test_status_json_and_cli(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent(conf(port, count=300)) as agent:
            agent.start()
            agent.wait_log("input g: all 300 records acknowledged")
            status, headers, body = get_retry(addr, "/status")
            self.assertEqual(status, 200)
            self.assertEqual(headers["content-type"], "application/json")
            st = json.loads(body)
            for key in ("version", "git_rev", "hostname", "pid", "healthy", "health", "config",
                        "inputs", "outputs", "containers", "pipeline", "process"):
                self.assertIn(key, st)
            self.assertEqual(st["pid"], agent.pid)
            self.assertTrue(st["healthy"])
            self.assertEqual(st["config"]["path"], agent.conf_dir)
            self.assertEqual(st["config"]["generation"], 1)
            g = st["inputs"][0]
            self.assertEqual((g["name"], g["type"], g["records_in"], g["records_acked"]),
                             ("g", "generate", 300, 300))
            f = st["outputs"][0]
            self.assertEqual((f["name"], f["type"], f["records_out"], f["queue_depth"]),
                             ("f", "file", 300, 0))
            self.assertFalse(f["stalled"])
            self.assertIn("f.jsonl", f["destination"])
            self.assertLessEqual({"retries_exhausted", "rejected", "too_old", "too_new", "invalid",
                                  "buffer_full"}, set(f["dropped"]))
            self.assertEqual(sum(f["dropped"].values()), 0)

            r = run_cli(["status", "--addr", f"127.0.0.1:{port}"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("health:     OK", r.stdout)
            self.assertRegex(r.stdout, r"\bg\s+generate\s+300 records")
            self.assertRegex(r.stdout, r"\bf\s+file\s+300 records")
            r = run_cli(["status", "--addr", f"127.0.0.1:{port}", "--json"])
            self.assertEqual(r.returncode, 0)
            self.assertEqual(json.loads(r.stdout)["outputs"][0]["records_out"], 300)
            self.assertEqual(agent.stop(), 0)
        # Nobody listening: exit 1 and say so.
        r = run_cli(["status", "--addr", f"127.0.0.1:{port}"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot reach the agent", r.stderr)
        self.assertEqual(run_cli(["status", "--addr", "nonsense"]).returncode, 2)
        self.assertEqual(run_cli(["status", "--bogus"]).returncode, 2)


class Robustness(unittest.TestCase):
    def test_malformed_requests_get_4xx_or_close(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent(conf(port, count=10)) as agent:
            agent.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            cases = [
                (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + os.urandom(64), 400),
                (b"garbage garbage garbage\r\n\r\n", 400),
                (b"GET /health\r\n", 400),                       # HTTP/0.9
                (b"GET /health HTTP/2.0\r\n\r\n", 505),
                (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
                (b"BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", 405),
                (b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 405),
                (b"GET /nope HTTP/1.1\r\n\r\n", 404),
                (b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n", 400),
                (b"\x00" * 100, 400),
                (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", 431),
            ]
            for raw, want in cases:
                r = http_request(addr, raw)
                self.assertIsNotNone(r, raw[:40])
                self.assertEqual(r[0], want, raw[:40])
            # A 1 MB header: 431 (or a close), never a crash.
            big = b"GET /health HTTP/1.1\r\nX-Big: " + b"x" * (1 << 20) + b"\r\n\r\n"
            try:
                r = http_request(addr, big)
                self.assertTrue(r is None or r[0] == 431, r and r[0])
            except (BrokenPipeError, ConnectionResetError):
                pass
            # Connect and close at once, half a request then close.
            for raw in (b"", b"GET /hea"):
                with socket.create_connection(addr) as s:
                    s.sendall(raw)
            status, headers, body = get(addr, "/health")
            self.assertEqual(status, 200)
            self.assertEqual(headers["connection"], "close")
            self.assertTrue(agent.running())
            m = parse_prometheus(get(addr, "/metrics")[2].decode())
            self.assertGreaterEqual(sample(m, "collector_http_bad_requests_total"), 9)
            self.assertEqual(agent.stop(), 0)

    def test_slow_clients_do_not_block_shipping(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1300:
            if hard != resource.RLIM_INFINITY and hard < 1300:
                self.skipTest("RLIMIT_NOFILE hard limit below 1300")
            resource.setrlimit(resource.RLIMIT_NOFILE, (1300 if hard == resource.RLIM_INFINITY
                                                        else min(hard, 4096), hard))
        port = free_port()
        addr = ("127.0.0.1", port)
        n = 20000
        with Agent(conf(port, count=n, rate=2000)) as agent:
            agent.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            slow = []
            try:
                for i in range(1000):
                    s = socket.create_connection(addr, timeout=10)
                    if i % 2:
                        s.sendall(b"GET /health HTTP/1.1\r\n")  # then drip
                    slow.append(s)
                opened = time.time()
                # While 1,000 slow clients hold connections: still answers, still ships.
                self.assertEqual(get(addr, "/health")[0], 200)
                before = json.loads(get(addr, "/status")[2])
                # every slow client is still connected or was closed at its 5 s deadline
                # (counted as a timeout): however slow this run is
                timed_out = sample(parse_prometheus(get(addr, "/metrics")[2].decode()),
                                   "collector_http_timeouts_total")
                self.assertGreaterEqual(before["http"]["connections"] + timed_out, 1000)
                dripped = 0
                while time.time() - opened < 2:
                    for s in slow[1::2]:
                        try:
                            s.send(b"X")
                            dripped += 1
                        except OSError:
                            pass
                    time.sleep(0.5)
                self.assertGreater(dripped, 0)
                after = json.loads(get(addr, "/status")[2])
                self.assertGreater(after["inputs"][0]["records_acked"],
                                   before["inputs"][0]["records_acked"], "kept shipping")
                # Past the 5 s deadline every slow client is closed by the agent.
                closed = 0
                for s in slow:
                    s.settimeout(max(0.1, opened + 15 - time.time()))
                    try:
                        if s.recv(1) == b"":
                            closed += 1
                    except ConnectionResetError:
                        closed += 1
                    except socket.timeout:
                        pass
                self.assertEqual(closed, 1000)
            finally:
                for s in slow:
                    s.close()
            agent.wait_log(f"input g: all {n} records acknowledged", timeout=60)
            self.assertEqual(sorted(seqs(read_file_output(agent.out_dir))), list(range(n)))
            self.assertEqual(get(addr, "/health")[0], 200)
            m = parse_prometheus(get(addr, "/metrics")[2].decode())
            self.assertGreaterEqual(sample(m, "collector_http_timeouts_total"), 1000)
            self.assertEqual(sample(m, "collector_output_records_total", output="f"), n)
            self.assertEqual(agent.stop(), 0)

    def test_sigterm_under_load_exits_within_the_grace_period(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        # 100,000 records/s without end, in one file (no rotation: the test
        # reads every record back, and rotate_keep would drop the oldest)
        with Agent(conf(port, count=0, rate=100000, shutdown="3s",
                        extra_out="rotate_size = 0")) as agent:
            agent.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            agent.wait_for(lambda: len(read_file_output(agent.out_dir)) > 20000, timeout=30,
                           what="records flowing")
            slow = [socket.create_connection(addr) for _ in range(200)]
            try:
                started = time.time()
                code = agent.stop(timeout=10)
                elapsed = time.time() - started
            finally:
                for s in slow:
                    s.close()
            self.assertEqual(code, 0, agent.stderr()[-2000:])
            # how long it took is a figure of bench_latency.py; here: within the
            # 10 s the stop allows, though shutdown_timeout is 3 s
            print(f"\n  SIGTERM under load: stopped in {elapsed:.1f} s", flush=True)
            got = seqs(read_file_output(agent.out_dir))
            # Everything read was delivered (or will be re-read): no gaps, in order.
            self.assertEqual(got, list(range(len(got))))
            self.assertIn("stopped", agent.stderr())


class Listening(unittest.TestCase):
    def test_unix_socket(self):
        with Agent() as agent:
            path = os.path.join(agent.tmp, "status.sock")
            agent.write_config(conf(path, count=50))
            agent.start()
            status, _, body = get_retry(path, "/health")
            self.assertEqual(status, 200)
            agent.wait_log("input g: all 50 records acknowledged")
            r = run_cli(["status", "--addr", path])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("50 records", r.stdout)
            self.assertEqual(agent.stop(), 0)
            self.assertFalse(os.path.exists(path), "the socket file is removed at exit")

    def test_ipv6(self):
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
                s.bind(("::1", 0))
                port = s.getsockname()[1]
        except OSError:
            self.skipTest("no IPv6 loopback")
        with Agent(conf(f"[::1]:{port}", count=5)) as agent:
            agent.start()
            agent.wait_log("status endpoint on")
            with socket.create_connection(("::1", port), timeout=10) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n"), data[:100])
            r = run_cli(["status", "--addr", f"[::1]:{port}"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(agent.stop(), 0)

    def test_off(self):
        """http_listen = off: nothing on the default address (127.0.0.1:8934),
        and no listening socket of any kind in the agent's process."""
        default = ("127.0.0.1", 8934)
        with socket.socket() as probe:
            default_was_free = probe.connect_ex(default) != 0
        with Agent(conf("off", count=50)) as agent:
            agent.start()
            agent.wait_log("input g: all 50 records acknowledged")
            self.assertNotIn("status endpoint on", agent.stderr())
            if default_was_free:
                with self.assertRaises(ConnectionRefusedError):
                    get(default, "/health")
            self.assertEqual(listening_sockets(agent.pid), [])
            self.assertEqual(agent.stop(), 0)
        # the probe can fail: the same agent without `off` listens there
        if default_was_free:
            with Agent(conf("off", count=50).replace("http_listen = off\n", ""),
                       own_listen=False) as agent:
                agent.start()
                self.assertEqual(get_retry(default, "/health")[0], 200)
                self.assertTrue(listening_sockets(agent.pid))
                self.assertEqual(agent.stop(), 0)

    def test_bind_failure_is_fatal_and_names_the_address(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            with Agent(conf(port, count=5)) as agent:
                agent.start()
                self.assertEqual(agent.wait_exit(20), 1)
                self.assertIn(f"http_listen = 127.0.0.1:{port}", agent.stderr())

    def test_bad_address_is_a_configuration_error(self):
        with Agent(conf("127.0.0.1:99999", count=5)) as agent:
            r = run_cli(["check-config", "-c", agent.conf_dir])
            self.assertEqual(r.returncode, 2)
            self.assertIn("http_listen", r.stdout)
            self.assertIn("65535", r.stdout)

    def test_check_config_shows_the_keys(self):
        with Agent(conf(free_port(), count=5)) as agent:
            r = run_cli(["check-config", "-c", agent.conf_dir])
            self.assertEqual(r.returncode, 0, r.stdout)
            for key in ("http_listen", "health.max_stall", "log_file_max_size"):
                self.assertIn(key, r.stdout)


class OwnLog(unittest.TestCase):
    def test_log_file_with_rotation(self):
        port = free_port()
        addr = ("127.0.0.1", port)
        with Agent() as agent:
            log = os.path.join(agent.tmp, "agent.log")
            agent.write_config(conf(port, count=10, extra_agent=f"log_file = {log}\n"
                                    "    log_file_max_size = 2KiB\n    log_file_keep = 2"))
            agent.start()
            self.assertEqual(get_retry(addr, "/health")[0], 200)
            agent.wait_for(lambda: "all 10 records acknowledged" in read_text(log),
                           what="the agent's log in log_file")
            # Each reload writes a few lines: enough to rotate several times.
            for _ in range(30):
                agent.send_signal(signal.SIGHUP)
                agent.wait_for(lambda: get_retry(addr, "/health")[0] == 200, what="reloaded")
                time.sleep(0.15)
            agent.wait_for(lambda: os.path.exists(log + ".2"), what="two rotations")
            self.assertFalse(os.path.exists(log + ".3"))
            self.assertLess(os.path.getsize(log + ".1"), 2048 + 8192)
            self.assertEqual(agent.stop(), 0)
            self.assertIn("stopped", read_text(log))
            self.assertNotIn("configuration reloaded", agent.stderr())


if __name__ == "__main__":
    unittest.main()
