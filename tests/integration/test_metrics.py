"""Container, task, service and host metrics end to end: the real binary's
container_metrics and host_metrics inputs, the cloudwatch_metrics output
(PutMetricData) and EMF through the cloudwatch_logs output, against the
strict fake AWS endpoint (tests/fakes/fake_aws.py).

Two sources of containers:
  - FixtureTests: a fake Docker Engine API on a unix socket (this file)
    whose containers' pids point into a synthetic cgroup v2 / procfs tree
    (tests/data/cgroup/gen_fixtures.py), with ECS labels; the fake's ECS
    introspection API gives ServiceName and task limits. Exact figures.
  - RealDockerTests: a real dockerd (tests/integration/dockerd.py) with a
    container burning CPU (--cpus 0.5) and one holding ~40 MiB; the agent's
    figures must agree with the Docker API's stats for the same containers:
    CPU % within 10 percentage points (separate ~1 s samples of a load capped
    at 50 %), memory % within 1 point, memory used within 2 MiB. Skipped
    (with the reason) when not root or Docker is missing.

Run from the repository root:
    python3 -m unittest tests.integration.test_metrics
Every process is stopped by pid; traffic goes only to 127.0.0.1 and unix sockets.
"""
import http.client
import http.server
import json
import os
import shutil
import socket
import socketserver
import sys
import tempfile
import threading
import time
import unittest

from tests.fakes.fake_aws_ctl import FakeAWS
from tests.integration.harness import Agent, read_file_output, run_cli
from tests.integration import dockerd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "data", "cgroup"))
import gen_fixtures  # noqa: E402

AKID, SECRET = "AKIDTEST", "secret"
NS = "Collector/ECS"  # the agent's own namespace by default
CLUSTER = "prod"
CI_ID = "ci-0123"
MiB = 1024 * 1024

CI_UNITS = {"CpuUtilized": "None", "CpuReserved": "None", "MemoryUtilized": "Megabytes",
            "MemoryReserved": "Megabytes", "NetworkRxBytes": "Bytes/Second",
            "NetworkTxBytes": "Bytes/Second", "StorageReadBytes": "Bytes",
            "StorageWriteBytes": "Bytes", "RunningTaskCount": "Count"}


def aws_env(aws, **extra):
    env = {"AWS_ENDPOINT_URL": aws.url, "AWS_ACCESS_KEY_ID": AKID,
           "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
           "AWS_EC2_METADATA_DISABLED": "true"}
    env.update(extra)
    return env


def task_arn(n):
    return f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/task{n}"


def labels(task, family, name):
    return {"com.amazonaws.ecs.cluster": CLUSTER, "com.amazonaws.ecs.task-arn": task_arn(task),
            "com.amazonaws.ecs.task-definition-family": family,
            "com.amazonaws.ecs.task-definition-version": "7",
            "com.amazonaws.ecs.container-name": name}


def introspection_docs(tasks):
    meta = {"Cluster": CLUSTER,
            "ContainerInstanceArn": f"arn:aws:ecs:us-east-1:123456789012:container-instance/"
                                    f"{CLUSTER}/{CI_ID}",
            "Version": "Amazon ECS Agent - v1.80.0"}
    return meta, {"Tasks": tasks}


