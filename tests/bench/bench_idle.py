"""Idle RSS on the shipped conf.d with no Docker and no AWS, started the way
`make run` starts it (collector run -c conf.d, COLLECTOR_DATA_DIR set): the
Docker socket and the ECS agent are absent, AWS has no credentials (metadata
disabled). After IDLE_SECONDS (20) prints VmRSS, VmHWM, and RssAnon /
RssFile from /proc/PID/status: RssFile is the shared libraries' (and the
binary's) mapped pages, shared with every other process that maps them;
RssAnon is the agent's own heap and stacks."""
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
    d = tempfile.mkdtemp(prefix="bench-idle-")
    env = base_env({"COLLECTOR_DATA_DIR": os.path.join(d, "data"), "AWS_REGION": "",
                    "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                    "AWS_EC2_METADATA_DISABLED": "true"})
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
        print(f"idle on the shipped conf.d (no Docker, no AWS), after {SECONDS}s: "
              f"RSS {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f}): RssAnon {f['RssAnon'] / 1024:.1f} "
              f"MiB, RssFile {f['RssFile'] / 1024:.1f} MiB (mapped binary and shared libraries), "
              f"RssShmem {f.get('RssShmem', 0) / 1024:.1f} MiB; {f['Threads']} threads")
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        shutil.rmtree(d, ignore_errors=True)
