#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace aclkd::aclk {

// Session takeovers (MQTT 5 reason 142, or a clean close by the broker while online): another
// connection with our client id (the claimed id) took the session. Now and then that is a broker
// restart or failover; kTakeovers within kWindow means two machines share this claimed id (a
// copied cloud.d) and keep kicking each other off. Time comes in as arguments, so unit tests
// drive it with their own clock. Not thread-safe: the link calls it under its state lock.
class TakeoverWatch {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr auto kWindow = std::chrono::minutes(10);
  static constexpr size_t kTakeovers = 3;

  // Records one takeover. Returns the takeovers within the window when the clone warning is
  // due now (at most one per window), 0 otherwise.
  size_t note(TimePoint now);

  uint64_t total() const { return total_; }
  bool cloneSuspected() const { return cloneSuspected_; }

 private:
  uint64_t total_ = 0;
  bool cloneSuspected_ = false;
  std::deque<TimePoint> recent_;
  std::optional<TimePoint> lastWarning_;
};

}  // namespace aclkd::aclk
