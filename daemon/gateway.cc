#include "daemon/gateway.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>
#include <unistd.h>
#include <spdlog/spdlog.h>

#include "common/log.h"
#include "common/version.h"
#include "daemon/alert_wiring.h"
#include "daemon/control_request.h"
#include "daemon/local_api.h"
#include "daemon/options.h"
#include "daemon/status_page.h"
#include "query/curl_forwarder.h"
#include "daemon/store_node_ids.h"
#include "stream_bridge/simple_pattern.h"
#include "web/web_server.h"

namespace aclkd::daemon {
namespace {

std::string reply(int code, const std::string& text) {
  nlohmann::ordered_json j;
  j["code"] = code;
  j["text"] = text;
  return j.dump();
}

}  // namespace

Gateway::Gateway(DaemonConfig config, std::string machineGuid, std::string hostname)
    : config_(std::move(config)), machineGuid_(std::move(machineGuid)),
      hostname_(std::move(hostname)) {
  streamConf_ = std::make_shared<const stream_bridge::StreamConf>(config_.stream);
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
    for (std::string name; names >> name;) {
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      qo.forwardHeaders.insert(name);
    }
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
    std::lock_guard lock(streamConfMutex_);
    return functionsRefusal(config_.options.functions,
                            streamConf_->querySettings(apiKey, guid).allowFunctions);
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

std::string Gateway::startBridge() {
  const auto bindTo = config_.options.bindTo;
  if (bindTo.empty()) {
    spdlog::info("STREAM: [web] bind to is empty; the stream bridge is off");
    return "";
  }
  stream_bridge::BridgeOptions bo;
  if (auto e = stream_bridge::parseBindTo(bindTo, &bo.bindAddress, &bo.port, &bo.tls);
      !e.empty()) {
    return "[web] bind to: " + e;
  }
  bo.tlsCertificate = config_.options.sslCertificate;
  bo.tlsKey = config_.options.sslKey;
  if (bo.tls != stream_bridge::TlsMode::kNone && (bo.tlsCertificate.empty() || bo.tlsKey.empty())) {
    return "[web] bind to asks for TLS but [web] ssl certificate / ssl key are not set";
  }
  bo.allowStreamingFrom = config_.options.allowStreamingFrom;
  bo.compression = config_.options.streamCompression;
  bo.ioThreads = static_cast<size_t>(config_.options.streamIoThreads);
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
              const auto r = bridge_->streamInfo(req.target);
              return web::HttpResponse{r.code, "application/json", r.body};
            },
            {},
            [this](const std::string& ip) { return bridge_->mayStream(ip); }})
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
  bridge_ = std::make_unique<stream_bridge::StreamServer>(bo, config_.stream, registry_);
  auto error = bridge_->start();
  if (error.empty() && streamFunctions_) streamFunctions_->attach(bridge_.get());
  if (error.empty()) startHistory();
  return error;
}

Gateway::~Gateway() { stop(); }

claim::CloudSettings Gateway::cloudSettings() const {
  claim::CloudSettings s;
  s.url = config_.options.cloudUrl;
  s.proxy = config_.options.cloudProxy;
  s.insecure = config_.options.cloudInsecure;
  s.caFile = config_.options.cloudCaFile;
  s.hostname = hostname_;
  s.machineGuid = machineGuid_;
  return s;
}

void Gateway::startInitialClaim() {
  initialClaim_ = std::thread([this] {
    const claim::ClaimConf claimConf = claimConfOf(config_.options);
    const auto snap =
        claims_->reload(config_.claimConfPresent ? &claimConf : nullptr, {}).snapshot;
    if (!snap->claimed) {
      spdlog::warn("CLAIM: gateway is not claimed: {}", snap->claimFailureReason);
    }
    ready_.store(true);
  });
  if (link_) {
    link_->start();
  }
  if (alertRelay_) alertRelay_->start();
}

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
  if (bridge_) {
    bridge_->stop();
  }
  if (store_) store_->flush();
}

