#include "daemon/gateway.h"

#include <algorithm>
#include <sstream>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include "common/fail_with.h"
#include "common/log.h"
#include "common/text.h"
#include "common/version.h"
#include "daemon/alert_wiring.h"
#include "daemon/live_channels.h"
#include "daemon/local_api.h"
#include "daemon/options.h"
#include "daemon/reload_diff.h"
#include "daemon/status_page.h"
#include "query/curl_forwarder.h"
#include "daemon/store_node_ids.h"
#include "stream_bridge/simple_pattern.h"
#include "web/web_server.h"

namespace aclkd::daemon {

Gateway::Gateway(DaemonConfig config, std::string machineGuid, std::string hostname)
    : streamConf_(std::make_shared<const stream_bridge::StreamConf>(std::move(config.stream))),
      config_(std::move(config)),
      logLevel_(config_.aclkd.getString("global", "log level")),
      machineGuid_(std::move(machineGuid)),
      hostname_(std::move(hostname)) {
  claims_ = std::make_unique<claim::ClaimManager>(config_.options.stateDir,
                                                  cloudSettings(), processEnvironment());
  openStore();
  if (config_.options.cloudEnabled) {
    aclk::LinkOptions lo;
    lo.hostname = hostname_;
    lo.machineGuid = machineGuid_;
    lo.agentVersion = kAclkdVersion;
    lo.caFile = config_.options.cloudCaFile;
    const std::string trusted =
        config_.options.stateDir + "/cloud.d/trusted.pem";
    if (lo.caFile.empty() && ::access(trusted.c_str(), R_OK) == 0) {
      lo.caFile = trusted;
    }
    lo.outboundLimitBytes =
        static_cast<size_t>(config_.options.outboundQueueLimitMiB) << 20;
    lo.inboundLimitBytes =
        static_cast<size_t>(config_.options.inboundMessageLimitKiB) << 10;
    lo.localApi = [this](const std::string& method, const std::string& path) {
      return localApi(method, path);
    };
    query::ProxyOptions qo;
    qo.enabled = config_.options.queryProxy;
    qo.defaultPort = static_cast<int>(config_.options.queryDefaultPort);
    qo.defaultTimeout = std::chrono::seconds(config_.options.queryTimeoutSeconds);
    std::istringstream names(config_.options.queryForwardHeaders);
    for (std::string name; names >> name;) qo.forwardHeaders.insert(asciiLower(name));
    query::CurlForwarder::Options fo;
    fo.perAgentLimit =
        static_cast<size_t>(config_.options.queryConnectionsPerAgent);
    forwarder_ = std::make_shared<query::CurlForwarder>(fo);
    queryProxy_ = std::make_shared<query::QueryProxy>(
        qo, lo.localApi, [this] { return queryNodes(); }, forwarder_);
    // Agent-level `health`: the gateway relays alerts at all (per node it is the relay's say).
    lo.gatewayFeatures.health = config_.options.alertsPollSeconds > 0;
    lo.cmdHandler = queryProxy_;
    lo.gatewayFeatures.functions = lo.gatewayFeatures.dyncfg = config_.options.functions;
    link_ = std::make_unique<aclk::Link>(std::move(lo), [this] { return claims_->snapshot(); });
  }
  // The registry outlives neither the link nor the bridge: both hold it, the gateway owns both.
  registry_ = std::make_shared<stream_bridge::NodeRegistry>([this] {
    if (link_) link_->nodesChanged();
    if (alertRelay_) alertRelay_->nodesChanged();
  });
  if (link_) {
    // Before the registry takes the store's rows: the relay takes its own.
    alertRelay_ = makeAlertRelay(
        config_.options, [this] { return queryNodes(); }, forwarder_, store_,
        [this] { link_->nodesChanged(); });
  }
  registry_->restoreFrom(store_);
  // Functions are called down the streams; whether a node's may be is asked at every look, from
  // the stream.conf in force.
  registry_->setFunctionsPolicy([this](const std::string& apiKey, const std::string& guid) {
    return functionsRefusal(config_.options.functions,
                            currentStreamConf()->querySettings(apiKey, guid).allowFunctions);
  });
  if (queryProxy_) {
    streamFunctions_ = std::make_shared<StreamFunctions>(registry_, [this] {
      return link_ ? link_->nodeIds() : std::map<std::string, std::string>{};
    });
    queryProxy_->setFunctionClient(streamFunctions_);
  }
  if (link_) connectAlertRelay(*link_, registry_, alertRelay_);
  if (link_ && store_) link_->setNodeIdMemory(std::make_shared<StoreNodeIds>(store_));
}

void Gateway::openStore() {
  store::StateStore::Options o;
  o.path = config_.options.stateDir + "/state.db";
  std::string error;
  store_ = store::StateStore::open(o, &error);
  if (!store_) {
    spdlog::error("STORE: cannot open the state store {}: {}; running without one: nodes, node "
                  "ids and contexts will not survive a restart", o.path, error);
  }
}

bool Gateway::startBridge(std::string* error) {
  const auto bindTo = config_.options.bindTo;
  if (bindTo.empty()) {
    spdlog::info("STREAM: [web] bind to is empty; the stream bridge is off");
    return true;
  }
  stream_bridge::BridgeOptions bo;
  if (std::string e; !stream_bridge::parseBindTo(bindTo, &bo.bindAddress, &bo.port, &bo.tls, &e)) {
    return failWith(error, "[web] bind to: " + e);
  }
  bo.tlsCertificate = config_.options.sslCertificate;
  bo.tlsKey = config_.options.sslKey;
  if (bo.tls != stream_bridge::TlsMode::kNone && (bo.tlsCertificate.empty() || bo.tlsKey.empty())) {
    return failWith(error,
                    "[web] bind to asks for TLS but [web] ssl certificate / ssl key are not set");
  }
  bo.allowStreamingFrom = config_.options.allowStreamingFrom;
  bo.compression = config_.options.streamCompression;
  bo.ioThreads = static_cast<size_t>(config_.options.streamIoThreads);
  bo.readBatchBytes = static_cast<size_t>(config_.options.streamReadBatchBytes);
  bo.receiveBufferBytes = static_cast<size_t>(config_.options.streamReceiveBufferBytes);
  bo.ownMachineGuid = machineGuid_;
  bo.ownHostname = hostname_;
  // What a v2 parent passes down (NODE_ID, its hop in STREAM_PATH): the claim and the node ids
  // the cloud gave, as the link knows them.
  bo.cloudIdentity = [this] {
    stream_bridge::CloudIdentity id;
    const auto snap = claims_->snapshot();
    if (!snap->claimed || !link_) return id;
    id.claimId = snap->claimedId;
    id.cloudUrl = snap->cloudUrl;
    id.nodeIds = link_->nodeIds();  // the gateway's own node included
    return id;
  };
  // The port's web side: the route table and who may use it; the bridge hands it every
  // connection that is not a stream.
  web::WebOptions wo;
  auto allow = std::make_shared<stream_bridge::SimplePattern>(
      stream_bridge::SimplePattern::parse(config_.options.allowConnectionsFrom));
  wo.allowed = [allow](const std::string& ip) { return allow->admits(ip); };
  wo.routes
      .add({"GET", "/live", {},
            [this](const std::string& channel, web::ChannelRender purpose, std::string* error)
                -> std::optional<std::string> {
              // The history is kept apart from the snapshot (taking one is not needed for it).
              if (channel == kHistoryChannel) {
                return history_.json(purpose == web::ChannelRender::kPush ? kHistoryPushPoints
                                                                          : SIZE_MAX);
              }
              return renderChannel(channel, surfaceSnapshot(), error);
            }})
      .add({"GET", "/api/v3/stream_info",
            [this](const web::HttpRequest& req) {
              const auto r = bridge()->streamInfo(req.target);
              return web::HttpResponse{r.code, "application/json", r.body};
            },
            {},
            [this](const std::string& ip) { return bridge()->mayStream(ip); }})
      // The status page's chart library, from Debian's package (status_page.h).
      .add({"GET", "/static/chart.js",
            [](const web::HttpRequest&) {
              auto file = chartLibrary();
              return web::HttpResponse{file.code, std::move(file.contentType),
                                       std::move(file.body)};
            },
            {}})
      .add({"GET", "*",
            [this](const web::HttpRequest& req) {
              const auto r = localApi("GET", req.target);
              return web::HttpResponse{r.code, r.contentType, r.body};
            },
            {}});
  web_ = std::make_shared<web::WebServer>(std::move(wo));
  bo.handOff = [web = web_](web::PortConnection c) { web->serve(std::move(c)); };
  bo.ephemeralCleanupAfter =
      std::chrono::seconds(config_.options.ephemeralCleanupSeconds);
  bridge_ = std::make_unique<stream_bridge::StreamServer>(bo, currentStreamConf(), registry_);
  if (!bridge_->start(error)) return false;
  startedBridge_.store(bridge_.get(), std::memory_order_release);
  if (streamFunctions_) streamFunctions_->attach(bridge_.get());
  startHistory();
  return true;
}

Gateway::~Gateway() { stop(); }

void Gateway::startHistory() {
  historySampler_ = std::thread([this] {
    std::unique_lock lock(historyStopMutex_);
    // Aligned on steady-clock seconds rather than sleeping a second after each sample: the
    // sampling itself takes time, and a drift would leave holes in the charts.
    auto next = std::chrono::steady_clock::now();
    while (!historyStopping_) {
      lock.unlock();
      history_.record(historyFigures());
      lock.lock();
      next += std::chrono::seconds(1);
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;  // after a stall, no burst of catch-up points
      historyStop_.wait_until(lock, next, [this] { return historyStopping_; });
    }
  });
}

void Gateway::stop() {
  if (historySampler_.joinable()) {
    {
      std::lock_guard lock(historyStopMutex_);
      historyStopping_ = true;
    }
    historyStop_.notify_all();
    historySampler_.join();
  }
  if (initialClaim_.joinable()) {
    initialClaim_.join();
  }
  // Before the streams close: the store keeps the contexts as the cloud last saw them. The link
  // goes down before the bridge for the same reason: streams closing at shutdown would otherwise
  // race the link's once-a-second relay, and whatever reached the cloud in between (closed
  // contexts, liveness) would no longer match the store, costing a snapshot after the restart.
  // The cloud learns the shutdown from the reachable=false UpdateAgentConnection; the nodes are
  // reported with liveness false at the next start until their streams return.
  registry_->detachStore();
  if (alertRelay_) alertRelay_->stop();  // before the link it nudges and the store it writes
  if (link_) {
    link_->stop();
  }
  if (streamFunctions_) streamFunctions_->detach();
  startedBridge_.store(nullptr, std::memory_order_release);
  if (bridge_) {
    bridge_->stop();
  }
  if (store_) store_->flush();
}

aclk::LocalHttpResponse Gateway::localApi(const std::string& method,
                                          const std::string& path) const {
  return routeHttp(method, path, ready_.load(),
                   [this](SurfaceDepth depth) { return surfaceSnapshot(depth); });
}

std::string Gateway::handleControl(const std::string& requestLine) {
  return dispatchControl(requestLine, *this);
}

std::vector<std::string> Gateway::staleNodes(const std::string& which, bool unregister) {
  return registry_->removeStaleNodes(which, unregister);
}

std::string Gateway::reloadConfig() {
  std::lock_guard lock(reloadMutex_);
  ConfigDiagnostics diag;
  DaemonConfig fresh = loadDaemonConfig(config_.configDir, diag);
  for (const auto& w : diag.warnings) {
    spdlog::warn("{}", w);
  }
  if (!diag.errors.empty()) {
    for (const auto& e : diag.errors) {
      spdlog::error("{}", e);
    }
    spdlog::error("configuration reload rejected; keeping the running configuration");
    return "reload rejected, the running configuration is unchanged: " + diag.errors.front();
  }
  auto diff = diffReload(config_.aclkd, logLevel_, fresh.aclkd);
  if (diff.logLevel) {
    setLogLevel(*diff.logLevel);
    logLevel_ = *diff.logLevel;
    spdlog::info("log level is now {}", logLevel_);
  }
  for (const auto& name : diff.restart) {
    spdlog::warn("{} changed; it takes effect after a restart", name);
  }
  // API keys, machine GUID sections and their patterns apply to the next handshake; streams
  // already accepted and the link are untouched. `allow functions` applies at once: the nodes'
  // capabilities are computed again and a change goes to the cloud.
  auto conf = std::make_shared<const stream_bridge::StreamConf>(std::move(fresh.stream));
  {
    std::lock_guard lock(streamConfMutex_);
    streamConf_ = conf;
  }
  if (link_) link_->nodesChanged();
  if (auto* bridge = this->bridge()) {
    bridge->setConf(conf);
    diff.applied.push_back("stream.conf (" + std::to_string(conf->sections().size()) +
                           " sections)");
  }
  const std::string out = reloadSummary(diff.applied, diff.restart);
  spdlog::info("configuration {}", out);
  return out;
}

}  // namespace aclkd::daemon
