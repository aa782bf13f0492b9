// The alert relay against a fake agent (a ForwardClient answering from the captured fixtures):
// health checks, following the log, durable resume, failures and configuration answers.
#include "alerts/alert_relay.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

namespace aclkd::alerts {
namespace {

using namespace std::chrono_literals;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ACLKD_SOURCE_DIR) + "/tests/fixtures/alerts/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Answers every request on its own thread, from `routes` (path and query → status, body); a
// path it does not know is unreachable.
class FakeAgent : public query::ForwardClient {
 public:
  FakeAgent() : thread_([this] { run(); }) {}
  ~FakeAgent() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void route(const std::string& pathAndQuery, long status, std::string body) {
    std::lock_guard lock(mutex_);
    routes_[pathAndQuery] = {status, std::move(body)};
  }
  void unroute(const std::string& pathAndQuery) {
    std::lock_guard lock(mutex_);
    routes_.erase(pathAndQuery);
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  uint64_t submit(query::ForwardRequest request, Completion done) override {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(std::move(request), std::move(done));
    cv_.notify_all();
    return ++ids_;
  }
  void cancel(uint64_t) override {}

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      auto [request, done] = std::move(queue_.front());
      queue_.pop_front();
      const std::string path = request.url.substr(request.url.find("/api/"));
      seen_.push_back(path);
      query::ForwardResponse r;
      if (const auto it = routes_.find(path); it != routes_.end()) {
        r.outcome = query::ForwardOutcome::kAnswered;
        r.status = it->second.first;
        r.body = it->second.second;
      } else {
        r.outcome = query::ForwardOutcome::kUnreachable;
        r.error = "connection refused";
      }
      lock.unlock();
      done(std::move(r));
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<query::ForwardRequest, Completion>> queue_;
  std::map<std::string, std::pair<long, std::string>> routes_;
  std::vector<std::string> seen_;
  uint64_t ids_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

struct Persisted {
  std::mutex mutex;
  uint64_t cursor = 0;
  std::map<std::string, aclk::AlarmEntry> entries;
};

struct Fixture {
  std::shared_ptr<FakeAgent> agent = std::make_shared<FakeAgent>();
  std::shared_ptr<Persisted> persisted = std::make_shared<Persisted>();
  std::atomic<int> flips{0};

  std::unique_ptr<AlertRelay> relay() {
    RelayOptions o;
    o.pollEvery = 50ms;
    o.seed = 1;
    auto nodes = [] {
      query::NodeFacts f;
      f.machineGuid = "guid-1";
      f.hostname = "child";
      f.nodeId = "node-1";
      f.live = true;
      f.guidQueryUrl = "http://127.0.0.1:1";
      return std::vector<query::NodeFacts>{f};
    };
    auto persist = [p = persisted](const std::string&, uint64_t cursor,
                                   const std::vector<aclk::AlarmEntry>& changed) {
      std::lock_guard lock(p->mutex);
      p->cursor = cursor;
      for (const auto& e : changed) p->entries[e.key] = e;
    };
    return std::make_unique<AlertRelay>(o, nodes, agent, persist, [this] { ++flips; });
  }
};

template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

TEST(AlertRelayTest, FollowsA137AgentAndResumesAfterARestartWithoutRepeats) {
  Fixture fx;
  fx.agent->route("/api/v1/alarms?all", 200, fixture("netdata-1.37-alarms.json"));
  fx.agent->route("/api/v1/alarm_log?after=0", 200, fixture("netdata-1.37-alarm_log.json"));
  fx.agent->route("/api/v1/alarm_log?after=1796507743", 200, "[]");
  auto relay = fx.relay();
  relay->start();
  ASSERT_TRUE(eventually([&] { return relay->relays("node-1"); }));
  EXPECT_TRUE(relay->relayed("guid-1"));
  // The relay's thread tells after the node is marked (seen late under ASan): waited for.
  EXPECT_TRUE(eventually([&] { return fx.flips.load() >= 1; }));
  // First contact: the latest transition of each of the 4 alerts in the log, none sent yet.
  auto pending = relay->pending("node-1", 100);
  ASSERT_EQ(pending.size(), 4u);
  EXPECT_EQ(relay->version("node-1"), 0u);
  relay->sent("node-1", pending[1].cursor);
  const uint64_t twoSent = pending[0].when + pending[1].when;
  EXPECT_EQ(relay->version("node-1"), twoSent);
  {
    std::lock_guard lock(fx.persisted->mutex);
    EXPECT_EQ(fx.persisted->entries.size(), 2u);
  }
  // The cursor moved on: the next polls ask after the newest id.
  ASSERT_TRUE(eventually([&] {
    for (const auto& s : fx.agent->seen()) {
      if (s == "/api/v1/alarm_log?after=1796507743") return true;
    }
    return false;
  }));
  const auto status = relay->status("guid-1");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->raised, 1u);
  relay->stop();

  // A restart with what was persisted: the two unsent ones come again, the sent ones do not.
  auto again = fx.relay();
  {
    std::lock_guard lock(fx.persisted->mutex);
    std::vector<aclk::AlarmEntry> entries;
    for (const auto& [k, e] : fx.persisted->entries) entries.push_back(e);
    again->restore("guid-1", fx.persisted->cursor, entries);
  }
  const uint64_t cursor = fx.persisted->cursor;
  fx.agent->route("/api/v1/alarm_log?after=" + std::to_string(cursor), 200,
                  fixture("netdata-1.37-alarm_log.json"));
  again->start();
  ASSERT_TRUE(eventually([&] { return again->pending("node-1", 100).size() == 2u; }));
  EXPECT_EQ(again->version("node-1"), twoSent);
  const auto rest = again->pending("node-1", 100);
  EXPECT_EQ(rest[0].cursor, pending[2].cursor);
  EXPECT_EQ(rest[1].cursor, pending[3].cursor);
  // The derived configuration hash is answered from the agent's definitions.
  std::promise<std::optional<aclk::AlarmConfig>> answer;
  auto raised = std::find_if(pending.begin(), pending.end(), [](const auto& e) {
    return e.name == "aclkd_always_raised";
  });
  ASSERT_NE(raised, pending.end());
  again->configuration(raised->configHash,
                       [&](std::optional<aclk::AlarmConfig> c) { answer.set_value(c); });
  auto future = answer.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  const auto config = future.get();
  ASSERT_TRUE(config);
  EXPECT_EQ(config->alarm, "aclkd_always_raised");
  EXPECT_EQ(config->warning, "$this >= 0");
}

TEST(AlertRelayTest, V2AgentReadsTransitionsFromAnAbsoluteTime) {
  Fixture fx;
  fx.agent->route("/api/v1/alarms?all", 200, fixture("netdata-2.10.4-alarms.json"));
  fx.agent->route("/api/v2/alert_transitions?after=946684800&last=1000", 200,
                  fixture("netdata-2.10.4-alert_transitions.json"));
  auto relay = fx.relay();
  relay->start();
  ASSERT_TRUE(eventually([&] { return relay->pending("node-1", 10).size() == 2u; }));
  const auto read = relay->pending("node-1", 10);
  const auto& e = read[1];  // the newest
  EXPECT_EQ(read[0].configHash, "1b2e1dcd-74ae-46e3-997e-3d16c46e323f");
  relay->sent("node-1", read[1].cursor);
  // Then from the newest `when` (inclusive: the same gi is skipped).
  ASSERT_TRUE(eventually([&] {
    for (const auto& s : fx.agent->seen()) {
      if (s == "/api/v2/alert_transitions?after=" + std::to_string(e.when) + "&last=1000") {
        return true;
      }
    }
    return false;
  }));
}

TEST(AlertRelayTest, HealthOffAndUnreachableAgentsAreNotRelayedAndCounted) {
  Fixture fx;
  fx.agent->route("/api/v1/alarms?all", 200, R"({"hostname": "x", "alarms": {}})");
  auto relay = fx.relay();
  relay->start();
  ASSERT_TRUE(eventually([&] {
    const auto s = relay->status("guid-1");
    return s && s->reason.find("health is off") != std::string::npos;
  }));
  EXPECT_FALSE(relay->relays("node-1"));
  // Health on, then the agent goes away: after three failed polls the node is not relayed.
  fx.agent->route("/api/v1/alarms?all", 200, fixture("netdata-1.37-alarms.json"));
  fx.agent->route("/api/v1/alarm_log?after=0", 200, fixture("netdata-1.37-alarm_log.json"));
  ASSERT_TRUE(eventually([&] { return relay->relays("node-1"); }));
  fx.agent->unroute("/api/v1/alarms?all");
  fx.agent->route("/api/v1/alarm_log?after=1796507743", 200, "not json");
  ASSERT_TRUE(eventually([&] { return !relay->relays("node-1"); }));
  const auto s = relay->status("guid-1");
  ASSERT_TRUE(s);
  EXPECT_NE(s->reason, "");
  const auto& st = relay->stats();
  EXPECT_GE(st.polls[static_cast<size_t>(PollOutcome::kBadAnswer)].load(), 3u);
  const std::string metrics = st.render();
  EXPECT_NE(metrics.find("aclkd_alert_polls_total{outcome=\"bad_answer\"}"), std::string::npos);
  EXPECT_NE(metrics.find("aclkd_alert_nodes_relayed 0"), std::string::npos);
}

TEST(AlertRelayTest, UnknownConfigurationIsAnsweredEmpty) {
  Fixture fx;
  auto relay = fx.relay();
  relay->start();
  std::promise<bool> found;
  relay->configuration("no-such-hash",
                       [&](std::optional<aclk::AlarmConfig> c) { found.set_value(c.has_value()); });
  auto f = found.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
  EXPECT_EQ(relay->stats().configsUnknown.load(), 1u);
}

}  // namespace
}  // namespace aclkd::alerts
