"""A real Docker daemon for integration tests, private to the test run.

Nothing is installed here (docker.io and busybox-static come from
scripts/deps.sh). The daemon runs with its own data root, exec root, pid file
and unix socket under one temporary directory, with no bridge and no
iptables changes (`--bridge=none --iptables=false --ip6tables=false`), so it
never touches the host's networking or another dockerd. Containers run with
`--network none`.

    from tests.integration import dockerd

    reason = dockerd.skip_reason()          # None, or why Docker tests cannot run
    d = dockerd.shared()                    # started once per test run, reused by every suite
    cid = d.run(labels={"com.amazonaws.ecs.cluster": "c1"}, env={"A": "b"},
                cmd=["sh", "-c", "echo hi; sleep 3600"],
                log_opts={"max-size": "1m", "max-file": "2"})
    d.inspect(cid)["LogPath"]               # the json-file log of the container
    d.docker("ps", "-a")                    # any docker CLI command (CompletedProcess)
    d.stop_container(cid); d.remove(cid)
    d.restart()                             # stop and start the daemon (same data root)

API
  skip_reason() -> str | None       not root, dockerd/docker/busybox missing
  shared() -> Dockerd               the module-level instance, started on first use;
                                    stopped at interpreter exit (atexit) or by stop_shared()
  stop_shared()                     explicit stop of the shared instance
  class Dockerd(tmp=None, storage_driver=None)
    .start(timeout=60) / .stop() / .restart(timeout=60)
    .running() -> bool              the daemon process is alive
    .sock, .host                    socket path, "unix://<sock>" (DOCKER_HOST value)
    .env(extra=None) -> dict        os.environ + DOCKER_HOST, for subprocesses
    .docker(*args, check=True, timeout=60) -> CompletedProcess (text)
    .ensure_image() -> IMAGE        imports the busybox image once (docker import)
    .run(name=None, cmd=None, labels=None, env=None, log_driver="json-file",
         log_opts=None, extra=(), image=None) -> full container id (detached, --network none)
    .stop_container(cid, timeout=1), .remove(cid), .remove_all()
    .inspect(cid) -> dict, .containers(all=True) -> [ids]
    .pid                            the dockerd pid (stopped by pid: SIGTERM, then SIGKILL)
IMAGE = "collector-test/busybox:latest" (busybox-static /bin/busybox + applet symlinks).
Environment: COLLECTOR_TEST_STORAGE_DRIVER (default vfs: works everywhere, tiny image).
"""
import atexit
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import time

IMAGE = "collector-test/busybox:latest"
BUSYBOX = "/bin/busybox"

_shared = None
_lock = threading.Lock()


def _which(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def skip_reason():
    """Why a real-Docker test cannot run here, or None."""
    if os.geteuid() != 0:
        return "real dockerd tests need root"
    for tool in ("dockerd", "docker"):
        if not _which(tool):
            return f"{tool} not installed (scripts/deps.sh installs docker.io)"
    if not os.path.exists(BUSYBOX):
        return "busybox-static not installed (/bin/busybox)"
    return None


def _busybox_tar():
    """A rootfs tar: /bin/busybox, a symlink per applet, /tmp, /etc/passwd."""
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        def add_dir(name, mode=0o755):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            tar.addfile(info)
        for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "var", "var/log", "root"):
            add_dir(d, 0o1777 if d == "tmp" else 0o755)
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in applets:
            if applet == "busybox":
                continue
            info = tarfile.TarInfo("bin/" + applet)
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return out.getvalue()


