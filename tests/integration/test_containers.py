"""The containers input against a real dockerd (tests/integration/dockerd.py):
stdout/stderr with stream and timestamps, 100 KB lines, unicode and invalid
bytes, 200,000 quick lines, Docker's max-size rotation, containers started
and removed while the agent runs, dockerd restarted, the agent restarted
mid-stream (no loss, no repeats), filters, and the ECS names in the fake
CloudWatch with the shipped conf.d templates and a scripted introspection
endpoint.

Every test uses its own container names and include_name, so the shared
dockerd's other containers do not interfere. Every process is stopped by
pid; traffic goes to 127.0.0.1 and unix sockets only."""
import collections
import json
import os
import shutil
import tempfile
import time
import unittest
import uuid

from tests.fakes.fake_aws_ctl import FakeAWS
from tests.integration import dockerd
from tests.integration.harness import (ROOT, Agent, assert_exactly_once, read_file_output,
                                       stop_and_read)

REASON = dockerd.skip_reason()

# Past every timer of conf() that could make the agent read something again:
# rotate_wait (2 s) and refresh_interval (1 s).
QUIET = 3.2


def conf(d, prefix, extra="", introspection=""):
    return f"""
[agent]
data_dir = {{data_dir}}
http_listen = {{tmp}}/status.sock
shutdown_timeout = 20s

[input c]
type = containers
docker_socket = {d.sock}
docker_root = {d.data_root}
introspection_url = {introspection}
include_name = {prefix}*
refresh_interval = 1s
rotate_wait = 2s
{extra}

[output out]
type = file
match = *
path = {{out_dir}}
flush_interval = 200ms
rotate_size = 4GiB
"""


def records(agent):
    return read_file_output(agent.out_dir)


def msgs(agent, name=None):
    return [r["message"] for r in records(agent)
            if "message" in r and (name is None or r.get("container_name") == name)]


def json_file_lines(d, cid):
    """What Docker wrote: (log, stream, time) of every json-file line, all files."""
    path = d.inspect(cid)["LogPath"]
    out = []
    names = sorted((p for p in os.listdir(os.path.dirname(path))
                    if p.startswith(os.path.basename(path))),
                   key=lambda p: -int(p.rsplit(".", 1)[1]) if p[-1].isdigit() else 0)
    for n in names:
        with open(os.path.join(os.path.dirname(path), n), "rb") as f:
            for line in f:
                out.append(json.loads(line))
    return out


def rfc3339_ms(s):
    import datetime
    base, _, frac = s.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000 + int((frac + "000")[:3])


