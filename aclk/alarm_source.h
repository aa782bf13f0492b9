#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace aclkd::aclk {

// The alert statuses of docs/protocol/alerts.md §4 (alarms.v1.AlarmStatus), with their wire
// numbers.
enum class AlarmStatus : int {
  kNull = 0,
  kUnknown = 1,
  kRemoved = 2,
  kNotANumber = 3,
  kClear = 4,
  kWarning = 5,
  kCritical = 6,
};

// One alert transition as AlarmLogEntry carries it (docs/protocol/alerts.md §4), in plain fields:
// only messages.cc sees the generated protobuf code.
struct AlarmEntry {
  std::string key;  // "<chart>.<name>": one alert instance of the node (not on the wire)
  std::string chart;
  std::string chartName;
  std::string chartContext;
  std::string name;
  std::string family;
  uint64_t when = 0;  // epoch seconds of the transition; also the alert's version once sent
  std::string configHash;
  int32_t utcOffset = 0;
  std::string timezone;
  std::string execPath;
  std::string confSource;
  std::string command;
  uint32_t duration = 0;
  uint32_t nonClearDuration = 0;
  AlarmStatus status = AlarmStatus::kNull;
  AlarmStatus oldStatus = AlarmStatus::kNull;
  uint32_t delay = 0;
  uint64_t delayUpToTimestamp = 0;
  uint64_t lastRepeat = 0;
  bool silenced = false;
  std::string valueString;
  std::string oldValueString;
  double value = 0;
  double oldValue = 0;
  bool updated = false;
  std::string renderedInfo;
  uint64_t eventId = 0;
  std::string transitionId;
  std::string summary;
  std::string units;  // shown by the test cloud; AlarmLogEntry has no field for it
  // Where the entry is in the agent's log (1.37: unique_id; v2: gi): what the next poll starts
  // after. Not on the wire.
  uint64_t cursor = 0;
};

// An alert definition as ProvideAlarmConfiguration carries it (docs/protocol/alerts.md §4,
// AlarmConfiguration); only the fields an agent's API gives are filled.
struct AlarmConfig {
  std::string alarm;
  std::string templateName;
  std::string onChart;
  std::string classification;
  std::string type;
  std::string component;
  std::string lookup;
  std::string every;
  std::string units;
  std::string green;
  std::string red;
  std::string calculation;
  std::string warning;
  std::string critical;
  std::string recipient;
  std::string exec;
  std::string delay;
  std::string repeat;
  std::string info;
  std::string options;
  std::string hostLabels;
  std::string chartLabels;
  std::string summary;
  int32_t lookupAfter = 0;
  int32_t lookupBefore = 0;
  std::string lookupDimensions;
  std::string lookupMethod;
  std::string lookupOptions;
  int32_t updateEvery = 0;
};

// The part that relays nodes' own alerts (alerts/), as the link sees it. Called on the link's
// thread; the implementation guards its own state and never blocks on an agent.
//
// Pull, as NodeRelaySource: the link takes pending transitions once a second for the nodes the
// cloud streams alerts for, so nothing queues inside the link while it is offline and a burst of
// transitions between two ticks goes out together.
class AlarmSource {
 public:
  virtual ~AlarmSource() = default;
  // Whether the node with this node id has its alerts relayed now (its `health` capability).
  virtual bool relays(const std::string& nodeId) = 0;
  // The node's alert version (docs/protocol/alerts.md §4): the sum, over its alerts whose last
  // transition sent is not REMOVED, of that transition's `when`.
  virtual uint64_t version(const std::string& nodeId) = 0;
  // The last transition of every alert that is not REMOVED, pending ones included: what a
  // snapshot carries. Everything pending counts as sent afterwards.
  virtual std::vector<AlarmEntry> snapshot(const std::string& nodeId) = 0;
  // Transitions not sent yet, oldest first (at most `limit`).
  virtual std::vector<AlarmEntry> pending(const std::string& nodeId, size_t limit) = 0;
  // The entries pending() returned, up to the one with this cursor, reached the link's outbound
  // queue. A cursor rather than a count: the source may have reordered its pending entries
  // meanwhile (collapsed them), and must not count unsent ones as sent.
  virtual void sent(const std::string& nodeId, uint64_t throughCursor) = 0;
  // The definition behind a configuration hash, from the agent that reported it. `done` runs
  // exactly once, possibly on another thread, and must only hand the result over.
  virtual void configuration(const std::string& configHash,
                             std::function<void(std::optional<AlarmConfig>)> done) = 0;
};

// A configuration the source found (or not), on its way to the link's thread.
struct AlarmConfigAnswer {
  std::string configHash;
  std::optional<AlarmConfig> config;
};

}  // namespace aclkd::aclk
