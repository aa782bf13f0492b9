#include "aclk/backoff.h"

#include <algorithm>

namespace aclkd::aclk {

Backoff::Backoff(uint64_t seed) : rng_(seed) {}

void Backoff::setParams(const BackoffParams& params) { params_ = params; }

void Backoff::reset() { attempt_ = -1; }

std::chrono::milliseconds Backoff::next() {
  ++attempt_;
  if (attempt_ == 0) {
    return std::chrono::milliseconds(0);
  }
  const int64_t minMs = params_.minSeconds * 1000;
  const int64_t maxMs = std::max(params_.maxSeconds, params_.minSeconds) * 1000;
  // base^(k-1) seconds, stopping as soon as it passes the cap (no overflow for large k).
  int64_t seconds = 1;
  for (int i = 1; i < attempt_ && seconds * 1000 < maxMs; ++i) {
    seconds *= std::max(1, params_.base);
  }
  const int64_t baseMs = seconds * 1000;
  const int64_t jitterSpan = std::max<int64_t>(1000, seconds * 500);
  std::uniform_int_distribution<int64_t> jitter(0, jitterSpan - 1);
  const int64_t delay = baseMs + jitter(rng_);
  return std::chrono::milliseconds(std::clamp(delay, minMs, maxMs));
}

}  // namespace aclkd::aclk
