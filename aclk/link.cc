#include "aclk/link.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <random>
#include <thread>
#include <variant>

#include "aclk/alarm_sync.h"
#include "aclk/cloud_login.h"
#include "aclk/cmd_requests.h"
#include "aclk/inbound_handlers.h"
#include "aclk/link_connection.h"
#include "aclk/link_events.h"
#include "aclk/link_state.h"
#include "aclk/messages.h"
#include "aclk/node_sync.h"
#include "aclk/reconnect_schedule.h"
#include "aclk/topics.h"
#include "common/untrusted_text.h"
#include "common/url.h"

namespace aclkd::aclk {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kShutdownAckWait = milliseconds(2000);
constexpr auto kDisconnectWait = milliseconds(4000);
constexpr auto kBadUrlRetry = seconds(30);
constexpr auto kBadKeyRetry = seconds(5);
constexpr auto kClaimPoll = seconds(1);
constexpr int kSessionTakenOver = 142;  // MQTT 5 DISCONNECT reason "Session taken over"

// Why the online loop ended.
enum class OnlineEnd { kLost, kStop, kReload, kCloudRequest };

}  // namespace

struct Link::Impl : public InboundContext {
  Impl(LinkOptions o, ClaimSource c)
      : opt(std::move(o)), claims(std::move(c)),
        schedule(opt.seed != 0 ? opt.seed : std::random_device{}(), opt.banRetry),
        nodeSync(SelfNode{opt.machineGuid, opt.hostname, opt.agentVersion,
                          [claims = claims] { return claims()->proxy.labelValue(); },
                          opt.gatewayFeatures},
                 [this](TopicId topic, const std::string& payload) {
                   return connection.publish(topic, payload);
                 }) {}

  // Next event before `deadline`; nullopt on timeout.
  // Answers of the CmdHandler are published here, in whatever state the link is.
  std::optional<LinkEvent> pop(Clock::time_point deadline) {
    while (true) {
      auto e = events->pop(deadline);
      if (!e) return std::nullopt;
      if (auto* config = std::get_if<AlarmConfigAnswer>(&*e)) {
        alarms.publishConfiguration(*config);
        continue;
      }
      auto* answer = std::get_if<CmdRequests::Answer>(&*e);
      if (!answer) return e;
      cmds.publishAnswer(*answer, sessionId);
    }
  }

  // Waits until `deadline`, dropping stale MQTT events; returns a command if one arrives.
  std::optional<LinkCommand> idleUntil(Clock::time_point deadline) {
    while (true) {
      auto e = pop(deadline);
      if (!e) {
        return std::nullopt;
      }
      if (auto* c = std::get_if<LinkCommand>(&*e)) {
        if (*c == LinkCommand::kNodesChanged) {
          nodeSync.sync(false);
          continue;
        }
        return *c;
      }
    }
  }

  void setStatus(AclkStatus s) { state.setStatus(s); }

  // ---- the main loop ----------------------------------------------------------------------

