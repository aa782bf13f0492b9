#include "stream_bridge/node_registry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

#include "unit/stream_bridge/registry_test_store.h"
#include "unit/test_util.h"

namespace aclkd::stream_bridge {
namespace {

StreamRequest request(const std::string& guid, const std::string& host) {
  StreamRequest r;
  r.apiKey = "11111111-2222-3333-4444-555555555555";
  r.hostname = host;
  r.machineGuid = guid;
  r.hops = 1;
  r.version = "v1.37.1";
  r.systemInfo["NETDATA_SYSTEM_KERNEL_NAME"] = "Linux";
  r.systemInfo["NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT"] = "4";
  r.systemInfo["NETDATA_SYSTEM_CPU_FREQ"] = "2.596e 09";  // the 1.37 `+` quirk
  return r;
}

HostPolicy everything() {
  HostPolicy p;
  p.sendChartsMatching = SimplePattern::parse("*");
  return p;
}

ChartDefinition chart(std::string_view id, std::string_view context, int64_t priority = 100) {
  ChartDefinition c;
  c.id = id;
  c.title = "Title";
  c.units = "%";
  c.family = "cpu";
  c.context = context;
  c.chartType = "line";
  c.priority = priority;
  c.updateEvery = 1;
  return c;
}

class NodeRegistryTest : public ::testing::Test {
 protected:
  std::time_t now = 1000;
  int changes = 0;
  NodeRegistry registry{[this] { ++changes; }, [this] { return now; }};
  const std::string guid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
};

TEST_F(NodeRegistryTest, ChartsBecomeContextsWithTheVersionHash) {
  auto s = registry.attach(request(guid, "child"), everything(), "127.0.0.1:5000");
  ASSERT_TRUE(s);
  s->onChart(chart("cpu.cpu0", "cpu.cpu", 200));
  s->onChart(chart("cpu.cpu1", "cpu.cpu", 150));
  s->onChart(chart("disk.sda", "disk.io"));
  s->onSamples("cpu.cpu0", 0);
  const auto snap = registry.contextsSnapshot(guid);
  ASSERT_EQ(snap.contexts.size(), 2u);
  const auto& cpu = snap.contexts[0];
  EXPECT_EQ(cpu.id, "cpu.cpu");
  EXPECT_EQ(cpu.priority, 150u) << "the lowest priority of the context's charts";
  EXPECT_EQ(cpu.lastEntry, 0u) << "0 while collected";
  EXPECT_EQ(cpu.firstEntry, 1000u);
  uint64_t hash = 0;
  for (const auto& c : snap.contexts) hash += c.version + c.lastEntry - c.firstEntry;
  EXPECT_EQ(snap.versionHash, hash);
  EXPECT_FALSE(registry.contextsUpdates(guid)) << "a snapshot leaves nothing pending";
}

TEST_F(NodeRegistryTest, ChangesCoalesceUntilTakenAndDisconnectSetsLastEntry) {
  auto s = registry.attach(request(guid, "child"), everything(), "p");
  s->onChart(chart("cpu.cpu0", "cpu.cpu"));
  registry.contextsSnapshot(guid);
  now = 1005;
  s->onChart(chart("cpu.cpu0", "cpu.cpu", 1));  // priority changed
  s->onChart(chart("net.eth0", "net.net"));
  auto upd = registry.contextsUpdates(guid);
  ASSERT_TRUE(upd);
  EXPECT_EQ(upd->contexts.size(), 2u);
  EXPECT_FALSE(registry.contextsUpdates(guid));
  s->onSamples("cpu.cpu0", 0);
  now = 1010;
  s.reset();  // the child disconnects
  upd = registry.contextsUpdates(guid);
  ASSERT_TRUE(upd);
  for (const auto& c : upd->contexts) EXPECT_NE(c.lastEntry, 0u) << c.id;
  const auto nodes = registry.relayedNodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_FALSE(nodes[0].live);
}

// The per-sample path keeps the last sample time on the stream (no lock, no table search); the
// contexts still end at each chart's last sample when the child disconnects.
TEST_F(NodeRegistryTest, SampleTimesKeptOnTheStreamReachTheContextsAtDisconnect) {
  auto s = registry.attach(request(guid, "child"), everything(), "p");
  s->onChart(chart("cpu.cpu0", "cpu.cpu"));
  s->onChart(chart("disk.sda", "disk.io"));
  EXPECT_FALSE(s->sampleCached("cpu.cpu0", 1001)) << "a chart's first sample goes to the table";
  s->onSamples("cpu.cpu0", 1001);
  s->onSamples("disk.sda", 1001);
  EXPECT_TRUE(s->sampleCached("cpu.cpu0", 1150));
  EXPECT_TRUE(s->sampleCached("disk.sda", 1100));
  EXPECT_TRUE(s->sampleCached("cpu.cpu0", 1120)) << "out of order: found, time kept at 1150";
  EXPECT_FALSE(s->sampleCached("net.eth0", 1200)) << "never defined";
  now = 1300;
  s->refreshClock();
  EXPECT_TRUE(s->sampleCached("disk.sda", 0)) << "BEGIN without a time: the refreshed clock";
  registry.contextsSnapshot(guid);
  s.reset();
  const auto upd = registry.contextsUpdates(guid);
  ASSERT_TRUE(upd);
  std::map<std::string, uint64_t> last;
  for (const auto& c : upd->contexts) last[c.id] = c.lastEntry;
  EXPECT_EQ(last["cpu.cpu"], 1150u);
  EXPECT_EQ(last["disk.io"], 1300u);
}

TEST_F(NodeRegistryTest, NodeInfoReachesTheLinkOnceAndComplete) {
  // A child that negotiates host labels is shown to the link only with them: not once without
  // labels at connect and again with them.
  auto r = request(guid, "child");
  r.ver = 16376;
  auto s = registry.attach(r, everything(), "p");
  EXPECT_TRUE(registry.relayedNodes().empty());
  s->onHostLabel("role", "db", 2);
  s->onHostLabelsCommit();
  auto nodes = registry.relayedNodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_TRUE(nodes[0].live);
  EXPECT_EQ(nodes[0].hostLabels.size(), 1u);
  const auto version = nodes[0].infoVersion;
  s.reset();
  EXPECT_FALSE(registry.relayedNodes()[0].live);
  // It reconnects with the same labels: the link sees it offline, as it last saw it, until the
  // labels came again; then live, with one change of info.
  s = registry.attach(r, everything(), "p");
  nodes = registry.relayedNodes();
  EXPECT_FALSE(nodes[0].live);
  const int before = changes;
  s->onHostLabel("role", "db", 2);
  s->onHostLabelsCommit();
  EXPECT_EQ(changes, before + 1);
  nodes = registry.relayedNodes();
  EXPECT_TRUE(nodes[0].live);
  EXPECT_GT(nodes[0].infoVersion, version);
  // A child that sends no labels is complete at its first chart.
  const std::string other = "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  auto q = request(other, "quiet");
  q.ver = 16376;
  auto t = registry.attach(q, everything(), "p2");
  EXPECT_EQ(registry.relayedNodes().size(), 1u);
  t->onChart(chart("cpu.cpu0", "cpu.cpu"));
  EXPECT_EQ(registry.relayedNodes().size(), 2u);
}

TEST_F(NodeRegistryTest, ADuplicateLiveHostIsRefusedAndAReconnectKeepsTheNode) {
  auto s = registry.attach(request(guid, "child"), everything(), "p");
  EXPECT_FALSE(registry.attach(request(guid, "child"), everything(), "p2"));
  s.reset();
  auto again = registry.attach(request(guid, "child"), everything(), "p3");
  EXPECT_TRUE(again);
  EXPECT_EQ(registry.nodes().size(), 1u);
  EXPECT_TRUE(registry.nodes()[0].live);
}

TEST_F(NodeRegistryTest, SendChartsMatchingFiltersWhatIsRelayed) {
  HostPolicy p;
  p.sendChartsMatching = SimplePattern::parse("!apps.* *");
  auto s = registry.attach(request(guid, "child"), p, "p");
  s->onChart(chart("apps.cpu", "apps.cpu"));
  s->onChart(chart("system.cpu", "system.cpu"));
  const auto snap = registry.contextsSnapshot(guid);
  ASSERT_EQ(snap.contexts.size(), 1u);
  EXPECT_EQ(snap.contexts[0].id, "system.cpu");
  EXPECT_EQ(registry.nodes()[0].charts, 2u);
  EXPECT_EQ(registry.nodes()[0].relayedCharts, 1u);
}

TEST_F(NodeRegistryTest, LabelsAndSystemInfoReachTheRelayedNode) {
  auto s = registry.attach(request(guid, "child"), everything(), "p");
  const int before = changes;
  s->onHostLabel("_os_name", "Debian", 1);
  s->onHostLabel("role", "db", 2);
  s->onHostLabelsCommit();
  EXPECT_EQ(changes, before + 1);
  s->onHostLabel("_os_name", "Debian", 1);
  s->onHostLabel("role", "db", 2);
  s->onHostLabelsCommit();  // the same set again: no change to report
  EXPECT_EQ(changes, before + 1);
  const auto nodes = registry.relayedNodes();
  ASSERT_EQ(nodes[0].hostLabels.size(), 2u);
  EXPECT_EQ(nodes[0].system.kernelName, "Linux");
  EXPECT_EQ(nodes[0].system.cpus, 4u);
  EXPECT_EQ(nodes[0].system.cpuFrequency, "2596000000");
  EXPECT_EQ(nodes[0].agentVersion, "v1.37.1");
}

TEST_F(NodeRegistryTest, EphemeralNodesAreForgottenAfterTheirTime) {
  HostPolicy p = everything();
  p.ephemeral = true;
  registry.attach(request(guid, "child"), p, "p").reset();
  now += 100;
  registry.cleanupEphemeral(200);
  EXPECT_EQ(registry.nodes().size(), 1u);
  now += 200;
  registry.cleanupEphemeral(200);
  EXPECT_TRUE(registry.nodes().empty());
}

// A context keeps its first chart inline and the others in a per-host list: charts leaving it in
// any order leave the rest in place, and the last one leaving deletes it.
TEST_F(NodeRegistryTest, ChartsLeavingAContextInAnyOrderLeaveTheOthers) {
  auto s = registry.attach(request(guid, "child"), everything(), "p");
  s->onChart(chart("cpu.cpu0", "cpu.cpu", 300));
  s->onChart(chart("cpu.cpu1", "cpu.cpu", 200));
  s->onChart(chart("cpu.cpu2", "cpu.cpu", 100));
  s->onChart(chart("disk.sda", "disk.io"));
  const auto contexts = [&] {
    std::map<std::string, ContextRecord> byId;
    for (const auto& c : registry.contextsSnapshot(guid).contexts) byId[c.id] = c;
    return byId;
  };
  EXPECT_EQ(contexts()["cpu.cpu"].priority, 100u);
  now = 1001;
  s->onChart(chart("cpu.cpu0", "cpu.moved", 300));  // the context's inline chart leaves
  auto now1 = contexts();
  EXPECT_EQ(now1["cpu.cpu"].priority, 100u) << "cpu1 and cpu2 stay";
  EXPECT_EQ(now1["cpu.moved"].priority, 300u);
  now = 1002;
  s->onChart(chart("cpu.cpu2", "cpu.moved", 100));  // one of the others leaves
  auto now2 = contexts();
  EXPECT_EQ(now2["cpu.cpu"].priority, 200u) << "cpu1 alone";
  EXPECT_EQ(now2["cpu.moved"].priority, 100u);
  now = 1003;
  s->onChart(chart("cpu.cpu1", "cpu.moved", 200));  // the last one leaves
  EXPECT_EQ(contexts().count("cpu.cpu"), 0u) << "deleted: not in a snapshot";
  EXPECT_EQ(contexts()["cpu.moved"].priority, 100u);
  EXPECT_EQ(registry.nodes()[0].contexts, 3u) << "cpu.cpu is still known, as deleted";
}

// Times are kept as 32-bit epoch seconds and priorities as 32-bit: what a child sends past that
// is kept as the limit, and nothing negative becomes a time.
TEST_F(NodeRegistryTest, TimesAndPrioritiesPastThirtyTwoBitsAreKeptAsTheLimit) {
  auto s = registry.attach(request(guid, "child"), everything(), "p");
  s->onChart(chart("cpu.cpu0", "cpu.cpu", int64_t{1} << 40));
  s->onChartDefinitionEnd("cpu.cpu0", -5, int64_t{1} << 40, 0);
  auto snap = registry.contextsSnapshot(guid);
  ASSERT_EQ(snap.contexts.size(), 1u);
  EXPECT_EQ(snap.contexts[0].priority, UINT32_MAX);
  EXPECT_EQ(snap.contexts[0].firstEntry, 1000u) << "a negative first entry is not one";
  s->onSamples("cpu.cpu0", int64_t{1} << 41);
  EXPECT_TRUE(s->sampleCached("cpu.cpu0", INT64_MAX));
  s.reset();
  const auto upd = registry.contextsUpdates(guid);
  ASSERT_TRUE(upd);
  EXPECT_EQ(upd->contexts[0].lastEntry, UINT32_MAX);
  EXPECT_GT(upd->contexts[0].version, snap.contexts[0].version);
}

// ---- with a real state store: what one run leaves, the next run restores ----------------

const std::string kLive = "aaaaaaaa-bbbb-4ccc-8ddd-000000000001";
const std::string kGone = "aaaaaaaa-bbbb-4ccc-8ddd-000000000002";

class RegistryStoreTest : public ::testing::Test {
 protected:
  aclkd::test::TempDir dir;
  std::time_t now = 1000;

