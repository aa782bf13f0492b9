#!/usr/bin/env python3
"""The link's wire, measured against real parts (issue 10): a fresh mosquitto (wss, test CA),
aclk-testcloud and aclkd.

1. Inbound: the cloud publishes one message of N bytes to the gateway; the figure is the time
   from the control API call to the gateway's log line for it.
2. Outbound: `link_publish` (the link's MqttSession: Paho over the transport) QoS 1 msgs/s, with
   its CPU time and peak RSS from /usr/bin/time. `--compare BIN` runs another link_publish build
   (e.g. the one before the transport) against the same broker, side by side.
3. Bursts through the frame-packing front (`--bursts N`): cmd reply latencies.

With `--front` the cloud side is tests/integration/ws_front.py (TLS + WebSocket in front of
mosquitto's plain MQTT listener) rather than mosquitto's websockets listener, whose ~40 KB/s
sending rate would otherwise be what the inbound figure measures.

    bench/link_wire.py [--front] [--sizes 65536 1048576 16773120] [--bursts 1000]
                       [--compare /work/main/build/bin/link_publish] [--quiet-broker]

`--quiet-broker` runs mosquitto with `log_type error` instead of the tests' `log_type all` (two
log lines per QoS 1 message cost the broker about half its CPU in the outbound figure).
"""

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("ACLKD_BIN_DIR", os.path.join(ROOT, "build", "bin"))
for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
    os.environ.pop(var, None)

from harness import ROOM, BIN_DIR, Certs, Gateway, Mosquitto, TestCloud, wait_for  # noqa: E402
from ws_front import CoalescingFront  # noqa: E402
from test_10_link_transport import burst_latencies  # noqa: E402


def publish_bench(binary, broker, certs, count, size, window):
    out = subprocess.run(["/usr/bin/time", "-f", "cpu=%U+%S rss=%MkB", binary, "--host",
                          "localhost", "--port", str(broker.wss_port), "--ca", certs.ca,
                          "--count", str(count), "--size", str(size), "--window", str(window)],
                         capture_output=True, text=True, timeout=600)
    return (out.stdout + out.stderr).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[65536, 1 << 20, (16 << 20) - 4096])
    ap.add_argument("--compare", help="another link_publish binary to run side by side")
    ap.add_argument("--bursts", type=int, default=0)
    ap.add_argument("--front", action="store_true",
                    help="the cloud side is the frame-packing front (plain MQTT to mosquitto) "
                         "instead of mosquitto's own websockets listener")
    ap.add_argument("--quiet-broker", action="store_true",
                    help="mosquitto logs errors only (the tests' broker logs every packet)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="aclkd-bench-")
    os.chmod(work, 0o755)
    certs = Certs(os.path.join(work, "certs"))
    broker = Mosquitto(work, certs, log_type="error" if args.quiet_broker else "all")
    started = [broker]
    try:
        token = secrets.token_hex(16)
        front = None
        endpoint = broker
        if args.bursts or args.front:
            front = CoalescingFront(certs, broker.mqtt_port)
            started.append(front)
            endpoint = types.SimpleNamespace(wss_port=front.port, mqtt_port=broker.mqtt_port)
        cloud = TestCloud(work, certs, [token], mosquitto=endpoint)
        started.append(cloud)
        gw = Gateway(os.path.join(work, "gw"), ca_file=certs.ca, extra_cloud={"proxy": "none"},
                     claim_conf={"url": cloud.url, "token": token, "rooms": ROOM,
                                 "proxy": "none"})
        started.append(gw)
        gw.start()
        wait_for(lambda: gw.state_json()["online"], 20, what="online")
        cid = gw.state_json()["claimed-id"]

        for size in args.sizes:
            before = len(re.findall(r"received ContextsCheckpoint \((\d+) bytes\)", gw.log()))
            # A plain-MQTT subscriber next to the gateway: how long the cloud side itself takes.
            sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.mqtt_port), "-C", "1",
                                    "-t", f"/agent/{cid}/inbound/v1/cmd/ContextsCheckpoint"],
                                   stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            t0 = time.time()
            cloud.send(cid, "ContextsCheckpoint", size=size)
            sub.wait(900)
            print(f"  cloud side (testcloud -> mosquitto -> mosquitto_sub): {time.time() - t0:.3f} s")
            wait_for(lambda: len(re.findall(r"received ContextsCheckpoint \((\d+) bytes\)",
                                            gw.log())) > before, 900, interval=0.01,
                     what=f"the {size}-byte message")
            took = time.time() - t0
            print(f"inbound {size} bytes: {took:.3f} s ({size / took / 1e6:.2f} MB/s)")
            # The same size published by mosquitto_pub on the broker's plain listener: the test
            # cloud's own publisher (Paho) is the slow part above, so this is the link's figure.
            blob = os.path.join(work, "blob")
            with open(blob, "wb") as f:
                f.write(b"\x01" * size)
            before = len(re.findall(r"received ContextsCheckpoint \((\d+) bytes\)", gw.log()))
            t0 = time.time()
            subprocess.run(["mosquitto_pub", "-V", "mqttv5", "-q", "1", "-p", str(broker.mqtt_port),
                            "-t", f"/agent/{cid}/inbound/v1/cmd/ContextsCheckpoint", "-f", blob],
                           check=True, timeout=900)
            wait_for(lambda: len(re.findall(r"received ContextsCheckpoint \((\d+) bytes\)",
                                            gw.log())) > before, 900, interval=0.01,
                     what=f"the {size}-byte message from mosquitto_pub")
            took = time.time() - t0
            print(f"inbound {size} bytes from mosquitto_pub: {took:.3f} s "
                  f"({size / took / 1e6:.2f} MB/s)")

        if args.bursts:
            lat = sorted(burst_latencies(None, cloud, cid, args.bursts))
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(f"bursts={args.bursts} replies={len(lat)} p50={statistics.median(lat) * 1000:.0f}ms "
                  f"p99={p99 * 1000:.0f}ms max={lat[-1] * 1000:.0f}ms "
                  f"packed_frames={front.coalesced_frames}")

        for binary in [os.path.join(BIN_DIR, "link_publish")] + ([args.compare] if args.compare else []):
            for count, size, window in ((20000, 200, 20), (20000, 200, 1), (2000, 16384, 20)):
                print(binary, f"size={size} window={window}")
                print("  " + publish_bench(binary, broker, certs, count, size, window)
                      .replace("\n", "\n  "))
    finally:
        for obj in reversed(started):
            try:
                obj.stop()
            except Exception:  # noqa: BLE001
                pass


if __name__ == "__main__":
    main()
