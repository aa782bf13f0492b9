#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace aclkd::daemon {

// What the gateway reads once a second for the status page's charts: gauges as they are now,
// counters as the monotonic totals they are (the history turns them into rates).
struct HistoryFigures {
  std::time_t now = 0;        // wall clock, the point's time on the charts
  double steadySeconds = 0;   // a monotonic clock: rates divide by the time really elapsed
  uint64_t childrenOnline = 0;  // streamed nodes whose stream is live
  uint64_t streaming = 0;       // stream connections now
  uint64_t samplesTotal = 0;
  uint64_t streamBytesTotal = 0;
  bool linkOnline = false;
  uint64_t reconnects = 0;
  std::string linkStatus;  // aclk-status, as `aclkctl aclk-state` shows it
  uint64_t publishLatencyUs = 0;
  uint64_t pendingPubacks = 0;
  uint64_t queriesTotal = 0;
  uint64_t queryFailuresTotal = 0;
  uint64_t callsTotal = 0;
  uint64_t callFailuresTotal = 0;
  uint64_t alertTransitionsTotal = 0;  // AlarmLogEntry handed to the link (alert relay)
  uint64_t alertNodesRelayed = 0;      // nodes whose own alerts are relayed now
};

// One second on the charts. Plain numbers only, so that the buffer's size is its capacity times
// sizeof(HistoryPoint), whatever happens on the link.
struct HistoryPoint {
  std::time_t t = 0;
  uint32_t childrenOnline = 0;
  uint32_t streaming = 0;
  double samplesPerSecond = 0;
  double bytesPerSecond = 0;
  bool linkOnline = false;
  uint32_t reconnects = 0;
  double pubackLatencyMs = 0;
  uint32_t pendingPubacks = 0;
  double queriesPerSecond = 0;
  double queryFailuresPerSecond = 0;
  double callsPerSecond = 0;
  double callFailuresPerSecond = 0;
  double alertTransitionsPerSecond = 0;
  uint32_t alertNodesRelayed = 0;
};

// A change of the link: its status string changed, or it reconnected. The strings live here
// rather than in every point: the link changes rarely, and a flapping link is bounded by the
// event ring, not by the hour.
struct LinkEvent {
  std::time_t t = 0;
  bool online = false;
  bool reconnect = false;  // the reconnect counter moved: a mark on the timeline
  std::string status;      // at most kMaxStatusBytes
};

// The last hour of the gateway's own figures, one point per second, in two rings of fixed
// capacity allocated once: memory is bounded by memoryBound() however long the daemon runs and
// whatever the link does (a status string is cut to kMaxStatusBytes). Thread-safe: a sampler
// thread records, the web side's threads render.
class History {
 public:
  static constexpr size_t kDefaultPoints = 3600;
  static constexpr size_t kDefaultEvents = 256;
  static constexpr size_t kMaxStatusBytes = 160;

  explicit History(size_t points = kDefaultPoints, size_t events = kDefaultEvents);

  // Appends one point: gauges as given, rates from the totals of the previous call (none for the
  // first; a total that went backwards counts as zero). Records a LinkEvent when the status or
  // the reconnect count changed.
  void record(const HistoryFigures& f);

  std::vector<HistoryPoint> points(size_t newest = SIZE_MAX) const;  // oldest first
  std::vector<LinkEvent> events() const;                             // oldest first

  // The JSON of the `aclk/history` live channel: {"interval":1,"fields":[…],"points":[[…]…],
  // "events":[{t,online,reconnect,status}…]}. `newest` points only (a push), or all of them (the
  // reply to a subscribe); a push carries the events of its points' seconds.
  std::string json(size_t newest = SIZE_MAX) const;

  // Bytes held now, and the most they can ever be for this capacity.
  size_t memoryUsed() const;
  size_t memoryBound() const;

 private:
  mutable std::mutex mutex_;
  std::vector<HistoryPoint> points_;  // ring: capacity fixed at construction
  size_t pointsHead_ = 0;             // next slot to write
  size_t pointsCount_ = 0;
  std::vector<LinkEvent> events_;     // ring
  size_t eventsHead_ = 0;
  size_t eventsCount_ = 0;
  std::optional<HistoryFigures> previous_;
};

}  // namespace aclkd::daemon
