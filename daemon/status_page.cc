#include "daemon/status_page.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace aclkd::daemon {
namespace {

// Every text on the page comes from the network (hostnames, status strings): escaped.
std::string escapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void row(std::string& out, std::initializer_list<std::string> cells) {
  out += "<tr>";
  for (const auto& c : cells) out += "<td>" + escapeHtml(c) + "</td>";
  out += "</tr>\n";
}

const stream_bridge::NodeView* registryNode(const SurfaceSnapshot& s, const std::string& guid) {
  for (const auto& n : s.nodes) {
    if (n.machineGuid == guid) return &n;
  }
  return nullptr;
}

std::string functionsCell(const stream_bridge::NodeView& r) {
  return std::to_string(r.functions) + (r.functionsCallable ? " (callable)" : "");
}

// The node table's rows: the link's node instances (the gateway and every relayed node) with the
// bridge's counts where it knows the node, then the streamed nodes the link does not list yet (a
// child whose host info is not complete). The script renders the same rows (allNodes).
std::string nodeRows(const SurfaceSnapshot& s) {
  std::string out;
  for (const auto& n : s.state.nodes) {
    const auto* r = registryNode(s, n.machineGuid);
    auto count = [&](size_t v) { return r ? std::to_string(v) : std::string("-"); };
    row(out, {n.hostname, n.machineGuid, n.nodeId.value_or("-"), n.self ? "self" : "child",
              std::to_string(n.streamingHops), n.streamingOnline ? "yes" : "no",
              count(r ? r->charts : 0), count(r ? r->contexts : 0),
              r ? functionsCell(*r) : "-"});
  }
  for (const auto& r : s.nodes) {
    const bool listed = std::any_of(s.state.nodes.begin(), s.state.nodes.end(),
                                    [&](const auto& n) { return n.machineGuid == r.machineGuid; });
    if (listed) continue;
    row(out, {r.hostname, r.machineGuid, r.nodeId.empty() ? "-" : r.nodeId, "child",
              std::to_string(r.hops), r.live ? "yes" : "no", std::to_string(r.charts),
              std::to_string(r.contexts), functionsCell(r)});
  }
  return out;
}

}  // namespace

std::string renderStatusPage(const SurfaceSnapshot& s, bool ready) {
  const auto& v = s.state;
  std::string link = "starting…";
  std::string linkClass = "waiting";
  if (ready) {
    link = v.online ? "Online" : "Offline";
    linkClass = v.online ? "online" : "offline";
  }
  std::ostringstream page;
  page << R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>aclkd</title>
<style>)" << statusPageStyle() << R"(</style>
</head>
<body>
<h1>aclkd <span id="link" class="state )" << linkClass << "\">" << escapeHtml(link) << R"(</span></h1>
<dl>
  <dt>ACLK status</dt><dd id="status">)" << escapeHtml(ready ? v.aclkStatus : "-") << R"(</dd>
  <dt>Claimed ID</dt><dd id="claimed">)"
       << escapeHtml(ready ? v.claimedId.value_or("not claimed") : "-") << R"(</dd>
  <dt>Cloud URL</dt><dd id="url">)" << escapeHtml(ready ? v.cloudUrl.value_or("-") : "-")
       << R"(</dd>
  <dt>Reconnects</dt><dd id="reconnects">)"
       << (ready ? std::to_string(v.reconnectCount) : "-") << R"(</dd>
  <dt>Live updates</dt><dd id="live">off (JavaScript is off; reload for fresh figures)</dd>
</dl>
<section id="charts" hidden>
<h2>Last hour <span id="charts-state" class="note"></span></h2>
<div class="grid">
<figure><figcaption>Children online and streaming</figcaption><div class="box"><canvas id="chart-children"></canvas></div></figure>
<figure><figcaption>Samples per second in (dropped, never relayed)</figcaption><div class="box"><canvas id="chart-samples"></canvas></div></figure>
<figure><figcaption>Bytes per second in</figcaption><div class="box"><canvas id="chart-bytes"></canvas></div></figure>
<figure><figcaption>Link: online, reconnects marked <span id="link-marks" class="note"></span></figcaption><div class="box"><canvas id="chart-link"></canvas></div></figure>
<figure><figcaption>PUBACK latency (ms) and messages pending</figcaption><div class="box"><canvas id="chart-puback"></canvas></div></figure>
<figure><figcaption>Cloud queries and function calls per second, with failures</figcaption><div class="box"><canvas id="chart-cloud"></canvas></div></figure>
<figure><figcaption>Relayed alerts: nodes whose alerts are relayed, transitions sent to the cloud per second (a node's raised alerts: click it)</figcaption><div class="box"><canvas id="chart-alerts"></canvas></div></figure>
</div>
<h2>Link timeline</h2>
<table id="timeline"><thead><tr><th>time</th><th>link</th><th>reconnect</th><th>status</th></tr></thead><tbody></tbody></table>
</section>
<h2>Node instances</h2>
<table id="nodes"><thead><tr><th>hostname</th><th>machine GUID</th><th>node ID</th>
<th>relationship</th><th>hops</th><th>online</th><th>charts</th><th>contexts</th><th>functions</th></tr></thead>
<tbody>)" << (ready ? nodeRows(s) : "") << R"(</tbody></table>
<section id="node-detail" hidden></section>
<h2>Streams</h2>
<p id="streams-count" class="note">)"
       << (ready ? std::to_string(s.streamsConnected) + " connected; the list is live (JavaScript)"
                 : "")
       << R"(</p>
<table id="streams"><thead><tr><th>hostname</th><th>peer</th><th>since</th><th>samples/s</th>
<th>bytes</th><th>compression</th><th>TLS</th></tr></thead><tbody></tbody></table>
<script src="/static/chart.js"></script>
<script>)" << statusPageScript() << R"(</script>
</body>
</html>
)";
  return page.str();
}

StaticFile chartLibrary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream body;
  if (in) body << in.rdbuf();
  if (!in || body.str().empty()) {
    return {404, "text/plain; charset=utf-8",
            "The chart library is not installed: install Debian's libjs-chart.js (it provides " +
                path + "). The status page works without it, with its tables only.\n"};
  }
  return {200, "text/javascript; charset=utf-8", body.str()};
}

}  // namespace aclkd::daemon
