// The docs/protocol/aclk.md §5.9 timers through their clock seam: time is an argument, so 120 s
// pass in no time.
#include "aclk/transport/wire_timers.h"

#include <gtest/gtest.h>

namespace aclkd::aclk::transport {
namespace {

using namespace std::chrono_literals;
using Verdict = WireTimers::Verdict;

class WireTimersTest : public ::testing::Test {
 protected:
  WireTimers::TimePoint t0 = WireTimers::TimePoint{} + 1000h;
  TransportTimers defaults;  // 45 s idle, 60 s PINGRESP, 120 s no progress
};

TEST_F(WireTimersTest, NoIoProgressFor120SecondsEndsTheConnection) {
  WireTimers w(defaults, t0);
  w.started(t0);
  // Before CONNACK nothing pings, so only the watchdog can fire.
  EXPECT_EQ(w.check(t0 + 119s, false), Verdict::kNone);
  EXPECT_EQ(w.check(t0 + 120s, false), Verdict::kNoProgress);
}

TEST_F(WireTimersTest, ProgressEitherWayRestartsTheWatchdog) {
  WireTimers w(defaults, t0);
  w.started(t0);
  w.progress(t0 + 100s);
  EXPECT_EQ(w.check(t0 + 219s, false), Verdict::kNone);
  EXPECT_EQ(w.check(t0 + 220s, false), Verdict::kNoProgress);
}

TEST_F(WireTimersTest, OutboundPacketsAloneDoNotCountAsProgress) {
  // A socket that accepts nothing: the client keeps handing packets over, none of them moves.
  TransportTimers t = defaults;
  t.pingIdle = 1000s;  // keep the ping out of the way
  WireTimers w(t, t0);
  w.started(t0);
  for (int s = 10; s < 120; s += 10) {
    w.packetSent(false, t0 + std::chrono::seconds(s));
    EXPECT_EQ(w.check(t0 + std::chrono::seconds(s), true), Verdict::kNone);
  }
  EXPECT_EQ(w.check(t0 + 120s, true), Verdict::kNoProgress);
}

TEST_F(WireTimersTest, IdleConnectionGetsAPingAfter45Seconds) {
  WireTimers w(defaults, t0);
  w.started(t0);
  EXPECT_EQ(w.check(t0 + 44s, true), Verdict::kNone);
  EXPECT_EQ(w.check(t0 + 45s, true), Verdict::kSendPing);
  EXPECT_EQ(w.idleBeforePing(), 45s);
  EXPECT_EQ(w.check(t0 + 46s, true), Verdict::kNone) << "one PINGREQ at a time";
}

TEST_F(WireTimersTest, UnansweredPingTimesOutAfter60Seconds) {
  WireTimers w(defaults, t0);
  w.started(t0);
  ASSERT_EQ(w.check(t0 + 45s, true), Verdict::kSendPing);
  w.progress(t0 + 45s);  // the PINGREQ went out
  EXPECT_EQ(w.check(t0 + 104s, true), Verdict::kNone);
  EXPECT_EQ(w.check(t0 + 105s, true), Verdict::kPingTimeout)
      << "reported before the no-progress watchdog";
}

TEST_F(WireTimersTest, PingrespClearsTheDeadline) {
  WireTimers w(defaults, t0);
  w.started(t0);
  ASSERT_EQ(w.check(t0 + 45s, true), Verdict::kSendPing);
  w.progress(t0 + 50s);
  w.pingrespReceived();
  EXPECT_EQ(w.check(t0 + 89s, true), Verdict::kNone);
  EXPECT_EQ(w.check(t0 + 90s, true), Verdict::kSendPing) << "the next idle period";
}

TEST_F(WireTimersTest, TheClientsOwnPingreqHasTheSameDeadline) {
  WireTimers w(defaults, t0);
  w.started(t0);
  w.packetSent(true, t0 + 10s);
  w.progress(t0 + 10s);
  w.packetSent(true, t0 + 30s);  // a second PINGREQ does not move the deadline
  w.progress(t0 + 30s);
  EXPECT_EQ(w.check(t0 + 69s, true), Verdict::kNone);
  EXPECT_EQ(w.check(t0 + 70s, true), Verdict::kPingTimeout);
}

}  // namespace
}  // namespace aclkd::aclk::transport
