#include "daemon/cloud_status.h"

#include <gtest/gtest.h>

namespace aclkd::daemon {
namespace {

aclk::AclkStateView linkSays(bool online, bool banned, const std::string& status) {
  aclk::AclkStateView v;
  v.online = online;
  v.banned = banned;
  v.aclkStatus = status;
  return v;
}

ClaimFacts claimed() {
  ClaimFacts c;
  c.claimed = true;
  return c;
}

TEST(CloudStatusTest, ABanComesFirst) {
  auto v = linkSays(true, true, "connected");
  applyCloudStatus(claimed(), &v);
  EXPECT_EQ(v.cloudStatus, "banned");
  EXPECT_EQ(v.cloudReason, "Agent is banned from Netdata Cloud");
}

TEST(CloudStatusTest, OnlineHasNoReason) {
  auto v = linkSays(true, false, "connected");
  applyCloudStatus(claimed(), &v);
  EXPECT_EQ(v.cloudStatus, "online");
  EXPECT_EQ(v.cloudReason, "");
}

TEST(CloudStatusTest, ClaimedAndOfflineGivesTheLinksStatusAsTheReason) {
  auto v = linkSays(false, false, "connection refused");
  applyCloudStatus(claimed(), &v);
  EXPECT_EQ(v.cloudStatus, "offline");
  EXPECT_EQ(v.cloudReason, "connection refused");
}

TEST(CloudStatusTest, ABlockingClaimOverridesTheLinkWhileOffline) {
  auto facts = claimed();
  facts.blockedReason = "agent is blocked";
  auto offline = linkSays(false, false, "offline");
  applyCloudStatus(facts, &offline);
  EXPECT_EQ(offline.aclkStatus, "agent is blocked");
  EXPECT_EQ(offline.cloudReason, "agent is blocked");
  auto online = linkSays(true, false, "connected");
  applyCloudStatus(facts, &online);
  EXPECT_EQ(online.aclkStatus, "connected") << "an online link is not blocked";
}

TEST(CloudStatusTest, UnclaimedIsAvailableWithTheClaimsReason) {
  ClaimFacts facts;
  facts.claimFailureReason = "no claim token";
  auto v = linkSays(false, false, "offline");
  applyCloudStatus(facts, &v);
  EXPECT_EQ(v.cloudStatus, "available");
  EXPECT_EQ(v.cloudReason, "no claim token");
}

TEST(CloudStatusTest, ACloudSwitchedOffSaysDisabled) {
  auto facts = claimed();
  facts.cloudEnabled = false;
  facts.blockedReason = "agent is blocked";
  auto v = linkSays(false, false, "offline");
  applyCloudStatus(facts, &v);
  EXPECT_EQ(v.aclkStatus, "disabled");
  EXPECT_EQ(v.cloudStatus, "offline");
  EXPECT_EQ(v.cloudReason, "disabled");
}

}  // namespace
}  // namespace aclkd::daemon
