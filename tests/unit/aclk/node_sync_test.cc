// The node table through its seams: a fake relay source, a fake id memory, a recording publish.
#include "aclk/node_sync.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "nodeinstance/connection/v1/connection.pb.h"
#include <vector>

namespace aclkd::aclk {
namespace {

struct FakeRelay : NodeRelaySource {
  std::vector<RelayedNode> nodes;
  std::vector<RelayedNode> relayedNodes() override { return nodes; }
  ContextBatch contextsSnapshot(const std::string&) override { return {}; }
  std::optional<ContextBatch> contextsUpdates(const std::string&) override { return std::nullopt; }
  Collectors collectors(const std::string&) override { return {{"proc.plugin", "/proc/stat"}}; }
};

struct FakeMemory : NodeIdMemory {
  std::map<std::pair<std::string, std::string>, std::string> ids;  // (guid, claim) -> node id
  std::optional<std::string> nodeIdFor(const std::string& guid, const std::string& claim) override {
    auto it = ids.find({guid, claim});
    if (it == ids.end()) return std::nullopt;
    return it->second;
  }
  void nodeIdAssigned(const std::string& guid, const std::string& id,
                      const std::string& claim) override {
    ids[{guid, claim}] = id;
  }
  void checkpointReceived(const std::string&, const std::string&, uint64_t) override {}
};

class NodeSyncTest : public ::testing::Test {
 protected:
  NodeSync sync{SelfNode{"self-guid", "gw", "v2.0.0", [] { return std::string("none"); }, {}},
                [this](TopicId t, const std::string& payload) {
                  sent.push_back(t);
                  payloads.push_back(payload);
                  return static_cast<uint64_t>(sent.size());
                }};
  std::vector<TopicId> sent;
  std::vector<std::string> payloads;
  std::shared_ptr<FakeRelay> relay = std::make_shared<FakeRelay>();
  std::shared_ptr<FakeMemory> memory = std::make_shared<FakeMemory>();

  void SetUp() override {
    sync.setRelaySource(relay);
    sync.setNodeIdMemory(memory);
  }
  static RelayedNode child(const std::string& guid) {
    RelayedNode r;
    r.machineGuid = guid;
    r.hostname = guid;
    return r;
  }
};

TEST_F(NodeSyncTest, UnknownNodeIsCreatedOncePerSession) {
  sync.beginSession("claim-1", 100);
  sync.connected();
  sync.sendAllNodeStates();
  sync.sendAllNodeStates();
  EXPECT_EQ(sent, std::vector<TopicId>{TopicId::kCreateNodeInstance}) << "the answer is awaited";
  sync.beginSession("claim-1", 200);
  sync.sendAllNodeStates();
  EXPECT_EQ(sent.size(), 2u) << "a new session asks again";
}

TEST_F(NodeSyncTest, RememberedIdSkipsCreationAndAssignedIdIsRemembered) {
  memory->ids[{"self-guid", "claim-1"}] = "node-1";
  sync.beginSession("claim-1", 100);
  sync.sendAllNodeStates();
  EXPECT_EQ(sent, (std::vector<TopicId>{TopicId::kNodeInstanceConnection,
                                        TopicId::kNodeInstanceInfo}));
  AclkStateView v;
  NodeInstanceView self;
  self.hostname = "gw";
  self.machineGuid = "self-guid";
  v.nodes.push_back(self);
  sync.fillNodes(&v);
  EXPECT_EQ(v.nodes[0].nodeId, std::optional<std::string>("node-1"));

  relay->nodes = {child("child-guid")};
  sync.sync(true);
  EXPECT_EQ(sent.back(), TopicId::kCreateNodeInstance);
  EXPECT_TRUE(sync.assignNodeId("child-guid", "node-2"));
  EXPECT_EQ((memory->ids[{"child-guid", "claim-1"}]), "node-2");
  EXPECT_FALSE(sync.assignNodeId("nobody", "node-3"));
  EXPECT_EQ(sync.nodeIds(), (std::map<std::string, std::string>{{"child-guid", "node-2"},
                                                                 {"self-guid", "node-1"}}));
}

TEST_F(NodeSyncTest, GoneChildIsReportedDeadAndAReclaimForgetsIds) {
  relay->nodes = {child("child-guid")};
  sync.beginSession("claim-1", 100);
  sync.connected();
  ASSERT_TRUE(sync.assignNodeId("child-guid", "node-2"));
  sent.clear();
  relay->nodes.clear();
  sync.sync(true);
  EXPECT_EQ(sent, std::vector<TopicId>{TopicId::kNodeInstanceConnection});
  AclkStateView v;
  sync.fillNodes(&v);
  EXPECT_TRUE(v.nodes.empty()) << "the child is forgotten";

  ASSERT_TRUE(sync.assignNodeId("self-guid", "node-1"));
  EXPECT_TRUE(sync.contextsOfNode("node-1"));
  sync.beginSession("claim-2", 200);
  EXPECT_FALSE(sync.contextsOfNode("node-1")) << "ids of another claim are not ours";
}


TEST_F(NodeSyncTest, AChildsFeaturesGoToTheCloudWhenTheyChange) {
  memory->ids[{"child-1", "claim-1"}] = "node-c";
  relay->nodes = {child("child-1")};
  sync.beginSession("claim-1", 100);
  sync.connected();
  sync.sendAllNodeStates();
  const size_t before = sent.size();
  sync.sync(true);
  EXPECT_EQ(sent.size(), before) << "nothing changed";
  // The first function declared: the node's capabilities change, and the cloud hears it.
  relay->nodes[0].features.functions = true;
  sync.sync(true);
  ASSERT_EQ(sent.size(), before + 2);
  EXPECT_EQ(sent[before], TopicId::kNodeInstanceConnection);
  nodeinstance::v1::UpdateNodeInstanceConnection m;
  ASSERT_TRUE(m.ParseFromString(payloads[before]));
  bool funcs = false;
  for (const auto& c : m.capabilities()) {
    if (c.name() == "funcs") funcs = c.enabled();
  }
  EXPECT_TRUE(funcs);
  sync.sync(true);
  EXPECT_EQ(sent.size(), before + 2) << "sent once per change";
}

TEST_F(NodeSyncTest, CollectorsFollowTheChildsInfoAfterThirtySeconds) {
  int64_t now = 1'000'000'000;
  sync.setClock([&now] { return now; });
  relay->nodes = {child("child-guid")};
  memory->ids[{"child-guid", "claim-1"}] = "node-c";
  sync.beginSession("claim-1", 100);
  sync.connected();
  sync.sendAllNodeStates();
  const auto infos = sent.size();
  sync.sendDueCollectors();
  now += NodeSync::kCollectorsDelayUs - 1;
  sync.sendDueCollectors();
  EXPECT_EQ(sent.size(), infos) << "not before 30 s";
  now += 1;
  sync.sendDueCollectors();
  ASSERT_EQ(sent.size(), infos + 1);
  EXPECT_EQ(sent.back(), TopicId::kNodeInstanceCollectors);
  EXPECT_NE(payloads.back().find("proc.plugin"), std::string::npos);
  EXPECT_NE(payloads.back().find("node-c"), std::string::npos);
  sync.sendDueCollectors();
  EXPECT_EQ(sent.size(), infos + 1) << "once per info";
  EXPECT_EQ(std::count(sent.begin(), sent.end(), TopicId::kNodeInstanceCollectors), 1)
      << "the child's only: none for the gateway itself";
}

}  // namespace
}  // namespace aclkd::aclk