  void run() {
    unsigned long warnedGeneration = ~0ul;
    while (!stopping.load()) {
      const auto snap = claims();
      if (!snap->claimed) {
        if (auto c = idleUntil(Clock::now() + kClaimPoll); c && *c == LinkCommand::kStop) break;
        continue;
      }
      const auto cloudUrl = snap->cloudUrlValid ? parseUrl(snap->cloudUrl, nullptr) : std::nullopt;
      if (!cloudUrl) {
        setStatus(snap->cloudUrl.empty() ? AclkStatus::kNoCloudUrl : AclkStatus::kInvalidCloudUrl);
        if (warnedGeneration != snap->generation) {
          spdlog::warn("ACLK: {}, please fix", claim::kInvalidUrl);
          warnedGeneration = snap->generation;
        }
        if (auto c = idleUntil(Clock::now() + kBadUrlRetry); c && *c == LinkCommand::kStop) break;
        continue;
      }
      if (!snap->key) {
        if (warnedGeneration != snap->generation) {
          spdlog::warn("ACLK: {} '{}' failed: {}", claim::kKeyLoadFailure, "cloud.d/private.pem",
                       snap->keyError);
          warnedGeneration = snap->generation;
        }
        if (auto c = idleUntil(Clock::now() + kBadKeyRetry); c && *c == LinkCommand::kStop) break;
        continue;
      }
      const milliseconds delay =
          schedule.next(state.with([](const LinkState& st) { return st.banned; }), Clock::now());
      if (delay.count() > 0) {
        spdlog::debug("Wait before attempting to reconnect in {:.3f} seconds",
                      static_cast<double>(delay.count()) / 1000.0);
        state.with([&](LinkState& st) {
          st.times.nextConnectionAttempt =
              std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + delay);
          st.times.lastBackoffSeconds = static_cast<double>(delay.count()) / 1000.0;
        });
        if (auto c = idleUntil(Clock::now() + delay)) {
          if (*c == LinkCommand::kStop) break;
          onReload();
          continue;
        }
      }
      state.with([](LinkState& st) { ++st.attempts; });
      if (!attempt(*snap, *cloudUrl)) {
        state.with([](LinkState& st) { ++st.failedAttempts; });
      }
    }
    setStatus(AclkStatus::kDisabled);
  }

  void onReload() {
    state.with([](LinkState& st) {
      if (st.banned) {
        spdlog::info("ACLK: ban lifted by reload-claiming-state");
      }
      st.banned = false;
    });
    schedule.restart();
  }

  // ---- one connection attempt -------------------------------------------------------------

  // Returns true when the link got online (however it ended).
  bool attempt(const claim::ClaimSnapshot& snap, const Url& cloudUrl) {
    sessionId = unixTimeUs();
    CloudLoginOptions lo;
    lo.caFile = opt.caFile;
    lo.agentVersion = opt.agentVersion;
    lo.cancel = &cancelHttp;
    lo.http = opt.http;
    lo.setStatus = [this](AclkStatus s) { setStatus(s); };
    CloudLogin login = loginToCloud(snap, cloudUrl, lo);
    if (login.backoff) schedule.setBackoff(*login.backoff);
    if (login.cloudError) {
      if (login.cloudError->nonRetryable) ban();
      if (login.cloudError->retryDelaySeconds > 0) {
        blockReconnectFor(seconds(login.cloudError->retryDelaySeconds));
      }
    }
    if (!login.mqttEndpoint) return false;
    return connectMqtt(snap, *login.mqttEndpoint, std::move(login.credentials));
  }

  // ---- MQTT ---------------------------------------------------------------------------------

  bool connectMqtt(const claim::ClaimSnapshot& snap, const Url& endpoint, MqttCredentials creds) {
    connection.setTopics(std::move(creds.topics));
    const TopicMap& topics = connection.topics();
    sessionClaimId = snap.claimedId;
    sessionGeneration = snap.generation;
    nodeSync.beginSession(sessionClaimId, sessionId);
    alarms.beginSession(sessionClaimId);
    const uint64_t number = ++sessionNumber;

    MqttConnectParams p;
    p.wire.host = endpoint.host;
    p.wire.port = endpoint.port;
    p.clientId = creds.clientId;
    p.username = creds.username;
    p.password = creds.password;
    p.willTopic = *topics.get(TopicId::kAgentConnection);
    p.willPayload = encodeUpdateAgentConnection(sessionClaimId, false, sessionId, true, unixTimeUs());
    p.wire.caFile = opt.caFile;
    p.wire.insecure = snap.insecure;
    p.wire.proxy = snap.proxy;
    p.wire.aliasTopics = topics.ordered;
    p.wire.inboundLimitBytes = opt.inboundLimitBytes;
    p.wire.timers = opt.transportTimers;
    p.keepAlive = opt.keepAlive;
    p.connectTimeout = opt.connackTimeout;
    spdlog::info("ACLK: connecting to MQTT WSS server \"{}\", port {}{}", p.wire.host,
                 p.wire.port,
                 snap.proxy.kind == ProxyKind::kNone ? "" : " through proxy " + snap.proxy.display());
    std::string error;
    if (!connection.open(number, [q = events.get()](MqttEvent&& e) { q->push(std::move(e)); }, p,
                         &error)) {
      spdlog::warn("ACLK: connection failed: {}", error);
      return false;
    }
    const auto deadline = Clock::now() + opt.connackTimeout;
    while (true) {
      auto e = pop(deadline);
      if (!e) {
        setStatus(AclkStatus::kOfflineConnectTimeout);
        spdlog::warn("Timed out after {} seconds waiting for CONNACK from MQTT WSS server \"{}\", "
                     "port {}",
                     opt.connackTimeout.count(), p.wire.host, p.wire.port);
        closeSession();
        return false;
      }
      if (auto* c = std::get_if<LinkCommand>(&*e)) {
        if (*c == LinkCommand::kNodesChanged) {
          nodeSync.sync(false);
          continue;
        }
        closeSession();
        if (*c == LinkCommand::kStop) {
          stopping.store(true);
        } else {
          onReload();
        }
        return false;
      }
      auto& m = std::get<MqttEvent>(*e);
      if (m.session != number) continue;
      if (m.kind == MqttEvent::Kind::kTlsError) {
        spdlog::warn("ACLK: TLS certificate verification failed for host '{}': {}", p.wire.host,
                     m.text);
        continue;
      }
      if (m.kind == MqttEvent::Kind::kConnectFailed) {
        if (m.transportStatus) {
          setStatus(*m.transportStatus);
        }
        if (m.text == "connack") {
          spdlog::warn("MQTT CONNACK returned error {}", m.code);
        }
        spdlog::warn("ACLK: connection failed (MQTT client code {})", m.code);
        spdlog::warn("ACLK: connection attempt failed before the link was established: {}",
                     statusString(state.status()));
        closeSession();
        return false;
      }
      if (m.kind == MqttEvent::Kind::kConnected) {
        onConnected(m);
        break;
      }
    }
    const OnlineEnd end = runOnline(number);
    if (end == OnlineEnd::kStop) {
      stopping.store(true);
    } else if (end == OnlineEnd::kReload) {
      onReload();
    }
    return true;
  }

  void closeSession() { connection.close(milliseconds(100)); }

  void onConnected(const MqttEvent& m) {
    spdlog::info("ACLK: MQTT Connection Accepted By Server");
    connection.connected(m);
    state.with([&](LinkState& st) {
      st.online = true;
      st.receivedMessages = 0;
      st.outbound.newConnection();
      st.serverReceiveMaximum = m.serverReceiveMaximum;
      ++st.connections;
      st.times.lastConnect = wallClockNow();
      st.times.nextConnectionAttempt.reset();
      st.times.lastBackoffSeconds.reset();
    });
    nodeSync.connected();  // SendNodeInstances, which follows, sends them all
    setStatus(AclkStatus::kConnected);
    spdlog::info("ACLK: connection successfully established");
    publish(TopicId::kAgentConnection,
            encodeUpdateAgentConnection(sessionClaimId, true, sessionId, false, unixTimeUs(),
                                        opt.gatewayFeatures));
  }

  OnlineEnd runOnline(uint64_t number) {
    auto nextSweep = Clock::now() + seconds(1);
    while (true) {
      auto e = pop(nextSweep);
      if (!e) {
        connection.sweep();
        nodeSync.streamContextUpdates();
        nodeSync.sendDueCollectors();
        alarms.streamPending();
        nextSweep = Clock::now() + seconds(1);
        continue;
      }
      if (auto* c = std::get_if<LinkCommand>(&*e)) {
        if (*c == LinkCommand::kNodesChanged) {
          nodeSync.sync(true);
          continue;
        }
        if (*c == LinkCommand::kStop) {
          gracefulDisconnect(number, "shutdown");
          return OnlineEnd::kStop;
        }
        if (claims()->generation != sessionGeneration) {
          setStatus(AclkStatus::kOfflineReloadingConfig);
          gracefulDisconnect(number, "reclaim");
          return OnlineEnd::kReload;
        }
        continue;  // same identity: nothing to reconnect for
      }
      auto& m = std::get<MqttEvent>(*e);
      if (m.session != number) continue;
      switch (m.kind) {
        case MqttEvent::Kind::kMessage:
          if (m.payload.size() > opt.inboundLimitBytes) {
            state.with([](LinkState& st) { ++st.inboundTooBig; });
            spdlog::warn("ACLK: inbound message of {} bytes on \"{}\" exceeds {} bytes",
                         m.payload.size(), escapeUntrusted(m.text), opt.inboundLimitBytes);
            setStatus(AclkStatus::kOfflineMessageTooBig);
            markOffline();
            closeSession();
            return OnlineEnd::kLost;
          }
          if (handleInbound(m.text, m.payload)) {
            setStatus(AclkStatus::kOfflineCloudRequestedDisconnect);
            gracefulDisconnect(number, "cloud request");
            return OnlineEnd::kCloudRequest;
          }
          break;
        case MqttEvent::Kind::kPublishDone:
          onPublishDone(m);
          break;
        case MqttEvent::Kind::kServerDisconnect:
          spdlog::warn("Got MQTT DISCONNECT control packet from server. Reason code: {}", m.code);
          if (m.code == kSessionTakenOver) noteSessionTakeover();
          setStatus(AclkStatus::kOfflineClosedByRemote);
          markOffline();  // before the slow Paho teardown: readers never see a stale online
          closeSession();
          return OnlineEnd::kLost;
        case MqttEvent::Kind::kConnectionLost:
          if (m.pingTimeout) {
            setStatus(AclkStatus::kOfflinePingTimeout);
            spdlog::warn("Going to restart connection due to \"ping timeout\"");
          } else {
            const auto status = m.transportStatus ? *m.transportStatus
                                : m.text.empty() ? AclkStatus::kOfflineClosedByRemote
                                                 : AclkStatus::kOfflineSocketError;
            setStatus(status);
            // Over WebSocket the broker's DISCONNECT 142 often does not reach Paho before the
            // close; a clean close by the broker counts the same.
            if (status == AclkStatus::kOfflineClosedByRemote) noteSessionTakeover();
          }
          markOffline();
          closeSession();
          return OnlineEnd::kLost;
        default:
          break;
      }
    }
  }

  void markOffline() {
    spdlog::warn("ACLK link is down");
    state.with([](LinkState& st) {
      st.online = false;
      st.times.lastDisconnect = wallClockNow();
      st.outbound.clear();
    });
  }

  void gracefulDisconnect(uint64_t number, const char* reason) {
    spdlog::info("Going to restart connection due to \"{}\"", reason);
    const uint64_t id = publish(TopicId::kAgentConnection,
                                encodeUpdateAgentConnection(sessionClaimId, false, sessionId,
                                                            false, unixTimeUs(),
                                                            opt.gatewayFeatures));
    const auto deadline = Clock::now() + kShutdownAckWait;
    bool acked = false;
    while (id != 0 && !acked) {
      auto e = pop(deadline);
      if (!e) break;
      if (auto* c = std::get_if<LinkCommand>(&*e)) {
        if (*c == LinkCommand::kStop) stopping.store(true);
        continue;
      }
      auto& m = std::get<MqttEvent>(*e);
      if (m.session != number) continue;
      if (m.kind == MqttEvent::Kind::kPublishDone) {
        onPublishDone(m);
        acked = m.publishId == id && m.success;
      } else if (m.kind == MqttEvent::Kind::kConnectionLost) {
        break;
      }
    }
    if (acked) {
      spdlog::info("Shutdown message has been acknowledged by the cloud. Exiting gracefully");
    }
    connection.close(kDisconnectWait);
    markOffline();
  }

  void onPublishDone(const MqttEvent& m) {
    if (connection.acknowledged(m)) schedule.connectionStable();
  }

  // ---- inbound ------------------------------------------------------------------------------

  // Returns true when the cloud asked to disconnect.
  bool handleInbound(const std::string& topic, const std::string& payload) {
    state.with([](LinkState& st) { ++st.receivedMessages; });
    const auto type = messageTypeOfTopic(topic);
    if (type.empty()) {
      spdlog::error("ACLK: inbound message on \"{}\" has no type; dropped",
                    escapeUntrusted(topic));
      return false;
    }
    spdlog::debug("ACLK: received {} ({} bytes)", escapeUntrusted(type), payload.size());
    if (type == "cmd") {
      if (!cmds.handle(payload, sessionId)) {
        state.with([](LinkState& st) { ++st.malformedInbound; });
      }
      return false;
    }
    InboundMessage msg;
    std::string error;
    if (!decodeInbound(type, payload, &msg, &error)) {
      state.with([](LinkState& st) { ++st.malformedInbound; });
      spdlog::error("ACLK: {}; message ignored", error);
      return false;
    }
    return dispatchInbound(msg, type, *this) == InboundOutcome::kDisconnect;
  }

  // ---- InboundContext: what the handlers of inbound_handlers.cc may do -----------------------

  const std::string& claimId() const override { return sessionClaimId; }

  uint64_t publish(TopicId topic, const std::string& payload) override {
    return connection.publish(topic, payload);
  }

  void sendAllNodeStates() override { nodeSync.sendAllNodeStates(); }

  bool assignNodeId(const std::string& machineGuid, const std::string& nodeId) override {
    return nodeSync.assignNodeId(machineGuid, nodeId);
  }

  std::optional<ContextBatch> contextsOfNode(const std::string& nodeId) override {
    return nodeSync.contextsOfNode(nodeId);
  }

  void setContextsStreaming(const std::string& nodeId, bool streaming) override {
    nodeSync.setContextsStreaming(nodeId, streaming);
  }

  void checkpointReceived(const std::string& nodeId, uint64_t versionHash) override {
    nodeSync.checkpointReceived(nodeId, versionHash);
  }

  void ban() override {
    state.with([](LinkState& st) { st.ban(); });
  }

  void blockReconnectFor(seconds delay) override { schedule.blockFor(delay, Clock::now()); }

  void cancelPendingRequest(const std::string& requestId) override { cmds.cancel(requestId); }

  void alarmVersionCheck(const std::string& nodeId, uint64_t version, bool start) override {
    alarms.versionCheck(nodeId, version, start);
  }
  void alarmSnapshotRequested(const std::string& nodeId) override {
    alarms.snapshotRequested(nodeId);
  }
  void alarmConfigurationRequested(const std::string& configHash) override {
    // The answer may need the agent: it comes back through the event queue (pop above).
    alarms.configurationRequested(configHash, [push = LinkEvents::weakPush(events)](
                                                  AlarmConfigAnswer answer) {
      push(std::move(answer));
    });
  }

  // A DISCONNECT 142 or a clean close by the broker while online (takeover_watch.h).
  void noteSessionTakeover() {
    const size_t recent = state.with([](LinkState& st) { return st.takeovers.note(Clock::now()); });
    if (recent != 0) {
      spdlog::warn("ACLK: the broker gave this gateway's MQTT session to another connection {} "
                   "times in {} minutes: another machine is probably using this claimed id (a "
                   "copied cloud.d); see \"Cloned identity\" in docs/operations.md",
                   recent, duration_cast<std::chrono::minutes>(TakeoverWatch::kWindow).count());
    }
  }

  // ---- members ------------------------------------------------------------------------------

  const LinkOptions opt;
  const ClaimSource claims;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> cancelHttp{false};

  // Shared with readers of the state (control socket, API).
  SharedLinkState state{opt.outboundLimitBytes, opt.pubackTimeout};

  // The only owner: CmdHandler completions hold it weakly (LinkEvents::weakPush).
  const std::shared_ptr<LinkEvents> events = std::make_shared<LinkEvents>();
  CmdRequests cmds{opt.localApi, opt.cmdHandler,
                   [this](const std::string& topic, const std::string& payload) {
                     return connection.publishRaw(topic, payload);
                   },
                   [push = LinkEvents::weakPush(events)](CmdRequests::Answer&& answer) {
                     push(std::move(answer));
                   }};

  // Link-thread only.
  ReconnectSchedule schedule;  // backoff, the cloud's block, the ban's retry
  NodeSync nodeSync;  // the node table and its messages (node_sync.h)
  AlarmSync alarms{[this](TopicId topic, const std::string& payload) {
    return connection.publish(topic, payload);
  }};  // the cloud's alert requests, answered from the alert relay (alarm_sync.h)
  LinkConnection connection{state, opt.mqttFactory};  // the MQTT client and what goes out
  uint64_t sessionNumber = 0;
  int64_t sessionId = 0;
  std::string sessionClaimId;
  unsigned long sessionGeneration = 0;
};

