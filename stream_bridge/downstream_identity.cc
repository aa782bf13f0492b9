#include "stream_bridge/downstream_identity.h"

#include "common/uuid.h"
#include "stream_bridge/handshake.h"

namespace aclkd::stream_bridge {

std::vector<std::string> DownstreamIdentity::commands(const CloudIdentity& id,
                                                      const GatewayHop& gateway) {
  std::vector<std::string> out;
  const auto node = id.nodeIds.find(machineGuid_);
  if ((negotiated_ & cap::kNodeId) && node != id.nodeIds.end() && isUuid(node->second) &&
      isUuid(id.claimId)) {
    std::string line = nodeIdCommand(id.claimId, node->second, id.cloudUrl);
    if (line != sentNodeId_) {
      sentNodeId_ = line;
      out.push_back(std::move(line));
    }
  }
  if ((negotiated_ & cap::kPaths) && childPath_) {
    PathHop self;
    self.hostname = gateway.hostname;
    self.hostId = gateway.machineGuid;
    const auto own = id.nodeIds.find(self.hostId);
    self.nodeId = own != id.nodeIds.end() ? own->second : std::string(kZeroUuid);
    self.claimId = isUuid(id.claimId) ? id.claimId : std::string(kZeroUuid);
    self.hops = hops_;
    self.since = static_cast<uint64_t>(since_);
    self.startTime = gateway.startedMs;
    self.capabilities = capabilityNames(gateway.capabilities);
    if (isUuid(id.claimId)) self.flags.emplace_back("aclk");
    std::string payload = renderStreamPath(*childPath_, self);
    if (payload != sentPath_) {
      sentPath_ = payload;
      out.push_back(streamPathBlock(payload));
    }
  }
  return out;
}

}  // namespace aclkd::stream_bridge
