#include "alerts/alert_stats.h"

#include <initializer_list>
#include <utility>

namespace aclkd::alerts {

const char* pollOutcomeName(PollOutcome outcome) {
  switch (outcome) {
    case PollOutcome::kOk: return "ok";
    case PollOutcome::kUnreachable: return "unreachable";
    case PollOutcome::kTimeout: return "timeout";
    case PollOutcome::kHttpError: return "http_error";
    case PollOutcome::kBadAnswer: return "bad_answer";
    case PollOutcome::kOverloaded: return "overloaded";
    case PollOutcome::kCount_: break;
  }
  return "unknown";
}

namespace {

// One Prometheus family: HELP and TYPE, then its samples ("" labels: a bare sample).
void family(std::string* out, const char* name, const char* type, const char* help,
            std::initializer_list<std::pair<std::string, long long>> samples) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  for (const auto& [labels, value] : samples) {
    *out += std::string(name) + labels + " " + std::to_string(value) + "\n";
  }
}

long long n(const std::atomic<uint64_t>& v) { return static_cast<long long>(v.load()); }

}  // namespace

std::string AlertStats::render() const {
  std::string out;
  out += "# HELP aclkd_alert_polls_total Polls of agents' alert APIs, by outcome.\n"
         "# TYPE aclkd_alert_polls_total counter\n";
  for (size_t i = 0; i < polls.size(); ++i) {
    out += std::string("aclkd_alert_polls_total{outcome=\"") +
           pollOutcomeName(static_cast<PollOutcome>(i)) + "\"} " + std::to_string(polls[i].load()) +
           "\n";
  }
  family(&out, "aclkd_alert_transitions_total", "counter",
         "Alert transitions read from agents and sent to the cloud.",
         {{"{stage=\"read\"}", n(transitionsRead)}, {"{stage=\"sent\"}", n(transitionsSent)}});
  family(&out, "aclkd_alert_snapshots_total", "counter", "Alert snapshots sent to the cloud.",
         {{"", n(snapshots)}});
  family(&out, "aclkd_alert_configs_total", "counter",
         "Alert configurations the cloud asked for, by whether an agent knew them.",
         {{"{found=\"yes\"}", n(configsAnswered)}, {"{found=\"no\"}", n(configsUnknown)}});
  family(&out, "aclkd_alert_pending_collapsed_total", "counter",
         "Times a node's unsent transitions passed the limit and collapsed to the latest per "
         "alert.",
         {{"", n(pendingCollapsed)}});
  family(&out, "aclkd_alert_nodes_relayed", "gauge",
         "Nodes whose own alerts are relayed (health enabled).", {{"", nodesRelayed.load()}});
  family(&out, "aclkd_alert_polls_in_flight", "gauge", "Alert polls waiting for an agent.",
         {{"", pollsInFlight.load()}});
  return out;
}

}  // namespace aclkd::alerts
