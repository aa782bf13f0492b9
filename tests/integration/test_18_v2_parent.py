"""aclkd as a Netdata v2 parent (issue 11, part B): the real Netdata v2.10.4 agent from
../shared/netdata-v2 streams into aclkd. It gets an answer to `GET /api/v3/stream_info`, negotiates
NODEID and PATHS, learns its node id from the gateway (its own API shows it) and its stream path
with the gateway's hop; a v2 parent with two children behind it puts them in the cloud with
hops 2; two gateways claimed to the same Space fail over for their children."""

import json
import os
import subprocess
import time
import unittest
import urllib.request
import uuid

from harness import free_port, read_text, wait_for
from test_05_stream_bridge import BridgeTestBase, stream_conf

SHARED_V2 = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netdata-v2")
STREAM_INFO_WARNING = "failed to extract fields from JSON stream info response"


def http_json(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read())
    except Exception:  # noqa: BLE001 - not up yet
        return None


class V2Agent:
    def __init__(self, test, name, dest, key, web=None, accept=None):
        self.dir = os.path.join(test.work, name)
        self.name = name
        self.web = web
        cmd = [os.path.join(SHARED_V2, "start-child"), "--dir", self.dir, "--dest", dest,
               "--key", key, "--hostname", name, "--background"]
        if web:
            cmd += ["--web-port", str(web)]
        if accept:
            cmd += ["--accept-key", accept]
        self.pid = int(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                      timeout=120).stdout.split()[-1])

    def log(self):
        p = os.path.join(self.dir, "log", "daemon.log")
        return read_text(p) if os.path.exists(p) else ""

    def api(self, path):
        return http_json(f"http://127.0.0.1:{self.web}{path}")

    def stop(self):
        try:
            os.kill(self.pid, 15)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass


@unittest.skipUnless(os.path.isdir(SHARED_V2),
                     f"the Netdata v2 agent is not here ({SHARED_V2}): v2 parent tests skipped")
