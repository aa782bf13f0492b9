#include "daemon/claim_commands.h"

#include <gtest/gtest.h>

namespace aclkd::daemon {
namespace {

TEST(ClaimCommandsTest, ATokenIsNeeded) {
  std::string error;
  EXPECT_FALSE(claimInputsOf(ClaimRequest{}, &error));
  EXPECT_EQ(error, "Claim token must be specified");
}

TEST(ClaimCommandsTest, AProxyThatDoesNotParseIsRefusedUnheard) {
  ClaimRequest r;
  r.token = "tok";
  r.proxy = "ftp://proxy";
  std::string error;
  EXPECT_FALSE(claimInputsOf(r, &error));
  EXPECT_EQ(error.rfind("invalid proxy: ", 0), 0u) << error;
}

TEST(ClaimCommandsTest, TheDefaultCloudAndTheRoomList) {
  ClaimRequest r;
  r.token = "tok";
  r.rooms = " a, ,b ";
  std::string error;
  const auto in = claimInputsOf(r, &error);
  ASSERT_TRUE(in) << error;
  EXPECT_EQ(in->source, "aclkctl claim");
  EXPECT_EQ(in->url, "https://app.netdata.cloud");
  EXPECT_EQ(in->rooms, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(in->insecure);
}

TEST(ClaimCommandsTest, OnlineCountsOnlyWithTheGatewaysNodeId) {
  aclk::AclkStateView v;
  v.online = true;
  aclk::NodeInstanceView self;
  v.nodes.push_back(self);
  EXPECT_FALSE(onlineWithNodeId(v));
  EXPECT_EQ(claimedStateText(v),
            "Netdata Agent is claimed to Netdata Cloud, but it is currently offline: offline");
  aclk::NodeInstanceView child;
  child.self = false;
  child.nodeId = "n1";
  v.nodes.push_back(child);
  EXPECT_FALSE(onlineWithNodeId(v)) << "a child's node id is not the gateway's";
  v.nodes.front().nodeId = "n0";
  EXPECT_TRUE(onlineWithNodeId(v));
  EXPECT_EQ(claimedStateText(v),
            "Netdata Agent is claimed to Netdata Cloud and is currently online.");
  v.online = false;
  v.banned = true;
  EXPECT_EQ(claimedStateText(v), "Netdata Agent is claimed to Netdata Cloud, but it is banned.");
}

}  // namespace
}  // namespace aclkd::daemon
