#include "aclk/alarm_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "aclk/messages.h"
#include "common/uuid.h"

namespace aclkd::aclk {
namespace {

// Transitions published per node and tick: a node with a burst gets the rest on the next tick,
// so one node cannot hold the link's thread.
constexpr size_t kPendingPerTick = 500;

}  // namespace

void AlarmSync::beginSession(const std::string& claimId) {
  claimId_ = claimId;
  streaming_.clear();
  deferred_.clear();
}

void AlarmSync::versionCheck(const std::string& nodeId, uint64_t cloudVersion, bool start) {
  // A node whose alerts are not relayed advertises `health` disabled: like an agent with health
  // off, it answers nothing (no empty snapshot).
  if (!source_) return;
  if (!source_->relays(nodeId)) {
    if (start) deferred_[nodeId] = cloudVersion;
    return;
  }
  deferred_.erase(nodeId);
  const uint64_t local = source_->version(nodeId);
  if (needsSnapshot(cloudVersion, local)) {
    spdlog::info("ACLK: alert version of node {} is {} in the cloud, {} here: sending a snapshot",
                 nodeId, cloudVersion, local);
    sendSnapshot(nodeId);
  }
  if (start) streaming_.insert(nodeId);
}

void AlarmSync::snapshotRequested(const std::string& nodeId) {
  if (!source_ || !source_->relays(nodeId)) return;
  sendSnapshot(nodeId);
}

void AlarmSync::sendSnapshot(const std::string& nodeId) {
  const auto entries = source_->snapshot(nodeId);
  if (entries.empty()) return;  // a node with no alerts sends no snapshot at all
  const std::string uuid = newUuid();
  const auto chunks = static_cast<uint32_t>((entries.size() + kSnapshotChunk - 1) / kSnapshotChunk);
  for (uint32_t c = 0; c < chunks; ++c) {
    const size_t first = c * kSnapshotChunk;
    const size_t count = std::min(kSnapshotChunk, entries.size() - first);
    publish_(TopicId::kAlarmSnapshotV2,
             encodeAlarmSnapshot(claimId_, nodeId, uuid, chunks, c + 1, entries.data() + first,
                                 count));
  }
  ++snapshotsSent_;
}

void AlarmSync::configurationRequested(const std::string& configHash,
                                       std::function<void(AlarmConfigAnswer)> deliver) {
  if (!source_) {
    publishConfiguration(AlarmConfigAnswer{configHash, std::nullopt});
    return;
  }
  source_->configuration(configHash, [configHash, deliver = std::move(deliver)](
                                         std::optional<AlarmConfig> config) {
    deliver(AlarmConfigAnswer{configHash, std::move(config)});
  });
}

void AlarmSync::publishConfiguration(const AlarmConfigAnswer& answer) {
  if (!answer.config) {
    spdlog::warn("ACLK: no relayed agent knows alert configuration {}; answering it empty",
                 answer.configHash);
  }
  publish_(TopicId::kAlarmConfig,
           encodeProvideAlarmConfiguration(answer.configHash,
                                           answer.config ? &*answer.config : nullptr));
}

void AlarmSync::streamPending() {
  if (!source_) return;
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    if (!source_->relays(it->first)) {
      ++it;
      continue;
    }
    const auto [nodeId, version] = *it;
    it = deferred_.erase(it);
    versionCheck(nodeId, version, true);
  }
  for (const auto& nodeId : streaming_) {
    const auto entries = source_->pending(nodeId, kPendingPerTick);
    size_t sent = 0;
    for (const auto& e : entries) {
      if (publish_(TopicId::kAlarmLogV2, encodeAlarmLogEntry(claimId_, nodeId, e)) == 0) break;
      ++sent;
    }
    if (sent > 0) source_->sent(nodeId, entries[sent - 1].cursor);
    entriesSent_ += sent;
  }
}

}  // namespace aclkd::aclk