@unittest.skipIf(REASON, REASON or "")
class Containers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = dockerd.shared()
        cls.d.ensure_image()

    def setUp(self):
        self.prefix = "t" + uuid.uuid4().hex[:8] + "-"
        self.cids = []

    def tearDown(self):
        for cid in self.cids:
            self.d.docker("rm", "-f", cid, check=False)

    def assert_lines(self, got, want, ordered=True):
        """Exact multiset (and order); a short summary instead of a huge diff."""
        g, w = collections.Counter(got), collections.Counter(want)
        if g != w:
            self.fail(f"{len(got)} lines, want {len(want)}: missing {list((w - g).items())[:5]} "
                      f"extra {list((g - w).items())[:5]}")
        if ordered and got != want:
            first = next(i for i, (x, y) in enumerate(zip(got, want)) if x != y)
            self.fail(f"out of order at {first}: {got[first:first + 3]}")

    def run_ctr(self, name, script, **kw):
        cid = self.d.run(name=self.prefix + name, cmd=["sh", "-c", script], **kw)
        self.cids.append(cid)
        return cid

    def wait_exited(self, cid, timeout=120):
        end = time.time() + timeout
        while time.time() < end:
            if not self.d.inspect(cid)["State"]["Running"]:
                return
            time.sleep(0.1)
        self.fail(f"container {cid[:12]} still running")

    def test_streams_and_timestamps(self):
        with Agent(conf(self.d, self.prefix)) as a:
            a.start()
            cid = self.run_ctr("s", "echo out1; echo err1 >&2; echo out2; sleep 3600")
            a.wait_for(lambda: len(msgs(a)) >= 3, timeout=30, what="3 records")
            stop_and_read(a, QUIET)
            recs = {r["message"]: r for r in records(a)}
            self.assertEqual(recs["out1"]["stream"], "stdout")
            self.assertEqual(recs["err1"]["stream"], "stderr")
            self.assertEqual(recs["out2"]["stream"], "stdout")
            for line in json_file_lines(self.d, cid):
                r = recs[line["log"].rstrip("\n")]
                self.assertEqual(r["timestamp"], rfc3339_ms(line["time"]))
                self.assertEqual(r["container_id"], cid)
                self.assertEqual(r["container_name"], self.prefix + "s")
                self.assertEqual(r["image"], dockerd.IMAGE)
                self.assertEqual(r["tag"], "container.docker")
            self.assertEqual(len(records(a)), 3)

    def test_long_line_unicode_invalid_bytes(self):
        with Agent(conf(self.d, self.prefix)) as a:
            a.start()
            self.run_ctr("l", "head -c 100000 /dev/zero | tr '\\0' a; echo; "
                              "printf 'h\\303\\251llo \\342\\230\\203 \\377\\376 end\\n'; "
                              "echo after; sleep 3600")
            a.wait_for(lambda: "after" in msgs(a), timeout=30, what="the last line")
            m = msgs(a)
            self.assertEqual(len(m), 3, [x[:40] for x in m])
            self.assertEqual((len(m[0]), set(m[0])), (100000, {"a"}))
            self.assertTrue(m[1].startswith("h\u00e9llo \u2603 "), m[1])
            self.assertTrue(m[1].endswith(" end"), m[1])
            self.assertIn("\ufffd", m[1])
            self.assertEqual(a.stop(), 0)

    def test_max_line_size_truncates(self):
        with Agent(conf(self.d, self.prefix, "max_line_size = 40000")) as a:
            a.start()
            self.run_ctr("t", "head -c 100000 /dev/zero | tr '\\0' b; echo; echo after; "
                              "sleep 3600")
            a.wait_for(lambda: "after" in msgs(a), timeout=30, what="the last line")
            m = msgs(a)
            self.assertEqual([(len(x), set(x)) for x in m], [(40000, {"b"}), (5, set("after"))])
            self.assertEqual(a.stop(), 0)

    def test_200k_lines_then_exit(self):
        with Agent(conf(self.d, self.prefix)) as a:
            a.start()
            cid = self.run_ctr("q", "seq 1 200000")
            a.wait_for(lambda: len(records(a)) >= 200000, timeout=120, what="200,000 records")
            self.wait_exited(cid)
            stop_and_read(a, QUIET)
            self.assert_lines(msgs(a), [str(i) for i in range(1, 200001)])

    def test_docker_rotation_under_load(self):
        with Agent(conf(self.d, self.prefix)) as a:
            a.start()
            # Every line once, in order (see also WithoutTheSocket's burst).
            cid = self.run_ctr("r", "sleep 1; seq 1 60000", log_opts={"max-size": "200k",
                                                                     "max-file": "30"})
            a.wait_for(lambda: len(records(a)) >= 60000, timeout=120, what="60,000 records")
            stop_and_read(a, QUIET)
            self.assert_lines(msgs(a), [str(i) for i in range(1, 60001)])
            logdir = os.path.dirname(self.d.inspect(cid)["LogPath"])
            self.assertGreater(len([n for n in os.listdir(logdir) if ".log." in n]), 5)

    def test_partial_line_across_rotation(self):
        """A 100 KB line (seven 16 KB pieces) in a log rotated every 40 KB."""
        with Agent(conf(self.d, self.prefix)) as a:
            a.start()
            self.run_ctr("p", "sleep 1; for i in 1 2 3; do head -c 100000 /dev/zero | tr '\\0' x; echo; "
                              "done; echo after; sleep 3600",
                         log_opts={"max-size": "40k", "max-file": "20"})
            a.wait_for(lambda: "after" in msgs(a), timeout=30, what="the last line")
            m = msgs(a)
            self.assertEqual([(len(x), set(x)) for x in m],
                             [(100000, {"x"})] * 3 + [(5, set("after"))])
            self.assertEqual(a.stop(), 0)

    def test_rotated_backlog_at_start_read_oldest_first(self):
        """Docker rotated the log 10+ times before the agent started: the
        files are found newest name first, read oldest first, and a line
        split over a rotation boundary is joined."""
        cid = self.run_ctr("o", "for i in 1 2 3; do head -c 50000 /dev/zero | tr '\\0' y; echo; "
                                "done; seq 1 5000", log_opts={"max-size": "30k", "max-file": "40"})
        self.wait_exited(cid)
        logdir = os.path.dirname(self.d.inspect(cid)["LogPath"])
        self.assertGreater(len([n for n in os.listdir(logdir) if ".log." in n]), 10)
        with Agent(conf(self.d, self.prefix, "read_from_head = true")) as a:
            a.start()
            a.wait_for(lambda: "5000" in msgs(a), timeout=60, what="the last line")
            stop_and_read(a, QUIET)
            m = msgs(a)
            self.assertEqual([(len(x), set(x)) for x in m[:3]], [(50000, {"y"})] * 3)
            self.assert_lines(m[3:], [str(i) for i in range(1, 5001)])

    def test_started_while_the_first_discovery_is_slow(self):
        """A container started after the agent, but before its first scan
        (held up here by an introspection endpoint that never answers), is
        new: read from its first line, not from its end."""
        import socket
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)  # accepts connections, never answers
        try:
            url = "http://127.0.0.1:%d" % hole.getsockname()[1]
            with Agent(conf(self.d, self.prefix, introspection=url)) as a:
                a.start()
                self.run_ctr("s", "seq 1 300; sleep 3600")
                a.wait_for(lambda: "300" in msgs(a), timeout=30, what="the last line")
                stop_and_read(a, QUIET)
                self.assert_lines(msgs(a), [str(i) for i in range(1, 301)])
        finally:
            hole.close()

    def test_parser_and_multiline_labels(self):
        """collector.parser=json|logfmt turns a line into fields (and takes
        its timestamp); collector.multiline.start joins a stack trace; an
        unknown parser keeps lines as they are and says so."""
        with Agent(conf(self.d, self.prefix, "multiline.label_regex = true")) as a:
            a.start()
            self.run_ctr("j", "echo '{\"level\":\"warn\",\"time\":\"2024-05-01T12:00:00.5Z\",\"n\":3}'; "
                              "echo 'not json'; sleep 3600", labels={"collector.parser": "json"})
            self.run_ctr("k", "echo 'level=info msg=\"hi there\" ts=1714564801'; sleep 3600",
                         labels={"collector.parser": "logfmt"})
            self.run_ctr("m", "printf 'Exception in main\\n  at a.b(C.java:1)\\n  at d.e(F.java:2)\\n"
                              "next line\\n'; sleep 3600",
                         labels={"collector.multiline.start": "^[^ ]"})
            self.run_ctr("u", "echo plain; sleep 3600", labels={"collector.parser": "xml"})
            # a regex that does not compile, a rule that does not exist: said, lines kept
            self.run_ctr("r", "printf 'a\\n b\\n'; sleep 3600",
                         labels={"collector.multiline.start": "(unclosed"})
            self.run_ctr("p", "printf 'c\\n d\\n'; sleep 3600",
                         labels={"collector.multiline.parser": "cobol"})
            a.wait_for(lambda: len(records(a)) >= 10, timeout=30, what="10 records")
            stop_and_read(a, QUIET)
            by = collections.defaultdict(list)
            for r in records(a):
                by[r["container_name"][len(self.prefix):]].append(r)
            j = by["j"]
            self.assertEqual([r["message"] for r in j],
                             ['{"level":"warn","time":"2024-05-01T12:00:00.5Z","n":3}', "not json"])
            self.assertEqual((j[0]["level"], j[0]["n"]), ("warn", "3"))
            self.assertEqual(j[0]["timestamp"], 1714564800500)
            self.assertNotIn("level", j[1])
            k = by["k"][0]
            self.assertEqual((k["level"], k["msg"], k["timestamp"]), ("info", "hi there", 1714564801000))
            self.assertEqual([r["message"] for r in by["m"]],
                             ["Exception in main\n  at a.b(C.java:1)\n  at d.e(F.java:2)", "next line"])
            self.assertEqual([r["message"] for r in by["u"]], ["plain"])
            self.assertEqual([r["message"] for r in by["r"]], ["a", " b"])
            self.assertEqual([r["message"] for r in by["p"]], ["c", " d"])
            err = a.stderr()
            self.assertIn("label collector.parser=xml: no such parser", err)
            self.assertIn("label collector.multiline.start:", err)
            self.assertIn("label collector.multiline.parser=cobol: no such rule", err)

    def test_started_and_removed_while_running(self):
        with Agent(conf(self.d, self.prefix)) as a:
            a.start()
            c1 = self.run_ctr("a", "seq 1 1000")
            a.wait_for(lambda: len(msgs(a, self.prefix + "a")) >= 1000, timeout=30)
            self.wait_exited(c1)
            self.d.remove(c1)
            self.cids.remove(c1)
            c2 = self.run_ctr("b", "seq 1001 2000; sleep 3600")
            a.wait_for(lambda: len(msgs(a, self.prefix + "b")) >= 1000, timeout=30)
            self.d.stop_container(c2)
            self.d.remove(c2)
            self.cids.remove(c2)
            time.sleep(QUIET)
            self.assertTrue(a.running())
            stop_and_read(a)
            self.assert_lines(msgs(a, self.prefix + "a"), [str(i) for i in range(1, 1001)])
            self.assert_lines(msgs(a, self.prefix + "b"), [str(i) for i in range(1001, 2001)])

    def test_agent_restarted_mid_stream(self):
        with Agent(conf(self.d, self.prefix)) as a:
            a.start()
            cid = self.run_ctr("m", "i=0; while [ $i -lt 3000 ]; do echo n$i; i=$((i+1)); "
                                    "usleep 1000; done; sleep 3600")
            a.wait_for(lambda: len(records(a)) >= 300, timeout=30)
            self.assertEqual(a.stop(), 0)
            time.sleep(1.5)
            a.start()
            a.wait_for(lambda: len(records(a)) >= 3000, timeout=60, what="3000 records")
            stop_and_read(a, QUIET)
            self.assert_lines(msgs(a), [f"n{i}" for i in range(3000)])
            self.assertTrue(cid)

    def test_filters_and_opt_out(self):
        extra = "exclude_name = *-skipped\nexclude_label = team=quiet"
        with Agent(conf(self.d, self.prefix, extra)) as a:
            a.start()
            self.run_ctr("optout", "echo no1; sleep 3600", labels={"collector.logs": "false"})
            self.run_ctr("x-skipped", "echo no2; sleep 3600")
            self.run_ctr("quiet", "echo no3; sleep 3600", labels={"team": "quiet"})
            self.run_ctr("pause", "echo no4; sleep 3600",
                         labels={"com.amazonaws.ecs.container-name": "~internal~ecs~pause",
                                 "com.amazonaws.ecs.cluster": "c"})
            self.run_ctr("kept", "echo yes; sleep 3600", labels={"team": "loud"})
            a.wait_for(lambda: "yes" in msgs(a), timeout=30)
            stop_and_read(a, QUIET)
            self.assertEqual(msgs(a), ["yes"])

    def test_dockerd_restarted(self):
        with Agent(conf(self.d, self.prefix)) as a:
            a.start()
            self.run_ctr("before", "seq 1 100; sleep 3600")
            a.wait_for(lambda: len(msgs(a)) >= 100, timeout=30)
            self.d.restart()  # returns once the daemon answers again
            self.run_ctr("after", "seq 101 200; sleep 3600")
            a.wait_for(lambda: len(msgs(a)) >= 200, timeout=60, what="200 records")
            stop_and_read(a, QUIET)
            self.assert_lines(msgs(a), [str(i) for i in range(1, 201)], ordered=False)


