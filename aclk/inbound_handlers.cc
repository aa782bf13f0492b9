#include "aclk/inbound_handlers.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "aclk/reconnect_schedule.h"
#include "common/untrusted_text.h"

namespace aclkd::aclk {

InboundOutcome handleSendNodeInstances(const InboundMessage&, InboundContext& ctx) {
  ctx.sendAllNodeStates();
  return InboundOutcome::kHandled;
}

InboundOutcome handleCreateNodeInstanceResult(const InboundMessage& msg, InboundContext& ctx) {
  if (!ctx.assignNodeId(msg.machineGuid, msg.nodeId)) {
    spdlog::warn("ACLK: CreateNodeInstanceResult for unknown machine GUID \"{}\"",
                 msg.machineGuid);
  }
  return InboundOutcome::kHandled;
}

InboundOutcome handleContextsCheckpoint(const InboundMessage& msg, InboundContext& ctx) {
  const auto batch = msg.claimId == ctx.claimId()
                         ? ctx.contextsOfNode(msg.nodeId)
                         : std::nullopt;
  if (!batch) {
    spdlog::warn("ACLK: ContextsCheckpoint for claim \"{}\" node \"{}\" is not ours; ignored",
                 msg.claimId, msg.nodeId);
    return InboundOutcome::kHandled;
  }
  if (msg.versionHash != batch->versionHash) {
    ctx.publish(TopicId::kContextsSnapshot,
                encodeContextsSnapshot(ctx.claimId(), msg.nodeId, batch->versionHash,
                                       batch->contexts));
  }
  ctx.setContextsStreaming(msg.nodeId, true);
  ctx.checkpointReceived(msg.nodeId, msg.versionHash);
  return InboundOutcome::kHandled;
}

InboundOutcome handleStopStreamingContexts(const InboundMessage& msg, InboundContext& ctx) {
  ctx.setContextsStreaming(msg.nodeId, false);
  return InboundOutcome::kHandled;
}

// StartAlarmStreaming and SendAlarmCheckpoint: the version rule and the snapshot live in
// AlarmSync (docs/protocol/alerts.md §4); a checkpoint for another claim is not ours.
InboundOutcome handleAlarmStreaming(const InboundMessage& msg, InboundContext& ctx) {
  const bool start = msg.kind == InboundMessage::Kind::kStartAlarmStreaming;
  if (!start && msg.claimId != ctx.claimId()) return InboundOutcome::kHandled;
  ctx.alarmVersionCheck(msg.nodeId, msg.versionHash, start);
  return InboundOutcome::kHandled;
}

InboundOutcome handleSendAlarmSnapshot(const InboundMessage& msg, InboundContext& ctx) {
  if (!msg.claimId.empty() && msg.claimId != ctx.claimId()) return InboundOutcome::kHandled;
  ctx.alarmSnapshotRequested(msg.nodeId);
  return InboundOutcome::kHandled;
}

InboundOutcome handleSendAlarmConfiguration(const InboundMessage& msg, InboundContext& ctx) {
  ctx.alarmConfigurationRequested(msg.configHash);
  return InboundOutcome::kHandled;
}

InboundOutcome handleDisconnectReq(const InboundMessage& msg, InboundContext& ctx) {
  if (msg.permaban) {
    spdlog::warn("Cloud Banned This Agent!");
    ctx.ban();
  }
  spdlog::warn("Cloud requested disconnect (EC={}, \"{}\")", msg.errorCode,
               msg.errorDescription);
  if (msg.reconnectAfterSeconds > 0) {
    spdlog::warn("Cloud asks not to reconnect for {} seconds. We shall honor that request",
                 msg.reconnectAfterSeconds);
    // Bounded before it becomes a signed count of seconds: 2^64-1 would turn negative.
    const auto seconds = std::min<uint64_t>(msg.reconnectAfterSeconds,
                                            ReconnectSchedule::kMaxBlock.count());
    ctx.blockReconnectFor(std::chrono::seconds(static_cast<int64_t>(seconds)));
  }
  return InboundOutcome::kDisconnect;
}

InboundOutcome handleCancelPendingRequest(const InboundMessage& msg, InboundContext& ctx) {
  ctx.cancelPendingRequest(msg.requestId);
  return InboundOutcome::kHandled;
}

InboundOutcome dispatchInbound(const InboundMessage& msg, std::string_view type,
                               InboundContext& ctx) {
  using Kind = InboundMessage::Kind;
  switch (msg.kind) {
    case Kind::kSendNodeInstances: return handleSendNodeInstances(msg, ctx);
    case Kind::kCreateNodeInstanceResult: return handleCreateNodeInstanceResult(msg, ctx);
    case Kind::kContextsCheckpoint: return handleContextsCheckpoint(msg, ctx);
    case Kind::kStopStreamingContexts: return handleStopStreamingContexts(msg, ctx);
    case Kind::kStartAlarmStreaming:
    case Kind::kSendAlarmCheckpoint: return handleAlarmStreaming(msg, ctx);
    case Kind::kSendAlarmSnapshot: return handleSendAlarmSnapshot(msg, ctx);
    case Kind::kSendAlarmConfiguration: return handleSendAlarmConfiguration(msg, ctx);
    case Kind::kDisconnectReq: return handleDisconnectReq(msg, ctx);
    case Kind::kCancelPendingRequest: return handleCancelPendingRequest(msg, ctx);
    case Kind::kObsolete:
      spdlog::info("ACLK: ignoring obsolete message type '{}'", escapeUntrusted(type));
      break;
    case Kind::kUnknown:
      spdlog::warn("Do not know how to handle message of type '{}'. Ignoring",
                   escapeUntrusted(type));
      break;
  }
  return InboundOutcome::kHandled;
}

}  // namespace aclkd::aclk
