"""The alert relay (issue 20): real agents (Debian's netdata 1.37 and the shared v2.10.4) run
their own health with an alert that is always raised; the gateway reads their alert logs through
their web API (`query url`) and the test cloud receives AlarmLogEntry for the child's node id, a
snapshot when its version is wrong, the alert's configuration, the REMOVED transition after the
alert goes (health reloaded without it), and, across a gateway kill -9, nothing twice and nothing
lost. A child with health off is announced with `health` disabled and gets no alert message."""

import json
import os
import signal
import subprocess
import time
import unittest
import uuid

from harness import NetdataChild, free_port, metric_series, read_text, wait_for
from test_12_query_proxy import QueryProxyTestBase, http_get

SHARED_V2 = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "netdata-v2")
ALERT = "aclkd_always_raised"
# warn: $this >= 0 on system.cpu's user time: raised from its first evaluation on.
ALERT_CONF = f""" alarm: {ALERT}
    on: system.cpu
lookup: average -10s unaligned of user
 every: 2s
  warn: $this >= 0
  info: always raised, for the alert relay tests
"""
POLL = "2"  # [cloud] alerts poll every, seconds: short, so the test is quick


class HealthChild(NetdataChild):
    """Debian's netdata 1.37 with its web API on, dbengine (its alarm_log needs no more) and
    health on or off; with health on, ALERT_CONF in its health.d."""

    def __init__(self, root, port, api_key, hostname, web_port, health=True):
        super().__init__(root, port, api_key, hostname, web_port=web_port)
        conf = os.path.join(self.etc, "netdata.conf")
        text = read_text(conf).replace("[db]\n    mode = ram", "[db]\n    mode = dbengine")
        if health:
            text = text.replace("[health]\n    enabled = no", "[health]\n    enabled = yes")
            os.makedirs(os.path.join(self.etc, "health.d"), exist_ok=True)
            with open(self.alert_path(), "w") as f:
                f.write(ALERT_CONF)
        with open(conf, "w") as f:
            f.write(text)

    def alert_path(self):
        return os.path.join(self.etc, "health.d", "aclkd.conf")

    def drop_alert(self):
        """Removes the alert and reloads health (SIGUSR2): the agent logs it REMOVED."""
        os.remove(self.alert_path())
        self.process.proc.send_signal(signal.SIGUSR2)


class V2HealthChild:
    """The shared v2.10.4 agent with its web API, health on and ALERT_CONF."""

    def __init__(self, test, name, dest_port, key, web_port):
        self.dir = os.path.join(test.work, name)
        conf = os.path.join(test.work, f"{name}-alert.conf")
        with open(conf, "w") as f:
            f.write(ALERT_CONF)
        cmd = [os.path.join(SHARED_V2, "start-child"), "--dir", self.dir, "--dest",
               f"127.0.0.1:{dest_port}", "--key", key, "--hostname", name, "--web-port",
               str(web_port), "--alert", conf, "--background"]
        self.pid = int(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                      timeout=120).stdout.split()[-1])

    def machine_guid(self):
        path = os.path.join(self.dir, "lib", "registry", "netdata.public.unique.id")
        return read_text(path).strip() if os.path.exists(path) else None

    def drop_alert(self):
        os.remove(os.path.join(self.dir, "etc", "health.d", f"{os.path.basename(self.dir)}-alert.conf"))
        os.kill(self.pid, signal.SIGUSR2)

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