@unittest.skipIf(REASON, REASON or "")
class EcsNames(unittest.TestCase):
    """The shipped 81-cloudwatch-containers.conf templates, in the fake CloudWatch."""

    def test_group_and_stream_names(self):
        d = dockerd.shared()
        d.ensure_image()
        prefix = "e" + uuid.uuid4().hex[:8] + "-"
        task = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef"
        with FakeAWS() as aws:
            aws.introspection(
                metadata={"Cluster": "prod", "ContainerInstanceArn":
                          "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ci42",
                          "Version": "Amazon ECS Agent - v1.80.0"},
                tasks={"Tasks": [{"Arn": task, "Family": "webapp", "Version": "7",
                                  "KnownStatus": "RUNNING", "DesiredStatus": "RUNNING",
                                  "Containers": []}]})
            with open(os.path.join(ROOT, "conf.d", "81-cloudwatch-containers.conf")) as f:
                outputs = f.read()
            text = conf(d, prefix, introspection=aws.url).split("[output out]")[0]
            text += outputs + """
[output out]
type = file
match = *
path = {out_dir}
flush_interval = 200ms
"""
            env = {"AWS_ENDPOINT_URL": aws.url, "AWS_ACCESS_KEY_ID": "AKIDTEST",
                   "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
                   "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                   "AWS_CONFIG_FILE": "/nonexistent"}
            cids = []
            try:
                with Agent(text, env=env) as a:
                    a.start()
                    # family and revision come from introspection, not labels
                    cids.append(d.run(name=prefix + "web", cmd=["sh", "-c", "echo ecs-line; sleep 3600"],
                                      labels={"com.amazonaws.ecs.task-arn": task,
                                              "com.amazonaws.ecs.container-name": "web"}))
                    cids.append(d.run(name=prefix + "plain", cmd=["sh", "-c", "echo plain-line; sleep 3600"]))

                    def streams():
                        out = {}
                        for g, v in aws.state()["log_groups"].items():
                            for s, sv in v["streams"].items():
                                out[(g, s)] = [e["message"] for e in sv["events"]]
                        return out
                    want = {("/ecs/webapp", "web/0123456789abcdef"): ["ecs-line"],
                            (f"/ecs/docker/{prefix}plain", cids[1]): ["plain-line"]}
                    try:
                        a.wait_for(lambda: all(streams().get(k) == v for k, v in want.items()),
                                   timeout=30, what="both streams")
                    except AssertionError:
                        print(streams(), read_file_output(a.out_dir))
                        raise
                    recs = {r["message"]: r for r in read_file_output(a.out_dir)}
                    self.assertEqual(recs["ecs-line"]["cluster"], "prod")
                    self.assertEqual(recs["ecs-line"]["container_instance_id"], "ci42")
                    self.assertEqual(recs["ecs-line"]["task_revision"], "7")
                    self.assertEqual(recs["ecs-line"]["tag"], "container.ecs")
                    self.assertEqual(recs["plain-line"]["tag"], "container.docker")
                    self.assertEqual(a.stop(), 0)
            finally:
                for cid in cids:
                    d.docker("rm", "-f", cid, check=False)


def local_conf(socket, root):
    """The containers input over a docker_root the test writes itself."""
    return f"""
[agent]
data_dir = {{data_dir}}
http_listen = {{tmp}}/status.sock
shutdown_timeout = 20s

[input c]
type = containers
docker_socket = {socket}
docker_root = {root}
refresh_interval = 1s
rotate_wait = 2s

[output out]
type = file
match = *
path = {{out_dir}}
flush_interval = 200ms
rotate_size = 4GiB
"""


class WithoutTheSocket(unittest.TestCase):
    """No Docker API (docker_socket = ""): containers are found from
    <docker_root>/containers/<id>/config.v2.json. The files are written here
    exactly as Docker's json-file driver writes and rotates them, so these
    cases need no dockerd."""

    def setUp(self):
        self.agent = Agent(local_conf("", "{tmp}/docker"))
        self.addCleanup(self.agent.cleanup)

    def container(self, name, labels=None):
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        cdir = os.path.join(self.agent.tmp, "docker", "containers", cid)
        os.makedirs(cdir)
        started = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
        with open(os.path.join(cdir, "config.v2.json"), "w") as f:
            json.dump({"ID": cid, "Name": "/" + name, "State": {"StartedAt": started},
                       "Config": {"Image": "busybox", "Labels": labels or {}}}, f)
        return cid, os.path.join(cdir, cid + "-json.log")

    @staticmethod
    def docker_line(text, stream="stdout"):
        t = time.time_ns()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 10**9)) + f".{t % 10**9:09d}Z"
        return json.dumps({"log": text + "\n", "stream": stream, "time": stamp}) + "\n"

    def test_burst_of_docker_rotations_stays_in_order(self):
        """Docker's rotation (.log.N-1 -> .log.N ... .log -> .log.1, then a
        new .log) every 20 lines, 500 times as fast as Python goes (the
        inotify queue can overflow). Files are created and renamed away between
        two batches of events, a rescan stats a name after the file it saw
        has moved on, and a backlog of hundreds of rotated files waits: every
        line arrives once and in order. (Before the fixes of this test's
        commit: lines out of order in most runs, a file read twice in some.)"""
        a = self.agent
        cid, log = self.container("fast-rotator")
        open(log, "w").close()
        a.start()
        a.wait_for(lambda: "following 1 files" in a.stderr() or "following 0 files" in a.stderr(),
                   what="the first scan")
        want, files = [], 1
        f = open(log, "a")
        for i in range(10000):
            if i and i % 20 == 0:
                f.close()
                for age in range(files - 1, 0, -1):
                    os.rename(f"{log}.{age}", f"{log}.{age + 1}")
                os.rename(log, log + ".1")
                files += 1
                f = open(log, "a")
            f.write(self.docker_line(str(i)))
            f.flush()
            want.append(str(i))
        f.close()
        got = []

        def done():
            got[:] = [r["message"] for r in read_file_output(a.out_dir) if "message" in r]
            return len(got) >= len(want)
        a.wait_for(done, timeout=60, what=f"{len(want)} records")
        got = stop_and_read(a, QUIET)
        assert_exactly_once(got, want, ordered=True)


