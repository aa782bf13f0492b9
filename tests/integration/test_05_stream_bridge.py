"""The stream bridge against real parts: Debian's netdata 1.37 streaming into aclkd, the captured
1.37 stream replayed through a socket, and bad input of every kind. Metadata must reach
aclk-testcloud; samples must not leave the gateway."""

import os
import resource
import socket
import ssl
import time
import unittest
import uuid

from harness import NetdataChild, metric_series, read_text, wait_for
from test_03_link import LinkTestBase

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
FIXTURE_KEY = "11111111-2222-3333-4444-555555555555"
FIXTURE_GUID = "7e5dc348-e657-11f1-8a35-02fc00000001"
NOT_PERMITTED = b"You are not permitted to access this. Check the logs for more info."


def stream_conf(key, extra=""):
    return f"[{key}]\n    enabled = yes\n    allow from = *\n{extra}"


class BridgeTestBase(LinkTestBase):
    def bridge_gateway(self, key, extra_conf="", **kw):
        gw = self.gateway(stream_conf=stream_conf(key, extra_conf), **kw).start()
        self.wait_online(gw, 15)
        self.add_private_key_secret(gw)
        return gw

    def connect(self, gw):
        s = socket.create_connection(("127.0.0.1", gw.stream_port), timeout=10)
        return s

    def handshake(self, gw, key, guid=None, hostname="it-host", ver=None, extra=""):
        guid = guid or str(uuid.uuid4())
        params = f"key={key}&hostname={hostname}&machine_guid={guid}&hops=1{extra}"
        if ver is not None:
            params += f"&ver={ver}"
        s = self.connect(gw)
        s.sendall(f"STREAM {params}&NETDATA_PROTOCOL_VERSION=1.1 HTTP/1.1\r\n"
                  f"User-Agent: netdata/v1.37.1\r\nAccept: */*\r\n\r\n".encode())
        return s, recv_reply(s)


def recv_reply(s, timeout=10):
    s.settimeout(timeout)
    try:
        return s.recv(8192)
    except socket.timeout:
        return None


def closed_by_peer(s, timeout=10):
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


