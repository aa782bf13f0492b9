#!/usr/bin/env python3
"""A soak with faults (issue 23): aclkd against a real mosquitto (wss, test CA) and the test cloud,
loopback only, for --minutes (default 60), with these faults at once:

- 200 replayed Netdata 1.37 children (the capture, bench/stream_load.py's pieces) join, stream at
  the captured pace (every block once a second, in 10 writes) for a random while, stop at a block
  boundary, wait until aclkd counted exactly what they sent in that session (its per-stream
  `aclkd_stream_samples_total` in /metrics), leave (a clean close or a reset), stay away, rejoin;
- 3 real Netdata v2.10.4 children (start-child) stay connected; functions (netdata-streaming,
  mount-points) and queries (/api/v1/data, /api/v3/contexts through the query proxy) on them,
  queries for replayed nodes and the gateway, --inflight always in flight, across link drops;
- mosquitto SIGKILLed every --kill-every s (+-30 %), restarted 2-8 s later: the link must be
  Online and answer a cmd within 120 s;
- garbage from the cloud (undecodable protobuf, unknown message types, payloads over aclkd's
  `inbound message limit`): each must show in aclkd's counters or log; bursts of --burst cmd
  requests at once: each must be answered;
- every --poll s `aclkctl aclk-state json`, `aclkctl nodes json`, GET /metrics and /healthz, timed;
  every 30 s aclkd's RSS, fds, threads, CPU and counters.

At the warm-up mark (--warmup minutes) and at the end every replayed child rejoins, streams 20 s,
stops and is checked; RSS, fds and threads are taken then, so both points have the same streams.
Prints one JSON report, then a table. Exits 1 when a sample or a request is lost (a call lost with
a killed broker is counted apart, not as a loss), a process died, the link did not come back, or
RSS grew over --max-rss-growth %, fds or threads over --max-fd-growth / --max-thread-growth.

    bench/soak.py --json soak.json                                         # the hour
    bench/soak.py --minutes 5 --warmup 1.5 --kill-every 60 --burst-every 45  # the short mode
Binaries: $ACLKD_BIN_DIR (default build/bin). Ports: 1000 from --ports (default 31000).
"""

import argparse
import base64
import collections
import concurrent.futures
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "bench")]
os.environ.setdefault("ACLKD_BIN_DIR", os.path.join(ROOT, "build", "bin"))
import harness  # noqa: E402
from stream_load import KEY, cpu_seconds, rss_kib  # noqa: E402
from soak_fleet import Fleet  # noqa: E402
from soak_report import print_table, report  # noqa: E402
from test_10_link_transport import iso_to_epoch  # noqa: E402

INBOUND_LIMIT_KIB = 1024  # aclkd's `inbound message limit` here; the oversized garbage is above it
UNKNOWN_LINE = "Do not know how to handle message of type"  # aclkd's log for an unknown type


