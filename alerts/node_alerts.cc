#include "alerts/node_alerts.h"

#include <algorithm>

namespace aclkd::alerts {

using aclk::AlarmEntry;
using aclk::AlarmStatus;

void NodeAlerts::restore(uint64_t sentCursor, std::vector<AlarmEntry> lastSent) {
  sentCursor_ = pollCursor_ = sentCursor;
  lastSent_.clear();
  pending_.clear();
  for (auto& e : lastSent) {
    pollWhen_ = std::max(pollWhen_, e.when);
    std::string key = e.key;
    lastSent_[std::move(key)] = std::move(e);
  }
}

size_t NodeAlerts::add(const std::vector<AlarmEntry>& entries) {
  std::vector<const AlarmEntry*> fresh;
  for (const auto& e : entries) {
    if (e.cursor <= pollCursor_) continue;
    const auto it = lastSent_.find(e.key);
    if (it != lastSent_.end() && e.when < it->second.when) continue;
    fresh.push_back(&e);
  }
  if (fresh.empty()) return 0;
  if (firstContact()) {
    std::map<std::string, const AlarmEntry*> latest;
    for (const auto* e : fresh) latest[e->key] = e;  // oldest first: the last one wins
    std::vector<const AlarmEntry*> keep;
    for (const auto& [key, e] : latest) {
      if (e->status != AlarmStatus::kRemoved) keep.push_back(e);
    }
    std::sort(keep.begin(), keep.end(),
              [](const AlarmEntry* a, const AlarmEntry* b) { return a->cursor < b->cursor; });
    // The cursor moves past everything read, kept or not.
    pollCursor_ = fresh.back()->cursor;
    pollWhen_ = std::max(pollWhen_, fresh.back()->when);
    for (const auto* e : keep) pending_.push_back(*e);
    // Nothing was sent yet: a restart before the first send reads the log again.
    return keep.size();
  }
  for (const auto* e : fresh) {
    pending_.push_back(*e);
    pollCursor_ = std::max(pollCursor_, e->cursor);
    pollWhen_ = std::max(pollWhen_, e->when);
  }
  if (pending_.size() > kPendingLimit) collapse();
  return fresh.size();
}

void NodeAlerts::collapse() {
  std::map<std::string, AlarmEntry> latest;
  for (auto& e : pending_) latest[e.key] = std::move(e);
  pending_.clear();
  std::vector<AlarmEntry> ordered;
  for (auto& [key, e] : latest) ordered.push_back(std::move(e));
  std::sort(ordered.begin(), ordered.end(),
            [](const AlarmEntry& a, const AlarmEntry& b) { return a.cursor < b.cursor; });
  ++collapsed_;
  for (auto& e : ordered) pending_.push_back(std::move(e));
}

uint64_t NodeAlerts::version() const {
  uint64_t sum = 0;
  for (const auto& [key, e] : lastSent_) {
    if (e.status != AlarmStatus::kRemoved) sum += e.when;
  }
  return sum;
}

std::vector<AlarmEntry> NodeAlerts::snapshot(std::vector<AlarmEntry>* changed) {
  sent(UINT64_MAX, changed);
  std::vector<AlarmEntry> out;
  for (const auto& [key, e] : lastSent_) {
    if (e.status != AlarmStatus::kRemoved) out.push_back(e);
  }
  return out;
}

std::vector<AlarmEntry> NodeAlerts::pending(size_t limit) const {
  const size_t n = std::min(limit, pending_.size());
  return {pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n)};
}

void NodeAlerts::sent(uint64_t throughCursor, std::vector<AlarmEntry>* changed) {
  while (!pending_.empty() && pending_.front().cursor <= throughCursor) {
    AlarmEntry e = std::move(pending_.front());
    pending_.pop_front();
    sentCursor_ = std::max(sentCursor_, e.cursor);
    if (changed) changed->push_back(e);
    std::string key = e.key;
    lastSent_[std::move(key)] = std::move(e);
  }
  // Read but not kept (first contact): the cursor of what was sent covers it once nothing is
  // left pending.
  if (pending_.empty()) sentCursor_ = std::max(sentCursor_, pollCursor_);
}

std::map<std::string, AlarmEntry> NodeAlerts::current() const {
  auto out = lastSent_;
  for (const auto& e : pending_) out[e.key] = e;
  return out;
}

size_t NodeAlerts::raised() const {
  size_t n = 0;
  for (const auto& [key, e] : current()) {
    if (e.status == AlarmStatus::kWarning || e.status == AlarmStatus::kCritical) ++n;
  }
  return n;
}

uint64_t NodeAlerts::lastTransition() const {
  uint64_t t = 0;
  for (const auto& [key, e] : lastSent_) t = std::max(t, e.when);
  for (const auto& e : pending_) t = std::max(t, e.when);
  return t;
}

}  // namespace aclkd::alerts
