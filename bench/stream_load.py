#!/usr/bin/env python3
"""Load generator for the stream bridge: replays the captured Netdata 1.37 stream
(../shared/fixtures/netdata-1.37-child-stream.txt, else tests/fixtures/) as N concurrent children
into a fresh aclkd (cloud off) and prints one JSON line per run.

The children come from the C++ generator (bench/stream_loadgen.cc, `--generator cpp`, the
default once built: one process, epoll, `--gen-threads` threads) or from the Python one
(`--generator python`, `--procs P` processes). Each child first sends the whole capture
(handshake, definitions, the first samples) under its own machine GUID and host name; once every
node has all its dimensions the steady phase starts:

- `--mode max`: every child sends the capture's sample blocks (its 114 BEGIN…END blocks, 411
  SET lines, in capture order) in a loop as fast as the sockets take them;
- `--mode pace`: every child sends the same blocks once per second (every chart of the capture
  has update_every 1), cut into `--writes` slices at even intervals, each child at its own phase
  (~10 writes per child per second, what a 1.37 child's collectors do).

Reported (aclkd's side, from /proc, over the steady window): CPU seconds per million samples,
samples/s, CPU % of one core, RSS per connected child (after the definitions), idle RSS,
wake-ups per child per second (voluntary + involuntary context switches of all aclkd threads),
reads per child per second (aclkd_stream_reads_total, on builds that have it), the CPU seconds
the connect phase (handshakes and definitions) took, and the streams dropped and the handshakes
served late (aclkd's own /metrics counters) over the whole run; the generator's own CPU and how
late its ticks were. At the end every child stops at a block boundary and the run checks that
aclkd counted exactly the samples sent (`counts_exact`).

`--storm-rounds R` (C++, pace): all children stream, then `--storm-fraction` of them reset and
reconnect at once, R times `--storm-every` seconds apart; per round the handshakes accepted,
refused, timed out and their reply times, and /healthz, /metrics and `aclkctl aclk-state`
asked every ~50 ms throughout (p50/p99/max, failures).

`--anchor` (C++): the same children, mode and N first fed to a Netdata v2.10.4 parent
(../shared/netdata-v2/start-child, skipped with a message when absent), then to aclkd; both
figures are printed side by side with the ratio v2 / aclkd.

    bench/stream_load.py --children 1 50 1000 --mode max --seconds 10 --repeat 3
    bench/stream_load.py --children 50 --mode pace --seconds 30 --bin /tmp/before/bin
    bench/stream_load.py --children 10000 --mode pace --seconds 30 --gen-threads 2
    bench/stream_load.py --children 10000 --mode pace --storm-rounds 3 --gen-threads 2
    bench/stream_load.py --children 50 --mode pace --seconds 30 --anchor
    bench/stream_load.py --children 10000 --mode pace --seconds 30 --generator python --procs 4

With --repeat, the median of each figure is printed as a last line with "median": true.
"""

import argparse
import json
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import time

from stream_load_parents import Aclkd, NetdataV2
from stream_load_probes import ApiProbes
from stream_load_python import PaceFleet, connect_children, drain_for, steady_max, steady_pace
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_NAME = "netdata-1.37-child-stream.txt"
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


