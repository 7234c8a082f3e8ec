"""Cluster capacity from host_metrics (issue 18), end to end with the real
binary:

  - RealDockerCapacity: a real dockerd (tests/integration/dockerd.py) runs
    containers with ECS labels and reservations; the agent's
    SchedulableTasks for several task sizes equals the arithmetic of the
    host's registered capacity (CPUs x 1024 units; MemTotal less
    ECS_RESERVED_MEMORY of an ecs.config) less the tasks' reservations: a
    CPU-bound size and a memory-bound one, then again after a task leaves and
    after one arrives. Skipped (with the reason) without root or Docker.
  - AgentHealth: a scripted ECS introspection endpoint on 127.0.0.1 that the
    test takes down and brings back: EcsAgentConnected goes 1, 0, 1; /status
    gives the agent's version; after ecs_agent_unhealthy_after without it,
    /ready fails with the reason (ecs_agent_check = ready, the default) while
    /health stays 200, or both fail (ecs_agent_check = health), or neither
    (off); both pass once it is back.
  - Dashboard: `collector dashboard` (headroom and agent widgets, the region
    and cluster of the configuration or what it assumed) and `--put NAME`
    against the strict fake's PutDashboard.
  - CloudFormation: deploy/cluster-scaling.yaml read as structured data:
    every alarm names a metric and dimensions host_metrics publishes (from a
    run against a Docker API without containers), the policies, the
    anti-loop hysteresis, and its dashboard is `collector dashboard`'s.

Run from the repository root:
    python3 -m unittest tests.integration.test_capacity
Every process is stopped by pid; traffic goes only to 127.0.0.1 and unix sockets.
"""
import http.server
import json
import math
import os
import socketserver
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from tests.fakes.fake_aws_ctl import FakeAWS
from tests.integration import dockerd
from tests.integration.harness import Agent, read_file_output, run_cli
from tests.integration.test_metrics import FakeDocker

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLUSTER = "prod"
MiB = 1024 * 1024


def task_arn(n):
    return f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/task{n}"


def ecs_labels(n, family):
    return {"com.amazonaws.ecs.cluster": CLUSTER, "com.amazonaws.ecs.task-arn": task_arn(n),
            "com.amazonaws.ecs.task-definition-family": family,
            "com.amazonaws.ecs.task-definition-version": "3",
            "com.amazonaws.ecs.container-name": family}


def host_cpus_and_mem_mib(proc="/proc"):
    with open(os.path.join(proc, "stat")) as f:
        ncpu = sum(1 for line in f if line.startswith("cpu") and line[3].isdigit())
    with open(os.path.join(proc, "meminfo")) as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    return ncpu, kib * 1024 // MiB


def schedulable(free_cpu, free_mem, cpu, mem):
    fits = []
    if cpu:
        fits.append(math.floor(max(free_cpu, 0) / cpu))
    if mem:
        fits.append(math.floor(max(free_mem, 0) / mem))
    return min(fits)


def latest(out_dir, metric, dims):
    """The newest value of metric with exactly these dimensions, or None."""
    value = None
    for r in read_file_output(out_dir):
        if r.get("metric") == metric and r.get("dimensions") == dims:
            value = r["value"]
    return value


def host_conf(docker_socket, ecs_url, extra, agent=""):
    """An agent with host_metrics (capacity = true, every second) into a file output."""
    return f"""
[agent]
data_dir = {{data_dir}}
hostname = testhost
{agent}

[input host]
type = host_metrics
interval = 1s
docker_socket = {docker_socket}
introspection_url = {ecs_url}
cluster = {CLUSTER}
per_device = false
capacity = true
{extra}

[output file]
type = file
match = metrics.*
path = {{out_dir}}
flush_interval = 200ms
"""


# ------------------------------------------------------- scripted ECS agent


