// The link's MQTT connection through its seams: a fake client records what it is asked and the
// shared state shows what was counted. The state machine's use of it is link_test.cc's.
#include "aclk/link_connection.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace aclkd::aclk {
namespace {

using namespace std::chrono_literals;

// What the connection asked of its clients; the test decides what they answer.
struct ClientLog {
  uint64_t number = 0;
  MqttConnectParams params;
  std::vector<std::string> subscriptions;
  std::vector<std::pair<uint64_t, std::string>> publishes;  // id, topic
  std::optional<std::chrono::milliseconds> disconnectedWithin;
  bool refuseConnect = false;
  bool refusePublish = false;
};

class FakeClient : public MqttClient {
 public:
  explicit FakeClient(ClientLog& log) : log_(log) {}
  bool connect(const MqttConnectParams& params, std::string* error) override {
    log_.params = params;
    if (log_.refuseConnect) *error = "fake: refused";
    return !log_.refuseConnect;
  }
  bool subscribe(const std::string& filter, std::string*) override {
    log_.subscriptions.push_back(filter);
    return true;
  }
  bool publish(uint64_t id, const std::string& topic, const std::string&,
               std::string* error) override {
    if (log_.refusePublish) {
      *error = "fake: not connected";
      return false;
    }
    log_.publishes.emplace_back(id, topic);
    return true;
  }
  void disconnect(std::chrono::milliseconds timeout) override {
    log_.disconnectedWithin = timeout;
  }

