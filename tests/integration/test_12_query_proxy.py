"""The query proxy (issue 12): the test cloud sends `cmd` requests for relayed nodes and the
gateway answers them from the agent that holds the metrics. Real agents (Debian's netdata 1.37,
the shared Netdata v2.10.4) stream into aclkd with their web API on; a small Python HTTP server
plays an agent that hangs or answers too much; the failure cases get docs/protocol/aclk.md §8.2's
errors."""

import base64
import gzip
import http.server
import json
import os
import socket
import ssl
import threading
import time
import unittest
import urllib.request
import uuid

from harness import NetdataChild, free_port, start_netdata_v2, wait_for
from test_05_stream_bridge import BridgeTestBase, recv_reply

SHARED_V2 = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netdata-v2")
BIG = 17 << 20


class FakeAgent:
    """An HTTP server on 127.0.0.1: /api/v1/big answers 17 MiB, /api/v1/echo answers what it
    received (method, path, headers), anything else never answers until stop()."""

    def __init__(self, certs=None):
        release = self.release = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, body, ctype="application/json"):
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the gateway stopped reading at its cap

            def do_GET(self):  # noqa: N802 - the library's name
                if self.path.startswith("/api/v1/big"):
                    self.answer(b"x" * BIG, "text/plain")
                elif self.path.startswith("/api/v1/echo"):
                    n = int(self.headers.get("Content-Length") or 0)
                    self.answer(json.dumps({"method": self.command, "path": self.path,
                                            "headers": dict(self.headers.items()),
                                            "body": self.rfile.read(n).decode()}).encode())
                else:
                    release.wait(120)

            do_POST = do_GET  # noqa: N815

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if certs:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certs.cert, certs.key)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def http_get(url, timeout=20):
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def split_http(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return status, headers, body


class QueryProxyTestBase(BridgeTestBase):
    def query_gateway(self, sections):
        conf = "".join(f"[{key}]\n    enabled = yes\n    allow from = *\n" +
                       "".join(f"    {k} = {v}\n" for k, v in extra.items())
                       for key, extra in sections.items())
        gw = self.gateway(stream_conf=conf).start()
        self.wait_online(gw, 15)
        self.add_private_key_secret(gw)
        return gw

    def node_id(self, gw, guid, timeout=30):
        return wait_for(lambda: next((n["node-id"] for n in gw.state_json()["node-instances"]
                                      if n["mguid"] == guid and n["node-id"]), None), timeout,
                        what=f"the node id of {guid}")

    def send_cmd(self, cid, path, method="GET", **kw):
        return self.cloud.agent(cid, "cmd", method=method, path=path, **kw)["msg_id"]

    def reply(self, cid, msg_id, timeout=30):
        def find():
            for m in self.cloud.messages(cid, "cmd-reply"):
                if isinstance(m.get("header"), dict) and m["header"].get("msg-id") == msg_id:
                    return m
            return None
        m = wait_for(find, timeout, interval=0.1, what=f"the cmd reply to {msg_id}")
        raw = base64.b64decode(m["http_b64"])
        return m["header"], (split_http(raw) if raw else None)

    def cmd(self, cid, path, **kw):
        return self.reply(cid, self.send_cmd(cid, path, **kw))

    def fake_stream(self, gw, key, hostname):
        """A stream that says hello and then stays quiet: a live node with no charts."""
        guid = str(uuid.uuid4())
        s = socket.create_connection(("127.0.0.1", gw.stream_port), timeout=10)
        s.sendall(f"STREAM key={key}&hostname={hostname}&machine_guid={guid}&hops=1"
                  f"&NETDATA_PROTOCOL_VERSION=1.1 HTTP/1.1\r\nUser-Agent: netdata/v1.37.1\r\n"
                  f"Accept: */*\r\n\r\n".encode())
        self.assertTrue(recv_reply(s))
        self._sockets.append(s)
        return s, guid

    def setUp(self):
        super().setUp()
        self._sockets = []

    def tearDown(self):
        for s in self._sockets:
            s.close()
        super().tearDown()

    def assert_same_answer(self, via_cloud, direct_status, direct_body):
        header, (status, headers, body) = via_cloud
        self.assertEqual(header["http-code"], direct_status)
        self.assertEqual(status, direct_status)
        mine, theirs = json.loads(body), json.loads(direct_body)
        self.assertEqual(sorted(mine.keys()), sorted(theirs.keys()))
        return mine, theirs


class QueryProxyTest(QueryProxyTestBase):

    def test_netdata_137_child_and_failure_cases(self):
        child_key, fake_key, dead_key, closed_key = (str(uuid.uuid4()) for _ in range(4))
        web = free_port()
        fake = self.track(FakeAgent())
        gw = self.query_gateway({
            child_key: {"query url": f"http://127.0.0.1:{web}"},
            fake_key: {"query url": f"http://127.0.0.1:{fake.port}"},
            dead_key: {"query url": f"http://127.0.0.1:{free_port()}"},
            closed_key: {"allow queries": "no"},
        })
        cid = self.claimed_id(gw)
        child = self.track(NetdataChild(os.path.join(self.work, "child"), gw.stream_port,
                                        child_key, "qp-child", web_port=web)).start()
        guid = wait_for(child.machine_guid, 30, what="the child's machine GUID")
        node = self.node_id(gw, guid)
        wait_for(lambda: http_get(f"http://127.0.0.1:{web}/api/v1/info")[0] == 200, 30,
                 what="the child's web API")
        _, fake_guid = self.fake_stream(gw, fake_key, "qp-fake")
        fake_node = self.node_id(gw, fake_guid)

        # A hanging agent holds one request; the others still flow.
        hanging = self.send_cmd(cid, f"/node/{fake_node}/api/v1/hang", timeout_ms=60000)

        # Data, info, /host/ by hostname: what the child answers itself.
        chart = "system.cpu"
        wait_for(lambda: http_get(f"http://127.0.0.1:{web}/api/v1/data?chart={chart}")[0] == 200,
                 30, what="system.cpu data at the child")
        data_path = f"/api/v1/data?chart={chart}&after=-5&points=5&format=json"
        via = self.cmd(cid, f"/node/{node}{data_path}")
        mine, theirs = self.assert_same_answer(via, *http_get(f"http://127.0.0.1:{web}{data_path}"))
        self.assertEqual(mine["labels"], theirs["labels"])
        self.assertEqual(via[1][1]["content-type"].split(";")[0], "application/json")
        mine, theirs = self.assert_same_answer(self.cmd(cid, f"/node/{node}/api/v1/info"),
                                               *http_get(f"http://127.0.0.1:{web}/api/v1/info"))
        self.assertEqual(mine["mirrored_hosts"], theirs["mirrored_hosts"])
        self.assert_same_answer(self.cmd(cid, "/host/qp-child/api/v1/charts"),
                                *http_get(f"http://127.0.0.1:{web}/api/v1/charts"))
        # gzip: asked by the cloud, made by the agent, passed through untouched.
        header, (status, headers, body) = self.cmd(cid, f"/node/{node}/api/v1/info",
                                                   headers=["Accept-Encoding: gzip"])
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-encoding"), "gzip")
        self.assertEqual(sorted(json.loads(gzip.decompress(body))), sorted(theirs))
        header, answer = self.cmd(cid, f"/node/{node}/api/v1/nonexistent")
        self.assertEqual(header["http-code"], answer[0])  # the agent's own error, passed on
        self.assertGreaterEqual(answer[0], 400)

        # Method, path, body and filtered headers reach the agent as sent.
        header, (status, _, body) = self.cmd(
            cid, f"/node/{fake_node}/api/v1/echo?a=1&b=%20x", method="POST", body="{\"q\":1}",
            headers=["Cookie: session=secret", "Authorization: Bearer nope",
                     "Accept-Encoding: gzip", "Content-Type: application/json"])
        echo = json.loads(body)
        self.assertEqual((echo["method"], echo["path"], echo["body"]),
                         ("POST", "/api/v1/echo?a=1&b=%20x", "{\"q\":1}"))
        sent = {k.lower() for k in echo["headers"]}
        self.assertIn("accept-encoding", sent)
        self.assertNotIn("cookie", sent)
        self.assertNotIn("authorization", sent)

        # The gateway's own node keeps its local API.
        header, (status, _, body) = self.cmd(cid, "/api/v1/aclk")
        self.assertEqual(status, 200)
        self.assertIn("online", json.loads(body))

        # §8.2 errors: unknown node (2), short node id (1), too big (413 + 4), timeout (503 + 6).
        header, _ = self.cmd(cid, f"/node/{uuid.uuid4()}/api/v1/info")
        self.assertEqual((header["http-code"], header["error-code"]), (404, 2))
        header, _ = self.cmd(cid, "/node/12345/api/v1/info")
        self.assertEqual((header["http-code"], header["error-code"]), (400, 1))
        header, _ = self.cmd(cid, f"/node/{fake_node}/api/v1/big")
        self.assertEqual((header["http-code"], header["error-code"]), (413, 4))
        header, _ = self.cmd(cid, f"/node/{fake_node}/api/v1/hang", timeout_ms=1500)
        self.assertEqual((header["http-code"], header["error-code"]), (503, 6))

        # CancelPendingRequest ends the hanging request.
        self.cloud.send(cid, "CancelPendingRequest", message={"request_id": hanging})
        header, (status, _, body) = self.reply(cid, hanging, timeout=10)
        self.assertEqual(status, 499)
        self.assertIn("cancelled", json.loads(body)["error"])

        # Unreachable agent and queries not allowed: clear answers naming the reason.
        _, dead_guid = self.fake_stream(gw, dead_key, "qp-dead")
        header, (status, _, body) = self.cmd(cid, f"/node/{self.node_id(gw, dead_guid)}"
                                                  "/api/v1/info")
        self.assertEqual(status, 503)
        self.assertIn("unreachable", json.loads(body)["error"])
        _, closed_guid = self.fake_stream(gw, closed_key, "qp-closed")
        header, (status, _, body) = self.cmd(cid, f"/node/{self.node_id(gw, closed_guid)}"
                                                  "/api/v1/info")
        self.assertEqual(status, 403)
        self.assertIn("allow queries", json.loads(body)["error"])

        # An agent whose stream is gone is offline.
        child.stop()
        wait_for(lambda: not gw.node(guid)["live"], 30, what="the child offline")

        def offline_answer():  # the proxy's view of the nodes may be a second old
            _, (status, _, body) = self.cmd(cid, f"/node/{node}/api/v1/info")
            self.assertEqual(status, 503)
            return "offline" in json.loads(body)["error"]
        wait_for(offline_answer, 10, interval=0.5, what="503 offline for the stopped child")

        metrics = http_get(f"http://127.0.0.1:{gw.stream_port}/metrics")[1].decode()
        for outcome in ("answered", "unknown_node", "bad_node_id", "too_large", "timeout",
                        "cancelled", "unreachable", "refused", "offline", "local"):
            self.assertRegex(metrics, rf'aclkd_query_total{{outcome="{outcome}"}} [1-9]')
        self.assertIn("aclkd_query_duration_seconds_count", metrics)
        self.assertIn("QUERY:", gw.log())


    def test_https_agents_with_ca_file_or_insecure(self):
        keys = [str(uuid.uuid4()) for _ in range(3)]
        agent = self.track(FakeAgent(self.certs))
        url = f"https://localhost:{agent.port}"
        gw = self.query_gateway({keys[0]: {"query url": url, "ca file": self.certs.ca},
                                 keys[1]: {"query url": url, "insecure": "yes"},
                                 keys[2]: {"query url": url}})
        cid = self.claimed_id(gw)
        for key, verified in zip(keys, (True, True, False)):
            _, guid = self.fake_stream(gw, key, "qp-tls-" + key[:4])
            header, (status, _, body) = self.cmd(cid, f"/node/{self.node_id(gw, guid)}"
                                                      "/api/v1/echo?tls=1")
            if verified:
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(body)["path"], "/api/v1/echo?tls=1")
            else:  # the system trust store does not know the test CA
                self.assertEqual(status, 503)
                self.assertIn("unreachable", json.loads(body)["error"])


