#include "aclk/link.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <variant>

#include "aclk/backoff.h"
#include "aclk/cloud_login.h"
#include "aclk/cmd_requests.h"
#include "aclk/inbound_handlers.h"
#include "aclk/messages.h"
#include "aclk/mqtt_session.h"
#include "aclk/link_state.h"
#include "aclk/node_sync.h"
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

std::time_t nowT() { return std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()); }

enum class Command { kStop, kReload, kNodesChanged };
// A CmdHandler's answer is published by the link's thread (pop() does it, so no state sees it).
using Event = std::variant<MqttEvent, Command, CmdRequests::Answer>;

// Why the online loop ended.
enum class OnlineEnd { kLost, kStop, kReload, kCloudRequest };

}  // namespace

struct Link::Impl : public InboundContext {
  Impl(LinkOptions o, ClaimSource c)
      : opt(std::move(o)), claims(std::move(c)),
        backoff(opt.seed != 0 ? opt.seed : std::random_device{}()),
        nodeSync(SelfNode{opt.machineGuid, opt.hostname, opt.agentVersion,
                          [claims = claims] { return claims()->proxy.labelValue(); }},
                 [this](TopicId topic, const std::string& payload) {
                   return publish(topic, payload);
                 }) {}

  // ---- the event queue --------------------------------------------------------------------

  void push(Event e) {
    {
      std::lock_guard<std::mutex> lock(queueMutex);
      queue.push_back(std::move(e));
    }
    queueCv.notify_one();
  }

  // Next event before `deadline`; nullopt on timeout.
  // Answers of the CmdHandler are published here, in whatever state the link is.
  std::optional<Event> pop(Clock::time_point deadline) {
    while (true) {
      std::unique_lock<std::mutex> lock(queueMutex);
      if (!queueCv.wait_until(lock, deadline, [&] { return !queue.empty(); })) {
        return std::nullopt;
      }
      Event e = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      auto* answer = std::get_if<CmdRequests::Answer>(&e);
      if (!answer) return e;
      cmds.publishAnswer(*answer, sessionId);
    }
  }

  // Waits until `deadline`, dropping stale MQTT events; returns a command if one arrives.
  std::optional<Command> idleUntil(Clock::time_point deadline) {
    while (true) {
      auto e = pop(deadline);
      if (!e) {
        return std::nullopt;
      }
      if (auto* c = std::get_if<Command>(&*e)) {
        if (*c == Command::kNodesChanged) {
          nodeSync.sync(false);
          continue;
        }
        return *c;
      }
    }
  }

  // ---- status -----------------------------------------------------------------------------

  void setStatus(AclkStatus s) {
    {
      std::lock_guard<std::mutex> lock(stateMutex);
      if (s == st.status) {
        return;
      }
      st.status = s;
    }
    if (s == AclkStatus::kConnected) {
      spdlog::info("Netdata Cloud, ACLK connection status: {}", statusString(s));
    } else {
      spdlog::warn("Netdata Cloud, ACLK connection status: {}", statusString(s));
    }
  }

  template <typename F>
  void withState(F&& f) {
    std::lock_guard<std::mutex> lock(stateMutex);
    f();
  }

  // ---- the main loop ----------------------------------------------------------------------

