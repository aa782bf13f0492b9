// The link's state machine through its seams: a fake cloud answers the HTTPS login steps and a
// fake MQTT session records what the link asks of it; the test plays the broker by sending the
// session's events. No network, no Paho.
#include "aclk/link.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "aclk/topics.h"
#include "agent/v1/cmds.pb.h"
#include "claim/rsa_key.h"
#include "common/base64.h"
#include "common/url.h"

namespace aclkd::aclk {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 10s;  // an upper bound for things that happen "soon"; never a timing claim

const claim::RsaKey& testKey() {
  static const claim::RsaKey key = claim::RsaKey::generate();
  return key;
}

std::string passwordBody() {
  std::string topics;
  for (size_t i = 0; i < static_cast<size_t>(TopicId::kCount); ++i) {
    const auto id = static_cast<TopicId>(i);
    if (!topicIsCompulsory(id)) continue;
    const auto name = std::string(topicName(id));
    topics += (topics.empty() ? "" : ",") + std::string(R"({"name":")") + name +
              R"(","topic":"/agent/#{claim_id}/out/)" + name + R"("})";
  }
  return R"({"clientID":"c","username":"u","password":"p","topics":[)" + topics + "]}";
}

// The HTTPS side of the cloud: /env, the OTP challenge and the password, always successful.
// Each request carries the agent's headers exactly (docs/protocol/aclk.md §4.2): Host without the
// port, libcurl's Accept and Content-Type removed; anything else is answered 400.
HttpClientResponse fakeCloudHttp(const HttpClientRequest& req) {
  HttpClientResponse r;
  const auto host = parseUrl(req.url, nullptr);
  const std::vector<std::string> want = {"User-Agent: Netdata/rocks newhttpclient", "Accept:",
                                         "Content-Type:", "Host: " + (host ? host->host : "?")};
  if (req.headers != want) {
    r.status = 400;
    return r;
  }
  if (req.url.find("/api/v1/env") != std::string::npos) {
    r.status = 200;
    r.body =
        R"({"authEndpoint":"https://api.example.test/api/v1/auth","encoding":"proto",)"
        R"("transports":[{"type":"MQTTv5","endpoint":"wss://mqtt.example.test:443/mqtt"}],)"
        R"("backoff":{"base":2,"minSeconds":0,"maxSeconds":1024},"capabilities":["proto","ctx"]})";
  } else if (req.url.find("/challenge") != std::string::npos) {
    std::string error;
    const auto cipher =
        claim::RsaKey::encryptOaepSha1ForPublicPem(testKey().publicPem(), "secret", &error);
    r.status = 200;
    r.body = R"({"challenge":")" + base64Encode(*cipher) + R"("})";
  } else if (req.url.find("/password") != std::string::npos) {
    r.status = 201;
    r.body = passwordBody();
  } else {
    r.status = 404;
  }
  return r;
}

// What the link did with its MQTT sessions, and a way to play the broker.
struct FakeBroker {
  struct Publish {
    uint64_t session = 0;
    uint64_t id = 0;
    std::string topic;
    std::string payload;
  };
  struct Session {
    uint64_t number = 0;
    MqttClient::Sink sink;
    MqttConnectParams params;
    std::vector<std::string> subscriptions;
    bool disconnected = false;
  };

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::shared_ptr<Session>> sessions;
  std::vector<Publish> publishes;
  bool failPublish = false;
  bool autoAck = false;  // every publish is acknowledged at once

