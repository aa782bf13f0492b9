"""A wss front between the gateway and mosquitto, as cloud fronts are: it terminates TLS and the
WebSocket itself and speaks plain MQTT to the broker's TCP listener. What the broker sends within
`window` seconds is packed into one WebSocket frame, so one frame carries several MQTT packets
(docs/protocol/aclk.md §5.3 allows it; mosquitto's own websockets listener never does it, and it
also sends at about 40 KB/s, which would hide the gateway's own inbound speed). The front records
the gateway's upgrade request, the first MQTT packet (CONNECT) and whether every client frame was
masked, for the wire checks. Standard library only (asyncio + ssl)."""

import asyncio
import base64
import hashlib
import ssl
import struct
import threading

from harness import free_port

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_BATCH = 1 << 20  # a big message goes out in 1 MiB frames rather than waiting for the window


def unmask(payload, mask):
    n = len(payload)
    if n == 0:
        return payload
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


async def read_frame(reader):
    """(opcode, payload, masked) of one client frame, unmasked."""
    b0, b1 = await reader.readexactly(2)
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack("!H", await reader.readexactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", await reader.readexactly(8))[0]
    mask = await reader.readexactly(4) if b1 & 0x80 else None
    payload = await reader.readexactly(length)
    return b0 & 0x0F, unmask(payload, mask) if mask else payload, bool(mask)


def frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


class CoalescingFront:
    def __init__(self, certs, broker_mqtt_port, window=0.1):
        self.port = free_port()
        self.broker_port = broker_mqtt_port
        self.window = window
        self.certs = certs
        self.upgrade_requests = []
        self.first_client_payloads = []
        self.client_frames_masked = []
        self.client_close_codes = []  # status codes of the gateway's CLOSE frames
        self.last_client_payload = b""
        self.coalesced_frames = 0  # frames that carried more than one read from the broker
        # Set before the gateway connects: the broker's first bytes (the CONNACK) go out in two
        # frames 50 ms apart, 3 bytes then the rest (a front may cut packets anywhere, §5.3).
        self.split_first_packet = False
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.certs.cert, self.certs.key)
        self._server = self._loop.run_until_complete(asyncio.start_server(
            self._handle, "127.0.0.1", self.port, ssl=ctx))
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.upgrade_requests.append(head)
            key = b""
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"sec-websocket-key:"):
                    key = line.split(b":", 1)[1].strip()
            accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.broker_port)
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                         b"\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n")
            await writer.drain()
            await asyncio.gather(self._to_broker(reader, writer, up_w),
                                 self._to_gateway(up_r, writer), return_exceptions=True)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            writer.close()

    async def _to_broker(self, reader, writer, up_w):
        first = True
        try:
            while True:
                opcode, payload, masked = await read_frame(reader)
                self.client_frames_masked.append(masked)
                if opcode in (0, 2):
                    self.last_client_payload = payload
                    if first:
                        self.first_client_payloads.append(payload)
                        first = False
                    up_w.write(payload)
                    await up_w.drain()
                elif opcode == 9:
                    writer.write(frame(10, payload))
                elif opcode == 8:
                    self.client_close_codes.append(
                        int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None)
                    writer.write(frame(8, payload[:2]))
                    break
        finally:
            up_w.close()

    async def _to_gateway(self, up_r, writer):
        # A read is never cancelled half-way: the pending read carries over to the next batch.
        pending = None
        try:
            if self.split_first_packet:
                data = await up_r.read(1 << 20)
                writer.write(frame(2, data[:3]))
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.write(frame(2, data[3:]))
                await writer.drain()
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(up_r.read(1 << 20))
                data = await pending
                pending = None
                if not data:
                    break
                batch = [data]
                size = len(data)
                deadline = self._loop.time() + self.window
                while size < MAX_BATCH:
                    left = deadline - self._loop.time()
                    if left <= 0:
                        break
                    pending = asyncio.ensure_future(up_r.read(1 << 20))
                    done, _ = await asyncio.wait({pending}, timeout=left)
                    if not done:
                        break
                    data = pending.result()
                    pending = None
                    if not data:
                        break
                    batch.append(data)
                    size += len(data)
                if len(batch) > 1:
                    self.coalesced_frames += 1
                writer.write(frame(2, b"".join(batch)))
                await writer.drain()
        finally:
            if pending is not None:
                pending.cancel()
            writer.close()

    def stop(self):
        def shutdown():
            self._server.close()
            self._loop.stop()
        self._loop.call_soon_threadsafe(shutdown)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()