class AlertsTest(QueryProxyTestBase):
    """node_id and fake_stream come from the query proxy's tests (same agent access)."""

    def alert_gateway(self, key, web, name="gw", more=None):
        """A gateway with stream.conf keys: `key` → the agent at `web`, and `more` {key: port}."""
        conf = "".join(f"[{k}]\n    enabled = yes\n    allow from = *\n"
                       f"    query url = http://127.0.0.1:{p}\n"
                       for k, p in {key: web, **(more or {})}.items())
        gw = self.gateway(name, stream_conf=conf,
                          extra_cloud={"proxy": "none", "alerts poll every": POLL}).start()
        self.wait_online(gw, 15)
        self.add_private_key_secret(gw)
        return gw

    def alarm_messages(self, cid, node, type_="AlarmLogEntry"):
        return [m["message"] for m in self.cloud.messages(cid, type_)
                if m["message"].get("node_id") == node]

    def entries(self, cid, node, name=ALERT, status=None):
        return [e for e in self.alarm_messages(cid, node)
                if e.get("name") == name and (status is None or e.get("status") == status)]

    def health_capability(self, cid, node):
        msgs = [m["message"] for m in self.cloud.messages(cid, "UpdateNodeInstanceConnection")
                if m["message"].get("node_id") == node]
        if not msgs:
            return None
        caps = {c["name"]: c for c in msgs[-1].get("capabilities", [])}
        return caps.get("health", {}).get("enabled", False)

    def assert_warning_entry(self, cid, node):
        entry = wait_for(lambda: next(iter(self.entries(cid, node, status="ALARM_STATUS_WARNING")),
                                      None), 90, interval=0.5, what=f"AlarmLogEntry WARNING of {ALERT}")
        self.assertEqual(entry["chart"], "system.cpu")
        self.assertEqual(entry["claim_id"], cid)
        self.assertEqual(int(entry["alert_version"]), int(entry["when"]))
        self.assertRegex(entry["config_hash"], r"^[0-9a-f-]{36}$")
        self.assertNotEqual(entry["config_hash"], "00000000-0000-0000-0000-000000000000")
        wait_for(lambda: self.health_capability(cid, node), 30, what="health enabled for the node")
        return entry

    def snapshot_and_config(self, cid, node, entry):
        """A wrong version gets a snapshot with the alert; its configuration is answered."""
        before = len(self.alarm_messages(cid, node, "AlarmSnapshot"))
        self.cloud.send(cid, "SendAlarmCheckpoint",
                        message={"node_id": node, "claim_id": cid, "version": 12345})
        snaps = wait_for(lambda: self.alarm_messages(cid, node, "AlarmSnapshot")[before:], 20,
                         what="an AlarmSnapshot after a wrong version")
        self.assertRegex(snaps[0]["snapshot_uuid"], r"^[0-9a-f-]{36}$")
        names = {a["name"] for s in snaps for a in s.get("alarms", [])}
        self.assertIn(ALERT, names)
        self.cloud.send(cid, "SendAlarmConfiguration", message={"config_hash": entry["config_hash"]})
        config = wait_for(lambda: next((m["message"] for m in
                                        self.cloud.messages(cid, "ProvideAlarmConfiguration")
                                        if m["message"].get("config_hash") == entry["config_hash"]),
                                       None), 20, what="ProvideAlarmConfiguration")
        self.assertEqual(config["config"].get("alarm"), ALERT)
        self.assertEqual(config["config"].get("on_chart"), "system.cpu")
        self.assertEqual(config["config"].get("warning_expr"), "$this >= 0")

    def removed_diagnosis(self, gw, guid, web):
        """The child's own log (did it log REMOVED?), the gateway's node row and log tail."""
        try:
            log = json.loads(http_get(f"http://127.0.0.1:{web}/api/v1/alarm_log")[1])
            child = [(e.get("unique_id"), e.get("name"), e.get("status"), e.get("old_status"))
                     for e in log[:4]]
        except Exception as e:  # the diagnosis must not hide the failure
            child = f"unreadable: {e}"
        try:
            row = gw.node(guid)
        except Exception as e:
            row = f"unreadable: {e}"
        tail = "\n".join([line for line in gw.stderr().splitlines()
                          if " debug " not in line][-30:])
        return f"child's alarm_log (newest first): {child}\ngateway's node: {row}\n{tail}"

    def test_netdata_137_child_alerts_survive_a_gateway_kill(self):
        key, web = str(uuid.uuid4()), free_port()
        gw = self.alert_gateway(key, web)
        cid = self.claimed_id(gw)
        child = self.track(HealthChild(os.path.join(self.work, "child"), gw.stream_port, key,
                                       "alert-child", web)).start()
        guid = wait_for(child.machine_guid, 30, what="the child's machine GUID")
        node = self.node_id(gw, guid)
        entry = self.assert_warning_entry(cid, node)
        row = wait_for(lambda: (lambda n: n if n and n["alerts"] == "relayed" and
                                n["alerts-raised"] >= 1 else None)(gw.node(guid)), 20,
                       what="aclkctl nodes: alerts relayed, raised")
        self.assertTrue(row["alerts-last-transition"])
        view = self.cloud.api(f"/testcloud/api/nodes/{node}/alerts")
        self.assertIn(ALERT, [a["name"] for a in view["raised"]])
        self.snapshot_and_config(cid, node, entry)

        # The cloud in sync (its version is the gateway's): no snapshot for a checkpoint.
        time.sleep(float(POLL) * 2)
        snapshots = len(self.alarm_messages(cid, node, "AlarmSnapshot"))
        version = self.cloud.api(f"/testcloud/api/nodes/{node}/alerts")["version"]
        self.cloud.send(cid, "SendAlarmCheckpoint",
                        message={"node_id": node, "claim_id": cid, "version": version})
        time.sleep(3)
        self.assertEqual(len(self.alarm_messages(cid, node, "AlarmSnapshot")), snapshots)

        # kill -9; meanwhile the alert goes away (health reloaded without it).
        gw.kill9()
        sent_before = len(self.alarm_messages(cid, node))
        child.drop_alert()
        time.sleep(3)
        gw.start()
        self.wait_online(gw, 30)
        try:
            removed = wait_for(lambda: self.entries(cid, node, status="ALARM_STATUS_REMOVED"), 90,
                               interval=0.5, what=f"the REMOVED transition of {ALERT}")
        except AssertionError as e:
            # Seen once in ~8 runs (the cloud never got the REMOVED entry): say where it stopped.
            raise AssertionError(f"{e}\n{self.removed_diagnosis(gw, guid, web)}") from None
        self.assertEqual(removed[0]["old_status"], "ALARM_STATUS_WARNING")
        time.sleep(float(POLL) * 2)
        entries = self.alarm_messages(cid, node)
        self.assertGreater(len(entries), sent_before)
        seen = [(e.get("name"), e.get("chart"), e.get("when"), e.get("status"),
                 e.get("old_status"), e.get("event_id")) for e in entries]
        self.assertEqual(len(seen), len(set(seen)), "a transition was sent twice")
        wait_for(lambda: not any(a["name"] == ALERT for a in
                                 self.cloud.api(f"/testcloud/api/nodes/{node}/alerts")["raised"]),
                 20, what="the cloud's view without the alert raised")

    @unittest.skipUnless(os.path.isdir(SHARED_V2),
                         f"the Netdata v2 agent is not here ({SHARED_V2}): v2 alert test skipped")
    def test_v2_child_alerts_and_configuration(self):
        key, web = str(uuid.uuid4()), free_port()
        gw = self.alert_gateway(key, web)
        cid = self.claimed_id(gw)
        child = self.track(V2HealthChild(self, "nd2-alerts", gw.stream_port, key, web))
        guid = wait_for(child.machine_guid, 30, what="the v2 child's machine GUID")
        node = self.node_id(gw, guid)
        entry = self.assert_warning_entry(cid, node)
        self.assertRegex(entry.get("transition_id", ""), r"^[0-9a-f-]{36}$")
        self.snapshot_and_config(cid, node, entry)
        child.drop_alert()
        wait_for(lambda: self.entries(cid, node, status="ALARM_STATUS_REMOVED"), 60, interval=0.5,
                 what=f"the REMOVED transition of {ALERT}")

    def test_health_off_child_gets_health_disabled_and_no_alarm_message(self):
        key, web = str(uuid.uuid4()), free_port()
        dead_key, dead_port = str(uuid.uuid4()), free_port()
        gw = self.alert_gateway(key, web, more={dead_key: dead_port})
        cid = self.claimed_id(gw)
        child = self.track(HealthChild(os.path.join(self.work, "quiet"), gw.stream_port, key,
                                       "quiet-child", web, health=False)).start()
        guid = wait_for(child.machine_guid, 30, what="the child's machine GUID")
        node = self.node_id(gw, guid)
        row = wait_for(lambda: (lambda n: n if n and "health is off" in n["alerts"] else None)(
            gw.node(guid)), 60, what="aclkctl nodes: health is off")
        self.assertEqual(row["alerts-raised"], 0)
        self.assertFalse(self.health_capability(cid, node))
        time.sleep(float(POLL) * 2)
        for type_ in ("AlarmLogEntry", "AlarmSnapshot"):
            self.assertEqual(self.alarm_messages(cid, node, type_), [], type_)
        # An agent nobody answers for: warned (per agent and reason), counted, not relayed.
        _, dead_guid = self.fake_stream(gw, dead_key, "dead-agent")
        row = wait_for(lambda: (lambda n: n if n and "health check of" in n["alerts"] else None)(
            gw.node(dead_guid)), 30, what="aclkctl nodes: the dead agent's failed health check")
        self.assertIn(f"127.0.0.1:{dead_port}", row["alerts"])
        wait_for(lambda: f"ALERTS: health check of http://127.0.0.1:{dead_port}" in gw.log(), 10,
                 what="the failed poll's warning")
        series = wait_for(lambda: (lambda m: m if m.get(
            'aclkd_alert_polls_total{outcome="unreachable"}', 0) >= 1 else None)(
                metric_series(gw.stream_port)), 20, what="the unreachable poll counted")
        self.assertGreaterEqual(series['aclkd_alert_polls_total{outcome="ok"}'], 1)
        self.assertEqual(series["aclkd_alert_nodes_relayed"], 0)
        # The agent-level capability says the gateway relays alerts at all.
        conn = [m["message"] for m in self.cloud.messages(cid, "UpdateAgentConnection")][-1]
        self.assertIn({"name": "health", "version": 2, "enabled": True}, conn["capabilities"])


if __name__ == "__main__":
    unittest.main()