  // One run: kGone streams and stops, kLive is still streaming at the (graceful) stop.
  void firstRun(aclk::ContextBatch* goneSeen, aclk::ContextBatch* liveSeen) {
    auto store = openStore(dir.file("state.db"));
    NodeRegistry registry({}, [this] { return now; });
    registry.restoreFrom(store);
    {
      auto gone = registry.attach(request(kGone, "gone"), everything(), "10.0.0.2:1");
      gone->onChart(chart("cpu.cpu0", "cpu.cpu"));
      gone->onSamples("cpu.cpu0", 990);
      now = 1010;
    }
    auto live = registry.attach(request(kLive, "live"), everything(), "10.0.0.1:1");
    live->onChart(chart("cpu.cpu0", "cpu.cpu"));
    live->onChart(chart("disk.sda", "disk.io"));
    live->onSamples("cpu.cpu0", 1005);
    store->putNodeId(kLive, {"node-live", "claim"});
    *goneSeen = registry.contextsSnapshot(kGone);
    *liveSeen = registry.contextsSnapshot(kLive);
    registry.detachStore();  // graceful stop: before the streams close
  }
};

TEST_F(RegistryStoreTest, NodesComeBackOfflineWithTheirContextsAsTheCloudSawThem) {
  aclk::ContextBatch goneSeen, liveSeen;
  firstRun(&goneSeen, &liveSeen);
  auto store = openStore(dir.file("state.db"));
  NodeRegistry registry({}, [this] { return now; });
  registry.restoreFrom(store);
  const auto nodes = registry.nodes();
  ASSERT_EQ(nodes.size(), 2u);
  for (const auto& n : nodes) {
    EXPECT_FALSE(n.live);
    EXPECT_TRUE(n.restored);
  }
  EXPECT_EQ(nodes[0].machineGuid, kLive);
  EXPECT_EQ(nodes[0].nodeId, "node-live");
  EXPECT_EQ(nodes[0].hostname, "live");
  EXPECT_EQ(nodes[0].version, "v1.37.1");
  EXPECT_EQ(registry.contextsSnapshot(kGone).versionHash, goneSeen.versionHash);
  EXPECT_EQ(registry.contextsSnapshot(kLive).versionHash, liveSeen.versionHash);
  EXPECT_EQ(registry.contextsSnapshot(kLive).contexts.size(), 2u);
  const auto relayed = registry.relayedNodes();
  ASSERT_EQ(relayed.size(), 2u);
  EXPECT_EQ(relayed[0].system.cpus, 4u);
  EXPECT_FALSE(relayed[0].live);
}

// The store keeps each host's chart count with its node info, so that its next connection can
// size the chart table once; a node restored from it and saved again keeps the count.
TEST_F(RegistryStoreTest, TheChartCountOfAHostSurvivesARestart) {
  aclk::ContextBatch goneSeen, liveSeen;
  firstRun(&goneSeen, &liveSeen);
  const auto chartsOf = [&](const std::string& guid) {
    auto loaded = openStore(dir.file("state.db"))->takeLoaded();
    for (const auto& n : loaded.nodes) {
      if (n.machineGuid == guid) return nlohmann::json::parse(n.nodeInfo).value("charts", 0);
    }
    return -1;
  };
  EXPECT_EQ(chartsOf(kLive), 2);
  EXPECT_EQ(chartsOf(kGone), 1);
  {
    auto store = openStore(dir.file("state.db"));
    NodeRegistry registry({}, [this] { return now; });
    registry.restoreFrom(store);
    EXPECT_EQ(registry.removeStaleNodes(kLive, false).size(), 1u);  // saves its node info
    registry.detachStore();
  }
  EXPECT_EQ(chartsOf(kLive), 2) << "restored without charts, saved with the count it had";
}

TEST_F(RegistryStoreTest, AReturningStreamKeepsTheFirstEntryOfItsContexts) {
  aclk::ContextBatch goneSeen, liveSeen;
  firstRun(&goneSeen, &liveSeen);
  auto store = openStore(dir.file("state.db"));
  NodeRegistry registry({}, [this] { return now; });
  registry.restoreFrom(store);
  now = 2000;
  auto s = registry.attach(request(kGone, "gone"), everything(), "10.0.0.2:2");
  ASSERT_TRUE(s);
  s->onChart(chart("cpu.cpu0", "cpu.cpu"));
  s->onSamples("cpu.cpu0", 1999);
  const auto snap = registry.contextsSnapshot(kGone);
  ASSERT_EQ(snap.contexts.size(), 1u);
  EXPECT_EQ(snap.contexts[0].firstEntry, goneSeen.contexts[0].firstEntry);
  EXPECT_EQ(snap.contexts[0].lastEntry, 0u);
  EXPECT_FALSE(registry.nodes()[1].restored);
}

TEST_F(RegistryStoreTest, RemoveStaleNodeForgetsItInTheStoreToo) {
  aclk::ContextBatch goneSeen, liveSeen;
  firstRun(&goneSeen, &liveSeen);
  {
    auto store = openStore(dir.file("state.db"));
    NodeRegistry registry({}, [this] { return now; });
    registry.restoreFrom(store);
    auto live = registry.attach(request(kLive, "live"), everything(), "10.0.0.1:1");
    const auto out = registry.removeStaleNodes("ALL", true);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NE(out[0].find("gone"), std::string::npos);
    EXPECT_NE(out[0].find("unregistered"), std::string::npos);
    EXPECT_EQ(registry.removeStaleNodes("live", true)[0],
              "Node 'live' (machine guid: " + kLive + ") is online - not changing it");
    EXPECT_EQ(registry.removeStaleNodes("nobody", true)[0], "No match for \"nobody\"");
    registry.detachStore();
  }
  {
    auto loaded = openStore(dir.file("state.db"))->takeLoaded();
    EXPECT_EQ(loaded.contexts.count(kGone), 0u) << "its context set went with it";
    EXPECT_EQ(loaded.contexts.count(kLive), 1u);
  }
  auto store = openStore(dir.file("state.db"));
  NodeRegistry registry({}, [this] { return now; });
  registry.restoreFrom(store);
  ASSERT_EQ(registry.nodes().size(), 1u);
  EXPECT_EQ(registry.nodes()[0].machineGuid, kLive);
}

TEST_F(RegistryStoreTest, MarkedEphemeralNodesAreCleanedUpHereAndInTheStore) {
  aclk::ContextBatch goneSeen, liveSeen;
  firstRun(&goneSeen, &liveSeen);
  auto store = openStore(dir.file("state.db"));
  NodeRegistry registry({}, [this] { return now; });
  registry.restoreFrom(store);
  const auto out = registry.removeStaleNodes(kGone, false);
  EXPECT_NE(out[0].find("has been marked ephemeral"), std::string::npos);
  EXPECT_NE(registry.removeStaleNodes(kGone, false)[0].find("already ephemeral"),
            std::string::npos);
  now = 5000;
  registry.cleanupEphemeral(60);
  ASSERT_EQ(registry.nodes().size(), 1u);
  registry.detachStore();
  store.reset();
  auto again = openStore(dir.file("state.db"));
  EXPECT_EQ(again->takeLoaded().nodes.size(), 1u);
}


// totals() and liveCount() are kept as nodes come and go instead of walked (a /metrics at 10,000
// nodes walked every context under the lock): they agree with the node list at every step.
TEST_F(RegistryStoreTest, TotalsAgreeWithTheNodeListThroughRestoreStreamsAndRemoval) {
  aclk::ContextBatch goneSeen, liveSeen;
  firstRun(&goneSeen, &liveSeen);
  auto store = openStore(dir.file("state.db"));
  NodeRegistry registry({}, [this] { return now; });
  const auto agree = [&](size_t nodes, size_t live, size_t contexts) {
    const auto t = registry.totals();
    size_t walkedLive = 0, walkedContexts = 0;
    for (const auto& n : registry.nodes()) {
      walkedLive += n.live ? 1 : 0;
      EXPECT_EQ(n.contexts, registry.contextsSnapshot(n.machineGuid).contexts.size()) << n.hostname;
      walkedContexts += registry.contextsSnapshot(n.machineGuid).contexts.size();  // a real walk
    }
    EXPECT_EQ(t.nodes, registry.nodes().size());
    EXPECT_EQ(t.live, walkedLive);
    EXPECT_EQ(t.contexts, walkedContexts);
    EXPECT_EQ(registry.liveCount(), walkedLive);
    EXPECT_EQ(t.nodes, nodes);
    EXPECT_EQ(t.live, live);
    EXPECT_EQ(t.contexts, contexts);
  };
  registry.restoreFrom(store);
  agree(2, 0, 3);  // gone: cpu.cpu; live: cpu.cpu, disk.io
  auto s = registry.attach(request(kGone, "gone"), everything(), "10.0.0.2:2");
  agree(2, 1, 3);
  s->onChart(chart("cpu.cpu0", "cpu.cpu"));
  s->onChart(chart("net.eth0", "net.net"));
  agree(2, 1, 4);
  EXPECT_FALSE(registry.attach(request(kGone, "gone"), everything(), "10.0.0.3:1"));
  agree(2, 1, 4);
  s.reset();
  agree(2, 0, 4);
  registry.removeStaleNodes(kLive, true);
  agree(1, 0, 2);
  registry.removeStaleNodes(kGone, false);  // marked ephemeral
  now += 3600;
  registry.cleanupEphemeral(60);
  agree(0, 0, 0);
  registry.detachStore();
}

}  // namespace
}  // namespace aclkd::stream_bridge
