// The daemon's alert wiring: health per node from the relay, the nodes table's alert fields, and
// the relay off at `[cloud] alerts poll every = 0`.
#include <gtest/gtest.h>

#include "daemon/alert_wiring.h"
#include "daemon/relay_features.h"

namespace aclkd::daemon {
namespace {

struct TwoNodes : aclk::NodeRelaySource {
  std::vector<aclk::RelayedNode> relayedNodes() override {
    aclk::RelayedNode a, b;
    a.machineGuid = "guid-a";
    a.features.functions = true;  // the registry's say, kept
    b.machineGuid = "guid-b";
    b.features.health = true;  // not the registry's to say: overwritten
    return {a, b};
  }
  aclk::ContextBatch contextsSnapshot(const std::string&) override { return {}; }
  std::optional<aclk::ContextBatch> contextsUpdates(const std::string&) override {
    return std::nullopt;
  }
};

TEST(RelayFeaturesTest, HealthFollowsTheAlertRelayAndTheRestIsKept) {
  RelayFeatures source(std::make_shared<TwoNodes>(),
                       [](const std::string& guid) { return guid == "guid-a"; });
  const auto nodes = source.relayedNodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_TRUE(nodes[0].features.health);
  EXPECT_TRUE(nodes[0].features.functions);
  EXPECT_FALSE(nodes[1].features.health);
  RelayFeatures none(std::make_shared<TwoNodes>(), nullptr);
  for (const auto& n : none.relayedNodes()) EXPECT_FALSE(n.features.health);
}

TEST(AlertWiringTest, NoRelayAtZeroAndTheNodesFieldsSayWhy) {
  Options o;
  o.cloudEnabled = true;
  o.alertsPollSeconds = 0;
  EXPECT_EQ(makeAlertRelay(o, {}, nullptr, nullptr, {}), nullptr);
  nlohmann::ordered_json j;
  addAlertFields(&j, nullptr, "guid-a", o);
  EXPECT_EQ(j["alerts"], "off: [cloud] alerts poll every = 0");
  o.cloudEnabled = false;
  addAlertFields(&j, nullptr, "guid-a", o);
  EXPECT_EQ(j["alerts"], "off: [cloud] enabled = no");
  EXPECT_EQ(j["alerts-raised"], 0);
  EXPECT_EQ(j["alerts-last-transition"], "");

  o.alertsPollSeconds = 10;
  auto relay = makeAlertRelay(o, [] { return std::vector<query::NodeFacts>{}; }, nullptr,
                              nullptr, {});
  ASSERT_NE(relay, nullptr);
  addAlertFields(&j, relay.get(), "guid-unknown", o);
  EXPECT_EQ(j["alerts"], "not checked yet");
}

}  // namespace
}  // namespace aclkd::daemon
