#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace aclkd::alerts {

// How one poll of an agent's alerts ended, as counted in /metrics (label `outcome`).
enum class PollOutcome {
  kOk,           // answered and read
  kUnreachable,  // no HTTP answer (refused, reset, TLS, connect timeout)
  kTimeout,      // no answer before the poll's deadline
  kHttpError,    // an HTTP status other than 200
  kBadAnswer,    // 200, but not the documented JSON (or too large)
  kOverloaded,   // the shared forwarder refused it (too many waiting)
  kCount_,
};

const char* pollOutcomeName(PollOutcome outcome);

// The alert relay's counters and gauges. Lock-free: written by the relay's and the link's
// threads, read by /metrics.
struct AlertStats {
  std::array<std::atomic<uint64_t>, static_cast<size_t>(PollOutcome::kCount_)> polls{};
  std::atomic<uint64_t> transitionsRead{0};     // new transitions read from agents
  std::atomic<uint64_t> transitionsSent{0};     // AlarmLogEntry handed to the link
  std::atomic<uint64_t> snapshots{0};           // AlarmSnapshot sent (all chunks count once)
  std::atomic<uint64_t> configsAnswered{0};     // ProvideAlarmConfiguration with a definition
  std::atomic<uint64_t> configsUnknown{0};      // … without (no agent knew the hash)
  std::atomic<uint64_t> pendingCollapsed{0};    // a node's pending transitions collapsed
  std::atomic<int64_t> nodesRelayed{0};         // gauge: nodes with health relayed
  std::atomic<int64_t> pollsInFlight{0};        // gauge

  void count(PollOutcome outcome) { ++polls[static_cast<size_t>(outcome)]; }
  // Prometheus text: aclkd_alert_polls_total{outcome=…}, aclkd_alert_transitions_total{stage=…},
  // aclkd_alert_snapshots_total, aclkd_alert_configs_total{found=…},
  // aclkd_alert_pending_collapsed_total, aclkd_alert_nodes_relayed, aclkd_alert_polls_in_flight.
  std::string render() const;
};

}  // namespace aclkd::alerts