class Dockerd:
    def __init__(self, tmp=None, storage_driver=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="collector-dockerd-")
        self._own_tmp = tmp is None
        self.sock = os.path.join(self.tmp, "docker.sock")
        self.host = "unix://" + self.sock
        self.data_root = os.path.join(self.tmp, "data")
        self.exec_root = os.path.join(self.tmp, "exec")
        self.pidfile = os.path.join(self.tmp, "docker.pid")
        self.log_path = os.path.join(self.tmp, "dockerd.log")
        self.storage_driver = storage_driver or os.environ.get("COLLECTOR_TEST_STORAGE_DRIVER", "vfs")
        self.proc = None
        self._log = None
        self._image_ready = False

    # -- daemon
    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def env(self, extra=None):
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.host
        env.pop("DOCKER_CONTEXT", None)
        if extra:
            env.update(extra)
        return env

    def start(self, timeout=60):
        reason = skip_reason()
        if reason:
            raise RuntimeError(reason)
        if self.running():
            return self
        os.makedirs(self.data_root, exist_ok=True)
        os.makedirs(self.exec_root, exist_ok=True)
        self._log = open(self.log_path, "ab")
        cmd = [_which("dockerd"), "--bridge=none", "--iptables=false", "--ip6tables=false",
               "--ip-masq=false", "--data-root", self.data_root, "--exec-root", self.exec_root,
               "--pidfile", self.pidfile, "-H", self.host, "--storage-driver", self.storage_driver,
               "--userland-proxy=false", "--log-level=warn", "--shutdown-timeout=2"]
        # Its own process group: stop() can reach the containerd it starts too.
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=self._log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited ({self.proc.returncode}):\n{self.log_tail()}")
            if os.path.exists(self.sock):
                r = subprocess.run([_which("docker"), "version", "--format", "{{.Server.Version}}"],
                                   env=self.env(), capture_output=True, text=True, timeout=10)
                if r.returncode == 0:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dockerd not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def stop(self, timeout=30):
        """Stop the daemon (by pid; SIGKILL to its group after timeout)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        # The containerd it started lives in the same session/process group.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def restart(self, timeout=60):
        self.stop()
        return self.start(timeout)

    def cleanup(self):
        self.stop()
        if self._own_tmp:
            # vfs layers can hold read-only dirs: make them writable first.
            for root, dirs, _ in os.walk(self.tmp):
                for d in dirs:
                    try:
                        os.chmod(os.path.join(root, d), 0o755)
                    except OSError:
                        pass
            # Anything the daemon left mounted under our directory (netns, shm), deepest first.
            with open("/proc/self/mounts") as f:
                points = [line.split()[1] for line in f]
            for point in sorted((p for p in points if p.startswith(self.tmp + "/")),
                                key=len, reverse=True):
                subprocess.run(["umount", "-l", point], capture_output=True)
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- CLI
    def docker(self, *args, check=True, timeout=60, input=None):
        r = subprocess.run([_which("docker")] + [str(a) for a in args], env=self.env(),
                           capture_output=True, text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise RuntimeError(f"docker {' '.join(map(str, args))}: exit {r.returncode}\n"
                               f"{r.stdout}{r.stderr}")
        return r

    def ensure_image(self):
        if self._image_ready:
            return IMAGE
        if self.docker("image", "inspect", IMAGE, check=False).returncode != 0:
            tar = _busybox_tar()
            r = subprocess.run([_which("docker"), "import", "-", IMAGE], env=self.env(),
                               input=tar, capture_output=True, timeout=120)
            if r.returncode != 0:
                raise RuntimeError("docker import failed: " + r.stderr.decode(errors="replace"))
        self._image_ready = True
        return IMAGE

    def run(self, name=None, cmd=None, labels=None, env=None, log_driver="json-file",
            log_opts=None, extra=(), image=None):
        """Start a detached container with --network none; returns its full id."""
        image = image or self.ensure_image()
        args = ["run", "-d", "--network", "none", "--log-driver", log_driver]
        if name:
            args += ["--name", name]
        for k, v in (labels or {}).items():
            args += ["--label", f"{k}={v}"]
        for k, v in (env or {}).items():
            args += ["--env", f"{k}={v}"]
        for k, v in (log_opts or {}).items():
            args += ["--log-opt", f"{k}={v}"]
        args += list(extra)
        args.append(image)
        args += list(cmd) if cmd else ["sleep", "3600"]
        return self.docker(*args).stdout.strip()

    def stop_container(self, cid, timeout=1):
        self.docker("stop", "-t", str(timeout), cid, check=False)

    def remove(self, cid):
        self.docker("rm", "-f", "-v", cid, check=False)

    def containers(self, all=True):
        out = self.docker("ps", "-q", "--no-trunc", *(["-a"] if all else [])).stdout
        return [line for line in out.split() if line]

    def remove_all(self):
        ids = self.containers()
        if ids:
            self.docker("rm", "-f", "-v", *ids, check=False, timeout=120)

    def inspect(self, cid):
        return json.loads(self.docker("inspect", cid).stdout)[0]

    def wait_exited(self, cids, timeout, interval=0.2):
        """Until none of the containers runs; AssertionError after timeout s."""
        end = time.time() + timeout
        while any(self.inspect(c)["State"]["Running"] for c in cids):
            if time.time() > end:
                raise AssertionError(f"containers still running after {timeout} s")
            time.sleep(interval)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False


def shared():
    """The run's shared daemon, started on first use (raises if it cannot start)."""
    global _shared
    with _lock:
        if _shared is None or not _shared.running():
            if _shared is None:
                _shared = Dockerd()
                atexit.register(stop_shared)
            _shared.start()
        return _shared


def stop_shared():
    global _shared
    with _lock:
        if _shared is not None:
            _shared.cleanup()
            _shared = None
