"""A wss front between the gateway and mosquitto, as cloud fronts are: it passes the gateway's
bytes through unchanged, but packs what the broker sends within `window` seconds into one
WebSocket frame, so one frame carries several MQTT packets (brief §5.3 allows it; mosquitto's
own listener never does it). It also records the gateway's upgrade request and the first MQTT
packet (CONNECT) for the wire checks. Standard library only (asyncio + ssl)."""

import asyncio
import ssl
import struct
import threading

from harness import free_port


async def read_frame(reader):
    """(opcode, fin, payload) of one frame; unmasks client frames."""
    b0, b1 = await reader.readexactly(2)
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack("!H", await reader.readexactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", await reader.readexactly(8))[0]
    mask = await reader.readexactly(4) if b1 & 0x80 else None
    payload = await reader.readexactly(length)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return b0 & 0x0F, bool(b0 & 0x80), payload, bool(mask)


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
    def __init__(self, certs, upstream_port, window=0.1):
        self.port = free_port()
        self.upstream_port = upstream_port
        self.window = window
        self.certs = certs
        self.upgrade_requests = []
        self.first_client_payloads = []
        self.client_frames_masked = []
        self.coalesced_frames = 0  # frames that carried more than one broker frame
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(self.certs.cert, self.certs.key)
        self._client_ctx = ssl.create_default_context(cafile=self.certs.ca)
        self._server = self._loop.run_until_complete(asyncio.start_server(
            self._handle, "127.0.0.1", self.port, ssl=server_ctx))
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.upgrade_requests.append(head)
            up_r, up_w = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port, ssl=self._client_ctx, server_hostname="localhost")
            up_w.write(head)
            writer.write(await up_r.readuntil(b"\r\n\r\n"))
            await writer.drain()
            await asyncio.gather(self._to_broker(reader, up_w), self._to_gateway(up_r, writer),
                                 return_exceptions=True)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            writer.close()

    async def _to_broker(self, reader, up_w):
        first = True
        try:
            while True:
                opcode, fin, payload, masked = await read_frame(reader)
                self.client_frames_masked.append(masked)
                if first and opcode == 2:
                    self.first_client_payloads.append(payload)
                    first = False
                # Re-mask with a zero mask: mosquitto needs masked client frames.
                n = len(payload)
                if n < 126:
                    head = struct.pack("!BB", (0x80 if fin else 0) | opcode, 0x80 | n)
                elif n < 65536:
                    head = struct.pack("!BBH", (0x80 if fin else 0) | opcode, 0x80 | 126, n)
                else:
                    head = struct.pack("!BBQ", (0x80 if fin else 0) | opcode, 0x80 | 127, n)
                up_w.write(head + b"\0\0\0\0" + payload)
                await up_w.drain()
                if opcode == 8:
                    break
        finally:
            up_w.close()

    async def _to_gateway(self, up_r, writer):
        # A frame read is never cancelled half-way: the pending read carries over to the next
        # batch when the window closes first.
        pending = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(read_frame(up_r))
                opcode, _, payload, _ = await pending
                pending = None
                if opcode not in (0, 2):
                    writer.write(frame(opcode, payload))
                    await writer.drain()
                    if opcode == 8:
                        break
                    continue
                batch = [payload]
                deadline = self._loop.time() + self.window
                while True:
                    left = deadline - self._loop.time()
                    if left <= 0:
                        break
                    pending = asyncio.ensure_future(read_frame(up_r))
                    done, _ = await asyncio.wait({pending}, timeout=left)
                    if not done:
                        break
                    opcode, _, payload, _ = pending.result()
                    pending = None
                    if opcode in (0, 2):
                        batch.append(payload)
                    else:
                        writer.write(frame(opcode, payload))
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