# ------------------------------------------------------------------ fake Docker


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FakeDocker:
    """GET /containers/json and /containers/<id>/json over a unix socket."""

    def __init__(self, path, containers):
        self.path = path
        self.containers = containers  # id -> inspect document
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                p = self.path.split("?")[0]
                if p.startswith("/v1."):
                    p = "/" + p.split("/", 2)[2]
                if p == "/containers/json":
                    body = [{"Id": cid, "Names": [doc["Name"]], "Labels":
                             doc["Config"]["Labels"], "State": "running"}
                            for cid, doc in fake.containers.items()]
                    return self.reply(200, body)
                parts = p.split("/")
                if len(parts) == 4 and parts[1] == "containers" and parts[3] == "json" \
                        and parts[2] in fake.containers:
                    return self.reply(200, fake.containers[parts[2]])
                return self.reply(404, {"message": "no such container"})

            def reply(self, status, doc):
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = _UnixHTTPServer(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def inspect_doc(cid, pid, name, lab, shares=0, memory=0, reservation=0):
    return {"Id": cid, "Name": "/" + name, "State": {"Running": True, "Pid": pid},
            "Config": {"Image": "busybox", "Labels": lab},
            "HostConfig": {"CpuShares": shares, "NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0,
                           "Memory": memory, "MemoryReservation": reservation}}


def datums(aws, **filters):
    """Stored datums matching name=, dims= (a dict, exact set)."""
    out = []
    for m in aws.state()["metrics"]:
        if "name" in filters and m["MetricName"] != filters["name"]:
            continue
        dims = {d["Name"]: d["Value"] for d in m.get("Dimensions", [])}
        if "dims" in filters and dims != filters["dims"]:
            continue
        out.append(m)
    return out


def value_of(m):
    if "Value" in m:
        return m["Value"]
    if "StatisticValues" in m:
        sv = m["StatisticValues"]
        return sv["Sum"] / sv["SampleCount"]
    return sum(v * c for v, c in zip(m["Values"], m.get("Counts", [1] * len(m["Values"])))) \
        / sum(m.get("Counts", [1] * len(m["Values"])))


def emf_events(aws):
    group = aws.state()["log_groups"].get(f"/aws/ecs/containerinsights/{CLUSTER}/performance")
    if not group:
        return []
    stream = group["streams"].get(f"AgentTelemetry-{CI_ID}")
    return [json.loads(e["message"]) for e in stream["events"]] if stream else []


OUTPUTS = """
[output cw]
type = cloudwatch_metrics
match = metrics.*
flush_interval = 300ms
{extra_cwm}

[output emf]
type = cloudwatch_logs
match = emf.*
emf = true
log_group = /aws/ecs/containerinsights/{{cluster}}/performance
log_stream = AgentTelemetry-{{container_instance_id}}
flush_interval = 300ms
"""


class FixtureTests(unittest.TestCase):
    """Fake Docker API + synthetic cgroup v2 tree + fake ECS introspection."""

    layout = "v2-systemd"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-metrics-")
        self.tree = os.path.join(self.tmp, "tree")
        gen_fixtures.make_tree(self.tree, self.layout, 3)
        ids = [gen_fixtures.cid(i) for i in range(3)]
        self.ids = ids
        containers = {
            ids[0]: inspect_doc(ids[0], 1000, "web-a", labels(1, "web", "app")),
            ids[1]: inspect_doc(ids[1], 1001, "web-b", labels(2, "web", "app"), shares=512,
                                reservation=128 * MiB),
            ids[2]: inspect_doc(ids[2], 1002, "batch", labels(3, "batch", "job"), shares=1024,
                                memory=256 * MiB),
        }
        self.sock = os.path.join(self.tmp, "docker.sock")
        self.docker = FakeDocker(self.sock, containers).__enter__()
        self.aws = FakeAWS().__enter__()
        meta, tasks = introspection_docs([
            {"Arn": task_arn(1), "Family": "web", "Version": "7", "ServiceName": "websvc",
             "Limits": {"CPU": 0.25, "Memory": 512}, "Containers": [{"DockerId": ids[0]}]},
            {"Arn": task_arn(2), "Family": "web", "Version": "7", "Group": "service:websvc",
             "Containers": [{"DockerId": ids[1]}]},
            {"Arn": task_arn(3), "Family": "batch", "Version": "7", "Group": "family:batch",
             "Containers": [{"DockerId": ids[2]}]},
        ])
        self.aws.introspection(metadata=meta, tasks=tasks)
        self.stop_burn = threading.Event()
        self.burner = threading.Thread(target=self.burn, daemon=True)
        self.burner.start()

    def tearDown(self):
        self.stop_burn.set()
        self.burner.join(5)
        self.aws.__exit__(None, None, None)
        self.docker.__exit__(None, None, None)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def burn(self):
        """Container 0 uses one CPU: its cpu.stat usage (cpuacct.usage under
        cgroup v1) grows in real time."""
        rel = gen_fixtures.rel_path(self.layout, 0).lstrip("/")
        v1 = self.layout.startswith("v1")
        path = (os.path.join(self.tree, "sys/fs/cgroup/cpu,cpuacct", rel, "cpuacct.usage") if v1
                else os.path.join(self.tree, "sys/fs/cgroup", rel, "cpu.stat"))
        base = 5_000_000
        start = time.monotonic()
        while not self.stop_burn.wait(0.05):
            usec = base + int((time.monotonic() - start) * 1e6)
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                if v1:
                    f.write(f"{usec * 1000}\n")
                else:
                    f.write(f"usage_usec {usec}\nuser_usec {usec}\nsystem_usec 0\nnr_periods 0\n"
                            "nr_throttled 0\nthrottled_usec 0\n")
            os.rename(tmp, path)

    def config(self, extra_cwm="", levels="cluster service family task", cluster=None,
               host=True):
        text = f"""
[agent]
data_dir = {{data_dir}}
hostname = testhost
retry_base_delay = 10ms
retry_max_backoff = 50ms

[input containers]
type = container_metrics
interval = 1s
docker_socket = {self.sock}
proc_root = {self.tree}/proc
cgroup_root = {self.tree}/sys/fs/cgroup
introspection_url = {self.aws.url}
levels = {levels}
emf = true
{"cluster = " + cluster if cluster else ""}
"""
        if host:
            text += f"""
[input host]
type = host_metrics
interval = 1s
docker_socket = {self.sock}
introspection_url = {self.aws.url}
emf = true
"""
        return text + OUTPUTS.format(extra_cwm=extra_cwm)

    def run_agent(self, text, until, timeout=20):
        with Agent(text, env=aws_env(self.aws)) as agent:
            agent.start()
            agent.wait_for(until, timeout=timeout, interval=0.3, what="metrics at the fake")
            self.assertEqual(agent.stop(), 0, agent.stderr()[-3000:])
            return agent.stderr()

    def test_put_metric_data_and_emf(self):
        def ready():
            # a CPU rate needs two samples, and the first interval with a rate may
            # have started before the fixture's burner did: wait for two rates
            cpu1 = datums(self.aws, name="CpuUtilized",
                          dims={"ClusterName": CLUSTER, "TaskDefinitionFamily": "web",
                                "TaskId": "task1"})
            return (sum(value_of(m) > 0 for m in cpu1) >= 2
                    and any(e.get("Type") == "Instance" for e in emf_events(self.aws))
                    and datums(self.aws, name="instance_cpu_utilization"))
        self.run_agent(self.config(), ready)
        st = self.aws.state()["metrics"]
        self.assertTrue(st)
        for m in st:
            self.assertEqual(m["Namespace"], NS)
            self.assertEqual(m["protocol"], "json")
            if m["MetricName"] in CI_UNITS:
                self.assertEqual(m["Unit"], CI_UNITS[m["MetricName"]], m)
        names = {m["MetricName"] for m in st}
        self.assertLessEqual(set(CI_UNITS), names)
        sets = {tuple(sorted(d["Name"] for d in m.get("Dimensions", []))) for m in st
                if m["MetricName"] == "CpuUtilized"}
        self.assertEqual(sets, {("ClusterName",), ("ClusterName", "ServiceName"),
                                ("ClusterName", "TaskDefinitionFamily"),
                                ("ClusterName", "TaskDefinitionFamily", "TaskId")})
        c = {"ClusterName": CLUSTER}
        svc = dict(c, ServiceName="websvc")
        web = dict(c, TaskDefinitionFamily="web")
        batch = dict(c, TaskDefinitionFamily="batch")
        # aggregation: tasks 1 and 2 are service websvc (ServiceName / group), family web
        self.assertEqual(value_of(datums(self.aws, name="RunningTaskCount", dims=svc)[-1]), 2)
        self.assertEqual(value_of(datums(self.aws, name="RunningTaskCount", dims=web)[-1]), 2)
        self.assertEqual(value_of(datums(self.aws, name="RunningTaskCount", dims=batch)[-1]), 1)
        self.assertEqual(value_of(datums(self.aws, name="RunningTaskCount", dims=c)[-1]), 3)
        self.assertFalse(datums(self.aws, name="RunningTaskCount",
                                dims=dict(c, ServiceName="batch")))
        # working set 100 MiB - 10 MiB inactive file per container
        self.assertAlmostEqual(value_of(datums(self.aws, name="MemoryUtilized", dims=web)[-1]),
                               180)
        self.assertAlmostEqual(value_of(datums(self.aws, name="MemoryUtilized", dims=c)[-1]), 270)
        # reservations: task 1 limits from ECS metadata (0.25 vCPU, 512 MiB), task 2 its
        # container's CpuShares / MemoryReservation, task 3 shares / hard limit
        self.assertAlmostEqual(value_of(datums(self.aws, name="CpuReserved", dims=web)[-1]),
                               256 + 512)
        self.assertAlmostEqual(value_of(datums(self.aws, name="MemoryReserved", dims=web)[-1]),
                               512 + 128)
        self.assertAlmostEqual(value_of(datums(self.aws, name="CpuReserved", dims=c)[-1]),
                               256 + 512 + 1024)
        # task 1 burns one CPU (1024 units); the others are idle
        cpu1 = [value_of(m) for m in datums(
            self.aws, name="CpuUtilized", dims=dict(web, TaskId="task1"))]
        self.assertTrue(any(600 < v < 1500 for v in cpu1), cpu1)
        # instance metrics, both Container Insights sets, container instance from ECS
        inst = {tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))
                for m in datums(self.aws, name="instance_memory_utilization")}
        self.assertIn((("ClusterName", CLUSTER),), inst)
        self.assertIn((("ClusterName", CLUSTER), ("ContainerInstanceId", CI_ID),
                       ("InstanceId", "testhost")), inst)
        tasks = datums(self.aws, name="instance_number_of_running_tasks", dims=c)
        self.assertEqual(value_of(tasks[-1]), 3)
        # EMF through cloudwatch_logs: group/stream from meta, header, shape
        evs = emf_events(self.aws)
        types = {e["Type"] for e in evs}
        self.assertLessEqual({"Task", "Container", "Instance"}, types)
        task = next(e for e in evs if e["Type"] == "Task" and e["TaskId"] == "task1")
        self.assertEqual(task["ServiceName"], "websvc")
        self.assertEqual(task["ContainerInstanceId"], CI_ID)
        directive = task["_aws"]["CloudWatchMetrics"][0]
        self.assertEqual(directive["Namespace"], NS)
        self.assertIn(["ClusterName", "ServiceName"], directive["Dimensions"])
        self.assertEqual({m["Name"]: m.get("Unit") for m in directive["Metrics"]},
                         {k: v for k, v in CI_UNITS.items() if k != "RunningTaskCount"})
        for m in directive["Metrics"]:
            self.assertIsInstance(task[m["Name"]], (int, float))
        ctr = next(e for e in evs if e["Type"] == "Container" and e["TaskId"] == "task3")
        self.assertEqual(ctr["ContainerName"], "job")
        self.assertEqual(ctr["MemoryUtilized"], 90)
        self.assertNotIn("CloudWatchMetrics", ctr["_aws"] if "_aws" in ctr else {})
        puts = [r for r in self.aws.requests() if r["operation"] == "PutLogEvents"]
        self.assertTrue(puts)
        self.assertTrue(all(r["headers"].get("x-amzn-logs-format") == "json/emf" for r in puts))
        pmd = [r for r in self.aws.requests() if r["operation"] == "PutMetricData"]
        self.assertTrue(all(r["status"] == 200 for r in pmd), [r["error_code"] for r in pmd])

    def test_query_protocol_values_and_dimension_sets(self):
        extra = "protocol = query\nfold = values\ndimension_sets = ClusterName " \
                "ClusterName+ServiceName"
        self.run_agent(self.config(extra_cwm=extra, host=False),
                       lambda: datums(self.aws, name="RunningTaskCount",
                                      dims={"ClusterName": CLUSTER, "ServiceName": "websvc"}))
        st = self.aws.state()["metrics"]
        self.assertTrue(all(m["protocol"] == "query" for m in st))
        sets = {tuple(sorted(d["Name"] for d in m.get("Dimensions", []))) for m in st}
        self.assertEqual(sets, {("ClusterName",), ("ClusterName", "ServiceName")})

    def test_invalid_datums_dropped_not_sent(self):
        # a non-ASCII cluster name: every container datum is invalid for PutMetricData
        err = self.run_agent(self.config(cluster="caf\u00e9", host=False),
                             lambda: emf_events_any(self.aws), timeout=20)
        self.assertIn("invalid dimension value", err)
        self.assertEqual(self.aws.state()["metrics"], [])
        bad = [r for r in self.aws.requests() if r["operation"] == "PutMetricData"]
        self.assertEqual(bad, [])

    def test_gzip_large_calls(self):
        # many containers' worth of datums in one call: >= 10 KiB bodies are gzipped
        self.run_agent(self.config(levels="cluster service family task container", host=True),
                       lambda: len(self.aws.state()["metrics"]) > 150)
        pmd = [r for r in self.aws.requests() if r["operation"] == "PutMetricData"]
        self.assertTrue(pmd)
        for r in pmd:
            self.assertEqual(r["status"], 200)
            if r["gzip"]:
                self.assertEqual(r["headers"].get("content-encoding"), "gzip")
                # compressed on the wire; the JSON it carries is 10 KiB or more
                self.assertGreaterEqual(len(json.dumps(r["json"], separators=(",", ":"))),
                                        10240 * 0.9)
            else:
                self.assertLess(r["body_bytes"], 10240, "a body of 10 KiB or more was not gzipped")
        self.assertTrue(any(r["gzip"] for r in pmd), "no call reached 10 KiB")

    def test_dashboard(self):
        with Agent(self.config(extra_cwm="namespace = My/NS")) as agent:
            res = run_cli(["dashboard", "-c", agent.conf_dir, "--cluster", "prod"],
                          env={"AWS_REGION": "eu-west-1"})
        self.assertEqual(res.returncode, 0, res.stderr)
        body = json.loads(res.stdout)
        widgets = body["widgets"]
        self.assertGreaterEqual(len(widgets), 10)
        text = json.dumps(body)
        for name in ("CpuUtilized", "CpuReserved", "MemoryUtilized", "MemoryReserved",
                     "RunningTaskCount", "instance_cpu_utilization", "ServiceName",
                     "TaskDefinitionFamily"):
            self.assertIn(name, text)
        for w in widgets:
            self.assertEqual(w["properties"]["region"], "eu-west-1")
            self.assertIn(w["properties"]["stat"], ("Sum", "Average", "Maximum"))
        self.assertIn("My/NS", text)
        self.assertNotIn(NS, text)


