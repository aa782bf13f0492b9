#include "alerts/alert_stats.h"

#include <cstdio>

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

std::string AlertStats::render() const {
  std::string out;
  char buf[512];
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
  };
  out += "# HELP aclkd_alert_polls_total Polls of agents' alert APIs, by outcome.\n"
         "# TYPE aclkd_alert_polls_total counter\n";
  for (size_t i = 0; i < polls.size(); ++i) {
    line("aclkd_alert_polls_total{outcome=\"%s\"} %llu\n",
         pollOutcomeName(static_cast<PollOutcome>(i)),
         static_cast<unsigned long long>(polls[i].load()));
  }
  out += "# HELP aclkd_alert_transitions_total Alert transitions read from agents and sent to "
         "the cloud.\n# TYPE aclkd_alert_transitions_total counter\n";
  line("aclkd_alert_transitions_total{stage=\"read\"} %llu\n",
       static_cast<unsigned long long>(transitionsRead.load()));
  line("aclkd_alert_transitions_total{stage=\"sent\"} %llu\n",
       static_cast<unsigned long long>(transitionsSent.load()));
  line("# HELP aclkd_alert_snapshots_total Alert snapshots sent to the cloud.\n"
       "# TYPE aclkd_alert_snapshots_total counter\naclkd_alert_snapshots_total %llu\n",
       static_cast<unsigned long long>(snapshots.load()));
  out += "# HELP aclkd_alert_configs_total Alert configurations the cloud asked for, by whether "
         "an agent knew them.\n# TYPE aclkd_alert_configs_total counter\n";
  line("aclkd_alert_configs_total{found=\"yes\"} %llu\n",
       static_cast<unsigned long long>(configsAnswered.load()));
  line("aclkd_alert_configs_total{found=\"no\"} %llu\n",
       static_cast<unsigned long long>(configsUnknown.load()));
  line("# HELP aclkd_alert_pending_collapsed_total Times a node's unsent transitions passed the "
       "limit and collapsed to the latest per alert.\n"
       "# TYPE aclkd_alert_pending_collapsed_total counter\n"
       "aclkd_alert_pending_collapsed_total %llu\n",
       static_cast<unsigned long long>(pendingCollapsed.load()));
  line("# HELP aclkd_alert_nodes_relayed Nodes whose own alerts are relayed (health enabled).\n"
       "# TYPE aclkd_alert_nodes_relayed gauge\naclkd_alert_nodes_relayed %lld\n",
       static_cast<long long>(nodesRelayed.load()));
  line("# HELP aclkd_alert_polls_in_flight Alert polls waiting for an agent.\n"
       "# TYPE aclkd_alert_polls_in_flight gauge\naclkd_alert_polls_in_flight %lld\n",
       static_cast<long long>(pollsInFlight.load()));
  return out;
}

}  // namespace aclkd::alerts
