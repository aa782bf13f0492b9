"""Functions and dynamic configuration through the stream (issue 19): the cloud's Top, Logs and
Configuration tabs for relayed nodes. The real Netdata v2.10.4 agent from ../shared/netdata-v2
streams into aclkd with its web API off; the test cloud calls its functions by node id, and the
calls go down the stream aclkd holds. Timeouts, cancels and a stream that drops mid-call are seen
on the wire through a recording relay between the child and the gateway; a scripted child
answers a large result interleaved with samples, whose count stays exact."""

import json
import os
import signal
import socket
import threading
import time
import unittest
import uuid

from harness import METRIC_LINE, NetdataChild, free_port, wait_for
from test_05_stream_bridge import BridgeTestBase
from test_18_v2_parent import SHARED_V2, V2Agent, http_json

NEEDS_V2 = unittest.skipUnless(os.path.isdir(SHARED_V2),
                               f"the Netdata v2 agent is not here ({SHARED_V2}): skipped")


class Relay:
    """A TCP relay from 127.0.0.1:port to `dest`, keeping what the gateway sent down."""

    def __init__(self, dest_port):
        self.dest_port = dest_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = bytearray()  # gateway -> child, every connection
        self.pairs = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                child, _ = self.listener.accept()
            except OSError:
                return
            gateway = socket.create_connection(("127.0.0.1", self.dest_port))
            with self.lock:
                self.pairs.append((child, gateway))
            threading.Thread(target=self._pump, args=(child, gateway, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(gateway, child, True), daemon=True).start()

    def _pump(self, src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    with self.lock:
                        self.down += data
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def sent_down(self):
        with self.lock:
            return bytes(self.down).decode(errors="replace")

    def cut(self):
        """Closes every relayed connection (the child's stream drops)."""
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        self.listener.close()
        self.cut()


def node_request(cloud, node_id, what, **body):
    """Starts a function call (what="function"), a configuration request ("config") or the
    functions list ("functions") for a node, as the cloud's tabs do; returns its msg_id."""
    if what == "functions":
        return cloud.api(f"/testcloud/api/nodes/{node_id}/functions")["msg_id"]
    return cloud.api(f"/testcloud/api/nodes/{node_id}/{what}", "POST", body)["msg_id"]


def reply(cloud, msg_id, timeout=30):
    """The agent's decoded reply to a cmd request (waits for it)."""
    def got():
        r = cloud.api(f"/testcloud/api/replies/{msg_id}")
        return r if r and not r.get("pending") else None
    return wait_for(got, timeout, interval=0.2, what=f"the reply to {msg_id}")


def node_call(cloud, node_id, what, timeout=30, **body):
    return reply(cloud, node_request(cloud, node_id, what, **body), timeout)


def capabilities(message):
    return {c["name"]: c.get("enabled", False) for c in message.get("capabilities", [])}


def metric(text, name, labels):
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} "):
            return float(line.split()[-1])
    return None


class FunctionsTestBase(BridgeTestBase):
    def live_node(self, gw, hostname, timeout=90):
        guid = wait_for(lambda: next((n["machine-guid"] for n in gw.table("nodes")
                                      if n["hostname"] == hostname and n["live"]), None),
                        timeout, interval=0.5, what=f"{hostname} live at the gateway")
        node_id = wait_for(lambda: next((n["node-id"] for n in gw.state_json()["node-instances"]
                                         if n["mguid"] == guid and n["node-id"]), None), 30,
                           what=f"the node id of {hostname}")
        return guid, node_id

    def callable_node(self, gw, guid, timeout=60):
        return wait_for(lambda: (lambda n: n if n and n["funcs"] else None)(gw.node(guid)),
                        timeout, interval=0.5, what="funcs on for the node")

    def start_v2(self, name, dest_port, key, *extra):
        return self.track(V2Agent(self, name, f"127.0.0.1:{dest_port}", key, *extra))


@NEEDS_V2
class V2FunctionsTest(FunctionsTestBase):

    def test_functions_of_a_child_with_its_web_api_off(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        cid = self.claimed_id(gw)
        web = free_port()
        # One child with its API off (the calls can only take the stream), one with it on to
        # compare the stream's answer with the child's own.
        self.start_v2("nd2-noapi", gw.stream_port, key)
        self.start_v2("nd2-api", gw.stream_port, key, web)
        guid, node = self.live_node(gw, "nd2-noapi")
        row = self.callable_node(gw, guid)
        self.assertGreaterEqual(row["functions"], 8, row)
        self.assertTrue(row["dyncfg"], row)
        self.assertEqual((row["funcs-off"], row["dyncfg-off"]), ("", ""))

        # The cloud hears `funcs` and `dyncfg` on for the node.
        def announced():
            msgs = [m["message"] for m in self.cloud.messages(cid, "UpdateNodeInstanceConnection")
                    if m["message"].get("node_id") == node]
            return msgs and capabilities(msgs[-1]).get("funcs") and capabilities(msgs[-1]).get("dyncfg")
        wait_for(announced, 30, interval=0.5, what="funcs and dyncfg announced for the node")

        # The list, as the agent's own /api/v3/functions has it.
        listed = node_call(self.cloud, node, "functions")
        self.assertEqual(listed["http_code"], 200, listed)
        names = {f["name"] for f in listed["body"]["functions"]}
        for want in ("netdata-streaming", "mount-points", "network-interfaces", "config"):
            self.assertIn(want, names)
        self.assertEqual(listed["body"]["nodes"][0]["mg"], guid)

        # netdata-streaming: the child's own table (it lists itself).
        r = node_call(self.cloud, node, "function", function="netdata-streaming")
        self.assertEqual(r["http_code"], 200, r)
        self.assertEqual(r["body"]["type"], "table")
        self.assertIn("nd2-noapi", json.dumps(r["body"]["data"]))

        # mount-points: the same columns as the child gives on its own API.
        r = node_call(self.cloud, node, "function", function="mount-points")
        self.assertEqual(r["http_code"], 200, r)
        api_guid, api_node = self.live_node(gw, "nd2-api")
        direct = wait_for(lambda: http_json(f"http://127.0.0.1:{web}/api/v3/function?"
                                            "function=mount-points"), 30,
                          what="mount-points from the child's own API")
        self.assertEqual(set(r["body"]["columns"]), set(direct["columns"]))

        # Dynamic configuration: the tree.
        r = node_call(self.cloud, node, "config", action="tree", path="/")
        self.assertEqual(r["http_code"], 200, r)
        self.assertIn("tree", r["body"])
        # A bad id is refused before it reaches the child.
        r = node_call(self.cloud, node, "config", action="get", id="a'b")
        self.assertEqual(r["http_code"], 400, r)

        # An unknown function: the child's 404, relayed.
        r = node_call(self.cloud, node, "function", function="no-such-function")
        self.assertEqual(r["http_code"], 404, r)
        # The caller's access goes down as the cloud sent it: without sign-in the child refuses.
        r = node_call(self.cloud, node, "function", function="netdata-streaming",
                                 permissions="0x0")
        self.assertEqual(r["http_code"], 412, r)
        # A quote would end the function's word on the stream line: refused, not sent.
        r = node_call(self.cloud, node, "function", function='mount-points" "0xffff')
        self.assertEqual(r["http_code"], 400, r)

        # /api/v3/info lists the live nodes' functions.
        info = json.loads(http_json_text(f"http://127.0.0.1:{gw.stream_port}/api/v3/info"))
        listed = {n["mg"]: n for n in info["agents"][0]["functions"]["nodes"]}
        self.assertGreaterEqual(info["agents"][0]["functions"]["callable_nodes"], 1)
        self.assertTrue(listed[guid]["funcs"] and listed[guid]["dyncfg"], listed[guid])
        self.assertEqual(listed[guid]["count"], row["functions"])

        metrics = http_json_text(f"http://127.0.0.1:{gw.stream_port}/metrics")
        for line in metrics.splitlines():
            if line and not line.startswith("#"):
                self.assertRegex(line, METRIC_LINE)
        self.assertGreaterEqual(metric(metrics, "aclkd_function_calls_total",
                                       'outcome="answered"'), 5)
        self.assertGreaterEqual(metric(metrics, "aclkd_function_calls_total",
                                       'outcome="bad_request"'), 2)
        self.assertEqual(metric(metrics, "aclkd_function_calls_total", 'outcome="listed"'), 1)

    def test_timeout_cancel_and_a_stream_that_drops_mid_call(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        cid = self.claimed_id(gw)
        relay = self.track(Relay(gw.stream_port))
        child = self.start_v2("nd2-slow", relay.port, key)
        guid, node = self.live_node(gw, "nd2-slow")
        self.callable_node(gw, guid)

        def frozen_call(**body):
            os.kill(child.pid, signal.SIGSTOP)  # the child reads nothing and answers nothing
            try:
                return node_request(self.cloud, node, "function", **body)
            except Exception:
                os.kill(child.pid, signal.SIGCONT)
                raise

        # A timeout: 504 from the gateway, and FUNCTION_CANCEL goes down the stream.
        started = time.monotonic()
        msg = frozen_call(function="netdata-streaming", timeout=2)
        r = reply(self.cloud, msg, 30)
        elapsed = time.monotonic() - started
        os.kill(child.pid, signal.SIGCONT)
        self.assertEqual(r["http_code"], 504, r)
        self.assertLess(elapsed, 10)
        txns = [line.split()[1] for line in relay.sent_down().splitlines()
                if line.startswith("FUNCTION ")]
        self.assertTrue(txns)
        wait_for(lambda: f"FUNCTION_CANCEL {txns[-1]}" in relay.sent_down(), 10,
                 what="FUNCTION_CANCEL for the call that timed out")

        # Cancelled by the cloud (CancelPendingRequest): 499, FUNCTION_CANCEL down the stream.
        msg = frozen_call(function="netdata-streaming", timeout=60)
        wait_for(lambda: relay.sent_down().count("FUNCTION ") >= len(txns) + 1, 10,
                 what="the second call down the stream")
        self.cloud.send(cid, "CancelPendingRequest", message={"request_id": msg})
        r = reply(self.cloud, msg, 20)
        os.kill(child.pid, signal.SIGCONT)
        self.assertEqual(r["http_code"], 499, r)
        txn = [line.split()[1] for line in relay.sent_down().splitlines()
               if line.startswith("FUNCTION ")][-1]
        wait_for(lambda: f"FUNCTION_CANCEL {txn}" in relay.sent_down(), 10,
                 what="FUNCTION_CANCEL for the cancelled call")

        # The stream drops mid-call: the call fails at once with the reason.
        msg = frozen_call(function="netdata-streaming", timeout=60)
        time.sleep(1)
        started = time.monotonic()
        relay.cut()
        r = reply(self.cloud, msg, 20)
        os.kill(child.pid, signal.SIGCONT)
        self.assertEqual(r["http_code"], 503, r)
        self.assertIn("closed before the answer", json.dumps(r["body"]))
        self.assertLess(time.monotonic() - started, 10)
        # The child comes back through the relay; its node is callable again, and answers.
        self.callable_node(gw, guid, 90)
        r = node_call(self.cloud, node, "function", function="mount-points")
        self.assertEqual(r["http_code"], 200, r)

    def test_a_node_behind_a_v2_parent(self):
        key, kid_key = str(uuid.uuid4()), str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        parent_web = free_port()
        self.track(V2Agent(self, "nd2-fparent", f"127.0.0.1:{gw.stream_port}", key,
                           web=parent_web, accept=kid_key))
        self.track(V2Agent(self, "nd2-fkid", f"127.0.0.1:{parent_web}", kid_key))
        guid, node = self.live_node(gw, "nd2-fkid", 120)
        row = self.callable_node(gw, guid)
        self.assertEqual(row["hops"], 2)
        # The call goes down the stream that carries the kid's host (from the v2 parent), and
        # the parent passes it on to the kid: the kid's own streaming table comes back.
        r = node_call(self.cloud, node, "function", function="netdata-streaming")
        self.assertEqual(r["http_code"], 200, r)
        self.assertIn("nd2-fkid", json.dumps(r["body"]["data"]))


class Netdata137FunctionsTest(FunctionsTestBase):
    """Debian's Netdata 1.37 child: chart-scoped declarations (apps.plugin's `processes`) and the
    old call form."""

    def test_137_child(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        self.track(NetdataChild(os.path.join(self.work, "child137"), gw.stream_port, key,
                                "it-137-fn")).start()
        guid, node = self.live_node(gw, "it-137-fn")
        # apps.plugin declares `processes` on its charts once it has collected (a few seconds).
        row = wait_for(lambda: (lambda n: n if n and n["functions"] else None)(gw.node(guid)),
                       60, interval=0.5, what="the 1.37 child's functions")
        self.assertTrue(row["funcs"], row)
        self.assertFalse(row["dyncfg"])
        self.assertEqual(row["dyncfg-off"], "its stream did not negotiate DYNCFG")
        listed = node_call(self.cloud, node, "functions")
        self.assertIn("processes", {f["name"] for f in listed["body"]["functions"]})
        r = node_call(self.cloud, node, "function", function="processes", timeout=20)
        self.assertEqual(r["http_code"], 200, r)
        self.assertIn("data", r["body"])
        # A request body needs an agent that takes FUNCTION_PAYLOAD (v1.45+): a clear 400.
        r = node_call(self.cloud, node, "function", function="processes", payload={"a": 1})
        self.assertEqual(r["http_code"], 400, r)
        self.assertIn("too old to take a request body", json.dumps(r["body"]))


def http_json_text(url):
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode()


class ScriptedChildTest(FunctionsTestBase):
    """A scripted child: exact sample counts while a large result interleaves with samples, and
    the gateway's own refusals."""

    # VCAPS | V1 | V2 | VN | FUNCTIONS | PROGRESS (no compression, no replication).
    VER = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 11) | (1 << 22)

    def test_large_result_interleaved_with_samples(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        s, prompt = self.handshake(gw, key, hostname="scripted-fn", ver=self.VER)
        self.assertIn(b"version=", prompt)
        s.sendall(b'CHART "system.cpu" "" "CPU" "%" "cpu" "system.cpu" "line" 100 1 "" "" ""\n'
                  b'DIMENSION "user" "user" "absolute" 1 1 ""\n'
                  b'FUNCTION GLOBAL "big" 10 "a large answer" "top" "0x8" 100 0\n')
        sent = 0

        def samples(n):
            nonlocal sent
            sent += n
            return b"".join(b"BEGIN system.cpu\nSET user = 1\nEND\n" for _ in range(n))
        s.sendall(samples(10))
        guid, node = self.live_node(gw, "scripted-fn")
        self.callable_node(gw, guid)
        msg = node_request(self.cloud, node, "function", function="big arg1 arg2", timeout=30)
        s.settimeout(10)
        got = b""
        while b"\n" not in got:
            got += s.recv(65536)
        line = got.split(b"\n")[0].decode()
        words = line.split()
        self.assertEqual(words[0], "FUNCTION", line)
        self.assertEqual(words[3:5], ['"big', 'arg1'])
        txn = words[1]
        # 4 MiB of JSON on one line (far past the 15 KiB line limit), sent in pieces with pauses
        # so that the gateway reads it over many wake-ups; samples before and after it (a
        # child commits a result whole, so samples never fall inside it).
        row = "x" * 65535
        body = "[" + ",".join(f'"{row}"' for _ in range(64)) + "]"
        out = f"FUNCTION_RESULT_BEGIN {txn} 200 application/json 0\n".encode()
        chunks = [body[i:i + 100000] for i in range(0, len(body), 100000)]
        s.sendall(samples(7) + out)
        for chunk in chunks:
            s.sendall(chunk.encode())
            time.sleep(0.01)
        s.sendall(b"\nFUNCTION_RESULT_END\n" + samples(20))
        r = reply(self.cloud, msg, 30)
        self.assertEqual(r["http_code"], 200)
        self.assertEqual(len(r["body"]), 64)
        self.assertEqual(r["body"][0], row)
        want = sent
        wait_for(lambda: (lambda st: st and st[0]["samples"] == want)(gw.table("streams")), 10,
                 what=f"{want} samples counted")

    def test_a_timeout_then_a_late_answer(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        s, _ = self.handshake(gw, key, hostname="scripted-late", ver=self.VER)
        s.sendall(b'FUNCTION GLOBAL "slow" 1 "never in time" "top" "0x8" 100 0\n'
                  b"BEGIN system.cpu\nSET user = 1\nEND\n")
        guid, node = self.live_node(gw, "scripted-late")
        self.callable_node(gw, guid)
        started = time.monotonic()
        msg = node_request(self.cloud, node, "function", function="slow")  # declared: 1 s
        s.settimeout(10)
        got = b""
        while b"FUNCTION_CANCEL" not in got:
            got += s.recv(65536)
        txn = got.split(b"\n")[0].split()[1].decode()
        self.assertIn(f"FUNCTION_CANCEL {txn}\n".encode(), got)
        r = reply(self.cloud, msg, 10)
        self.assertEqual(r["http_code"], 504, r)
        self.assertLess(time.monotonic() - started, 5)
        # The answer after all: read, dropped, counted and warned.
        s.sendall(f"FUNCTION_RESULT_BEGIN {txn} 200 text/plain 0\nlate\nFUNCTION_RESULT_END\n"
                  .encode())

        def stray():
            text = http_json_text(f"http://127.0.0.1:{gw.stream_port}/metrics")
            return metric(text, "aclkd_function_results_stray_total", "") or \
                next((float(l.split()[-1]) for l in text.splitlines()
                      if l.startswith("aclkd_function_results_stray_total ")), 0)
        wait_for(lambda: stray() == 1, 10, what="the stray result counted")
        wait_for(lambda: "for no call in flight" in gw.log(), 10, what="the stray warned")
        self.assertEqual(wait_for(lambda: gw.table("streams"), 5)[0]["samples"], 1)

    def test_functions_off_by_configuration(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key, extra_conf="    allow functions = no\n")
        s, _ = self.handshake(gw, key, hostname="scripted-off", ver=self.VER)
        s.sendall(b'FUNCTION GLOBAL "f" 10 "h" "top" "0x8" 100 0\n'
                  b"BEGIN system.cpu\nSET user = 1\nEND\n")
        guid, node = self.live_node(gw, "scripted-off")
        row = wait_for(lambda: (lambda n: n if n and n["functions"] == 1 else None)(gw.node(guid)),
                       20, what="the declared function")
        self.assertFalse(row["funcs"])
        self.assertIn("allow functions = no", row["funcs-off"])
        r = node_call(self.cloud, node, "function", function="f")
        self.assertEqual(r["http_code"], 403, r)
        self.assertIn("allow functions = no", json.dumps(r["body"]))
        # A reload that allows them: at once, and the cloud hears `funcs` for the node.
        cid = self.claimed_id(gw)
        gw.write_conf("stream.conf", f"[{key}]\n    enabled = yes\n    allow from = *\n")
        self.assertEqual(gw.ctl("reload").returncode, 0)
        self.callable_node(gw, guid, 10)

        def announced():
            msgs = [m["message"] for m in self.cloud.messages(cid, "UpdateNodeInstanceConnection")
                    if m["message"].get("node_id") == node]
            return msgs and capabilities(msgs[-1]).get("funcs")
        wait_for(announced, 15, interval=0.5, what="funcs announced after the reload")
        # Without FUNCTIONS negotiated, the node says why.
        s2, _ = self.handshake(gw, key, hostname="scripted-old", ver=(1 << 3) | (1 << 4) |
                               (1 << 5) | (1 << 6))
        s2.sendall(b"BEGIN system.cpu\nSET user = 1\nEND\n")
        guid2, _ = self.live_node(gw, "scripted-old")
        row = wait_for(lambda: gw.node(guid2), 10, what="the old node")
        self.assertIn("did not negotiate FUNCTIONS", row["funcs-off"])
        text = gw.ctl("nodes").stdout
        self.assertIn("did not negotiate FUNCTIONS", text)


if __name__ == "__main__":
    unittest.main()
