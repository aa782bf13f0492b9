"""Opt-in (ACLKD_CONTAINER_TEST=1, root, several minutes): builds the image with podman from a
debootstrap root filesystem and runs it twice over one volume against the test cloud, expecting the
same claimed_id both times. Without a container engine the entrypoint is covered by
test_07_packaging."""

import json
import os
import subprocess
import unittest

from harness import ROOM, free_port, wait_for
from test_03_link import LinkTestBase

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
WORK = os.environ.get("ACLKD_PODMAN_WORK", "/var/tmp/aclkd-podman")


@unittest.skipUnless(os.environ.get("ACLKD_CONTAINER_TEST") == "1" and os.getuid() == 0,
                     "opt-in: ACLKD_CONTAINER_TEST=1 as root")
class ContainerTest(LinkTestBase):
    def podman(self, *args, **kw):
        env = dict(os.environ, CONTAINERS_STORAGE_CONF=os.path.join(WORK, "storage.conf"))
        return subprocess.run(["podman", "--cgroup-manager=cgroupfs", "--events-backend=file",
                               "--runtime", "runc", *args], capture_output=True, text=True,
                              env=env, **kw)

    def test_image_twice_over_one_volume(self):
        r = subprocess.run([os.path.join(ROOT, "packaging", "docker", "podman-build.sh"),
                            "localhost/aclkd:test"], capture_output=True, text=True, timeout=1800)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        volume = os.path.join(self.work, "state")
        os.makedirs(volume)
        os.chmod(volume, 0o777)
        port = free_port()
        ids = []
        for attempt in range(2):
            name = f"aclkd-test-{os.getpid()}-{attempt}"
            r = self.podman(
                "run", "-d", "--name", name, "--network=host", "--ulimit", "nofile=1024:1024",
                "--ulimit", "nproc=4096:4096", "-v", f"{volume}:/var/lib/aclkd",
                "-v", f"{self.certs.ca}:/etc/aclkd-ca.pem:ro",
                "-e", f"ACLKD_BIND_TO=127.0.0.1:{port}", "-e", "ACLKD_CA_FILE=/etc/aclkd-ca.pem",
                "-e", f"NETDATA_CLAIM_TOKEN={self.token}", "-e", f"NETDATA_CLAIM_ROOMS={ROOM}",
                "-e", f"NETDATA_CLAIM_URL={self.cloud.url}", "-e", "NETDATA_CLAIM_PROXY=none",
                "localhost/aclkd:test")
            self.assertEqual(r.returncode, 0, r.stderr)
            try:
                def online():
                    out = self.podman("exec", name, "aclkctl", "aclk-state", "json")
                    return out.returncode == 0 and json.loads(out.stdout)["online"] and \
                        json.loads(out.stdout)
                state = wait_for(online, 60, interval=1, what="online in the container")
                ids.append(state["claimed-id"])
            finally:
                self.podman("stop", "-t", "10", name)
                self.podman("rm", "-f", name)
        self.assertEqual(ids[0], ids[1])


if __name__ == "__main__":
    unittest.main()
