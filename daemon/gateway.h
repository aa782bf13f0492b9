#pragma once

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "aclk/aclk_state_view.h"
#include "aclk/link.h"
#include "alerts/alert_relay.h"
#include "claim/claim_manager.h"
#include "daemon/control_commands.h"
#include "daemon/daemon_config.h"
#include "daemon/history.h"
#include "daemon/local_api.h"
#include "daemon/stream_functions.h"
#include "query/query_proxy.h"
#include "store/state_store.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_server.h"

namespace aclkd::web {
class WebServer;
}

namespace aclkd::daemon {

// The daemon's core: owns the parts, wires them together, and answers the control socket. It
// composes the parts through their public headers only. What it decides from plain values lives
// apart, each with its unit tests: the control commands (control_commands.h), the claim commands'
// inputs and replies (claim_commands.h), the reload's diff (reload_diff.h), the status precedence
// (cloud_status.h), the statistics (statistics.h) and the renderers of the operating surface
// (local_api.h). The Gateway's own members are in gateway.cc (wiring, start, stop, reload),
// gateway_claim.cc and gateway_views.cc (what it reads from the parts).
class Gateway : private ControlTarget {
 public:
  Gateway(DaemonConfig config, std::string machineGuid, std::string hostname);
  ~Gateway();

  // The start-up claim (an unclaimed gateway with claim inputs claims itself) runs on its own
  // thread so the control socket answers while the HTTPS request is under way.
  void startInitialClaim();

  // Starts the stream bridge's listener unless `[web] bind to` is empty; false with *error
  // (address in use, bad certificate) when it cannot.
  bool startBridge(std::string* error);

  // One control request line (JSON) to one reply line (JSON): dispatchControl on this gateway.
  std::string handleControl(const std::string& requestLine);

  // `withNodes` false: without the link's node table (see Link::fillState).
  aclk::AclkStateView stateView(bool withNodes = true) const;

  // SIGHUP and `aclkctl reload`: re-read aclkd.conf and stream.conf; apply what can change live
  // (log level, API keys and their patterns), report the rest as needing a restart. Established
  // streams and the link stay up. Returns the one-line summary.
  std::string reloadConfig() override;

  void stop();

 private:
  // The control commands (ControlTarget); reloadConfig above is one too.
  std::string aclkStateJson() const override;
  std::string reloadClaimingState() override;
  std::string claim(const ClaimRequest& request, bool* failed) override;
  std::string streamsJson() const override;
  std::string nodesJson() const override;
  std::vector<std::string> staleNodes(const std::string& which, bool unregister) override;

  claim::CloudSettings cloudSettings() const;

  // Declared before config_ so that it is initialised first, taking stream.conf out of the
  // config: this is the one current stream.conf, shared with the bridge; a reload swaps the
  // pointer (under streamConfMutex_) and hands the bridge the same object.
  mutable std::mutex streamConfMutex_;
  std::shared_ptr<const stream_bridge::StreamConf> streamConf_;
  // The configuration as started, never written after the constructor: every thread reads it
  // without a lock. What a reload changes live has its own state: the log level (logLevel_) and
  // stream.conf (streamConf_). Its `stream` is empty (moved into streamConf_).
  const DaemonConfig config_;
  std::string logLevel_;  // the running `[global] log level`; guarded by reloadMutex_
  std::string machineGuid_;
  std::string hostname_;
  // Answers the cloud's `cmd` HTTP requests with the gateway's own API.
  aclk::LocalHttpResponse localApi(const std::string& method, const std::string& path) const;

  // Every node the query proxy can route to: the gateway itself and the registry's nodes, with
  // the link's node ids and stream.conf's query settings.
  std::vector<query::NodeFacts> queryNodes() const;

  void openStore();

  std::unique_ptr<claim::ClaimManager> claims_;
  std::shared_ptr<store::StateStore> store_;  // null when the state dir cannot hold one
  std::shared_ptr<query::QueryProxy> queryProxy_;
  std::shared_ptr<StreamFunctions> streamFunctions_;  // the proxy's way down the streams
  // The agents' HTTP client, shared by the query proxy and the alert relay (per-agent limits).
  std::shared_ptr<query::ForwardClient> forwarder_;
  std::shared_ptr<alerts::AlertRelay> alertRelay_;  // null: `[cloud] alerts poll every = 0`
  std::unique_ptr<aclk::Link> link_;
  std::shared_ptr<stream_bridge::NodeRegistry> registry_;
  std::shared_ptr<web::WebServer> web_;  // outlives the bridge that hands it connections
  std::unique_ptr<stream_bridge::StreamServer> bridge_;  // the main thread's, until stop()
  // The bridge once started, for the other threads (control clients, the history sampler, a
  // reload): published after start() with release, so that a control request that arrives while
  // the bridge is starting sees either nothing or a started bridge, never a half-built one.
  std::atomic<stream_bridge::StreamServer*> startedBridge_{nullptr};
  stream_bridge::StreamServer* bridge() const {
    return startedBridge_.load(std::memory_order_acquire);
  }
  std::shared_ptr<const stream_bridge::StreamConf> currentStreamConf() const {
    std::lock_guard lock(streamConfMutex_);
    return streamConf_;
  }
  std::atomic<bool> ready_{false};  // the start-up claim step is over: the API answers
  std::time_t started_ = std::time(nullptr);
  std::mutex reloadMutex_;
  // Everything the operating surface shows; the per-stream views only `withStreams` (they wait
  // on every stream loop: see routeHttp).
  SurfaceSnapshot surfaceSnapshot(SurfaceDepth depth = SurfaceDepth::kNodesAndStreams) const;
  // The parts' statistics now (statistics.h): the bridge's, the web side's, the registry's, the
  // store's.
  PartReadings partReadings() const;
  // The fields other parts add to a node's JSON (the alert relay's), as a JSON object.
  std::string nodeExtras(const std::string& machineGuid) const;
  std::thread initialClaim_;

  // The status page's charts: the figures read once a second into history_, on a thread of its
  // own (started with the bridge, whose web side is the only reader).
  void startHistory();
  HistoryFigures historyFigures() const;
  History history_;
  std::mutex historyStopMutex_;
  std::condition_variable historyStop_;
  bool historyStopping_ = false;
  std::thread historySampler_;
};

}  // namespace aclkd::daemon