class ScriptedEcsAgent:
    """/v1/metadata and /v1/tasks on 127.0.0.1; down() closes the socket
    (connection refused), up() opens it again on the same port."""

    def __init__(self, version="Amazon ECS Agent - v1.86.3 (abcdef0)"):
        self.version = version
        self.server = None
        self.port = None

    def up(self):
        agent = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/v1/metadata":
                    doc = {"Cluster": CLUSTER, "Version": agent.version,
                           "ContainerInstanceArn": "arn:aws:ecs:us-east-1:123456789012:"
                                                   f"container-instance/{CLUSTER}/ci-77"}
                elif self.path == "/v1/tasks":
                    doc = {"Tasks": []}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def down(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# ------------------------------------------------------------------- tests


@unittest.skipIf(dockerd.skip_reason(), dockerd.skip_reason())
class RealDockerCapacity(unittest.TestCase):
    def setUp(self):
        self.d = dockerd.shared()
        self.tmp = tempfile.mkdtemp(prefix="collector-capacity-")
        self.ecs_config = os.path.join(self.tmp, "ecs.config")
        with open(self.ecs_config, "w") as f:
            f.write("ECS_CLUSTER=prod\nECS_RESERVED_MEMORY=256\n")
        self.started = []
        self.ecs = ScriptedEcsAgent().up()

    def tearDown(self):
        self.ecs.down()
        for cid in self.started:
            self.d.stop_container(cid)
            self.d.remove(cid)

    def run_task(self, n, family, shares, mem_flag, mib):
        cid = self.d.run(labels=ecs_labels(n, family),
                         extra=["--cpu-shares", str(shares), mem_flag, f"{mib}m"])
        self.started.append(cid)
        return cid

    def test_schedulable_tasks_follow_reservations(self):
        ncpu, mem_mib = host_cpus_and_mem_mib()
        reg_cpu, reg_mem = ncpu * 1024, mem_mib - 256
        # Sizes: one bound by CPU (little memory), one by memory (little CPU),
        # one in between; chosen from this host's size so that each is
        # really bound where its name says.
        sizes = {"cpubound": (512, 16), "membound": (2, 512), "both": (256, 256)}
        tasks = {1: ("web", 512, "--memory-reservation", 300),
                 2: ("batch", 1024, "--memory", 200),
                 3: ("api", 256, "--memory-reservation", 700)}  # arrives later
        self.run_task(1, *tasks[1])
        leaving = self.run_task(2, *tasks[2])
        text = host_conf(self.d.sock, self.ecs.url, f"ecs_config = {self.ecs_config}\n"
                         "schedulable_task_sizes = " +
                         " ".join(f"{k}:{c}:{m}" for k, (c, m) in sizes.items()))

        def expect(running):
            res_cpu = sum(tasks[t][1] for t in running)
            res_mem = sum(tasks[t][3] for t in running)
            return {name: schedulable(reg_cpu - res_cpu, reg_mem - res_mem, c, m)
                    for name, (c, m) in sizes.items()}, res_cpu, res_mem

        def agrees(agent, running):
            want, res_cpu, res_mem = expect(running)
            for name, n in want.items():
                got = latest(agent.out_dir, "SchedulableTasks",
                             {"ClusterName": CLUSTER, "InstanceId": "testhost", "TaskSize": name})
                if got != n:
                    return False
            return (latest(agent.out_dir, "ReservedCpu", {"ClusterName": CLUSTER}) == res_cpu
                    and latest(agent.out_dir, "ReservedMemory", {"ClusterName": CLUSTER})
                    == res_mem)

        with Agent(text) as agent:
            agent.start()
            agent.wait_for(lambda: agrees(agent, [1, 2]), timeout=30, interval=0.3,
                           what=f"SchedulableTasks = {expect([1, 2])[0]}")
            print(f"\ncapacity: {ncpu} CPUs, {mem_mib} MiB, registered {reg_cpu} units / "
                  f"{reg_mem} MiB; two tasks: SchedulableTasks {expect([1, 2])[0]}, "
                  f"one left: {expect([1])[0]}, another came: {expect([1, 3])[0]}")
            # the figures around it
            self.assertEqual(latest(agent.out_dir, "RegisteredCpu", {"ClusterName": CLUSTER}),
                             reg_cpu)
            self.assertEqual(latest(agent.out_dir, "RegisteredMemory",
                                    {"ClusterName": CLUSTER, "InstanceId": "testhost"}), reg_mem)
            self.assertEqual(latest(agent.out_dir, "FreeCpu", {"ClusterName": CLUSTER}),
                             reg_cpu - 1536)
            # the sizes are bound where their names say
            free_cpu, free_mem = reg_cpu - 1536, reg_mem - 500
            self.assertLess(free_cpu // 512, free_mem // 16, "cpubound is bound by CPU")
            self.assertLess(free_mem // 512, free_cpu // 2, "membound is bound by memory")
            thr = latest(agent.out_dir, "ReservationThreshold",
                         {"ClusterName": CLUSTER, "TaskSize": "membound"})
            self.assertAlmostEqual(thr, (1 - 512 / reg_mem) * 100, places=6)

            # a task leaves
            self.d.stop_container(leaving)
            agent.wait_for(lambda: agrees(agent, [1]), timeout=30, interval=0.3,
                           what=f"SchedulableTasks = {expect([1])[0]} after a task left")
            # one arrives
            self.run_task(3, *tasks[3])
            agent.wait_for(lambda: agrees(agent, [1, 3]), timeout=30, interval=0.3,
                           what=f"SchedulableTasks = {expect([1, 3])[0]} after a task arrived")
            self.assertEqual(agent.stop(), 0, agent.stderr()[-3000:])


class AgentHealth(unittest.TestCase):
    def setUp(self):
        self.ecs = ScriptedEcsAgent().up()

    def tearDown(self):
        self.ecs.down()

    def free_listen(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        listen = f"127.0.0.1:{s.getsockname()[1]}"
        s.close()
        return listen

    def run_agent_outage(self, check_line, failing, passing):
        """Take the ECS agent down and back: EcsAgentConnected 1, 0, 1; the
        endpoints `failing` answer 503 with the reason while it is down (and
        `passing` stays 200), then 200 again once it answers."""
        listen = self.free_listen()
        text = host_conf("/nonexistent/docker.sock", self.ecs.url,
                         f"ecs_agent_unhealthy_after = 2s\n{check_line}\n"
                         "schedulable_task_sizes = small:256:512",
                         agent=f"http_listen = {listen}")
        dims = {"ClusterName": CLUSTER, "InstanceId": "testhost"}

        def connected(agent):
            return latest(agent.out_dir, "EcsAgentConnected", dims)

        def get(path):
            return http_get(f"http://{listen}{path}")

        with Agent(text) as agent:
            agent.start()
            agent.wait_for(lambda: connected(agent) == 1, timeout=20, interval=0.2,
                           what="EcsAgentConnected = 1")
            status, body = get("/status")
            self.assertEqual(status, 200)
            inputs = json.loads(body)["inputs"]
            host = next(i for i in inputs if i.get("name") == "host")
            self.assertEqual(host["ecs_agent"], {"connected": True,
                                                 "version": self.ecs.version})
            self.assertEqual(get("/health")[0], 200)
            self.assertEqual(get("/ready")[0], 200)

            self.ecs.down()
            agent.wait_for(lambda: connected(agent) == 0, timeout=20, interval=0.2,
                           what="EcsAgentConnected = 0")
            agent.wait_for(lambda: get(failing[0])[0] == 503, timeout=20, interval=0.3,
                           what=f"{failing[0]} 503 after 2 s without the ECS agent")
            for path in failing:
                status, body = get(path)
                self.assertEqual(status, 503, path)
                reason = json.loads(body)["reason"]
                self.assertIn(f"input host: the ECS agent at {self.ecs.url} has not answered "
                              "for", reason)
                self.assertIn("(ecs_agent_unhealthy_after 2s)", reason)
            if passing:
                status, body = get(passing)
                self.assertEqual(status, 200, body)
                self.assertIn("the ECS agent", json.loads(body)["not_ready_because"])

            self.ecs.up()
            agent.wait_for(lambda: connected(agent) == 1, timeout=20, interval=0.2,
                           what="EcsAgentConnected = 1 again")
            agent.wait_for(lambda: get(failing[0])[0] == 200, timeout=20, interval=0.3,
                           what=f"{failing[0]} 200 again")
            for path in ("/health", "/ready"):
                self.assertEqual(get(path)[0], 200, path)
            self.assertEqual(agent.stop(), 0, agent.stderr()[-3000:])

    def test_connected_flips_and_ready_by_default(self):
        # ecs_agent_check defaults to ready: readiness fails, liveness does not
        # (a liveness probe would restart the collector, not the ECS agent)
        self.run_agent_outage("", failing=("/ready",), passing="/health")

    def test_ecs_agent_check_health_fails_liveness(self):
        # not live is not ready either
        self.run_agent_outage("ecs_agent_check = health", failing=("/health", "/ready"),
                              passing=None)

    def test_ecs_agent_check_off(self):
        listen = self.free_listen()
        text = host_conf("/nonexistent/docker.sock", self.ecs.url,
                         "ecs_agent_unhealthy_after = 1s\necs_agent_check = off",
                         agent=f"http_listen = {listen}")
        dims = {"ClusterName": CLUSTER, "InstanceId": "testhost"}
        with Agent(text) as agent:
            agent.start()
            agent.wait_for(lambda: latest(agent.out_dir, "EcsAgentConnected", dims) == 1,
                           timeout=20, interval=0.2, what="EcsAgentConnected = 1")
            self.ecs.down()
            agent.wait_for(lambda: latest(agent.out_dir, "EcsAgentConnected", dims) == 0,
                           timeout=20, interval=0.2, what="EcsAgentConnected = 0")
            # past ecs_agent_unhealthy_after (1 s), with a sample every second
            time.sleep(2.5)
            self.assertEqual(latest(agent.out_dir, "EcsAgentConnected", dims), 0)
            for path in ("/ready", "/health"):
                self.assertEqual(http_get(f"http://{listen}{path}")[0], 200, path)
            self.assertEqual(agent.stop(), 0, agent.stderr()[-3000:])


class Dashboard(unittest.TestCase):
    """`collector dashboard` and `--put NAME` against the strict fake."""

    def setUp(self):
        # PutDashboard is an operator's call, not the daemon task role's
        self.aws = FakeAWS(region="eu-west-1", daemon_calls=False).__enter__()
        self.tmp = tempfile.mkdtemp(prefix="collector-dashboard-")
        self.conf = os.path.join(self.tmp, "collector.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
[agent]
region = eu-west-1
data_dir = {self.tmp}/data

[input host]
type = host_metrics
cluster = {CLUSTER}
capacity = true
schedulable_task_sizes = small:256:512
""")
        self.env = {"AWS_ENDPOINT_URL": self.aws.url, "AWS_ACCESS_KEY_ID": "AKIDTEST",
                    "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SHARED_CREDENTIALS_FILE":
                    "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
                    "AWS_EC2_METADATA_DISABLED": "true"}

    def tearDown(self):
        self.aws.__exit__(None, None, None)

    def test_headroom_and_agent_widgets_put(self):
        printed = run_cli(["dashboard", "-c", self.conf], env=self.env)
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertEqual(printed.stderr, "", "region and cluster come from the configuration")
        body = json.loads(printed.stdout)
        text = json.dumps(body)
        for needle in ('MetricName=\\"SchedulableTasks\\"', "ClusterName,TaskSize",
                       'MetricName=\\"EcsAgentConnected\\"', f'ClusterName=\\"{CLUSTER}\\"'):
            self.assertIn(needle, text)
        self.assertTrue(all(w["properties"]["region"] == "eu-west-1" for w in body["widgets"]))

        put = run_cli(["dashboard", "-c", self.conf, "--put", "prod-capacity"], env=self.env)
        self.assertEqual(put.returncode, 0, put.stderr)
        self.assertIn("prod-capacity", put.stdout)
        stored = self.aws.state()["dashboards"]
        self.assertEqual(stored, {"prod-capacity": body})

        # a name PutDashboard refuses: said, exit 1, nothing stored
        bad = run_cli(["dashboard", "-c", self.conf, "--put", "no spaces"], env=self.env)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("InvalidParameterValue", bad.stderr)
        self.assertEqual(list(self.aws.state()["dashboards"]), ["prod-capacity"])

    def test_says_what_it_assumed(self):
        bare = os.path.join(self.tmp, "bare.conf")
        with open(bare, "w") as f:
            f.write("[input g]\ntype = generate\n")
        env = dict(self.env, AWS_REGION="", AWS_DEFAULT_REGION="")
        res = run_cli(["dashboard", "-c", bare], env=env)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("assuming us-east-1", res.stderr)
        self.assertIn("assuming cluster 'default'", res.stderr)


class CloudFormation(unittest.TestCase):
    """deploy/cluster-scaling.yaml as structured data."""

    @classmethod
    def setUpClass(cls):
        import yaml
        with open(os.path.join(ROOT, "deploy", "cluster-scaling.yaml")) as f:
            cls.cfn = yaml.safe_load(f)
        cls.res = cls.cfn["Resources"]

    def published(self):
        """(metric, dimension names) pairs host_metrics really publishes."""
        tmp = tempfile.mkdtemp(prefix="collector-cfn-")
        sock = os.path.join(tmp, "docker.sock")
        docker = FakeDocker(sock, {}).__enter__()  # no containers: tasks known, none
        ecs = ScriptedEcsAgent().up()
        text = host_conf(sock, ecs.url, "schedulable_task_sizes = default:512:1024")
        try:
            with Agent(text) as agent:
                agent.start()
                agent.wait_for(lambda: any(r.get("metric") == "SchedulableTasks"
                                           for r in read_file_output(agent.out_dir)),
                               timeout=20, interval=0.2, what="SchedulableTasks")
                self.assertEqual(agent.stop(), 0, agent.stderr()[-3000:])
                return {(r["metric"], frozenset(r["dimensions"]))
                        for r in read_file_output(agent.out_dir)}
        finally:
            ecs.down()
            docker.__exit__(None, None, None)

    def alarm_metrics(self, alarm):
        p = alarm["Properties"]
        if "MetricName" in p:
            yield p["Namespace"], p["MetricName"], p["Dimensions"], p["Statistic"]
        for m in p.get("Metrics", []):
            if "MetricStat" in m:
                st = m["MetricStat"]
                yield (st["Metric"]["Namespace"], st["Metric"]["MetricName"],
                       st["Metric"]["Dimensions"], st["Stat"])

    def test_alarms_name_what_the_agent_publishes(self):
        published = self.published()
        alarms = {k: v for k, v in self.res.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
        self.assertEqual(set(alarms), {"ShortageAlarm", "ExcessAlarm"})
        for name, alarm in alarms.items():
            rows = list(self.alarm_metrics(alarm))
            self.assertTrue(rows, name)
            for ns, metric, dims, stat in rows:
                self.assertEqual(ns, {"Ref": "Namespace"}, name)
                names = frozenset(d["Name"] for d in dims)
                self.assertTrue((metric, names) in published,
                                f"{name}: {metric} {sorted(names)} is not published")
                self.assertEqual(stat, "Sum", f"{name}: the cluster's headroom is the Sum")
                refs = {d["Name"]: d["Value"] for d in dims}
                self.assertEqual(refs, {"ClusterName": {"Ref": "ClusterName"},
                                        "TaskSize": {"Ref": "TaskSize"}})
            for action in alarm["Properties"]["AlarmActions"]:
                self.assertEqual(self.res[action["Ref"]]["Type"],
                                 "AWS::AutoScaling::ScalingPolicy")

    def test_policies_and_hysteresis(self):
        out, inn = self.res["ScaleOutPolicy"]["Properties"], self.res["ScaleInPolicy"]["Properties"]
        for p in (out, inn):
            self.assertEqual(p["PolicyType"], "StepScaling")
            self.assertEqual(p["AutoScalingGroupName"], {"Ref": "AutoScalingGroupName"})
        self.assertEqual([s["ScalingAdjustment"] for s in out["StepAdjustments"]], [1])
        self.assertEqual([s["ScalingAdjustment"] for s in inn["StepAdjustments"]], [-1])
        self.assertIn("EstimatedInstanceWarmup", out)
        shortage = self.res["ShortageAlarm"]["Properties"]
        excess = self.res["ExcessAlarm"]["Properties"]
        self.assertEqual(shortage["ComparisonOperator"], "LessThanThreshold")
        self.assertEqual(shortage["AlarmActions"], [{"Ref": "ScaleOutPolicy"}])
        self.assertEqual(excess["ComparisonOperator"], "GreaterThanThreshold")
        self.assertEqual(excess["AlarmActions"], [{"Ref": "ScaleInPolicy"}])
        # the same threshold, and scale-in judged without one instance's headroom:
        # after a scale-in the headroom is still above the shortage threshold
        self.assertEqual(shortage["Threshold"], excess["Threshold"])
        expr = next(m for m in excess["Metrics"] if m.get("ReturnData"))
        self.assertEqual(expr["Expression"], {"Fn::Sub": "headroom - ${TasksPerInstance}"})
        self.assertEqual(shortage["TreatMissingData"], "breaching")
        self.assertEqual(excess["TreatMissingData"], "notBreaching")
        # scale-in slower than scale-out (its cooldown)
        params = self.cfn["Parameters"]
        self.assertGreater(params["ScaleInMinutes"]["Default"], params["ScaleOutMinutes"]["Default"])

    def test_dashboard_is_collector_dashboard(self):
        body = self.res["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        # the stack's default namespace must be the agents' default (what the
        # dashboard command prints without a cloudwatch_metrics output)
        namespace = self.cfn["Parameters"]["Namespace"]["Default"]
        body = (body.replace("${ClusterName}", "c1").replace("${AWS::Region}", "ap-south-1")
                .replace("${Namespace}", namespace))
        conf = os.path.join(tempfile.mkdtemp(prefix="collector-cfn-"), "c.conf")
        with open(conf, "w") as f:
            f.write("[agent]\nregion = ap-south-1\n")
        res = run_cli(["dashboard", "-c", conf, "--cluster", "c1"])
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(json.loads(body), json.loads(res.stdout))


if __name__ == "__main__":
    unittest.main()
