#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aclk/node_relay.h"

namespace aclkd::daemon {

// The link's relay source with each node's `health` feature filled in: the registry (which knows
// streams, not alerts) wrapped, so that stream_bridge/ needs no knowledge of the alert relay.
// `health` is on exactly while the alert relay relays the node (docs/protocol/alerts.md §6).
class RelayFeatures : public aclk::NodeRelaySource {
 public:
  using HealthOf = std::function<bool(const std::string& machineGuid)>;
  RelayFeatures(std::shared_ptr<aclk::NodeRelaySource> inner, HealthOf health)
      : inner_(std::move(inner)), health_(std::move(health)) {}

  std::vector<aclk::RelayedNode> relayedNodes() override;
  aclk::ContextBatch contextsSnapshot(const std::string& machineGuid) override {
    return inner_->contextsSnapshot(machineGuid);
  }
  std::optional<aclk::ContextBatch> contextsUpdates(const std::string& machineGuid) override {
    return inner_->contextsUpdates(machineGuid);
  }
  aclk::Collectors collectors(const std::string& machineGuid) override {
    return inner_->collectors(machineGuid);
  }

 private:
  std::shared_ptr<aclk::NodeRelaySource> inner_;
  HealthOf health_;
};

}  // namespace aclkd::daemon
