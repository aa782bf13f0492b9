"""The operating surface on the stream port: the HTTP API (/api/v1/aclk, /api/v3/info, /healthz,
/metrics) against a real link, the access pattern, and hot reload of stream.conf with a stream
and the link staying up."""

import json
import socket
import time
import unittest
import urllib.error
import urllib.request
import uuid

from harness import parse_metrics, wait_for
from test_05_stream_bridge import BridgeTestBase, recv_reply, stream_conf

def get(port, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


class OperatingSurfaceTest(BridgeTestBase):

    def test_api_endpoints(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        port = gw.stream_port
        code, ctype, body = get(port, "/api/v1/aclk")
        self.assertEqual(code, 200)
        self.assertEqual(ctype, "application/json")
        state = json.loads(body)
        self.assertTrue(state["online"])
        self.assertEqual(list(state), list(gw.state_json()), "same JSON as aclk-state json")

        code, _, body = get(port, "/api/v3/info")
        self.assertEqual(code, 200)
        agent = json.loads(body)["agents"][0]
        self.assertEqual(list(agent)[:7], ["mg", "nd", "nm", "now", "ai", "application", "cloud"])
        cloud = agent["cloud"]
        self.assertEqual(list(cloud), ["id", "status", "since", "age", "claim_id", "url", "reason"])
        self.assertEqual(cloud["status"], "online")
        self.assertEqual(cloud["claim_id"], self.claimed_id(gw))
        self.assertEqual(cloud["reason"], "")
        self.assertEqual(agent["api"]["version"], 7)

        code, _, body = get(port, "/healthz")
        self.assertEqual(code, 200)
        self.assertEqual(json.loads(body)["link"], "connected")

        # A stream, so that per-stream series exist.
        s, got = self.handshake(gw, key, hostname="metered", ver=15352)
        self.assertTrue(got.startswith(b"Hit me baby"))
        s.sendall(b'CHART "a.b" "" "t" "u" "f" "a.b" "line" 1 1 "" "" ""\nBEGIN "a.b" 0\n'
                  b'SET "x" = 1\nEND\n')
        # Read in batches: a chunk under [stream] read batch bytes is read within a second.
        def sampled():
            code, ctype, body = get(port, "/metrics")
            return (code, ctype, body) if parse_metrics(body)[1].get(
                "aclkd_samples_dropped_total", [0])[0] >= 1 else None
        code, ctype, body = wait_for(sampled, 10, what="the stream's sample in /metrics")
        self.assertEqual(code, 200)
        self.assertTrue(ctype.startswith("text/plain; version=0.0.4"))
        types, samples, _ = parse_metrics(body)
        for name in ("aclkd_link_online", "aclkd_link_reconnects_total",
                     "aclkd_link_publish_latency_seconds", "aclkd_link_pending_pubacks",
                     "aclkd_link_messages_dropped_total", "aclkd_link_inbound_too_big_total",
                     "aclkd_link_local_pipe_strangers_total", "aclkd_streams_total", "aclkd_streams",
                     "aclkd_nodes", "aclkd_contexts", "aclkd_samples_dropped_total",
                     "aclkd_samples_dropped_per_second", "aclkd_stream_bytes_received_total",
                     "aclkd_stream_bytes_total", "aclkd_stream_samples_total",
                     "aclkd_stream_accept_failures_total",
                     "aclkd_stream_handshakes_late_total", "aclkd_stream_views_late_total",
                     "aclkd_web_requests_total",
                     "aclkd_web_dropped_total", "aclkd_live_clients"):
            self.assertIn(name, types)
        self.assertEqual(samples["aclkd_stream_accept_failures_total"], [0.0])
        self.assertEqual(samples["aclkd_stream_handshakes_late_total"], [0.0])
        self.assertEqual(samples["aclkd_stream_views_late_total"], [0.0])
        self.assertEqual(samples["aclkd_live_clients"], [0.0])
        self.assertGreaterEqual(samples["aclkd_web_requests_total"][0], 2.0, "the 405 and 404")
        self.assertEqual(samples["aclkd_link_online"], [1.0])
        self.assertEqual(samples["aclkd_streams"], [1.0])
        self.assertGreaterEqual(samples["aclkd_samples_dropped_total"][0], 1.0)
        self.assertIn('hostname="metered"', body)
        # Health counts the stream without asking the stream loops for their views.
        code, _, body = get(port, "/healthz")
        self.assertEqual(code, 200)
        self.assertEqual(json.loads(body)["streams"], 1)

        code, _, _ = get(port, "/api/v1/aclk", method="POST")
        self.assertEqual(code, 405)
        code, _, body = get(port, "/nope")
        self.assertEqual(code, 404)
        s.close()

    def test_allow_connections_from(self):
        key = str(uuid.uuid4())
        gw = self.gateway(stream_conf=stream_conf(key),
                          sections={"web": {"allow connections from": "10.*"}}).start()
        code, _, body = get(gw.stream_port, "/healthz")
        self.assertEqual(code, 403)
        self.assertIn("allow connections from", body)
        guid = str(uuid.uuid4())
        s, got = self.handshake(gw, key, guid=guid, ver=15352)
        self.assertTrue(got.startswith(b"Hit me baby"), "streams are not behind this pattern")
        # A child asks /api/v3/stream_info before it streams: that route follows `allow streaming
        # from`, not this pattern. What the gateway knows of each host, as a v2 parent answers.
        def stream_info(machine_guid):
            code, ctype, body = get(gw.stream_port, f"/api/v3/stream_info?machine_guid={machine_guid}")
            self.assertEqual((code, ctype), (200, "application/json"), body)
            info = json.loads(body)
            return info["db_status"], info["ingest_type"], info["ingest_status"]
        wait_for(lambda: gw.node(guid), 10, what="the streaming host")
        self.assertEqual(stream_info(guid), ("online", "child", "online"))
        own = gw.state_json()["node-instances"][0]["mguid"]
        self.assertEqual(stream_info(own), ("online", "localhost", "online"))
        self.assertEqual(stream_info(str(uuid.uuid4())), ("initializing", "archived", "offline"))
        s.close()
        wait_for(lambda: not gw.node(guid)["live"], 10, what="the host offline")
        self.assertEqual(stream_info(guid), ("online", "archived", "offline"))

    def test_stream_info_follows_allow_streaming_from(self):
        gw = self.gateway(stream_conf=stream_conf(str(uuid.uuid4())),
                          sections={"web": {"allow streaming from": "10.*"}}).start()
        code, _, body = get(gw.stream_port, f"/api/v3/stream_info?machine_guid={uuid.uuid4()}")
        self.assertEqual(code, 403)
        self.assertIn("allow streaming from", body)
        code, _, _ = get(gw.stream_port, "/")  # the status page: served while starting too
        self.assertEqual(code, 200, "the rest of the API follows allow connections from")

    def test_reload_applies_stream_conf_and_keeps_stream_and_link(self):
        old_key, new_key = str(uuid.uuid4()), str(uuid.uuid4())
        gw = self.bridge_gateway(old_key)
        s, got = self.handshake(gw, old_key, hostname="before-reload", ver=15352)
        self.assertTrue(got.startswith(b"Hit me baby"))
        _, refused = self.handshake(gw, new_key, ver=15352)
        self.assertEqual(refused, b"You are not permitted to access this. Check the logs for "
                                  b"more info.")
        gw.write_conf("stream.conf", stream_conf(new_key))
        r = gw.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("stream.conf", r.stdout)
        _, got = self.handshake(gw, new_key, hostname="after-reload", ver=15352)
        self.assertTrue(got.startswith(b"Hit me baby"), got)
        _, got = self.handshake(gw, old_key, ver=15352)
        self.assertTrue(got.startswith(b"You are not permitted"), "the old key is gone")
        self.assertTrue(any(st["hostname"] == "before-reload" for st in gw.table("streams")),
                        "the established stream stays")
        self.assertTrue(gw.state_json()["online"])
        self.assertEqual(gw.state_json()["reconnect-count"], 0, "the link stayed up")
        # A bad stream.conf is rejected and changes nothing.
        gw.write_conf("stream.conf", "[not-a-uuid]\n    enabled = yes\n")
        r = gw.ctl("reload")
        self.assertIn("reload rejected", r.stdout + r.stderr)
        _, got = self.handshake(gw, new_key, ver=15352)
        self.assertTrue(got.startswith(b"Hit me baby"), got)
        # SIGHUP does the same.
        gw.write_conf("stream.conf", stream_conf(old_key))
        gw.process.proc.send_signal(__import__("signal").SIGHUP)
        wait_for(lambda: self.handshake(gw, old_key, ver=15352)[1].startswith(b"Hit me baby"),
                 10, what="the old key back after SIGHUP")
        s.close()


if __name__ == "__main__":
    unittest.main()
