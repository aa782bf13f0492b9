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
  // A current condition, not a latch: suspected from the kTakeovers-th takeover within kWindow
  // until a whole kWindow passes without one. A broker that crashes a few times in a row also
  // looks like takeovers (its close cannot be told from a takeover's, see Link); the suspicion
  // then ends on its own once the broker is stable again.
  bool cloneSuspected(TimePoint now) const { return lastBurst_ && now - *lastBurst_ <= kWindow; }

 private:
  uint64_t total_ = 0;
  std::optional<TimePoint> lastBurst_;  // the last takeover that made kTakeovers within kWindow
  std::deque<TimePoint> recent_;
  std::optional<TimePoint> lastWarning_;
};

}  // namespace aclkd::aclk