class RealChildTest(BridgeTestBase):
    """A real netdata child, with compression on and off."""

    def run_child(self, compression):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        cid = self.claimed_id(gw)
        child = self.track(NetdataChild(os.path.join(self.work, "child"), gw.stream_port, key,
                                        "it-child-" + ("lz4" if compression else "plain"),
                                        compression=compression)).start()
        started = time.monotonic()
        guid = wait_for(child.machine_guid, 30, what="the child's machine GUID")

        def node_with_contexts():
            n = gw.node(guid)
            return n if n and n["live"] and n["contexts"] >= 100 else None
        node = wait_for(node_with_contexts, 60, interval=0.5, what="a live node with ≥ 100 contexts")
        print(f"compression={compression}: {node['contexts']} contexts, {node['charts']} charts "
              f"after {time.monotonic() - started:.1f} s")
        streams = gw.table("streams")
        self.assertEqual(len(streams), 1)
        self.assertEqual(streams[0]["compressed"], compression)

        def created():
            for m in self.cloud.messages(cid, "CreateNodeInstance"):
                if m["message"].get("machine_guid") == guid:
                    return m["message"]
            return None
        msg = wait_for(created, 30, what="CreateNodeInstance for the child")
        self.assertEqual(msg.get("hops"), 1)
        node_id = wait_for(lambda: next((n["node-id"] for n in gw.state_json()["node-instances"]
                                         if n["mguid"] == guid and n["node-id"]), None), 30,
                           what="the child's node id")
        view = [n for n in gw.state_json()["node-instances"] if n["mguid"] == guid][0]
        self.assertEqual(view["relationship"], "child")
        self.assertEqual(view["streaming-hops"], 1)

        # The checkpoint may come before the child's charts: the snapshot then holds what was known,
        # and ContextsUpdated (coalesced per second) carries the rest.
        def contexts_at_cloud():
            ids = set()
            for t in ("ContextsSnapshot", "ContextsUpdated"):
                for m in self.cloud.messages(cid, t):
                    if m["message"].get("node_id") == node_id:
                        key = "contexts" if t == "ContextsSnapshot" else "contextUpdates"
                        ids.update(c["id"] for c in m["message"].get(key, []))
            return ids if len(ids) >= 100 else None
        ids = wait_for(contexts_at_cloud, 30, what="≥ 100 contexts of the child at the cloud")
        self.assertIn("system.cpu", ids)
        self.assertTrue(self.cloud.messages(cid, "ContextsSnapshot"))
        # Samples stay local: the gateway counted samples, and every message the cloud received
        # is a metadata message that decodes (the link has no message kind for metric values:
        # docs/protocol/aclk.md §7.1), none of them undecodable or of a kind outside that set.
        # (Read in batches: samples under [stream] read batch bytes are read within a second.)
        wait_for(lambda: gw.table("streams")[0]["samples"] > 0, 10, what="the child's samples")
        metadata = {"UpdateAgentConnection", "CreateNodeInstance", "UpdateNodeInstanceConnection",
                    "UpdateNodeInfo", "UpdateNodeCollectors", "ContextsSnapshot",
                    "ContextsUpdated", "AlarmLogHealth", "AlarmSnapshot", "AlarmLogEntry",
                    "ProvideAlarmConfiguration", "cmd-reply"}
        received = self.cloud.messages(cid)
        kinds = {m["type"] for m in received}
        self.assertLessEqual(kinds, metadata, f"messages beyond metadata: {kinds - metadata}")
        self.assertEqual([m for m in received if "error" in m], [], "undecodable messages")

        child.stop()
        wait_for(lambda: not gw.node(guid)["live"], 30, what="the node offline")

        def dead():
            for m in self.cloud.messages(cid, "UpdateNodeInstanceConnection"):
                if m["message"].get("node_id") == node_id and not m["message"].get("liveness"):
                    return True
            return False
        wait_for(dead, 15, what="liveness false at the cloud")
        self.assertIn("child", gw.ctl("aclk-state").stdout)
        return gw, child, guid, node_id

    def test_real_child_with_lz4(self):
        self.run_child(True)

    def test_real_child_plain_and_reconnect_keeps_node_id(self):
        gw, child, guid, node_id = self.run_child(False)
        child.start()
        wait_for(lambda: gw.node(guid)["live"], 30, what="the node live again")
        nodes = [n for n in gw.state_json()["node-instances"] if n["mguid"] == guid]
        self.assertEqual(len(nodes), 1, "no duplicate node")
        self.assertEqual(len([n for n in gw.table("nodes") if n["machine-guid"] == guid]), 1)