def emf_events_any(aws):
    return any(g.startswith("/aws/ecs/containerinsights/")
               for g in aws.state()["log_groups"])


# ------------------------------------------------------------------ real Docker


def docker_api(sock, path):
    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(30)
            self.sock.connect(sock)
    c = Conn("localhost")
    c.request("GET", path)
    r = c.getresponse()
    data = r.read()
    c.close()
    return json.loads(data)


def api_mem_used(stats):
    mem = stats["memory_stats"]
    s = mem.get("stats", {})
    usage = mem["usage"]
    if "total_inactive_file" in s and s["total_inactive_file"] < usage:
        return usage - s["total_inactive_file"]
    if s.get("inactive_file", 0) < usage:
        return usage - s.get("inactive_file", 0)
    return usage


def api_cpu_percent_between(a, b):
    """Docker's CPU % of a container between two one-shot stats."""
    dc = b["cpu_stats"]["cpu_usage"]["total_usage"] - a["cpu_stats"]["cpu_usage"]["total_usage"]
    ds = b["cpu_stats"]["system_cpu_usage"] - a["cpu_stats"]["system_cpu_usage"]
    n = b["cpu_stats"].get("online_cpus") or len(b["cpu_stats"]["cpu_usage"].get("percpu_usage") or [])
    return dc / ds * n * 100.0 if dc > 0 and ds > 0 else 0.0


