#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "aclk/alarm_source.h"

namespace aclkd::alerts {

// One node's alerts as the cloud knows them and what is on its way (docs/protocol/alerts.md §4):
// the last transition sent per alert (its `when` is the alert's version), the transitions read
// from the agent but not sent yet, and the agent log's cursors. Not thread-safe (the relay
// guards it).
class NodeAlerts {
 public:
  // Pending transitions kept per node; past it they collapse to the latest per alert (what a
  // snapshot would carry anyway), so an offline cloud costs bounded memory.
  static constexpr size_t kPendingLimit = 10000;

  // The durable state of a previous run: the cursor of the last transition sent and each
  // alert's last transition sent.
  void restore(uint64_t sentCursor, std::vector<aclk::AlarmEntry> lastSent);

  // Transitions read from the agent, oldest first. Those at or before the poll cursor, or older
  // than what was sent for their alert, are known and skipped. On first contact (nothing seen
  // yet) only the latest transition of each alert is kept, and none whose alert is REMOVED: the
  // cloud learns the present state, not the agent's whole history. Returns how many were new.
  size_t add(const std::vector<aclk::AlarmEntry>& entries);

  bool firstContact() const { return pollCursor_ == 0; }
  // Where the next poll starts: the largest cursor seen, and (v2) that entry's `when`.
  uint64_t pollCursor() const { return pollCursor_; }
  uint64_t pollWhen() const { return pollWhen_; }
  uint64_t sentCursor() const { return sentCursor_; }

  // Sum of the versions of the alerts whose last transition sent is not REMOVED.
  uint64_t version() const;
  bool empty() const { return lastSent_.empty() && pending_.empty(); }

  // Everything pending counts as sent; returns the last transition of each alert not REMOVED
  // (by key). `changed` receives the alerts whose last transition sent changed.
  std::vector<aclk::AlarmEntry> snapshot(std::vector<aclk::AlarmEntry>* changed);
  std::vector<aclk::AlarmEntry> pending(size_t limit) const;
  size_t pendingCount() const { return pending_.size(); }
  // The pending transitions up to the one with this cursor were sent (pending is in cursor
  // order); `changed` as for snapshot.
  void sent(uint64_t throughCursor, std::vector<aclk::AlarmEntry>* changed);

  // The present, pending included: alerts in WARNING or CRITICAL, and the newest `when`.
  size_t raised() const;
  uint64_t lastTransition() const;
  // The present state per alert, pending included (the test cloud's view, aclkctl).
  std::map<std::string, aclk::AlarmEntry> current() const;
  uint64_t collapsed() const { return collapsed_; }

 private:
  void collapse();

  std::map<std::string, aclk::AlarmEntry> lastSent_;  // by key
  std::deque<aclk::AlarmEntry> pending_;
  uint64_t pollCursor_ = 0;
  uint64_t pollWhen_ = 0;
  uint64_t sentCursor_ = 0;
  uint64_t collapsed_ = 0;
};

}  // namespace aclkd::alerts
