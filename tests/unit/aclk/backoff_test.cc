#include "aclk/backoff.h"

#include <gtest/gtest.h>

namespace aclkd::aclk {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, FirstAttemptImmediateThenPowersOfTheBaseWithJitterBelowHalf) {
  Backoff b(42);
  EXPECT_EQ(b.next(), milliseconds(0));
  for (int k = 1; k <= 10; ++k) {
    const int64_t low = (int64_t{1} << (k - 1)) * 1000;
    const int64_t jitter = std::max<int64_t>(1000, low / 2);
    const auto d = b.next().count();
    EXPECT_GE(d, low) << "attempt " << k;
    EXPECT_LT(d, low + jitter) << "attempt " << k;
  }
}

TEST(BackoffTest, TheCapReallyIsMaxSeconds) {
  Backoff b(7);
  b.setParams({2, 0, 600});
  for (int k = 0; k < 40; ++k) {
    EXPECT_LE(b.next(), milliseconds(600 * 1000)) << "attempt " << k;
  }
  b.reset();
  b.setParams({2, 30, 600});
  EXPECT_EQ(b.next(), milliseconds(0)) << "the first attempt after a reset is immediate";
  EXPECT_GE(b.next(), milliseconds(30 * 1000)) << "minSeconds raises the rest";
}

TEST(BackoffTest, SameSeedSameSequenceAndResetRestarts) {
  Backoff a(123), b(123);
  for (int k = 0; k < 12; ++k) EXPECT_EQ(a.next(), b.next());
  EXPECT_EQ(a.attempts(), 12);
  a.reset();
  EXPECT_EQ(a.attempts(), 0);
  EXPECT_EQ(a.next(), milliseconds(0));
}

TEST(BackoffTest, BaseThree) {
  Backoff b(1);
  b.setParams({3, 0, 100000});
  b.next();
  b.next();
  const auto third = b.next().count();  // 3^1 s plus jitter
  EXPECT_GE(third, 3000);
  EXPECT_LT(third, 3000 + 1500);
}

}  // namespace
}  // namespace aclkd::aclk
