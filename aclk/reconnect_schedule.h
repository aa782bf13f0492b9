#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

#include "aclk/backoff.h"

namespace aclkd::aclk {

// When the link's next connection attempt may start: the reconnect backoff (docs/protocol/aclk.md
// §10.1), a block the cloud asked for (a failed login's retry delay, a DisconnectReq's
// reconnect_after) and the ban's slow retry. The ban itself lives in LinkState, where readers of
// `aclk-state` see it, so it comes in as an argument; time comes in as arguments too, so unit tests
// drive it with their own clock. Link-thread only.
class ReconnectSchedule {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  ReconnectSchedule(uint64_t seed, std::chrono::seconds banRetry)
      : backoff_(seed), banRetry_(banRetry) {}

  // The backoff parameters /env gave.
  void setBackoff(const BackoffParams& params) { backoff_.setParams(params); }
  // The longest block kept. The delay is the cloud's number (a DisconnectReq's
  // reconnect_after_seconds, a login error's errorRetryDelaySeconds): unbounded, it would
  // overflow the clock's nanoseconds when added to now (undefined behaviour, and in practice a
  // block in the past, so no block at all).
  static constexpr std::chrono::seconds kMaxBlock = std::chrono::hours(24 * 365);
  // No attempt before now + delay, delay kept within 0..kMaxBlock (the latest block wins; it is
  // used once).
  void blockFor(std::chrono::seconds delay, TimePoint now) {
    blockUntil_ = now + std::clamp(delay, std::chrono::seconds(0), kMaxBlock);
  }
  // The connection's 3rd PUBACK: the next loss reconnects at once.
  void connectionStable() { backoff_.reset(); }
  // reload-claiming-state: the block is dropped and the backoff starts over.
  void restart();

  // The wait before the next attempt. Banned: banRetry. A block still ahead: the rest of it,
  // rounded up to the next millisecond, so that "no attempt before N seconds" holds to the
  // millisecond. Otherwise the backoff's next step. A ban or a block restarts the backoff, so
  // the attempt after it is immediate.
  std::chrono::milliseconds next(bool banned, TimePoint now);

 private:
  Backoff backoff_;
  const std::chrono::seconds banRetry_;
  std::optional<TimePoint> blockUntil_;
};

}  // namespace aclkd::aclk
