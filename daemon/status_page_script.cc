// The status page's stylesheet and script, apart from the document (status_page.cc) so that each
// reads as what it is. Plain ES2017 for the browsers an operator has, no build step; Chart.js 3.9
// comes from /static/chart.js (Debian's libjs-chart.js), and the page keeps its tables when it is
// absent.

#include "daemon/status_page.h"

namespace aclkd::daemon {

std::string_view statusPageStyle() {
  return R"css(
  body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
  h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 1.5em; }
  .state { display: inline-block; padding: 2px 8px; border-radius: 4px; color: #fff; }
  .online { background: #2a7d2e; } .offline { background: #b33; } .waiting { background: #888; }
  table { border-collapse: collapse; } td, th { padding: 3px 10px; border-bottom: 1px solid #ddd;
  text-align: left; } dt { font-weight: bold; float: left; width: 12em; } dd { margin-bottom: 4px; }
  .note { color: #666; font-weight: normal; font-size: 13px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 12px; }
  figure { margin: 0; border: 1px solid #ddd; border-radius: 4px; padding: 6px; }
  figcaption { font-size: 13px; font-weight: bold; margin-bottom: 4px; }
  .box { position: relative; height: 170px; }
  #nodes tbody tr { cursor: pointer; } #nodes tbody tr:hover { background: #f3f6fa; }
  #nodes tbody tr.selected { background: #e3ecf7; }
  #node-detail { border: 1px solid #9ab; border-radius: 4px; padding: 8px 14px; margin-top: 10px; }
  .off { color: #b33; }
)css";
}

std::string_view statusPageScript() {
  return R"js(
"use strict";
const HOUR = 3600;
const $ = id => document.getElementById(id);
let lastStatus = null;   // the aclk/status data last received
let selectedGuid = null; // the node whose details are open

function cell(row, text) { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); }
function fill(id, rows, cells, decorate) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement("tr");
    cells(r).forEach(c => cell(tr, c));
    if (decorate) decorate(tr, r);
    body.appendChild(tr);
  }
}
function fmtTime(t) { return new Date(t * 1000).toLocaleTimeString([], {hour12: false}); }
function fmtBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

// ---- tables and the per-node view (aclk/status) ----
function registryNode(guid) { return (lastStatus ? lastStatus.nodes : []).find(n => n["machine-guid"] === guid); }

// The link's node instances (the gateway and the nodes relayed), then the streamed nodes the
// link does not list yet (a child whose host info is not complete): every node, once.
function allNodes(d) {
  const out = d.state["node-instances"].map(n => ({guid: n.mguid, hostname: n.hostname,
    nodeId: n["node-id"], relationship: n.relationship, hops: n["streaming-hops"],
    online: n["streaming-online"]}));
  for (const r of d.nodes) {
    if (out.some(n => n.guid === r["machine-guid"])) continue;
    out.push({guid: r["machine-guid"], hostname: r.hostname, nodeId: r["node-id"],
              relationship: "child", hops: r.hops, online: r.live});
  }
  return out;
}

function render(d) {
  lastStatus = d;
  const s = d.state;
  const link = $("link");
  link.textContent = s.online ? "Online" : "Offline";
  link.className = "state " + (s.online ? "online" : "offline");
  $("status").textContent = s["aclk-status"];
  $("claimed").textContent = s["claimed-id"] || "not claimed";
  $("url").textContent = s["cloud-url"] || "-";
  $("reconnects").textContent = s["reconnect-count"];
  fill("nodes", allNodes(d), n => {
    const r = registryNode(n.guid);
    return [n.hostname, n.guid, n.nodeId || "-", n.relationship, n.hops, n.online ? "yes" : "no",
            r ? r.charts : "-", r ? r.contexts : "-", r ? r.functions + (r.funcs ? " (callable)" : "") : "-"];
  }, (tr, n) => {
    tr.dataset.guid = n.guid;
    tr.title = "details of " + n.hostname;
    if (n.guid === selectedGuid) tr.className = "selected";
    tr.onclick = () => { selectedGuid = selectedGuid === n.guid ? null : n.guid; render(lastStatus); };
  });
  $("streams-count").textContent = d.streams.length + " connected";
  fill("streams", d.streams, st => [st.hostname, st.peer, st.since, st["samples-per-second"],
       fmtBytes(st["wire-bytes"]), st.compression, st.tls ? "yes" : "no"]);
  renderNodeDetail();
}

function yesNo(on, why) { return on ? "yes" : "no" + (why ? " — " + why : ""); }

// Fields another part may add to a node (relayed alerts: `alerts…`) are shown as they come, so the
// page needs no change when they appear.
function extraValue(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function detailTable(title, rows) {
  const h = document.createElement("h3");
  h.textContent = title;
  const t = document.createElement("table");
  for (const [k, v, off] of rows) {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.textContent = k; tr.appendChild(th);
    const td = document.createElement("td"); td.textContent = v; if (off) td.className = "off";
    tr.appendChild(td);
    t.appendChild(tr);
  }
  return [h, t];
}

function renderNodeDetail() {
  const box = $("node-detail");
  const inst = selectedGuid && lastStatus && allNodes(lastStatus).find(n => n.guid === selectedGuid);
  if (!inst) { box.hidden = true; box.replaceChildren(); return; }
  const r = registryNode(selectedGuid);
  const parts = [];
  const h = document.createElement("h2");
  h.textContent = "Node " + inst.hostname;
  parts.push(h);
  const about = [["machine GUID", inst.guid], ["node ID", inst.nodeId || "-"],
                 ["relationship", inst.relationship], ["hops", inst.hops],
                 ["online", inst.online ? "yes" : "no"]];
  if (r) {
    about.push(["version", r.version || "-"], ["OS", r.os || "-"], ["peer", r.peer || "-"],
               ["connected since", r["connected-since"] || "-"],
               ["disconnected at", r["disconnected-at"] || "-"], ["ephemeral", r.ephemeral ? "yes" : "no"]);
  }
  parts.push(...detailTable("About", about));
  if (r) {
    parts.push(...detailTable("Metadata", [["charts", r.charts], ["relayed charts", r["relayed-charts"]],
      ["dimensions", r.dimensions], ["contexts", r.contexts], ["host labels", r["host-labels"]],
      ["chart labels", r["chart-labels"]]]));
    parts.push(...detailTable("Functions", [["declared", r.functions],
      ["callable by the cloud (funcs)", yesNo(r.funcs, r["funcs-off"]), !r.funcs],
      ["configurable (dyncfg)", yesNo(r.dyncfg, r["dyncfg-off"]), !r.dyncfg]]));
    const alerts = Object.keys(r).filter(k => k.startsWith("alert")).map(k => [k, extraValue(r[k])]);
    parts.push(...detailTable("Alerts", alerts.length ? alerts
                              : [["alerts", "not relayed by this gateway version"]]));
  } else if (inst.relationship === "self") {
    const p = document.createElement("p");
    p.textContent = "The gateway itself: its figures are the charts above.";
    parts.push(p);
  }
  const streams = (lastStatus.streams || []).filter(st => st["machine-guid"] === selectedGuid);
  const sh = document.createElement("h3");
  sh.textContent = "Streams (" + streams.length + ")";
  parts.push(sh);
  if (streams.length) {
    const t = document.createElement("table");
    const head = document.createElement("tr");
    ["peer", "since", "samples/s", "bytes", "lines", "compression", "TLS", "capabilities"].forEach(c => {
      const th = document.createElement("th"); th.textContent = c; head.appendChild(th); });
    t.appendChild(head);
    for (const st of streams) {
      const tr = document.createElement("tr");
      [st.peer, st.since, st["samples-per-second"], fmtBytes(st["wire-bytes"]), st.lines,
       st.compression, st.tls ? "yes" : "no", st.capabilities].forEach(c => cell(tr, c));
      t.appendChild(tr);
    }
    parts.push(t);
  }
  box.replaceChildren(...parts);
  box.hidden = false;
}

// ---- the last hour (aclk/history) ----
// One series per figure: [chart id, label, field, colour, axis]. The data are {x: t, y}.
const SERIES = [
  ["chart-children", "online", "children_online", "#2a7d2e", "y"],
  ["chart-children", "streaming", "streaming", "#1f5fa8", "y"],
  ["chart-samples", "samples/s", "samples_per_second", "#7a4fa0", "y"],
  ["chart-bytes", "bytes/s", "bytes_per_second", "#b06a12", "y"],
  ["chart-link", "online", "link_online", "#2a7d2e", "y"],
  ["chart-puback", "PUBACK latency ms", "puback_latency_ms", "#1f5fa8", "y"],
  ["chart-puback", "pending", "pending_pubacks", "#b06a12", "y1"],
  ["chart-cloud", "queries/s", "queries_per_second", "#1f5fa8", "y"],
  ["chart-cloud", "query failures/s", "query_failures_per_second", "#b33", "y"],
  ["chart-cloud", "function calls/s", "calls_per_second", "#2a7d2e", "y"],
  ["chart-cloud", "call failures/s", "call_failures_per_second", "#d4a017", "y"],
  ["chart-alerts", "nodes relayed", "alert_nodes_relayed", "#2a7d2e", "y"],
  ["chart-alerts", "transitions relayed/s", "alert_transitions_per_second", "#1f5fa8", "y1"],
];
const charts = {};       // canvas id → Chart
let events = [];         // link events, oldest first
let newestT = 0;

// Reconnects and drops drawn as vertical lines over the link chart, with their status text.
const linkMarks = {
  id: "linkMarks",
  afterDatasetsDraw(chart) {
    const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
    ctx.save();
    ctx.font = "10px system-ui, sans-serif";
    // Labels step down a line while marks are close together, so that a flap stays readable; the
    // timeline table below has every status in full.
    let lastPx = -1e9, line = 0;
    for (const e of events) {
      if (e.t < x.min || e.t > x.max) continue;
      const px = x.getPixelForValue(e.t);
      ctx.strokeStyle = e.reconnect ? "#1f5fa8" : (e.online ? "#2a7d2e" : "#b33");
      ctx.setLineDash(e.reconnect ? [] : [3, 3]);
      ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
      line = px - lastPx < 120 ? (line + 1) % 5 : 0;
      lastPx = px;
      const text = (e.reconnect ? "reconnect: " : "") + e.status.slice(0, 40);
      const width = ctx.measureText(text).width;
      ctx.fillStyle = ctx.strokeStyle;
      // Left of the mark when it sits near the right edge (the newest marks usually do).
      ctx.fillText(text, px + 3 + width > area.right ? px - 3 - width : px + 3, area.top + 10 + 11 * line);
    }
    ctx.restore();
  }
};

function makeCharts() {
  if (typeof Chart === "undefined") {
    // The link timeline still fills from the history; only the drawings are off.
    $("charts-state").textContent = "— charts off: the gateway does not serve /static/chart.js (install libjs-chart.js)";
    document.querySelector("#charts .grid").hidden = true;
    return false;
  }
  for (const [id, label, field, colour, axis] of SERIES) {
    if (!charts[id]) {
      const scales = {
        x: {type: "linear", ticks: {callback: fmtTime, maxTicksLimit: 7, maxRotation: 0}},
        y: {beginAtZero: true, ticks: {maxTicksLimit: 5}},
      };
      if (id === "chart-link") { scales.y.max = 1; scales.y.ticks = {stepSize: 1, callback: v => v ? "online" : "offline"}; }
      if (id === "chart-puback" || id === "chart-alerts") scales.y1 = {beginAtZero: true, position: "right", grid: {drawOnChartArea: false}};
      charts[id] = new Chart($(id), {
        type: "line",
        data: {datasets: []},
        options: {animation: false, parsing: false, normalized: true, responsive: true,
                  maintainAspectRatio: false, scales,
                  interaction: {mode: "nearest", axis: "x", intersect: false},
                  plugins: {legend: {labels: {boxWidth: 12}},
                            tooltip: {callbacks: {title: items => items.length ? fmtTime(items[0].parsed.x) : ""}}}},
        plugins: id === "chart-link" ? [linkMarks] : [],
      });
    }
    charts[id].data.datasets.push({label, field, data: [], borderColor: colour, backgroundColor: colour + "33",
      borderWidth: 1.5, pointRadius: 0, yAxisID: axis, stepped: id === "chart-link", fill: id === "chart-link"});
  }
  return true;
}

// Points arrive as the hour (the reply to the subscribe) then the newest few every second; a
// point already drawn is skipped by its time.
function addHistory(h) {
  const col = {};
  h.fields.forEach((f, i) => col[f] = i);
  for (const row of h.points) {
    const t = row[col.t];
    if (t <= newestT) continue;
    newestT = t;
    for (const chart of Object.values(charts)) {
      for (const ds of chart.data.datasets) ds.data.push({x: t, y: row[col[ds.field]]});
    }
  }
  const seen = new Set(events.map(e => e.t + "|" + e.status + "|" + e.reconnect));
  for (const e of h.events) if (!seen.has(e.t + "|" + e.status + "|" + e.reconnect)) events.push(e);
  events = events.slice(-256);
  for (const [id, chart] of Object.entries(charts)) {
    for (const ds of chart.data.datasets) {
      while (ds.data.length && ds.data[0].x < newestT - HOUR) ds.data.shift();
    }
    // The span held, up to the hour, and at least a minute: a page opened soon after a start
    // shows lines rather than a sliver at the right edge.
    const oldest = chart.data.datasets[0].data.length ? chart.data.datasets[0].data[0].x : newestT;
    chart.options.scales.x.min = Math.min(Math.max(oldest, newestT - HOUR), newestT - 60);
    chart.options.scales.x.max = newestT;
    chart.update("none");
    // For a look from outside (the tests, a curious operator): points held and the last values.
    const canvas = $(id);
    canvas.dataset.points = chart.data.datasets[0].data.length;
    canvas.dataset.last = chart.data.datasets.map(ds => ds.data.length ? ds.data[ds.data.length - 1].y : "").join(",");
  }
  // A drop is going offline from online (the offline of a start-up is none).
  const drops = events.filter((e, i) => !e.online && i > 0 && events[i - 1].online &&
                                        e.t >= newestT - HOUR).length;
  const reconnects = events.filter(e => e.reconnect && e.t >= newestT - HOUR).length;
  $("link-marks").textContent = "(last hour: " + reconnects + " reconnects, " + drops + " drops)";
  fill("timeline", events.slice().reverse().slice(0, 20), e => [fmtTime(e.t), e.online ? "online" : "offline",
       e.reconnect ? "yes" : "", e.status], (tr, e) => { if (e.reconnect) tr.className = "reconnect"; });
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live");
  ws.onopen = () => {
    $("live").textContent = "connected";
    ws.send(JSON.stringify({id: 1, subscribe: {channel: "aclk/status"}}));
    ws.send(JSON.stringify({id: 2, subscribe: {channel: "aclk/history"}}));
  };
  ws.onmessage = e => {
    const m = JSON.parse(e.data);
    const data = m.result ? m.result.data : m.push ? m.push.data : null;
    if (!data) return;
    const history = m.id === 2 || (m.push && m.push.channel === "aclk/history");
    if (history) addHistory(data); else render(data);
  };
  ws.onclose = () => { $("live").textContent = "reconnecting…"; setTimeout(connect, 2000); };
}

$("live").textContent = "connecting…";
$("charts").hidden = false;
makeCharts();
connect();
)js";
}

}  // namespace aclkd::daemon
