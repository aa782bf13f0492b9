// What the operating surface reads of the registry: views of the hosts and counts. Nothing here
// changes the registry; each takes the lock once and copies what it returns.

#include "stream_bridge/node_registry.h"
#include "stream_bridge/registry_types.h"

namespace aclkd::stream_bridge {

NodeRegistry::HostStatus NodeRegistry::hostStatus(const std::string& machineGuid) const {
  std::lock_guard lock(mutex_);
  HostStatus s;
  s.hosts = nodes_.size();
  if (const auto it = nodes_.find(machineGuid); it != nodes_.end()) {
    s.known = true;
    s.live = it->second->info.live;
    s.firstSeen = it->second->firstSeen;
    s.lastSeen = s.live ? 0 : it->second->disconnectedAt;
  }
  return s;
}


std::vector<NodeView> NodeRegistry::nodes() const {
  std::lock_guard lock(mutex_);
  std::vector<NodeView> out;
  for (const auto& [guid, np] : nodes_) {
    const Node& n = *np;
    NodeView v;
    v.machineGuid = guid;
    v.hostname = n.info.hostname;
    v.version = n.info.agentVersion;
    v.os = n.os;
    v.hops = n.info.hops;
    v.live = n.info.live;
    v.ephemeral = n.ephemeral;
    v.peer = n.peer;
    v.apiKey = n.apiKey;
    v.connectedSince = n.connectedSince;
    v.disconnectedAt = n.disconnectedAt;
    v.restored = n.restored;
    if (store_) {
      if (auto id = store_->nodeIdOf(guid)) v.nodeId = id->nodeId;
    }
    v.charts = n.charts.size();
    for (const auto& c : n.charts) {
      v.relayedCharts += c.relayed ? 1 : 0;
      v.dimensions += pools_->dims[n.charts.def(c).dims].size();
    }
    v.contexts = n.definedContexts;  // kept as contexts become defined (no walk)
    v.hostLabels = n.hostLabels.size();
    v.chartLabels = n.chartLabels;
    for (const auto& c : n.contexts) {
      if (c.defined() && !c.deleted) {
        v.contextsVersionHash += versionHashOf(c.version, c.first, c.last);
      }
    }
    const auto fs = functionState(n);
    v.functions = n.functions.size();
    v.functionsCallable = fs.features.functions;
    v.functionsOff = fs.functionsOff;
    v.dyncfg = fs.features.dyncfg;
    v.dyncfgOff = fs.dyncfgOff;
    v.streamCapabilities = n.streamCapabilities;
    out.push_back(std::move(v));
  }
  return out;
}

size_t NodeRegistry::liveCount() const {
  std::lock_guard lock(mutex_);
  return liveNodes_;
}

NodeRegistry::Totals NodeRegistry::totals() const {
  std::lock_guard lock(mutex_);
  return {nodes_.size(), liveNodes_, definedContexts_};
}

}  // namespace aclkd::stream_bridge
