#include "daemon/status_page.h"

namespace aclkd::daemon {

std::string_view statusPageHtml() {
  static constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>aclkd</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
  h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 1.5em; }
  .state { display: inline-block; padding: 2px 8px; border-radius: 4px; color: #fff; }
  .online { background: #2a7d2e; } .offline { background: #b33; } .waiting { background: #888; }
  table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd;
  text-align: left; } dt { font-weight: bold; float: left; width: 12em; } dd { margin-bottom: 4px; }
</style>
</head>
<body>
<h1>aclkd <span id="link" class="state waiting">connecting…</span></h1>
<dl>
  <dt>ACLK status</dt><dd id="status">-</dd>
  <dt>Claimed ID</dt><dd id="claimed">-</dd>
  <dt>Cloud URL</dt><dd id="url">-</dd>
  <dt>Reconnects</dt><dd id="reconnects">-</dd>
  <dt>Live updates</dt><dd id="live">not connected</dd>
</dl>
<h2>Node instances</h2>
<table id="nodes"><thead><tr><th>hostname</th><th>machine GUID</th><th>node ID</th>
<th>relationship</th><th>hops</th><th>online</th></tr></thead><tbody></tbody></table>
<h2>Streams</h2>
<table id="streams"><thead><tr><th>hostname</th><th>peer</th><th>since</th><th>samples/s</th>
<th>bytes</th><th>compression</th><th>TLS</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
function cell(row, text) { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); }
function fill(id, rows, cells) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren();
  for (const r of rows) { const tr = document.createElement("tr"); cells(r).forEach(c => cell(tr, c)); body.appendChild(tr); }
}
function render(d) {
  const s = d.state;
  const link = document.getElementById("link");
  link.textContent = s.online ? "Online" : "Offline";
  link.className = "state " + (s.online ? "online" : "offline");
  document.getElementById("status").textContent = s["aclk-status"];
  document.getElementById("claimed").textContent = s["claimed-id"] || "not claimed";
  document.getElementById("url").textContent = s["cloud-url"] || "-";
  document.getElementById("reconnects").textContent = s["reconnect-count"];
  fill("nodes", s["node-instances"], n => [n.hostname, n.mguid, n["node-id"] || "-",
       n.relationship, n["streaming-hops"], n["streaming-online"] ? "yes" : "no"]);
  fill("streams", d.streams, st => [st.hostname, st.peer, st.since, st["samples-per-second"],
       st["wire-bytes"], st.compression, st.tls ? "yes" : "no"]);
}
function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live");
  ws.onopen = () => { document.getElementById("live").textContent = "connected";
                      ws.send(JSON.stringify({id: 1, subscribe: {channel: "aclk/status"}})); };
  ws.onmessage = e => { const m = JSON.parse(e.data);
                        if (m.result && m.result.data) render(m.result.data);
                        if (m.push) render(m.push.data); };
  ws.onclose = () => { document.getElementById("live").textContent = "reconnecting…"; setTimeout(connect, 2000); };
}
connect();
</script>
</body>
</html>
)html";
  return kPage;
}

}  // namespace aclkd::daemon
