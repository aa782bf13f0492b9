"""The status page's charts in headless Chromium (Debian's `chromium`), driven over its DevTools
protocol with the standard library's sockets: the page loads Chart.js from the gateway, the charts
get the hour on subscribe and a point a second after, a child joining shows on the chart and in the
node list, a click opens its details, a link drop marks the timeline; a screenshot is saved under
the test's work folder and build/test-artifacts/."""

import base64
import json
import os
import shutil
import time
import unittest
import urllib.request
import uuid

from harness import Process, read_text, wait_for
from test_05_stream_bridge import BridgeTestBase
from test_08_live import ARTIFACTS, WsClient

CHART_JS = "/usr/share/javascript/chart.js/chart.min.js"


class Chromium:
    """One headless Chromium on one page, with its DevTools protocol over a WebSocket."""

    def __init__(self, workdir, url):
        self.profile = os.path.join(workdir, "chromium")
        self.process = Process(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                "--disable-dev-shm-usage", "--no-first-run",
                                f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
                                "--window-size=1400,1700", url],
                               os.path.join(workdir, "chromium.log"))
        active = os.path.join(self.profile, "DevToolsActivePort")
        port = int(wait_for(lambda: os.path.exists(active) and read_text(active).split("\n")[0],
                            30, what="Chromium's DevTools port"))
        def page():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                pages = [t for t in json.load(r) if t["type"] == "page"]
            return pages[0] if pages else None
        target = wait_for(page, 15, what="Chromium's page")
        path = target["webSocketDebuggerUrl"].split(str(port), 1)[1]
        self.ws = WsClient(port, path)
        self.ws.sock.settimeout(30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            m = self.ws.recv_json()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise AssertionError(f"{method}: {m['error']}")
                return m["result"]

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def stop(self):
        try:
            self.ws.close()
        finally:
            self.process.stop()


def chart(page, name):
    """Points held by a chart and its series' last values, as the page exposes them."""
    d = page.js(f"(() => {{ const c = document.getElementById('chart-{name}');"
                f" return [c.dataset.points || '0', c.dataset.last || '']; }})()")
    return int(d[0]), [float(v) if v else None for v in d[1].split(",")] if d[1] else []


@unittest.skipUnless(shutil.which("chromium"), "Debian's chromium is not installed")
@unittest.skipUnless(os.path.exists(CHART_JS), "Debian's libjs-chart.js is not installed")
class StatusPageTest(BridgeTestBase):

    def test_charts_live_child_node_view_and_link_drop(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        base = f"http://127.0.0.1:{gw.stream_port}"
        with urllib.request.urlopen(base + "/static/chart.js", timeout=10) as r:
            self.assertIn(b"Chart.js v3", r.read(200))
        time.sleep(3)  # a few seconds of history before the page opens: it gets them at once
        page = self.track(Chromium(self.work, base + "/"))
        wait_for(lambda: page.js("typeof Chart") == "function", 15, what="Chart.js loaded")
        started = time.monotonic()
        first = wait_for(lambda: chart(page, "children")[0] >= 3 and chart(page, "children")[0],
                         10, what="the hour on subscribe")
        wait_for(lambda: chart(page, "children")[0] >= first + 2, 6,
                 what="points pushed once a second")
        self.assertLess(time.monotonic() - started, 8)
        self.assertEqual(page.js("document.getElementById('live').textContent"), "connected")
        self.assertEqual(chart(page, "link")[1], [1.0], "the link chart shows it online")

        # A child joins: on the chart of children and in the node list.
        guid = str(uuid.uuid4())
        s, got = self.handshake(gw, key, guid=guid, hostname="chart-child", ver=15352)
        self.assertTrue(got)
        wait_for(lambda: (chart(page, "children")[1] or [0, 0])[1] == 1, 10,
                 what="the child streaming on the chart")
        wait_for(lambda: "chart-child" in page.js("document.getElementById('nodes').innerText"),
                 10, what="the child in the node list")
        points = chart(page, "bytes")[0]
        self.assertGreater(points, 3)

        # A click on its row shows its details, its stream, its functions and why they are off.
        page.js(f"document.querySelector('#nodes tr[data-guid=\"{guid}\"]').click()")
        detail = wait_for(lambda: page.js(
            "(() => { const d = document.getElementById('node-detail');"
            " return d.hidden ? '' : d.innerText; })()"), 5, what="the node's details")
        for words in ("Node chart-child", guid, "Functions", "callable by the cloud (funcs)",
                      "Streams (1)", "Alerts"):
            self.assertIn(words, detail)

        # The link drops and comes back: the timeline marks the reconnect.
        self.cloud.drop(self.claimed_id(gw))
        wait_for(lambda: gw.state_json()["reconnect-count"] == 1 and gw.state_json()["online"],
                 20, what="online again after one reconnect")
        wait_for(lambda: "1 reconnects" in page.js("document.getElementById('link-marks').textContent"),
                 10, what="the reconnect marked on the link chart")
        timeline = page.js("document.getElementById('timeline').innerText")
        self.assertIn("yes", timeline, timeline)  # the reconnect column

        shot = os.path.join(self.work, "status-page.png")
        page.screenshot(shot)
        self.assertGreater(os.path.getsize(shot), 20000)
        os.makedirs(ARTIFACTS, exist_ok=True)
        kept = os.path.abspath(os.path.join(ARTIFACTS, "status-page-charts.png"))
        shutil.copyfile(shot, kept)
        print("screenshot:", kept)

        # Without the chart library the page says so and keeps its tables and timeline.
        page.call("Network.enable")
        page.call("Network.setBlockedURLs", urls=["*/static/chart.js"])
        page.call("Page.reload", ignoreCache=True)
        wait_for(lambda: "charts off" in (page.js(
            "document.getElementById('charts-state') ? "
            "document.getElementById('charts-state').textContent : ''") or ""), 15,
            what="the charts said to be off")
        wait_for(lambda: "reconnect" in page.js("document.getElementById('link-marks').textContent")
                 and "chart-child" in page.js("document.getElementById('nodes').innerText"), 10,
                 what="the timeline and the tables without the charts")
        s.close()

    def test_page_without_javascript_has_the_tables(self):
        key = str(uuid.uuid4())
        gw = self.bridge_gateway(key)
        s, _ = self.handshake(gw, key, hostname="plain-child", ver=15352)
        wait_for(lambda: "plain-child" in json.dumps(gw.ctl("nodes", "json").stdout), 10,
                 what="the child known to the bridge")
        with urllib.request.urlopen(f"http://127.0.0.1:{gw.stream_port}/", timeout=10) as r:
            html = r.read().decode()
        self.assertIn(">Online<", html)
        self.assertIn("<td>plain-child</td>", html)
        self.assertIn(self.claimed_id(gw), html)
        s.close()


if __name__ == "__main__":
    unittest.main()
