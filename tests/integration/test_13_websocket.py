"""RFC 6455 conformance of the live channel socket on the stream port, Autobahn-style, with raw
frames: fragmented messages reassembled (with a ping between fragments), stray continuations,
reserved opcodes, oversized or fragmented control frames refused with close 1002, pings answered
with their payload, the close handshake echoing the status code; oversized HTTP headers get 431.
No cloud is needed: the gateway runs with `[cloud] enabled = no`."""

import os
import socket
import struct
import unittest

from harness import Gateway, IntegrationTest, metric_series, wait_for
from test_08_live import WsClient


def frame(first, payload):
    """A masked client frame with `first` as the first byte (FIN, RSV, opcode)."""
    mask = os.urandom(4)
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    hdr = bytes([first]) + (bytes([0x80 | n]) if n < 126 else
                            bytes([0x80 | 126]) + struct.pack(">H", n))
    return hdr + mask + data


class WebSocketConformanceTest(IntegrationTest):

    def web_dropped(self, reason):
        series = metric_series(self.gw.stream_port)
        name = f'aclkd_web_dropped_total{{reason="{reason}"}}'
        self.assertIn(name, series)
        return series[name]

    def setUp(self):
        super().setUp()
        self.gw = self.track(Gateway(os.path.join(self.work, "gw"),
                                     extra_cloud={"enabled": "no"})).start()

    def client(self):
        ws = WsClient(self.gw.stream_port)
        self.assertIn("101", ws.status)
        return ws

    def expect_close(self, ws, code):
        while True:
            op, payload = ws.recv()
            if op == 8:
                self.assertEqual(struct.unpack(">H", payload[:2])[0], code, payload)
                return
        
    def test_fragmented_message_with_a_ping_between(self):
        ws = self.client()
        text = b'{"id":7,"subscribe":{"channel":"aclk/status"}}'
        ws.sock.sendall(frame(0x01, text[:10]) + frame(0x89, b"between") +
                        frame(0x00, text[10:30]) + frame(0x80, text[30:]))
        op, payload = ws.recv()
        self.assertEqual((op, payload), (10, b"between"))
        reply = ws.recv_json()
        self.assertEqual(reply["id"], 7)
        self.assertIn("data", reply["result"])
        ws.close()

    def test_protocol_errors_close_with_1002(self):
        for bad in (frame(0x80, b"stray continuation"), frame(0x83, b""), frame(0x8B, b""),
                    frame(0x89, b"p" * 200), frame(0x09, b"fragmented ping"),
                    frame(0x01, b"a") + frame(0x81, b"b")):
            ws = self.client()
            ws.sock.sendall(bad)
            self.expect_close(ws, 1002)
            ws.close()
        self.assertTrue(self.gw.alive())
        # Counted when the server's side of each close is over, just after the client saw it.
        wait_for(lambda: self.web_dropped("live_protocol") == 6, 10, what="6 live_protocol drops")

    def test_ping_and_close_handshake(self):
        ws = self.client()
        ws.sock.sendall(frame(0x89, b"x" * 125))
        self.assertEqual(ws.recv(), (10, b"x" * 125))
        ws.sock.sendall(frame(0x88, struct.pack(">H", 1000) + b"bye"))
        self.assertEqual(ws.recv(), (8, struct.pack(">H", 1000)))
        ws.sock.settimeout(5)
        self.assertEqual(ws.sock.recv(10), b"", "the server closes after the close handshake")
        ws.close()

    def test_oversized_headers_get_431(self):
        s = socket.create_connection(("127.0.0.1", self.gw.stream_port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 431 "), reply[:100])
        s.close()
        self.assertEqual(self.web_dropped("bad_request"), 1)


if __name__ == "__main__":
    unittest.main()
