#include "daemon/surface_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <tuple>

#include "stream_bridge/stream_path.h"

namespace aclkd::daemon {
namespace {

using nlohmann::ordered_json;

// The `cloud` object, in the agent's key order (docs/protocol/aclk.md §11.5). `banned` would repeat
// `url` in Netdata (a duplicate key); one `url` is emitted here because a JSON object cannot hold
// two.
ordered_json cloudObject(const SurfaceSnapshot& s) {
  const auto& v = s.state;
  ordered_json c;
  c["id"] = v.reconnectCount + (v.times.lastConnect ? 1 : 0);
  c["status"] = v.cloudStatus;
  std::time_t since = s.started;
  if (v.times.lastConnect) since = *v.times.lastConnect;
  if (v.times.lastDisconnect && *v.times.lastDisconnect > since) since = *v.times.lastDisconnect;
  c["since"] = since;
  c["age"] = s.now - since;
  if (v.cloudStatus != "available" && v.claimedId) c["claim_id"] = *v.claimedId;
  if (v.cloudStatus == "available") {
    c["url"] = s.configuredUrl;
  } else {
    c["url"] = v.cloudUrl ? ordered_json(*v.cloudUrl) : ordered_json(nullptr);
  }
  if (v.cloudStatus == "available") {
    c["reason"] = v.cloudReason.empty() ? "Agent is not claimed yet" : v.cloudReason;
  } else {
    c["reason"] = v.cloudReason;
  }
  if (v.cloudStatus == "offline" && v.times.nextConnectionAttempt && *v.times.nextConnectionAttempt > s.now) {
    c["next_check"] = *v.times.nextConnectionAttempt;
    c["next_in"] = *v.times.nextConnectionAttempt - s.now;
  }
  return c;
}

}  // namespace

std::string renderInfoJson(const SurfaceSnapshot& s) {
  ordered_json agent;
  agent["mg"] = s.machineGuid;
  std::optional<std::string> nodeId;
  for (const auto& n : s.state.nodes) {
    if (n.self) nodeId = n.nodeId;
  }
  agent["nd"] = nodeId ? ordered_json(*nodeId) : ordered_json(nullptr);
  agent["nm"] = s.hostname;
  agent["now"] = s.now;
  agent["ai"] = 0;
  agent["application"] = {{"package", {{"version", s.version}, {"type", "aclkd"}}}};
  agent["cloud"] = cloudObject(s);
  size_t live = 0;
  size_t contexts = 0;
  for (const auto& n : s.nodes) {
    live += n.live ? 1 : 0;
    contexts += n.contexts;
  }
  agent["nodes"] = {{"total", s.nodes.size() + 1}, {"receiving", live}, {"sending", 0},
                    {"archived", s.nodes.size() - live}};
  agent["contexts"] = {{"collected", contexts}};
  // The gateway's own addition: which relayed nodes the cloud can call functions of, and how
  // many each declared (Netdata's info has no per-node list; `aclkctl nodes` says why not).
  ordered_json functionNodes = ordered_json::array();
  size_t callable = 0;
  for (const auto& n : s.nodes) {
    callable += n.functionsCallable ? 1 : 0;
    if (!n.live) continue;
    functionNodes.push_back({{"mg", n.machineGuid}, {"nm", n.hostname}, {"count", n.functions},
                             {"funcs", n.functionsCallable}, {"dyncfg", n.dyncfg}});
  }
  agent["functions"] = {{"callable_nodes", callable}, {"nodes", std::move(functionNodes)}};
  agent["api"] = {{"version", 7}, {"bearer_protection", false}};
  ordered_json out;
  out["agents"] = ordered_json::array({agent});
  return out.dump();
}

std::string renderHealthJson(const SurfaceSnapshot& s) {
  ordered_json j;
  j["status"] = "ok";
  j["link"] = s.state.aclkStatus;
  j["cloud"] = s.state.cloudStatus;
  j["online"] = s.state.online;
  j["streams"] = s.streamsConnected;
  return j.dump();
}

std::string nodeJson(const stream_bridge::NodeView& n) {
  ordered_json j;
  j["machine-guid"] = n.machineGuid;
  j["hostname"] = n.hostname;
  j["version"] = n.version;
  j["os"] = n.os;
  j["hops"] = n.hops;
  j["live"] = n.live;
  j["restored"] = n.restored;
  j["node-id"] = n.nodeId;
  j["ephemeral"] = n.ephemeral;
  j["peer"] = n.peer;
  j["connected-since"] = n.connectedSince ? aclk::formatUtc(n.connectedSince) : "";
  j["disconnected-at"] = n.disconnectedAt ? aclk::formatUtc(n.disconnectedAt) : "";
  j["charts"] = n.charts;
  j["relayed-charts"] = n.relayedCharts;
  j["dimensions"] = n.dimensions;
  j["contexts"] = n.contexts;
  j["host-labels"] = n.hostLabels;
  j["chart-labels"] = n.chartLabels;
  j["contexts-version-hash"] = n.contextsVersionHash;
  // Functions: how many the stream declared; `funcs` and `dyncfg` as announced to the cloud,
  // and why one is off.
  j["functions"] = n.functions;
  j["funcs"] = n.functionsCallable;
  j["funcs-off"] = n.functionsOff;
  j["dyncfg"] = n.dyncfg;
  j["dyncfg-off"] = n.dyncfgOff;
  return j.dump();
}

std::string nodeJson(const stream_bridge::NodeView& n, const NodeExtras& extras) {
  const std::string added = extras ? extras(n.machineGuid) : std::string();
  if (added.empty()) return nodeJson(n);
  auto j = ordered_json::parse(nodeJson(n));
  const auto fields = ordered_json::parse(added, nullptr, false);
  if (fields.is_object()) j.update(fields);
  return j.dump();
}

std::string streamJson(const stream_bridge::StreamView& s) {
  ordered_json j;
  j["peer"] = s.peer;
  j["machine-guid"] = s.machineGuid;
  j["hostname"] = s.hostname;
  j["hops"] = s.hops;
  j["tls"] = s.tls;
  j["compressed"] = s.compression != "none";
  j["compression"] = s.compression;
  // By name, as Netdata logs them, joined by commas so that the text table keeps one word per
  // column; the bits too.
  std::string names;
  for (const auto& name : stream_bridge::capabilityNames(s.capabilities)) {
    names += (names.empty() ? "" : ",") + name;
  }
  j["capabilities"] = names;
  j["capabilities-bits"] = s.capabilities;
  j["since"] = aclk::formatUtc(s.since);
  j["wire-bytes"] = s.wireBytes;
  j["text-bytes"] = s.textBytes;
  j["lines"] = s.lines;
  j["samples"] = s.samples;
  j["malformed-lines"] = s.malformedLines;
  // Rounded: a push goes out when the JSON changes, and a rate with all its decimals always does.
  j["samples-per-second"] = static_cast<int64_t>(s.samplesPerSecond + 0.5);
  return j.dump();
}

std::string streamsArrayJson(std::vector<stream_bridge::StreamView> streams) {
  // A stable order for operators and scripts: by host name, then machine GUID.
  std::sort(streams.begin(), streams.end(), [](const auto& a, const auto& b) {
    return std::tie(a.hostname, a.machineGuid) < std::tie(b.hostname, b.machineGuid);
  });
  ordered_json out = ordered_json::array();
  for (const auto& s : streams) out.push_back(ordered_json::parse(streamJson(s)));
  return out.dump();
}

std::string nodesArrayJson(const std::vector<stream_bridge::NodeView>& nodes,
                           const NodeExtras& extras) {
  ordered_json out = ordered_json::array();
  for (const auto& n : nodes) out.push_back(ordered_json::parse(nodeJson(n, extras)));
  return out.dump();
}

}  // namespace aclkd::daemon
