// The Gateway's views of the parts it composes: what the operating surface shows (the
// snapshot behind /metrics, /api/v1/aclk, /api/v3/info, the live channels and `aclkctl`), the
// link state view, and the facts the query proxy routes by.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/version.h"
#include <nlohmann/json.hpp>

#include "alerts/alert_relay.h"
#include "daemon/alert_wiring.h"
#include "daemon/cloud_status.h"
#include "daemon/gateway.h"
#include "daemon/metrics.h"
#include "daemon/statistics.h"
#include "daemon/surface_json.h"
#include "web/web_server.h"

namespace aclkd::daemon {

SurfaceSnapshot Gateway::surfaceSnapshot(SurfaceDepth depth) const {
  SurfaceSnapshot s;
  s.state = stateView(depth != SurfaceDepth::kHealth);
  if (depth == SurfaceDepth::kNodes || depth == SurfaceDepth::kNodesAndStreams) {
    s.nodes = registry_->nodes();
  }
  if (depth != SurfaceDepth::kHealth) s.nodeTotals = registry_->totals();
  if (const auto* bridge = this->bridge()) {
    if (depth == SurfaceDepth::kNodesAndStreams) s.streams = bridge->streams();
    if (depth == SurfaceDepth::kCountsAndStreams) {
      s.streamSeries = bridge->streamText(streamSeriesFamilies(), writeStreamSeries);
    }
    s.streamsConnected = bridge->streamingCount();
  }
  s.parts = partReadings();
  s.machineGuid = machineGuid_;
  s.hostname = hostname_;
  s.version = kAclkdVersion;
  // Unclaimed, /api/v3/info shows the URL the gateway would claim to and connect with, as
  // Netdata does: [cloud] url, else cloud.d/cloud.conf's, else the default cloud.
  s.configuredUrl = claims_->snapshot()->cloudUrl;
  if (s.configuredUrl.empty()) s.configuredUrl = std::string(claim::kDefaultCloudUrl);
  s.started = started_;
  s.now = std::time(nullptr);
  if (queryProxy_) {
    s.queryMetrics = queryProxy_->stats().render() + queryProxy_->functionStats().render();
  }
  if (alertRelay_) s.alertMetrics = alertRelay_->stats().render();
  s.nodeExtras = [this](const std::string& guid) { return nodeExtras(guid); };
  return s;
}

PartReadings Gateway::partReadings() const {
  PartSources parts;
  if (const auto* bridge = this->bridge()) {
    parts.bridge = &bridge->counters();
    // web_ is assigned before the bridge is published (startBridge): read only after it.
    parts.web = &web_->counters();
  }
  parts.registry = registry_.get();
  std::optional<store::StoreStats> store;
  if (store_) store = store_->stats();
  if (store) parts.store = &*store;
  return readParts(parts);
}

std::string Gateway::nodeExtras(const std::string& machineGuid) const {
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  addAlertFields(&fields, alertRelay_.get(), machineGuid, config_.options);
  return fields.dump();
}

HistoryFigures Gateway::historyFigures() const {
  HistoryFigures f;
  f.now = std::time(nullptr);
  f.steadySeconds = std::chrono::duration<double>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
  f.childrenOnline = registry_->liveCount();
  if (const auto* bridge = this->bridge()) {
    // Counters and a count that never wait on the stream loops (StreamServer::streams would).
    f.streaming = bridge->streamingCount();
    f.samplesTotal = bridge->counters().samples.load();
    f.streamBytesTotal = bridge->counters().wireBytes.load();
  }
  const auto v = stateView(false);  // once a second: the link's figures, not a row per node
  f.linkOnline = v.online;
  f.reconnects = v.reconnectCount;
  f.linkStatus = v.aclkStatus;
  f.publishLatencyUs = static_cast<uint64_t>(std::max<int64_t>(v.publishLatencyUs, 0));
  f.pendingPubacks = v.pendingPubacks;
  if (queryProxy_) {
    f.queriesTotal = queryProxy_->stats().total();
    f.queryFailuresTotal = queryProxy_->stats().failures();
    f.callsTotal = queryProxy_->functionStats().total();
    f.callFailuresTotal = queryProxy_->functionStats().failures();
  }
  if (alertRelay_) {
    f.alertTransitionsTotal = alertRelay_->stats().transitionsSent.load();
    f.alertNodesRelayed =
        static_cast<uint64_t>(std::max<int64_t>(alertRelay_->stats().nodesRelayed.load(), 0));
  }
  return f;
}

std::vector<query::NodeFacts> Gateway::queryNodes() const {
  aclk::AclkStateView ids;
  aclk::NodeInstanceView selfView;
  selfView.machineGuid = machineGuid_;
  ids.nodes.push_back(selfView);
  if (link_) link_->fillState(&ids);
  std::map<std::string, std::string> nodeIds;  // machine GUID -> node id
  for (const auto& n : ids.nodes) {
    if (n.nodeId) nodeIds[n.machineGuid] = *n.nodeId;
  }
  const auto conf = currentStreamConf();
  std::vector<query::NodeFacts> out;
  query::NodeFacts self;
  self.machineGuid = machineGuid_;
  self.hostname = hostname_;
  self.nodeId = nodeIds[machineGuid_];
  self.self = true;
  self.live = true;
  out.push_back(std::move(self));
  for (const auto& n : registry_->nodes()) {
    query::NodeFacts f;
    f.machineGuid = n.machineGuid;
    f.hostname = n.hostname;
    f.nodeId = nodeIds[n.machineGuid];
    f.live = n.live;
    f.hops = n.hops;
    f.peer = n.peer;
    const auto q = conf->querySettings(n.apiKey, n.machineGuid);
    f.guidQueryUrl = q.guidQueryUrl;
    f.keyQueryUrl = q.keyQueryUrl;
    f.allowQueries = q.allowQueries;
    f.caFile = q.caFile;
    f.insecure = q.insecure;
    f.functions = n.functionsCallable;
    f.functionsOff = n.functionsOff;
    f.functionsForbidden =
        !functionsRefusal(config_.options.functions, q.allowFunctions).empty();
    out.push_back(std::move(f));
  }
  return out;
}

aclk::AclkStateView Gateway::stateView(bool withNodes) const {
  const auto snap = claims_->snapshot();
  aclk::AclkStateView v;
  v.claimed = snap->claimed;
  if (snap->claimed) {
    v.claimedId = snap->claimedId;
    v.cloudUrl = snap->cloudUrl;
  }
  v.proxyDisplay = snap->proxy.display();
  aclk::NodeInstanceView self;
  self.hostname = hostname_;
  self.machineGuid = machineGuid_;
  if (snap->claimed) {
    self.claimedId = snap->claimedId;
  }
  v.nodes.push_back(self);
  if (link_) {
    link_->fillState(&v, withNodes);
  }
  addPartCounters(partReadings(), &v);
  applyCloudStatus({config_.options.cloudEnabled, snap->claimed, snap->blockedReason,
                    snap->claimFailureReason},
                   &v);
  return v;
}

std::string Gateway::aclkStateJson() const { return aclk::renderAclkStateJson(stateView()); }

std::string Gateway::streamsJson() const {
  const auto* bridge = this->bridge();
  return streamsArrayJson(bridge ? bridge->streams() : std::vector<stream_bridge::StreamView>{});
}

std::string Gateway::nodesJson() const {
  return nodesArrayJson(registry_->nodes(),
                        [this](const std::string& guid) { return nodeExtras(guid); });
}

}  // namespace aclkd::daemon
