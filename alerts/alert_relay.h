#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aclk/alarm_source.h"
#include "alerts/alert_stats.h"
#include "query/agent_target.h"
#include "query/forward_client.h"

namespace aclkd::alerts {

struct RelayOptions {
  std::chrono::milliseconds pollEvery{10000};  // `[cloud] alerts poll every`; jittered ±10 %
  int defaultPort = 19999;                     // `[cloud] query default port`
  std::chrono::milliseconds requestTimeout{10000};
  // Polls in flight at once over all agents: the forwarder's waiting line is shared with the
  // cloud's queries, which must never find it full because of alert polls.
  size_t maxInFlight = 32;
  size_t maxResponseBytes = 8u << 20;
  int failuresBeforeOff = 3;  // failed polls in a row before a node's health goes off
  int reprobeEvery = 30;      // log polls between two health checks (`/api/v1/alarms?all`)
  uint64_t seed = 0;          // jitter; 0: random
};

// What `aclkctl nodes` shows of one node's alerts.
struct AlertNodeStatus {
  bool relayed = false;
  std::string reason;  // why not, when not relayed
  size_t raised = 0;   // alerts in WARNING or CRITICAL now
  uint64_t lastTransition = 0;  // epoch seconds of the newest transition known
  uint64_t version = 0;
  size_t pending = 0;  // read, not sent yet (the cloud has not asked to stream)
  std::map<std::string, aclk::AlarmEntry> current;  // filled by status(guid, true) only
};

// The durable part of a node's alerts changed: the cursor of the last transition sent and the
// alerts whose last transition sent changed (the state store keeps them).
using PersistAlerts = std::function<void(const std::string& machineGuid, uint64_t sentCursor,
                                         const std::vector<aclk::AlarmEntry>& changed)>;

// The alert relay (docs/protocol/alerts.md): follows the alert log of every live relayed node's
// agent on its own thread, through the query proxy's agent access (query url, TLS settings) and
// forwarder (per-agent concurrency shared with queries), and answers the cloud's alert requests
// for those nodes as the link's AlarmSource. The gateway evaluates no alerts.
//
// Per node: a health check (`/api/v1/alarms?all`: the agent defines alerts, and which log API it
// has), then the log from the last cursor every pollEvery (jittered), at once when the node
// connects. A node whose agent has health off, cannot be reached (failuresBeforeOff polls in a
// row) or whose stream is gone is not relayed: its `health` capability is off.
//
// Threads: ForwardClient completions and configuration requests only enqueue; the relay's thread
// polls and reads; the link's thread calls the AlarmSource functions. Node state is behind one
// mutex, never held across an HTTP request.
class AlertRelay : public aclk::AlarmSource {
 public:
  using NodeList = std::function<std::vector<query::NodeFacts>()>;
  AlertRelay(RelayOptions options, NodeList nodes, std::shared_ptr<query::ForwardClient> client,
             PersistAlerts persist, std::function<void()> relayedChanged);
  ~AlertRelay() override;
  AlertRelay(const AlertRelay&) = delete;
  AlertRelay& operator=(const AlertRelay&) = delete;

  // A previous run's state of one node; before start().
  void restore(const std::string& machineGuid, uint64_t sentCursor,
               std::vector<aclk::AlarmEntry> lastSent);
  void start();
  void stop();  // idempotent; waits for the thread
  // The node list changed (a stream came or went): re-read it now rather than within 2 s.
  void nodesChanged();

  bool relayed(const std::string& machineGuid) const;
  std::optional<AlertNodeStatus> status(const std::string& machineGuid,
                                        bool withCurrent = false) const;
  const AlertStats& stats() const;

  // aclk::AlarmSource (the link's thread).
  bool relays(const std::string& nodeId) override;
  uint64_t version(const std::string& nodeId) override;
  std::vector<aclk::AlarmEntry> snapshot(const std::string& nodeId) override;
  std::vector<aclk::AlarmEntry> pending(const std::string& nodeId, size_t limit) override;
  void sent(const std::string& nodeId, uint64_t throughCursor) override;
  void configuration(const std::string& configHash,
                     std::function<void(std::optional<aclk::AlarmConfig>)> done) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aclkd::alerts