 private:
  ClientLog& log_;
};

TopicMap testTopics() {
  TopicMap t;
  for (TopicId id : {TopicId::kInboxCmd, TopicId::kInboxCmdV1, TopicId::kAgentConnection}) {
    const std::string name = "/agent/c1/" + std::string(topicName(id));
    t.byId[static_cast<size_t>(id)] = name;
    t.ordered.push_back(name);
  }
  return t;
}

MqttEvent publishDone(uint64_t id, bool success = true) {
  MqttEvent e;
  e.kind = MqttEvent::Kind::kPublishDone;
  e.publishId = id;
  e.success = success;
  return e;
}

class LinkConnectionTest : public ::testing::Test {
 protected:
  // Opens attempt 1 and, like the state machine after CONNACK, marks the link online.
  void goOnline(uint32_t maximumPacketSize = 0) {
    std::string error;
    ASSERT_TRUE(connection.open(1, [](MqttEvent&&) {}, MqttConnectParams{}, &error));
    MqttEvent connack;
    connack.kind = MqttEvent::Kind::kConnected;
    connack.maximumPacketSize = maximumPacketSize;
    connection.connected(connack);
    state.with([](LinkState& s) {
      s.online = true;
      s.outbound.newConnection();
    });
  }
  AclkStateView view() const {
    AclkStateView v;
    state.with([&](const LinkState& s) { s.fill(&v); });
    return v;
  }
  uint64_t counter(const std::string& name) const {
    for (const auto& [k, value] : view().counters) {
      if (k == name) return value;
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }

  ClientLog log;
  SharedLinkState state{1000, 60s};
  LinkConnection connection{state, [this](uint64_t number, MqttClient::Sink) {
                              log.number = number;
                              return std::make_unique<FakeClient>(log);
                            }};
};

TEST_F(LinkConnectionTest, OpenSendsTheConnectOfThatAttemptAndConnackSubscribesTheInbox) {
  connection.setTopics(testTopics());
  MqttConnectParams p;
  p.clientId = "client-1";
  std::string error;
  ASSERT_TRUE(connection.open(7, [](MqttEvent&&) {}, p, &error));
  EXPECT_TRUE(connection.isOpen());
  EXPECT_EQ(log.number, 7u);
  EXPECT_EQ(log.params.clientId, "client-1");
  connection.connected(MqttEvent{});
  EXPECT_EQ(log.subscriptions,
            (std::vector<std::string>{"/agent/c1/inbox-cmd", "/agent/c1/inbox-cmd-v1"}))
      << "both inbox topics, in that order";
}

TEST_F(LinkConnectionTest, ARefusedConnectKeepsNoClient) {
  log.refuseConnect = true;
  std::string error;
  EXPECT_FALSE(connection.open(1, [](MqttEvent&&) {}, MqttConnectParams{}, &error));
  EXPECT_EQ(error, "fake: refused");
  EXPECT_FALSE(connection.isOpen());
  EXPECT_FALSE(log.disconnectedWithin) << "nothing to disconnect: CONNECT never went out";
}

// Under ASan: connected() read the cmd topics' empty optionals when no topics were set.
TEST_F(LinkConnectionTest, ConnectedWithoutTopicsSubscribesToNothing) {
  goOnline();
  EXPECT_TRUE(log.subscriptions.empty());
}

TEST_F(LinkConnectionTest, CloseDisconnectsOnceWithinTheTimeout) {
  goOnline();
  connection.close(100ms);
  EXPECT_EQ(log.disconnectedWithin, 100ms);
  EXPECT_FALSE(connection.isOpen());
  log.disconnectedWithin.reset();
  connection.close(4s);
  EXPECT_FALSE(log.disconnectedWithin) << "already closed";
}

TEST_F(LinkConnectionTest, AMessageWithoutATopicIsDroppedUncounted) {
  connection.setTopics(testTopics());
  goOnline();
  EXPECT_EQ(connection.publish(TopicId::kChart, "x"), 0u);
  EXPECT_TRUE(log.publishes.empty());
  EXPECT_EQ(counter("messages-dropped-offline"), 0u);
}

TEST_F(LinkConnectionTest, OfflineMessagesAreCountedAsDroppedOffline) {
  connection.setTopics(testTopics());
  EXPECT_EQ(connection.publish(TopicId::kAgentConnection, "x"), 0u) << "no client";
  std::string error;
  ASSERT_TRUE(connection.open(1, [](MqttEvent&&) {}, MqttConnectParams{}, &error));
  EXPECT_EQ(connection.publish(TopicId::kAgentConnection, "x"), 0u) << "no CONNACK yet";
  EXPECT_TRUE(log.publishes.empty());
  EXPECT_EQ(counter("messages-dropped-offline"), 2u);
}

TEST_F(LinkConnectionTest, PublishGoesOutUnderItsTopicAndWaitsForItsPuback) {
  connection.setTopics(testTopics());
  goOnline();
  const uint64_t id = connection.publish(TopicId::kAgentConnection, "hello");
  ASSERT_NE(id, 0u);
  ASSERT_EQ(log.publishes.size(), 1u);
  EXPECT_EQ(log.publishes[0], std::make_pair(id, std::string("/agent/c1/agent-connection")));
  EXPECT_EQ(view().pendingPubacks, 1u);
  EXPECT_EQ(counter("outbound-bytes-in-flight"), 5u);
  EXPECT_NE(connection.publishRaw("/reply/topic", "r"), 0u) << "a cmd reply, by topic name";
  EXPECT_EQ(log.publishes[1].second, "/reply/topic");
}

TEST_F(LinkConnectionTest, AMessageOverTheServersPacketLimitIsDroppedTooBig) {
  goOnline(100);
  EXPECT_EQ(connection.publishRaw("/t", std::string(40, 'x')), 0u) << "40 + 2 + 64 > 100";
  EXPECT_EQ(counter("messages-dropped-too-big"), 1u);
  EXPECT_NE(connection.publishRaw("/t", std::string(30, 'x')), 0u);
}

TEST_F(LinkConnectionTest, AFullOutboundQueueDropsAndCounts) {
  goOnline();
  EXPECT_NE(connection.publishRaw("/t", std::string(900, 'x')), 0u);
  EXPECT_EQ(connection.publishRaw("/t", std::string(200, 'x')), 0u) << "1100 bytes > 1000";
  EXPECT_EQ(counter("messages-dropped-queue-full"), 1u);
  EXPECT_EQ(log.publishes.size(), 1u);
}

TEST_F(LinkConnectionTest, APublishTheClientRefusedReturnsItsReservation) {
  goOnline();
  log.refusePublish = true;
  EXPECT_EQ(connection.publishRaw("/t", "payload"), 0u);
  EXPECT_EQ(counter("messages-dropped-offline"), 1u);
  EXPECT_EQ(counter("outbound-bytes-in-flight"), 0u);
  EXPECT_EQ(view().pendingPubacks, 0u);
}

TEST_F(LinkConnectionTest, TheThirdPubackMakesTheConnectionStable) {
  goOnline();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(connection.publishRaw("/t", "m"));
  EXPECT_FALSE(connection.acknowledged(publishDone(ids[0])));
  EXPECT_FALSE(connection.acknowledged(publishDone(ids[1], false))) << "a failure is no PUBACK";
  EXPECT_FALSE(view().times.lastConnectPuback);
  EXPECT_FALSE(connection.acknowledged(publishDone(ids[2])));
  EXPECT_TRUE(connection.acknowledged(publishDone(ids[3])));
  const auto v = view();
  EXPECT_TRUE(v.times.lastConnectPuback);
  EXPECT_EQ(v.receivedPubacks, 3u);
  EXPECT_EQ(counter("publish-failures"), 1u);
}

TEST(LinkConnectionSweepTest, AMessageWithoutPubackPastTheTimeoutCountsAsTimedOut) {
  ClientLog log;
  SharedLinkState state{1000, 0s};  // every message is overdue as soon as the clock moves
  LinkConnection connection{state, [&](uint64_t, MqttClient::Sink) {
                              return std::make_unique<FakeClient>(log);
                            }};
  std::string error;
  ASSERT_TRUE(connection.open(1, [](MqttEvent&&) {}, MqttConnectParams{}, &error));
  state.with([](LinkState& s) { s.online = true; });
  ASSERT_NE(connection.publishRaw("/t", "m"), 0u);
  std::this_thread::sleep_for(2ms);
  connection.sweep();
  state.with([](const LinkState& s) {
    EXPECT_EQ(s.outbound.timedOut(), 1u);
    EXPECT_EQ(s.outbound.inflightCount(), 0u);
  });
}

}  // namespace
}  // namespace aclkd::aclk
