#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <set>
#include <string>

#include "aclk/alarm_source.h"
#include "aclk/topics.h"

namespace aclkd::aclk {

// The link's side of the cloud's alert conversation (docs/protocol/aclk.md §7.2,
// docs/protocol/alerts.md §4): version checks, snapshots in chunks, streaming the relay's
// transitions and configuration answers. Link-thread only; the alert data itself stays in the
// AlarmSource.
class AlarmSync {
 public:
  // Returns the publish id, 0 when the message was not sent.
  using Publish = std::function<uint64_t(TopicId, const std::string&)>;
  static constexpr size_t kSnapshotChunk = 1000;  // entries per AlarmSnapshot, as agents send

  explicit AlarmSync(Publish publish) : publish_(std::move(publish)) {}

  // Set before the link starts; without one no node has alerts (nothing is ever sent).
  void setSource(std::shared_ptr<AlarmSource> source) { source_ = std::move(source); }
  // A new MQTT session: the cloud asks again which nodes to stream.
  void beginSession(const std::string& claimId);

  // The version rule (docs/protocol/alerts.md §4): 1 skips verification; any other version
  // that is not the local one is out of sync.
  static bool needsSnapshot(uint64_t cloudVersion, uint64_t localVersion) {
    return cloudVersion != 1 && cloudVersion != localVersion;
  }

  // StartAlarmStreaming (start = true) and SendAlarmCheckpoint: a snapshot when out of sync;
  // StartAlarmStreaming also starts the node's transitions. A StartAlarmStreaming for a node
  // whose alerts are not relayed yet (its first health check or its node id still on the way)
  // is kept and carried out once they are.
  void versionCheck(const std::string& nodeId, uint64_t cloudVersion, bool start);
  // SendAlarmSnapshot.
  void snapshotRequested(const std::string& nodeId);
  // SendAlarmConfiguration: the source looks the hash up; `deliver` brings the answer back to
  // the link's thread, where publishConfiguration sends it.
  void configurationRequested(const std::string& configHash,
                              std::function<void(AlarmConfigAnswer)> deliver);
  void publishConfiguration(const AlarmConfigAnswer& answer);
  // Once a second while online: pending transitions of every streaming node.
  void streamPending();

  uint64_t snapshotsSent() const { return snapshotsSent_; }
  uint64_t entriesSent() const { return entriesSent_; }

 private:
  void sendSnapshot(const std::string& nodeId);

  Publish publish_;
  std::shared_ptr<AlarmSource> source_;
  std::string claimId_;
  std::set<std::string> streaming_;  // node ids the cloud asked to stream this session
  std::map<std::string, uint64_t> deferred_;  // node id -> version, asked before it was relayed
  uint64_t snapshotsSent_ = 0;
  uint64_t entriesSent_ = 0;
};

}  // namespace aclkd::aclk
