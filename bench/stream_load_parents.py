"""The parents bench/stream_load.py loads: a fresh aclkd (cloud off), and the anchor, a Netdata
v2.10.4 parent (../shared/netdata-v2/start-child) fed the same replayed children, so both
figures come from one machine in one run. Each exposes the same small surface: start, pid,
stream port, wait until N children are defined, the samples it counted (when it counts them),
stop."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid

KEY = "11111111-2222-3333-4444-555555555555"
V2_START_CHILD = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "shared", "netdata-v2", "start-child")


def http_get(port, path, timeout=30):
    return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout).read()


class Aclkd:
    name = "aclkd"

    def __init__(self, binary_dir, port, threads, receive_buffer=0):
        self.binary_dir, self.port, self.threads = binary_dir, port, threads
        self.receive_buffer = receive_buffer
        self.work = self.daemon = None

    def start(self):
        self.work = tempfile.mkdtemp(prefix="aclkd-load-")
        etc = os.path.join(self.work, "etc")
        os.makedirs(etc)
        with open(os.path.join(etc, "aclkd.conf"), "w") as f:
            f.write(f"[global]\n    state dir = {self.work}/lib\n    run dir = {self.work}/run\n"
                    f"    log level = warning\n[cloud]\n    enabled = no\n"
                    f"[web]\n    bind to = 127.0.0.1:{self.port}\n")
            f.write("[stream]\n")
            if self.threads:
                f.write(f"    io threads = {self.threads}\n")
            if self.receive_buffer:
                f.write(f"    receive buffer bytes = {self.receive_buffer}\n")
        with open(os.path.join(etc, "stream.conf"), "w") as f:
            f.write(f"[{KEY}]\n    enabled = yes\n")
        self.daemon = subprocess.Popen([os.path.join(self.binary_dir, "aclkd"), "-c", etc],
                                       stderr=open(os.path.join(self.work, "aclkd.stderr"), "w"))
        self.ctl = [os.path.join(self.binary_dir, "aclkctl"), "--socket",
                    os.path.join(self.work, "run", "aclkd.sock")]
        for _ in range(100):
            if subprocess.run(self.ctl + ["nodes", "json"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise SystemExit(f"aclkd did not answer on its control socket: {self.failure()}")

    @property
    def pid(self):
        return self.daemon.pid

    def metric(self, name):
        """One sample of /metrics, by its name with labels as printed; None when absent."""
        for line in http_get(self.port, "/metrics").decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
        return None

    def samples_counted(self):
        value = self.metric("aclkd_samples_dropped_total")
        if value is None:
            raise SystemExit("aclkd_samples_dropped_total missing from /metrics")
        return value

    def reads_total(self):
        """aclkd_stream_reads_total (reads that returned stream bytes), None on builds without."""
        return self.metric("aclkd_stream_reads_total")

    def degraded(self):
        return {"streams_dropped": self.metric('aclkd_streams_total{outcome="dropped"}'),
                "handshakes_late": self.metric("aclkd_stream_handshakes_late_total")}

    def wait_defined(self, n, idle):
        """Until aclkd has all n nodes with every dimension; `idle(seconds)` waits in between."""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            out = subprocess.run(self.ctl + ["nodes", "json"], capture_output=True, text=True).stdout
            nodes = json.loads(out) if out.strip() else []
            if len(nodes) == n and all(x["dimensions"] == 1312 for x in nodes):
                return
            idle(0.2)
        raise SystemExit("the definitions did not all arrive")

    def failure(self):
        status = "running" if self.daemon.poll() is None else f"exited with {self.daemon.returncode}"
        tail = open(os.path.join(self.work, "aclkd.stderr"), errors="replace").read()[-3000:]
        return f"aclkd {status}; its stderr ends:\n{tail}"

    def stop(self):
        if self.daemon:
            self.daemon.terminate()
            try:
                self.daemon.wait(20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
        shutil.rmtree(self.work, ignore_errors=True)


class NetdataV2:
    """A Netdata v2.10.4 parent with its own destination pointed nowhere (127.0.0.1:1), children
    accepted with KEY on its web port, db in RAM. It has no samples counter: its check is that a
    child's chart keeps advancing (`last_entry` of /host/load-0/api/v1/chart)."""

    name = "netdata-v2"

    @staticmethod
    def available():
        return os.access(V2_START_CHILD, os.X_OK)

    def __init__(self, port):
        self.port = port
        self.work = self.netdata_pid = None

    def start(self):
        self.work = tempfile.mkdtemp(prefix="aclkd-load-v2-")
        out = subprocess.run([V2_START_CHILD, "--dir", self.work, "--dest", "127.0.0.1:1",
                              "--key", str(uuid.uuid4()), "--hostname", "load-parent",
                              "--web-port", str(self.port), "--accept-key", KEY, "--db", "ram",
                              "--background"], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise SystemExit(f"start-child failed: {out.stderr.strip()}")
        self.netdata_pid = int(out.stdout.split()[-1])
        for _ in range(300):
            try:
                json.loads(http_get(self.port, "/api/v1/info", timeout=2))
                return
            except (OSError, ValueError):
                time.sleep(0.1)
        raise SystemExit(f"the v2 parent's API did not answer: {self.failure()}")

    @property
    def pid(self):
        return self.netdata_pid

    def samples_counted(self):
        return None

    def reads_total(self):
        return None

    def degraded(self):
        return {}

    def charts_of(self, host):
        try:
            return json.loads(http_get(self.port, f"/host/{host}/api/v1/charts"))
        except (OSError, ValueError):
            return None

    def wait_defined(self, n, idle):
        """Until the parent lists every child and a spread of them (all, up to 50) has every
        chart of the capture (323; v2 counts 1,309 of its 1,312 dimensions)."""
        probe = sorted({(i * n) // min(n, 50) for i in range(min(n, 50))} | {n - 1})
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            info = json.loads(http_get(self.port, "/api/v1/info"))
            if info.get("hosts-available", 0) >= n + 1:
                charts = [self.charts_of(f"load-{i}") for i in probe]
                if all(c and c.get("charts_count") == 323 for c in charts):
                    return
            idle(0.5)
        raise SystemExit("the v2 parent did not define every child")

    def sampled_seconds(self, host="load-0", chart="system.idlejitter"):
        """How many seconds of samples the parent holds for one child's chart."""
        c = json.loads(http_get(self.port, f"/host/{host}/api/v1/chart?chart={chart}"))
        return c["last_entry"] - c["first_entry"]

    def failure(self):
        log = os.path.join(self.work or "", "log", "daemon.log")
        tail = open(log, errors="replace").read()[-2000:] if os.path.exists(log) else "(no log)"
        return f"netdata v2 parent; its log ends:\n{tail}"

    def stop(self):
        if self.netdata_pid:
            try:
                os.kill(self.netdata_pid, signal.SIGTERM)
                for _ in range(200):
                    os.kill(self.netdata_pid, 0)
                    time.sleep(0.1)
                os.kill(self.netdata_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.work, ignore_errors=True)
