"""The replayed children of bench/soak.py: N Netdata 1.37 children (the capture, through
bench/stream_load.py's pieces) that join aclkd, stream at the captured pace, stop at a block
boundary, wait until aclkd counted exactly what they sent in that session, leave (a clean close or
a reset), stay away and rejoin, on one 10 Hz schedule in one thread.

The run (`env`) gives: `env.gw.stream_port`, `env.rec` (add, took, event, error), `env.poller`
(`streams`: machine GUID -> aclkd's `aclkd_stream_samples_total`, read at `streams_at`, a
time.monotonic()) and `env.fleet_stop` (an Event)."""

import random
import selectors
import socket
import threading
import time
import traceback
import uuid

import harness
from stream_load import count_samples, drain, fixture_path, sample_blocks

WRITES = 10  # slices per child per second: the captured pace (stream_load.py --mode pace)


class Child:
    """One replayed 1.37 child: its identity, its socket, its figures over every session."""

    def __init__(self, index, request):
        self.index, self.guid = index, str(uuid.uuid4())
        self.request = request.replace(
            "machine_guid=7e5dc348-e657-11f1-8a35-02fc00000001", f"machine_guid={self.guid}"
        ).replace("hostname=nd-lab-child", f"hostname=soak-{index}").encode()
        self.sock, self.state, self.pending = None, "off", b""
        self.next_at = self.leave_at = self.drain_from = 0.0
        self.session_sent = self.total_sent = self.total_counted = self.sessions = 0
        self.mismatches = []


