#!/usr/bin/env python3
"""Load generator for the stream bridge: replays the captured Netdata 1.37 stream
(tests/fixtures/netdata-1.37-child-stream.txt) as N concurrent children into a fresh aclkd
(cloud off), keeps them connected, and reports aclkd's CPU time per GB of stream and its RSS
growth per child once every child's metadata is in.

    bench/stream_load.py [--children 1 100 1000] [--bin build/bin]
"""

import argparse
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "netdata-1.37-child-stream.txt")
KEY = "11111111-2222-3333-4444-555555555555"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run(binary_dir, children):
    data = open(FIXTURE, "rb").read()
    end = data.index(b"\r\n\r\n") + 4
    request, body = data[:end].decode(), data[end:]
    work = tempfile.mkdtemp(prefix="aclkd-load-")
    port = free_port()
    etc = os.path.join(work, "etc")
    os.makedirs(etc)
    with open(os.path.join(etc, "aclkd.conf"), "w") as f:
        f.write(f"[global]\n    state dir = {work}/lib\n    run dir = {work}/run\n"
                f"    log level = warning\n[cloud]\n    enabled = no\n"
                f"[web]\n    bind to = 127.0.0.1:{port}\n")
    with open(os.path.join(etc, "stream.conf"), "w") as f:
        f.write(f"[{KEY}]\n    enabled = yes\n")
    daemon = subprocess.Popen([os.path.join(binary_dir, "aclkd"), "-c", etc],
                              stderr=open(os.path.join(work, "aclkd.stderr"), "w"))
    ctl = [os.path.join(binary_dir, "aclkctl"), "--socket", os.path.join(work, "run", "aclkd.sock")]
    for _ in range(100):
        if subprocess.run(ctl + ["nodes", "json"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    rss0, cpu0 = proc_rss_kib(daemon.pid), proc_cpu_seconds(daemon.pid)
    sel = selectors.DefaultSelector()
    socks = []
    started = time.monotonic()
    for i in range(children):
        guid = str(uuid.uuid4())
        req = request.replace("machine_guid=7e5dc348-e657-11f1-8a35-02fc00000001",
                              f"machine_guid={guid}").replace("hostname=nd-lab-child",
                                                              f"hostname=load-{i}")
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req.encode())
        reply = s.recv(100)
        if not reply.startswith(b"Hit me baby"):
            raise SystemExit(f"child {i} refused: {reply!r}")
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ, [memoryview(body), 0])
    pending = len(socks)
    while pending:
        for key, events in sel.select(timeout=1):
            s, state = key.fileobj, key.data
            if events & selectors.EVENT_READ:
                try:
                    s.recv(65536)  # REPLAY_CHART lines
                except BlockingIOError:
                    pass
            if events & selectors.EVENT_WRITE and state[1] < len(state[0]):
                try:
                    state[1] += s.send(state[0][state[1]:state[1] + 65536])
                except BlockingIOError:
                    pass
                if state[1] >= len(state[0]):
                    sel.modify(s, selectors.EVENT_READ, state)
                    pending -= 1
    # Wait until the bridge has parsed everything (every node has all 1312 dimensions).
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        nodes = json.loads(subprocess.run(ctl + ["nodes", "json"], capture_output=True,
                                          text=True).stdout)
        if len(nodes) == children and all(n["dimensions"] == 1312 for n in nodes):
            break
        for key, _ in sel.select(timeout=0.2):
            try:
                key.fileobj.recv(65536)
            except BlockingIOError:
                pass
    elapsed = time.monotonic() - started
    cpu = proc_cpu_seconds(daemon.pid) - cpu0
    rss = proc_rss_kib(daemon.pid) - rss0
    gb = len(body) * children / 1e9
    print(f"children={children} stream={len(body) * children / 1e6:.1f} MB wall={elapsed:.2f}s "
          f"aclkd_cpu={cpu:.2f}s cpu_per_GB={cpu / gb:.1f}s "
          f"rss_growth={rss / 1024:.1f} MiB rss_per_child={rss / children:.1f} KiB", flush=True)
    for s in socks:
        s.close()
    daemon.terminate()
    daemon.wait(10)
    shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--children", type=int, nargs="+", default=[1, 100, 1000])
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    a = p.parse_args()
    for n in a.children:
        run(a.bin, n)


if __name__ == "__main__":
    sys.exit(main())
