"""The containers input's options end to end, over a docker_root the test
writes itself (no Docker API: docker_socket = ""; containers are found from
<docker_root>/containers/<id>/config.v2.json, as in test_containers'
WithoutTheSocket): include/exclude by image and label, `labels` copied into
the records, `tag_ecs` / `tag_docker`, `skip_self`, and CRI-format lines
(`<time> <stream> <P|F> <message>`) rejoined and delivered."""
import json
import os
import subprocess
import time
import unittest
import uuid

from tests.integration.harness import Agent, assert_exactly_once, read_file_output, \
    stop_and_read

QUIET = 3.2  # past rotate_wait (2 s) and refresh_interval (1 s)


def conf(extra=""):
    return f"""
[agent]
data_dir = {{data_dir}}
http_listen = off
shutdown_timeout = 20s

[input c]
type = containers
docker_socket =
docker_root = {{tmp}}/docker
introspection_url =
read_from_head = true
refresh_interval = 1s
rotate_wait = 2s
{extra}

[output out]
type = file
match = *
path = {{out_dir}}
flush_interval = 100ms
"""


class Fixture:
    """Containers as Docker leaves them on disk."""

    def __init__(self, agent):
        self.agent = agent

    def container(self, name, image="busybox:1.36", labels=None, lines=(), cid=None,
                  log_format="json"):
        cid = cid or uuid.uuid4().hex + uuid.uuid4().hex
        cdir = os.path.join(self.agent.tmp, "docker", "containers", cid)
        os.makedirs(cdir)
        started = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
        with open(os.path.join(cdir, "config.v2.json"), "w") as f:
            json.dump({"ID": cid, "Name": "/" + name, "State": {"StartedAt": started},
                       "Config": {"Image": image, "Labels": labels or {}}}, f)
        with open(os.path.join(cdir, cid + "-json.log"), "w") as f:
            for text in lines:
                f.write(self.json_line(text) if log_format == "json" else text)
        return cid

    @staticmethod
    def json_line(text, stream="stdout"):
        t = time.time_ns()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 10**9)) + f".{t % 10**9:09d}Z"
        return json.dumps({"log": text + "\n", "stream": stream, "time": stamp}) + "\n"


ECS_LABELS = {"com.amazonaws.ecs.cluster": "prod",
              "com.amazonaws.ecs.task-arn":
                  "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
              "com.amazonaws.ecs.container-name": "web",
              "com.amazonaws.ecs.task-definition-family": "shop",
              "com.amazonaws.ecs.task-definition-version": "7"}