def port_range(base):
    """Ports of one range (the machine is shared), each checked free when handed out."""
    for port in range(base, base + 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        yield port
    raise SystemExit("no free port left in the range")


class Record:
    """What the run saw, shared by its threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts, self.latency = collections.Counter(), collections.defaultdict(list)
        self.errors, self.events = [], []

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    def took(self, name, seconds):
        self.latency[name].append(seconds)  # list.append is atomic

    def event(self, text, into=None):
        line = f"{time.strftime('%H:%M:%S')} {text}"
        (self.events if into is None else into).append(line)
        print(line if into is None else line.replace(" ", " ERROR ", 1), flush=True)

    def error(self, text):
        self.event(text, self.errors)


def http_get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode()


class Poller(threading.Thread):
    """The operator's view, polled as a monitoring system would, timed; keeps the latest
    per-stream sample counts (machine GUID -> samples) for the children's checks, and samples
    aclkd's resources every 30 s."""

    def __init__(self, env, every):
        super().__init__(daemon=True)
        self.env, self.every, self.rows = env, every, []
        self.streams, self.streams_at, self.state, self.series = {}, 0.0, {}, {}

    def timed(self, name, call):
        t0 = time.monotonic()
        try:
            out = call()
        except Exception as e:  # noqa: BLE001 - counted, the run goes on
            return self.env.rec.error(f"poll {name}: {e}")
        self.env.rec.took(name, time.monotonic() - t0)
        return out

    def poll_once(self):
        env, started = self.env, time.monotonic()
        self.state = self.timed("aclk-state json", env.gw.state_json) or self.state
        self.timed("nodes json", lambda: env.gw.table("nodes"))
        self.timed("healthz", lambda: http_get(env.web + "/healthz"))
        text = self.timed("metrics", lambda: http_get(env.web + "/metrics"))
        try:
            series = harness.parse_metrics(text)[2] if text else None
        except AssertionError as e:
            return env.rec.error(f"/metrics does not parse: {e}")
        if series:
            self.streams = {k.split('machine_guid="', 1)[1].split('"', 1)[0]: int(v)
                            for k, v in series.items()
                            if k.startswith("aclkd_stream_samples_total{")}
            self.series, self.streams_at = series, started

    def sample(self, label=""):
        pid = self.env.gw.process.proc.pid
        with open(f"/proc/{pid}/status") as f:
            threads = next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
        row = {"t": round(time.monotonic() - self.env.t0, 1), "rss_kib": rss_kib(pid),
               "fds": len(os.listdir(f"/proc/{pid}/fd")), "threads": threads,
               "cpu_s": round(cpu_seconds(pid), 2),
               "streams": int(self.series.get("aclkd_streams", -1)),
               "counters": dict(self.state.get("counters", {})),
               **({"label": label} if label else {})}
        self.rows.append(row)

    def run(self):
        next_sample = time.monotonic() + 30
        while not self.env.stopping.is_set():
            self.poll_once()
            if time.monotonic() >= next_sample:
                next_sample += 30
                try:
                    self.sample()
                except OSError as e:
                    self.env.rec.error(f"sampling aclkd: {e}")
            self.env.stopping.wait(self.every)


class Calls(threading.Thread):
    """Queries and function calls through the test cloud, --inflight of them at all times; the
    replies are read from the cloud's record of cmd-reply messages (bursts read theirs here too).
    A call with no reply that was sent while the link was down, or whose time included a link drop
    (a broker kill, or aclkd closing the link on an oversized message), is counted apart: the
    broker lost it (no session is kept across connections), the request on its way to aclkd or
    the reply on its way to the cloud."""

    def __init__(self, env, inflight):
        super().__init__(daemon=True)
        self.env, self.inflight, self.replies, self.seq = env, inflight, {}, 0
        # msg_id -> (what, sent at: monotonic, published: the cloud's clock, drops then, down)
        self.waiting = {}
        self.draining, self.rng = False, random.Random(19)  # draining: no new calls (the end)

    def collect(self):
        for m in self.env.cloud.messages(self.env.cid, type="cmd-reply", after=self.seq):
            self.seq = max(self.seq, m["seq"])
            header = m.get("header") or {}
            if header.get("msg-id"):
                self.replies[header["msg-id"]] = (header.get("http-code"), iso_to_epoch(m["time"]))

    def start_call(self):
        env = self.env
        v2, replayed = self.rng.choice(env.v2_nodes), env.replayed_nodes() or env.v2_nodes
        what, path = self.rng.choice([
            ("function netdata-streaming", None), ("function mount-points", None),
            ("query v2 data", f"/node/{v2}/api/v1/data?chart=system.cpu&after=-10&points=5"),
            ("query v2 contexts", f"/node/{v2}/api/v3/contexts"),
            ("query replayed info", f"/node/{self.rng.choice(replayed)}/api/v1/info"),
            ("query gateway aclk", "/api/v1/aclk")])
        try:
            if path is None:
                answer = env.cloud.api(f"/testcloud/api/nodes/{v2}/function", "POST",
                                       {"function": what.split()[1], "timeout": 20})
            else:
                answer = env.cloud.cmd(env.cid, "GET", path)
        except Exception as e:  # noqa: BLE001 - the cloud cannot publish while the broker is away
            # ... nor for a few seconds after it is back (its Paho client retries every 1-2 s).
            excused = env.broker_down or time.monotonic() - env.broker_up_at < 15
            env.rec.add("calls not sent: broker down" if excused else "calls not sent")
            if not excused:
                env.rec.error(f"{what}: the test cloud could not send it: {e}")
            return False
        self.waiting[answer["msg_id"]] = (what, time.monotonic(), iso_to_epoch(answer["published"]),
                                          len(env.drops), env.link_down)
        env.rec.add("calls sent")
        return True

    def settle(self):
        env, now = self.env, time.monotonic()
        for mid, (what, at, published, drops, down) in list(self.waiting.items()):
            if mid in self.replies:
                code, replied = self.replies.pop(mid)
                env.rec.took("call " + what.split()[0], replied - published)
                env.rec.add(f"call {what}: answered {code}")
                del self.waiting[mid]
            elif now - at > 90:
                del self.waiting[mid]
                if len(env.drops) == drops and not down and not env.link_down:
                    env.rec.add(f"call {what}: LOST")
                    env.rec.error(f"{what} ({mid}): no reply within 90 s, the link up all along")
                    continue
                env.rec.add(f"call {what}: lost with a link drop")
                # The drop it was sent into (the link down then), else the next one.
                dropped, why = env.drops[drops - 1 if down or drops == len(env.drops) else drops]
                env.rec.event(f"{what} ({mid}): no reply; sent {abs(at - dropped):.2f} s "
                              f"{'after' if at > dropped else 'before'} {why}")

    def run(self):
        failed = 0  # reads of the cloud's record in a row that failed
        while not self.env.stopping.is_set():
            try:
                self.collect()
                failed = 0
            except Exception as e:  # noqa: BLE001 - the test cloud's, not aclkd's: read again
                # (its HTTPS front has cut a large answer short now and then: IncompleteRead)
                failed += 1
                self.env.rec.add("test cloud: reading its record failed, read again")
                if failed == 10:
                    self.env.rec.error(f"calls: the test cloud's record unreadable 10 times: {e!r}")
                self.env.stopping.wait(0.3)
                continue
            try:
                self.settle()
                while len(self.waiting) < self.inflight and not self.draining and self.start_call():
                    pass
            except Exception as e:  # noqa: BLE001
                self.env.rec.error(f"calls: {e!r}")
            self.env.stopping.wait(0.3)

    def wait_for(self, ids, timeout):
        """{msg_id: http code} of the `ids` answered within `timeout` s (taken off the record)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(m not in self.replies for m in ids):
            time.sleep(0.3)
        return {m: self.replies.pop(m)[0] for m in ids if m in self.replies}


class Chaos(threading.Thread):
    """The faults, one at a time: broker kills, garbage from the cloud, cmd bursts."""

    def __init__(self, env, args):
        super().__init__(daemon=True)
        self.env, self.args, self.rng = env, args, random.Random(5)

    def ready(self, timeout):
        """Online, and a cmd answered (Online is set at CONNACK, before the SUBSCRIBEs are in)."""
        env, deadline = self.env, time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if env.gw.state_json()["online"]:
                    mid = env.cloud.cmd(env.cid, "GET", "/api/v1/aclk")["msg_id"]
                    if env.calls.wait_for([mid], 5):
                        return True
            except Exception:  # noqa: BLE001 - the cloud's side may still be reconnecting
                pass
            time.sleep(0.5)
        return False

    def link_back(self, what, t0):
        if self.ready(120):
            self.env.rec.took(f"link back after {what}", time.monotonic() - t0)
            return time.monotonic() - t0
        return self.env.rec.error(f"{what}: the link did not come back within 120 s")

    def kill_broker(self):
        env = self.env
        env.broker_down = env.link_down = True
        env.kills += 1
        env.drops.append((time.monotonic(), f"broker kill {env.kills}"))
        env.broker.process.kill()
        env.broker.process.wait()
        env.broker._err.close()
        down = self.rng.uniform(2, 8)
        time.sleep(down)
        env.broker.start()
        env.broker_down, env.broker_up_at = False, time.monotonic()
        took = self.link_back("a broker restart", env.broker_up_at)
        env.link_down = False
        if took is not None:
            env.rec.add("broker kills: link back")
            env.rec.event(f"broker kill {env.kills}: down {down:.1f} s, link back in {took:.1f} s")

    def garbage(self, kind):
        env = self.env
        if not self.ready(30):
            return env.rec.error(f"garbage {kind}: the link was not ready")
        before, unknown = env.gw.state_json()["counters"], env.gw.log().count(UNKNOWN_LINE)
        counter = ("malformed-inbound-messages" if kind == "undecodable"
                   else "inbound-messages-too-big")
        t0 = time.monotonic()
        if kind in ("oversized", "just-over"):
            env.link_down = True  # aclkd closes the link on it, as the agent does
            env.drops.append((t0, f"{kind} garbage"))
        if kind == "undecodable":  # field 1 with wire type 7: no protobuf parser takes it
            junk = b"\x0f" + secrets.token_bytes(self.rng.randint(8, 4000))
            env.cloud.send(env.cid, self.rng.choice([
                "ContextsCheckpoint", "SendNodeInstances", "CreateNodeInstanceResult",
                "StopStreamingContexts", "SendAlarmSnapshot", "CancelPendingRequest"]),
                payload_b64=base64.b64encode(junk).decode())
        elif kind == "unknown-type":
            env.cloud.send(env.cid, f"SoakUnknown{self.rng.randint(0, 999)}", payload_b64="CAE=")
        elif kind == "oversized":  # refused from its MQTT header
            env.cloud.send(env.cid, "ContextsCheckpoint", size=4 * INBOUND_LIMIT_KIB * 1024)
        else:  # "just-over": within the header's allowance, refused once whole; mosquitto's wss
            # listener sends it at ~40 KB/s (docs/benchmarks.md), so it takes ~30 s to arrive
            env.cloud.send(env.cid, "ContextsCheckpoint", size=INBOUND_LIMIT_KIB * 1024 + 4096)
        try:
            harness.wait_for(lambda: env.gw.log().count(UNKNOWN_LINE) > unknown
                             if kind == "unknown-type" else
                             env.gw.state_json()["counters"][counter] > before[counter],
                             120 if kind == "just-over" else 20, interval=0.2, what=kind)
            env.rec.add(f"garbage {kind}: refused")
        except AssertionError:
            env.rec.add(f"garbage {kind}: LOST")
            env.rec.error(f"garbage {kind}: no counter or log line shows it")
        if env.link_down:
            self.link_back(f"{kind} garbage", t0)
            env.link_down = False

    def burst(self):
        env = self.env
        if not self.ready(30):
            return env.rec.error("burst: the link was not ready")
        nodes = env.replayed_nodes() or env.v2_nodes
        paths = ["/api/v1/aclk", "/api/v1/nope"] + [f"/node/{n}/api/v1/info" for n in nodes[:20]]
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            ids = [a["msg_id"] for a in pool.map(lambda i: env.cloud.cmd(
                env.cid, "GET", paths[i % len(paths)]), range(self.args.burst))]
        answered = env.calls.wait_for(ids, 120)
        env.rec.took("burst, all answered", time.monotonic() - t0)
        env.rec.add("burst requests", len(ids))
        env.rec.add("burst requests answered", len(answered))
        if len(answered) < len(ids):
            env.rec.error(f"burst: {len(ids) - len(answered)} of {len(ids)} requests unanswered")
        env.rec.event(f"burst of {len(ids)}: {len(answered)} answered in "
                      f"{time.monotonic() - t0:.1f} s")

    def run(self):
        a, now, n = self.args, time.monotonic(), 0
        due = {"kill": now + a.kill_every * self.rng.uniform(0.7, 1.3), "burst": now + 45,
               "garbage": now + 15}
        kinds = ["undecodable", "unknown-type", "oversized"] * 2 + ["just-over"]
        while not self.env.chaos_stop.is_set():
            now = time.monotonic()
            try:
                if now >= due["kill"]:
                    self.kill_broker()
                    due["kill"] = time.monotonic() + a.kill_every * self.rng.uniform(0.7, 1.3)
                elif now >= due["burst"]:
                    self.burst()
                    due["burst"] = time.monotonic() + a.burst_every
                elif now >= due["garbage"]:
                    self.garbage(kinds[n % len(kinds)])
                    n += 1
                    due["garbage"] = time.monotonic() + a.garbage_every
                else:
                    self.env.chaos_stop.wait(0.5)
            except Exception as e:  # noqa: BLE001
                self.env.rec.error(f"chaos: {e!r}")
                self.env.chaos_stop.wait(2)


class Env:
    """The parts of one run and what its threads share."""

    def __init__(self, args):
        self.rec, self.args, self.t0 = Record(), args, time.monotonic()
        self.stopping, self.chaos_stop, self.fleet_stop = (threading.Event() for _ in range(3))
        self.kills, self.drops, self.broker_down, self.broker_up_at = 0, [], False, 0.0
        self.link_down = False  # from a broker kill or an oversized message until a cmd answers
        self.v2_pids, self.v2 = [], []

    def setup(self, ports):
        a = self.args
        self.work = tempfile.mkdtemp(prefix="aclkd-soak-")
        os.chmod(self.work, 0o755)
        certs = harness.Certs(os.path.join(self.work, "certs"))
        self.broker = harness.Mosquitto(self.work, certs, log_type="error")
        token = secrets.token_hex(16)
        self.cloud = harness.TestCloud(self.work, certs, [token], mosquitto=self.broker)
        # One API key per v2 child: its query url (the query proxy's target) is its web API. The
        # replayed children's goes to a port of the range where nothing listens (the default,
        # 127.0.0.1:19999, may be another gateway or agent on a shared machine).
        self.v2 = [(str(uuid.uuid4()), next(ports), f"soak-v2-{i}") for i in range(a.v2)]
        nobody = next(ports)
        self.gw = harness.Gateway(
            os.path.join(self.work, "gw"), ca_file=certs.ca,
            extra_cloud={"proxy": "none", "inbound message limit": INBOUND_LIMIT_KIB},
            claim_conf={"url": self.cloud.url, "token": token, "rooms": harness.ROOM,
                        "proxy": "none"},
            stream_conf=f"[{KEY}]\n    enabled = yes\n    query url = http://127.0.0.1:{nobody}\n"
            + "".join(
                f"[{k}]\n    enabled = yes\n    query url = http://127.0.0.1:{p}\n"
                for k, p, _ in self.v2))
        conf = open(os.path.join(self.gw.etc, "aclkd.conf")).read()
        self.gw.write_conf("aclkd.conf",
                           conf.replace("log level = debug", f"log level = {a.log_level}"))
        self.gw.start()
        harness.wait_for(lambda: self.gw.state_json()["online"], 60, what="aclkd online")
        self.cid = self.gw.state_json()["claimed-id"]
        self.web = f"http://127.0.0.1:{self.gw.stream_port}"
        for key, port, host in self.v2:
            out = subprocess.run([a.v2_start, "--dir", os.path.join(self.work, host), "--dest",
                                  f"127.0.0.1:{self.gw.stream_port}", "--key", key, "--hostname",
                                  host, "--web-port", str(port), "--background"],
                                 check=True, capture_output=True, text=True, timeout=300)
            self.v2_pids.append(int(out.stdout.split()[-1]))

        def v2_ready():
            rows = {n["hostname"]: n for n in self.gw.table("nodes")}
            if all(rows.get(h, {}).get("funcs") and rows[h].get("node-id") for _, _, h in self.v2):
                return [rows[h]["node-id"] for _, _, h in self.v2]
        self.v2_nodes = harness.wait_for(v2_ready, 180, interval=1, what="the v2 nodes' functions")

    def replayed_nodes(self):
        return [n["node-id"] for n in self.poller.state.get("node-instances", [])
                if n["hostname"].startswith("soak-") and not n["hostname"].startswith("soak-v2")
                and n["node-id"]]

    def dead(self):
        """The processes of the run that are gone, by name."""
        gone = [] if self.gw.alive() else [f"aclkd (exit {self.gw.process.proc.returncode})"]
        gone += [] if self.cloud.process.alive() else ["aclk-testcloud"]
        for pid, (_, _, host) in zip(self.v2_pids, self.v2):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                gone.append(host)
        return gone

    def teardown(self):
        for stop in [lambda pid=pid: os.kill(pid, signal.SIGTERM) for pid in self.v2_pids] + [
                self.gw.stop, self.cloud.stop, self.broker.stop]:
            try:
                stop()
            except Exception:  # noqa: BLE001 - best effort: what is gone is gone
                pass


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    for flag, kind, default, text in (
            ("minutes", float, 60, "length of the run"),
            ("warmup", float, 5, "minutes to the warm-up sample"),
            ("children", int, 200, "replayed 1.37 children"),
            ("v2", int, 3, "real Netdata v2.10.4 children"),
            ("v2-start", str, os.path.join(os.path.dirname(ROOT), "shared", "netdata-v2",
                                           "start-child"), "the v2 agent's start-child"),
            ("session", float, [20, 240], "MIN MAX seconds a replayed child streams, then leaves"),
            ("away", float, [3, 60], "MIN MAX seconds a replayed child stays away"),
            ("kill-every", float, 180, "seconds between broker kills"),
            ("garbage-every", float, 20, "seconds between garbage messages"),
            ("burst-every", float, 90, "seconds between bursts"),
            ("burst", int, 300, "cmd requests per burst"),
            ("inflight", int, 4, "queries and function calls in flight"),
            ("poll", float, 3, "seconds between operator polls"),
            ("max-rss-growth", float, 10, "%% RSS growth allowed from warm-up to end"),
            ("max-fd-growth", int, 2, "fds allowed more at the end than at warm-up"),
            ("max-thread-growth", int, 2, "threads allowed more at the end than at warm-up"),
            ("ports", int, 31000, "first of the 1000 ports used"),
            ("log-level", str, "info", "aclkd's log level"),
            ("json", str, None, "also write the report to this file")):
        p.add_argument("--" + flag, type=kind, default=default, help=text,
                       nargs=2 if isinstance(default, list) else None)
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = p.parse_args()
    # A background job of a non-interactive shell ignores SIGINT: both stop the run cleanly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(130))
    for var in ("https_proxy", "http_proxy", "HTTPS_PROXY", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        os.environ.pop(var, None)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # aclkd inherits it
    ports = port_range(args.ports)
    harness.free_port = lambda: next(ports)  # every part the harness starts listens in the range
    env = Env(args)
    try:
        env.setup(ports)
        env.poller, env.calls = Poller(env, args.poll), Calls(env, args.inflight)
        fleet, chaos = Fleet(env, args.children, args), Chaos(env, args)
        env.t0 = time.monotonic()
        env.rec.event(f"aclkd {env.gw.process.proc.pid} online, claimed {env.cid}; v2 nodes "
                      f"{env.v2_nodes}; work folder {env.work}")
        for part in (env.poller, env.calls, fleet, chaos):
            part.start()
        warm_at, end_at = env.t0 + args.warmup * 60, env.t0 + args.minutes * 60
        while time.monotonic() < end_at and not env.dead():
            if warm_at and time.monotonic() >= warm_at:
                fleet.sync_point("warm-up")
                env.poller.sample("warm-up")
                fleet.resume()
                warm_at = None
            time.sleep(1)
        env.chaos_stop.set()
        chaos.join(300)
        if not env.dead():
            if not chaos.ready(120):
                env.rec.error("the link was not ready at the end")
            env.calls.draining = True
            fleet.sync_point("end")
            harness.wait_for(lambda: not env.calls.waiting, 100, what="the last calls")
            env.poller.sample("end")
        env.stopping.set()
        env.fleet_stop.set()
        out = report(env, fleet, args, (time.monotonic() - env.t0) / 60)
        print(json.dumps(out))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
        print_table(out)
        return 0 if out["pass"] else 1
    finally:
        env.stopping.set()
        env.chaos_stop.set()
        env.fleet_stop.set()
        if hasattr(env, "gw"):
            env.teardown()
        if args.keep or not hasattr(env, "work"):
            print("work folder:", getattr(env, "work", None))
        else:
            shutil.rmtree(env.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
