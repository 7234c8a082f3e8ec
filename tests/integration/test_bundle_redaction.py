"""`collector bundle --root R` over a host root with planted secrets of every
kind the bundle must not leak (issue 15): name/value pairs and environment
maps under neutral names, the usual key spellings (pass, pwd, auth, token,
secret, key, credential), Docker's base64 auth, multi-line
ECS_ENGINE_AUTH_DATA, --registry-auth, a private key cut by --item-max, a
file reached through a symlink out of the root; and the archive's
<out>.partial pre-created as a symlink or a 0666 file.

No dockerd: a fake `docker` on PATH answers version, ps and inspect with
planted Env values. No network but 127.0.0.1:9 (refused)."""
import base64
import json
import os
import shutil
import stat
import tarfile
import tempfile
import textwrap
import unittest

from tests.integration.harness import BINARY  # noqa: F401  (built binary must exist)
from tests.integration.test_bundle import run_bundle

# One value per kind; none may appear anywhere in the extracted archive.
S = {
    "log name/value password": "nvPasswordSecret01",
    "log name/value neutral": "nvNeutralSecret02",
    "DB_PASS=": "dbPassSecret03",
    "MYSQL_PWD=": "mysqlPwdSecret04",
    "docker base64 auth": base64.b64encode(b"alice:dockerAuthSecret05").decode(),
    "multi-line auth data (ecs.config)": "multiLineAuthSecret06",
    "multi-line auth data (log)": "multiLineAuthSecret07",
    "state env map neutral": "stateEnvMapSecret08",
    "state name/value neutral": "stateNameValueSecret09",
    "--registry-auth=": "registryAuthSecret10",
    "--registry-auth value": "registryAuthSecret11",
    "private key cut by --item-max": "cutPrivateKeySecret12",
    "symlink out of root": "outsideRootSecret13",
    "inspect env neutral": "inspectNeutralSecret14",
    "inspect env password": "inspectPasswordSecret15",
    "X-Registry-Auth header": "xRegistryAuthSecret16",
    "api_key=": "apiKeySecret17",
    "apiKey: (camel)": "camelApiKeySecret18",
    'clientSecret json': "clientSecretSecret19",
    "AUTH_TOKEN=": "authTokenSecret20",
    "GITHUB_TOKEN=": "githubTokenSecret21",
    "passphrase=": "passphraseSecret22",
    'credentials json': "credentialsSecret23",
    "PGPASSWORD=": "pgPasswordSecret24",
    "--db-pass flag": "dbPassFlagSecret25",
    "basic auth": base64.b64encode(b"bob:basicAuthSecret26").decode(),
    "bearer": "bearerTokenSecret27abcdef",
    "url credentials": "urlPasswordSecret28",
    "aws access key id": "AKIAPLANTEDSECRET029",
    "aws_secret_access_key = (ini)": "iniAwsSecretKeySecret30",
    "ENCRYPTION_KEY=": "encryptionKeySecret31",
    'pwd json': "jsonPwdSecret32",
    "secretKey=": "secretKeyCamelSecret33",
    "ECS_ENGINE_AUTH_DATA single line": "singleLineAuthSecret34",
    "state env in log line": "logEnvMapSecret35",
    "ECS_ENGINE_AUTH_DATA state env": "stateEnvAuthSecret36",
    "Go map env in log": "goMapEnvSecret37",
}

CONTAINER = "c0ffee" + "0" * 58


