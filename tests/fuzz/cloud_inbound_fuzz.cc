// libFuzzer target: the cloud's protobuf messages (aclk/messages.h decodeInbound) through the
// inbound handlers (aclk/inbound_handlers.h), as the link runs them. The first byte picks the
// topic's message type, the rest is the payload. The context is a fake node table, but the
// reconnect block goes to the link's real ReconnectSchedule: a DisconnectReq's
// reconnect_after_seconds is the cloud's number, added to a clock.
// Besides "never crash": a payload that does not decode has an error; ids that reach a handler
// are UUIDs (or empty); a DisconnectReq disconnects.

#include <spdlog/spdlog.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aclk/inbound_handlers.h"
#include "aclk/reconnect_schedule.h"
#include "common/uuid.h"

using namespace aclkd::aclk;

namespace {

constexpr std::array<std::string_view, 14> kTypes = {
    "SendNodeInstances",   "CreateNodeInstanceResult", "ContextsCheckpoint",
    "StopStreamingContexts", "StartAlarmStreaming",    "SendAlarmCheckpoint",
    "SendAlarmConfiguration", "SendAlarmSnapshot",     "DisconnectReq",
    "CancelPendingRequest", "StreamChartsAndDimensions", "UpdateChartConfigs",
    "NoSuchMessage",        ""};

const std::string kClaimId = "6f2b3c1e-8a4d-4e5f-9b0a-1c2d3e4f5a6b";
const std::string kNodeId = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

void checkId(const std::string& id) {
  if (!id.empty() && !aclkd::isUuid(id)) __builtin_trap();
}

class FakeLink final : public InboundContext {
 public:
  const std::string& claimId() const override { return kClaimId; }
  uint64_t publish(TopicId, const std::string& payload) override { return payload.size() + 1; }
  void sendAllNodeStates() override {}
  bool assignNodeId(const std::string& guid, const std::string& nodeId) override {
    checkId(guid);
    checkId(nodeId);
    return guid.size() % 2 == 0;
  }
  std::optional<ContextBatch> contextsOfNode(const std::string& nodeId) override {
    checkId(nodeId);
    if (nodeId != kNodeId) return std::nullopt;
    ContextBatch batch;
    batch.versionHash = 7;
    return batch;
  }
  void setContextsStreaming(const std::string& nodeId, bool) override { checkId(nodeId); }
  void checkpointReceived(const std::string& nodeId, uint64_t) override { checkId(nodeId); }
  void ban() override {}
  void blockReconnectFor(std::chrono::seconds delay) override {
    const auto now = std::chrono::steady_clock::now();
    schedule.blockFor(delay, now);
    if (schedule.next(false, now).count() < 0) __builtin_trap();
  }
  void cancelPendingRequest(const std::string&) override {}
  void alarmVersionCheck(const std::string& nodeId, uint64_t, bool) override { checkId(nodeId); }
  void alarmSnapshotRequested(const std::string& nodeId) override { checkId(nodeId); }
  void alarmConfigurationRequested(const std::string&) override {}

  ReconnectSchedule schedule{1, std::chrono::seconds(60)};
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // every malformed message is logged
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view type = kTypes[data[0] % kTypes.size()];
  const std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  InboundMessage msg;
  std::string error;
  if (!decodeInbound(type, payload, &msg, &error)) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  FakeLink link;
  const bool disconnects = dispatchInbound(msg, type, link) == InboundOutcome::kDisconnect;
  if (disconnects != (msg.kind == InboundMessage::Kind::kDisconnectReq)) __builtin_trap();
  return 0;
}
