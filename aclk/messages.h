#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aclk/alarm_source.h"
#include "aclk/node_info.h"
#include "common/context_record.h"

namespace aclkd::aclk {

// The wall clock in microseconds since the epoch: message timestamps and session ids.
int64_t unixTimeUs();

// Encoders and the inbound decoder for the protobuf messages of docs/protocol/aclk.md §7. Plain
// structs in, serialized bytes out: only messages.cc includes the generated protobuf headers, so
// the link and the bridge compile without them.

std::string encodeUpdateAgentConnection(const std::string& claimId, bool reachable,
                                        int64_t sessionId, bool lwt, int64_t nowUs,
                                        const NodeFeatures& gateway = {});

std::string encodeCreateNodeInstance(const std::string& claimId, const std::string& machineGuid,
                                     const std::string& hostname, int hops);

std::string encodeUpdateNodeInstanceConnection(const std::string& claimId,
                                               const std::string& nodeId, bool liveness,
                                               int64_t sessionId, int hops,
                                               const NodeFeatures& features, int64_t nowUs,
                                               bool queryable = true);

struct NodeInfoFields {
  std::string claimId;
  std::string nodeId;
  std::string machineGuid;
  std::string hostname;
  std::string version;         // the gateway's or the child's agent version
  std::string releaseChannel;  // "stable"
  bool child = false;
  SystemInfo system;
  std::vector<std::pair<std::string, std::string>> hostLabels;
  NodeFeatures gateway;   // agent-level capabilities
  NodeFeatures features;  // the node's own
};
std::string encodeUpdateNodeInfo(const NodeInfoFields& fields, int64_t nowUs);
// The collectors behind a node's charts, as UpdateNodeCollectors carries them: (plugin, module)
// pairs, each once, in a stable order.
using Collectors = std::vector<std::pair<std::string, std::string>>;
// `node-instance-collectors` (§9 step 4).
std::string encodeUpdateNodeCollectors(const std::string& claimId, const std::string& nodeId,
                                       const Collectors& collectors);

std::string encodeContextsSnapshot(const std::string& claimId, const std::string& nodeId,
                                   uint64_t versionHash, const std::vector<ContextRecord>& contexts);
std::string encodeContextsUpdated(const std::string& claimId, const std::string& nodeId,
                                  uint64_t versionHash, uint64_t createdAt,
                                  const std::vector<ContextRecord>& contexts);

// `alarm-log-v2`: one alert transition of a relayed node; its alert_version is its `when`
// (docs/protocol/alerts.md §4).
std::string encodeAlarmLogEntry(const std::string& claimId, const std::string& nodeId,
                                const AlarmEntry& entry);
// `alarm-snapshot-v2`: chunk `chunk` (1-based) of `chunks`, carrying `entries`.
std::string encodeAlarmSnapshot(const std::string& claimId, const std::string& nodeId,
                                const std::string& snapshotUuid, uint32_t chunks, uint32_t chunk,
                                const AlarmEntry* entries, size_t count);
// `alarm-config`: the definition behind `configHash`; an empty configuration when unknown.
std::string encodeProvideAlarmConfiguration(const std::string& configHash,
                                            const AlarmConfig* config = nullptr);

// One decoded cloud→agent message (docs/protocol/aclk.md §7.2), flattened: only the fields of
// `type` are set.
struct InboundMessage {
  enum class Kind {
    kSendNodeInstances,
    kCreateNodeInstanceResult,
    kContextsCheckpoint,
    kStopStreamingContexts,
    kStartAlarmStreaming,
    kSendAlarmCheckpoint,
    kSendAlarmConfiguration,
    kSendAlarmSnapshot,
    kDisconnectReq,
    kCancelPendingRequest,
    kObsolete,
    kUnknown,
  } kind = Kind::kUnknown;
  std::string claimId;
  std::string nodeId;
  std::string machineGuid;
  uint64_t versionHash = 0;  // ContextsCheckpoint.version_hash, alarm `version`
  uint64_t reconnectAfterSeconds = 0;
  bool permaban = false;
  uint32_t errorCode = 0;
  std::string errorDescription;
  std::string requestId;
  std::string configHash;
};

// Decodes `payload` as the message named by `type` (the topic suffix). Returns false with `error`
// naming the type when the bytes do not parse; unknown and obsolete types decode to kUnknown /
// kObsolete without error.
bool decodeInbound(std::string_view type, std::string_view payload, InboundMessage* out,
                   std::string* error);

}  // namespace aclkd::aclk
