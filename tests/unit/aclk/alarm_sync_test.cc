// The link's alert conversation through a fake AlarmSource: the version rule, snapshot chunks,
// streaming only after StartAlarmStreaming, configuration answers.
#include "aclk/alarm_sync.h"

#include <gtest/gtest.h>

#include <map>

#include "alarms/v1/alarm.pb.h"

namespace aclkd::aclk {
namespace {

struct FakeSource : AlarmSource {
  std::map<std::string, std::vector<AlarmEntry>> alerts;   // by node id: the snapshot
  std::map<std::string, std::vector<AlarmEntry>> waiting;  // pending
  std::map<std::string, uint64_t> versions;
  std::map<std::string, uint64_t> sentThrough;
  bool relays(const std::string& nodeId) override { return alerts.count(nodeId) != 0; }
  uint64_t version(const std::string& nodeId) override { return versions[nodeId]; }
  std::vector<AlarmEntry> snapshot(const std::string& nodeId) override { return alerts[nodeId]; }
  std::vector<AlarmEntry> pending(const std::string& nodeId, size_t limit) override {
    auto v = waiting[nodeId];
    if (v.size() > limit) v.resize(limit);
    return v;
  }
  void sent(const std::string& nodeId, uint64_t cursor) override { sentThrough[nodeId] = cursor; }
  void configuration(const std::string& hash,
                     std::function<void(std::optional<AlarmConfig>)> done) override {
    if (hash == "known") {
      AlarmConfig c;
      c.alarm = "cpu";
      done(c);
    } else {
      done(std::nullopt);
    }
  }
};

struct Published {
  TopicId topic;
  std::string payload;
};

struct SyncFixture {
  std::vector<Published> out;
  size_t failAfter = SIZE_MAX;  // publishes beyond this many fail
  std::shared_ptr<FakeSource> source = std::make_shared<FakeSource>();
  AlarmSync sync{[this](TopicId t, const std::string& p) -> uint64_t {
    if (out.size() >= failAfter) return 0;
    out.push_back({t, p});
    return out.size();
  }};
  SyncFixture() {
    sync.setSource(source);
    sync.beginSession("claim-1");
  }
};

AlarmEntry entry(const std::string& name, uint64_t when) {
  AlarmEntry e;
  e.name = name;
  e.chart = "system.cpu";
  e.key = e.chart + "." + name;
  e.when = when;
  e.status = AlarmStatus::kWarning;
  e.cursor = when;
  return e;
}

TEST(AlarmSyncTest, VersionRule) {
  EXPECT_FALSE(AlarmSync::needsSnapshot(1, 500));  // 1: skip verification
  EXPECT_FALSE(AlarmSync::needsSnapshot(500, 500));
  EXPECT_TRUE(AlarmSync::needsSnapshot(0, 500));
  EXPECT_TRUE(AlarmSync::needsSnapshot(7, 500));
  EXPECT_FALSE(AlarmSync::needsSnapshot(0, 0));
}

TEST(AlarmSyncTest, SnapshotOnlyWhenOutOfSyncAndOnlyForNodesWithAlerts) {
  SyncFixture f;
  f.source->alerts["n1"] = {entry("a", 100)};
  f.source->versions["n1"] = 100;
  f.source->alerts["empty"] = {};
  f.sync.versionCheck("n1", 1, true);
  f.sync.versionCheck("n1", 100, false);
  EXPECT_TRUE(f.out.empty());
  f.sync.versionCheck("n1", 99, false);
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].topic, TopicId::kAlarmSnapshotV2);
  f.sync.versionCheck("empty", 99, true);   // relayed, no alerts: no snapshot at all
  f.sync.versionCheck("not-relayed", 99, true);
  f.sync.snapshotRequested("not-relayed");
  EXPECT_EQ(f.out.size(), 1u);
  f.sync.snapshotRequested("n1");  // forced
  EXPECT_EQ(f.out.size(), 2u);
}

