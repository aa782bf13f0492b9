"""Packaging without a container engine: the Docker entrypoint run directly, twice over one state
dir (the same claimed_id both times, claimed from NETDATA_CLAIM_*), and the systemd unit's
directives checked against what the daemon does (notify, reload by SIGHUP)."""

import os
import signal
import subprocess
import urllib.request

from harness import BIN_DIR, ROOM, Process, free_port, read_text, run, wait_for
from test_03_link import LinkTestBase

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ENTRYPOINT = os.path.join(ROOT, "packaging", "docker", "entrypoint.sh")
UNIT = os.path.join(ROOT, "packaging", "systemd", "aclkd.service")


class PackagingTest(LinkTestBase):

    def start_entrypoint(self, root, port):
        env = dict(os.environ)
        env.update({
            "ACLKD_BIN_DIR": os.path.abspath(BIN_DIR), "ACLKD_CONFIG_DIR": f"{root}/etc",
            "ACLKD_STATE_DIR": f"{root}/state", "ACLKD_RUN_DIR": f"{root}/run",
            "ACLKD_BIND_TO": f"127.0.0.1:{port}", "ACLKD_CA_FILE": self.certs.ca,
            "NETDATA_CLAIM_TOKEN": self.token, "NETDATA_CLAIM_ROOMS": ROOM,
            "NETDATA_CLAIM_URL": self.cloud.url, "NETDATA_CLAIM_PROXY": "none",
        })
        p = Process(["sh", ENTRYPOINT], os.path.join(root, "entrypoint.log"), env=env)
        ctl = [os.path.join(BIN_DIR, "aclkctl"), "--socket", f"{root}/run/aclkd.sock"]
        return p, ctl

    def state(self, ctl):
        import json
        r = run(ctl + ["aclk-state", "json"])
        return json.loads(r.stdout) if r.returncode == 0 else None

    def test_entrypoint_twice_keeps_the_identity(self):
        root = os.path.join(self.work, "container")
        os.makedirs(root)
        port = free_port()
        ids = []
        for attempt in range(2):
            p, ctl = self.start_entrypoint(root, port)
            try:
                s = wait_for(lambda: (st := self.state(ctl)) and st["online"] and st, 30,
                             what=f"online (start {attempt + 1})")
                ids.append(s["claimed-id"])
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    self.assertEqual(r.status, 200)
                self.secret_values += [l for l in read_text(
                    f"{root}/state/cloud.d/private.pem").splitlines() if "-----" not in l][1:3]
            finally:
                self.assertEqual(p.stop(), 0, read_text(p.log_path)[-2000:])
        self.assertEqual(ids[0], ids[1])
        self.assertEqual(len(self.cloud.claims()), 1, "claimed once")
        self.assertEqual(oct(os.stat(f"{root}/state/cloud.d/private.pem").st_mode & 0o777),
                         "0o600")
        self.assertNotIn(self.token, read_text(f"{root}/etc/aclkd.conf"))

    def test_systemd_unit_matches_the_daemon(self):
        unit = read_text(UNIT)
        for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=",
                     "NoNewPrivileges=yes", "ProtectSystem=strict", "StateDirectory=aclkd"):
            self.assertIn(line, unit)
        r = run(["systemd-analyze", "verify", UNIT]) if os.path.exists(
            "/usr/bin/systemd-analyze") else None
        if r is not None:
            # Missing /usr/bin/aclkd on a build machine is expected; syntax errors are not.
            bad = [l for l in r.stderr.splitlines()
                   if "Unknown" in l or "Invalid" in l or "Failed to parse" in l]
            self.assertFalse(bad, r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
