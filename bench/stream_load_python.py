"""The Python generator of bench/stream_load.py (`--generator python`): the children as
non-blocking sockets in one selector per process; `--procs P` splits them over P processes (one
Python process cannot keep the captured pace for 10,000 children). Kept to compare with the C++
generator (bench/stream_loadgen.cc), which replaced it as the default."""

import multiprocessing
import resource
import selectors
import socket
import time
import uuid


class Child:
    __slots__ = ("sock", "buf", "off", "copies", "stopping")

    def __init__(self, sock):
        self.sock, self.buf, self.off, self.copies, self.stopping = sock, None, 0, 0, False


def drain(sock):
    try:
        while sock.recv(65536):
            pass
    except (BlockingIOError, InterruptedError):
        pass


def connect_children(indices, port, request, body, sel):
    """Connects the children numbered `indices` and sends each the whole capture (handshake,
    definitions, first samples) under its own machine GUID and host name."""
    children = []
    for i in indices:
        req = request.replace("machine_guid=7e5dc348-e657-11f1-8a35-02fc00000001",
                              f"machine_guid={uuid.uuid4()}").replace(
                                  "hostname=nd-lab-child", f"hostname=load-{i}")
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req.encode())
        reply = s.recv(100)
        if not reply.startswith(b"Hit me baby"):
            raise SystemExit(f"child {i} refused: {reply!r}")
        s.setblocking(False)
        c = Child(s)
        c.buf = memoryview(body)
        children.append(c)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    pending = len(children)
    while pending:
        for key, events in sel.select(timeout=1):
            c = key.data
            if events & selectors.EVENT_READ:
                drain(c.sock)
            if events & selectors.EVENT_WRITE and c.off < len(c.buf):
                try:
                    c.off += c.sock.send(c.buf[c.off:c.off + 262144])
                except BlockingIOError:
                    pass
                if c.off >= len(c.buf):
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                    pending -= 1
    return children


def drain_for(sel, seconds):
    for key, _ in sel.select(timeout=seconds):
        drain(key.data.sock)


def steady_max(children, sel, loop, seconds):
    """Every child sends `loop` (k copies of the sample blocks) back to back for `seconds`, then
    finishes the copy it is in. Returns the number of loop copies sent in all."""
    view = memoryview(loop)
    for c in children:
        c.buf, c.off, c.copies, c.stopping = view, 0, 0, False
        sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    end = time.monotonic() + seconds
    active = len(children)
    while active:
        stopping = time.monotonic() >= end
        for key, events in sel.select(timeout=0.5):
            c = key.data
            if events & selectors.EVENT_READ:
                drain(c.sock)
            if not events & selectors.EVENT_WRITE:
                continue
            try:
                c.off += c.sock.send(c.buf[c.off:])
            except BlockingIOError:
                continue
            if c.off == len(c.buf):
                c.copies += 1
                c.off = 0
                if stopping:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                    active -= 1
    return sum(c.copies for c in children)


def steady_pace(children, sel, blocks, seconds, writes, start=None, first_index=0):
    """Every child sends all blocks once per second in `writes` slices at even intervals, each
    child at its own phase (child i sends slice (k + i) % writes at tick k; i counts from
    `first_index`). Ticks run from `start` (time.monotonic(), the same clock in every process).
    Returns (ticks, how late the last tick was)."""
    per = -(-len(blocks) // writes)
    slices = [b"".join(blocks[i:i + per]) for i in range(0, len(blocks), per)]
    writes = len(slices)
    for c in children:
        sel.modify(c.sock, selectors.EVENT_READ, c)
    tick = 1.0 / writes
    start = time.monotonic() if start is None else start
    sent = due = 0
    k = 0
    pending = {}  # child -> unsent tail (a slow reader); never expected on loopback
    while True:
        at = start + k * tick
        if at >= start + seconds:
            break
        now = time.monotonic()
        while now < at:
            for key, _ in sel.select(timeout=at - now):
                drain(key.data.sock)
            now = time.monotonic()
        for i, c in enumerate(children, first_index):
            data = slices[(k + i) % writes]
            due += 1
            if c in pending:
                pending[c] += data
                continue
            try:
                n = c.sock.send(data)
            except BlockingIOError:
                n = 0
            if n < len(data):
                pending[c] = data[n:]
            sent += 1
        for c, rest in list(pending.items()):
            try:
                n = c.sock.send(rest)
            except BlockingIOError:
                n = 0
            if n == len(rest):
                del pending[c]
            else:
                pending[c] = rest[n:]
        k += 1
    for c, rest in pending.items():
        c.sock.setblocking(True)
        c.sock.sendall(rest)
        c.sock.setblocking(False)
    lag = time.monotonic() - (start + seconds)
    return k, lag


def pace_worker(conn, indices, port, request, body, blocks, seconds, writes):
    """One generator process of --procs: its share of the children, on the common schedule."""
    sel = selectors.DefaultSelector()
    children = connect_children(indices, port, request, body, sel)
    conn.send("defined")
    start = conn.recv()
    g0 = resource.getrusage(resource.RUSAGE_SELF)
    ticks, lag = steady_pace(children, sel, blocks, seconds, writes, start, indices.start)
    g1 = resource.getrusage(resource.RUSAGE_SELF)
    conn.send((ticks, lag, g1.ru_utime - g0.ru_utime, g1.ru_stime - g0.ru_stime))
    while not conn.poll(0.2):  # the sockets stay open until aclkd has counted everything
        drain_for(sel, 0)
    for c in children:
        c.sock.close()


class PaceFleet:
    """--procs P: the children split over P processes (one Python process cannot keep the
    captured pace for 10,000 children), started together on one schedule."""

    def __init__(self, procs, n, port, request, body, blocks, args):
        ctx = multiprocessing.get_context("fork")
        share = -(-n // procs)
        self.links, self.procs = [], []
        for lo in range(0, n, share):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=pace_worker, daemon=True,
                            args=(child, range(lo, min(n, lo + share)), port, request, body,
                                  blocks, args.seconds, args.writes))
            p.start()
            self.links.append(parent)
            self.procs.append(p)
        for link in self.links:
            if link.recv() != "defined":
                raise SystemExit("a generator process failed")

    def begin(self):
        """Tells every process when the steady phase starts; returns that time."""
        start = time.monotonic() + 0.5
        for link in self.links:
            link.send(start)
        return start

    def end(self):
        """Waits out the steady phase: (ticks, worst lag, generator user s, system s)."""
        results = [link.recv() for link in self.links]
        if len({r[0] for r in results}) != 1:
            raise SystemExit(f"generator processes ran different tick counts: {results}")
        return (results[0][0], max(r[1] for r in results), sum(r[2] for r in results),
                sum(r[3] for r in results))

    def finish(self):
        for link in self.links:
            link.send("done")
        for p in self.procs:
            p.join(30)