aclk::LocalHttpResponse Gateway::localApi(const std::string& method,
                                          const std::string& path) const {
  return routeHttp(method, path, ready_.load(),
                   [this](bool withStreams) { return surfaceSnapshot(withStreams); });
}

std::string Gateway::reloadClaimingState() {
  ConfigDiagnostics diag;
  const ConfigValues claimConf = loadClaimConf(config_.configDir, diag);
  for (const auto& w : diag.warnings) {
    spdlog::warn("{}", w);
  }
  if (!diag.errors.empty()) {
    for (const auto& e : diag.errors) {
      spdlog::error("{}", e);
    }
    return "claim.conf is invalid: " + diag.errors.front();
  }
  const claim::ClaimConf typed = claimConfOf(typedOptions(ConfigValues(), claimConf));
  const auto before = claims_->snapshot();
  const auto snap = claims_->reload(&typed, {}).snapshot;
  if (link_) {
    link_->reloadIdentity();
  }
  if (!snap->claimed) {
    return "Netdata Agent is not claimed to Netdata Cloud: " + snap->claimFailureReason;
  }
  // As netdatacli does (brief §3.6 step 7): wait up to 10 s, every 50 ms, for "online with a
  // node id", so the reply says how the reload ended rather than how it began. A new identity
  // first takes the old session down; "online" before that would be the old one.
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto view = stateView();
  if (link_ && before->claimedId != snap->claimedId) {
    const auto down = std::chrono::steady_clock::now() + 2s;
    while (view.online && std::chrono::steady_clock::now() < down) {
      std::this_thread::sleep_for(50ms);
      view = stateView();
    }
  }
  auto onlineWithNodeId = [](const aclk::AclkStateView& v) {
    return v.online && std::any_of(v.nodes.begin(), v.nodes.end(), [](const auto& n) {
             return n.self && n.nodeId.has_value();
           });
  };
  // A ban does not end the wait: the reload lifts it once the link takes the reload in, and the
  // first views may still show the old ban.
  while (link_ && !onlineWithNodeId(view) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    view = stateView();
  }
  if (onlineWithNodeId(view)) {
    return "Netdata Agent is claimed to Netdata Cloud and is currently online.";
  }
  if (view.banned) return "Netdata Agent is claimed to Netdata Cloud, but it is banned.";
  return "Netdata Agent is claimed to Netdata Cloud, but it is currently offline: " +
         view.aclkStatus;
}

std::string Gateway::claimCommand(const std::string& token, const std::string& rooms,
                                  const std::string& url, const std::string& proxy, bool insecure,
                                  int* code) {
  claim::ClaimInputs in;
  in.source = "aclkctl claim";
  in.token = token;
  in.rooms = claim::parseRooms(rooms);
  in.url = url.empty() ? std::string(claim::kDefaultCloudUrl) : url;
  in.proxy = proxy;
  in.insecure = insecure;
  if (in.token.empty()) {
    *code = 1;
    return "Claim token must be specified";
  }
  std::string proxyError;
  if (!proxy.empty() && !parseProxyValue(proxy, &proxyError)) {
    *code = 1;
    return "invalid proxy: " + proxyError;
  }
  const auto result = claims_->reload(nullptr, in);
  if (link_) {
    link_->reloadIdentity();
  }
  if (!result.succeeded) {
    *code = 1;
    return "Claiming failed: " + result.reason;
  }
  *code = 0;
  return "Netdata Agent is claimed to Netdata Cloud with claimed_id " + result.snapshot->claimedId;
}

