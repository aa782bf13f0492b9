"""aclkctl as an operator uses it: every subcommand, in text and in json form, against a real
gateway with no stream and with two streams. Outputs are compared with golden files after the
fields that change from run to run (ports, times, the gateway's machine GUID, the socket path)
are normalised. ACLKD_UPDATE_GOLDEN=1 rewrites the golden files."""

import json
import os
import re
import socket
import unittest
import uuid

from harness import BIN_DIR, Gateway, IntegrationTest, run, wait_for

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
KEY = "5b2e7c1a-0d3f-4e6a-9b8c-7d6e5f4a3b2c"
CHILDREN = [("cli-child-a", "0a0a0a0a-1111-4222-8333-444444444444"),
            ("cli-child-b", "0b0b0b0b-1111-4222-8333-444444444444")]

# (arguments, whether the output is compared with the golden file)
COMMANDS = [
    ["--version"], ["--help"], ["bogus"], ["ping"],
    ["aclk-state"], ["aclk-state", "json"],
    ["streams"], ["streams", "json"],
    ["nodes"], ["nodes", "json"],
    ["reload"], ["reload-claiming-state"],
    # On a live child these change nothing ("online - not changing it"), so both runs stay golden.
    ["mark-stale-nodes-ephemeral", "0a0a0a0a-1111-4222-8333-444444444444"],
    ["mark-stale-nodes-ephemeral", "0a0a0a0a-1111-4222-8333-444444444444", "json"],
    ["remove-stale-node", "0a0a0a0a-1111-4222-8333-444444444444"],
    ["remove-stale-node", "0a0a0a0a-1111-4222-8333-444444444444", "json"],
    ["claim", "-token=not-a-real-token", "-url=https://127.0.0.1:9", "-noproxy"],
]


def stream_conf():
    return f"[{KEY}]\n    enabled = yes\n    allow from = *\n"


class CliTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.gw = self.track(Gateway(os.path.join(self.work, "gw"),
                                     extra_cloud={"enabled": "no"},
                                     extra_global={"hostname": "cli-gw"},
                                     stream_conf=stream_conf()))
        self.gw.start()

    def normalise(self, text):
        guid = self.gw.state_json()["node-instances"][0]["mguid"]
        text = text.replace(guid, "<GATEWAY-GUID>").replace(self.gw.socket, "<SOCKET>")
        text = text.replace(self.gw.root, "<ROOT>")
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<PORT>", text)
        text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( ?UTC|Z)?", "<TIME>", text)
        text = re.sub(r'("(since|now|age|started)": )\d+', r"\1<N>", text)
        # The state store writes in 250 ms windows: how many have run by now is timing.
        text = re.sub(r'("store-(batches|rows-written)": )\d+', r"\1<N>", text)
        text = re.sub(r"after \d+ ms", "after <N> ms", text)  # libcurl's connect time
        # Column widths follow the normalised values; compare words, not alignment.
        return "\n".join(re.sub(r"[ \t]+", " ", line).rstrip() for line in text.splitlines())

    def run_all(self):
        out = []
        for args in COMMANDS:
            r = self.gw.ctl(*args, timeout=60)
            out.append(f"$ aclkctl {' '.join(args)}\n[exit {r.returncode}]\n"
                       f"--- stdout\n{self.normalise(r.stdout)}\n--- stderr\n"
                       f"{self.normalise(r.stderr)}\n")
            if args[-1] == "json" and r.returncode == 0:
                json.loads(r.stdout)  # the json forms are JSON
        return "\n".join(out)

    def check_golden(self, name, text):
        path = os.path.join(GOLDEN, name)
        if os.environ.get("ACLKD_UPDATE_GOLDEN"):
            with open(path, "w") as f:
                f.write(text)
        with open(path) as f:
            self.assertEqual(text, f.read(), f"aclkctl output differs from {path}")

    def open_stream(self, hostname, guid):
        s = socket.create_connection(("127.0.0.1", self.gw.stream_port), timeout=10)
        s.sendall(f"STREAM key={KEY}&hostname={hostname}&machine_guid={guid}&hops=1"
                  f"&NETDATA_PROTOCOL_VERSION=1.1 HTTP/1.1\r\nUser-Agent: netdata/v1.37.1\r\n"
                  f"Accept: */*\r\n\r\n".encode())
        self.assertTrue(s.recv(4096).startswith(b"Hit me baby"))
        # Definitions only: no samples, so no rate changes between runs.
        s.sendall(b'CHART "disk.io" "" "Disk I/O" "KiB/s" "io" "disk.io" "line" 100 1 "" "" ""\n'
                  b'DIMENSION "reads" "" "incremental" 1 1 ""\n')
        return s

    def test_every_subcommand_with_no_and_two_streams(self):
        self.check_golden("cli_no_streams.txt", self.run_all())
        sockets = [self.open_stream(h, g) for h, g in CHILDREN]
        wait_for(lambda: sum(1 for n in self.gw.table("nodes") if n["live"] and n["charts"] == 1)
                 == 2, 10, what="two live nodes with their chart")
        self.check_golden("cli_two_streams.txt", self.run_all())
        for s in sockets:
            s.close()

    def test_versions_agree(self):
        ctl = run([os.path.join(BIN_DIR, "aclkctl"), "--version"])
        daemon = run([os.path.join(BIN_DIR, "aclkd"), "--version"])
        cloud = run([os.path.join(BIN_DIR, "aclk-testcloud"), "--version"])
        self.assertEqual(ctl.returncode, 0, ctl.stderr)
        self.assertEqual(daemon.returncode, 0, daemon.stderr)
        self.assertEqual(cloud.returncode, 0, cloud.stderr)
        version = ctl.stdout.split()[-1]
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")
        self.assertEqual(daemon.stdout.strip(), "aclkd " + version)
        self.assertEqual(cloud.stdout.strip(), "aclk-testcloud " + version)
        self.assertIn(f"aclkd {version} starting", self.gw.log())
        # What the cloud and /api/v3/info are told: the same version with Netdata's leading 'v'.
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{self.gw.stream_port}/api/v3/info",
                                    timeout=10) as r:
            info = json.loads(r.read())
        self.assertEqual(info["agents"][0]["application"]["package"]["version"], "v" + version)
        # Unclaimed, cloud.url is the URL the gateway would use, never "".
        self.assertEqual(info["agents"][0]["cloud"]["url"], "https://app.netdata.cloud")


if __name__ == "__main__":
    unittest.main()
