#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stream_bridge/stream_path.h"

namespace aclkd::stream_bridge {

// What a v2 parent passes down to its children (NODE_ID, the gateway's hop in STREAM_PATH).
struct CloudIdentity {
  std::string claimId;   // "" when unclaimed
  std::string cloudUrl;
  std::map<std::string, std::string> nodeIds;  // machine GUID -> the cloud's node id
  bool operator==(const CloudIdentity&) const = default;
};

// The gateway's own hop, as it adds itself to a child's stream path.
struct GatewayHop {
  std::string hostname;
  std::string machineGuid;
  int64_t startedMs = 0;
  uint64_t capabilities = 0;  // what the gateway implements (names go in the path)
};

// What one stream's child is told about its cloud identity, as a v2 parent tells it: NODE_ID
// once the cloud gave the host a node id (again if it changes), with the NODE_ID capability; the
// child's stream path with the gateway's hop once the child sent its own (again when either
// changes), with PATHS. Each command is made once per change.
class DownstreamIdentity {
 public:
  DownstreamIdentity(std::string machineGuid, int hops, uint64_t negotiated, std::time_t since)
      : machineGuid_(std::move(machineGuid)), hops_(hops), negotiated_(negotiated),
        since_(since) {}

  void setChildPath(std::vector<PathHop> hops) { childPath_ = std::move(hops); }
  // The lines to send now (none when nothing changed).
  std::vector<std::string> commands(const CloudIdentity& id, const GatewayHop& self);

 private:
  std::string machineGuid_;
  int hops_ = 0;
  uint64_t negotiated_ = 0;
  std::time_t since_ = 0;
  std::optional<std::vector<PathHop>> childPath_;  // the child's STREAM_PATH, once sent
  std::string sentNodeId_;  // the NODE_ID line last sent
  std::string sentPath_;    // the path payload last sent back
};

}  // namespace aclkd::stream_bridge
