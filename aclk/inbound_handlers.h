#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aclk/messages.h"
#include "aclk/node_relay.h"
#include "aclk/topics.h"

namespace aclkd::aclk {

// What the inbound handlers need from the link: its session, its node table and publishing. The
// link implements it; unit tests use a fake. Called on the link's thread only.
class InboundContext {
 public:
  virtual ~InboundContext() = default;
  virtual const std::string& claimId() const = 0;
  // Returns the publish id, 0 when the message was not sent.
  virtual uint64_t publish(TopicId topic, const std::string& payload) = 0;
  // SendNodeInstances: every node's creation or state.
  virtual void sendAllNodeStates() = 0;
  // CreateNodeInstanceResult: records the node id and sends the node's state. False when no node
  // has that machine GUID.
  virtual bool assignNodeId(const std::string& machineGuid, const std::string& nodeId) = 0;
  // The contexts of the node with this node id (none for the gateway's own node); nullopt when
  // no node has it.
  virtual std::optional<ContextBatch> contextsOfNode(const std::string& nodeId) = 0;
  virtual void setContextsStreaming(const std::string& nodeId, bool streaming) = 0;
  // The cloud's checkpoint of this node's contexts (the state store keeps it across restarts).
  virtual void checkpointReceived(const std::string& nodeId, uint64_t versionHash) = 0;
  // DisconnectReq: a permanent ban (until the identity is reloaded) and a reconnect delay.
  virtual void ban() = 0;
  virtual void blockReconnectFor(std::chrono::seconds delay) = 0;
  virtual void cancelPendingRequest(const std::string& requestId) = 0;
  // The cloud's alert requests (alarm_sync.h): StartAlarmStreaming (start) and
  // SendAlarmCheckpoint, SendAlarmSnapshot, SendAlarmConfiguration.
  virtual void alarmVersionCheck(const std::string& nodeId, uint64_t version, bool start) = 0;
  virtual void alarmSnapshotRequested(const std::string& nodeId) = 0;
  virtual void alarmConfigurationRequested(const std::string& configHash) = 0;
};

enum class InboundOutcome { kHandled, kDisconnect };

// One handler per message kind (docs/protocol/aclk.md §7.2), as mosquitto's handle_*.c. `cmd`
// requests are not here: they carry HTTP, not protobuf, and the link answers them itself
// (handleCmd).
InboundOutcome handleSendNodeInstances(const InboundMessage& msg, InboundContext& ctx);
InboundOutcome handleCreateNodeInstanceResult(const InboundMessage& msg, InboundContext& ctx);
InboundOutcome handleContextsCheckpoint(const InboundMessage& msg, InboundContext& ctx);
InboundOutcome handleStopStreamingContexts(const InboundMessage& msg, InboundContext& ctx);
InboundOutcome handleAlarmStreaming(const InboundMessage& msg, InboundContext& ctx);
InboundOutcome handleSendAlarmSnapshot(const InboundMessage& msg, InboundContext& ctx);
InboundOutcome handleSendAlarmConfiguration(const InboundMessage& msg, InboundContext& ctx);
InboundOutcome handleDisconnectReq(const InboundMessage& msg, InboundContext& ctx);
InboundOutcome handleCancelPendingRequest(const InboundMessage& msg, InboundContext& ctx);

// Routes a decoded message (its topic's type is `type`) to its handler.
InboundOutcome dispatchInbound(const InboundMessage& msg, std::string_view type,
                               InboundContext& ctx);

}  // namespace aclkd::aclk