class ContainerOptions(unittest.TestCase):
    def agent(self, extra=""):
        a = Agent(conf(extra))
        self.addCleanup(a.cleanup)
        os.makedirs(os.path.join(a.tmp, "docker", "containers"))
        return a, Fixture(a)

    def by_container(self, records):
        out = {}
        for r in records:
            out.setdefault(r.get("container_name"), []).append(r)
        return out

    def test_image_and_label_filters(self):
        a, fx = self.agent("include_image = busybox*, alpine*\n"
                           "exclude_image = *:debug\n"
                           "include_label = team=*\n"
                           "exclude_label = team=quiet")
        fx.container("kept-busybox", "busybox:1.36", {"team": "shop"}, ["kept 1"])
        fx.container("kept-alpine", "alpine:3.19", {"team": "pay"}, ["kept 2"])
        fx.container("wrong-image", "nginx:1.25", {"team": "shop"}, ["no: image"])
        fx.container("debug-image", "busybox:debug", {"team": "shop"}, ["no: excluded image"])
        fx.container("no-team", "busybox:1.36", {"other": "x"}, ["no: label"])
        fx.container("quiet-team", "busybox:1.36", {"team": "quiet"}, ["no: excluded label"])
        fx.container("opted-out", "busybox:1.36", {"team": "shop", "collector.logs": "false"},
                     ["no: collector.logs=false"])
        a.start()
        a.wait_for(lambda: len(read_file_output(a.out_dir)) >= 2, timeout=30, what="2 records")
        got = stop_and_read(a, QUIET)
        assert_exactly_once(got, ["kept 1", "kept 2"])

    def test_labels_copied_and_tags_by_kind(self):
        a, fx = self.agent("labels = team, app.*\n"
                           "tag_ecs = mine.ecs\n"
                           "tag_docker = mine.docker")
        fx.container("plain", labels={"team": "shop", "app.tier": "web", "secret": "s3"},
                     lines=["from docker"])
        fx.container("ecs-web", labels=dict(ECS_LABELS, team="pay"), lines=["from ecs"])
        a.start()
        a.wait_for(lambda: len(read_file_output(a.out_dir)) >= 2, timeout=30, what="2 records")
        stop_and_read(a, QUIET)
        recs = {r["message"]: r for r in read_file_output(a.out_dir)}
        self.assertEqual(set(recs), {"from docker", "from ecs"})
        plain, ecs = recs["from docker"], recs["from ecs"]
        self.assertEqual(plain["tag"], "mine.docker")
        self.assertEqual(ecs["tag"], "mine.ecs")
        self.assertEqual(plain.get("label.team"), "shop")
        self.assertEqual(plain.get("label.app.tier"), "web")
        self.assertNotIn("label.secret", plain, "only the listed label keys")
        self.assertEqual(ecs.get("label.team"), "pay")
        self.assertNotIn("label.com.amazonaws.ecs.cluster", ecs)

    def test_cri_lines_rejoined_and_delivered(self):
        """containerd/CRI-O's format: partial pieces (P) joined up to the final
        one (F), the stream kept, the time taken from the line."""
        a, fx = self.agent()
        cri = ("2024-05-01T12:00:00.123456789Z stdout F one whole line\n"
               "2024-05-01T12:00:01.000000000Z stderr P first half, \n"
               "2024-05-01T12:00:01.000000001Z stderr F second half\n"
               "2024-05-01T12:00:02.500000000Z stdout F last\n")
        fx.container("cri", lines=[cri], log_format="cri")
        a.start()
        a.wait_for(lambda: len(read_file_output(a.out_dir)) >= 3, timeout=30, what="3 records")
        stop_and_read(a, QUIET)
        recs = read_file_output(a.out_dir)
        self.assertEqual([(r["message"], r["stream"]) for r in recs],
                         [("one whole line", "stdout"), ("first half, second half", "stderr"),
                          ("last", "stdout")])
        self.assertEqual(recs[0]["timestamp"], 1714564800123)
        self.assertEqual(recs[2]["timestamp"], 1714564802500)

    def test_skip_self(self):
        """The agent's own container is recognised from its mounts (a file of
        <docker_root>/containers/<id>/ bind-mounted into it, as Docker does
        with /etc/hostname) and left out; with skip_self = false it is read."""
        for skip in ("true", "false"):
            a, fx = self.agent(f"skip_self = {skip}")
            own = uuid.uuid4().hex + uuid.uuid4().hex
            fx.container("collector-itself", lines=["my own line"], cid=own)
            fx.container("neighbour", lines=["a neighbour's line"])
            hostname = os.path.join(a.tmp, "docker", "containers", own, "hostname")
            with open(hostname, "w") as f:
                f.write("collector-itself\n")
            target = os.path.join(a.tmp, "etc-hostname")
            open(target, "w").close()
            probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
            if probe.returncode:
                self.skipTest("cannot make a mount namespace here (needs root)")
            a.start(["run", "-c", a.conf_dir],
                    wrapper=["unshare", "-m", "sh", "-c",
                             f"mount --bind {hostname} {target} && exec \"$0\" \"$@\""])
            want = ["a neighbour's line"] + (["my own line"] if skip == "false" else [])
            a.wait_for(lambda: len(read_file_output(a.out_dir)) >= len(want), timeout=30,
                       what=f"{len(want)} records")
            got = stop_and_read(a, QUIET)
            assert_exactly_once(got, want, what=f"skip_self = {skip}")


if __name__ == "__main__":
    unittest.main()
