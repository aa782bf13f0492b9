// The inbound handlers through their seam: a fake link records what they ask for.
#include "aclk/inbound_handlers.h"
#include "aclk/reconnect_schedule.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace aclkd::aclk {
namespace {

struct FakeLink : InboundContext {
  std::string claim = "claim-1";
  std::map<std::string, ContextBatch> contextsByNodeId;  // known node ids
  std::map<std::string, std::string> nodeIdByGuid;
  std::vector<TopicId> published;
  std::map<std::string, bool> streaming;
  int sendAll = 0;
  int bans = 0;
  std::optional<std::chrono::seconds> blocked;
  std::vector<std::string> cancelled;
  std::vector<std::pair<std::string, uint64_t>> checkpoints;

  const std::string& claimId() const override { return claim; }
  uint64_t publish(TopicId topic, const std::string&) override {
    published.push_back(topic);
    return published.size();
  }
  void sendAllNodeStates() override { ++sendAll; }
  bool assignNodeId(const std::string& guid, const std::string& nodeId) override {
    if (guid != "guid-known") return false;
    nodeIdByGuid[guid] = nodeId;
    return true;
  }
  std::optional<ContextBatch> contextsOfNode(const std::string& nodeId) override {
    auto it = contextsByNodeId.find(nodeId);
    if (it == contextsByNodeId.end()) return std::nullopt;
    return it->second;
  }
  void setContextsStreaming(const std::string& nodeId, bool on) override { streaming[nodeId] = on; }
  void checkpointReceived(const std::string& nodeId, uint64_t hash) override {
    checkpoints.emplace_back(nodeId, hash);
  }
  void ban() override { ++bans; }
  void blockReconnectFor(std::chrono::seconds d) override { blocked = d; }
  void cancelPendingRequest(const std::string& id) override { cancelled.push_back(id); }
  std::vector<std::string> alarmCalls;
  void alarmVersionCheck(const std::string& nodeId, uint64_t version, bool start) override {
    alarmCalls.push_back((start ? "start " : "check ") + nodeId + " " + std::to_string(version));
  }
  void alarmSnapshotRequested(const std::string& nodeId) override {
    alarmCalls.push_back("snapshot " + nodeId);
  }
  void alarmConfigurationRequested(const std::string& hash) override {
    alarmCalls.push_back("config " + hash);
  }
};

InboundMessage message(InboundMessage::Kind kind) {
  InboundMessage m;
  m.kind = kind;
  m.claimId = "claim-1";
  m.nodeId = "node-1";
  return m;
}

using Kind = InboundMessage::Kind;

TEST(InboundHandlersTest, ContextsCheckpointSendsASnapshotOnlyWhenTheHashDiffers) {
  FakeLink link;
  ContextBatch batch;
  batch.versionHash = 42;
  link.contextsByNodeId["node-1"] = batch;
  auto m = message(Kind::kContextsCheckpoint);
  m.versionHash = 42;
  EXPECT_EQ(dispatchInbound(m, "ContextsCheckpoint", link), InboundOutcome::kHandled);
  EXPECT_TRUE(link.published.empty());
  EXPECT_TRUE(link.streaming["node-1"]);
  m.versionHash = 7;
  dispatchInbound(m, "ContextsCheckpoint", link);
  EXPECT_EQ(link.published, std::vector<TopicId>{TopicId::kContextsSnapshot});
  // Both checkpoints are remembered (the state store answers the next one after a restart).
  const std::vector<std::pair<std::string, uint64_t>> expected = {{"node-1", 42}, {"node-1", 7}};
  EXPECT_EQ(link.checkpoints, expected);
}

TEST(InboundHandlersTest, ContextsCheckpointForAnotherClaimOrNodeIsIgnored) {
  FakeLink link;
  link.contextsByNodeId["node-1"] = ContextBatch{};
  auto m = message(Kind::kContextsCheckpoint);
  m.claimId = "claim-2";
  m.versionHash = 9;
  dispatchInbound(m, "ContextsCheckpoint", link);
  m.claimId = "claim-1";
  m.nodeId = "node-unknown";
  dispatchInbound(m, "ContextsCheckpoint", link);
  EXPECT_TRUE(link.published.empty());
  EXPECT_TRUE(link.streaming.empty());
  EXPECT_TRUE(link.checkpoints.empty());
}

TEST(InboundHandlersTest, AlarmRequestsGoToTheAlarmSyncAndCheckpointsOfOtherClaimsAreIgnored) {
  FakeLink link;
  auto m = message(Kind::kStartAlarmStreaming);
  m.versionHash = 7;
  m.claimId.clear();  // StartAlarmStreaming carries no claim id
  dispatchInbound(m, "StartAlarmStreaming", link);
  m = message(Kind::kSendAlarmCheckpoint);
  m.versionHash = 5;
  m.claimId = "claim-other";
  dispatchInbound(m, "SendAlarmCheckpoint", link);
  m.claimId = "claim-1";
  dispatchInbound(m, "SendAlarmCheckpoint", link);
  dispatchInbound(message(Kind::kSendAlarmSnapshot), "SendAlarmSnapshot", link);
  m = message(Kind::kSendAlarmConfiguration);
  m.configHash = "h1";
  dispatchInbound(m, "SendAlarmConfiguration", link);
  EXPECT_EQ(link.alarmCalls, (std::vector<std::string>{"start node-1 7", "check node-1 5",
                                                       "snapshot node-1", "config h1"}));
  EXPECT_TRUE(link.published.empty());
}

TEST(InboundHandlersTest, DisconnectReqBansAndBlocksAsAsked) {
  FakeLink link;
  auto m = message(Kind::kDisconnectReq);
  EXPECT_EQ(dispatchInbound(m, "DisconnectReq", link), InboundOutcome::kDisconnect);
  EXPECT_EQ(link.bans, 0);
  EXPECT_FALSE(link.blocked);
  m.permaban = true;
  m.reconnectAfterSeconds = 30;
  EXPECT_EQ(dispatchInbound(m, "DisconnectReq", link), InboundOutcome::kDisconnect);
  EXPECT_EQ(link.bans, 1);
  EXPECT_EQ(link.blocked, std::chrono::seconds(30));
}

// The cloud's reconnect_after_seconds is a uint64: past int64's range it used to become a
// negative count of seconds, which is no block at all.
TEST(InboundHandlersTest, DisconnectReqBlocksAtMostAYearForAnyNumber) {
  FakeLink link;
  auto m = message(Kind::kDisconnectReq);
  for (const uint64_t asked : {uint64_t{1} << 63, ~uint64_t{0}, uint64_t{1} << 40}) {
    m.reconnectAfterSeconds = asked;
    dispatchInbound(m, "DisconnectReq", link);
    EXPECT_EQ(link.blocked, ReconnectSchedule::kMaxBlock) << asked;
  }
}

TEST(InboundHandlersTest, NodeMessagesReachTheNodeTable) {
  FakeLink link;
  dispatchInbound(message(Kind::kSendNodeInstances), "SendNodeInstances", link);
  EXPECT_EQ(link.sendAll, 1);
  auto m = message(Kind::kCreateNodeInstanceResult);
  m.machineGuid = "guid-known";
  dispatchInbound(m, "CreateNodeInstanceResult", link);
  EXPECT_EQ(link.nodeIdByGuid["guid-known"], "node-1");
  m.machineGuid = "guid-unknown";
  dispatchInbound(m, "CreateNodeInstanceResult", link);
  EXPECT_EQ(link.nodeIdByGuid.size(), 1u);
  dispatchInbound(message(Kind::kStopStreamingContexts), "StopStreamingContexts", link);
  EXPECT_FALSE(link.streaming["node-1"]);
}

TEST(InboundHandlersTest, CancelUnknownAndObsoleteChangeNothingElse) {
  FakeLink link;
  auto m = message(Kind::kCancelPendingRequest);
  m.requestId = "r-1";
  EXPECT_EQ(dispatchInbound(m, "CancelPendingRequest", link), InboundOutcome::kHandled);
  EXPECT_EQ(link.cancelled, std::vector<std::string>{"r-1"});
  EXPECT_EQ(dispatchInbound(message(Kind::kUnknown), "Nope", link), InboundOutcome::kHandled);
  EXPECT_EQ(dispatchInbound(message(Kind::kObsolete), "Old", link), InboundOutcome::kHandled);
  EXPECT_TRUE(link.published.empty());
}

}  // namespace
}  // namespace aclkd::aclk