def stats_read_ms(stats):
    import datetime
    base, _, frac = stats["read"].rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t.timestamp() * 1000 + int((frac + "000")[:3])


@unittest.skipIf(dockerd.skip_reason(), dockerd.skip_reason() or "")
class CgroupV1FixtureTests(FixtureTests):
    """The same, end to end, over a cgroup v1 tree (cpu and cpuacct co-mounted,
    /docker/<id>): hosts still on cgroup v1 (Amazon Linux 2 ECS AMIs)."""

    layout = "v1-cgroupfs"


class HostDevices(unittest.TestCase):
    """host_metrics' filesystems, disks and network interfaces from a fixture
    procfs whose counters grow at known rates: per device (MountPath, Device,
    InterfaceName) with per_device = true, only the instance totals without."""

    DISK_READ_BPS = 1 << 20      # sectors of 512 bytes
    DISK_WRITE_BPS = 2 << 20
    NET_RX_BPS, NET_TX_BPS = 10000, 20000

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-host-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.proc = os.path.join(self.tmp, "proc")
        gen_fixtures.host_files(self.tmp)
        os.makedirs(os.path.join(self.proc, "1", "net"))
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        with open(os.path.join(self.proc, "1", "mounts"), "w") as f:
            f.write(f"tmpfs {self.mnt} tmpfs rw,nosuid 0 0\n"
                    "proc /proc proc rw 0 0\n")  # a type not in `filesystems`: left out
        self.halt = threading.Event()
        self.started = time.monotonic()
        self.tick()  # every file exists before the agent's first sample
        self.counters = threading.Thread(target=self.count, daemon=True)
        self.counters.start()
        self.addCleanup(self.counters.join, 5)
        self.addCleanup(self.halt.set)

    def write(self, rel, text):
        path = os.path.join(self.proc, rel)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)

    def count(self):
        while not self.halt.wait(0.05):
            self.tick()

    def tick(self):
        """Counters as they stand now (they grow at the class's rates)."""
        t = time.monotonic() - self.started
        rs, ws = int(t * self.DISK_READ_BPS / 512), int(t * self.DISK_WRITE_BPS / 512)
        self.write("diskstats", f"   8       0 sda {100 + int(t * 10)} 0 {2000 + rs} 10 "
                                f"{200 + int(t * 20)} 0 {4000 + ws} 20 0 30 40 0 0 0 0\n")
        rx, tx = int(t * self.NET_RX_BPS), int(t * self.NET_TX_BPS)
        self.write("1/net/dev",
                   "Inter-|   Receive                                                |  Transmit\n"
                   " face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
                   "packets errs drop fifo colls carrier compressed\n"
                   "    lo: 999999 9 0 0 0 0 0 0 999999 9 0 0 0 0 0 0\n"
                   f"  eth0: {5000 + rx} 10 0 0 0 0 0 0 {7000 + tx} 20 0 0 0 0 0 0\n")

    def run_agent(self, per_device):
        text = f"""
        [agent]
        data_dir = {{data_dir}}
        http_listen = off
        [input host]
        type = host_metrics
        interval = 1s
        proc_root = {self.proc}
        docker_socket =
        introspection_url =
        filesystems = tmpfs
        per_device = {per_device}
        [output out]
        type = file
        match = *
        path = {{out_dir}}
        flush_interval = 100ms
        """
        with Agent(text) as a:
            a.start()
            a.wait_for(lambda: sum(r.get("metric") == "instance_network_rx_bytes"
                                   for r in read_file_output(a.out_dir)) >= 3,
                       timeout=30, what="three samples with rates")
            self.assertEqual(a.stop(), 0)
            return read_file_output(a.out_dir)

    @staticmethod
    def values(recs, metric, **dims):
        """One value per sample (by timestamp) of a metric with these dimensions
        (none of the per-device ones when none are given)."""
        by_time = {}
        for r in recs:
            if (r.get("metric") == metric
                    and all(r["dimensions"].get(k) == v for k, v in dims.items())
                    and (dims or not set(r["dimensions"]) & {"Device", "InterfaceName",
                                                             "MountPath"})):
                by_time[r["timestamp"]] = r["value"]
        return [by_time[t] for t in sorted(by_time)]

    def assertRate(self, got, want, what):
        self.assertTrue(got, what)
        # the first rate may span the counters' start: the later ones are checked
        for v in got[1:]:
            self.assertAlmostEqual(v, want, delta=want * 0.3, msg=f"{what}: {got}")

    def test_per_device(self):
        recs = self.run_agent("true")
        self.assertRate(self.values(recs, "instance_diskio_read_bytes", Device="sda"),
                        self.DISK_READ_BPS, "sda read bytes/s")
        self.assertRate(self.values(recs, "instance_diskio_write_bytes", Device="sda"),
                        self.DISK_WRITE_BPS, "sda write bytes/s")
        self.assertRate(self.values(recs, "instance_interface_network_rx_bytes",
                                    InterfaceName="eth0"), self.NET_RX_BPS, "eth0 rx")
        self.assertRate(self.values(recs, "instance_interface_network_tx_bytes",
                                    InterfaceName="eth0"), self.NET_TX_BPS, "eth0 tx")
        self.assertFalse(self.values(recs, "instance_interface_network_rx_bytes",
                                     InterfaceName="lo"), "loopback is not an interface metric")
        self.assertRate(self.values(recs, "instance_network_rx_bytes"), self.NET_RX_BPS,
                        "instance rx total (lo left out)")
        st = os.statvfs(self.mnt)
        # as df's Use%: used / (used + available to unprivileged users)
        used_blocks = st.f_blocks - st.f_bfree
        used = used_blocks / (used_blocks + st.f_bavail) * 100
        fs = self.values(recs, "instance_filesystem_utilization", MountPath=self.mnt)
        self.assertTrue(fs)
        self.assertAlmostEqual(fs[-1], used, delta=5)
        self.assertEqual(self.values(recs, "instance_filesystem_capacity", MountPath=self.mnt)[-1],
                         st.f_blocks * st.f_frsize)
        self.assertFalse([r for r in recs if r["dimensions"].get("MountPath") == "/proc"],
                         "filesystems = tmpfs: the proc mount is not reported")

    def test_per_device_off_keeps_only_the_totals(self):
        recs = self.run_agent("false")
        self.assertFalse([r for r in recs if set(r.get("dimensions", {}))
                          & {"Device", "InterfaceName", "MountPath"}])
        self.assertRate(self.values(recs, "instance_diskio_read_bytes"), self.DISK_READ_BPS,
                        "instance disk read total")
        self.assertRate(self.values(recs, "instance_network_tx_bytes"), self.NET_TX_BPS,
                        "instance tx total")
        self.assertTrue(self.values(recs, "instance_filesystem_utilization"))