  template <typename Pred>
  bool waitFor(Pred pred) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kWait, pred);
  }
  bool waitSessions(size_t n) {
    return waitFor([&] { return sessions.size() >= n; });
  }
  std::shared_ptr<Session> session(size_t index) {
    std::lock_guard lock(mutex);
    return sessions.at(index);
  }
  // The broker's event for the session: what Paho's callbacks would report.
  void emit(size_t index, MqttEvent e) {
    auto s = session(index);
    e.session = s->number;
    s->sink(std::move(e));
  }
  void connack(size_t index) {
    MqttEvent e;
    e.kind = MqttEvent::Kind::kConnected;
    e.success = true;
    emit(index, std::move(e));
  }
  // The first publish to a topic ending in `suffix`, waiting for it.
  std::optional<Publish> waitPublish(const std::string& suffix, size_t skip = 0) {
    std::optional<Publish> found;
    waitFor([&] {
      size_t seen = 0;
      for (const auto& p : publishes) {
        if (p.topic.size() >= suffix.size() &&
            p.topic.compare(p.topic.size() - suffix.size(), suffix.size(), suffix) == 0 &&
            seen++ == skip) {
          found = p;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  size_t publishCount() {
    std::lock_guard lock(mutex);
    return publishes.size();
  }
};

class FakeMqtt : public MqttClient {
 public:
  FakeMqtt(std::shared_ptr<FakeBroker> broker, std::shared_ptr<FakeBroker::Session> s)
      : broker_(std::move(broker)), s_(std::move(s)) {}
  bool connect(const MqttConnectParams& params, std::string*) override {
    std::lock_guard lock(broker_->mutex);
    s_->params = params;
    broker_->sessions.push_back(s_);
    broker_->changed.notify_all();
    return true;
  }
  bool subscribe(const std::string& filter, std::string*) override {
    std::lock_guard lock(broker_->mutex);
    s_->subscriptions.push_back(filter);
    broker_->changed.notify_all();
    return true;
  }
  bool publish(uint64_t id, const std::string& topic, const std::string& payload,
               std::string* error) override {
    std::lock_guard lock(broker_->mutex);
    if (broker_->failPublish) {
      *error = "fake: client is not connected";
      return false;
    }
    broker_->publishes.push_back({s_->number, id, topic, payload});
    broker_->changed.notify_all();
    if (broker_->autoAck) {
      MqttEvent e;
      e.kind = MqttEvent::Kind::kPublishDone;
      e.session = s_->number;
      e.publishId = id;
      e.success = true;
      s_->sink(std::move(e));
    }
    return true;
  }
  void disconnect(std::chrono::milliseconds) override {
    std::lock_guard lock(broker_->mutex);
    s_->disconnected = true;
    broker_->changed.notify_all();
  }

 private:
  std::shared_ptr<FakeBroker> broker_;
  std::shared_ptr<FakeBroker::Session> s_;
};

// The claim the link reads; tests change it to play a reclaim.
struct Claims {
  std::mutex mutex;
  std::shared_ptr<claim::ClaimSnapshot> snap;
  Claims() {
    auto s = std::make_shared<claim::ClaimSnapshot>();
    s->claimed = true;
    s->claimedId = "11111111-2222-3333-4444-555555555555";
    s->cloudUrl = "https://app.example.test";
    s->keyState = claim::KeyState::kLoaded;
    s->key = testKey();
    s->claimFailureReason.clear();
    s->generation = 1;
    snap = s;
  }
  std::shared_ptr<const claim::ClaimSnapshot> get() {
    std::lock_guard lock(mutex);
    return snap;
  }
  void reclaim(const std::string& claimedId) {
    std::lock_guard lock(mutex);
    auto s = std::make_shared<claim::ClaimSnapshot>(*snap);
    s->claimedId = claimedId;
    ++s->generation;
    snap = s;
  }
};

uint64_t counter(const AclkStateView& v, const std::string& name) {
  for (const auto& [k, value] : v.counters) {
    if (k == name) return value;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

class LinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opt.hostname = "gw";
    opt.machineGuid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    opt.agentVersion = "v2.0.0";
    opt.seed = 7;
    opt.http = fakeCloudHttp;
    opt.mqttFactory = [b = broker](uint64_t number, MqttClient::Sink sink) {
      auto s = std::make_shared<FakeBroker::Session>();
      s->number = number;
      s->sink = std::move(sink);
      return std::make_unique<FakeMqtt>(b, s);
    };
  }
  void TearDown() override {
    {
      std::lock_guard lock(broker->mutex);
      broker->autoAck = true;  // the goodbye's PUBACK: no 2 s wait for it
    }
    if (link) link->stop();
  }

  void start() {
    link = std::make_unique<Link>(opt, [c = claims] { return c->get(); });
    link->start();
  }

  AclkStateView state() const {
    AclkStateView v;
    link->fillState(&v);
    return v;
  }

  // Polls `pred` until it holds (kWait at most).
  template <typename Pred>
  static bool eventually(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  bool waitStatus(AclkStatus want) {
    return eventually([&] { return link->status() == want; });
  }

  // Online is cleared right after the status is set: wait for both.
  bool waitOffline(AclkStatus want) {
    return waitStatus(want) && eventually([&] { return !state().online; });
  }

  // The cloud's DisconnectReq, and the graceful goodbye it causes (reachable=false, PUBACK,
  // DISCONNECT).
  void cloudDisconnects(const agent::v1::DisconnectReq& req) {
    deliver(0, "DisconnectReq", req.SerializeAsString());
    const auto bye = broker->waitPublish("/agent-connection", 1);
    ASSERT_TRUE(bye);
    ack(0, bye->id);
    ASSERT_TRUE(broker->waitFor([&] { return broker->sessions[0]->disconnected; }));
    ASSERT_TRUE(waitOffline(AclkStatus::kOfflineCloudRequestedDisconnect));
  }

  // Starts the link and brings session `index` online.
  void goOnline(size_t index = 0) {
    ASSERT_TRUE(broker->waitSessions(index + 1));
    broker->connack(index);
    ASSERT_TRUE(waitStatus(AclkStatus::kConnected));
  }

  void deliver(size_t index, const std::string& type, const std::string& payload) {
    MqttEvent e;
    e.kind = MqttEvent::Kind::kMessage;
    e.text = "/agent/" + claims->get()->claimedId + "/inbound/v1/cmd/" + type;
    e.payload = payload;
    broker->emit(index, std::move(e));
  }

  // Session `index` ends: before CONNACK (kConnectFailed) or after it (kConnectionLost), with
  // the transport's reason when it had one.
  void end(size_t index, MqttEvent::Kind kind, std::string text,
           std::optional<AclkStatus> why = std::nullopt, int code = 0) {
    MqttEvent e;
    e.kind = kind;
    e.text = std::move(text);
    e.transportStatus = why;
    e.pingTimeout = why == AclkStatus::kOfflinePingTimeout;
    e.code = code;
    broker->emit(index, std::move(e));
  }

  void ack(size_t index, uint64_t id, bool success = true) {
    MqttEvent e;
    e.kind = MqttEvent::Kind::kPublishDone;
    e.publishId = id;
    e.success = success;
    broker->emit(index, std::move(e));
  }

  LinkOptions opt;
  std::shared_ptr<FakeBroker> broker = std::make_shared<FakeBroker>();
  std::shared_ptr<Claims> claims = std::make_shared<Claims>();
  std::unique_ptr<Link> link;
};

TEST_F(LinkTest, ConnackGoesOnlineSubscribesAndAnnouncesTheAgent) {
  start();
  goOnline();
  const auto s = broker->session(0);
  {
    std::lock_guard lock(broker->mutex);
    EXPECT_EQ(s->params.clientId, "c");
    EXPECT_EQ(s->params.username, "u");
    EXPECT_EQ(s->params.keepAlive, 60s);
    EXPECT_EQ(s->params.wire.host, "mqtt.example.test");
    EXPECT_EQ(s->params.willTopic,
              "/agent/" + claims->get()->claimedId + "/out/agent-connection");
  }
  ASSERT_TRUE(broker->waitFor([&] { return s->subscriptions.size() == 2; }));
  const auto hello = broker->waitPublish("/agent-connection");
  ASSERT_TRUE(hello);
  const auto v = state();
  EXPECT_TRUE(v.online);
  EXPECT_EQ(v.aclkStatus, "connected");
  EXPECT_EQ(counter(v, "connections"), 1u);
  EXPECT_EQ(v.pendingPubacks, 1u) << "the agent-connection message waits for its PUBACK";
  ack(0, hello->id);
  EXPECT_TRUE(eventually([&] { return state().pendingPubacks == 0; }));
  EXPECT_EQ(state().receivedPubacks, 1u);
}

TEST_F(LinkTest, ConnackRefusedCountsAFailedAttemptAndRetries) {
  start();
  ASSERT_TRUE(broker->waitSessions(1));
  end(0, MqttEvent::Kind::kConnectFailed, "connack", std::nullopt, 135);  // Not authorized
  ASSERT_TRUE(broker->waitSessions(2)) << "the link retries after its backoff";
  const auto v = state();
  EXPECT_FALSE(v.online);
  EXPECT_EQ(counter(v, "failed-connection-attempts"), 1u);
  EXPECT_EQ(counter(v, "connection-attempts"), 2u);
  EXPECT_EQ(counter(v, "connections"), 0u);
  EXPECT_TRUE(broker->session(0)->disconnected) << "the refused session is closed";
}

TEST_F(LinkTest, TransportFailureBeforeConnackReportsTheTransportStatus) {
  start();
  ASSERT_TRUE(broker->waitSessions(1));
  end(0, MqttEvent::Kind::kConnectFailed, "transport", AclkStatus::kHttpsProxyNegotiationFailed);
  EXPECT_TRUE(waitStatus(AclkStatus::kHttpsProxyNegotiationFailed));
}

TEST_F(LinkTest, DisconnectRequestHonoursReconnectAfter) {
  start();
  goOnline();
  agent::v1::DisconnectReq req;
  req.set_reconnect_after_seconds(2);
  req.set_error_code(7);
  const auto before = std::chrono::system_clock::now();
  cloudDisconnects(req);
  // The link marks itself offline before its loop computes the next attempt; wait for that.
  ASSERT_TRUE(eventually([&] { return state().times.nextConnectionAttempt.has_value(); }));
  const auto v = state();
  EXPECT_FALSE(v.online);
  ASSERT_TRUE(v.times.nextConnectionAttempt);
  EXPECT_GE(*v.times.nextConnectionAttempt, std::chrono::system_clock::to_time_t(before) + 1)
      << "no attempt before the cloud's reconnect_after";
  EXPECT_FALSE(v.banned);
  ASSERT_TRUE(broker->waitSessions(2)) << "the link comes back after the block";
  EXPECT_GE(std::chrono::system_clock::now() - before, 1900ms);
}

TEST_F(LinkTest, PermabanWaitsForAReload) {
  opt.banRetry = std::chrono::seconds(3600);
  start();
  goOnline();
  agent::v1::DisconnectReq req;
  req.set_permaban(true);
  cloudDisconnects(req);
  auto v = state();
  EXPECT_TRUE(v.banned);
  EXPECT_EQ(counter(v, "bans"), 1u);
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard lock(broker->mutex);
    EXPECT_EQ(broker->sessions.size(), 1u) << "banned: no new attempt";
  }
  link->reloadIdentity();
  ASSERT_TRUE(broker->waitSessions(2)) << "reload-claiming-state lifts the ban";
  EXPECT_FALSE(state().banned);
}

TEST_F(LinkTest, PingTimeoutIsReportedAndTheLinkReconnects) {
  start();
  goOnline();
  end(0, MqttEvent::Kind::kConnectionLost, "no PINGRESP within 60 s of the PINGREQ",
      AclkStatus::kOfflinePingTimeout);
  ASSERT_TRUE(waitOffline(AclkStatus::kOfflinePingTimeout));
  auto v = state();
  EXPECT_FALSE(v.online);
  EXPECT_TRUE(v.times.lastDisconnect);
  EXPECT_EQ(counter(v, "session-takeovers"), 0u);
  ASSERT_TRUE(broker->waitSessions(2));
  goOnline(1);
  EXPECT_EQ(state().reconnectCount, 1u);
}

TEST_F(LinkTest, NoIoProgressFromTheTransportIsReported) {
  start();
  goOnline();
  end(0, MqttEvent::Kind::kConnectionLost, "no I/O progress for 120 s",
      AclkStatus::kOfflineNoIoProgress);
  EXPECT_TRUE(waitStatus(AclkStatus::kOfflineNoIoProgress));
}

TEST_F(LinkTest, ReloadWhileOnlineReconnectsOnlyWhenTheIdentityChanged) {
  start();
  goOnline();
  ASSERT_TRUE(broker->waitPublish("/agent-connection"));
  link->reloadIdentity();  // same generation: nothing to do
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(link->status(), AclkStatus::kConnected);
  EXPECT_FALSE(broker->session(0)->disconnected);

  claims->reclaim("99999999-2222-3333-4444-555555555555");
  link->reloadIdentity();
  ASSERT_TRUE(waitStatus(AclkStatus::kOfflineReloadingConfig));
  const auto bye = broker->waitPublish("/agent-connection", 1);
  ASSERT_TRUE(bye) << "reachable=false before leaving";
  ack(0, bye->id);
  ASSERT_TRUE(broker->waitFor([&] { return broker->sessions[0]->disconnected; }));
  ASSERT_TRUE(broker->waitSessions(2));
  std::lock_guard lock(broker->mutex);
  EXPECT_EQ(broker->sessions[1]->params.willTopic,
            "/agent/99999999-2222-3333-4444-555555555555/out/agent-connection");
}

TEST_F(LinkTest, PublishFailuresAreCounted) {
  broker->failPublish = true;
  start();
  goOnline();
  // The agent-connection message could not be handed to the session.
  EXPECT_TRUE(eventually([&] { return counter(state(), "messages-dropped-offline") != 0; }));
  auto v = state();
  EXPECT_EQ(counter(v, "messages-dropped-offline"), 1u);
  EXPECT_EQ(counter(v, "outbound-bytes-in-flight"), 0u) << "the reservation is returned";
  EXPECT_EQ(v.pendingPubacks, 0u);

  // A publish the broker failed (no PUBACK): counted as a publish failure.
  {
    std::lock_guard lock(broker->mutex);
    broker->failPublish = false;
  }
  deliver(0, "SendNodeInstances", "");
  const auto create = broker->waitPublish("/create-node-instance");
  ASSERT_TRUE(create) << "the gateway's node is created";
  ack(0, create->id, false);
  EXPECT_TRUE(eventually([&] { return counter(state(), "publish-failures") != 0; }));
  v = state();
  EXPECT_EQ(counter(v, "publish-failures"), 1u);
  EXPECT_EQ(v.pendingPubacks, 0u);
}

}  // namespace
}  // namespace aclkd::aclk
