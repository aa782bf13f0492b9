// One node's alert state: versions, first contact, dedup, pending and snapshots.
#include "alerts/node_alerts.h"

#include <gtest/gtest.h>

namespace aclkd::alerts {
namespace {

using aclk::AlarmEntry;
using aclk::AlarmStatus;

AlarmEntry entry(const std::string& name, uint64_t cursor, uint64_t when, AlarmStatus status) {
  AlarmEntry e;
  e.name = name;
  e.chart = "system.cpu";
  e.key = e.chart + "." + name;
  e.cursor = cursor;
  e.when = when;
  e.status = status;
  return e;
}

// More transitions than the pending limit, from cursor 10 on, alternating between `names`.
std::vector<AlarmEntry> burst(std::vector<std::string> names) {
  std::vector<AlarmEntry> out;
  for (uint64_t i = 0; i <= NodeAlerts::kPendingLimit; ++i) {
    out.push_back(entry(names[i % names.size()], 10 + i, 10 + i, AlarmStatus::kWarning));
  }
  return out;
}

TEST(NodeAlertsTest, FirstContactKeepsTheLatestPerAlertAndNoRemovedOnes) {
  NodeAlerts n;
  EXPECT_TRUE(n.firstContact());
  EXPECT_EQ(n.add({entry("a", 1, 100, AlarmStatus::kClear), entry("a", 2, 110, AlarmStatus::kWarning),
                   entry("b", 3, 120, AlarmStatus::kRemoved), entry("c", 4, 130, AlarmStatus::kClear)}),
            2u);
  EXPECT_EQ(n.pollCursor(), 4u);
  const auto p = n.pending(10);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "a");
  EXPECT_EQ(p[0].when, 110u);
  EXPECT_EQ(p[1].name, "c");
  EXPECT_EQ(n.version(), 0u);  // nothing sent yet
  EXPECT_EQ(n.raised(), 1u);
  EXPECT_EQ(n.lastTransition(), 130u);
}

TEST(NodeAlertsTest, VersionIsTheSumOfSentWhensExceptRemoved) {
  NodeAlerts n;
  n.add({entry("a", 1, 100, AlarmStatus::kWarning), entry("b", 2, 200, AlarmStatus::kClear)});
  std::vector<AlarmEntry> changed;
  n.sent(1, &changed);  // through cursor 1
  EXPECT_EQ(n.version(), 100u);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(n.sentCursor(), 1u);
  n.sent(2, &changed);
  EXPECT_EQ(n.version(), 300u);
  EXPECT_EQ(n.sentCursor(), 2u);
  n.add({entry("a", 5, 150, AlarmStatus::kRemoved), entry("b", 6, 250, AlarmStatus::kCritical)});
  n.sent(6, nullptr);
  EXPECT_EQ(n.version(), 250u);  // a is REMOVED: out of the sum
  EXPECT_EQ(n.raised(), 1u);
}

TEST(NodeAlertsTest, KnownTransitionsAreSkipped) {
  NodeAlerts n;
  n.add({entry("a", 10, 100, AlarmStatus::kWarning)});
  n.sent(10, nullptr);
  // The same log read again (v2 reads from a time, inclusive): nothing new.
  EXPECT_EQ(n.add({entry("a", 10, 100, AlarmStatus::kWarning)}), 0u);
  EXPECT_EQ(n.add({entry("a", 11, 105, AlarmStatus::kClear)}), 1u);
  EXPECT_EQ(n.pendingCount(), 1u);
}

TEST(NodeAlertsTest, SnapshotSendsPendingAndCarriesEveryAlertNotRemoved) {
  NodeAlerts n;
  n.add({entry("a", 1, 100, AlarmStatus::kWarning), entry("b", 2, 200, AlarmStatus::kClear)});
  n.sent(2, nullptr);
  n.add({entry("b", 3, 300, AlarmStatus::kRemoved), entry("c", 4, 400, AlarmStatus::kCritical)});
  std::vector<AlarmEntry> changed;
  const auto snap = n.snapshot(&changed);
  EXPECT_EQ(changed.size(), 2u);
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].name, "a");
  EXPECT_EQ(snap[1].name, "c");
  EXPECT_EQ(n.pendingCount(), 0u);
  EXPECT_EQ(n.version(), 500u);
  uint64_t sum = 0;
  for (const auto& e : snap) sum += e.when;
  EXPECT_EQ(sum, n.version());  // what the cloud adds up after the snapshot
}

TEST(NodeAlertsTest, RestoreResumesAfterTheLastSentWithoutRepeats) {
  NodeAlerts before;
  before.add({entry("a", 1, 100, AlarmStatus::kWarning), entry("b", 2, 200, AlarmStatus::kClear)});
  std::vector<AlarmEntry> changed;
  before.sent(1, &changed);  // through a; b was read but not sent when the gateway died
  NodeAlerts after;
  after.restore(before.sentCursor(), changed);
  EXPECT_FALSE(after.firstContact());
  EXPECT_EQ(after.version(), 100u);
  // The log read again from the cursor: a is not repeated, b is not lost, c is new.
  EXPECT_EQ(after.add({entry("a", 1, 100, AlarmStatus::kWarning),
                       entry("b", 2, 200, AlarmStatus::kClear),
                       entry("c", 3, 300, AlarmStatus::kWarning)}),
            2u);
  const auto p = after.pending(10);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "b");
  EXPECT_EQ(p[1].name, "c");
}

TEST(NodeAlertsTest, SentCountsByCursorSoACollapseInBetweenLosesNothing) {
  NodeAlerts n;
  n.add({entry("seed", 1, 1, AlarmStatus::kClear)});
  n.sent(1, nullptr);
  n.add({entry("a", 2, 2, AlarmStatus::kWarning), entry("b", 3, 3, AlarmStatus::kWarning),
         entry("a", 4, 4, AlarmStatus::kClear)});
  const auto published = n.pending(1);  // a@2 goes out; then the pending entries collapse
  n.add(burst({"c"}));  // collapsed: b@3, a@4, c@latest
  n.sent(published.back().cursor, nullptr);
  const auto left = n.pending(10);
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].name, "b");
  EXPECT_EQ(left[1].name, "a");
}

TEST(NodeAlertsTest, PendingCollapsesPastTheLimit) {
  NodeAlerts n;
  n.add({entry("seed", 1, 1, AlarmStatus::kClear)});
  n.sent(1, nullptr);
  n.add(burst({"y", "x"}));
  EXPECT_EQ(n.pendingCount(), 2u);
  EXPECT_EQ(n.collapsed(), 1u);
}

}  // namespace
}  // namespace aclkd::alerts
