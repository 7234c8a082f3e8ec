"""Idle RSS on the shipped conf.d, started the way `make run` starts it
(collector run -c conf.d, COLLECTOR_DATA_DIR set), in two rows:

- no Docker and no AWS: the Docker socket and the ECS agent are absent, AWS
  has no credentials (metadata disabled), so the CloudWatch outputs are left
  out; libcurl and libarchive are never opened (core/libload.h);
- with AWS: region and keys set, the endpoint the strict fake on loopback
  (tests/fakes/fake_aws.py), so the CloudWatch outputs run and send what the
  host metrics inputs sample: libcurl, OpenSSL's TLS and the senders' buffers
  are in.

After IDLE_SECONDS (20) each prints VmRSS, VmHWM, and RssAnon / RssFile from
/proc/PID/status (RssFile: the binary's and the shared libraries' mapped
pages, shared with every other process that maps them; RssAnon: the agent's
own heap and stacks), and whether libcurl and libarchive are mapped."""
import os
import signal
import subprocess
import tempfile
import time
import shutil

from tests.bench.procstat import memory_kib
from tests.integration.harness import ROOT, BINARY, base_env

SECONDS = int(os.environ.get("IDLE_SECONDS", "20"))


def fields(pid, names):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in names:
                out[k] = int(v.split()[0])
    return out


def run(build_dir):
    measure("no Docker, no AWS", {})
    from tests.fakes.fake_aws_ctl import FakeAWS
    with FakeAWS() as aws:
        measure("with AWS (fake on loopback)", {
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": aws.url,
            "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"})


def measure(name, aws):
    d = tempfile.mkdtemp(prefix="bench-idle-")
    env = base_env({"COLLECTOR_DATA_DIR": os.path.join(d, "data"), "AWS_REGION": "",
                    "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                    "AWS_EC2_METADATA_DISABLED": "true"})
    env.update(aws)
    for k in ("AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        env.pop(k, None)
    env["HOME"] = d
    # the shipped status address may be taken by another agent: a private one
    conf = os.path.join(d, "conf.d")
    shutil.copytree(os.path.join(ROOT, "conf.d"), conf)
    with open(os.path.join(conf, "00-agent.conf")) as f:
        text = f.read()
    with open(os.path.join(conf, "00-agent.conf"), "w") as f:
        f.write(text.replace("[agent]\n", f"[agent]\nhttp_listen = {d}/status.sock\n", 1))
    p = subprocess.Popen([BINARY, "run", "-c", conf], env=env, stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(d, "stderr"), "wb"), cwd=d)
    try:
        time.sleep(SECONDS)
        if p.poll() is not None:
            print("agent exited:", open(os.path.join(d, "stderr")).read()[-2000:])
            return
        rss, hwm = memory_kib(p.pid)
        f = fields(p.pid, ("RssAnon", "RssFile", "RssShmem", "Threads"))
        with open(f"/proc/{p.pid}/maps") as m:
            maps = m.read()
        mapped = [lib for lib in ("libcurl", "libarchive") if lib + ".so" in maps]
        print(f"idle on the shipped conf.d ({name}), after {SECONDS}s: "
              f"RSS {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f}): RssAnon {f['RssAnon'] / 1024:.1f} "
              f"MiB, RssFile {f['RssFile'] / 1024:.1f} MiB (mapped binary and shared libraries), "
              f"RssShmem {f.get('RssShmem', 0) / 1024:.1f} MiB; {f['Threads']} threads; "
              f"mapped: {', '.join(mapped) or 'neither libcurl nor libarchive'}")
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(d, ignore_errors=True)
