// The hosts' chart and context tables share their definitions (stream_bridge/host_table.h): what
// one host does never shows in another's view, and a host's own copy goes back to the shared
// sets once its definitions have settled.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/state_store.h"
#include "stream_bridge/node_registry.h"
#include "unit/stream_bridge/registry_test_store.h"
#include "unit/test_util.h"

namespace aclkd::stream_bridge {
namespace {

const std::string kA = "aaaaaaaa-bbbb-4ccc-8ddd-00000000000a";
const std::string kB = "aaaaaaaa-bbbb-4ccc-8ddd-00000000000b";

StreamRequest request(const std::string& guid, const std::string& host) {
  StreamRequest r;
  r.hostname = host;
  r.machineGuid = guid;
  r.version = "v1.37.1";
  return r;
}

HostPolicy everything() {
  HostPolicy p;
  p.sendChartsMatching = SimplePattern::parse("*");
  return p;
}

ChartDefinition chart(std::string_view id, std::string_view context,
                      std::string_view title = "Title") {
  ChartDefinition c;
  c.id = id;
  c.title = title;
  c.units = "%";
  c.family = "cpu";
  c.context = context;
  c.chartType = "line";
  c.priority = 100;
  return c;
}

// One host's charts, each with a dimension, a label and a first sample; `reversed`: defined in
// the other order (a fleet's hosts need not agree).
void defineFleetCharts(NodeRegistry::Stream& s, bool reversed = false) {
  std::vector<ChartDefinition> charts = {chart("cpu.cpu0", "cpu.cpu"), chart("cpu.cpu1", "cpu.cpu"),
                                         chart("disk.sda", "disk.io")};
  if (reversed) std::reverse(charts.begin(), charts.end());
  for (const auto& c : charts) {
    s.onChart(c);
    DimensionDefinition d;
    d.id = "user";
    s.onDimension(c.id, d);
    s.onChartLabel(c.id, "device", "sda", 1);
    s.onChartLabelsCommit(c.id);
    s.onSamples(c.id, 1001);
  }
}

// What the cloud and `aclkctl nodes` see of a host, in one comparable value.
struct Seen {
  std::vector<std::string> contexts;  // id, title, priority, first, last, deleted
  uint64_t versionHash = 0;
  size_t charts = 0;
  size_t dimensions = 0;
  size_t chartLabels = 0;
  bool operator==(const Seen&) const = default;
};

Seen seen(NodeRegistry& registry, const std::string& guid) {
  Seen s;
  const auto batch = registry.contextsSnapshot(guid);
  s.versionHash = batch.versionHash;
  for (const auto& c : batch.contexts) {
    s.contexts.push_back(c.id + "|" + c.title + "|" + std::to_string(c.priority) + "|" +
                         std::to_string(c.firstEntry) + "|" + std::to_string(c.lastEntry) + "|" +
                         std::to_string(c.deleted));
  }
  for (const auto& v : registry.nodes()) {
    if (v.machineGuid != guid) continue;
    s.charts = v.charts;
    s.dimensions = v.dimensions;
    s.chartLabels = v.chartLabels;
  }
  return s;
}

class RegistrySharingTest : public ::testing::Test {
 protected:
  std::time_t now = 1000;
  NodeRegistry registry{{}, [this] { return now; }};

