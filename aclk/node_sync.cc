#include "aclk/node_sync.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "aclk/messages.h"

namespace aclkd::aclk {

NodeSync::NodeSync(SelfNode self, Publish publish)
    : self_(std::move(self)), publish_(std::move(publish)) {
  NodeRecord n;
  n.machineGuid = self_.machineGuid;
  n.hostname = self_.hostname;
  nodes_[n.machineGuid] = n;
}

void NodeSync::beginSession(const std::string& claimId, int64_t sessionId) {
  claimId_ = claimId;
  sessionId_ = sessionId;
  size_t forgotten = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& [guid, n] : nodes_) {
      if (n.nodeId && n.nodeIdClaim != claimId_) {
        n.nodeId.reset();
        ++forgotten;
      }
    }
  }
  if (forgotten) {
    spdlog::info("ACLK: the claimed id changed; {} nodes will be created under the new claim",
                 forgotten);
  }
}

void NodeSync::connected() {
  {
    std::lock_guard lock(mutex_);
    for (auto& [guid, n] : nodes_) n.contextsStreaming = false;
  }
  sync(false);
}

void NodeSync::sendNodeState(const NodeRecord& node) {
  NodeRecord n = node;
  if (!n.nodeId && nodeIds_) {
    // Known from an earlier run: no new CreateNodeInstance (docs/protocol/aclk.md §9 step 2).
    if (auto id = nodeIds_->nodeIdFor(n.machineGuid, claimId_)) {
      n.nodeId = *id;
      n.nodeIdClaim = claimId_;
      std::lock_guard lock(mutex_);
      auto it = nodes_.find(n.machineGuid);
      if (it != nodes_.end()) {
        it->second.nodeId = n.nodeId;
        it->second.nodeIdClaim = claimId_;
      }
    }
  }
  if (!n.nodeId) {
    bool asked = false;
    {
      std::lock_guard lock(mutex_);
      auto it = nodes_.find(n.machineGuid);
      if (it == nodes_.end()) return;
      asked = it->second.createSentInSession == sessionId_;
      it->second.createSentInSession = sessionId_;
    }
    if (asked) return;  // the answer is on its way; it triggers the rest
    publish_(TopicId::kCreateNodeInstance,
             encodeCreateNodeInstance(claimId_, n.machineGuid, n.hostname, n.hops));
    return;
  }
  // The gateway's own node relays nothing for itself; a child's features come with it.
  const NodeFeatures features = n.relayed ? n.relayed->features : NodeFeatures{};
  publish_(TopicId::kNodeInstanceConnection,
           encodeUpdateNodeInstanceConnection(claimId_, *n.nodeId, n.liveness, sessionId_,
                                              n.hops, features, unixTimeUs()));
  NodeInfoFields f;
  f.claimId = claimId_;
  f.nodeId = *n.nodeId;
  f.machineGuid = n.machineGuid;
  f.hostname = n.hostname;
  f.releaseChannel = "stable";
  f.child = !n.self;
  f.gateway = self_.gateway;
  f.features = features;
  if (n.relayed) {
    f.version = n.relayed->agentVersion;
    f.system = n.relayed->system;
    f.hostLabels = n.relayed->hostLabels;
  } else {
    f.version = self_.agentVersion;
    f.system = systemInfo();
    const std::string proxyLabel = self_.proxyLabel ? self_.proxyLabel() : "none";
    for (const auto& label : aclkHostLabels(proxyLabel)) {
      f.hostLabels.push_back(label);
    }
  }
  publish_(TopicId::kNodeInstanceInfo, encodeUpdateNodeInfo(f, unixTimeUs()));
  if (n.self) return;  // the gateway collects nothing itself
  // Collectors follow the info after 30 s, when the child's charts are defined (Netdata's
  // parent does the same); a newer info moves the date.
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(n.machineGuid);
  if (it != nodes_.end()) it->second.collectorsDueUs = now() + kCollectorsDelayUs;
}

int64_t NodeSync::now() const { return nowUs_ ? nowUs_() : unixTimeUs(); }

void NodeSync::sendDueCollectors() {
  if (!relaySource_) return;
  const int64_t t = now();
  std::vector<NodeRecord> due;
  {
    std::lock_guard lock(mutex_);
    for (auto& [guid, n] : nodes_) {
      if (n.collectorsDueUs == 0 || n.collectorsDueUs > t || !n.nodeId) continue;
      n.collectorsDueUs = 0;
      due.push_back(n);
    }
  }
  for (const auto& n : due) {
    publish_(TopicId::kNodeInstanceCollectors,
             encodeUpdateNodeCollectors(claimId_, *n.nodeId,
                                        relaySource_->collectors(n.machineGuid)));
  }
}

