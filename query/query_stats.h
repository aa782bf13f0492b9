#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

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

// Counters by outcome and a latency histogram (from the cloud's request to the reply handed to
// the link), rendered for /metrics under the names given. Lock-free: updated from the
// forwarder's and the stream loops' threads, read by /metrics.
class OutcomeStats {
 public:
  static constexpr std::array<double, 12> kBucketsSeconds = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  struct Names {
    const char* total;     // <total>{outcome=…}, a counter
    const char* totalHelp;
    const char* duration;  // a histogram
    const char* durationHelp;
    const char* inflight;  // a gauge
    const char* inflightHelp;
  };
  OutcomeStats(Names names, std::vector<const char*> outcomeNames);

  void countOutcome(size_t outcome) { ++outcomes_[outcome]; }
  uint64_t countOf(size_t outcome) const { return outcomes_[outcome].load(); }
  uint64_t total() const;  // every outcome
  uint64_t totalExcept(std::initializer_list<size_t> outcomes) const;
  void observe(std::chrono::microseconds latency);
  void inflight(int delta) { inflight_ += delta; }
  std::string render() const;

 private:
  const Names names_;
  const std::vector<const char*> outcomeNames_;
  std::vector<std::atomic<uint64_t>> outcomes_;
  std::array<std::atomic<uint64_t>, kBucketsSeconds.size()> buckets_{};
  std::atomic<uint64_t> observations_{0};
  std::atomic<uint64_t> sumMicros_{0};
  std::atomic<int64_t> inflight_{0};
};

// Cloud queries: aclkd_query_total{outcome=…}, aclkd_query_duration_seconds (forwarded
// queries), aclkd_query_in_flight.
class QueryStats : public OutcomeStats {
 public:
  QueryStats();
  void count(QueryOutcome outcome) { countOutcome(static_cast<size_t>(outcome)); }
  // Queries the gateway could not answer (every outcome but local, answered and cancelled: an
  // agent's own HTTP error is an answer, a cancel the cloud's choice). The status page's chart.
  uint64_t failures() const;
};

// How a function call or list for a relayed node ended (docs/protocol/aclk.md §8.3).
enum class CallOutcome {
  kAnswered,    // the node answered (any HTTP code)
  kListed,      // the functions list, answered from the declared table
  kTimeout,     // 504: no answer in time; FUNCTION_CANCEL sent
  kTooLarge,    // 413 + EC 4
  kStreamGone,  // 503: no live stream holds the node, or it closed mid-call
  kOverloaded,  // 503: too many calls in flight on the stream
  kCancelled,   // 499: CancelPendingRequest; FUNCTION_CANCEL sent
  kForbidden,   // 403: [cloud] functions = no, or the node's `allow functions = no`
  kBadRequest,  // 400: malformed, or a character that would forge a stream line
  kCount_,
};
const char* callOutcomeName(CallOutcome outcome);

// aclkd_function_calls_total{outcome=…}, aclkd_function_call_duration_seconds,
// aclkd_function_calls_in_flight.
class FunctionStats : public OutcomeStats {
 public:
  FunctionStats();
  void count(CallOutcome outcome) { countOutcome(static_cast<size_t>(outcome)); }
  // Calls that got no answer from the node (every outcome but answered, listed and cancelled).
  uint64_t failures() const;
};

}  // namespace aclkd::query