class V2ParentTest(BridgeTestBase):

    def start_v2(self, name, dest, key, web=None, accept=None):
        return self.track(V2Agent(self, name, dest, key, web, accept))

    def live_guid(self, gw, hostname, timeout=60):
        return wait_for(lambda: next((n["machine-guid"] for n in gw.table("nodes")
                                      if n["hostname"] == hostname and n["live"]), None),
                        timeout, interval=0.5, what=f"{hostname} live at the gateway")

    def node_id(self, gw, guid, timeout=30):
        return wait_for(lambda: next((n["node-id"] for n in gw.state_json()["node-instances"]
                                      if n["mguid"] == guid and n["node-id"]), None), timeout,
                        what=f"the node id of {guid}")

    def liveness(self, cid, node_id):
        msgs = [m["message"] for m in self.cloud.messages(cid, "UpdateNodeInstanceConnection")
                if m["message"].get("node_id") == node_id]
        return msgs[-1].get("liveness", False) if msgs else None

    def test_v2_child_learns_node_id_and_path(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        cid = self.claimed_id(gw)
        web = free_port()
        child = self.start_v2("nd2-direct", f"127.0.0.1:{gw.stream_port}", key, web=web)
        guid = self.live_guid(gw, "nd2-direct")
        node = self.node_id(gw, guid)

        # The child negotiated NODEID and PATHS, and got its node id from the gateway: its own
        # API shows it (before, its stream path said node_id null).
        wait_for(lambda: "NODEID" in child.log() and "PATHS" in child.log(), 30,
                 what="NODEID and PATHS in the child's negotiated capabilities")
        def path_with_node_id():
            info = child.api("/api/v3/info")
            return info if info and node in json.dumps(info) else None
        info = wait_for(path_with_node_id, 60, interval=0.5,
                        what="the node id in the child's own /api/v3/info")
        text = json.dumps(info)
        # The path it holds has the gateway as the hop after it.
        gw_guid = gw.state_json()["node-instances"][0]["mguid"]
        self.assertIn(gw_guid, text, "the gateway's hop in the child's stream path")
        # stream_info was answered, so no warning about it, on this connect or any other.
        self.assertNotIn(STREAM_INFO_WARNING, child.log())
        # The gateway answers stream_info like a v2 parent, for the live child: online.
        si = http_json(f"http://127.0.0.1:{gw.stream_port}/api/v3/stream_info?machine_guid={guid}")
        self.assertEqual(si["status"], 200)
        self.assertEqual((si["ingest_type"], si["ingest_status"]), ("child", "online"))
        self.assertEqual(si["host_id"], gw_guid)
        self.assertEqual(self.liveness(cid, node), True)

    def test_v2_parent_with_two_children_and_failover(self):
        # Two gateways claimed to the same Space; the parent lists both (A first).
        key, child_key = str(uuid.uuid4()), str(uuid.uuid4())
        gw_a = self.bridge_gateway_named("gw-a", key)
        gw_b = self.bridge_gateway_named("gw-b", key)
        cid_a, cid_b = self.claimed_id(gw_a), self.claimed_id(gw_b)
        parent_web = free_port()
        self.start_v2("nd2-parent", f"127.0.0.1:{gw_a.stream_port} 127.0.0.1:{gw_b.stream_port}",
                      key, web=parent_web, accept=child_key)
        kids = [self.start_v2(f"nd2-kid{i}", f"127.0.0.1:{parent_web}", child_key, web=free_port())
                for i in (1, 2)]
        names = ["nd2-parent", "nd2-kid1", "nd2-kid2"]
        guids = {n: self.live_guid(gw_a, n, timeout=90) for n in names}
        nodes = {n: self.node_id(gw_a, g) for n, g in guids.items()}
        hops = {n["hostname"]: n["hops"] for n in gw_a.table("nodes")}
        self.assertEqual([hops[n] for n in names], [1, 2, 2])
        created = {m["message"]["machine_guid"]: m["message"].get("hops", 0)
                   for m in self.cloud.messages(cid_a, "CreateNodeInstance")}
        self.assertEqual([created[guids[n]] for n in names], [1, 2, 2])
        # Each grandchild learns its node id through the v2 parent, and its path: itself,
        # the parent (hop 1), the gateway (hop 2).
        for kid, name in zip(kids, names[1:]):
            info = wait_for(lambda: (lambda i: i if i and nodes[name] in json.dumps(i) else None)(
                kid.api("/api/v3/info")), 60, interval=0.5, what=f"{name}'s node id at {name}")
            text = json.dumps(info)
            self.assertIn(guids["nd2-parent"], text)
            self.assertNotIn(STREAM_INFO_WARNING, kid.log())

        # A grandchild stops: its node goes offline in the cloud, the others stay live.
        kids[1].stop()
        wait_for(lambda: self.liveness(cid_a, nodes["nd2-kid2"]) is False, 60, interval=0.5,
                 what="nd2-kid2 offline in the cloud")
        self.assertTrue(self.liveness(cid_a, nodes["nd2-kid1"]))

        # Failover: A dies; the parent streams itself and nd2-kid1 to B; the cloud shows both
        # online via B with the same node ids.
        killed = time.monotonic()
        gw_a.kill9()
        for name in ("nd2-parent", "nd2-kid1"):
            wait_for(lambda: self.liveness(cid_b, nodes[name]) is True, 120, interval=0.2,
                     what=f"{name} online via B")
        took = time.monotonic() - killed
        print(f"failover: all nodes online via B {took:.1f} s after A was killed")
        hops_b = {n["hostname"]: n["hops"] for n in gw_b.table("nodes") if n["live"]}
        self.assertEqual((hops_b["nd2-parent"], hops_b["nd2-kid1"]), (1, 2))

    def bridge_gateway_named(self, name, key):
        gw = self.gateway(name, stream_conf=stream_conf(key)).start()
        self.wait_online(gw, 15)
        self.add_private_key_secret(gw)
        return gw


if __name__ == "__main__":
    unittest.main()