class ScriptedDockerAPI:
    """A Docker Engine API on a unix socket that the test scripts: one
    container, whose inspect document the test edits, and GET /events held
    open until the test pushes events or ends the stream. It records every
    request line."""

    def __init__(self, path, cid, name):
        import socketserver
        import http.server
        import threading
        self.cid, self.name, self.requests = cid, name, []
        self.fail_events = 0  # answer this many GET /events with a 500
        self.streams, self.lock = [], threading.Lock()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection does

            def log_message(self, *args):
                pass

            def do_GET(self):
                with api.lock:
                    api.requests.append(self.path)
                if self.path.startswith("/events") and api.fail_events > 0:
                    api.fail_events -= 1
                    data = b'{"message":"scripted failure"}'
                    self.send_response(500)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if self.path.startswith("/events"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.flush()
                    q = []
                    with api.lock:
                        api.streams.append(q)
                    while q is not None:
                        with api.lock:
                            items, q[:] = list(q), []
                            if None in items:
                                api.streams.remove(q)
                        for it in items:
                            if it is None:
                                return
                            self.wfile.write(it)
                            self.wfile.flush()
                        time.sleep(0.02)
                    return
                if self.path.startswith("/containers/json"):
                    body = [{"Id": api.cid, "Names": ["/" + api.name]}]
                elif self.path.startswith(f"/containers/{api.cid}/json"):
                    body = {"Id": api.cid, "Name": "/" + api.name,
                            "Config": {"Image": "busybox", "Labels": {}},
                            "State": {"Running": True, "StartedAt": api.started}}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def get_request(self):
                conn, _ = self.socket.accept()
                return conn, ("local", 0)

        self.started = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
        self.server = Server(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def event(self, action):
        ev = {"Type": "container", "Action": action, "Actor": {"ID": self.cid, "Attributes": {}},
              "time": int(time.time()), "timeNano": time.time_ns()}
        self.raw(json.dumps(ev).encode() + b"\n")

    def raw(self, data):
        with self.lock:
            for q in self.streams:
                q.append(data)

    def end_streams(self):
        with self.lock:
            for q in self.streams:
                q.append(None)

    def count(self, prefix):
        with self.lock:
            return len([r for r in self.requests if r.startswith(prefix)])

    def close(self):
        self.end_streams()
        self.server.shutdown()
        self.server.server_close()


class EventStream(unittest.TestCase):
    """The Docker events stream is held open (one GET /events while nothing
    goes wrong), its events are acted on, and when it ends (dockerd
    restarted) the agent relists and opens a new one. Against a scripted
    Docker API, so that the requests can be counted."""

    def test_held_open_acted_on_and_reopened(self):
        tmp = tempfile.mkdtemp(prefix="collector-events-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cid = uuid.uuid4().hex + uuid.uuid4().hex
        api = ScriptedDockerAPI(os.path.join(tmp, "docker.sock"), cid, "before")
        self.addCleanup(api.close)
        cdir = os.path.join(tmp, "docker", "containers", cid)
        os.makedirs(cdir)
        log = os.path.join(cdir, cid + "-json.log")
        open(log, "w").close()
        a = Agent(local_conf(f"{tmp}/docker.sock", f"{tmp}/docker"))
        self.addCleanup(a.cleanup)
        a.start()
        a.wait_for(lambda: api.count("/events") == 1, timeout=30, what="GET /events")

        def write(text):
            with open(log, "a") as f:
                f.write(WithoutTheSocket.docker_line(text))

        def names():
            return [(r.get("message"), r.get("container_name")) for r in records(a)]
        def renamed_line(text, name):
            """Lines written from now on carry the new name once the event
            was acted on (the lines read before keep the old one)."""
            for k in range(150):
                write(f"{text}-{k}")
                time.sleep(0.2)
                if any(m and m.startswith(text + "-") and n == name for m, n in names()):
                    return True
            return False

        write("one")
        a.wait_for(lambda: ("one", "before") in names(), timeout=30, what="line one")
        time.sleep(2)  # a poller would have asked several times by now
        self.assertEqual(api.count("/events"), 1, api.requests)

        # Garbage on the stream (binary, a cut object, an event of another
        # type) is skipped; a rename that follows it over the same stream
        # is acted on.
        api.raw(b"\x00\xff not json\n" + b'{"Type": "container", "Action": "st\n' +
                b'{"Type": "network", "Action": "connect", "Actor": {"ID": "x"}}\n')
        api.name = "after"
        api.event("rename")
        a.wait_for(lambda: api.count(f"/containers/{cid}/json") >= 2, timeout=30,
                   what="the inspect that follows the rename event")
        self.assertTrue(renamed_line("two", "after"))
        self.assertEqual(api.count("/events"), 1, api.requests)

        # The stream ends (dockerd restarting) and the next ask is answered
        # with an error: said, retried; relist, then a new stream that
        # starts a little before the relist.
        lists = api.count("/containers/json")
        api.fail_events = 1
        api.end_streams()
        a.wait_for(lambda: api.count("/events") == 3, timeout=30, what="a third GET /events")
        self.assertIn("status 500", a.stderr())
        self.assertGreater(api.count("/containers/json"), lists)
        self.assertIn("since=", [r for r in api.requests if r.startswith("/events")][-1])
        self.assertIn("Docker events stream ended", a.stderr())
        api.name = "again"
        api.event("rename")
        self.assertTrue(renamed_line("three", "again"))
        t = time.time()
        self.assertEqual(a.stop(), 0)
        print(f"\n  agent stopped in {time.time() - t:.2f}s with the stream open")


if __name__ == "__main__":
    unittest.main()
