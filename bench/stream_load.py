#!/usr/bin/env python3
"""Load generator for the stream bridge: replays the captured Netdata 1.37 stream
(../shared/fixtures/netdata-1.37-child-stream.txt, else tests/fixtures/) as N concurrent children
into a fresh aclkd (cloud off) and prints one JSON line per run.

Each child first sends the whole capture (handshake, definitions, the first samples) under its
own machine GUID and host name; once every node has all its dimensions the steady phase starts:

- `--mode max`: every child sends the capture's sample blocks (its 114 BEGIN…END blocks, 411
  SET lines, in capture order) in a loop as fast as the sockets take them;
- `--mode pace`: every child sends the same blocks once per second (every chart of the capture
  has update_every 1), cut into `--writes` slices at even intervals, each child at its own phase
  (~10 writes per child per second, what a 1.37 child's collectors do).

Reported (aclkd's side, from /proc, over the steady window): CPU seconds per million samples,
samples/s, CPU % of one core, RSS per connected child (after the definitions), idle RSS,
wake-ups per child per second (voluntary + involuntary context switches of all aclkd threads),
the CPU seconds the connect phase (handshakes and definitions) took, and the streams dropped and
the handshakes served late (aclkd's own /metrics counters) over the whole run.
At the end every child stops at a block boundary and the run checks that aclkd counted exactly
the samples sent (`counts_exact`).

    bench/stream_load.py --children 1 50 1000 --mode max --seconds 10 --repeat 3
    bench/stream_load.py --children 50 --mode pace --seconds 30 --bin /tmp/before/bin
    bench/stream_load.py --children 10000 --mode pace --seconds 30 --procs 4

With --repeat, the median of each figure is printed as a last line with "median": true.
"""

import argparse
import json
import multiprocessing
import os
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_NAME = "netdata-1.37-child-stream.txt"
KEY = "11111111-2222-3333-4444-555555555555"
SAMPLE_KEYWORDS = (b"SET", b"SET2", b"RSET", b"RDSTATE", b"RSSTATE")


def fixture_path():
    shared = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", FIXTURE_NAME)
    return shared if os.path.exists(shared) else os.path.join(ROOT, "tests", "fixtures", FIXTURE_NAME)


def count_samples(text):
    return sum(1 for line in text.split(b"\n") if line.split(b" ", 1)[0] in SAMPLE_KEYWORDS)


def sample_blocks(body):
    """The BEGIN…END blocks of the capture, each as bytes, in capture order."""
    blocks, cur = [], None
    for line in body.split(b"\n"):
        if line.startswith(b"BEGIN "):
            cur = [line]
        elif cur is not None:
            cur.append(line)
            if line == b"END":
                blocks.append(b"\n".join(cur) + b"\n")
                cur = None
    return blocks


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Rss:"):
            return int(line.split()[1])
    return 0


def wakeups(pid):
    """Context switches of every thread of the process."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{tid}/status"):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def metric(port, name):
    """One sample of aclkd's /metrics, by its name with labels as printed; None when absent."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return None


def samples_counted(port):
    value = metric(port, "aclkd_samples_dropped_total")
    if value is None:
        raise SystemExit("aclkd_samples_dropped_total missing from /metrics")
    return value


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


