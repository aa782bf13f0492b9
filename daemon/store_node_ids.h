#pragma once

#include <ctime>
#include <memory>

#include "aclk/node_relay.h"
#include "store/state_store.h"

namespace aclkd::daemon {

// The link's node-id memory, kept in the state store (in memory for reads, batched to disk).
class StoreNodeIds : public aclk::NodeIdMemory {
 public:
  explicit StoreNodeIds(std::shared_ptr<store::StateStore> store) : store_(std::move(store)) {}
  std::optional<std::string> nodeIdFor(const std::string& machineGuid,
                                       const std::string& claimId) override {
    return store_->nodeIdFor(machineGuid, claimId);
  }
  void nodeIdAssigned(const std::string& machineGuid, const std::string& nodeId,
                      const std::string& claimId) override {
    store_->putNodeId(machineGuid, store::NodeIdRecord{nodeId, claimId});
  }
  void checkpointReceived(const std::string& machineGuid, const std::string& claimId,
                          uint64_t versionHash) override {
    store_->putCheckpoint(machineGuid,
                          store::CheckpointRecord{claimId, versionHash, std::time(nullptr)});
  }

 private:
  std::shared_ptr<store::StateStore> store_;
};

}  // namespace aclkd::daemon