class Fleet(threading.Thread):
    """The replayed children on one 10 Hz schedule. A child is off, streaming, draining (stopped
    at a block boundary, waiting for aclkd's count) or checked (counted, kept quiet at a sync
    point). Modes: churn (the soak), gather (all join, none leaves), quiet (all stop and are
    checked)."""

    def __init__(self, env, n, args):
        super().__init__(daemon=True)
        data = open(fixture_path(), "rb").read()
        end = data.index(b"\r\n\r\n") + 4
        self.body = data[end:]
        self.body_samples = count_samples(self.body)
        blocks = sample_blocks(self.body)
        per = -(-len(blocks) // WRITES)
        self.slices = [b"".join(blocks[i:i + per]) for i in range(0, len(blocks), per)]
        self.slice_samples = [count_samples(s) for s in self.slices]
        self.env, self.args, self.rng, self.mode = env, args, random.Random(23), "churn"
        self.children = [Child(i, data[:end].decode()) for i in range(n)]
        self.sel = selectors.DefaultSelector()

    def join(self, c, now):
        rec, t0 = self.env.rec, time.monotonic()
        try:
            s = socket.create_connection(("127.0.0.1", self.env.gw.stream_port), timeout=10)
            s.sendall(c.request)
            reply = s.recv(100)
        except OSError as e:
            rec.add("children: join failed")
            rec.error(f"child {c.index} join failed: {e}")
            c.next_at = now + 5
            return
        rec.took("child handshake", time.monotonic() - t0)
        if not reply.startswith(b"Hit me baby"):
            rec.add("children: join refused")
            rec.event(f"child {c.index} refused: {reply[:60]!r}; retried in 5 s")
            s.close()
            c.next_at = now + 5
            return
        s.setblocking(False)
        c.sock, c.state, c.sessions = s, "streaming", c.sessions + 1
        c.pending, c.session_sent = self.body, self.body_samples
        c.leave_at = now + self.rng.uniform(*self.args.session)
        self.sel.register(s, selectors.EVENT_READ, c)
        rec.add("children: joins")

    def leave(self, c, now):
        c.total_sent += c.session_sent
        c.total_counted += self.env.poller.streams.get(c.guid) or 0
        self.sel.unregister(c.sock)
        if self.rng.random() < 0.5:  # a reset: RST instead of FIN
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            self.env.rec.add("children: leaves by reset")
        else:
            self.env.rec.add("children: leaves clean")
        c.sock.close()
        c.sock, c.state, c.next_at = None, "off", now + self.rng.uniform(*self.args.away)

    def flush(self, c):
        try:
            n = c.sock.send(c.pending)
        except BlockingIOError:
            n = 0
        except OSError as e:
            self.env.rec.error(f"child {c.index}: send failed: {e}")
            n = len(c.pending)
        c.pending = c.pending[n:]

    def counted(self, c, now):
        """True once aclkd's count, read after the child stopped, equals what it sent (or it
        cannot any more: more counted, or 60 s without)."""
        poller = self.env.poller
        if poller.streams_at <= c.drain_from:
            return False
        counted = poller.streams.get(c.guid)
        if counted == c.session_sent:
            return True
        if counted is not None and counted > c.session_sent or now - c.drain_from > 60:
            c.mismatches.append({"session": c.sessions, "sent": c.session_sent, "counted": counted})
            self.env.rec.error(f"child {c.index} session {c.sessions}: sent {c.session_sent} "
                               f"samples, aclkd counted {counted}")
            return True
        return False

    def step(self, k, now):
        for c in self.children:
            if c.state == "off":
                if self.mode == "gather" or self.mode == "churn" and now >= c.next_at:
                    self.join(c, now)
            elif c.pending:
                self.flush(c)
                c.drain_from = time.monotonic()
            elif c.state == "streaming":
                if self.mode == "quiet" or self.mode == "churn" and now >= c.leave_at:
                    c.state, c.drain_from = "draining", time.monotonic()
                    continue
                i = (k + c.index) % len(self.slices)
                c.pending, c.session_sent = self.slices[i], c.session_sent + self.slice_samples[i]
                self.flush(c)
            elif c.state == "draining" and self.counted(c, now):
                if self.mode == "quiet":
                    c.state = "checked"
                else:
                    self.leave(c, now)
            elif c.state == "checked" and self.mode != "quiet":
                c.state = "streaming"  # the sync point is over: the same session goes on

    def run(self):
        start, k = time.monotonic(), 0
        try:
            while not self.env.fleet_stop.is_set():
                at = start + k / WRITES
                while (now := time.monotonic()) < at:
                    for key, _ in self.sel.select(timeout=at - now):
                        drain(key.data.sock)
                self.step(k, time.monotonic())
                k += 1
        except Exception:  # noqa: BLE001 - a dead generator fails the run, with its trace
            self.env.rec.error("the children's generator died: " + traceback.format_exc())

    def sync_point(self, label):
        """Every child joins, streams 20 s, stops and is checked; they stay connected and quiet
        until resume(), so that the caller samples aclkd with all streams up."""
        def all_in(state):
            return all(c.state == state for c in self.children)
        self.mode = "gather"
        try:
            harness.wait_for(lambda: all_in("streaming"), 300, interval=0.5, what="all joined")
        except AssertionError:
            self.env.rec.error(f"{label}: not every child rejoined within 300 s: " + ", ".join(
                f"{c.index}:{c.state}" for c in self.children if c.state != "streaming"))
        time.sleep(20)
        self.mode = "quiet"
        deadline = time.monotonic() + 180
        while not all_in("checked") and time.monotonic() < deadline:
            time.sleep(0.5)
        bad = sum(1 for c in self.children if c.mismatches and
                  c.mismatches[-1]["session"] == c.sessions)
        self.env.rec.event(f"{label}: {sum(c.state == 'checked' for c in self.children)} of "
                           f"{len(self.children)} children streamed and were checked, {bad} "
                           f"counted wrong")

    def resume(self):
        for c in self.children:
            c.leave_at = time.monotonic() + self.rng.uniform(*self.args.session)
        self.mode = "churn"

    def final_counts(self):
        """Per child: the samples of every session, sent and counted; the last one still open."""
        rows = []
        for c in self.children:
            sent = c.total_sent + (c.session_sent if c.sock else 0)
            counted = c.total_counted + (self.env.poller.streams.get(c.guid, 0) if c.sock else 0)
            rows.append({"child": c.index, "guid": c.guid, "sessions": c.sessions, "sent": sent,
                         "counted": counted, "exact": sent == counted and not c.mismatches,
                         "mismatches": c.mismatches})
        return rows
