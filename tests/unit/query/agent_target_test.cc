#include "query/agent_target.h"

#include <gtest/gtest.h>

namespace aclkd::query {
namespace {

NodeFacts child() {
  NodeFacts n;
  n.machineGuid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  n.hostname = "child";
  n.nodeId = "11111111-2222-4333-8444-555555555555";
  n.live = true;
  n.hops = 1;
  n.peer = "10.0.0.7:43210";
  return n;
}

AgentTarget target(const NodeFacts& n) {
  std::string error;
  const auto t = targetFor(n, 19999, &error);
  EXPECT_TRUE(t) << error;
  return t.value_or(AgentTarget{});
}

TEST(AgentTargetTest, PeerAddressWithDefaultPort) {
  const auto t = target(child());
  EXPECT_EQ(t.baseUrl, "http://10.0.0.7:19999");
  EXPECT_EQ(t.agentKey, "http://10.0.0.7:19999");
}

TEST(AgentTargetTest, Ipv6PeerIsBracketed) {
  auto n = child();
  n.peer = "::1:5555";
  EXPECT_EQ(target(n).baseUrl, "http://[::1]:19999");
}

TEST(AgentTargetTest, KeyUrlOfAParentAddsHostPathForHopTwo) {
  auto n = child();
  n.hops = 2;
  n.keyQueryUrl = "https://parent.example:19443/";
  n.caFile = "/etc/ca.pem";
  const auto t = target(n);
  EXPECT_EQ(t.baseUrl, "https://parent.example:19443/host/" + n.machineGuid);
  EXPECT_EQ(t.rootUrl, "https://parent.example:19443");
  EXPECT_EQ(t.agentKey, "https://parent.example:19443");
  EXPECT_EQ(t.caFile, "/etc/ca.pem");
}

TEST(AgentTargetTest, GuidUrlIsUsedAsIs) {
  auto n = child();
  n.hops = 3;
  n.keyQueryUrl = "http://parent:19999";
  n.guidQueryUrl = "http://10.1.2.3:19999/host/somewhere";
  EXPECT_EQ(target(n).baseUrl, "http://10.1.2.3:19999/host/somewhere");
  EXPECT_EQ(target(n).agentKey, "http://10.1.2.3:19999");
}

TEST(AgentTargetTest, BadUrlAndMissingPeerAreErrors) {
  auto n = child();
  n.keyQueryUrl = "ftp://x";
  std::string error;
  EXPECT_FALSE(targetFor(n, 19999, &error));
  EXPECT_NE(error.find("not an http(s) URL"), std::string::npos);
  n = child();
  n.peer.clear();
  EXPECT_FALSE(targetFor(n, 19999, &error));
  EXPECT_NE(error.find("not known"), std::string::npos);
}

TEST(AgentTargetTest, FindNodeByIdGuidOrHostname) {
  std::vector<NodeFacts> nodes = {child()};
  nodes.push_back(child());
  nodes[1].machineGuid = "99999999-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  nodes[1].nodeId.clear();
  nodes[1].hostname = "other";
  EXPECT_EQ(findNode(nodes, "11111111-2222-4333-8444-555555555555"), &nodes[0]);
  EXPECT_EQ(findNode(nodes, "99999999-BBBB-4ccc-8ddd-eeeeeeeeeeee"), &nodes[1]);
  EXPECT_EQ(findNode(nodes, "other"), &nodes[1]);
  EXPECT_EQ(findNode(nodes, "nobody"), nullptr);
  EXPECT_EQ(findNode(nodes, ""), nullptr);
}

}  // namespace
}  // namespace aclkd::query