class FixtureAndBadInputTest(BridgeTestBase):

    def test_fixture_replay_gives_the_documented_counts(self):
        gw = self.bridge_gateway(FIXTURE_KEY)
        data = open(os.path.join(FIXTURES, "netdata-1.37-child-stream.txt"), "rb").read()
        end = data.index(b"\r\n\r\n") + 4
        s = self.connect(gw)
        s.sendall(data[:end])
        prompt = recv_reply(s)
        self.assertTrue(prompt.startswith(b"Hit me baby, push them over with the version="), prompt)
        s.sendall(data[end:])
        replays = b""
        s.settimeout(5)
        while replays.count(b"REPLAY_CHART") < 323:
            chunk = s.recv(65536)
            if not chunk:
                break
            replays += chunk
        self.assertEqual(replays.count(b"REPLAY_CHART"), 323)
        self.assertIn(b'" "true" 0 0\n', replays)
        node = wait_for(lambda: gw.node(FIXTURE_GUID), 10, what="the fixture node")
        wait_for(lambda: gw.node(FIXTURE_GUID)["dimensions"] == 1312, 10, what="all dimensions")
        node = gw.node(FIXTURE_GUID)
        self.assertEqual(node["charts"], 323)
        self.assertEqual(node["contexts"], 311)
        self.assertEqual(node["host-labels"], 21)
        self.assertEqual(node["chart-labels"], 747)
        self.assertEqual(node["hops"], 1)
        s.close()
        wait_for(lambda: not gw.node(FIXTURE_GUID)["live"], 10, what="offline after close")

    def test_every_sample_is_counted_across_io_threads(self):
        """Six replayed children spread over three I/O loops (handed off after the handshake):
        every sample line sent is counted, per stream and in the monotonic total."""
        gw = self.bridge_gateway(FIXTURE_KEY, sections={"stream": {"io threads": "3"}})
        with open(os.path.join(FIXTURES, "netdata-1.37-child-stream.txt"), "rb") as f:
            data = f.read()
        end = data.index(b"\r\n\r\n") + 4
        head, body = data[:end].decode(), data[end:]
        blocks = body[body.index(b"\nBEGIN ") + 1:]  # definitions and samples, replayed again
        sample_words = (b"SET", b"RDSTATE", b"RSSTATE")

        def samples(text):
            return sum(1 for line in text.split(b"\n") if line.split(b" ", 1)[0] in sample_words)

        expected = samples(body) + 20 * samples(blocks)
        socks = []
        for i in range(6):
            s = self.connect(gw)
            s.sendall(head.replace(FIXTURE_GUID, str(uuid.uuid4())).replace(
                "hostname=nd-lab-child", f"hostname=threads-{i}").encode())
            self.assertTrue(recv_reply(s).startswith(b"Hit me baby"))
            socks.append(s)
        for s in socks:
            s.setblocking(True)
            s.sendall(body + blocks * 20)  # the REPLAY_CHART answers fit the socket buffers

        def all_counted():
            streams = gw.table("streams")
            return streams if len(streams) == 6 and all(
                st["samples"] == expected for st in streams) else None
        streams = wait_for(all_counted, 30, what=f"{expected} samples on each of 6 streams")
        self.assertEqual(sum(st["samples"] for st in streams), 6 * expected)
        self.assertEqual(metric_series(gw.stream_port)["aclkd_samples_dropped_total"],
                         6 * expected)
        for s in socks:
            s.close()

    def test_refusals_are_netdatas_bytes(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key, extra_conf="")
        cases = [
            ("not-a-guid", None, NOT_PERMITTED, "API key 'not-a-guid' is not valid GUID"),
            (key, "bad-guid", NOT_PERMITTED, "machine GUID 'bad-guid' is not GUID"),
            (str(uuid.uuid4()), None, NOT_PERMITTED, "is not allowed. Forbidding access."),
        ]
        for k, guid, reply, log in cases:
            with self.subTest(key=k, guid=guid):
                s, got = self.handshake(gw, k, guid=guid)
                self.assertEqual(got, reply)
                self.assertTrue(closed_by_peer(s))
                wait_for(lambda: log in gw.log(), 5, what=log)
        # The gateway's own GUID is "my localhost".
        own = read_text(os.path.join(gw.state, "machine_guid")).strip()
        s, got = self.handshake(gw, key, guid=own)
        self.assertEqual(got, b"Don't hit me baby, you are trying to stream my localhost back")
        # A second live stream of one GUID is refused.
        guid = str(uuid.uuid4())
        first, got = self.handshake(gw, key, guid=guid, ver=15352)
        self.assertTrue(got.startswith(b"Hit me baby"))
        second, got = self.handshake(gw, key, guid=guid, ver=15352)
        self.assertEqual(got, b"This GUID is already streaming to this server")
        first.close()
        self.assertGreaterEqual(gw.state_json()["counters"]["streams-refused"], 5)

    def test_refused_ip(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key, extra_conf="    allow from = 10.*\n")
        s, got = self.handshake(gw, key)
        self.assertEqual(got, NOT_PERMITTED)
        wait_for(lambda: "is not permitted from this IP '127.0.0.1'" in gw.log(), 5,
                 what="the IP refusal log line")

    def test_prompts_follow_the_childs_version(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        for ver, want in ((None, b"Hit me baby, push them over..."),
                          (2, b"Hit me baby, push them over and bring the host labels..."),
                          (4, b"Hit me baby, push them over with the version=4"),
                          (16376, b"Hit me baby, push them over with the version=16320")):
            with self.subTest(ver=ver):
                s, got = self.handshake(gw, key, ver=ver)
                self.assertEqual(got, want)
                s.close()
                time.sleep(0.2)

    def test_bad_streams_are_dropped_and_others_keep_flowing(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        good, got = self.handshake(gw, key, hostname="good", ver=15352)
        self.assertTrue(got.startswith(b"Hit me baby"))
        # A 1 MB line: the stream is closed with a clear log line.
        big, got = self.handshake(gw, key, hostname="big", ver=15352)
        try:  # the gateway may close while the megabyte is still being sent
            big.sendall(b"CHART " + b"x" * (1 << 20) + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertTrue(closed_by_peer(big))
        wait_for(lambda: "exceeds the limit of 15360 bytes" in gw.log(), 5, what="line limit log")
        # Garbage and a truncated stream: ignored or closed, never a crash.
        junk, got = self.handshake(gw, key, hostname="junk", ver=15352)
        junk.sendall(os.urandom(50000).replace(b"\n", b" ") + b"\n" + b'CHART "a.b" "" "t"')
        junk.close()
        raw = self.connect(gw)
        raw.sendall(b"\x00\x01garbage that is not a request\r\n\r\n")
        closed_by_peer(raw, 5)
        # The good stream still works.
        good.sendall(b'CHART "disk.io" "" "Disk I/O" "KiB/s" "io" "disk.io" "line" 100 1 "" "" ""\n'
                     b'DIMENSION "reads" "" "incremental" 1 1 ""\n')
        wait_for(lambda: any(n["hostname"] == "good" and n["charts"] == 1
                             for n in gw.table("nodes")), 5, what="the good stream's chart")
        self.assertTrue(gw.alive())
        self.assertGreaterEqual(gw.state_json()["counters"]["streams-dropped"], 1)

    def test_tls_optional_and_forced(self):
        key = str(uuid.uuid4())
        for mode in ("optional", "force"):
            with self.subTest(mode=mode):
                gw = self.gateway(f"gw-{mode}", stream_conf=stream_conf(key), sections={"web": {
                    "ssl certificate": self.certs.cert, "ssl key": self.certs.key}})
                gw.write_conf("aclkd.conf", read_text(os.path.join(gw.etc, "aclkd.conf")).replace(
                    f"127.0.0.1:{gw.stream_port}", f"127.0.0.1:{gw.stream_port}^SSL={mode}"))
                gw.start()
                ctx = ssl.create_default_context(cafile=self.certs.ca)
                raw = socket.create_connection(("127.0.0.1", gw.stream_port), timeout=10)
                tls = ctx.wrap_socket(raw, server_hostname="localhost")
                tls.sendall(f"STREAM key={key}&hostname=tls-{mode}&machine_guid={uuid.uuid4()}"
                            f"&ver=15352 HTTP/1.1\r\n\r\n".encode())
                self.assertTrue(recv_reply(tls).startswith(b"Hit me baby"))
                tls.close()
                plain, got = self.handshake(gw, key, ver=15352)
                if mode == "optional":
                    self.assertTrue(got.startswith(b"Hit me baby"), got)
                else:
                    self.assertFalse(got)
                gw.stop()

    def test_web_side_over_tls(self):
        """HTTP and the live WebSocket on a TLS-forced port: the bridge hands the TLS stream to
        web/ after the first request's bytes."""
        gw = self.gateway("gw-web-tls", stream_conf=stream_conf(str(uuid.uuid4())), sections={
            "web": {"ssl certificate": self.certs.cert, "ssl key": self.certs.key}})
        gw.write_conf("aclkd.conf", read_text(os.path.join(gw.etc, "aclkd.conf")).replace(
            f"127.0.0.1:{gw.stream_port}", f"127.0.0.1:{gw.stream_port}^SSL=force"))
        gw.start()
        ctx = ssl.create_default_context(cafile=self.certs.ca)

        def connect():
            raw = socket.create_connection(("127.0.0.1", gw.stream_port), timeout=10)
            return ctx.wrap_socket(raw, server_hostname="localhost")
        tls = connect()
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        reply = b""
        while chunk := tls.recv(65536):
            reply += chunk
        self.assertRegex(reply, rb"^HTTP/1.1 (200|503) ", "answered (503 while it starts)")
        tls.close()
        tls = connect()
        tls.sendall(b"GET /live HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    b"Sec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += tls.recv(1)
        self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
        tls.sendall(bytes([0x89, 0x84, 1, 2, 3, 4]) +
                    bytes(b ^ m for b, m in zip(b"ping", b"\x01\x02\x03\x04")))
        self.assertEqual(tls.recv(6), bytes([0x8A, 4]) + b"ping")
        tls.close()

    def test_thousand_idle_connections(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        idle = []
        for _ in range(1000):
            idle.append(self.connect(gw))
        s, got = self.handshake(gw, key, hostname="while-idle", ver=15352)
        self.assertTrue(got and got.startswith(b"Hit me baby"), got)
        self.assertTrue(gw.state_json()["online"])
        for c in idle:
            c.close()
        self.assertTrue(gw.alive())

    @unittest.skipIf(os.environ.get("ACLKD_SANITIZER") == "address",
                     "UBSan needs descriptors of its own (the vptr check's pipe, its report file, "
                     "its symbolizer): with every descriptor in use it reports a false 'invalid "
                     "vptr' and cannot even write it; the plain and TSan runs cover this test")
    def test_out_of_descriptors_backs_off_and_recovers(self):
        # With 64 descriptors, 100 waiting connections exhaust them: accept() then fails with
        # EMFILE. The gateway must pause between retries (no 100% CPU, no log flood), count the
        # failures, and serve again once descriptors are given back.
        key = str(uuid.uuid4())
        gw = self.gateway(stream_conf=stream_conf(key))
        gw.preexec_fn = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        gw.start()
        self.wait_online(gw, 15)
        self.add_private_key_secret(gw)
        pid = gw.process.proc.pid

        def cpu_seconds():
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        conns = [self.connect(gw) for _ in range(100)]
        try:
            wait_for(lambda: "accept failed" in gw.log(), 5, what="accept failure logged")
            before = cpu_seconds()
            time.sleep(2)
            used = cpu_seconds() - before
            self.assertTrue(gw.alive())
            self.assertLess(used, 1.0, f"{used:.2f} s of CPU in 2 s: accept() spins")
        finally:
            for c in conns:
                c.close()
        lines = [line for line in gw.log().splitlines() if "accept failed" in line]
        self.assertLess(len(lines), 200, "accept failures flood the log")
        def series():
            try:
                return metric_series(gw.stream_port)
            except OSError:  # descriptors still being given back: ask again
                return None
        metrics = wait_for(series, 10, what="/metrics after recovery")
        self.assertGreater(metrics["aclkd_stream_accept_failures_total"], 0)
        s, got = self.handshake(gw, key, hostname="after-emfile", ver=15352)
        self.assertTrue(got and got.startswith(b"Hit me baby"), got)
        s.close()
        self.assertTrue(gw.alive())


if __name__ == "__main__":
    unittest.main()