def write(root, rel, text, mode=0o644):
    path = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def plant(root, outside, bindir):
    write(root, "/etc/ecs/ecs.config", textwrap.dedent(f"""\
        ECS_CLUSTER=prod-cluster
        ECS_ENGINE_AUTH_TYPE=dockercfg
        ECS_ENGINE_AUTH_DATA={{
          "https://registry.example.com": {{
            "username": "{S['multi-line auth data (ecs.config)']}"
          }}
        }}
        ECS_LOGLEVEL=info
        """))
    nv = json.dumps({"containerDefinitions": [{"environment": [
        {"name": "DB_PASSWORD", "value": S["log name/value password"]},
        {"name": "NEUTRAL_A", "value": S["log name/value neutral"]}]}]})
    docker_cfg = json.dumps({"auths": {"https://index.docker.io/v1/": {
        "auth": S["docker base64 auth"]}}})
    write(root, "/var/log/ecs/ecs-agent.log", "\n".join([
        f"level=info msg=\"task definition\" def={nv}",
        f"level=info msg=\"docker config\" cfg={docker_cfg}",
        "level=info msg=\"engine auth\" ECS_ENGINE_AUTH_DATA={",
        "  \"https://r.example.com\": {",
        f"    \"username\": \"{S['multi-line auth data (log)']}\"",
        "  }",
        "}",
        f"level=info msg=\"pull\" X-Registry-Auth: {S['X-Registry-Auth header']}",
        f"level=info msg=\"container\" Environment={json.dumps({'PLAIN_NAME': S['state env in log line']})}",
        f"level=info msg=\"Creating container\" container=web Environment:map[PLAIN:{S['Go map env in log']} PORT:80]",
        f"level=info msg=\"auth\" ECS_ENGINE_AUTH_DATA={{\"https://r\":{{\"email\":\"{S['ECS_ENGINE_AUTH_DATA single line']}\"}}}}",
        ""]))
    write(root, "/var/log/syslog", "\n".join([
        f"Nov 22 app[1]: env DB_PASS={S['DB_PASS=']} MYSQL_PWD={S['MYSQL_PWD=']}",
        f"Nov 22 app[1]: api_key={S['api_key=']} AUTH_TOKEN={S['AUTH_TOKEN=']}",
        f"Nov 22 app[1]: apiKey: {S['apiKey: (camel)']}",
        "Nov 22 app[1]: " + json.dumps({"clientSecret": S["clientSecret json"], "credentials": S["credentials json"]}),
        f"Nov 22 app[1]: GITHUB_TOKEN={S['GITHUB_TOKEN=']} passphrase={S['passphrase=']}",
        f"Nov 22 app[1]: PGPASSWORD={S['PGPASSWORD=']} ENCRYPTION_KEY={S['ENCRYPTION_KEY=']}",
        f"Nov 22 app[1]: running /usr/bin/dbtool --db-pass {S['--db-pass flag']} --verbose",
        f"Nov 22 app[1]: Authorization: Basic {S['basic auth']}",
        f"Nov 22 app[1]: Authorization: Bearer {S['bearer']}",
        f"Nov 22 app[1]: fetching https://alice:{S['url credentials']}@repo.example.com/x",
        f"Nov 22 app[1]: key id {S['aws access key id']} used",
        f"Nov 22 app[1]: aws_secret_access_key = {S['aws_secret_access_key = (ini)']}",
        "Nov 22 app[1]: " + json.dumps({"user": "bob", "pwd": S["pwd json"]}) + " secretKey=" + S["secretKey="],
        ""]))
    write(root, "/var/lib/ecs/data/ecs_agent_data.json", json.dumps({"Data": {"Tasks": [{
        "Arn": "arn:aws:ecs:us-east-1:1:task/prod/abc",
        "Containers": [{
            "Name": "web",
            "Environment": {"LISTEN_PORT": S["state env map neutral"],
                            "ECS_ENGINE_AUTH_DATA": S["ECS_ENGINE_AUTH_DATA state env"]},
            "environment": [{"name": "NEUTRAL_C", "value": S["state name/value neutral"]}],
        }]}]}, "Version": 28}))
    write(root, "/etc/sysconfig/docker", textwrap.dedent(f"""\
        OPTIONS="--default-ulimit nofile=1024:4096 --registry-auth={S['--registry-auth=']} --debug"
        OTHER_ARGS="--registry-auth {S['--registry-auth value']}"
        """))
    # A private key whose BEGIN is cut away by --item-max 64KiB: the body's
    # secret line is among the newest bytes kept.
    body = "\n".join("A" * 64 for _ in range(1200))  # ~78 KB of key body
    write(root, "/var/log/ecs/ecs-init.log",
          "start\n-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n"
          + S["private key cut by --item-max"] + "\n"
          + "-----END RSA PRIVATE KEY-----\nend of init log\n")
    # A file reached through a symlink that points outside the root.
    secret_file = write(outside, "/secret.json", json.dumps({"note": S["symlink out of root"]}))
    os.makedirs(os.path.join(root, "etc/docker"), exist_ok=True)
    os.symlink(secret_file, os.path.join(root, "etc/docker/daemon.json"))
    inspect = json.dumps([{"Id": CONTAINER, "Name": "/web", "State": {"Status": "running"},
                           "Config": {"Env": [f"NEUTRAL_D={S['inspect env neutral']}",
                                              f"DB_PASSWORD={S['inspect env password']}"]}}])
    write(bindir, "/docker", textwrap.dedent(f"""\
        #!/bin/sh
        case "$1" in
        version) echo "Client: Docker Engine"; echo " Version: 25.0.3"; echo "Server: Docker Engine"; echo " Version: 25.0.3";;
        ps) if [ "$2" = "-a" ]; then echo {CONTAINER}; else echo "CONTAINER ID IMAGE"; fi;;
        inspect) cat <<'JSON'
        {inspect}
        JSON
        ;;
        *) echo "fake docker $1";;
        esac
        """).replace("\n        ", "\n"), 0o755)


