#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aclk/aclk_state_view.h"
#include "aclk/node_info.h"
#include "aclk/node_relay.h"
#include "aclk/topics.h"

namespace aclkd::aclk {

// A node the link speaks for: the gateway itself, and the stream bridge's children.
struct NodeRecord {
  std::string machineGuid;
  std::string hostname;
  int hops = 0;
  bool self = true;
  std::optional<std::string> nodeId;
  std::string nodeIdClaim;  // the claim nodeId was issued under
  bool liveness = true;
  bool contextsStreaming = false;
  std::optional<RelayedNode> relayed;  // children: what UpdateNodeInfo carries
  int64_t createSentInSession = 0;     // CreateNodeInstance is asked once per session
  int64_t collectorsDueUs = 0;         // UpdateNodeCollectors pending, due then (0: none)
};

// The gateway's own node, as the link's options describe it.
struct SelfNode {
  std::string machineGuid;
  std::string hostname;
  std::string agentVersion;  // with the leading 'v'
  // The proxy kind for the gateway's host labels (docs/protocol/aclk.md §11.6), read at each
  // UpdateNodeInfo.
  std::function<std::string()> proxyLabel;
  NodeFeatures gateway;  // agent-level capabilities (LinkOptions::gatewayFeatures)
};

// The node-table half of the link (docs/protocol/aclk.md §9): which nodes exist, their node ids,
// liveness, info and context streaming, and the messages that keep the cloud's node instances in
// line with them (CreateNodeInstance, UpdateNodeInstanceConnection, UpdateNodeInfo,
// ContextsUpdated). The link keeps the connection state machine and hands this a publish function
// and, per session, the claim id and session id. Runs on the link's thread; the table has its own
// lock so that fillState() may read it from any thread.
class NodeSync {
 public:
  // Returns the publish id, 0 when the message was not sent (offline, no topic, queue full).
  using Publish = std::function<uint64_t(TopicId, const std::string&)>;
  NodeSync(SelfNode self, Publish publish);

  // Set before the link starts, then read-only.
  void setRelaySource(std::shared_ptr<NodeRelaySource> source) { relaySource_ = std::move(source); }
  void setNodeIdMemory(std::shared_ptr<NodeIdMemory> memory) { nodeIds_ = std::move(memory); }

  // An MQTT connection is about to start under this claim: ids of another claim are forgotten
  // (a reclaim re-creates every node).
  void beginSession(const std::string& claimId, int64_t sessionId);
  // CONNACK: no node streams contexts yet; the table is brought in line with the relay source
  // without sending (SendNodeInstances, which follows, sends everything).
  void connected();
  // Brings the table in line with the relay source. Online, a new node is created at the cloud,
  // a changed one updated, and a gone one reported dead before it is forgotten; offline only the
  // table changes.
  void sync(bool online);
  // Once a second while online: the context changes of every streaming child.
  void streamContextUpdates();
  // Once a second while online: UpdateNodeCollectors for the children whose info went out at
  // least kCollectorsDelay ago, as a Netdata parent sends it (docs/protocol/aclk.md §9 step 4).
  void sendDueCollectors();
  static constexpr int64_t kCollectorsDelayUs = 30'000'000;
  // Tests: the clock in µs since the epoch (default: the wall clock).
  void setClock(std::function<int64_t()> nowUs) { nowUs_ = std::move(nowUs); }

  // What the inbound handlers ask for (see InboundContext).
  void sendAllNodeStates();
  bool assignNodeId(const std::string& machineGuid, const std::string& nodeId);
  std::optional<ContextBatch> contextsOfNode(const std::string& nodeId);
  void setContextsStreaming(const std::string& nodeId, bool streaming);
  void checkpointReceived(const std::string& nodeId, uint64_t versionHash);

  // Node ids of the listed nodes, and a row for every child. Any thread.
  void fillNodes(AclkStateView* view) const;
  // Machine GUID → node id, for the nodes that have one: what the bridge passes down to v2
  // children, polled once a second, so without building every node's view. Any thread.
  std::map<std::string, std::string> nodeIds() const;

 private:
  void sendNodeState(const NodeRecord& node);
  std::map<std::string, NodeRecord> nodesCopy() const;
  int64_t now() const;
  std::optional<NodeRecord> nodeById(const std::string& nodeId) const;
  const SystemInfo& systemInfo();

  const SelfNode self_;
  const Publish publish_;
  std::shared_ptr<NodeRelaySource> relaySource_;
  std::shared_ptr<NodeIdMemory> nodeIds_;
  // Link-thread only.
  std::string claimId_;
  int64_t sessionId_ = 0;
  std::optional<SystemInfo> system_;
  std::function<int64_t()> nowUs_;

  mutable std::mutex mutex_;
  std::map<std::string, NodeRecord> nodes_;
};

}  // namespace aclkd::aclk
