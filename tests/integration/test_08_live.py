"""Live channels over WebSocket with a real (stdlib) WebSocket client, their memory per
connection, and the status page rendered by headless Chromium (Debian's `chromium`), which saves
a screenshot under build/test-artifacts/."""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import unittest
import uuid

from harness import run, wait_for
from test_05_stream_bridge import BridgeTestBase

ARTIFACTS = os.environ.get("ACLKD_ARTIFACTS_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "test-artifacts")


class WsClient:
    def __init__(self, port, path="/live"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                          f"Sec-WebSocket-Version: 13\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise AssertionError("closed during the upgrade: " + head.decode(errors="replace"))
            head += chunk
        self.status = head.split(b"\r\n")[0].decode()
        self.buf = b""

    def send(self, opcode, payload):
        mask = os.urandom(4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        hdr = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else
                                        bytes([0x80 | 126]) + struct.pack(">H", n))
        self.sock.sendall(hdr + mask + data)

    def send_json(self, obj):
        self.send(1, json.dumps(obj).encode())

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def recv(self):
        self._need(2)
        opcode, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        off = 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload, self.buf = self.buf[off:off + n], self.buf[off + n:]
        return opcode, payload

    def recv_json(self):
        while True:
            op, payload = self.recv()
            if op == 1:
                return json.loads(payload)

    def close(self):
        self.sock.close()


class LiveTest(BridgeTestBase):

    def test_channels(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        ws = WsClient(gw.stream_port)
        self.assertIn("101", ws.status)
        ws.send_json({"id": 1, "subscribe": {"channel": "aclk/status"}})
        r = ws.recv_json()
        self.assertEqual(r["id"], 1)
        self.assertTrue(r["result"]["data"]["state"]["online"])
        for i, (channel, words) in enumerate([
                ("nodes/xyz", "expected nodes/<machine_guid>"),
                ("bad channel!", "allowed are"),
                ("a" * 161, "at most 160"),
                ("unknown/x", "unknown scope"),
                ("aclk", "no namespace"),
                ("aclk//status", "empty segment")], start=2):
            ws.send_json({"id": i, "subscribe": {"channel": channel}})
            r = ws.recv_json()
            self.assertEqual(r["id"], i)
            self.assertEqual(r["error"]["code"], 400)
            self.assertIn(words, r["error"]["message"])
        ws.send(1, b"not json")
        self.assertIn("not a JSON object", ws.recv_json()["error"]["message"])
        # A change is pushed: a stream arrives.
        guid = str(uuid.uuid4())
        s, got = self.handshake(gw, key, guid=guid, hostname="pushed", ver=15352)

        def pushed():
            m = ws.recv_json()
            return m.get("push") and any(st["hostname"] == "pushed"
                                         for st in m["push"]["data"]["streams"])
        wait_for(pushed, 10, what="a push with the new stream")
        ws.send_json({"id": 20, "subscribe": {"channel": f"streams/{guid}"}})
        r = ws.recv_json()
        while "id" not in r:
            r = ws.recv_json()
        self.assertEqual(r["result"]["data"]["hostname"], "pushed")
        ws.send(9, b"hi")  # ping
        while True:
            op, payload = ws.recv()
            if op == 10:
                self.assertEqual(payload, b"hi")
                break
        ws.close()
        s.close()

    def test_memory_per_live_connection(self):
        gw = self.bridge_gateway(str(uuid.uuid4()))
        pid = gw.process.proc.pid

        def rss():
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        clients = []
        before = rss()
        n = 500
        for i in range(n):
            c = WsClient(gw.stream_port)
            c.send_json({"id": 1, "subscribe": {"channel": "aclk/status"}})
            c.recv_json()
            clients.append(c)
        grown = rss() - before
        print(f"RSS growth for {n} live clients: {grown} KiB, {grown * 1024 / n / 1024:.1f} KiB "
              f"per connection")
        self.assertTrue(gw.state_json()["online"])
        for c in clients:
            c.close()

    @unittest.skipUnless(shutil.which("chromium"), "Debian's chromium is not installed")
    def test_status_page_in_chromium(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        s, got = self.handshake(gw, key, hostname="page-child", ver=15352)
        url = f"http://127.0.0.1:{gw.stream_port}/"
        profile = os.path.join(self.work, "chromium")
        base = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                "--virtual-time-budget=5000", "--window-size=1200,800"]
        r = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
        dom = r.stdout
        self.assertIn(">Online<", dom, r.stderr[-2000:])
        self.assertIn(self.claimed_id(gw), dom)
        self.assertIn("page-child", dom)
        self.assertIn(">connected<", dom)
        os.makedirs(ARTIFACTS, exist_ok=True)
        shot = os.path.abspath(os.path.join(ARTIFACTS, "status-page.png"))
        r = subprocess.run(base + [f"--screenshot={shot}", url], capture_output=True, text=True,
                           timeout=120)
        self.assertTrue(os.path.exists(shot) and os.path.getsize(shot) > 1000, r.stderr[-2000:])
        print("screenshot:", shot)
        s.close()


if __name__ == "__main__":
    unittest.main()