void NodeSync::sync(bool online) {
  if (!relaySource_) return;
  std::map<std::string, RelayedNode> fresh;
  for (auto& r : relaySource_->relayedNodes()) {
    if (r.machineGuid == self_.machineGuid) continue;  // never shadow the gateway itself
    std::string guid = r.machineGuid;
    fresh.emplace(std::move(guid), std::move(r));
  }
  std::vector<NodeRecord> toSend;
  std::vector<NodeRecord> gone;
  {
    std::lock_guard lock(mutex_);
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      if (!it->second.self && !fresh.count(it->first)) {
        gone.push_back(it->second);
        it = nodes_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [guid, r] : fresh) {
      auto it = nodes_.find(guid);
      if (it == nodes_.end()) {
        NodeRecord n;
        n.machineGuid = guid;
        n.hostname = r.hostname;
        n.hops = r.hops;
        n.self = false;
        n.liveness = r.live;
        n.relayed = r;
        nodes_[guid] = n;
        toSend.push_back(n);
        continue;
      }
      auto& n = it->second;
      const bool changed = n.liveness != r.live || !n.relayed ||
                           n.relayed->infoVersion != r.infoVersion ||
                           n.relayed->features != r.features;
      n.liveness = r.live;
      n.hostname = r.hostname;
      n.hops = r.hops;
      n.relayed = r;
      if (changed) toSend.push_back(n);
    }
  }
  if (!online) return;
  for (const auto& n : toSend) sendNodeState(n);
  // Gone for good (ephemeral cleanup, remove-stale-node): neither live nor queryable, as
  // Netdata's unregister does.
  for (const auto& n : gone) {
    if (!n.nodeId) continue;
    publish_(TopicId::kNodeInstanceConnection,
             encodeUpdateNodeInstanceConnection(claimId_, *n.nodeId, false, sessionId_, n.hops,
                                                NodeFeatures{}, unixTimeUs(), false));
  }
}

void NodeSync::streamContextUpdates() {
  if (!relaySource_) return;
  for (const auto& [guid, n] : nodesCopy()) {
    if (n.self || !n.nodeId || !n.contextsStreaming) continue;
    auto batch = relaySource_->contextsUpdates(guid);
    if (!batch) continue;
    publish_(TopicId::kContextsUpdated,
             encodeContextsUpdated(claimId_, *n.nodeId, batch->versionHash,
                                   static_cast<uint64_t>(unixTimeUs()), batch->contexts));
  }
}

void NodeSync::sendAllNodeStates() {
  for (auto& [guid, n] : nodesCopy()) sendNodeState(n);
}

bool NodeSync::assignNodeId(const std::string& machineGuid, const std::string& nodeId) {
  std::optional<NodeRecord> node;
  {
    std::lock_guard lock(mutex_);
    auto it = nodes_.find(machineGuid);
    if (it != nodes_.end()) {
      it->second.nodeId = nodeId;
      it->second.nodeIdClaim = claimId_;
      node = it->second;
    }
  }
  if (!node) return false;
  if (nodeIds_) nodeIds_->nodeIdAssigned(machineGuid, nodeId, claimId_);
  spdlog::info("ACLK: node \"{}\" has node id {}", node->hostname, nodeId);
  sendNodeState(*node);
  return true;
}

std::optional<ContextBatch> NodeSync::contextsOfNode(const std::string& nodeId) {
  auto node = nodeById(nodeId);
  if (!node) return std::nullopt;
  // The gateway's own node has no contexts: its version hash is 0.
  ContextBatch batch;
  if (!node->self && relaySource_) batch = relaySource_->contextsSnapshot(node->machineGuid);
  return batch;
}

void NodeSync::setContextsStreaming(const std::string& nodeId, bool streaming) {
  // One locked pass: a node removed meanwhile is not brought back by the write.
  std::lock_guard lock(mutex_);
  for (auto& [guid, n] : nodes_) {
    if (n.nodeId == nodeId) n.contextsStreaming = streaming;
  }
}

void NodeSync::checkpointReceived(const std::string& nodeId, uint64_t versionHash) {
  auto node = nodeById(nodeId);
  if (node && nodeIds_) nodeIds_->checkpointReceived(node->machineGuid, claimId_, versionHash);
}

void NodeSync::fillNodes(AclkStateView* v) const {
  std::lock_guard lock(mutex_);
  for (auto& node : v->nodes) {
    auto it = nodes_.find(node.machineGuid);
    if (it != nodes_.end()) {
      node.nodeId = it->second.nodeId;
    }
  }
  for (const auto& [guid, n] : nodes_) {
    if (n.self) continue;
    NodeInstanceView child;
    child.hostname = n.hostname;
    child.machineGuid = guid;
    child.claimedId = v->claimedId;
    child.nodeId = n.nodeId;
    child.streamingHops = n.hops;
    child.self = false;
    child.streamingOnline = n.liveness;
    v->nodes.push_back(std::move(child));
  }
}

std::map<std::string, std::string> NodeSync::nodeIds() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> out;
  for (const auto& [guid, n] : nodes_) {
    if (n.nodeId) out.emplace_hint(out.end(), guid, *n.nodeId);
  }
  return out;
}

std::map<std::string, NodeRecord> NodeSync::nodesCopy() const {
  std::lock_guard lock(mutex_);
  return nodes_;
}

std::optional<NodeRecord> NodeSync::nodeById(const std::string& nodeId) const {
  std::lock_guard lock(mutex_);
  std::optional<NodeRecord> out;
  for (const auto& [guid, n] : nodes_) {
    if (n.nodeId && *n.nodeId == nodeId) out = n;
  }
  return out;
}

const SystemInfo& NodeSync::systemInfo() {
  if (!system_) system_ = probeSystemInfo();
  return *system_;
}

}  // namespace aclkd::aclk