std::string Gateway::handleControl(const std::string& requestLine) {
  const auto req = parseControlRequest(requestLine);
  if (!req) {
    return reply(1, "malformed request: expected {\"command\": \"...\"}");
  }
  const std::string& command = req->command;
  if (command == "aclk-state") {
    nlohmann::ordered_json j;
    j["code"] = 0;
    j["state"] = nlohmann::ordered_json::parse(aclk::renderAclkStateJson(stateView()));
    return j.dump();
  }
  if (command == "reload-claiming-state") {
    return reply(0, reloadClaimingState());
  }
  if (command == "claim") {
    int code = 0;
    const std::string out =
        claimCommand(req->token, req->rooms, req->url, req->proxy, req->insecure, &code);
    return reply(code, out);
  }
  if (command == "streams" || command == "nodes") {
    nlohmann::ordered_json j;
    j["code"] = 0;
    j[command] = nlohmann::ordered_json::parse(command == "streams" ? streamsJson() : nodesJson());
    return j.dump();
  }
  if (command == "reload") {
    return reply(0, reloadConfig());
  }
  if (command == "remove-stale-node" || command == "mark-stale-nodes-ephemeral") {
    return staleNodesCommand(req->node, command == "remove-stale-node");
  }
  if (command == "ping") {
    return reply(0, "pong");
  }
  return reply(1, "unknown command '" + command + "'");
}

// Netdata's remove-stale-node / mark-stale-nodes-ephemeral: the text has one line per node
// acted on, `results` the same lines for the JSON form.
std::string Gateway::staleNodesCommand(const std::string& which, bool unregister) {
  if (which.empty()) return reply(1, "Please specify a machine or node UUID or hostname");
  nlohmann::ordered_json j;
  j["code"] = 0;
  std::string text;
  j["results"] = nlohmann::ordered_json::array();
  for (const auto& line : registry_->removeStaleNodes(which, unregister)) {
    text += (text.empty() ? "" : "\n") + line;
    j["results"].push_back(line);
  }
  j["text"] = text;
  return j.dump();
}

std::string Gateway::streamsJson() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  if (!bridge_) return out.dump();
  auto streams = bridge_->streams();
  // A stable order for operators and scripts: by host name, then machine GUID.
  std::sort(streams.begin(), streams.end(), [](const auto& a, const auto& b) {
    return std::tie(a.hostname, a.machineGuid) < std::tie(b.hostname, b.machineGuid);
  });
  for (const auto& s : streams) out.push_back(nlohmann::ordered_json::parse(streamJson(s)));
  return out.dump();
}

std::string Gateway::nodesJson() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  const NodeExtras extras = [this](const std::string& guid) { return nodeExtras(guid); };
  for (const auto& n : registry_->nodes()) {
    out.push_back(nlohmann::ordered_json::parse(nodeJson(n, extras)));
  }
  return out.dump();
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
  std::vector<std::string> applied;
  std::vector<std::string> restart;
  for (const auto& spec : optionTable()) {
    if (spec.file != "aclkd.conf") {
      continue;
    }
    const auto before = config_.aclkd.getString(spec.section, spec.name);
    const auto after = fresh.aclkd.getString(spec.section, spec.name);
    if (before == after) {
      continue;
    }
    const std::string name = "[" + std::string(spec.section) + "] " + std::string(spec.name);
    if (spec.section == "global" && spec.name == "log level") {
      setLogLevel(after);
      config_.aclkd.set(spec.section, spec.name, after, "reload");
      config_.options.logLevel = fresh.options.logLevel;
      spdlog::info("log level is now {}", after);
      applied.push_back(name);
    } else {
      spdlog::warn("{} changed; it takes effect after a restart", name);
      restart.push_back(name);
    }
  }
  // API keys, machine GUID sections and their patterns apply to the next handshake; streams
  // already accepted and the link are untouched. `allow functions` applies at once: the nodes'
  // capabilities are computed again and a change goes to the cloud.
  {
    std::lock_guard lock(streamConfMutex_);
    streamConf_ = std::make_shared<const stream_bridge::StreamConf>(fresh.stream);
  }
  if (link_) link_->nodesChanged();
  if (bridge_) {
    bridge_->setConf(fresh.stream);
    applied.push_back("stream.conf (" + std::to_string(fresh.stream.sections().size()) +
                      " sections)");
  }
  std::string out = "reloaded";
  for (size_t i = 0; i < applied.size(); ++i) out += (i ? ", " : ": applied ") + applied[i];
  for (size_t i = 0; i < restart.size(); ++i) {
    out += (i ? ", " : "; needs a restart: ") + restart[i];
  }
  spdlog::info("configuration {}", out);
  return out;
}

}  // namespace aclkd::daemon