Link::Link(LinkOptions options, ClaimSource claims)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(claims))) {}

Link::~Link() { stop(); }

void Link::start() {
  if (!impl_->thread.joinable()) {
    impl_->thread = std::thread([this] { impl_->run(); });
  }
}

void Link::stop() {
  if (impl_->thread.joinable()) {
    impl_->cancelHttp.store(true);
    impl_->events->push(LinkCommand::kStop);
    impl_->thread.join();
  }
}

void Link::reloadIdentity() { impl_->events->push(LinkCommand::kReload); }

void Link::setRelaySource(std::shared_ptr<NodeRelaySource> source) {
  impl_->nodeSync.setRelaySource(std::move(source));
}

void Link::setNodeIdMemory(std::shared_ptr<NodeIdMemory> memory) {
  impl_->nodeSync.setNodeIdMemory(std::move(memory));
}

void Link::setAlarmSource(std::shared_ptr<AlarmSource> source) {
  impl_->alarms.setSource(std::move(source));
}

void Link::nodesChanged() { impl_->events->push(LinkCommand::kNodesChanged); }

AclkStatus Link::status() const { return impl_->state.status(); }

std::map<std::string, std::string> Link::nodeIds() const { return impl_->nodeSync.nodeIds(); }

void Link::fillState(AclkStateView* v, bool withNodes) const {
  impl_->state.with([&](const LinkState& st) {
    st.fill(v);
    if (withNodes) impl_->nodeSync.fillNodes(v);
  });
}

}  // namespace aclkd::aclk
