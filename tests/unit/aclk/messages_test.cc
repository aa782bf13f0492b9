#include "aclk/messages.h"

#include <gtest/gtest.h>

#include "agent/v1/cmds.pb.h"
#include "agent/v1/connection.pb.h"
#include "alarms/v1/alarm.pb.h"
#include "context/v1/context.pb.h"
#include "nodeinstance/connection/v1/connection.pb.h"
#include "nodeinstance/create/v1/creation.pb.h"
#include "nodeinstance/info/v1/info.pb.h"
#include "unit/context_records.h"

namespace aclkd::aclk {
namespace {

constexpr int64_t kNowUs = 1700000000123456;
const std::string kClaim = "0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f";
const std::string kNode = "11111111-2222-3333-4444-555555555555";
const std::string kGuid = "9a72d49b-b91e-4c74-801e-40d6ec7fab11";

template <typename M>
M parse(const std::string& bytes) {
  M m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

TEST(MessagesTest, UpdateAgentConnectionOnConnectCarriesCapabilities) {
  auto m = parse<agent::v1::UpdateAgentConnection>(
      encodeUpdateAgentConnection(kClaim, true, 42, false, kNowUs));
  EXPECT_EQ(m.claim_id(), kClaim);
  EXPECT_TRUE(m.reachable());
  EXPECT_EQ(m.session_id(), 42);
  EXPECT_EQ(m.update_source(), agent::v1::CONNECTION_UPDATE_SOURCE_AGENT);
  EXPECT_EQ(m.updated_at().seconds(), 1700000000);
  EXPECT_EQ(m.updated_at().nanos(), 123456000);
  ASSERT_GT(m.capabilities_size(), 0);
  bool proto = false;
  for (const auto& c : m.capabilities()) {
    if (c.name() == "proto") proto = c.version() == 1 && c.enabled();
  }
  EXPECT_TRUE(proto);
}

TEST(MessagesTest, TheWillIsUnreachableFromLwtWithoutCapabilities) {
  auto m = parse<agent::v1::UpdateAgentConnection>(
      encodeUpdateAgentConnection(kClaim, false, 42, true, kNowUs));
  EXPECT_FALSE(m.reachable());
  EXPECT_EQ(m.update_source(), agent::v1::CONNECTION_UPDATE_SOURCE_LWT);
  EXPECT_EQ(m.capabilities_size(), 0);
}

TEST(MessagesTest, CreateNodeInstance) {
  auto m = parse<nodeinstance::create::v1::CreateNodeInstance>(
      encodeCreateNodeInstance(kClaim, kGuid, "gw1", 1));
  EXPECT_EQ(m.claim_id(), kClaim);
  EXPECT_EQ(m.machine_guid(), kGuid);
  EXPECT_EQ(m.hostname(), "gw1");
  EXPECT_EQ(m.hops(), 1);
}

TEST(MessagesTest, UpdateNodeInstanceConnection) {
  auto m = parse<nodeinstance::v1::UpdateNodeInstanceConnection>(
      encodeUpdateNodeInstanceConnection(kClaim, kNode, true, 7, 0, NodeFeatures{}, kNowUs));
  EXPECT_EQ(m.node_id(), kNode);
  EXPECT_TRUE(m.liveness());
  EXPECT_TRUE(m.queryable());
  EXPECT_EQ(m.session_id(), 7);
  EXPECT_EQ(m.hops(), 0);
  EXPECT_GT(m.capabilities_size(), 0);
}

TEST(MessagesTest, UpdateNodeInfoCarriesSystemAndLabels) {
  NodeInfoFields f;
  f.claimId = kClaim;
  f.nodeId = kNode;
  f.machineGuid = kGuid;
  f.hostname = "gw1";
  f.version = "v0.3.0";
  f.releaseChannel = "stable";
  f.system.os = "linux";
  f.system.kernelName = "Linux";
  f.system.architecture = "x86_64";
  f.system.cpus = 2;
  f.system.memory = "25769803776";
  f.hostLabels = {{"_aclk_available", "true"}, {"_mqtt_version", "5"}};
  auto m = parse<nodeinstance::info::v1::UpdateNodeInfo>(encodeUpdateNodeInfo(f, kNowUs));
  EXPECT_EQ(m.node_id(), kNode);
  EXPECT_EQ(m.machine_guid(), kGuid);
  EXPECT_FALSE(m.child());
  EXPECT_EQ(m.data().name(), "gw1");
  EXPECT_EQ(m.data().os(), "linux");
  EXPECT_EQ(m.data().kernel_name(), "Linux");
  EXPECT_EQ(m.data().cpus(), 2u);
  EXPECT_EQ(m.data().memory(), "25769803776");
  EXPECT_EQ(m.data().version(), "v0.3.0");
  EXPECT_EQ(m.data().machine_guid(), kGuid);
  EXPECT_EQ(m.data().host_labels().at("_mqtt_version"), "5");
  EXPECT_GT(m.node_info().capabilities_size(), 0);
  EXPECT_GT(m.node_instance_info().capabilities_size(), 0);
  EXPECT_FALSE(m.ml_info().ml_capable());
  // A relayed child's ML facts, as its STREAM request gave them, in both places.
  f.child = true;
  f.system.mlCapable = true;
  m = parse<nodeinstance::info::v1::UpdateNodeInfo>(encodeUpdateNodeInfo(f, kNowUs));
  EXPECT_TRUE(m.ml_info().ml_capable());
  EXPECT_FALSE(m.ml_info().ml_enabled());
  EXPECT_TRUE(m.data().ml_info().ml_capable());
}

TEST(MessagesTest, ContextsSnapshotAndUpdated) {
  const ContextRecord c = test::contextRecord("system.cpu", 100);
  auto s = parse<context::v1::ContextsSnapshot>(encodeContextsSnapshot(kClaim, kNode, 90, {c}));
  EXPECT_EQ(s.version(), 90u);
  ASSERT_EQ(s.contexts_size(), 1);
  EXPECT_EQ(s.contexts(0).id(), "system.cpu");
  EXPECT_EQ(s.contexts(0).units(), "percentage");
  auto u = parse<context::v1::ContextsUpdated>(encodeContextsUpdated(kClaim, kNode, 90, 5, {c}));
  EXPECT_EQ(u.version_hash(), 90u);
  EXPECT_EQ(u.created_at(), 5u);
  ASSERT_EQ(u.contextupdates_size(), 1);
  EXPECT_EQ(u.contextupdates(0).family(), "cpu");
}

TEST(MessagesTest, AlarmMessages) {
  AlarmEntry e;
  e.chart = "system.cpu";
  e.name = "cpu_high";
  e.when = 1700000000;
  e.status = AlarmStatus::kWarning;
  e.oldStatus = AlarmStatus::kClear;
  e.configHash = "cfg";
  auto l = parse<alarms::v1::AlarmLogEntry>(encodeAlarmLogEntry(kClaim, kNode, e));
  EXPECT_EQ(l.node_id(), kNode);
  EXPECT_EQ(l.name(), "cpu_high");
  EXPECT_EQ(l.chart_name(), "system.cpu");  // the chart when the agent gave no separate name
  EXPECT_EQ(l.status(), alarms::v1::ALARM_STATUS_WARNING);
  EXPECT_EQ(l.old_status(), alarms::v1::ALARM_STATUS_CLEAR);
  EXPECT_EQ(l.alert_version(), 1700000000u);  // the version is the transition's `when`
  std::vector<AlarmEntry> two{e, e};
  auto s = parse<alarms::v1::AlarmSnapshot>(
      encodeAlarmSnapshot(kClaim, kNode, "uuid-1", 3, 2, two.data(), two.size()));
  EXPECT_EQ(s.chunks(), 3u);
  EXPECT_EQ(s.chunk(), 2u);
  EXPECT_EQ(s.chunk_size(), 2u);
  EXPECT_EQ(s.alarms_size(), 2);
  EXPECT_EQ(s.snapshot_uuid(), "uuid-1");
  auto c = parse<alarms::v1::ProvideAlarmConfiguration>(encodeProvideAlarmConfiguration("h1"));
  EXPECT_EQ(c.config_hash(), "h1");
  EXPECT_TRUE(c.has_config());
  AlarmConfig def;
  def.alarm = "cpu_high";
  def.warning = "$this > 80";
  c = parse<alarms::v1::ProvideAlarmConfiguration>(encodeProvideAlarmConfiguration("h2", &def));
  EXPECT_EQ(c.config().alarm(), "cpu_high");
  EXPECT_EQ(c.config().warning_expr(), "$this > 80");
}

TEST(MessagesTest, DecodesEveryInboundType) {
  using Kind = InboundMessage::Kind;
  InboundMessage in;
  std::string error;

  agent::v1::SendNodeInstances sni;
  sni.set_claim_id(kClaim);
  ASSERT_TRUE(decodeInbound("SendNodeInstances", sni.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.kind, Kind::kSendNodeInstances);
  EXPECT_EQ(in.claimId, kClaim);

  nodeinstance::create::v1::CreateNodeInstanceResult r;
  r.set_node_id(kNode);
  r.set_machine_guid(kGuid);
  ASSERT_TRUE(decodeInbound("CreateNodeInstanceResult", r.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.kind, Kind::kCreateNodeInstanceResult);
  EXPECT_EQ(in.nodeId, kNode);
  EXPECT_EQ(in.machineGuid, kGuid);

  context::v1::ContextsCheckpoint cp;
  cp.set_claim_id(kClaim);
  cp.set_node_id(kNode);
  cp.set_version_hash(77);
  ASSERT_TRUE(decodeInbound("ContextsCheckpoint", cp.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.kind, Kind::kContextsCheckpoint);
  EXPECT_EQ(in.versionHash, 77u);

  context::v1::StopStreamingContexts stop;
  stop.set_node_id(kNode);
  ASSERT_TRUE(decodeInbound("StopStreamingContexts", stop.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.kind, Kind::kStopStreamingContexts);

  alarms::v1::StartAlarmStreaming sas;
  sas.set_node_id(kNode);
  sas.set_version(9);
  ASSERT_TRUE(decodeInbound("StartAlarmStreaming", sas.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.kind, Kind::kStartAlarmStreaming);
  EXPECT_EQ(in.versionHash, 9u);

  alarms::v1::SendAlarmCheckpoint sac;
  sac.set_claim_id(kClaim);
  sac.set_node_id(kNode);
  sac.set_version(1);
  ASSERT_TRUE(decodeInbound("SendAlarmCheckpoint", sac.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.kind, Kind::kSendAlarmCheckpoint);
  EXPECT_EQ(in.versionHash, 1u);

  alarms::v1::SendAlarmConfiguration sacfg;
  sacfg.set_config_hash("abc");
  ASSERT_TRUE(decodeInbound("SendAlarmConfiguration", sacfg.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.configHash, "abc");

  alarms::v1::SendAlarmSnapshot sasnap;
  sasnap.set_node_id(kNode);
  ASSERT_TRUE(decodeInbound("SendAlarmSnapshot", sasnap.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.kind, Kind::kSendAlarmSnapshot);

  agent::v1::DisconnectReq dr;
  dr.set_reconnect_after_seconds(10);
  dr.set_permaban(true);
  dr.set_error_code(3);
  dr.set_error_description("maintenance");
  ASSERT_TRUE(decodeInbound("DisconnectReq", dr.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.kind, Kind::kDisconnectReq);
  EXPECT_EQ(in.reconnectAfterSeconds, 10u);
  EXPECT_TRUE(in.permaban);
  EXPECT_EQ(in.errorCode, 3u);
  EXPECT_EQ(in.errorDescription, "maintenance");

  agent::v1::CancelPendingRequest cpr;
  cpr.set_request_id("req-1");
  ASSERT_TRUE(decodeInbound("CancelPendingRequest", cpr.SerializeAsString(), &in, &error));
  EXPECT_EQ(in.requestId, "req-1");

  ASSERT_TRUE(decodeInbound("UpdateChartConfigs", "", &in, &error));
  EXPECT_EQ(in.kind, Kind::kObsolete);
  ASSERT_TRUE(decodeInbound("SomethingNew", "xyz", &in, &error));
  EXPECT_EQ(in.kind, Kind::kUnknown);
}

TEST(MessagesTest, GarbageIsAnErrorNamingTheType) {
  InboundMessage in;
  std::string error;
  EXPECT_FALSE(decodeInbound("ContextsCheckpoint", std::string(64, '\xff'), &in, &error));
  EXPECT_NE(error.find("ContextsCheckpoint"), std::string::npos) << error;
  EXPECT_NE(error.find("64 bytes"), std::string::npos) << error;
}

// Ids from the cloud are logged, stored and sent back: a node id that is not a UUID is refused
// at decoding (counted as malformed by the link) and shown escaped, never raw.
TEST(MessagesTest, NodeIdThatIsNotAUuidIsRefusedAndEscaped) {
  InboundMessage in;
  std::string error;
  nodeinstance::create::v1::CreateNodeInstanceResult r;
  r.set_node_id("evil\n2026-11-30 critical forged");
  r.set_machine_guid(kGuid);
  EXPECT_FALSE(decodeInbound("CreateNodeInstanceResult", r.SerializeAsString(), &in, &error));
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_NE(error.find("node_id \"evil\\x0a2026"), std::string::npos) << error;

  context::v1::ContextsCheckpoint cp;
  cp.set_claim_id("not-a-claim-id");
  cp.set_node_id(kNode);
  EXPECT_FALSE(decodeInbound("ContextsCheckpoint", cp.SerializeAsString(), &in, &error));
  EXPECT_NE(error.find("claim_id"), std::string::npos) << error;
}

}  // namespace
}  // namespace aclkd::aclk