@unittest.skipUnless(os.path.isdir(SHARED_V2),
                     f"the Netdata v2 agent is not here ({SHARED_V2}): v2 query tests skipped")
class QueryProxyV2Test(QueryProxyTestBase):

    def start_v2(self, name, dest_port, key, web, accept=None, hostname=None):
        return start_netdata_v2(self, SHARED_V2, name, dest_port, key, "--web-port", str(web),
                                "--hostname", hostname or name,
                                *(["--accept-key", accept] if accept else []))

    def guid_of(self, gw, hostname):
        return wait_for(lambda: next((n["machine-guid"] for n in gw.table("nodes")
                                      if n["hostname"] == hostname and n["live"]), None), 60,
                        interval=0.5, what=f"node {hostname} at the gateway")

    def test_v2_agent_v3_data_function_and_hop2(self):
        key, child_key = str(uuid.uuid4()), str(uuid.uuid4())
        web, child_web = free_port(), free_port()
        gw = self.query_gateway({key: {"query url": f"http://127.0.0.1:{web}"}})
        cid = self.claimed_id(gw)
        # The v2 agent is a parent; a second v2 agent streams through it (hops 2 at aclkd).
        self.start_v2("qp-v2", gw.stream_port, key, web, accept=child_key)
        guid = self.guid_of(gw, "qp-v2")
        node = self.node_id(gw, guid)
        base = f"http://127.0.0.1:{web}"
        wait_for(lambda: http_get(base + "/api/v1/info")[0] == 200, 60, what="the v2 web API")

        mine, theirs = self.assert_same_answer(self.cmd(cid, f"/node/{node}/api/v1/info"),
                                               *http_get(base + "/api/v1/info"))
        self.assertEqual(mine["version"], theirs["version"])
        q = "/api/v3/data?contexts=system.cpu&after=-5&points=5&format=json2&scope_nodes="
        wait_for(lambda: http_get(base + q + guid)[0] == 200, 30, what="v3 data at the agent")
        mine, theirs = self.assert_same_answer(self.cmd(cid, q + node), *http_get(base + q + guid))
        # The same node was selected: the agent reports it by its machine GUID.
        self.assertIn(guid, json.dumps(mine.get("summary", mine)))
        def nodes(answer):
            return [(n.get("mg"), n.get("nm")) for n in answer.get("summary", {}).get("nodes", [])]
        self.assertEqual(nodes(mine), nodes(theirs))
        # A function: down the node's stream (issue 19), with the access the cloud gives (here
        # anonymous data, what the agent's own dashboard has): the same answer as its own API.
        # The v3 scope_nodes= form names no node in its path, so it keeps the HTTP way.
        fn = "/api/v1/function?function=netdata-metrics-cardinality"
        via = self.cmd(cid, f"/node/{node}{fn}", timeout_ms=20000,
                       headers=["X-Netdata-Permissions: 0x8"])
        self.assert_same_answer(via, *http_get(base + fn))
        self.assertEqual(via[0]["http-code"], 200)
        fn3 = "/api/v3/function?function=netdata-metrics-cardinality&scope_nodes="
        via = self.cmd(cid, fn3 + node, timeout_ms=20000)
        self.assert_same_answer(via, *http_get(base + fn3 + guid))
        self.assertEqual(via[0]["http-code"], 200)

        # Hop 2: the grandchild's queries go to the parent's /host/<guid>/.
        self.start_v2("qp-v2-child", web, child_key, child_web)
        child_guid = self.guid_of(gw, "qp-v2-child")
        child_node = self.node_id(gw, child_guid)
        self.assertEqual([n for n in gw.table("nodes") if n["machine-guid"] == child_guid][0]
                         ["hops"], 2)
        direct = f"http://127.0.0.1:{child_web}/api/v1/info"
        wait_for(lambda: http_get(direct)[0] == 200, 60, what="the grandchild's web API")
        mine, theirs = self.assert_same_answer(self.cmd(cid, f"/node/{child_node}/api/v1/info"),
                                               *http_get(base + f"/host/{child_guid}/api/v1/info"))
        self.assertEqual(mine["version"], theirs["version"])


if __name__ == "__main__":
    unittest.main()
