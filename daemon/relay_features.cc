#include "daemon/relay_features.h"

namespace aclkd::daemon {

std::vector<aclk::RelayedNode> RelayFeatures::relayedNodes() {
  auto nodes = inner_->relayedNodes();
  for (auto& n : nodes) n.features.health = health_ && health_(n.machineGuid);
  return nodes;
}

}  // namespace aclkd::daemon
