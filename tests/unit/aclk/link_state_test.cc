// What the link shares with readers of its state: the lock's accessor, the status and the ban.
#include "aclk/link_state.h"

#include <gtest/gtest.h>

namespace aclkd::aclk {
namespace {

using namespace std::chrono_literals;

TEST(SharedLinkStateTest, StatusStartsOfflineAndFollowsSetStatus) {
  SharedLinkState state{1000, 60s};
  EXPECT_EQ(state.status(), AclkStatus::kOffline);
  state.setStatus(AclkStatus::kConnected);
  EXPECT_EQ(state.status(), AclkStatus::kConnected);
  state.setStatus(AclkStatus::kConnected);  // the same again: no change, no log line
  EXPECT_EQ(state.status(), AclkStatus::kConnected);
  state.setStatus(AclkStatus::kOfflinePingTimeout);
  AclkStateView v;
  state.with([&](const LinkState& s) { s.fill(&v); });
  EXPECT_EQ(v.aclkStatus, statusString(AclkStatus::kOfflinePingTimeout));
}

TEST(SharedLinkStateTest, WithReturnsWhatTheStepReturns) {
  SharedLinkState state{1000, 60s};
  EXPECT_EQ(state.with([](LinkState& s) { return ++s.attempts; }), 1u);
  EXPECT_EQ(state.with([](const LinkState& s) { return s.attempts; }), 1u);
}

TEST(LinkStateTest, ARepeatedBanIsCountedOnce) {
  LinkState s{1000, 60s};
  s.ban();
  s.ban();
  EXPECT_TRUE(s.banned);
  EXPECT_EQ(s.bans, 1u);
  s.banned = false;  // reload-claiming-state lifts it
  s.ban();
  EXPECT_EQ(s.bans, 2u);
}

}  // namespace
}  // namespace aclkd::aclk
