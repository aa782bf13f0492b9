"""Stream compression with the real Netdata v2.10.4 agent (../shared/netdata-v2): one gateway,
one v2 child per case at once. The child offers zstd, lz4, brotli and gzip; each API key's
stream.conf section makes the gateway pick another one (`compression algorithms order`), one key
turns compression off (`enable compression = no`), and one child streams over TLS with the
default order. Every child's metadata must match the plain one's, and `aclkctl streams --json`
must name the algorithm the gateway chose."""

import os
import time
import unittest
import uuid

from harness import start_netdata_v2, wait_for
from test_05_stream_bridge import BridgeTestBase

SHARED_V2 = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netdata-v2")

# hostname → (stream.conf lines of its API key, TLS, the compression the gateway must choose)
CASES = {
    "v2-zstd": ("", False, "zstd"),  # the default order: zstd first
    "v2-lz4": ("    compression algorithms order = lz4\n", False, "lz4"),
    "v2-brotli": ("    compression algorithms order = brotli gzip\n", False, "brotli"),
    "v2-gzip": ("    compression algorithms order = gzip\n", False, "gzip"),
    "v2-none": ("    enable compression = no\n", False, "none"),
    "v2-tls-zstd": ("", True, "zstd"),
}


@unittest.skipUnless(os.path.isdir(SHARED_V2),
                     f"the Netdata v2 agent is not here ({SHARED_V2}): v2 compression tests skipped")
class V2CompressionTest(BridgeTestBase):

    def start_v2(self, name, port, key, tls):
        start_netdata_v2(self, SHARED_V2, name, port, key, "--hostname", name,
                         *(["--tls"] if tls else []))

    def test_each_compression_and_tls_give_the_same_metadata(self):
        keys = {name: str(uuid.uuid4()) for name in CASES}
        conf = "".join(f"[{keys[name]}]\n    enabled = yes\n    allow from = *\n{extra}\n"
                       for name, (extra, _, _) in CASES.items())
        gw = self.gateway(stream_conf=conf, sections={"web": {
            "ssl certificate": self.certs.cert, "ssl key": self.certs.key}})
        with open(os.path.join(gw.etc, "aclkd.conf")) as f:
            text = f.read()
        gw.write_conf("aclkd.conf", text.replace(f"bind to = 127.0.0.1:{gw.stream_port}",
                                                 f"bind to = 127.0.0.1:{gw.stream_port}^SSL=optional"))
        # The children start first and the gateway 20 s later, so that they all connect at the
        # same stage of their start-up: how many charts reach the gateway depends on that stage
        # (a v2 child that connects later sends more: 265 charts against 209; seen with plain
        # text as with every compression), and the compressions are compared with the plain
        # child under the same conditions.
        for name, (_, tls, _) in CASES.items():
            self.start_v2(name, gw.stream_port, keys[name], tls)
        time.sleep(20)
        gw.start()
        self.wait_online(gw, 15)
        self.add_private_key_secret(gw)

        def streams():
            got = {s["hostname"]: s for s in gw.table("streams")}
            return got if set(got) >= set(CASES) else None
        got = wait_for(streams, 90, interval=0.5, what="a stream from every v2 child")
        chosen = {name: got[name]["compression"] for name in CASES}
        print("compression chosen per child:", chosen)
        self.assertEqual(chosen, {name: want for name, (_, _, want) in CASES.items()})
        for name, (_, tls, want) in CASES.items():
            self.assertEqual(got[name]["tls"], tls, name)
            self.assertEqual(got[name]["compressed"], want != "none", name)

        # The same agent on the same machine defines the same charts whatever the compression:
        # every child's counts converge to the plain child's. The TLS child connects at another
        # moment (its first attempt succeeds earlier), so only its own soundness is checked:
        # charts arrive, no malformed line, samples, a compressed wire.
        fields = ("charts", "dimensions", "contexts", "host-labels", "chart-labels")

        last = {}

        def same_metadata():
            nodes = {n["hostname"]: n for n in gw.table("nodes") if n["live"]}
            last.clear()
            last.update({name: tuple(n[f] for f in fields) for name, n in nodes.items()})
            if set(nodes) < set(CASES):
                return None
            counts = {name: last[name] for name in CASES if not CASES[name][1]}
            # The TLS child: its charts arrive too (how many depends on when it connected).
            if last["v2-tls-zstd"][0] < 100:
                return None
            if counts["v2-none"][0] < 200 or len(set(counts.values())) != 1:
                return None
            return counts
        try:
            counts = wait_for(same_metadata, 90, interval=1,
                              what="the same charts/dimensions/contexts/labels from every child")
        except AssertionError:
            self.fail(f"metadata differs ({', '.join(fields)}): {last}")
        print("metadata per child (" + ", ".join(fields) + "):", last)

        # Samples follow a child's definitions: the TLS child, which connected at another moment,
        # may still be sending charts when the plain children's counts have converged (CI saw
        # 165 of its charts and no sample yet), so its first samples are waited for, not assumed.
        def every_stream_has_samples():
            now = {s["hostname"]: s for s in gw.table("streams")}
            return now if all(now.get(name, {}).get("samples", 0) > 0 for name in CASES) else None
        streams_now = wait_for(every_stream_has_samples, 60, interval=1,
                               what="samples from every v2 child")
        for name in CASES:
            s = streams_now[name]
            self.assertEqual(s["malformed-lines"], 0, name)
            if CASES[name][2] != "none":
                # Compressed: fewer bytes on the wire than text decoded.
                self.assertLess(s["wire-bytes"] * 2, s["text-bytes"], name)
            print(f"{name}: wire {s['wire-bytes']} B, text {s['text-bytes']} B, "
                  f"capabilities {s['capabilities']}")
            # Capabilities by name: the compression the parent kept among them, NODEID too.
            names = s["capabilities"].split(",")
            self.assertIn("NODEID", names, name)
            if CASES[name][2] != "none":
                self.assertIn(CASES[name][2].upper(), names, name)
        # The text form: one word per column (the capabilities too), in every row; only `since`
        # (a date and a time) takes two.
        text = gw.ctl("streams")
        self.assertEqual(text.returncode, 0, text.stderr)
        rows = [line.split() for line in text.stdout.splitlines() if line.strip()]
        self.assertEqual(len(rows), len(CASES) + 1, text.stdout)
        self.assertEqual({len(r) for r in rows[1:]}, {len(rows[0]) + 1}, text.stdout)
        self.assertNotIn("is corrupt:", gw.log())


if __name__ == "__main__":
    unittest.main()
