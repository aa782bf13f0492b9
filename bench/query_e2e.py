#!/usr/bin/env python3
"""End-to-end load on the query proxy: the bundled test cloud sends N `cmd` data queries for a
Netdata 1.37 child (web API on 127.0.0.1) through the real aclkd, `concurrency` at a time, and
this reports aclkd's CPU time per query (from /proc, its idle rate subtracted), the gateway-side
t-exec of the replies
(receipt of the request to the reply queued for publishing) and the child's own latency for the
same query asked directly by this script, one at a time (a Python client cannot drive 200 at
once without measuring itself; bench/query_proxy.cc does that in C++).

    bench/query_e2e.py [--queries 1000] [--concurrency 200] [--bin build/bin]
"""

import argparse
import concurrent.futures
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def proc_cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    args = ap.parse_args()
    os.environ["ACLKD_BIN_DIR"] = os.path.abspath(args.bin)
    import harness  # noqa: E402 - needs ACLKD_BIN_DIR first
    from harness import (Certs, Gateway, Mosquitto, NetdataChild, TestCloud, free_port,
                         wait_for)

    work = tempfile.mkdtemp(prefix="aclkd-query-bench-")
    os.chmod(work, 0o755)
    started = []
    try:
        token = uuid.uuid4().hex
        certs = Certs(os.path.join(work, "certs"))
        broker = Mosquitto(work, certs)
        started.append(broker)
        cloud = TestCloud(work, certs, [token], mosquitto=broker)
        started.append(cloud)
        key, web = str(uuid.uuid4()), free_port()
        gw = Gateway(os.path.join(work, "gw"), ca_file=certs.ca, extra_cloud={"proxy": "none"},
                     claim_conf={"url": cloud.url, "token": token, "rooms": harness.ROOM,
                                 "proxy": "none"},
                     extra_global={"log level": "info"},
                     stream_conf=f"[{key}]\n    enabled = yes\n    query url = "
                                 f"http://127.0.0.1:{web}\n")
        started.append(gw)
        gw.start()
        wait_for(lambda: gw.state_json()["online"], 20, what="online")
        cid = gw.state_json()["claimed-id"]
        child = NetdataChild(os.path.join(work, "child"), gw.stream_port, key, "bench-child",
                             web_port=web).start()
        started.append(child)
        guid = wait_for(child.machine_guid, 30, what="child GUID")
        node = wait_for(lambda: next((n["node-id"] for n in gw.state_json()["node-instances"]
                                      if n["mguid"] == guid and n["node-id"]), None), 30,
                        what="node id")
        path = "/api/v1/data?chart=system.cpu&after=-10&points=10&format=json"
        direct_url = f"http://127.0.0.1:{web}{path}"
        def ready():
            try:
                return urllib.request.urlopen(direct_url, timeout=5).status == 200
            except OSError:
                return False
        wait_for(ready, 60, interval=0.5, what="system.cpu at the child's API")

        def direct(_):
            t = time.monotonic()
            urllib.request.urlopen(direct_url, timeout=30).read()
            return (time.monotonic() - t) * 1000

        sequential_ms = [direct(i) for i in range(200)]

        # aclkd's own background work (the child's stream, context updates) over an idle while.
        pid = gw.process.proc.pid
        idle0, idle_t = proc_cpu_seconds(pid), time.monotonic()
        time.sleep(5)
        idle_rate = (proc_cpu_seconds(pid) - idle0) / (time.monotonic() - idle_t)
        cpu0 = proc_cpu_seconds(pid)
        t0 = time.monotonic()
        ids = []

        def send(_):
            return cloud.agent(cid, "cmd", method="GET", path=f"/node/{node}{path}")["msg_id"]

        with concurrent.futures.ThreadPoolExecutor(min(args.concurrency, 32)) as pool:
            ids = list(pool.map(send, range(args.queries)))
        wanted = set(ids)

        def replies():
            got = [m for m in cloud.messages(cid, "cmd-reply")
                   if isinstance(m.get("header"), dict) and m["header"].get("msg-id") in wanted]
            return got if len(got) == len(wanted) else None
        got = wait_for(replies, 300, interval=1, what="all replies")
        elapsed = time.monotonic() - t0
        cpu = proc_cpu_seconds(pid) - cpu0 - idle_rate * elapsed
        codes = {}
        for m in got:
            codes[m["header"]["http-code"]] = codes.get(m["header"]["http-code"], 0) + 1
        texec = [m["header"]["t-exec"] / 1000 for m in got]
        print(f"queries {args.queries}, concurrency {args.concurrency}, http codes {codes}")
        print(f"direct, one at a time: p50 {pct(sequential_ms, .5):.2f} ms  p99 "
              f"{pct(sequential_ms, .99):.2f} ms")
        print(f"gateway t-exec:        p50 {pct(texec, .5):.2f} ms  p99 {pct(texec, .99):.2f} ms"
              f"  mean {statistics.mean(texec):.2f} ms")
        print(f"aclkd CPU {cpu:.2f} s = {cpu / args.queries * 1e6:.0f} us per query "
              f"over idle (link + proxy + MQTT/TLS); wall {elapsed:.1f} s incl. the test cloud")
    finally:
        for obj in reversed(started):
            try:
                obj.stop()
            except Exception:  # noqa: BLE001
                pass


if __name__ == "__main__":
    main()