class IntrospectionUnreachable(unittest.TestCase):
    """host_metrics where nothing listens at introspection_url: sampling goes
    on (host figures reach the output) and the failed lookups are counted in
    /status; the absent listener is told apart without loading libcurl
    (local_http's probe). (A value that is not a URL is a configuration
    error: test_check_config.)"""

    def conf(self, url):
        return f"""
        [agent]
        data_dir = {{data_dir}}
        http_listen = {{tmp}}/status.sock
        [input host]
        type = host_metrics
        docker_socket = {{tmp}}/no-docker.sock
        introspection_url = {url}
        [output out]
        type = file
        match = *
        path = {{out_dir}}
        flush_interval = 200ms
        """

    def test_sampling_goes_on_and_failures_are_counted(self):
        from tests.integration.test_status import get_retry
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
        s.close()  # nothing listens there now
        with Agent(self.conf(f"http://127.0.0.1:{closed}")) as a:
            a.start()
            # the second sample, ~10 s after the start, publishes
            a.wait_for(lambda: any(r.get("metric") for r in read_file_output(a.out_dir)),
                       timeout=40, what="host figures")
            code, _, body = get_retry(os.path.join(a.tmp, "status.sock"), "/status")
            self.assertEqual(code, 200)
            host = json.loads(body)["inputs"][0]
            self.assertGreaterEqual(host["errors"], 1, host)
            self.assertTrue(a.running())
            with open(f"/proc/{a.pid}/maps") as f:
                self.assertNotIn("libcurl.so", f.read())
            self.assertEqual(a.stop(), 0)


