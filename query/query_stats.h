#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace aclkd::query {

// How a cloud query ended, as counted in /metrics (label `outcome`).
enum class QueryOutcome {
  kLocal,        // the gateway's own API answered
  kAnswered,     // the agent answered (any HTTP status)
  kBadNodeId,    // EC 1
  kUnknownNode,  // EC 2
  kOffline,      // 503: the node's stream is not connected
  kRefused,      // 403/405: proxy off, queries not allowed, not GET/POST, not /api/
  kUnreachable,  // 503: no answer from the agent
  kTimeout,      // 503 + EC 6
  kTooLarge,     // 413 + EC 4
  kCancelled,    // CancelPendingRequest
  kOverloaded,   // 503: too many waiting
  kCount_,
};

const char* outcomeName(QueryOutcome outcome);

// Counters by outcome and a latency histogram of forwarded queries (from the cloud's request to
// the reply handed to the link). Lock-free: updated from the forwarder's thread, read by /metrics.
class QueryStats {
 public:
  static constexpr std::array<double, 12> kBucketsSeconds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

  void count(QueryOutcome outcome);
  void observe(std::chrono::microseconds latency);
  void inflight(int delta) { inflight_ += delta; }

  // Prometheus text: aclkd_query_total{outcome=…}, aclkd_query_duration_seconds (histogram),
  // aclkd_query_in_flight.
  std::string render() const;

 private:
  std::array<std::atomic<uint64_t>, static_cast<size_t>(QueryOutcome::kCount_)> outcomes_{};
  std::array<std::atomic<uint64_t>, kBucketsSeconds.size()> buckets_{};
  std::atomic<uint64_t> observations_{0};
  std::atomic<uint64_t> sumMicros_{0};
  std::atomic<int64_t> inflight_{0};
};

}  // namespace aclkd::query
