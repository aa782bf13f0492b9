#include "aclk/reconnect_schedule.h"

#include <gtest/gtest.h>

namespace aclkd::aclk {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

const ReconnectSchedule::TimePoint t0 = ReconnectSchedule::TimePoint{} + 1000h;

// Steps past the backoff's immediate first attempt; returns the first real wait.
milliseconds secondStep(ReconnectSchedule& s, ReconnectSchedule::TimePoint now) {
  EXPECT_EQ(s.next(false, now), 0ms) << "the first attempt after a restart is immediate";
  return s.next(false, now);
}

// The backoff's attempt 1 with the default parameters: base^0 s plus jitter below 1 s.
bool isBackoffAttemptOne(milliseconds wait) { return wait >= 1000ms && wait < 2000ms; }

TEST(ReconnectScheduleTest, WithoutBanOrBlockTheBackoffDecides) {
  ReconnectSchedule s(7, 60s);
  const auto wait = secondStep(s, t0);
  EXPECT_TRUE(isBackoffAttemptOne(wait)) << wait.count();
}

TEST(ReconnectScheduleTest, BannedWaitsTheBanRetryAndRestartsTheBackoff) {
  ReconnectSchedule s(7, 60s);
  s.next(false, t0);
  s.next(false, t0);
  EXPECT_EQ(s.next(true, t0), 60'000ms);
  EXPECT_EQ(s.next(false, t0), 0ms) << "after the ban's wait the backoff starts over";
}

// The cloud's delay, unbounded, overflowed the clock (undefined; in practice a block in the
// past, so none): the block is capped at kMaxBlock, and a negative delay is no block.
TEST(ReconnectScheduleTest, AHugeBlockIsCappedAndANegativeOneIsNone) {
  ReconnectSchedule s(7, 60s);
  s.next(false, t0);
  s.blockFor(std::chrono::seconds(INT64_MAX / 2), t0);
  EXPECT_EQ(s.next(false, t0), std::chrono::duration_cast<milliseconds>(ReconnectSchedule::kMaxBlock) + 1ms);
  s.blockFor(-5s, t0);
  EXPECT_EQ(s.next(false, t0), 0ms) << "no block: the backoff, restarted by the last one";
}

TEST(ReconnectScheduleTest, ABlockAheadIsWaitedOutRoundedUpAndUsedOnce) {
  ReconnectSchedule s(7, 60s);
  s.next(false, t0);
  s.blockFor(5s, t0);
  EXPECT_EQ(s.next(false, t0 + 1500ms), 3501ms) << "the rest of the block, plus 1 ms";
  EXPECT_EQ(s.next(false, t0 + 1500ms), 0ms) << "used once; the backoff was restarted";
}

TEST(ReconnectScheduleTest, ABlockAlreadyPastLeavesItToTheBackoff) {
  ReconnectSchedule s(7, 60s);
  s.next(false, t0);
  s.blockFor(2s, t0);
  const auto wait = s.next(false, t0 + 3s);
  EXPECT_TRUE(isBackoffAttemptOne(wait)) << wait.count() << " ms: the backoff went on";
}

TEST(ReconnectScheduleTest, RestartDropsTheBlockAndTheBackoff) {
  ReconnectSchedule s(7, 60s);
  s.next(false, t0);
  s.next(false, t0);
  s.blockFor(30s, t0);
  s.restart();
  EXPECT_EQ(s.next(false, t0), 0ms);
}

TEST(ReconnectScheduleTest, AStableConnectionRestartsTheBackoffButKeepsABlock) {
  ReconnectSchedule s(7, 60s);
  s.next(false, t0);
  s.next(false, t0);
  s.connectionStable();
  EXPECT_EQ(s.next(false, t0), 0ms);
  s.blockFor(10s, t0);
  s.connectionStable();
  EXPECT_EQ(s.next(false, t0), 10'001ms);
}

TEST(ReconnectScheduleTest, TheParametersOfEnvApply) {
  ReconnectSchedule s(7, 60s);
  s.setBackoff({2, 5, 5});  // every wait clamped to 5 s
  EXPECT_EQ(secondStep(s, t0), 5000ms);
}

}  // namespace
}  // namespace aclkd::aclk