def start_daemon(binary_dir, work, port, threads):
    etc = os.path.join(work, "etc")
    os.makedirs(etc)
    with open(os.path.join(etc, "aclkd.conf"), "w") as f:
        f.write(f"[global]\n    state dir = {work}/lib\n    run dir = {work}/run\n"
                f"    log level = warning\n[cloud]\n    enabled = no\n"
                f"[web]\n    bind to = 127.0.0.1:{port}\n")
        if threads:
            f.write(f"[stream]\n    io threads = {threads}\n")
    with open(os.path.join(etc, "stream.conf"), "w") as f:
        f.write(f"[{KEY}]\n    enabled = yes\n")
    daemon = subprocess.Popen([os.path.join(binary_dir, "aclkd"), "-c", etc],
                              stderr=open(os.path.join(work, "aclkd.stderr"), "w"))
    ctl = [os.path.join(binary_dir, "aclkctl"), "--socket", os.path.join(work, "run", "aclkd.sock")]
    for _ in range(100):
        if subprocess.run(ctl + ["nodes", "json"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    return daemon, ctl


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


def wait_defined(n, ctl, idle):
    """Until aclkd has all n nodes with every dimension; `idle(seconds)` waits in between."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        out = subprocess.run(ctl + ["nodes", "json"], capture_output=True, text=True).stdout
        nodes = json.loads(out) if out.strip() else []
        if len(nodes) == n and all(x["dimensions"] == 1312 for x in nodes):
            return
        idle(0.2)
    raise SystemExit("the definitions did not all arrive")


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


def run(args, n):
    data = open(fixture_path(), "rb").read()
    end = data.index(b"\r\n\r\n") + 4
    request, body = data[:end].decode(), data[end:]
    blocks = sample_blocks(body)
    block_samples = count_samples(b"".join(blocks))
    body_samples = count_samples(body)
    copies = max(1, 262144 // len(b"".join(blocks)))
    loop = b"".join(blocks) * copies

    work = tempfile.mkdtemp(prefix="aclkd-load-")
    port = free_port()
    daemon, ctl = start_daemon(args.bin, work, port, args.threads)
    try:
        time.sleep(0.5)
        pid = daemon.pid
        idle_rss = rss_kib(pid)
        connect_cpu0 = cpu_seconds(pid)
        sel = selectors.DefaultSelector()
        fleet, children = None, []
        if args.procs > 1:
            fleet = PaceFleet(args.procs, n, port, request, body, blocks, args)
        else:
            children = connect_children(range(n), port, request, body, sel)
        wait_defined(n, ctl, lambda seconds: drain_for(sel, seconds))
        connect_cpu = cpu_seconds(pid) - connect_cpu0
        time.sleep(1)
        rss_connected = rss_kib(pid)
        sent_samples = body_samples * n

        if fleet:
            time.sleep(max(0.0, fleet.begin() - time.monotonic()))
        counted0, cpu0, wake0, t0 = samples_counted(port), cpu_seconds(pid), wakeups(pid), time.monotonic()
        gen0 = resource.getrusage(resource.RUSAGE_SELF)
        if args.mode == "max":
            loops = steady_max(children, sel, loop, args.seconds)
            sent_samples += loops * copies * block_samples
            pace_info = {}
        elif fleet:
            ticks, lag, gen_user, gen_sys = fleet.end()
            pace_info = {"generator_lag_s": round(lag, 3), "generator_procs": args.procs}
        else:
            ticks, lag = steady_pace(children, sel, blocks, args.seconds, args.writes)
            pace_info = {"generator_lag_s": round(lag, 3)}
        counted = samples_counted(port)
        cpu1, wake1, t1 = cpu_seconds(pid), wakeups(pid), time.monotonic()
        gen1 = resource.getrusage(resource.RUSAGE_SELF)
        if not fleet:
            gen_user, gen_sys = gen1.ru_utime - gen0.ru_utime, gen1.ru_stime - gen0.ru_stime
        if args.mode == "max":
            expected = sent_samples
        else:
            # Every child sent slice (k + i) % w at tick k.
            per = -(-len(blocks) // args.writes)
            slice_samples = [count_samples(b"".join(blocks[i:i + per]))
                             for i in range(0, len(blocks), per)]
            w = len(slice_samples)
            expected = sent_samples + n * (ticks // w) * block_samples + sum(
                slice_samples[(k + i) % w] for i in range(n) for k in range(ticks % w))
        # Exactness: wait until aclkd has counted what was sent.
        deadline = time.monotonic() + 120
        while counted < expected and time.monotonic() < deadline:
            drain_for(sel, 0.2)
            counted = samples_counted(port)
        window = t1 - t0
        samples = counted - counted0
        cpu = cpu1 - cpu0
        result = {
            "binary": args.bin, "mode": args.mode, "children": n, "seconds": round(window, 2),
            "samples": samples, "samples_per_s": round(samples / window),
            "cpu_s": round(cpu, 3),
            "cpu_s_per_M_samples": round(cpu / (samples / 1e6), 4) if samples else None,
            "cpu_pct": round(100 * cpu / window, 2),
            "wakeups_per_child_s": round((wake1 - wake0) / n / window, 2),
            "connect_cpu_s": round(connect_cpu, 2),  # handshakes + definitions of all children
            "idle_rss_kib": idle_rss,
            "rss_per_child_kib": round((rss_connected - idle_rss) / n, 1),
            "rss_end_kib": rss_kib(pid),
            "counts_exact": counted == expected,
            "sent_samples": expected, "counted_samples": counted,
            # The stream port's degraded modes over the whole run (the connect storm included).
            "streams_dropped": metric(port, 'aclkd_streams_total{outcome="dropped"}'),
            "handshakes_late": metric(port, "aclkd_stream_handshakes_late_total"),
            "loadavg": os.getloadavg()[0],
            # The generator's own CPU over the window: at max rate its sends (the kernel's copy
            # into loopback) compete with aclkd for the same cores.
            "generator_user_s": round(gen_user, 2),
            "generator_sys_s": round(gen_sys, 2),
        }
        result.update(pace_info)
        print(json.dumps(result), flush=True)
        for c in children:
            c.sock.close()
        if fleet:
            fleet.finish()
        return result
    except BaseException:
        # A run that fails under load says what aclkd logged, before its folder goes.
        status = "running" if daemon.poll() is None else f"exited with {daemon.returncode}"
        tail = open(os.path.join(work, "aclkd.stderr"), errors="replace").read()[-3000:]
        print(f"run failed; aclkd {status}; its stderr ends:\n{tail}", file=sys.stderr, flush=True)
        raise
    finally:
        daemon.terminate()
        try:
            daemon.wait(20)
        except subprocess.TimeoutExpired:
            daemon.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--children", type=int, nargs="+", default=[1, 50, 1000])
    p.add_argument("--mode", choices=["max", "pace"], default="max")
    p.add_argument("--seconds", type=float, default=10, help="steady window")
    p.add_argument("--writes", type=int, default=10, help="pace: writes per child per second")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="[stream] io threads (0: default)")
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    p.add_argument("--procs", type=int, default=1,
                   help="pace: generator processes (one cannot keep pace for 10,000 children)")
    a = p.parse_args()
    if a.procs > 1 and a.mode != "pace":
        p.error("--procs is for --mode pace")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # aclkd inherits it
    if max(a.children) + 64 > hard:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} is too low for {max(a.children)} children")
    for n in a.children:
        runs = [run(a, n) for _ in range(a.repeat)]
        if a.repeat > 1:
            med = {"median": True, "binary": a.bin, "mode": a.mode, "children": n,
                   "counts_exact": all(r["counts_exact"] for r in runs)}
            for k in ("samples_per_s", "cpu_s_per_M_samples", "cpu_pct", "wakeups_per_child_s",
                      "rss_per_child_kib", "idle_rss_kib"):
                vals = [r[k] for r in runs if r[k] is not None]
                med[k] = statistics.median(vals) if vals else None
            print(json.dumps(med), flush=True)


if __name__ == "__main__":
    sys.exit(main())