def extract(tgz):
    files = {}
    with tarfile.open(tgz, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                files[m.name] = tar.extractfile(m).read()
    return files


class BundleRedactionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="collector-bundle-red-")
        cls.root = os.path.join(cls.tmp, "root")
        cls.bin = os.path.join(cls.tmp, "bin")
        cls.out = os.path.join(cls.tmp, "out")
        os.makedirs(cls.out)
        plant(cls.root, os.path.join(cls.tmp, "outside"), cls.bin)
        cls.p, _ = run_bundle(
            ["-o", cls.out, "--root", cls.root, "--item-max", "64KiB", "--timeout", "5s",
             "--ecs-url", "http://127.0.0.1:9", "--status-url", "http://127.0.0.1:9/status"],
            env={"PATH": cls.bin + ":" + os.environ["PATH"]})
        tgz = [f for f in os.listdir(cls.out) if f.endswith(".tgz")]
        cls.files = extract(os.path.join(cls.out, tgz[0])) if len(tgz) == 1 else {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_no_planted_secret_in_any_file(self):
        self.assertEqual(self.p.returncode, 0, self.p.stderr.decode()[-3000:])
        self.assertGreater(len(self.files), 10)
        leaks = []
        for kind, secret in S.items():
            for name, data in self.files.items():
                if secret.encode() in data:
                    leaks.append(f"{kind} in {name}")
        self.maxDiff = None
        self.assertEqual(leaks, [], f"{len(leaks)} of {len(S)} kinds leaked")

    def test_collected_files_still_there(self):
        """Redaction removes values, not the files and names around them."""
        p = "collect/system/"
        self.assertIn(b"ECS_CLUSTER=prod-cluster", self.files[p + "ecs-agent/ecs.config"])
        log = self.files[p + "ecs_agent_logs/ecs-agent.log"]
        self.assertIn(b"NEUTRAL_A", log)
        self.assertIn(b"DB_PASSWORD", log)
        state = self.files[p + "ecs-agent/ecs_agent_data.txt"]
        self.assertIn(b"LISTEN_PORT", state)
        self.assertIn(b"arn:aws:ecs:us-east-1:1:task/prod/abc", state)
        inspect = self.files[p + f"docker/container-{CONTAINER}.txt"]
        self.assertIn(b"NEUTRAL_D={REDACTED}", inspect)
        init = self.files[p + "ecs_agent_logs/ecs-init.log"]
        self.assertTrue(init.endswith(b"end of init log\n"))
        self.assertFalse(p + "docker/daemon.json" in self.files, "a link out of the root was followed")

    def test_redactions_report_by_category(self):
        p = "collect/system/"
        red = self.files[p + "redactions.txt"].decode()
        for kind in ("password", "environment-value", "docker-auth", "private-key",
                     "url-credentials", "aws-access-key-id"):
            self.assertIn(kind, red)
        self.assertIn("redact check", red)


class BundlePartialTest(unittest.TestCase):
    """The archive is created new (O_EXCL|O_NOFOLLOW), mode 0600, whatever
    <out>.partial was before."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="collector-bundle-partial-")
        self.root = os.path.join(self.tmp, "root")
        write(self.root, "/etc/os-release", "ID=fake\n")
        self.out = os.path.join(self.tmp, "b.tgz")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_it(self):
        p, _ = run_bundle(["-q", "-o", self.out, "--root", self.root, "--timeout", "3s",
                           "--ecs-url", "http://127.0.0.1:9", "--status-url", "http://127.0.0.1:9/s"],
                          env={"PATH": "/nonexistent"})
        return p

    def test_partial_symlink_not_followed(self):
        victim = write(self.tmp, "/victim.txt", "do not touch\n", 0o644)
        os.symlink(victim, self.out + ".partial")
        p = self.run_it()
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), b"do not touch\n", "the archive was written through the link")
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        st = os.lstat(self.out)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertGreater(len(extract(self.out)), 3)

    def test_partial_0666_not_kept(self):
        write(self.tmp, "/b.tgz.partial", "old\n", 0o666)
        os.chmod(self.out + ".partial", 0o666)
        p = self.run_it()
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        self.assertEqual(stat.S_IMODE(os.lstat(self.out).st_mode), 0o600)


if __name__ == "__main__":
    unittest.main()
