#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace aclkd::aclk {

// Backoff parameters from /env (docs/protocol/aclk.md §4.3), with the agent's defaults when /env
// gave none.
struct BackoffParams {
  int base = 2;
  int64_t minSeconds = 0;
  int64_t maxSeconds = 1024;
};

// Truncated binary exponential backoff with jitter, docs/protocol/aclk.md §10.1: attempt 0 after a
// reset is immediate; attempt k >= 1 waits base^(k-1) s plus a random part below max(1 s, half of
// that). Unlike Netdata (whose clamped values are used as milliseconds, so from the 11th attempt on
// it waits 1.024 s) the clamps here really are minSeconds and maxSeconds.
class Backoff {
 public:
  explicit Backoff(uint64_t seed);

  void setParams(const BackoffParams& params);
  const BackoffParams& params() const { return params_; }

  // The delay before the next attempt; advances the attempt counter.
  std::chrono::milliseconds next();
  // Called at the 3rd PUBACK of a connection, after a ban wait and after a block-until wait.
  void reset();
  // Attempts made since the last reset (0 right after a reset).
  int attempts() const { return attempt_ + 1; }

 private:
  BackoffParams params_;
  int attempt_ = -1;
  std::mt19937_64 rng_;
};

}  // namespace aclkd::aclk
