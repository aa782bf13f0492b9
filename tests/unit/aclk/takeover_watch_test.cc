#include "aclk/takeover_watch.h"

#include <gtest/gtest.h>

namespace aclkd::aclk {
namespace {

using namespace std::chrono_literals;

const TakeoverWatch::TimePoint t0 = TakeoverWatch::TimePoint{} + 1000h;

TEST(TakeoverWatchTest, OccasionalTakeoversAreCountedNotSuspected) {
  TakeoverWatch w;
  EXPECT_EQ(w.note(t0), 0u);
  EXPECT_EQ(w.note(t0 + 11min), 0u);
  EXPECT_EQ(w.note(t0 + 22min), 0u);
  EXPECT_EQ(w.total(), 3u);
  EXPECT_FALSE(w.cloneSuspected());
}

TEST(TakeoverWatchTest, ThreeWithinTenMinutesSuspectACloneAndWarnOncePerWindow) {
  TakeoverWatch w;
  w.note(t0);
  w.note(t0 + 1min);
  EXPECT_EQ(w.note(t0 + 2min), 3u) << "the warning names how many";
  EXPECT_TRUE(w.cloneSuspected());
  EXPECT_EQ(w.note(t0 + 3min), 0u) << "rate-limited";
  EXPECT_EQ(w.note(t0 + 12min), 3u) << "a new window warns again";
  EXPECT_EQ(w.total(), 5u);
}

}  // namespace
}  // namespace aclkd::aclk
