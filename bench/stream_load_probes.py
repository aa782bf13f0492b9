"""What an operator asks aclkd during a reconnect storm: /healthz, /metrics (HTTP on the web
port) and `aclkctl aclk-state` (its control socket, through the binary as a person runs it),
each asked every ~50 ms on its own thread; the answer times (p50/p99/max) and the failures."""

import subprocess
import threading
import time
import urllib.request


class LatencyProbe(threading.Thread):
    def __init__(self, name, ask, every=0.05):
        super().__init__(daemon=True)
        self.name_, self.ask, self.every = name, ask, every
        self.ms, self.failures, self.errors = [], 0, {}
        self.at = []  # when each answer was asked, seconds since the probe started
        self.halt = threading.Event()

    def run(self):
        start = time.perf_counter()
        while not self.halt.is_set():
            t0 = time.perf_counter()
            self.at.append(t0 - start)
            try:
                self.ask()
            except Exception as e:  # every failure is a figure, never the end of the probe
                self.failures += 1
                key = type(e).__name__ + ": " + str(e)[:80]
                self.errors[key] = self.errors.get(key, 0) + 1
            took = time.perf_counter() - t0
            self.ms.append(took * 1000)
            self.halt.wait(max(0.0, self.every - took))

    def summary(self):
        ms = sorted(self.ms)
        pick = lambda p: round(ms[min(len(ms) - 1, int(p * len(ms)))], 1) if ms else None
        out = {"n": len(ms), "p50": pick(0.5), "p99": pick(0.99),
               "max": round(ms[-1], 1) if ms else None, "failures": self.failures}
        if self.errors:
            out["errors"] = self.errors
        # The slowest answers with when they were asked: a storm's phases show in them.
        worst = sorted(zip(self.ms, self.at), reverse=True)[:8]
        out["slowest"] = [[round(at, 2), round(m, 1)] for m, at in worst]
        return out


def http_probe(port, path):
    def ask():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            if r.status != 200:
                raise RuntimeError(f"HTTP {r.status}")
            r.read()
    return ask


def ctl_probe(ctl):
    def ask():
        subprocess.run(ctl + ["aclk-state"], capture_output=True, timeout=10, check=True)
    return ask


class ApiProbes:
    """The three probes of one aclkd, started and stopped together."""

    def __init__(self, aclkd):
        self.probes = [LatencyProbe("healthz", http_probe(aclkd.port, "/healthz")),
                       LatencyProbe("metrics", http_probe(aclkd.port, "/metrics")),
                       LatencyProbe("aclkctl", ctl_probe(aclkd.ctl))]

    def start(self):
        for p in self.probes:
            p.start()

    def stop(self):
        for p in self.probes:
            p.halt.set()
        for p in self.probes:
            p.join(15)
        return {p.name_ + "_ms": p.summary() for p in self.probes}
