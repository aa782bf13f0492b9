#include "aclk/outbound_ledger.h"

#include <gtest/gtest.h>

namespace aclkd::aclk {
namespace {

using std::chrono::seconds;
const OutboundLedger::TimePoint t0{};

TEST(OutboundLedgerTest, AdmitsUpToTheLimitAndCountsTheDrop) {
  OutboundLedger ledger(100, seconds(60));
  EXPECT_EQ(ledger.admit(60, t0), 1u);
  EXPECT_EQ(ledger.admit(40, t0), 2u);
  EXPECT_EQ(ledger.admit(1, t0), 0u);
  EXPECT_EQ(ledger.droppedQueueFull(), 1u);
  EXPECT_EQ(ledger.inflightBytes(), 100u);
  ledger.cancel(2);
  EXPECT_EQ(ledger.inflightBytes(), 60u);
  EXPECT_EQ(ledger.admit(40, t0), 3u);
}

TEST(OutboundLedgerTest, PubackGivesLatencyAndTheThirdOneIsStable) {
  OutboundLedger ledger(1000, seconds(60));
  for (int i = 0; i < 4; ++i) ledger.admit(10, t0);
  EXPECT_FALSE(ledger.acknowledged(1, true, t0 + seconds(1)).stable);
  EXPECT_EQ(ledger.lastLatencyUs(), 1'000'000);
  EXPECT_FALSE(ledger.acknowledged(2, false, t0).stable);  // a failure is not a PUBACK
  EXPECT_EQ(ledger.failures(), 1u);
  EXPECT_FALSE(ledger.acknowledged(3, true, t0).stable);
  EXPECT_TRUE(ledger.acknowledged(4, true, t0).stable);
  EXPECT_EQ(ledger.pubacks(), 3u);
  EXPECT_FALSE(ledger.acknowledged(4, true, t0).known);
  EXPECT_EQ(ledger.inflightCount(), 0u);
}

TEST(OutboundLedgerTest, SweepDropsWhatWaitedPastTheTimeoutAndALatePubackIsIgnored) {
  OutboundLedger ledger(1000, seconds(60));
  ledger.admit(10, t0);
  ledger.admit(20, t0 + seconds(30));
  EXPECT_EQ(ledger.sweep(t0 + seconds(60)), 0u);  // exactly 60 s: not yet
  EXPECT_EQ(ledger.sweep(t0 + seconds(61)), 1u);
  EXPECT_EQ(ledger.timedOut(), 1u);
  EXPECT_EQ(ledger.inflightBytes(), 20u);
  EXPECT_FALSE(ledger.acknowledged(1, true, t0 + seconds(62)).known);
  EXPECT_EQ(ledger.pubacks(), 0u);
}

TEST(OutboundLedgerTest, NewConnectionRestartsThePubackCount) {
  OutboundLedger ledger(1000, seconds(60));
  ledger.admit(10, t0);
  ledger.acknowledged(1, true, t0);
  ledger.admit(10, t0);
  ledger.newConnection();
  EXPECT_EQ(ledger.pubacks(), 0u);
  EXPECT_EQ(ledger.inflightCount(), 0u);
  EXPECT_EQ(ledger.inflightBytes(), 0u);
}

}  // namespace
}  // namespace aclkd::aclk