def run_python(args, n, parent):
    """The steady window with the Python generator (aclkd only)."""
    data = open(fixture_path(), "rb").read()
    end = data.index(b"\r\n\r\n") + 4
    request, body = data[:end].decode(), data[end:]
    blocks = sample_blocks(body)
    block_samples = count_samples(b"".join(blocks))
    body_samples = count_samples(body)
    copies = max(1, 262144 // len(b"".join(blocks)))
    loop = b"".join(blocks) * copies
    port, pid = parent.port, parent.pid
    idle_rss = rss_kib(pid)
    connect_cpu0 = cpu_seconds(pid)
    sel = selectors.DefaultSelector()
    fleet, children = None, []
    if args.procs > 1:
        fleet = PaceFleet(args.procs, n, port, request, body, blocks, args)
    else:
        children = connect_children(range(n), port, request, body, sel)
    parent.wait_defined(n, lambda seconds: drain_for(sel, seconds))
    connect_cpu = cpu_seconds(pid) - connect_cpu0
    time.sleep(1)
    rss_connected = rss_kib(pid)
    sent_samples = body_samples * n

    if fleet:
        time.sleep(max(0.0, fleet.begin() - time.monotonic()))
    before = Reading(parent)
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
    after = Reading(parent)
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
    counted = wait_counted(parent, expected, lambda seconds: drain_for(sel, seconds))
    result = figures(args, n, parent, before, after, after.counted - before.counted,
                     idle_rss, rss_connected, connect_cpu)
    result.update({"counts_exact": counted == expected, "sent_samples": expected,
                   "counted_samples": counted, "generator": "python",
                   "generator_user_s": round(gen_user, 2), "generator_sys_s": round(gen_sys, 2)})
    result.update(pace_info)
    for c in children:
        c.sock.close()
    if fleet:
        fleet.finish()
    return result


class Reading:
    """The parent's counters at one instant of the steady window."""

    def __init__(self, parent):
        self.counted = parent.samples_counted()
        self.reads = parent.reads_total()
        self.cpu, self.wake, self.t = cpu_seconds(parent.pid), wakeups(parent.pid), time.monotonic()


def wait_counted(parent, expected, idle):
    """Until the parent has counted `expected` samples (120 s at most); what it counted."""
    deadline = time.monotonic() + 120
    counted = parent.samples_counted()
    while counted is not None and counted < expected and time.monotonic() < deadline:
        idle(0.2)
        counted = parent.samples_counted()
    return counted


def figures(args, n, parent, before, after, samples, idle_rss, rss_connected, connect_cpu):
    """The figures every run prints, whichever the generator and the parent."""
    window = after.t - before.t
    cpu = after.cpu - before.cpu
    result = {
        "parent": parent.name, "binary": args.bin if parent.name == "aclkd" else "netdata v2.10.4",
        "mode": args.mode, "children": n, "seconds": round(window, 2),
        "samples": samples, "samples_per_s": round(samples / window),
        "cpu_s": round(cpu, 3),
        "cpu_s_per_M_samples": round(cpu / (samples / 1e6), 4) if samples else None,
        "cpu_pct": round(100 * cpu / window, 2),
        "wakeups_per_child_s": round((after.wake - before.wake) / n / window, 2),
        "connect_cpu_s": round(connect_cpu, 2),  # handshakes + definitions of all children
        "idle_rss_kib": idle_rss,
        "rss_per_child_kib": round((rss_connected - idle_rss) / n, 1),
        "rss_end_kib": rss_kib(parent.pid),
        "loadavg": os.getloadavg()[0],
    }
    if before.reads is not None and after.reads is not None:
        result["reads_per_child_s"] = round((after.reads - before.reads) / n / window, 3)
    # The stream port's degraded modes over the whole run (the connect storm included).
    result.update(parent.degraded())
    return result


class CppGenerator:
    """bench/stream_loadgen in --driven mode: JSON lines out, "go" and the final close in."""

    def __init__(self, args, n, port, seconds):
        cmd = [args.loadgen, "--driven", "--port", str(port), "--children", str(n),
               "--mode", args.mode, "--seconds", str(seconds), "--writes", str(args.writes),
               "--threads", str(args.gen_threads), "--capture", fixture_path()]
        if args.gen_send_buffer:
            cmd += ["--send-buffer", str(args.gen_send_buffer)]
        if args.storm_rounds:
            cmd += ["--storm-rounds", str(args.storm_rounds), "--storm-first", str(args.storm_first),
                    "--storm-every", str(args.storm_every),
                    "--storm-fraction", str(args.storm_fraction)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def event(self, name):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"stream_loadgen exited ({self.proc.wait()}) before its {name} line")
        ev = json.loads(line)
        if ev.get("event") != name:
            raise SystemExit(f"stream_loadgen: expected {name}, got {line.strip()}")
        return ev

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def finish(self):
        self.proc.stdin.close()
        self.proc.wait(60)


def run_cpp(args, n, parent):
    """The steady window (or the storm) with the C++ generator, against aclkd or the v2 parent."""
    pid = parent.pid
    idle_rss = rss_kib(pid)
    idle0 = cpu_seconds(pid), time.monotonic()
    time.sleep(2)
    idle_cpu_pct = 100 * (cpu_seconds(pid) - idle0[0]) / (time.monotonic() - idle0[1])
    connect_cpu0 = cpu_seconds(pid)
    storm = args.storm_rounds > 0
    seconds = args.storm_first + args.storm_rounds * args.storm_every if storm else args.seconds
    gen = CppGenerator(args, n, parent.port, seconds)
    try:
        defined = gen.event("defined")
        parent.wait_defined(n, time.sleep)
        connect_cpu = cpu_seconds(pid) - connect_cpu0
        time.sleep(1)
        rss_connected = rss_kib(pid)
        probes = ApiProbes(parent) if storm and isinstance(parent, Aclkd) else None
        before = Reading(parent)
        if probes:
            probes.start()
        gen.go()
        report = gen.event("report")
        after = Reading(parent)
        api = probes.stop() if probes else {}
        expected = report["samples_sent"]
        counted = None if storm else wait_counted(parent, expected, time.sleep)
        result = figures(args, n, parent, before, after, report["steady_samples"],
                         idle_rss, rss_connected, connect_cpu)
        result["idle_cpu_pct"] = round(idle_cpu_pct, 2)  # before any child: its own collection
        result["cpu_pct_over_idle"] = round(result["cpu_pct"] - idle_cpu_pct, 2)
        if counted is not None:
            result.update({"counts_exact": counted == expected, "sent_samples": expected,
                           "counted_samples": counted})
        if isinstance(parent, NetdataV2):
            result["v2_sampled_s"] = parent.sampled_seconds()  # its samples were stored
        result.update({
            "generator": "cpp", "generator_threads": report["threads"],
            # Per tick, against the schedule: its first write, its last write (stream_loadgen.cc).
            "generator_tick_start_late_ms": report.get("tick_start_late_ms"),
            "generator_tick_done_late_ms": report.get("tick_done_late_ms"),
            "generator_user_s": report["cpu_user_s"], "generator_sys_s": report["cpu_sys_s"],
            "generator_cpu_pct": report["cpu_pct"], "generator_rss_kib": report["rss_kib"],
            "handshakes": defined["handshakes"]["reply_ms"], "streams_lost": report["streams_lost"],
        })
        if storm:
            result["storm"] = report["storm"]
            result.update(api)
        return result
    finally:
        gen.finish()


def run(args, n, parent):
    parent.start()
    try:
        time.sleep(0.5)
        if args.generator == "python":
            return run_python(args, n, parent)
        return run_cpp(args, n, parent)
    except BaseException:
        # A run that fails under load says what the parent logged, before its folder goes.
        print(f"run failed; {parent.failure()}", file=sys.stderr, flush=True)
        raise
    finally:
        parent.stop()


def anchor_line(v2, aclkd):
    """Both parents side by side, each ratio v2 / aclkd."""
    keys = ("cpu_pct", "cpu_pct_over_idle", "idle_cpu_pct", "cpu_s_per_M_samples", "rss_per_child_kib", "idle_rss_kib", "connect_cpu_s",
            "wakeups_per_child_s")
    ratio = {k: round(v2[k] / aclkd[k], 2) if v2.get(k) and aclkd.get(k) else None for k in keys}
    line = {"anchor": True, "children": aclkd["children"], "mode": aclkd["mode"],
            "loadavg": os.getloadavg()[0], "netdata_v2": {k: v2.get(k) for k in keys},
            "aclkd": {k: aclkd.get(k) for k in keys}, "v2_over_aclkd": ratio}
    print(json.dumps(line), flush=True)
    print(f"{'':24}{'netdata v2':>14}{'aclkd':>12}{'v2 / aclkd':>12}", file=sys.stderr)
    for k in keys:
        print(f"{k:24}{str(v2.get(k)):>14}{str(aclkd.get(k)):>12}{str(ratio[k]):>12}",
              file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--children", type=int, nargs="+", default=[1, 50, 1000])
    p.add_argument("--mode", choices=["max", "pace"], default="max")
    p.add_argument("--seconds", type=float, default=10, help="steady window")
    p.add_argument("--writes", type=int, default=10, help="pace: writes per child per second")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="[stream] io threads (0: default)")
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    p.add_argument("--port", type=int, default=0, help="aclkd's port (0: a free one)")
    loadgen = os.path.join(ROOT, "build", "bin", "stream_loadgen")
    p.add_argument("--generator", choices=["cpp", "python"],
                   help="cpp (bench/stream_loadgen.cc; the default when built, unless --procs) "
                        "or python")
    p.add_argument("--loadgen", default=loadgen, help="the C++ generator's binary")
    p.add_argument("--gen-threads", type=int, default=1, help="cpp: generator threads")
    p.add_argument("--receive-buffer", type=int, default=0,
                   help="aclkd's [stream] receive buffer bytes (0: the kernel's autotuning)")
    p.add_argument("--gen-send-buffer", type=int, default=0,
                   help="cpp: SO_SNDBUF of each child's socket, bytes (0: the kernel's). The "
                        "generator shares the host's TCP memory with aclkd; a small buffer keeps "
                        "unsent bytes in the generator, as a remote child keeps them in its host")
    p.add_argument("--procs", type=int, default=1,
                   help="python, pace: generator processes (one cannot keep pace for 10,000)")
    p.add_argument("--storm-rounds", type=int, default=0,
                   help="cpp, pace: reconnect storms in the steady phase (its length follows)")
    p.add_argument("--storm-first", type=float, default=5, help="seconds before the first storm")
    p.add_argument("--storm-every", type=float, default=20, help="seconds between storms")
    p.add_argument("--storm-fraction", type=float, default=1.0, help="children that reconnect")
    p.add_argument("--anchor", action="store_true",
                   help="cpp: the same run against a Netdata v2.10.4 parent first")
    p.add_argument("--anchor-port", type=int, default=0, help="the v2 parent's port (0: free)")
    a = p.parse_args()
    if a.generator is None:
        a.generator = "cpp" if a.procs == 1 and os.access(a.loadgen, os.X_OK) else "python"
    if a.procs > 1 and (a.mode != "pace" or a.generator != "python"):
        p.error("--procs is for --generator python --mode pace")
    if (a.storm_rounds or a.anchor) and a.generator != "cpp":
        p.error(f"--storm-rounds and --anchor need the C++ generator ({a.loadgen})")
    if a.storm_rounds and a.mode != "pace":
        p.error("--storm-rounds is for --mode pace")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        os.environ.pop(var, None)  # every request here is to 127.0.0.1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # aclkd inherits it
    if max(a.children) + 64 > hard:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} is too low for {max(a.children)} children")
    if a.anchor and not NetdataV2.available():
        print("--anchor skipped: no Netdata v2 agent at ../shared/netdata-v2/start-child",
              file=sys.stderr, flush=True)
        a.anchor = False
    for n in a.children:
        runs = []
        for _ in range(a.repeat):
            if a.anchor:
                v2 = run(a, n, NetdataV2(a.anchor_port or free_port()))
                print(json.dumps(v2), flush=True)
            runs.append(run(a, n, Aclkd(a.bin, a.port or free_port(), a.threads, a.receive_buffer)))
            print(json.dumps(runs[-1]), flush=True)
            if a.anchor:
                anchor_line(v2, runs[-1])
        if a.repeat > 1:
            med = {"median": True, "binary": a.bin, "mode": a.mode, "children": n,
                   "counts_exact": all(r.get("counts_exact", True) for r in runs)}
            for k in ("samples_per_s", "cpu_s_per_M_samples", "cpu_pct", "wakeups_per_child_s",
                      "reads_per_child_s", "rss_per_child_kib", "idle_rss_kib"):
                vals = [r[k] for r in runs if r.get(k) is not None]
                med[k] = statistics.median(vals) if vals else None
            print(json.dumps(med), flush=True)


if __name__ == "__main__":
    sys.exit(main())
