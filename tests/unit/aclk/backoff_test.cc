#include "aclk/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>

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

TEST(BackoffTest, DefaultParamsAreTheBriefs) {
  Backoff b(0);
  EXPECT_EQ(b.params().base, 2);
  EXPECT_EQ(b.params().minSeconds, 0);
  EXPECT_EQ(b.params().maxSeconds, 1024);
  EXPECT_EQ(b.attempts(), 0);
  b.setParams({5, 10, 700});
  EXPECT_EQ(b.params().base, 5);
  EXPECT_EQ(b.params().minSeconds, 10);
  EXPECT_EQ(b.params().maxSeconds, 700);
}

// Over many seeds and attempts every delay stays inside [min, max], and the lower edge of the
// un-clamped window grows with the attempt number.
TEST(BackoffTest, DelaysStayWithinMinAndMaxForManySeeds) {
  const BackoffParams params[] = {{2, 0, 1024}, {2, 3, 500}, {3, 10, 600}, {10, 0, 2000},
                                  {1, 0, 500},  {2, 700, 500}};
  for (const auto& p : params) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      Backoff b(seed);
      b.setParams(p);
      EXPECT_EQ(b.next(), milliseconds(0));
      const int64_t hi = std::max(p.maxSeconds, p.minSeconds) * 1000;
      for (int k = 1; k < 40; ++k) {
        const auto d = b.next().count();
        EXPECT_GE(d, p.minSeconds * 1000) << "base " << p.base << " seed " << seed << " k " << k;
        EXPECT_LE(d, hi) << "base " << p.base << " seed " << seed << " k " << k;
      }
    }
  }
}

TEST(BackoffTest, GrowsWithAttemptsUntilTheCap) {
  // With base 2 the windows [2^(k-1), 1.5 * 2^(k-1)) s of attempts k >= 2 do not overlap, so
  // every delay is strictly above the previous one until the cap is reached.
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Backoff b(seed);
    b.next();
    int64_t previous = b.next().count();
    for (int k = 2; k <= 10; ++k) {
      const int64_t d = b.next().count();
      EXPECT_GT(d, previous) << "seed " << seed << " attempt " << k;
      previous = d;
    }
    // 2^10 s = 1024 s: the cap; every later attempt sits on it.
    for (int k = 11; k < 30; ++k) EXPECT_EQ(b.next(), milliseconds(1024 * 1000)) << k;
  }
}

TEST(BackoffTest, ExactWindowForEveryAttemptWithBaseThree) {
  Backoff b(99);
  b.setParams({3, 0, 100000});
  EXPECT_EQ(b.next(), milliseconds(0));
  int64_t d = 1;
  for (int k = 1; k <= 9; ++k) {  // 3^8 = 6561 s, below the 100000 s cap
    const int64_t low = d * 1000;
    const int64_t span = std::max<int64_t>(1000, d * 500);
    const auto ms = b.next().count();
    EXPECT_GE(ms, low) << k;
    EXPECT_LT(ms, low + span) << k;
    d *= 3;
  }
}

TEST(BackoffTest, BaseOneStaysBetweenOneAndTwoSeconds) {
  Backoff b(5);
  b.setParams({1, 0, 500});
  b.next();
  for (int k = 1; k < 50; ++k) {
    const auto ms = b.next().count();
    EXPECT_GE(ms, 1000) << k;
    EXPECT_LT(ms, 2000) << k;
  }
}

TEST(BackoffTest, MinAboveMaxClampsEverythingToMin) {
  Backoff b(3);
  b.setParams({2, 700, 500});
  EXPECT_EQ(b.next(), milliseconds(0));
  for (int k = 1; k < 20; ++k) EXPECT_EQ(b.next(), milliseconds(700 * 1000)) << k;
}

TEST(BackoffTest, MinRaisesTheEarlyAttempts) {
  Backoff b(11);
  b.setParams({2, 100, 1000});
  b.next();
  for (int k = 1; k <= 7; ++k) {  // 2^6 s + jitter < 100 s
    EXPECT_EQ(b.next(), milliseconds(100 * 1000)) << k;
  }
  EXPECT_GT(b.next(), milliseconds(100 * 1000)) << "2^7 s = 128 s is above the minimum";
}

TEST(BackoffTest, HugeAttemptCountsAndHugeCapDoNotOverflow) {
  Backoff b(17);
  b.setParams({10, 0, 2147483647});
  b.next();
  int64_t previous = 0;
  for (int k = 1; k < 200; ++k) {
    const auto ms = b.next().count();
    EXPECT_GE(ms, previous) << k;
    EXPECT_LE(ms, int64_t{2147483647} * 1000) << k;
    previous = ms;
  }
  EXPECT_EQ(previous, int64_t{2147483647} * 1000);
}

TEST(BackoffTest, ResetRestartsTheSequence) {
  Backoff b(8);
  for (int k = 0; k < 15; ++k) b.next();
  EXPECT_EQ(b.attempts(), 15);
  b.reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_EQ(b.next(), milliseconds(0));
  EXPECT_EQ(b.attempts(), 1);
  const auto first = b.next().count();
  EXPECT_GE(first, 1000);
  EXPECT_LT(first, 2000);
  b.reset();
  b.reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_EQ(b.next(), milliseconds(0));
}

TEST(BackoffTest, DifferentSeedsGiveDifferentJitter) {
  // Determinism is per seed; two seeds almost surely differ somewhere over 10 attempts.
  Backoff a(1), b(2);
  bool differs = false;
  for (int k = 0; k < 10; ++k) differs |= a.next() != b.next();
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace aclkd::aclk