  // Hosts a and b streaming the same fleet charts, their tables shared, and what a shows then.
  struct SharedPair {
    std::unique_ptr<NodeRegistry::Stream> a, b;
    Seen seenA;
  };
  SharedPair twoSharedHosts() {
    SharedPair p;
    p.a = registry.attach(request(kA, "a"), everything(), "p");
    p.b = registry.attach(request(kB, "b"), everything(), "p");
    defineFleetCharts(*p.a);
    defineFleetCharts(*p.b);
    registry.shareTables();
    p.seenA = seen(registry, kA);
    return p;
  }
};

TEST_F(RegistrySharingTest, TwoHostsWithTheSameChartsShareOneSet) {
  auto a = registry.attach(request(kA, "a"), everything(), "p");
  auto b = registry.attach(request(kB, "b"), everything(), "p");
  defineFleetCharts(*a);
  defineFleetCharts(*b);
  EXPECT_EQ(registry.sharing().ownTables, 4u) << "each host's own copy while it defines";
  const Seen seenA = seen(registry, kA);
  registry.shareTables();
  auto sharing = registry.sharing();
  EXPECT_EQ(sharing.chartSets, 1u);
  EXPECT_EQ(sharing.contextSets, 1u);
  EXPECT_EQ(sharing.ownTables, 0u);
  EXPECT_EQ(seen(registry, kA), seenA) << "sharing changes nothing anyone sees";
  EXPECT_EQ(seen(registry, kB), seenA);
  EXPECT_EQ(seenA.charts, 3u);
  EXPECT_EQ(seenA.dimensions, 3u);
  EXPECT_EQ(seenA.chartLabels, 3u);
  // Samples and a reconnect's same definitions change only the hosts' own states.
  EXPECT_TRUE(b->sampleCached("cpu.cpu0", 1010));
  b->onChart(chart("cpu.cpu0", "cpu.cpu"));
  EXPECT_EQ(registry.sharing().ownTables, 0u);

  // The same charts defined in another order: the same chart rows (sorted by id), but cpu.cpu's
  // first chart is another one, so its contexts are not the same.
  const std::string kC = "aaaaaaaa-bbbb-4ccc-8ddd-00000000000c";
  auto c = registry.attach(request(kC, "c"), everything(), "p");
  defineFleetCharts(*c, /*reversed=*/true);
  registry.shareTables();
  sharing = registry.sharing();
  EXPECT_EQ(sharing.chartSets, 1u);
  EXPECT_EQ(sharing.contextSets, 2u);
  EXPECT_EQ(seen(registry, kC).contexts, seenA.contexts);
}

TEST_F(RegistrySharingTest, OneHostDivergingDoesNotChangeTheOther) {
  auto [a, b, seenA] = twoSharedHosts();
  const Seen seenB = seen(registry, kB);
  ASSERT_EQ(seenA, seenB) << "the same charts, the same times";

  now = 1100;
  b->onChart(chart("net.eth0", "net.net"));                    // a chart only b has
  b->onChart(chart("cpu.cpu1", "cpu.cpu", "Another title"));  // a definition only b has
  DimensionDefinition d;
  d.id = "system";
  b->onDimension("cpu.cpu0", d);
  b->onChartLabel("disk.sda", "device", "sdb", 1);
  b->onChartLabelsCommit("disk.sda");
  EXPECT_EQ(registry.sharing().ownTables, 2u) << "b copied its tables; a kept the shared ones";
  EXPECT_EQ(seen(registry, kA), seenA);
  const Seen nowB = seen(registry, kB);
  EXPECT_EQ(nowB.charts, 4u);
  EXPECT_EQ(nowB.dimensions, 4u);
  EXPECT_EQ(nowB.contexts.size(), 3u);
  EXPECT_NE(nowB.contexts[0].find("Another title"), std::string::npos) << nowB.contexts[0];
  EXPECT_EQ(seenA.contexts[0].find("Another title"), std::string::npos);

  registry.shareTables();
  EXPECT_EQ(registry.sharing().chartSets, 2u);
  EXPECT_EQ(registry.sharing().contextSets, 2u);
  EXPECT_EQ(seen(registry, kA), seenA);
  EXPECT_EQ(seen(registry, kB), nowB);
}

// A host whose charts leave their contexts, then the host itself: the sets only it held go,
// the others' stay as they were.
TEST_F(RegistrySharingTest, AHostsRemovedChartsAndTheHostItselfLeaveTheOthers) {
  auto [a, b, seenA] = twoSharedHosts();

  now = 1100;
  b->onChart(chart("disk.sda", "disk.other"));  // disk.io loses its only chart: deleted
  const auto upd = registry.contextsUpdates(kB);
  ASSERT_TRUE(upd);
  bool deleted = false;
  for (const auto& c : upd->contexts) deleted = deleted || (c.id == "disk.io" && c.deleted);
  EXPECT_TRUE(deleted);
  EXPECT_EQ(seen(registry, kA), seenA);

  b.reset();  // the disconnect shares b's tables again
  EXPECT_EQ(registry.sharing().ownTables, 0u);
  EXPECT_EQ(registry.sharing().chartSets, 2u);
  EXPECT_EQ(registry.sharing().contextSets, 2u);
  ASSERT_EQ(registry.removeStaleNodes(kB, true).size(), 1u);
  EXPECT_EQ(registry.sharing().chartSets, 1u) << "the set only b held went with it";
  EXPECT_EQ(registry.sharing().contextSets, 1u);
  EXPECT_EQ(seen(registry, kA), seenA);
}

// Hosts restored from the state store share their contexts as the cloud last saw them; one that
// returns and defines again takes its own copy, and the others still show what the cloud saw.
TEST_F(RegistrySharingTest, RestoredHostsShareTheirContextsUntilOneReturns) {
  aclkd::test::TempDir dir;
  Seen seenA;
  Seen seenB;
  {
    auto store = openStore(dir.file("state.db"));
    NodeRegistry first({}, [this] { return now; });
    first.restoreFrom(store);
    auto a = first.attach(request(kA, "a"), everything(), "p");
    auto b = first.attach(request(kB, "b"), everything(), "p");
    defineFleetCharts(*a);
    defineFleetCharts(*b);
    now = 1050;
    a.reset();
    b.reset();
    seenA = seen(first, kA);
    seenB = seen(first, kB);
    first.detachStore();
  }
  ASSERT_EQ(seenA.contexts, seenB.contexts);
  auto store = openStore(dir.file("state.db"));
  NodeRegistry registry({}, [this] { return now; });
  registry.restoreFrom(store);
  EXPECT_EQ(registry.sharing().contextSets, 1u);
  EXPECT_EQ(registry.sharing().chartSets, 0u) << "restored hosts have no charts until they return";
  EXPECT_EQ(registry.sharing().ownTables, 0u);
  EXPECT_EQ(registry.contextsSnapshot(kA).versionHash, seenA.versionHash);
  EXPECT_EQ(registry.contextsSnapshot(kB).contexts.size(), seenB.contexts.size());
  const Seen restoredB = seen(registry, kB);

  now = 2000;
  auto a = registry.attach(request(kA, "a"), everything(), "p");
  defineFleetCharts(*a);
  a->onChart(chart("cpu.cpu0", "cpu.cpu", "Another title"));
  registry.shareTables();
  EXPECT_EQ(registry.sharing().contextSets, 2u);
  EXPECT_EQ(seen(registry, kB), restoredB);
  EXPECT_NE(seen(registry, kA).contexts[0].find("Another title"), std::string::npos);
  registry.detachStore();
}

}  // namespace
}  // namespace aclkd::stream_bridge