class RealDockerTests(unittest.TestCase):
    def setUp(self):
        self.d = dockerd.shared()
        self.burn = self.d.run(cmd=["sh", "-c", "while :; do :; done"],
                               labels=labels(1, "web", "burn"), extra=["--cpus", "0.5"])
        self.hold = self.d.run(cmd=["sh", "-c", "dd if=/dev/zero of=/dev/shm/x bs=1M count=40 "
                                    "2>/dev/null; sleep 3600"],
                               labels=labels(2, "web", "hold"),
                               extra=["--memory", "128m", "--memory-reservation", "96m",
                                      "--cpu-shares", "256"])
        self.aws = FakeAWS().__enter__()
        meta, tasks = introspection_docs([
            {"Arn": task_arn(1), "Family": "web", "Version": "7", "ServiceName": "websvc"},
            {"Arn": task_arn(2), "Family": "web", "Version": "7", "ServiceName": "websvc"},
        ])
        self.aws.introspection(metadata=meta, tasks=tasks)

    def tearDown(self):
        self.aws.__exit__(None, None, None)
        for cid in (self.burn, self.hold):
            self.d.stop_container(cid)
            self.d.remove(cid)

    def test_agrees_with_docker_stats_cgroup(self):
        self.check_against_docker("cgroup")

    def test_agrees_with_docker_stats_docker_api(self):
        self.check_against_docker("docker_api")

    def check_against_docker(self, source):
        text = f"""
[agent]
data_dir = {{data_dir}}
hostname = testhost

[input containers]
type = container_metrics
source = {source}
interval = 1s
docker_socket = {self.d.sock}
introspection_url = {self.aws.url}
levels = cluster service family task container
emf = true

[output file]
type = file
match = metrics.*
path = {{out_dir}}
flush_interval = 200ms
""" + OUTPUTS.format(extra_cwm="")

        def ours(metric, name):
            recs = [r for r in read_file_output(agent.out_dir)
                    if r.get("metric") == metric and r["dimensions"].get("ContainerName") == name]
            return recs

        with Agent(text, env=aws_env(self.aws)) as agent:
            agent.start()
            agent.wait_for(lambda: len(ours("ContainerCpuUtilization", "burn")) >= 4,
                           timeout=40, interval=0.3, what="4 samples of the burning container")
            # Docker's figure and ours over the same seconds: a window of a
            # container capped by CFS quota on a busy host varies a lot
            burn_a = docker_api(self.d.sock, f"/containers/{self.burn}/stats?stream=false")
            time.sleep(4.5)
            burn_b = docker_api(self.d.sock, f"/containers/{self.burn}/stats?stream=false")
            stats_hold = docker_api(self.d.sock, f"/containers/{self.hold}/stats?stream=false")
            agent.wait_for(lambda: emf_events(self.aws) and datums(
                self.aws, name="CpuUtilized", dims={"ClusterName": CLUSTER,
                                                    "ServiceName": "websvc"}),
                timeout=20, interval=0.3, what="metrics and EMF at the fake")
            self.assertEqual(agent.stop(), 0, agent.stderr()[-3000:])
            span = (stats_read_ms(burn_a), stats_read_ms(burn_b))
            # a sample at t covers the interval (1 s) before t
            cpu = [r["value"] for r in ours("ContainerCpuUtilization", "burn")
                   if span[0] + 1000 <= r["timestamp"] <= span[1] + 100]
            mem_pct = ours("ContainerMemoryUtilization", "hold")[-1]["value"]
            mem_mib = ours("ContainerMemoryUtilized", "hold")[-1]["value"]
            mem_res = ours("ContainerMemoryReserved", "hold")[-1]["value"]
            cpu_res = ours("ContainerCpuReserved", "hold")[-1]["value"]

        docker_cpu = api_cpu_percent_between(burn_a, burn_b)
        self.assertGreaterEqual(len(cpu), 2, "samples within Docker's window")
        mean = sum(cpu) / len(cpu)
        self.assertLess(abs(mean - docker_cpu), 10.0, (cpu, docker_cpu))
        used = api_mem_used(stats_hold)
        limit = stats_hold["memory_stats"]["limit"]
        self.assertLess(abs(mem_pct - used / limit * 100.0), 1.0, (mem_pct, used, limit))
        self.assertLess(abs(mem_mib - used / MiB), 2.0, (mem_mib, used / MiB))
        self.assertEqual(mem_res, 96)
        self.assertEqual(cpu_res, 256)
        # the fake got the aggregation of the ECS labels
        svc = {"ClusterName": CLUSTER, "ServiceName": "websvc"}
        self.assertEqual(value_of(datums(self.aws, name="RunningTaskCount", dims=svc)[-1]), 2)
        fam = datums(self.aws, name="MemoryUtilized",
                     dims={"ClusterName": CLUSTER, "TaskDefinitionFamily": "web"})
        self.assertGreater(value_of(fam[-1]), 35)
        types = {e["Type"] for e in emf_events(self.aws)}
        self.assertLessEqual({"Task", "Container"}, types)


if __name__ == "__main__":
    unittest.main()
