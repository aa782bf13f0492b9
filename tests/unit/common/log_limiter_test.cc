#include "common/log_limiter.h"

#include <gtest/gtest.h>

namespace aclkd {
namespace {

using std::chrono::seconds;

TEST(LogLimiterTest, OncePerKeyAndWindowWithSuppressedCount) {
  LogLimiter limiter(seconds(60));
  const auto t0 = LogLimiter::Clock::time_point{} + seconds(1000);
  EXPECT_EQ(limiter.admit("10.0.0.1 idle", t0), 0u);
  EXPECT_FALSE(limiter.admit("10.0.0.1 idle", t0 + seconds(1)));
  EXPECT_FALSE(limiter.admit("10.0.0.1 idle", t0 + seconds(59)));
  EXPECT_EQ(limiter.admit("10.0.0.1 idle", t0 + seconds(60)), 2u);
  EXPECT_FALSE(limiter.admit("10.0.0.1 idle", t0 + seconds(61)));
}

TEST(LogLimiterTest, AnotherPeerOrReasonIsNeverHidden) {
  LogLimiter limiter(seconds(60));
  const auto t0 = LogLimiter::Clock::time_point{} + seconds(1000);
  EXPECT_TRUE(limiter.admit("10.0.0.1 idle", t0));
  EXPECT_TRUE(limiter.admit("10.0.0.2 idle", t0));
  EXPECT_TRUE(limiter.admit("10.0.0.1 corrupt", t0));
}

TEST(LogLimiterTest, BoundedTable) {
  LogLimiter limiter(seconds(60), 3);
  const auto t0 = LogLimiter::Clock::time_point{} + seconds(1000);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.admit("peer" + std::to_string(i), t0));
  EXPECT_EQ(suppressedSuffix(0), "");
  EXPECT_EQ(suppressedSuffix(3), " (3 similar suppressed)");
}

}  // namespace
}  // namespace aclkd
