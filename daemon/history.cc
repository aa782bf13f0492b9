#include "daemon/history.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace aclkd::daemon {
namespace {

// A total's increase per second; zero when it went backwards (never, short of a bug: the totals
// are monotonic) or when no time passed.
double rate(uint64_t now, uint64_t before, double seconds) {
  if (now < before || seconds <= 0) return 0;
  return static_cast<double>(now - before) / seconds;
}

uint32_t clamp32(uint64_t v) { return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX)); }

// Cut at kMaxStatusBytes without splitting a UTF-8 sequence (the page shows it as text).
std::string boundedStatus(const std::string& status) {
  if (status.size() <= History::kMaxStatusBytes) return status;
  size_t end = History::kMaxStatusBytes;
  while (end > 0 && (static_cast<unsigned char>(status[end]) & 0xC0) == 0x80) --end;
  return status.substr(0, end);
}

// Rounded to what a chart can show: the JSON stays short (3600 points on every subscribe).
double rounded(double v) { return std::round(v * 100) / 100; }

}  // namespace

History::History(size_t points, size_t events)
    : points_(std::max<size_t>(points, 1)), events_(std::max<size_t>(events, 1)) {
  for (auto& e : events_) e.status.reserve(kMaxStatusBytes);
}

void History::record(const HistoryFigures& given) {
  HistoryFigures f = given;
  f.linkStatus = boundedStatus(given.linkStatus);
  HistoryPoint p;
  p.t = f.now;
  p.childrenOnline = clamp32(f.childrenOnline);
  p.streaming = clamp32(f.streaming);
  p.linkOnline = f.linkOnline;
  p.reconnects = clamp32(f.reconnects);
  p.pubackLatencyMs = static_cast<double>(f.publishLatencyUs) / 1000.0;
  p.pendingPubacks = clamp32(f.pendingPubacks);
  p.alertNodesRelayed = clamp32(f.alertNodesRelayed);
  std::lock_guard lock(mutex_);
  const bool linkChanged = !previous_ || previous_->linkStatus != f.linkStatus ||
                           previous_->linkOnline != f.linkOnline ||
                           previous_->reconnects != f.reconnects;
  if (previous_) {
    const double s = f.steadySeconds - previous_->steadySeconds;
    p.samplesPerSecond = rate(f.samplesTotal, previous_->samplesTotal, s);
    p.bytesPerSecond = rate(f.streamBytesTotal, previous_->streamBytesTotal, s);
    p.queriesPerSecond = rate(f.queriesTotal, previous_->queriesTotal, s);
    p.queryFailuresPerSecond = rate(f.queryFailuresTotal, previous_->queryFailuresTotal, s);
    p.callsPerSecond = rate(f.callsTotal, previous_->callsTotal, s);
    p.callFailuresPerSecond = rate(f.callFailuresTotal, previous_->callFailuresTotal, s);
    p.alertTransitionsPerSecond =
        rate(f.alertTransitionsTotal, previous_->alertTransitionsTotal, s);
  }
  if (linkChanged) {
    LinkEvent& e = events_[eventsHead_];
    e.t = f.now;
    e.online = f.linkOnline;
    e.reconnect = previous_ && f.reconnects > previous_->reconnects;
    e.status.assign(f.linkStatus);  // within the capacity reserved: no allocation
    eventsHead_ = (eventsHead_ + 1) % events_.size();
    eventsCount_ = std::min(eventsCount_ + 1, events_.size());
  }
  points_[pointsHead_] = p;
  pointsHead_ = (pointsHead_ + 1) % points_.size();
  pointsCount_ = std::min(pointsCount_ + 1, points_.size());
  previous_ = std::move(f);  // its status already cut to kMaxStatusBytes
}

std::vector<HistoryPoint> History::points(size_t newest) const {
  std::lock_guard lock(mutex_);
  const size_t n = std::min(newest, pointsCount_);
  std::vector<HistoryPoint> out;
  out.reserve(n);
  const size_t cap = points_.size();
  for (size_t i = 0; i < n; ++i) out.push_back(points_[(pointsHead_ + cap - n + i) % cap]);
  return out;
}

std::vector<LinkEvent> History::events() const {
  std::lock_guard lock(mutex_);
  std::vector<LinkEvent> out;
  out.reserve(eventsCount_);
  const size_t cap = events_.size();
  for (size_t i = 0; i < eventsCount_; ++i) {
    out.push_back(events_[(eventsHead_ + cap - eventsCount_ + i) % cap]);
  }
  return out;
}

std::string History::json(size_t newest) const {
  const auto pts = points(newest);
  const auto evs = events();
  using nlohmann::json;
  json j;
  j["interval"] = 1;
  // Arrays of numbers, their names once: an hour is ~3600 × 60 bytes rather than 3600 objects.
  j["fields"] = {"t",          "children_online",  "streaming",       "samples_per_second",
                 "bytes_per_second", "link_online", "reconnects",   "puback_latency_ms",
                 "pending_pubacks",  "queries_per_second", "query_failures_per_second",
                 "calls_per_second", "call_failures_per_second", "alert_transitions_per_second",
                 "alert_nodes_relayed"};
  json rows = json::array();
  for (const auto& p : pts) {
    rows.push_back({p.t, p.childrenOnline, p.streaming, rounded(p.samplesPerSecond),
                    rounded(p.bytesPerSecond), p.linkOnline ? 1 : 0, p.reconnects,
                    rounded(p.pubackLatencyMs), p.pendingPubacks, rounded(p.queriesPerSecond),
                    rounded(p.queryFailuresPerSecond), rounded(p.callsPerSecond),
                    rounded(p.callFailuresPerSecond), rounded(p.alertTransitionsPerSecond),
                    p.alertNodesRelayed});
  }
  j["points"] = std::move(rows);
  // The whole history carries every event kept (the hour's, and the link's state before it); a
  // push only those of its own seconds.
  const std::time_t from = newest == SIZE_MAX || pts.empty() ? 0 : pts.front().t;
  json events = json::array();
  for (const auto& e : evs) {
    if (e.t < from) continue;
    events.push_back({{"t", e.t}, {"online", e.online}, {"reconnect", e.reconnect},
                      {"status", e.status}});
  }
  j["events"] = std::move(events);
  // A status string is the link's own text (mostly ASCII); replace rather than throw on a stray
  // byte so that a bad string can never take the channel down.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

size_t History::memoryUsed() const {
  std::lock_guard lock(mutex_);
  size_t bytes = sizeof(*this) + points_.capacity() * sizeof(HistoryPoint) +
                 events_.capacity() * sizeof(LinkEvent);
  for (const auto& e : events_) bytes += e.status.capacity();
  if (previous_) bytes += previous_->linkStatus.capacity();
  return bytes;
}

size_t History::memoryBound() const {
  // The string capacity is what the library rounds kMaxStatusBytes up to: twice it is a safe
  // ceiling for any allocator's growth policy on a string that never grows past it.
  return sizeof(*this) + points_.size() * sizeof(HistoryPoint) +
         events_.size() * (sizeof(LinkEvent) + 2 * kMaxStatusBytes) + 2 * kMaxStatusBytes;
}

}  // namespace aclkd::daemon
