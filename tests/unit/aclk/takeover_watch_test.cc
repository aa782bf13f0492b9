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
  EXPECT_FALSE(w.cloneSuspected(t0 + 22min));
}

TEST(TakeoverWatchTest, ThreeWithinTenMinutesSuspectACloneAndWarnOncePerWindow) {
  TakeoverWatch w;
  w.note(t0);
  w.note(t0 + 1min);
  EXPECT_EQ(w.note(t0 + 2min), 3u) << "the warning names how many";
  EXPECT_TRUE(w.cloneSuspected(t0 + 2min));
  EXPECT_EQ(w.note(t0 + 3min), 0u) << "rate-limited";
  EXPECT_EQ(w.note(t0 + 12min), 3u) << "a new window warns again";
  EXPECT_EQ(w.total(), 5u);
}

// Found by the soak (bench/soak.py): three broker crashes within ten minutes raised the
// suspicion, and it stayed for the life of the process.
TEST(TakeoverWatchTest, TheSuspicionEndsAfterAQuietWindow) {
  TakeoverWatch w;
  w.note(t0);
  w.note(t0 + 1min);
  w.note(t0 + 2min);
  EXPECT_TRUE(w.cloneSuspected(t0 + 11min));
  EXPECT_FALSE(w.cloneSuspected(t0 + 12min + 1s)) << "ten minutes without a takeover";
  w.note(t0 + 30min);
  EXPECT_FALSE(w.cloneSuspected(t0 + 30min)) << "one takeover is not a clone";
  w.note(t0 + 31min);
  w.note(t0 + 32min);
  EXPECT_TRUE(w.cloneSuspected(t0 + 32min)) << "a new burst suspects again";
}

}  // namespace
}  // namespace aclkd::aclk
