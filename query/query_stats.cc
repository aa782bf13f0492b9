#include "query/query_stats.h"

#include <algorithm>
#include <cstdio>

namespace aclkd::query {

const char* outcomeName(QueryOutcome outcome) {
  switch (outcome) {
    case QueryOutcome::kLocal: return "local";
    case QueryOutcome::kAnswered: return "answered";
    case QueryOutcome::kBadNodeId: return "bad_node_id";
    case QueryOutcome::kUnknownNode: return "unknown_node";
    case QueryOutcome::kOffline: return "offline";
    case QueryOutcome::kRefused: return "refused";
    case QueryOutcome::kUnreachable: return "unreachable";
    case QueryOutcome::kTimeout: return "timeout";
    case QueryOutcome::kTooLarge: return "too_large";
    case QueryOutcome::kCancelled: return "cancelled";
    case QueryOutcome::kOverloaded: return "overloaded";
    case QueryOutcome::kCount_: break;
  }
  return "unknown";
}

const char* callOutcomeName(CallOutcome outcome) {
  switch (outcome) {
    case CallOutcome::kAnswered: return "answered";
    case CallOutcome::kListed: return "listed";
    case CallOutcome::kTimeout: return "timeout";
    case CallOutcome::kTooLarge: return "too_large";
    case CallOutcome::kStreamGone: return "stream_gone";
    case CallOutcome::kOverloaded: return "overloaded";
    case CallOutcome::kCancelled: return "cancelled";
    case CallOutcome::kForbidden: return "forbidden";
    case CallOutcome::kBadRequest: return "bad_request";
    case CallOutcome::kCount_: break;
  }
  return "unknown";
}

namespace {

template <typename Outcome, typename Name>
std::vector<const char*> namesOf(Name name) {
  std::vector<const char*> out;
  for (size_t i = 0; i < static_cast<size_t>(Outcome::kCount_); ++i) {
    out.push_back(name(static_cast<Outcome>(i)));
  }
  return out;
}

}  // namespace

OutcomeStats::OutcomeStats(Names names, std::vector<const char*> outcomeNames)
    : names_(names), outcomeNames_(std::move(outcomeNames)), outcomes_(outcomeNames_.size()) {}

QueryStats::QueryStats()
    : OutcomeStats({"aclkd_query_total", "Cloud queries (cmd requests), by outcome.",
                    "aclkd_query_duration_seconds",
                    "Forwarded cloud queries, from request to reply.", "aclkd_query_in_flight",
                    "Forwarded cloud queries not answered yet."},
                   namesOf<QueryOutcome>(outcomeName)) {}

FunctionStats::FunctionStats()
    : OutcomeStats({"aclkd_function_calls_total",
                    "Cloud function calls and lists for relayed nodes, by outcome.",
                    "aclkd_function_call_duration_seconds",
                    "Function calls down a stream, from the cloud's request to the reply.",
                    "aclkd_function_calls_in_flight", "Function calls not answered yet."},
                   namesOf<CallOutcome>(callOutcomeName)) {}

void OutcomeStats::observe(std::chrono::microseconds latency) {
  const double seconds = static_cast<double>(latency.count()) / 1e6;
  for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    if (seconds <= kBucketsSeconds[i]) ++buckets_[i];  // cumulative, as Prometheus has it
  }
  ++observations_;
  sumMicros_ += static_cast<uint64_t>(latency.count());
}

std::string OutcomeStats::render() const {
  std::string out;
  char buf[200];
  std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s counter\n", names_.total,
                names_.totalHelp, names_.total);
  out += buf;
  for (size_t i = 0; i < outcomes_.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s{outcome=\"%s\"} %llu\n", names_.total, outcomeNames_[i],
                  static_cast<unsigned long long>(outcomes_[i].load()));
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s histogram\n", names_.duration,
                names_.durationHelp, names_.duration);
  out += buf;
  for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s_bucket{le=\"%g\"} %llu\n", names_.duration,
                  kBucketsSeconds[i], static_cast<unsigned long long>(buckets_[i].load()));
    out += buf;
  }
  const auto n = static_cast<unsigned long long>(observations_.load());
  std::snprintf(buf, sizeof buf, "%s_bucket{le=\"+Inf\"} %llu\n", names_.duration, n);
  out += buf;
  std::snprintf(buf, sizeof buf, "%s_sum %.6f\n", names_.duration,
                static_cast<double>(sumMicros_.load()) / 1e6);
  out += buf;
  std::snprintf(buf, sizeof buf, "%s_count %llu\n", names_.duration, n);
  out += buf;
  std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", names_.inflight,
                names_.inflightHelp, names_.inflight, names_.inflight,
                static_cast<long long>(inflight_.load()));
  out += buf;
  return out;
}

uint64_t OutcomeStats::total() const { return totalExcept({}); }

// Summed outcome by outcome rather than total minus the others: the counters move while they are
// read, and a difference of two reads could go below zero.
uint64_t OutcomeStats::totalExcept(std::initializer_list<size_t> excluded) const {
  uint64_t sum = 0;
  for (size_t i = 0; i < outcomes_.size(); ++i) {
    if (std::find(excluded.begin(), excluded.end(), i) == excluded.end()) sum += countOf(i);
  }
  return sum;
}

uint64_t QueryStats::failures() const {
  return totalExcept({static_cast<size_t>(QueryOutcome::kLocal),
                      static_cast<size_t>(QueryOutcome::kAnswered),
                      static_cast<size_t>(QueryOutcome::kCancelled)});
}

uint64_t FunctionStats::failures() const {
  return totalExcept({static_cast<size_t>(CallOutcome::kAnswered),
                      static_cast<size_t>(CallOutcome::kListed),
                      static_cast<size_t>(CallOutcome::kCancelled)});
}

}  // namespace aclkd::query
