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


def stream_paths(tree):
    """Every `streaming_path` list anywhere in an API answer."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == "streaming_path" and isinstance(v, list):
                yield v
            else:
                yield from stream_paths(v)
    elif isinstance(tree, list):
        for v in tree:
            yield from stream_paths(v)


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

    def own_path(self, guid):
        """The stream path the agent holds for its own host (/api/v3/node_instances), as
        [(hostname, host_id, node_id, hops)], or None before it has one."""
        for path in stream_paths(self.api("/api/v3/node_instances")):
            hops = [(h.get("hostname"), h.get("host_id"), h.get("node_id"), h.get("hops"))
                    for h in path if isinstance(h, dict)]
            if any(h[1] == guid and h[3] == 0 for h in hops):
                return sorted(hops, key=lambda h: h[3])
        return None

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
        self.assertEqual(info["agents"][0]["nd"], node)
        # The path it holds: itself with its node id, then the gateway as hop 1.
        me = gw.state_json()["node-instances"][0]
        gw_guid = me["mguid"]
        want = [("nd2-direct", guid, node, 0), (me["hostname"], gw_guid, me["node-id"], 1)]
        wait_for(lambda: child.own_path(guid) == want, 30, interval=0.5,
                 what=f"the child's stream path {want}")
        # stream_info was answered, so no warning about it, on this connect or any other.
        self.assertNotIn(STREAM_INFO_WARNING, child.log())
        # The gateway answers stream_info like a v2 parent, for the live child: online.
        si = http_json(f"http://127.0.0.1:{gw.stream_port}/api/v3/stream_info?machine_guid={guid}")
        self.assertEqual(si["status"], 200)
        self.assertEqual((si["ingest_type"], si["ingest_status"]), ("child", "online"))
        self.assertEqual(si["host_id"], gw_guid)
        self.assertEqual(self.liveness(cid, node), True)
        # Its node info reached the cloud once, complete (with its host labels), not once
        # without labels at connect and again with them.
        def infos():
            return [m["message"] for m in self.cloud.messages(cid, "UpdateNodeInfo")
                    if m["message"].get("node_id") == node]
        wait_for(infos, 30, what="UpdateNodeInfo for the child")
        for info in infos():
            self.assertIn("_os_name", info["data"].get("host_labels", {}), info)
        self.assertEqual(len(infos()), 1)
        # Its collectors follow the info 30 s later, as from a Netdata parent (docs/protocol/aclk.md
        # §9 step 4): the plugin and module pairs of its charts.
        def collectors():
            return [m["message"] for m in self.cloud.messages(cid, "UpdateNodeCollectors")
                    if m["message"].get("node_id") == node]
        got = wait_for(collectors, 60, interval=1, what="UpdateNodeCollectors for the child")
        pairs = {(c.get("plugin"), c.get("module")) for c in got[0].get("collectors", [])}
        self.assertIn("proc.plugin", {p for p, _ in pairs}, pairs)

    def test_v2_parent_with_two_children_and_failover(self):
        # Two gateways claimed to the same Space; the v2 parent lists both.
        key, child_key = str(uuid.uuid4()), str(uuid.uuid4())
        gws = [self.bridge_gateway_named("gw-a", key), self.bridge_gateway_named("gw-b", key)]
        cid = {id(gw): self.claimed_id(gw) for gw in gws}
        parent_web = free_port()
        parent = self.start_v2("nd2-parent",
                               " ".join(f"127.0.0.1:{gw.stream_port}" for gw in gws),
                               key, web=parent_web, accept=child_key)
        kids = [self.start_v2(f"nd2-kid{i}", f"127.0.0.1:{parent_web}", child_key, web=free_port())
                for i in (1, 2)]
        names = ["nd2-parent", "nd2-kid1", "nd2-kid2"]

        # Each host the v2 parent carries has its own sender, and a v2 sender orders parents
        # with the same data at random (stream-parents.c): each may pick either gateway.
        def where(name):
            for gw in gws:
                for n in gw.table("nodes"):
                    if n["hostname"] == name and n["live"]:
                        return gw, n
            return None
        at = {n: wait_for(lambda: where(n), 90, interval=0.5, what=f"{n} live at a gateway")
              for n in names}
        guids = {n: at[n][1]["machine-guid"] for n in names}
        self.assertEqual([at[n][1]["hops"] for n in names], [1, 2, 2])
        nodes = {n: self.node_id(at[n][0], guids[n]) for n in names}
        for n in names:
            created = {m["message"]["machine_guid"]: m["message"].get("hops", 0)
                       for m in self.cloud.messages(cid[id(at[n][0])], "CreateNodeInstance")}
            self.assertEqual(created[guids[n]], 1 if n == "nd2-parent" else 2)
        # Each grandchild learns its node id through the v2 parent, and its path: itself, the
        # parent (hop 1), the gateway (hop 2).
        for kid, name in zip(kids, names[1:]):
            me = at[name][0].state_json()["node-instances"][0]
            want = [(name, guids[name], nodes[name], 0),
                    ("nd2-parent", guids["nd2-parent"], nodes["nd2-parent"], 1),
                    (me["hostname"], me["mguid"], me["node-id"], 2)]
            wait_for(lambda: kid.own_path(guids[name]) == want, 60, interval=0.5,
                     what=f"{name}'s stream path {want}")
        # (The grandchildren do log the stream-info warning: their parent is a real Netdata,
        # which answers 404 for a GUID it never saw. The parent itself, asking aclkd, does not.)
        self.assertNotIn(STREAM_INFO_WARNING, parent.log())

        # A grandchild stops: its node goes offline in the cloud, the others stay live.
        kids[1].stop()
        wait_for(lambda: self.liveness(cid[id(at["nd2-kid2"][0])], nodes["nd2-kid2"]) is False,
                 60, interval=0.5, what="nd2-kid2 offline in the cloud")
        self.assertTrue(self.liveness(cid[id(at["nd2-kid1"][0])], nodes["nd2-kid1"]))

        # Failover: the gateway serving the parent dies; what it served streams to the other
        # one, and the cloud shows it online there with the same node ids.
        gw_a = at["nd2-parent"][0]
        gw_b = gws[1] if gw_a is gws[0] else gws[0]
        moved = [n for n in ("nd2-parent", "nd2-kid1") if at[n][0] is gw_a]
        for name in moved:
            self.assertIsNone(self.liveness(cid[id(gw_b)], nodes[name]), f"{name} never at B")
        killed = time.monotonic()
        gw_a.kill9()
        for name in moved:
            wait_for(lambda: self.liveness(cid[id(gw_b)], nodes[name]) is True, 120,
                     interval=0.2, what=f"{name} online via B")
        took = time.monotonic() - killed
        print(f"failover: {len(moved)} node(s) online via B {took:.1f} s after A was killed")
        for name in ("nd2-parent", "nd2-kid1"):  # the same node ids via B
            self.assertEqual(self.node_id(gw_b, guids[name]), nodes[name])
            self.assertEqual([n["hops"] for n in gw_b.table("nodes")
                              if n["hostname"] == name], [1 if name == "nd2-parent" else 2])

        # The v2 parent's connection ends: every host it carried goes offline in the cloud.
        parent.stop()
        for name in ("nd2-parent", "nd2-kid1"):
            wait_for(lambda: self.liveness(cid[id(gw_b)], nodes[name]) is False, 60,
                     interval=0.5, what=f"{name} offline via B once the parent is gone")

    def bridge_gateway_named(self, name, key):
        gw = self.gateway(name, stream_conf=stream_conf(key)).start()
        self.wait_online(gw, 15)
        self.add_private_key_secret(gw)
        return gw


if __name__ == "__main__":
    unittest.main()
