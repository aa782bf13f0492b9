#include "aclk/topics.h"

#include <gtest/gtest.h>

#include <set>

namespace aclkd::aclk {
namespace {

constexpr size_t kTopicCount = static_cast<size_t>(TopicId::kCount);

TEST(TopicsTest, NamesRoundTripAndTypes) {
  for (size_t i = 0; i < kTopicCount; ++i) {
    const auto id = static_cast<TopicId>(i);
    EXPECT_EQ(topicIdByName(topicName(id)), id);
  }
  EXPECT_FALSE(topicIdByName("nope"));
  EXPECT_EQ(messageTypeOfTopic("/agent/x/inbound/v1/cmd/DisconnectReq"), "DisconnectReq");
  EXPECT_EQ(messageTypeOfTopic("nosl"), "");
}

TEST(TopicsTest, NamesAreTheBriefsAndDistinct) {
  // docs/protocol/aclk.md §4.5: the compulsory names, then the optional manifest.
  const std::vector<std::string> compulsory = {
      "chart", "alarms", "meta", "inbox-cmd", "agent-connection", "inbox-cmd-v1",
      "create-node-instance", "node-instance-connection", "chart-and-dims-updated",
      "chart-configs-updated", "reset-charts", "chart-retention-updated", "node-instance-info",
      "alarm-log-v2", "alarm-checkpoint", "alarm-config", "alarm-snapshot-v2",
      "node-instance-collectors", "contexts-snapshot", "contexts-updated"};
  std::set<std::string> names;
  for (size_t i = 0; i < kTopicCount; ++i) {
    const auto name = std::string(topicName(static_cast<TopicId>(i)));
    EXPECT_FALSE(name.empty()) << i;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
  for (const auto& name : compulsory) {
    const auto id = topicIdByName(name);
    ASSERT_TRUE(id) << name;
    EXPECT_TRUE(topicIsCompulsory(*id)) << name;
  }
  EXPECT_EQ(compulsory.size() + 1, kTopicCount);
  const auto manifest = topicIdByName("node-instance-manifest");
  ASSERT_TRUE(manifest);
  EXPECT_EQ(*manifest, TopicId::kNodeInstanceManifest);
  EXPECT_FALSE(topicIsCompulsory(TopicId::kNodeInstanceManifest));
}

TEST(TopicsTest, LookupIsExact) {
  EXPECT_FALSE(topicIdByName(""));
  EXPECT_FALSE(topicIdByName("Chart"));
  EXPECT_FALSE(topicIdByName("chart "));
  EXPECT_FALSE(topicIdByName("inbox"));
  EXPECT_EQ(topicIdByName("inbox-cmd"), TopicId::kInboxCmd);
  EXPECT_EQ(topicIdByName("inbox-cmd-v1"), TopicId::kInboxCmdV1);
  EXPECT_EQ(topicName(TopicId::kAgentConnection), "agent-connection");
}

TEST(TopicsTest, MessageTypeIsTheTextAfterTheLastSlash) {
  EXPECT_EQ(messageTypeOfTopic("/agent/CID/inbound/v1/cmd"), "cmd");
  EXPECT_EQ(messageTypeOfTopic("/a/b/"), "");
  EXPECT_EQ(messageTypeOfTopic("/"), "");
  EXPECT_EQ(messageTypeOfTopic(""), "");
  EXPECT_EQ(messageTypeOfTopic("/CreateNodeInstanceResult"), "CreateNodeInstanceResult");
}

TEST(TopicsTest, TopicMapStartsEmptyAndGetsById) {
  TopicMap m;
  for (size_t i = 0; i < kTopicCount; ++i) {
    EXPECT_FALSE(m.get(static_cast<TopicId>(i))) << i;
  }
  EXPECT_TRUE(m.ordered.empty());
  m.byId[static_cast<size_t>(TopicId::kMeta)] = "/agent/CID/outbound/meta";
  m.ordered.push_back("/agent/CID/outbound/meta");
  EXPECT_EQ(m.get(TopicId::kMeta), std::optional<std::string>("/agent/CID/outbound/meta"));
  EXPECT_FALSE(m.get(TopicId::kChart));
  EXPECT_FALSE(m.get(TopicId::kNodeInstanceManifest));
}

}  // namespace
}  // namespace aclkd::aclk