  void run() {
    unsigned long warnedGeneration = ~0ul;
    while (!stopping.load()) {
      const auto snap = claims();
      if (!snap->claimed) {
        if (auto c = idleUntil(Clock::now() + kClaimPoll); c && *c == Command::kStop) break;
        continue;
      }
      const auto cloudUrl = snap->cloudUrlValid ? parseUrl(snap->cloudUrl, nullptr) : std::nullopt;
      if (!cloudUrl) {
        setStatus(snap->cloudUrl.empty() ? AclkStatus::kNoCloudUrl : AclkStatus::kInvalidCloudUrl);
        if (warnedGeneration != snap->generation) {
          spdlog::warn("ACLK: {}, please fix", claim::kInvalidUrl);
          warnedGeneration = snap->generation;
        }
        if (auto c = idleUntil(Clock::now() + kBadUrlRetry); c && *c == Command::kStop) break;
        continue;
      }
      if (!snap->key) {
        if (warnedGeneration != snap->generation) {
          spdlog::warn("ACLK: {} '{}' failed: {}", claim::kKeyLoadFailure, "cloud.d/private.pem",
                       snap->keyError);
          warnedGeneration = snap->generation;
        }
        if (auto c = idleUntil(Clock::now() + kBadKeyRetry); c && *c == Command::kStop) break;
        continue;
      }
      const milliseconds delay = nextDelay();
      if (delay.count() > 0) {
        spdlog::debug("Wait before attempting to reconnect in {:.3f} seconds",
                      static_cast<double>(delay.count()) / 1000.0);
        withState([&] {
          st.nextAttempt = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                              delay);
          st.lastBackoffSeconds = static_cast<double>(delay.count()) / 1000.0;
        });
        if (auto c = idleUntil(Clock::now() + delay)) {
          if (*c == Command::kStop) break;
          onReload();
          continue;
        }
      }
      withState([&] { ++st.attempts; });
      if (!attempt(*snap, *cloudUrl)) {
        withState([&] { ++st.failedAttempts; });
      }
    }
    setStatus(AclkStatus::kDisabled);
  }

  void onReload() {
    withState([&] {
      if (st.banned) {
        spdlog::info("ACLK: ban lifted by reload-claiming-state");
      }
      st.banned = false;
    });
    blockUntil.reset();
    backoff.reset();
  }

  milliseconds nextDelay() {
    bool isBanned = false;
    withState([&] { isBanned = st.banned; });
    if (isBanned) {
      backoff.reset();
      return duration_cast<milliseconds>(opt.banRetry);
    }
    if (blockUntil) {
      const auto until = *blockUntil;
      blockUntil.reset();
      if (until > Clock::now()) {
        backoff.reset();
        // Rounded up, so that "no attempt before N seconds" holds to the millisecond.
        return duration_cast<milliseconds>(until - Clock::now()) + milliseconds(1);
      }
    }
    return backoff.next();
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
    if (login.backoff) backoff.setParams(*login.backoff);
    if (login.cloudError) {
      if (login.cloudError->nonRetryable) {
        withState([&] {
          if (!st.banned) ++st.bans;
          st.banned = true;
        });
      }
      if (login.cloudError->retryDelaySeconds > 0) {
        blockUntil = Clock::now() + seconds(login.cloudError->retryDelaySeconds);
      }
    }
    if (!login.mqttEndpoint) return false;
    return connectMqtt(snap, *login.mqttEndpoint, std::move(login.credentials));
  }

  // ---- MQTT ---------------------------------------------------------------------------------

  bool connectMqtt(const claim::ClaimSnapshot& snap, const Url& endpoint, MqttCredentials creds) {
    topics = std::move(creds.topics);
    sessionClaimId = snap.claimedId;
    sessionGeneration = snap.generation;
    nodeSync.beginSession(sessionClaimId, sessionId);
    const uint64_t number = ++sessionNumber;
    MqttClient::Sink sink = [this](MqttEvent&& e) { push(std::move(e)); };
    session = opt.mqttFactory ? opt.mqttFactory(number, std::move(sink))
                              : std::make_unique<MqttSession>(number, std::move(sink));

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
    if (!session->connect(p, &error)) {
      spdlog::warn("ACLK: connection failed: {}", error);
      session.reset();
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
      if (auto* c = std::get_if<Command>(&*e)) {
        if (*c == Command::kNodesChanged) {
          nodeSync.sync(false);
          continue;
        }
        closeSession();
        if (*c == Command::kStop) {
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
                     statusString(st.status));
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

  void closeSession() {
    if (session) {
      session->disconnect(milliseconds(100));
      session.reset();
    }
  }

  void onConnected(const MqttEvent& m) {
    spdlog::info("ACLK: MQTT Connection Accepted By Server");
    if (m.maximumPacketSize != 0) {
      spdlog::info("ACLK: MQTT server limits message size to {}", m.maximumPacketSize);
    }
    if (m.serverReceiveMaximum != 0) {
      spdlog::info("ACLK: MQTT server receive maximum is {}", m.serverReceiveMaximum);
    }
    maxPacketSize = m.maximumPacketSize;
    std::string error;
    for (TopicId id : {TopicId::kInboxCmd, TopicId::kInboxCmdV1}) {
      if (!session->subscribe(*topics.get(id), &error)) {
        spdlog::warn("ACLK: cannot subscribe to {}: {}", topicName(id), error);
      }
    }
    withState([&] {
      st.online = true;
      st.receivedMessages = 0;
      st.outbound.newConnection();
      st.serverReceiveMaximum = m.serverReceiveMaximum;
      ++st.connections;
      st.lastConnect = nowT();
      st.nextAttempt.reset();
      st.lastBackoffSeconds.reset();
    });
    nodeSync.connected();  // SendNodeInstances, which follows, sends them all
    setStatus(AclkStatus::kConnected);
    spdlog::info("ACLK: connection successfully established");
    publish(TopicId::kAgentConnection,
            encodeUpdateAgentConnection(sessionClaimId, true, sessionId, false, unixTimeUs()));
  }

  OnlineEnd runOnline(uint64_t number) {
    auto nextSweep = Clock::now() + seconds(1);
    while (true) {
      auto e = pop(nextSweep);
      if (!e) {
        sweepInflight();
        nodeSync.streamContextUpdates();
        nodeSync.sendDueCollectors();
        nextSweep = Clock::now() + seconds(1);
        continue;
      }
      if (auto* c = std::get_if<Command>(&*e)) {
        if (*c == Command::kNodesChanged) {
          nodeSync.sync(true);
          continue;
        }
        if (*c == Command::kStop) {
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
            withState([&] { ++st.inboundTooBig; });
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
    withState([&] {
      st.online = false;
      st.lastDisconnect = nowT();
      st.outbound.clear();
    });
  }

  void gracefulDisconnect(uint64_t number, const char* reason) {
    spdlog::info("Going to restart connection due to \"{}\"", reason);
    const uint64_t id = publish(TopicId::kAgentConnection,
                                encodeUpdateAgentConnection(sessionClaimId, false, sessionId,
                                                            false, unixTimeUs()));
    const auto deadline = Clock::now() + kShutdownAckWait;
    bool acked = false;
    while (id != 0 && !acked) {
      auto e = pop(deadline);
      if (!e) break;
      if (auto* c = std::get_if<Command>(&*e)) {
        if (*c == Command::kStop) stopping.store(true);
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
    if (session) {
      session->disconnect(kDisconnectWait);
      session.reset();
    }
    markOffline();
  }

  // ---- publishing ---------------------------------------------------------------------------

  // Returns the publish id, 0 when the message was not sent (offline, no topic, queue full).
  uint64_t publish(TopicId topic, const std::string& payload) override {
    const auto& name = topics.get(topic);
    if (!name) {
      spdlog::debug("ACLK: no topic for {}; message dropped", topicName(topic));
      return 0;
    }
    spdlog::debug("ACLK: publishing {} ({} bytes)", topicName(topic), payload.size());
    return publishRaw(*name, payload);
  }

  uint64_t publishRaw(const std::string& topic, const std::string& payload) {
    bool isOnline = false;
    withState([&] { isOnline = st.online; });
    if (!session || !isOnline) {
      withState([&] { ++st.droppedOffline; });
      spdlog::debug("MQTT is offline. Can't send message.");
      return 0;
    }
    if (maxPacketSize != 0 && payload.size() + topic.size() + 64 > maxPacketSize) {
      withState([&] { ++st.droppedTooBig; });
      spdlog::warn("Message too big for server: {}", payload.size());
      return 0;
    }
    uint64_t id = 0;
    withState([&] {
      id = st.outbound.admit(payload.size(), Clock::now());
      if (id == 0 && st.outbound.droppedQueueFull() == 1) {
        spdlog::warn("ACLK: outbound queue is full ({} bytes); dropping messages",
                     opt.outboundLimitBytes);
      }
    });
    if (id == 0) {
      return 0;
    }
    std::string error;
    if (!session->publish(id, topic, payload, &error)) {
      spdlog::warn("ACLK: publish to \"{}\" failed: {}", topic, error);
      withState([&] {
        st.outbound.cancel(id);
        ++st.droppedOffline;
      });
      return 0;
    }
    return id;
  }

  void onPublishDone(const MqttEvent& m) {
    bool resetBackoff = false;
    withState([&] {
      const auto ack = st.outbound.acknowledged(m.publishId, m.success, Clock::now());
      if (ack.stable) {
        st.lastConnectPuback = nowT();
        resetBackoff = true;
      }
    });
    if (resetBackoff) {
      backoff.reset();
    }
  }

  void sweepInflight() {
    withState([&] {
      const size_t dropped = st.outbound.sweep(Clock::now());
      if (dropped != 0 && st.outbound.timedOut() == dropped) {
        spdlog::warn("ACLK: a message got no PUBACK within {} s; counted as dropped",
                     opt.pubackTimeout.count());
      }
    });
  }

  // ---- inbound ------------------------------------------------------------------------------

  // Returns true when the cloud asked to disconnect.
  bool handleInbound(const std::string& topic, const std::string& payload) {
    withState([&] { ++st.receivedMessages; });
    const auto type = messageTypeOfTopic(topic);
    if (type.empty()) {
      spdlog::error("ACLK: inbound message on \"{}\" has no type; dropped",
                    escapeUntrusted(topic));
      return false;
    }
    spdlog::debug("ACLK: received {} ({} bytes)", escapeUntrusted(type), payload.size());
    if (type == "cmd") {
      if (!cmds.handle(payload, sessionId)) withState([&] { ++st.malformedInbound; });
      return false;
    }
    InboundMessage msg;
    std::string error;
    if (!decodeInbound(type, payload, &msg, &error)) {
      withState([&] { ++st.malformedInbound; });
      spdlog::error("ACLK: {}; message ignored", error);
      return false;
    }
    return dispatchInbound(msg, type, *this) == InboundOutcome::kDisconnect;
  }

  // ---- InboundContext: what the handlers of inbound_handlers.cc may do -----------------------

  const std::string& claimId() const override { return sessionClaimId; }

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
    withState([&] {
      if (!st.banned) ++st.bans;
      st.banned = true;
    });
  }

  void blockReconnectFor(seconds delay) override { blockUntil = Clock::now() + delay; }

  void cancelPendingRequest(const std::string& requestId) override { cmds.cancel(requestId); }

  // A DISCONNECT 142 or a clean close by the broker while online (takeover_watch.h).
  void noteSessionTakeover() {
    size_t recent = 0;
    withState([&] { recent = st.takeovers.note(Clock::now()); });
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

  std::mutex queueMutex;
  std::condition_variable queueCv;
  std::deque<Event> queue;
  // CmdHandler completions reach the queue through this; cleared when the link goes away.
  struct ReplySink {
    explicit ReplySink(Impl* owner) : impl(owner) {}
    std::mutex mutex;
    Impl* impl;
  };
  std::shared_ptr<ReplySink> replySink = std::make_shared<ReplySink>(this);
  CmdRequests cmds{opt.localApi, opt.cmdHandler,
                   [this](const std::string& topic, const std::string& payload) {
                     return publishRaw(topic, payload);
                   },
                   [sink = replySink](CmdRequests::Answer&& answer) {
                     std::lock_guard lock(sink->mutex);
                     if (sink->impl) sink->impl->push(std::move(answer));
                   }};

  // Link-thread only.
  Backoff backoff;
  NodeSync nodeSync;  // the node table and its messages (node_sync.h)
  std::optional<Clock::time_point> blockUntil;
  std::unique_ptr<MqttClient> session;
  uint64_t sessionNumber = 0;
  int64_t sessionId = 0;
  std::string sessionClaimId;
  unsigned long sessionGeneration = 0;
  TopicMap topics;
  uint32_t maxPacketSize = 0;

  // Shared with readers of the state (control socket, API).
  mutable std::mutex stateMutex;
  LinkState st{opt.outboundLimitBytes, opt.pubackTimeout};
};

Link::Link(LinkOptions options, ClaimSource claims)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(claims))) {}

Link::~Link() {
  stop();
  std::lock_guard lock(impl_->replySink->mutex);
  impl_->replySink->impl = nullptr;
}

void Link::start() {
  if (!impl_->thread.joinable()) {
    impl_->thread = std::thread([this] { impl_->run(); });
  }
}

void Link::stop() {
  if (impl_->thread.joinable()) {
    impl_->cancelHttp.store(true);
    impl_->push(Command::kStop);
    impl_->thread.join();
  }
}

void Link::reloadIdentity() { impl_->push(Command::kReload); }

void Link::setRelaySource(std::shared_ptr<NodeRelaySource> source) {
  impl_->nodeSync.setRelaySource(std::move(source));
}

void Link::setNodeIdMemory(std::shared_ptr<NodeIdMemory> memory) {
  impl_->nodeSync.setNodeIdMemory(std::move(memory));
}

void Link::nodesChanged() { impl_->push(Command::kNodesChanged); }

AclkStatus Link::status() const {
  std::lock_guard<std::mutex> lock(impl_->stateMutex);
  return impl_->st.status;
}

void Link::fillState(AclkStateView* v) const {
  std::lock_guard<std::mutex> lock(impl_->stateMutex);
  impl_->st.fill(v);
  impl_->nodeSync.fillNodes(v);
}

}  // namespace aclkd::aclk
