#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aclk/messages.h"
#include "aclk/node_info.h"

namespace aclkd::aclk {

// A node the link speaks for on behalf of another part (the stream bridge's children).
struct RelayedNode {
  std::string machineGuid;
  std::string hostname;
  std::string agentVersion;  // the child's, e.g. "v1.37.1"
  int hops = 1;
  bool live = true;
  SystemInfo system;
  std::vector<std::pair<std::string, std::string>> hostLabels;
  uint64_t infoVersion = 0;  // changes whenever anything UpdateNodeInfo carries changes
  NodeFeatures features;     // what works for the node now (a change is sent at once)
};

// Contexts of one node and the version hash they add up to (docs/protocol/aclk.md §7.1: the sum
// over non-deleted contexts of version + last_entry - first_entry).
struct ContextBatch {
  std::vector<ContextRecord> contexts;
  uint64_t versionHash = 0;
};

// What the link pulls from the part that owns relayed nodes. Called on the link's thread; the
// implementation guards its own state. The link never keeps references into it.
//
// Pull rather than push: the link asks for contexts only when the cloud wants them (a checkpoint,
// then once a second while streaming is on), so changes between two ticks coalesce in the owner
// and nothing queues up while the link is offline.
class NodeRelaySource {
 public:
  virtual ~NodeRelaySource() = default;
  virtual std::vector<RelayedNode> relayedNodes() = 0;
  // Everything, with its hash; what is returned counts as sent.
  virtual ContextBatch contextsSnapshot(const std::string& machineGuid) = 0;
  // What changed since the last snapshot or update; nullopt when nothing did.
  virtual std::optional<ContextBatch> contextsUpdates(const std::string& machineGuid) = 0;
  // The node's collectors (plugin, module) from its chart definitions; none by default.
  virtual Collectors collectors(const std::string& /*machineGuid*/) { return {}; }
};

// What the link remembers across restarts (the gateway's state store): the node id the cloud gave
// each machine GUID under a claim, and the cloud's last contexts checkpoint per node. With a
// remembered id the link sends UpdateNodeInstanceConnection instead of a new CreateNodeInstance
// (docs/protocol/aclk.md §9 step 2); an id from another claim is not used (a reclaim re-creates
// every node). Called on the link's thread; the implementation never blocks on disk.
class NodeIdMemory {
 public:
  virtual ~NodeIdMemory() = default;
  virtual std::optional<std::string> nodeIdFor(const std::string& machineGuid,
                                               const std::string& claimId) = 0;
  virtual void nodeIdAssigned(const std::string& machineGuid, const std::string& nodeId,
                              const std::string& claimId) = 0;
  virtual void checkpointReceived(const std::string& machineGuid, const std::string& claimId,
                                  uint64_t versionHash) = 0;
};

}  // namespace aclkd::aclk