TEST(AlarmSyncTest, SnapshotsGoInChunksOfAThousandUnderOneUuid) {
  SyncFixture f;
  for (int i = 0; i < 2500; ++i) f.source->alerts["n1"].push_back(entry("a" + std::to_string(i), 1));
  f.sync.snapshotRequested("n1");
  ASSERT_EQ(f.out.size(), 3u);
  std::string uuid;
  for (uint32_t i = 0; i < 3; ++i) {
    alarms::v1::AlarmSnapshot s;
    ASSERT_TRUE(s.ParseFromString(f.out[i].payload));
    EXPECT_EQ(s.chunks(), 3u);
    EXPECT_EQ(s.chunk(), i + 1);
    EXPECT_EQ(s.alarms_size(), i < 2 ? 1000 : 500);
    EXPECT_EQ(s.node_id(), "n1");
    EXPECT_EQ(s.claim_id(), "claim-1");
    if (i == 0) uuid = s.snapshot_uuid();
    EXPECT_EQ(s.snapshot_uuid(), uuid);
  }
  f.sync.snapshotRequested("n1");
  alarms::v1::AlarmSnapshot next;
  ASSERT_TRUE(next.ParseFromString(f.out[3].payload));
  EXPECT_NE(next.snapshot_uuid(), uuid);  // a fresh uuid per snapshot
}

TEST(AlarmSyncTest, TransitionsStreamOnlyAfterStartAndStopAtAFailedPublish) {
  SyncFixture f;
  f.source->alerts["n1"] = {};
  f.source->waiting["n1"] = {entry("a", 1), entry("b", 2), entry("c", 3)};
  f.sync.streamPending();
  EXPECT_TRUE(f.out.empty());  // the cloud has not asked yet
  f.sync.versionCheck("n1", 1, false);  // a checkpoint does not start streaming
  f.sync.streamPending();
  EXPECT_TRUE(f.out.empty());
  f.sync.versionCheck("n1", 1, true);
  f.failAfter = 2;
  f.sync.streamPending();
  ASSERT_EQ(f.out.size(), 2u);
  EXPECT_EQ(f.out[0].topic, TopicId::kAlarmLogV2);
  EXPECT_EQ(f.source->sentThrough["n1"], 2u);  // b's cursor: the third stays pending
  alarms::v1::AlarmLogEntry e;
  ASSERT_TRUE(e.ParseFromString(f.out[1].payload));
  EXPECT_EQ(e.name(), "b");
  EXPECT_EQ(e.alert_version(), 2u);
  f.sync.beginSession("claim-1");  // a new session: the cloud must ask again
  f.failAfter = SIZE_MAX;
  f.sync.streamPending();
  EXPECT_EQ(f.out.size(), 2u);
}

TEST(AlarmSyncTest, StartForANodeNotRelayedYetIsCarriedOutOnceItIs) {
  SyncFixture f;
  f.source->waiting["n1"] = {entry("a", 1)};
  f.sync.versionCheck("n1", 0, true);  // its first health check is still under way
  f.sync.streamPending();
  EXPECT_TRUE(f.out.empty());
  f.source->alerts["n1"] = {entry("a", 1)};
  f.source->versions["n1"] = 1;
  f.sync.streamPending();
  // The version check (0 here, 1 there: a snapshot), then the pending transition.
  ASSERT_EQ(f.out.size(), 2u);
  EXPECT_EQ(f.out[0].topic, TopicId::kAlarmSnapshotV2);
  EXPECT_EQ(f.out[1].topic, TopicId::kAlarmLogV2);
  f.sync.streamPending();
  EXPECT_EQ(f.out.size(), 3u);  // the fake's pending never drains; the check ran once
}

TEST(AlarmSyncTest, ConfigurationAnswers) {
  SyncFixture f;
  std::vector<AlarmConfigAnswer> delivered;
  f.sync.configurationRequested("known", [&](AlarmConfigAnswer a) { delivered.push_back(a); });
  f.sync.configurationRequested("other", [&](AlarmConfigAnswer a) { delivered.push_back(a); });
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_TRUE(delivered[0].config);
  EXPECT_FALSE(delivered[1].config);
  for (const auto& a : delivered) f.sync.publishConfiguration(a);
  ASSERT_EQ(f.out.size(), 2u);
  alarms::v1::ProvideAlarmConfiguration c;
  ASSERT_TRUE(c.ParseFromString(f.out[0].payload));
  EXPECT_EQ(c.config_hash(), "known");
  EXPECT_EQ(c.config().alarm(), "cpu");
}

}  // namespace
}  // namespace aclkd::aclk
