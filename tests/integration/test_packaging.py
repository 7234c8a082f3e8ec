"""Packages and the AMI recipe, built and checked with the real tools: the
.deb with dpkg-deb (contents, control, conffiles) and installed, upgraded
and purged with dpkg into a temporary root (maintainer scripts run without
chroot, as DPKG_ROOT tells them); the RPM spec with rpmbuild (Debian's rpm)
from the built binary; the Packer template with `packer validate` (offline,
Packer 1.6.6)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tests.integration.harness import BINARY, ROOT

VERSION = open(os.path.join(ROOT, "VERSION")).read().strip()
CONF_FILES = sorted(f for f in os.listdir(os.path.join(ROOT, "conf.d")) if f.endswith(".conf"))


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(args, **kw)


class Tmp(unittest.TestCase):
    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="collector-pkg-")
        self.addCleanup(shutil.rmtree, d, True)
        return d


@unittest.skipUnless(shutil.which("dpkg-deb") and shutil.which("dpkg"), "dpkg not installed")
class Deb(Tmp):
    def build(self, version=VERSION):
        out = self.tmpdir()
        r = run(["sh", os.path.join(ROOT, "deploy", "package-deb.sh"), BINARY, out, version])
        self.assertEqual(r.returncode, 0, r.stderr)
        deb = r.stdout.strip().splitlines()[-1]
        self.assertTrue(os.path.exists(deb), deb)
        return deb

    def test_make_package_target_exists(self):
        r = run(["make", "-n", "package"], cwd=ROOT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("deploy/package-deb.sh", r.stdout)

    def test_contents_control_and_conffiles(self):
        deb = self.build()
        info = run(["dpkg-deb", "-I", deb]).stdout
        fields = dict(re.findall(r"^ (\w[\w-]*): (.*)$", info, re.M))
        self.assertEqual(fields["Package"], "collector")
        self.assertEqual(fields["Version"], VERSION)
        # libcurl4 and libarchive13 are opened at first use, not linked: the
        # package has to name them itself (core/libload.h)
        for dep in ("libcurl4", "libarchive13", "libsystemd0", "libssl3", "ca-certificates"):
            self.assertIn(dep, fields["Depends"])
        for script in ("postinst", "prerm", "postrm", "conffiles"):
            self.assertRegex(info, rf"\b{script}\b")
        listing = run(["dpkg-deb", "-c", deb]).stdout
        paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
        self.assertIn("/usr/bin/collector", paths)
        self.assertIn("/lib/systemd/system/collector.service", paths)
        for f in CONF_FILES:
            self.assertIn("/etc/collector/conf.d/" + f, paths)
        conffiles = run(["dpkg-deb", "-f", deb, "Package"])  # the package is readable
        self.assertEqual(conffiles.stdout.strip(), "collector")
        ctl = self.tmpdir()
        run(["dpkg-deb", "-e", deb, ctl], check=True)
        with open(os.path.join(ctl, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/collector/conf.d/" + c for c in CONF_FILES])

    def test_unit_is_hardened(self):
        deb = self.build()
        root = self.tmpdir()
        run(["dpkg-deb", "-x", deb, root], check=True)
        with open(os.path.join(root, "lib/systemd/system/collector.service")) as f:
            unit = f.read()
        keys = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
        self.assertEqual(keys["ExecStart"], "/usr/bin/collector run -c /etc/collector/conf.d")
        self.assertEqual(keys["ProtectSystem"], "strict")
        self.assertEqual(keys["NoNewPrivileges"], "yes")
        # Reading every log, journal and /proc file as root, and nothing else.
        self.assertEqual(keys["CapabilityBoundingSet"], "CAP_DAC_READ_SEARCH")
        self.assertEqual(keys["AmbientCapabilities"], "")
        self.assertEqual(keys["ReadWritePaths"], "/var/lib/collector")
        if shutil.which("systemd-analyze"):
            # verify wants the ExecStart binary where the unit says: point it at the root.
            unit_copy = os.path.join(self.tmpdir(), "collector.service")
            with open(unit_copy, "w") as f:
                f.write(unit.replace("/usr/bin/collector", os.path.join(root, "usr/bin/collector")))
            r = run(["systemd-analyze", "verify", unit_copy])
            self.assertNotIn("collector.service:", r.stderr, r.stderr)

    def dpkg(self, root, *args):
        r = run(["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
                 "--force-not-root"] + list(args))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def test_install_upgrade_keeps_edits_purge_removes(self):
        deb = self.build()
        newer = self.build(VERSION + ".1")
        root = self.tmpdir()
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates"):
            os.makedirs(os.path.join(root, d))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        self.dpkg(root, "-i", deb)
        binary = os.path.join(root, "usr/bin/collector")
        conf_d = os.path.join(root, "etc/collector/conf.d")
        self.assertEqual(sorted(os.listdir(conf_d)), CONF_FILES)
        state = os.path.join(root, "var/lib/collector")
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o750)   # made by postinst
        # The installed binary and configuration work together.
        r = run([binary, "check-config", "-c", conf_d],
                env=dict(os.environ, AWS_EC2_METADATA_DISABLED="true", COLLECTOR_DATA_DIR=state))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # An operator's edit survives an upgrade.
        edited = os.path.join(conf_d, "00-agent.conf")
        with open(edited, "a") as f:
            f.write("# edited by the operator\n")
        self.dpkg(root, "-i", newer)
        with open(edited) as f:
            self.assertIn("# edited by the operator", f.read())
        status = run(["dpkg-query", "--admindir=" + os.path.join(root, "var/lib/dpkg"), "-W",
                      "-f=${Version}", "collector"]).stdout
        self.assertEqual(status, VERSION + ".1")
        # Remove keeps configuration and state; purge takes both.
        self.dpkg(root, "--remove", "collector")
        self.assertFalse(os.path.exists(binary))
        self.assertTrue(os.path.exists(edited))
        self.dpkg(root, "--purge", "collector")
        self.assertFalse(os.path.exists(os.path.join(root, "etc/collector")))
        self.assertFalse(os.path.exists(state))


@unittest.skipUnless(shutil.which("rpmbuild") and shutil.which("rpm"), "rpm not installed")
class Rpm(Tmp):
    def test_rpmbuild_accepts_the_spec(self):
        top = self.tmpdir()
        src = os.path.join(top, "SOURCES")
        os.makedirs(src)
        shutil.copy(BINARY, os.path.join(src, "collector"))
        shutil.copy(os.path.join(ROOT, "deploy", "collector.service"), src)
        shutil.copytree(os.path.join(ROOT, "conf.d"), os.path.join(src, "conf.d"))
        r = run(["rpmbuild", "-bb", os.path.join(ROOT, "deploy", "collector.spec"),
                 "--define", "_topdir " + top, "--define", "collector_version " + VERSION],
                timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        rpms = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(top, "RPMS"))
                for f in fs if f.endswith(".rpm")]
        self.assertEqual(len(rpms), 1)
        rpm = rpms[0]
        files = set(run(["rpm", "-qpl", rpm]).stdout.split())
        for f in ("/usr/bin/collector", "/usr/lib/systemd/system/collector.service",
                  "/var/lib/collector"):
            self.assertIn(f, files)
        config = run(["rpm", "-qpc", rpm]).stdout.split()
        self.assertEqual(config, ["/etc/collector/conf.d/" + c for c in CONF_FILES])
        # noreplace: edited configuration is kept on upgrade.
        dump = run(["rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", rpm]).stdout
        for line in dump.splitlines():
            if line.startswith("/etc/collector/conf.d/"):
                self.assertIn("n", line.split()[1], line)
        requires = run(["rpm", "-qp", "--requires", rpm]).stdout
        for soname in ("libsystemd.so.0", "libcurl.so.4", "libarchive.so.13"):
            self.assertIn(soname, requires)
        scripts = run(["rpm", "-qp", "--scripts", rpm]).stdout
        self.assertIn("systemctl enable collector.service", scripts)
        self.assertIn("systemctl disable --now collector.service", scripts)
        self.assertEqual(run(["rpm", "-qp", "--qf", "%{VERSION}", rpm]).stdout, VERSION)


@unittest.skipUnless(shutil.which("packer"), "packer not installed")
class Packer(Tmp):
    TEMPLATE = os.path.join(ROOT, "deploy", "packer", "collector-ecs-ami.pkr.hcl")

    def validate(self, template, *args):
        env = dict(os.environ, CHECKPOINT_DISABLE="1", PACKER_CACHE_DIR=self.tmpdir(),
                   HOME=self.tmpdir())
        return run(["packer", "validate"] + list(args) + [template], env=env, cwd=self.tmpdir())

    def test_template_validates_offline(self):
        rpm = os.path.join(self.tmpdir(), "collector-1.rpm")
        open(rpm, "w").close()
        r = self.validate(self.TEMPLATE, "-var", "collector_rpm=" + rpm)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(self.TEMPLATE) as f:
            text = f.read()
        self.assertIn("al2023-ami-ecs-hvm-", text)          # the ECS-optimized AMI
        self.assertIn("yum install -y /tmp/collector.rpm", text)
        self.assertIn("systemctl enable collector.service", text)

    def test_validate_catches_a_broken_template(self):
        """The check above can fail: a misspelt argument is refused."""
        with open(self.TEMPLATE) as f:
            text = f.read().replace("ssh_username", "ssh_user_name")
        bad = os.path.join(self.tmpdir(), "bad.pkr.hcl")
        with open(bad, "w") as f:
            f.write(text)
        r = self.validate(bad, "-var", "collector_rpm=/dev/null")
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
