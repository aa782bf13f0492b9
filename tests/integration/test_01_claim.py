"""Claiming against the real aclk-testcloud over HTTPS (issue: foundation)."""

import json
import os
import random
import re
import secrets
import signal
import stat
import subprocess
import threading
import time
import unittest

from harness import (BIN_DIR, ROOM, OTHER_ROOM, Certs, Gateway, IntegrationTest, TestCloud, TinyProxy,
                     run, wait_for)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def public_of(private_pem_path):
    return run(["openssl", "pkey", "-in", private_pem_path, "-pubout"]).stdout


class ClaimTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.token = secrets.token_hex(24)
        self.secret_values.append(self.token)
        self.certs = Certs(os.path.join(self.work, "certs"))
        self.cloud = self.track(TestCloud(self.work, self.certs, [self.token]))

    def gateway(self, name="gw", **kw):
        kw.setdefault("cloud_url", self.cloud.url)
        kw.setdefault("ca_file", self.certs.ca)
        gw = Gateway(os.path.join(self.work, name), **kw)
        self.track(gw)
        return gw

    def assert_identity_whole(self, gw):
        cloud_conf = gw.read("cloud.conf")
        claimed_id = gw.read("claimed_id")
        self.assertRegex(claimed_id, UUID)
        self.assertIn(f"claimed_id = {claimed_id}", cloud_conf)
        self.assertEqual(public_of(os.path.join(gw.cloud_d, "private.pem")), gw.read("public.pem"))
        return claimed_id

    def test_claim_with_aclkctl(self):
        gw = self.gateway().start()
        state = gw.state_json()
        self.assertFalse(state["agent-claimed"])
        self.assertIsNone(state["claimed-id"])
        self.assertFalse(state["online"])
        text = gw.ctl("aclk-state").stdout
        self.assertIn("Claimed: No\n", text)
        self.assertIn("Online: No\n", text)

        r = gw.ctl("claim", f"-token={self.token}", f"-rooms={ROOM}", f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.add_private_key_secret(gw)
        state = gw.state_json()
        self.assertTrue(state["agent-claimed"])
        self.assertRegex(state["claimed-id"], UUID)
        self.assertEqual(state["cloud-url"], self.cloud.url)
        self.assertEqual(state["aclk_proxy"], "none")
        self.assertEqual(state["node-instances"][0]["claimed_id"], state["claimed-id"])
        claimed_id = self.assert_identity_whole(gw)
        self.assertEqual(claimed_id, state["claimed-id"])
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(gw.cloud_d, "private.pem")).st_mode),
                         0o600)
        recorded = self.cloud.api(f"/testcloud/api/claims/{claimed_id}")
        self.assertEqual(recorded["public_key"], gw.read("public.pem"))
        self.assertEqual(recorded["rooms"], [ROOM])
        self.assertEqual(recorded["machine_guid"], state["node-instances"][0]["mguid"])

        text = gw.ctl("aclk-state").stdout
        for line in ("Claimed: Yes\n", f"Claimed Id: {claimed_id}\n",
                     f"Cloud URL: {self.cloud.url}\n", "ACLK Proxy: none\n", "Online: No\n"):
            self.assertIn(line, text)
        # The --token style works too, and re-claims with a new claimed_id and the same key.
        before_key = gw.read("public.pem")
        r = gw.ctl("claim", "--token", self.token, "--rooms", ROOM, "--url", self.cloud.url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(gw.read("claimed_id"), claimed_id)
        self.assertEqual(gw.read("public.pem"), before_key)

    def test_claim_from_environment_at_start_and_restart_keeps_identity(self):
        gw = self.gateway(env={"NETDATA_CLAIM_TOKEN": self.token,
                               "NETDATA_CLAIM_URL": self.cloud.url,
                               "NETDATA_CLAIM_ROOMS": ROOM}).start()
        gw.wait_claimed()
        self.add_private_key_secret(gw)
        first = gw.state_json()["claimed-id"]
        self.assertEqual(len(self.cloud.claims()), 1)
        self.assertEqual(gw.stop(), 0)
        gw.start()
        gw.wait_claimed()
        self.assertEqual(gw.state_json()["claimed-id"], first)
        time.sleep(0.5)
        self.assertEqual(len(self.cloud.claims()), 1, "a claimed gateway must not claim again")

    def test_claim_conf_at_start(self):
        gw = self.gateway(claim_conf={"url": self.cloud.url, "token": self.token,
                                      "rooms": ROOM}).start()
        gw.wait_claimed()
        self.add_private_key_secret(gw)
        self.assert_identity_whole(gw)

    def test_wrong_token_and_unknown_room(self):
        gw = self.gateway().start()
        r = gw.ctl("claim", "-token=not-the-token", f"-rooms={ROOM}", f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Failed: token is expired, not found, or invalid", r.stderr)
        r = gw.ctl("claim", f"-token={self.token}", f"-rooms={OTHER_ROOM}",
                   f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("Failed: one or more room ids are invalid", r.stderr)
        state = gw.state_json()
        self.assertFalse(state["agent-claimed"])
        self.assertFalse(os.path.exists(os.path.join(gw.cloud_d, "claimed_id")))

    def test_unknown_ca_fails_with_the_verify_reason(self):
        other = Certs(os.path.join(self.work, "other-ca"), name="unrelated CA")
        gw = self.gateway(ca_file=other.ca).start()
        r = gw.ctl("claim", f"-token={self.token}", f"-rooms={ROOM}", f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("TLS certificate verification failed", r.stderr)
        self.assertIn("unable to get local issuer certificate", r.stderr)
        gw.stop()
        good = self.gateway(name="gw2").start()
        r = good.ctl("claim", f"-token={self.token}", f"-rooms={ROOM}", f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.add_private_key_secret(good)

    def test_cloud_unreachable_and_unavailable(self):
        gw = self.gateway().start()
        r = gw.ctl("claim", f"-token={self.token}", "-url=https://localhost:1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("cloud unreachable", r.stderr)
        self.cloud.api("/testcloud/api/faults", "POST", {"claim_status": 503})
        r = gw.ctl("claim", f"-token={self.token}", f"-url={self.cloud.url}")
        self.assertIn("Failed: Netdata Cloud is unavailable", r.stderr)
        self.cloud.api("/testcloud/api/faults", "POST", {"claim_status": 0})
        r = gw.ctl("claim", f"-token={self.token}", f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.add_private_key_secret(gw)

    def test_claim_through_tinyproxy_with_basic_auth(self):
        # tinyproxy's BasicAuth cannot hold '@' or ':' in a password; the parsing of such
        # credentials (percent-encoding, last-'@' rule) is covered by unit_common's proxy tests.
        password = "pw-" + secrets.token_hex(6)
        self.secret_values.append(password)
        proxy = self.track(TinyProxy(self.work, [self.cloud.port], auth=("gwuser", password)))
        encoded = password
        gw = self.gateway(extra_cloud={"proxy": f"http://gwuser:{encoded}@127.0.0.1:{proxy.port}"})
        gw.start()
        r = gw.ctl("claim", f"-token={self.token}", f"-rooms={ROOM}", f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.add_private_key_secret(gw)
        state = gw.state_json()
        self.assertEqual(state["aclk_proxy"],
                         f"http://127.0.0.1:{proxy.port} (with credentials, from aclkd.conf [cloud])")
        self.assertNotIn("gwuser", json.dumps(state))
        self.assertIn("CONNECT", open(proxy.process.log_path).read() +
                      open(proxy.process.stdout_path).read())
        gw.stop()

        bad = self.gateway(name="gw-bad", extra_cloud={
            "proxy": f"http://gwuser:wrong@127.0.0.1:{proxy.port}"}).start()
        r = bad.ctl("claim", f"-token={self.token}", f"-rooms={ROOM}", f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("proxy refused the credentials", r.stderr)

    def test_corrupt_private_key_and_invalid_url(self):
        gw = self.gateway(claim_conf={"url": self.cloud.url, "token": self.token}).start()
        gw.wait_claimed()
        self.add_private_key_secret(gw)
        gw.stop()
        with open(os.path.join(gw.cloud_d, "private.pem"), "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
        gw.start()
        message = "Claimed agent cannot establish ACLK - unable to load private key"
        wait_for(lambda: message in gw.log(), 10, what="key failure in the log")
        state = gw.state_json()
        self.assertTrue(state["agent-claimed"])
        self.assertEqual(state["aclk-status"], message)
        self.assertEqual(state["cloud-reason"], message)
        self.assertIn(message, gw.ctl("aclk-state").stdout)
        gw.stop()

        os.remove(os.path.join(gw.cloud_d, "private.pem"))
        gw.start()
        wait_for(lambda: gw.state_json()["aclk-status"] == message, 10, what="missing key status")
        gw.stop()

        bad_url = self.gateway(name="gw-url", cloud_url="https://bad host:99999")
        bad_url.start()
        # claim with the good URL; the link URL ([cloud] url) stays invalid
        r = bad_url.ctl("claim", f"-token={self.token}", f"-url={self.cloud.url}")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.add_private_key_secret(bad_url)
        invalid = 'Agent is claimed but the URL in configuration key "url" is invalid'
        self.assertEqual(bad_url.state_json()["aclk-status"], invalid)
        self.assertIn(invalid, bad_url.log())

    def test_reload_claiming_state_after_editing_claim_conf(self):
        gw = self.gateway().start()
        r = gw.ctl("reload-claiming-state")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout.strip(),
                         "Netdata Agent is not claimed to Netdata Cloud: Agent is not claimed yet")
        gw.write_claim_conf({"url": self.cloud.url, "token": self.token, "rooms": ROOM})
        results = []
        threads = [threading.Thread(target=lambda: results.append(gw.ctl("reload-claiming-state")))
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.add_private_key_secret(gw)
        self.assertEqual(len(results), 6)
        for r in results:
            self.assertEqual(r.returncode, 0)
            self.assertIn("Netdata Agent is claimed to Netdata Cloud", r.stdout)
        self.assertEqual(len(self.cloud.claims()), 1, "concurrent reloads must claim once")
        self.assertIn("CLAIM: Reloading Agent Claiming configuration.", gw.log())
        self.assert_identity_whole(gw)

    def test_kill9_during_claims_leaves_cloud_d_whole(self):
        gw = self.gateway()
        rng = random.Random(7)
        seen_ids = set()
        for i in range(12):
            gw.start()
            if i == 0:
                r = gw.ctl("claim", f"-token={self.token}", f"-url={self.cloud.url}")
                self.assertEqual(r.returncode, 0, r.stderr)
            claimer = subprocess.Popen(
                [os.path.join(BIN_DIR, "aclkctl"), "--socket", gw.socket, "claim",
                 f"-token={self.token}", f"-url={self.cloud.url}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.4))
            gw.kill9()
            claimer.wait(30)
            self.add_private_key_secret(gw)
            seen_ids.add(self.assert_identity_whole(gw))
            leftovers = [n for n in os.listdir(gw.cloud_d) if ".tmp." in n]
            self.assertEqual(leftovers, [], "temp files inside cloud.d")
        gw.start()
        state = gw.state_json()
        self.assertTrue(state["agent-claimed"])
        # No broker here: whether the first attempt has already been refused is a race.
        self.assertFalse(state["online"])
        self.assertIn(state["aclk-status"], ("offline", "connection refused"))
        self.assertGreater(len(seen_ids), 1, "some claims must have completed between kills")


class DaemonSurfaceTest(IntegrationTest):
    def test_aclkctl_without_daemon(self):
        r = run([os.path.join(BIN_DIR, "aclkctl"),
                 "--socket", os.path.join(self.work, "none.sock"), "aclk-state"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("aclkd is not running", r.stderr)

    def test_check_config_reports_file_line_and_has_no_side_effects(self):
        gw = Gateway(os.path.join(self.work, "gw"), extra_cloud={"insecure": "maybe",
                                                                "frobnicate": "1"})
        r = run([os.path.join(BIN_DIR, "aclkd"),
                 "-c", gw.etc, "--check-config"])
        self.assertEqual(r.returncode, 1)
        conf = os.path.join(gw.etc, "aclkd.conf")
        self.assertRegex(r.stderr, re.escape(conf) + r":\d+: \[cloud\] insecure = 'maybe': "
                         r"expected a boolean \(yes, no")
        self.assertRegex(r.stderr, re.escape(conf) + r":\d+: unknown option 'frobnicate'")
        self.assertFalse(os.path.exists(gw.state), "--check-config must not create the state dir")
        # A valid configuration passes.
        gw2 = Gateway(os.path.join(self.work, "gw2"))
        r = run([os.path.join(BIN_DIR, "aclkd"),
                 "-c", gw2.etc, "--check-config"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_signals_and_socket(self):
        gw = Gateway(os.path.join(self.work, "gw"))
        self.track(gw)
        gw.start()
        self.assertEqual(stat.S_IMODE(os.stat(gw.socket).st_mode), 0o660)
        guid = open(os.path.join(gw.state, "machine_guid")).read()
        # SIGHUP with a changed log level applies live
        gw.write_conf("aclkd.conf", open(os.path.join(gw.etc, "aclkd.conf")).read().replace(
            "log level = debug", "log level = info"))
        gw.process.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "log level is now info" in gw.log(), 10, what="live log level")
        self.assertEqual(gw.stop(), 0)
        self.assertFalse(os.path.exists(gw.socket))
        gw.start()
        self.assertEqual(open(os.path.join(gw.state, "machine_guid")).read(), guid)
        # a stale socket from a kill -9 is replaced
        gw.kill9()
        self.assertTrue(os.path.exists(gw.socket))
        gw.start()
        self.assertEqual(gw.state_json()["agent-claimed"], False)


if __name__ == "__main__":
    unittest.main()
