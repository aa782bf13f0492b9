#include "query/query_stats.h"

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

void QueryStats::count(QueryOutcome outcome) { ++outcomes_[static_cast<size_t>(outcome)]; }

void QueryStats::observe(std::chrono::microseconds latency) {
  const double seconds = static_cast<double>(latency.count()) / 1e6;
  for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    if (seconds <= kBucketsSeconds[i]) ++buckets_[i];  // cumulative, as Prometheus has it
  }
  ++observations_;
  sumMicros_ += static_cast<uint64_t>(latency.count());
}

std::string QueryStats::render() const {
  std::string out;
  char buf[160];
  out += "# HELP aclkd_query_total Cloud queries (cmd requests), by outcome.\n"
         "# TYPE aclkd_query_total counter\n";
  for (size_t i = 0; i < outcomes_.size(); ++i) {
    std::snprintf(buf, sizeof buf, "aclkd_query_total{outcome=\"%s\"} %llu\n",
                  outcomeName(static_cast<QueryOutcome>(i)),
                  static_cast<unsigned long long>(outcomes_[i].load()));
    out += buf;
  }
  out += "# HELP aclkd_query_duration_seconds Forwarded cloud queries, from request to reply.\n"
         "# TYPE aclkd_query_duration_seconds histogram\n";
  for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    std::snprintf(buf, sizeof buf, "aclkd_query_duration_seconds_bucket{le=\"%g\"} %llu\n",
                  kBucketsSeconds[i], static_cast<unsigned long long>(buckets_[i].load()));
    out += buf;
  }
  const auto n = static_cast<unsigned long long>(observations_.load());
  std::snprintf(buf, sizeof buf, "aclkd_query_duration_seconds_bucket{le=\"+Inf\"} %llu\n", n);
  out += buf;
  std::snprintf(buf, sizeof buf, "aclkd_query_duration_seconds_sum %.6f\n",
                static_cast<double>(sumMicros_.load()) / 1e6);
  out += buf;
  std::snprintf(buf, sizeof buf, "aclkd_query_duration_seconds_count %llu\n", n);
  out += buf;
  std::snprintf(buf, sizeof buf,
                "# HELP aclkd_query_in_flight Forwarded cloud queries not answered yet.\n"
                "# TYPE aclkd_query_in_flight gauge\naclkd_query_in_flight %lld\n",
                static_cast<long long>(inflight_.load()));
  out += buf;
  return out;
}

}  // namespace aclkd::query
