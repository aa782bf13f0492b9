"""The truth round for operators: untrusted text never forges a log line or reaches the node
table or the cloud raw; every dropped stream leaves a warning (per peer and reason); /metrics is
a lint-clean exposition whose counters never go down across a disconnect; a broken identity is
never replaced silently; SIGUSR1 reopens the log file."""

import os
import signal
import socket
import time
import unittest
import uuid

from harness import parse_metrics, read_text, wait_for
from test_05_stream_bridge import BridgeTestBase, closed_by_peer, recv_reply
from test_06_operating_surface import get

FORGED = "2026-11-30 01:00:00.000 critical [1] forged"


def scrape(port):
    """({name: type}, {series: value}) of /metrics after harness's strict lint."""
    code, ctype, text = get(port, "/metrics")
    assert code == 200 and ctype.startswith("text/plain; version=0.0.4"), (code, ctype)
    types, _, series = parse_metrics(text)
    return types, series


class HardeningTest(BridgeTestBase):

    def warnings(self, gw, needle):
        return [l for l in gw.log().splitlines() if " warning " in l and needle in l]

    def assert_no_forged_line(self, gw):
        for line in gw.log().splitlines():
            self.assertFalse(line.startswith(FORGED[:23]) or line.startswith("forged"),
                             f"forged log line: {line!r}")

    def test_untrusted_text_is_escaped_or_refused(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        cid = self.claimed_id(gw)
        evil = "evil%0A" + FORGED.replace(" ", "%20")
        # A host name with a newline: refused, logged without the raw text, not in the table.
        s, got = self.handshake(gw, key, hostname=evil)
        self.assertNotIn(b"Hit me baby", got or b"")
        wait_for(lambda: "parameter 'hostname': the host name has control characters" in gw.log(),
                 5, what="the refusal")
        # A key with a newline (valid or not, it is logged): escaped.
        s2, got = self.handshake(gw, "x%0Aforged%20key%20line")
        wait_for(lambda: "x\\x0aforged key line" in gw.log(), 5, what="the escaped key")
        # Stream text: an unknown keyword with a terminal escape is logged escaped; a host label
        # with control characters is stored escaped.
        good_guid = str(uuid.uuid4())
        good, got = self.handshake(gw, key, guid=good_guid, hostname="good", ver=15352)
        self.assertTrue(got.startswith(b"Hit me baby"))
        good.sendall(b"FOO\x1b[2J bar\n"
                     b'LABEL "evil" = 1 "a\x1b[31mb\rc"\nOVERWRITE labels\n'
                     b'CHART "disk.io" "" "Disk\x07 I/O" "KiB/s" "io" "disk.io" "line" 100 1 '
                     b'"" "" ""\n')
        wait_for(lambda: "ignoring unknown keyword 'FOO\\x1b[2J'" in gw.log(), 5,
                 what="the escaped keyword")
        node = wait_for(lambda: (gw.node(good_guid) or {}).get("charts") == 1 and
                        gw.node(good_guid), 5, what="the good node")
        self.assertNotIn("\x1b", str(node))
        self.assertNotIn("evil", "".join(n["hostname"] for n in gw.table("nodes")))
        # From the cloud: a node id that is not a UUID is refused and counted, not stored.
        _, before = scrape(gw.stream_port)
        guid = gw.state_json()["node-instances"][0]["mguid"]
        self.cloud.send(cid, "CreateNodeInstanceResult",
                        message={"node_id": "evil\n" + FORGED, "machine_guid": guid})
        wait_for(lambda: scrape(gw.stream_port)[1]["aclkd_link_malformed_inbound_total"] >
                 before["aclkd_link_malformed_inbound_total"], 10, what="the malformed count")
        self.assertNotIn("evil", str(gw.state_json()["node-instances"]))
        self.assertIn('node_id "evil\\x0a2026-11-30', gw.log())
        self.assert_no_forged_line(gw)
        for sock in (s, s2, good):
            sock.close()

    def test_every_drop_is_a_warning_per_peer_and_reason(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        # The handshake timeout (10 s) runs while the other drops happen.
        idle = self.connect(gw)
        idle.sendall(b"STREAM key=")
        for i in range(2):
            big, got = self.handshake(gw, key, hostname=f"big{i}", ver=15352)
            try:  # the gateway may close while the line is still being sent
                big.sendall(b"CHART " + b"x" * (1 << 17) + b"\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertTrue(closed_by_peer(big))
        junk, got = self.handshake(gw, key, hostname="lz4", ver=15352 | (1 << 10))
        junk.sendall(b"\xff" * 64)
        self.assertTrue(closed_by_peer(junk))
        # Two reasons from one peer: two warnings; the same reason again: suppressed for a minute.
        wait_for(lambda: self.warnings(gw, "corrupt"), 5, what="the corrupt-stream warning")
        self.assertEqual(len(self.warnings(gw, "exceeds the limit")), 1, gw.log())
        self.assertTrue(closed_by_peer(idle, 15))
        wait_for(lambda: self.warnings(gw, "no complete request within 10 s"), 5,
                 what="the handshake timeout warning")
        self.assertGreaterEqual(gw.state_json()["counters"]["streams-dropped"], 4)

    def test_a_corrupt_zstd_block_drops_the_stream(self):
        # A v2-style offer: LZ4 and zstd. The gateway keeps zstd (its first choice); a block that
        # is no zstd drops the stream with the decoder's words, a warning and the counter.
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        zstd = 1 << 19
        s, got = self.handshake(gw, key, hostname="zstd", ver=15352 | (1 << 10) | zstd)
        self.assertEqual(got, f"Hit me baby, push them over with the version={15296 | zstd}"
                         .encode())
        wait_for(lambda: [x for x in gw.table("streams") if x["compression"] == "zstd"], 10,
                 what="the stream, with compression zstd")
        s.sendall(bytes([0xFA, 0x80 | 10, 0x80, 0x0A]) + b"\xff" * 10)
        self.assertTrue(closed_by_peer(s))
        wait_for(lambda: self.warnings(gw, "zstd block of 10 bytes does not decode"), 5,
                 what="the corrupt zstd warning")
        self.assertEqual(gw.state_json()["counters"]["streams-dropped"], 1)

    def test_metrics_counters_never_go_down_across_a_disconnect(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key, extra_cloud={"proxy": "none",
                                                   "inbound message limit": "16"})
        cid = self.claimed_id(gw)
        streams = []
        for name in ("m1", "m2"):
            s, got = self.handshake(gw, key, hostname=name, ver=15352)
            self.assertTrue(got.startswith(b"Hit me baby"))
            s.sendall(b'CHART "disk.io" "" "Disk I/O" "KiB/s" "io" "disk.io" "line" 100 1 "" "" ""\n'
                      b'DIMENSION "reads" "" "incremental" 1 1 ""\n'
                      + b'BEGIN "disk.io"\nSET "reads" = 1\nEND\n' * 50
                      + b"BEGIN\n")  # a known keyword without its argument: malformed
            streams.append(s)
        wait_for(lambda: sum(st["samples"] for st in gw.table("streams")) == 100, 10,
                 what="100 samples")
        rows = gw.table("streams")
        self.assertEqual([r["malformed-lines"] for r in rows], [1, 1])
        types, first = scrape(gw.stream_port)
        for name in ("aclkd_link_publish_failures_total", "aclkd_link_bans_total",
                     "aclkd_link_inbound_too_big_total", "aclkd_stream_malformed_lines_total",
                     "aclkd_samples_dropped_total", "aclkd_stream_bytes_received_total"):
            self.assertEqual(types.get(name), "counter", name)
        self.assertEqual(first["aclkd_samples_dropped_total"], 100)
        self.assertEqual(first["aclkd_stream_malformed_lines_total"], 2)
        # One child goes away, and a message over the inbound limit drops the link once.
        streams[0].close()
        wait_for(lambda: len(gw.table("streams")) == 1, 10, what="one stream left")
        self.cloud.send(cid, "SendNodeInstances", size=20 * 1024)
        wait_for(lambda: scrape(gw.stream_port)[1]["aclkd_link_inbound_too_big_total"] == 1, 10,
                 what="the too-big count")
        _, second = scrape(gw.stream_port)
        for series, value in first.items():
            name = series.split("{")[0]
            if types[name] == "counter" and series in second:
                self.assertGreaterEqual(second[series], value, series)
        self.assertEqual(second["aclkd_samples_dropped_total"], 100)
        self.assertGreaterEqual(second["aclkd_stream_bytes_received_total"],
                                first["aclkd_stream_bytes_received_total"])
        streams[1].close()

    def test_a_corrupt_claimed_id_is_never_replaced_silently(self):
        gw = self.online_gateway()
        cid = self.claimed_id(gw)
        claims = len(self.cloud.claims())
        gw.stop()
        cloud_conf = gw.read("cloud.conf")
        with open(os.path.join(gw.cloud_d, "cloud.conf"), "w") as f:
            f.write(cloud_conf.replace(cid, "not-a-uuid"))
        with open(os.path.join(gw.cloud_d, "claimed_id"), "w") as f:
            f.write("also-not")
        os.chmod(os.path.join(gw.cloud_d, "private.pem"), 0o644)
        gw.start()
        wait_for(lambda: "the gateway will not claim itself again" in gw.log(), 10,
                 what="the corrupt identity error")
        log = gw.log()
        self.assertIn(os.path.join(gw.cloud_d, "cloud.conf") + ": claimed_id 'not-a-uuid'", log)
        self.assertIn("aclkctl reload-claiming-state", log)
        self.assertIn("permissions 0644 for '" + os.path.join(gw.cloud_d, "private.pem") +
                      "' are too open", log)
        time.sleep(1)
        self.assertFalse(gw.state_json()["agent-claimed"])
        self.assertEqual(len(self.cloud.claims()), claims, "claimed again with a new identity")
        # Fixed by hand, then reload-claiming-state: the same identity comes back.
        with open(os.path.join(gw.cloud_d, "cloud.conf"), "w") as f:
            f.write(cloud_conf)
        r = gw.ctl("reload-claiming-state")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.claimed_id(gw), cid)
        self.wait_online(gw, 15)

    def test_sigusr1_reopens_the_log_file(self):
        gw = self.gateway().start()
        os.rename(gw.log_file, gw.log_file + ".1")
        gw.process.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: os.path.exists(gw.log_file) and "log file reopened" in gw.log(), 10,
                 what="a new log file")
        self.assertNotIn("log file reopened", read_text(gw.log_file + ".1"))


if __name__ == "__main__":
    unittest.main()
