#include "aclk/link.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <variant>

#include "aclk/backoff.h"
#include "aclk/env.h"
#include "aclk/inbound_handlers.h"
#include "aclk/messages.h"
#include "aclk/mqtt_session.h"
#include "aclk/node_info.h"
#include "aclk/otp.h"
#include "aclk/outbound_ledger.h"
#include "aclk/topics.h"
#include "common/http_client.h"
#include "common/untrusted_text.h"
#include "common/url.h"
#include "common/uuid.h"

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
constexpr auto kCloneWindow = std::chrono::minutes(10);
constexpr size_t kCloneTakeovers = 3;
constexpr int kSessionTakenOver = 142;  // MQTT 5 DISCONNECT reason "Session taken over"

int64_t nowUs() {
  return duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::time_t nowT() { return std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()); }

enum class Command { kStop, kReload, kNodesChanged };
// A CmdHandler's answer, published by the link's thread (pop() does it, so no state sees it).
struct CmdReply {
  std::string msgId;
  std::string callbackTopic;
  Clock::time_point started;
  CmdResult result;
};
using Event = std::variant<MqttEvent, Command, CmdReply>;

// A node the link speaks for. Only the gateway itself for now; the stream bridge adds children.
struct NodeRecord {
  std::string machineGuid;
  std::string hostname;
  int hops = 0;
  bool self = true;
  std::optional<std::string> nodeId;
  std::string nodeIdClaim;  // the claim nodeId was issued under
  bool liveness = true;
  bool contextsStreaming = false;
  std::optional<RelayedNode> relayed;  // children: what UpdateNodeInfo carries
  int64_t createSentInSession = 0;     // CreateNodeInstance is asked once per session
};

// Why the online loop ended.
enum class OnlineEnd { kLost, kStop, kReload, kCloudRequest };

}  // namespace

struct Link::Impl : public InboundContext {
  Impl(LinkOptions o, ClaimSource c)
      : opt(std::move(o)), claims(std::move(c)),
        backoff(opt.seed != 0 ? opt.seed : std::random_device{}()) {
    NodeRecord self;
    self.machineGuid = opt.machineGuid;
    self.hostname = opt.hostname;
    nodes[self.machineGuid] = self;
  }

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
      auto* reply = std::get_if<CmdReply>(&e);
      if (!reply) return e;
      const auto execUs =
          duration_cast<std::chrono::microseconds>(Clock::now() - reply->started).count();
      publishRaw(reply->callbackTopic, buildCmdResultReply(reply->msgId, reply->result, sessionId,
                                                           nowUs(), execUs));
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
          syncNodes(false);
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
      if (s == status) {
        return;
      }
      status = s;
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
      if (snap->cloudUrl.empty() || !snap->cloudUrlValid || !parseUrl(snap->cloudUrl, nullptr)) {
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
          nextAttempt = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                              delay);
          lastBackoffSeconds = static_cast<double>(delay.count()) / 1000.0;
        });
        if (auto c = idleUntil(Clock::now() + delay)) {
          if (*c == Command::kStop) break;
          onReload();
          continue;
        }
      }
      withState([&] { ++attempts; });
      if (!attempt(*snap)) {
        withState([&] { ++failedAttempts; });
      }
    }
    setStatus(AclkStatus::kDisabled);
  }

  void onReload() {
    withState([&] {
      if (banned) {
        spdlog::info("ACLK: ban lifted by reload-claiming-state");
      }
      banned = false;
    });
    blockUntil.reset();
    backoff.reset();
  }

  milliseconds nextDelay() {
    bool isBanned = false;
    withState([&] { isBanned = banned; });
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

  HttpRequest baseRequest(const claim::ClaimSnapshot& snap) const {
    HttpRequest r;
    r.headers = {"User-Agent: Netdata/rocks newhttpclient", "Accept:", "Content-Type:"};
    r.caFile = opt.caFile;
    r.insecure = snap.insecure;
    r.connectTimeoutMs = 10000;
    r.totalTimeoutMs = 30000;
    r.cancel = &cancelHttp;
    if (snap.proxy.kind == ProxyKind::kNone) {
      r.proxyMode = HttpRequest::ProxyMode::kNone;
    } else {
      r.proxyMode = HttpRequest::ProxyMode::kExplicit;
      r.proxy = snap.proxy;
    }
    return r;
  }

  // One HTTPS step. Returns nullopt (status set, reason logged) when it produced no answer.
  std::optional<HttpResponse> https(HttpRequest req, const Url& target) {
    HttpResponse resp = httpPerform(req);
    if (resp.failure == HttpFailure::kCancelled) {
      return std::nullopt;
    }
    if (resp.failure != HttpFailure::kNone) {
      setStatus(statusForHttpFailure(resp.failure));
      spdlog::warn("ACLK: HTTPS \"{}\" request to \"{}\" failed: {}", req.method, target.host,
                   resp.error);
      return std::nullopt;
    }
    spdlog::info("ACLK: HTTPS \"{}\" request to \"{}\" finished with HTTP code: {}", req.method,
                 target.host, resp.status);
    return resp;
  }

  template <typename T>
  void stepFailed(const StepResult<T>& r) {
    setStatus(r.status);
    spdlog::warn("ACLK: {}", r.error);
    if (r.cloudError) {
      spdlog::warn("{}", describeCloudError(*r.cloudError));
      if (r.cloudError->nonRetryable) {
        withState([&] {
          if (!banned) ++bans;
          banned = true;
        });
      }
      if (r.cloudError->retryDelaySeconds > 0) {
        blockUntil = Clock::now() + seconds(r.cloudError->retryDelaySeconds);
      }
    }
  }

  // Returns true when the link got online (however it ended).
  bool attempt(const claim::ClaimSnapshot& snap) {
    const Url cloud = *parseUrl(snap.cloudUrl, nullptr);
    sessionId = nowUs();

    // /env
    HttpRequest envReq = baseRequest(snap);
    envReq.url = cloud.scheme + "://" + hostPort(cloud) + envPath(versionWithoutV(), snap.claimedId);
    auto envResp = https(envReq, cloud);
    if (!envResp) {
      spdlog::warn("ACLK: failed to get ACLK environment (cannot contact ENV endpoint)");
      return false;
    }
    const auto env = interpretEnvResponse(envResp->status, envResp->body);
    if (!env.value) {
      stepFailed(env);
      return false;
    }
    backoff.setParams(env.value->backoff);

    // OTP challenge
    const Url& auth = env.value->authEndpoint;
    std::string authPath = auth.path;
    while (!authPath.empty() && authPath.back() == '/') authPath.pop_back();
    HttpRequest chReq = baseRequest(snap);
    chReq.url = auth.scheme + "://" + hostPort(auth) + challengePath(authPath, snap.claimedId);
    auto chResp = https(chReq, auth);
    if (!chResp) return false;
    const auto challenge = interpretChallengeResponse(chResp->status, chResp->body);
    if (!challenge.value) {
      stepFailed(challenge);
      return false;
    }
    std::string decryptError;
    const auto secret = snap.key->decryptOaepSha1(*challenge.value, &decryptError);
    if (!secret) {
      setStatus(AclkStatus::kOtpChallengeDecryptFailed);
      spdlog::warn("ACLK: Decryption of the challenge failed: {}", decryptError);
      return false;
    }

    // OTP password
    HttpRequest pwReq = baseRequest(snap);
    pwReq.method = "POST";
    pwReq.url = auth.scheme + "://" + hostPort(auth) + passwordPath(authPath, snap.claimedId);
    pwReq.body = buildPasswordBody(opt.agentVersion, *secret);
    auto pwResp = https(pwReq, auth);
    if (!pwResp) return false;
    auto creds = interpretPasswordResponse(pwResp->status, pwResp->body, snap.claimedId);
    if (!creds.value) {
      stepFailed(creds);
      return false;
    }
    return connectMqtt(snap, env.value->mqttEndpoint, std::move(*creds.value));
  }

  static std::string hostPort(const Url& u) {
    const bool v6 = u.host.find(':') != std::string::npos;
    return (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
  }

  std::string versionWithoutV() const {
    return !opt.agentVersion.empty() && opt.agentVersion[0] == 'v' ? opt.agentVersion.substr(1)
                                                                   : opt.agentVersion;
  }

  // ---- MQTT ---------------------------------------------------------------------------------

  bool connectMqtt(const claim::ClaimSnapshot& snap, const Url& endpoint, MqttCredentials creds) {
    topics = std::move(creds.topics);
    sessionClaimId = snap.claimedId;
    sessionGeneration = snap.generation;
    forgetNodeIdsOfOtherClaims();
    const uint64_t number = ++sessionNumber;
    session = std::make_unique<MqttSession>(number, [this](MqttEvent&& e) { push(std::move(e)); });

    MqttConnectParams p;
    p.wire.host = endpoint.host;
    p.wire.port = endpoint.port;
    p.clientId = creds.clientId;
    p.username = creds.username;
    p.password = creds.password;
    p.willTopic = *topics.get(TopicId::kAgentConnection);
    p.willPayload = encodeUpdateAgentConnection(sessionClaimId, false, sessionId, true, nowUs());
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
          syncNodes(false);
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
                     statusString(status));
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
      online = true;
      receivedMessages = 0;
      outbound.newConnection();
      serverReceiveMaximum = m.serverReceiveMaximum;
      ++connections;
      lastConnect = nowT();
      nextAttempt.reset();
      lastBackoffSeconds.reset();
      for (auto& [guid, n] : nodes) n.contextsStreaming = false;
    });
    syncNodes(false);  // SendNodeInstances, which follows, sends them all
    setStatus(AclkStatus::kConnected);
    spdlog::info("ACLK: connection successfully established");
    publish(TopicId::kAgentConnection,
            encodeUpdateAgentConnection(sessionClaimId, true, sessionId, false, nowUs()));
  }

  OnlineEnd runOnline(uint64_t number) {
    auto nextSweep = Clock::now() + seconds(1);
    while (true) {
      auto e = pop(nextSweep);
      if (!e) {
        sweepInflight();
        streamContextUpdates();
        nextSweep = Clock::now() + seconds(1);
        continue;
      }
      if (auto* c = std::get_if<Command>(&*e)) {
        if (*c == Command::kNodesChanged) {
          syncNodes(true);
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
            withState([&] { ++inboundTooBig; });
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
      online = false;
      lastDisconnect = nowT();
      outbound.clear();
    });
  }

  void gracefulDisconnect(uint64_t number, const char* reason) {
    spdlog::info("Going to restart connection due to \"{}\"", reason);
    const uint64_t id = publish(TopicId::kAgentConnection,
                                encodeUpdateAgentConnection(sessionClaimId, false, sessionId,
                                                            false, nowUs()));
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
    withState([&] { isOnline = online; });
    if (!session || !isOnline) {
      withState([&] { ++droppedOffline; });
      spdlog::debug("MQTT is offline. Can't send message.");
      return 0;
    }
    if (maxPacketSize != 0 && payload.size() + topic.size() + 64 > maxPacketSize) {
      withState([&] { ++droppedTooBig; });
      spdlog::warn("Message too big for server: {}", payload.size());
      return 0;
    }
    uint64_t id = 0;
    withState([&] {
      id = outbound.admit(payload.size(), Clock::now());
      if (id == 0 && outbound.droppedQueueFull() == 1) {
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
        outbound.cancel(id);
        ++droppedOffline;
      });
      return 0;
    }
    return id;
  }

  void onPublishDone(const MqttEvent& m) {
    bool resetBackoff = false;
    withState([&] {
      const auto ack = outbound.acknowledged(m.publishId, m.success, Clock::now());
      if (ack.stable) {
        lastConnectPuback = nowT();
        resetBackoff = true;
      }
    });
    if (resetBackoff) {
      backoff.reset();
    }
  }

  void sweepInflight() {
    withState([&] {
      const size_t dropped = outbound.sweep(Clock::now());
      if (dropped != 0 && outbound.timedOut() == dropped) {
        spdlog::warn("ACLK: a message got no PUBACK within {} s; counted as dropped",
                     opt.pubackTimeout.count());
      }
    });
  }

  // ---- inbound ------------------------------------------------------------------------------

  // Returns true when the cloud asked to disconnect.
  bool handleInbound(const std::string& topic, const std::string& payload) {
    withState([&] { ++receivedMessages; });
    const auto type = messageTypeOfTopic(topic);
    if (type.empty()) {
      spdlog::error("ACLK: inbound message on \"{}\" has no type; dropped",
                    escapeUntrusted(topic));
      return false;
    }
    spdlog::debug("ACLK: received {} ({} bytes)", escapeUntrusted(type), payload.size());
    if (type == "cmd") {
      handleCmd(payload);
      return false;
    }
    InboundMessage msg;
    std::string error;
    if (!decodeInbound(type, payload, &msg, &error)) {
      withState([&] { ++malformedInbound; });
      spdlog::error("ACLK: {}; message ignored", error);
      return false;
    }
    return dispatchInbound(msg, type, *this) == InboundOutcome::kDisconnect;
  }

  // ---- InboundContext: what the handlers of inbound_handlers.cc may do -----------------------

  const std::string& claimId() const override { return sessionClaimId; }

  void sendAllNodeStates() override {
    for (auto& [guid, n] : nodesCopy()) sendNodeState(n);
  }

  bool assignNodeId(const std::string& machineGuid, const std::string& nodeId) override {
    std::optional<NodeRecord> node;
    withState([&] {
      auto it = nodes.find(machineGuid);
      if (it != nodes.end()) {
        it->second.nodeId = nodeId;
        it->second.nodeIdClaim = sessionClaimId;
        node = it->second;
      }
    });
    if (!node) return false;
    if (nodeIds) nodeIds->nodeIdAssigned(machineGuid, nodeId, sessionClaimId);
    spdlog::info("ACLK: node \"{}\" has node id {}", node->hostname, nodeId);
    sendNodeState(*node);
    return true;
  }

  std::optional<ContextBatch> contextsOfNode(const std::string& nodeId) override {
    auto node = nodeById(nodeId);
    if (!node) return std::nullopt;
    // The gateway's own node has no contexts: its version hash is 0.
    ContextBatch batch;
    if (!node->self && relaySource) batch = relaySource->contextsSnapshot(node->machineGuid);
    return batch;
  }

  void setContextsStreaming(const std::string& nodeId, bool streaming) override {
    auto node = nodeById(nodeId);
    if (node) {
      withState([&] { nodes[node->machineGuid].contextsStreaming = streaming; });
    }
  }

  void checkpointReceived(const std::string& nodeId, uint64_t versionHash) override {
    auto node = nodeById(nodeId);
    if (node && nodeIds) nodeIds->checkpointReceived(node->machineGuid, sessionClaimId, versionHash);
  }

  void ban() override {
    withState([&] {
      if (!banned) ++bans;
      banned = true;
    });
  }

  void blockReconnectFor(seconds delay) override { blockUntil = Clock::now() + delay; }

  void cancelPendingRequest(const std::string& requestId) override {
    if (opt.cmdHandler) {
      spdlog::debug("ACLK: cloud cancels request \"{}\"", escapeUntrusted(requestId));
      opt.cmdHandler->cancel(requestId);
    } else {
      // Without a handler `cmd` requests run synchronously, so none is ever pending.
      spdlog::info("ACLK: nothing to cancel for request \"{}\"", escapeUntrusted(requestId));
    }
  }

  void handleCmd(const std::string& payload) {
    const auto started = Clock::now();
    const auto parsed = parseCmd(payload);
    if (!parsed.request) {
      withState([&] { ++malformedInbound; });
      spdlog::error("ACLK: cmd request rejected: {}", parsed.error);
      if (!parsed.callbackTopic.empty()) {
        publishRaw(parsed.callbackTopic, buildCmdBadRequestReply(parsed.msgId, nowUs()));
      }
      return;
    }
    const auto& req = *parsed.request;
    if (opt.cmdHandler) {
      opt.cmdHandler->start(req, [sink = replySink, msgId = req.msgId,
                                  topic = req.callbackTopic, started](CmdResult result) {
        std::lock_guard lock(sink->mutex);
        if (sink->impl) {
          sink->impl->push(CmdReply{msgId, topic, started, std::move(result)});
        }
      });
      return;
    }
    LocalHttpResponse resp;
    if (opt.localApi) {
      resp = opt.localApi(req.method, req.path);
    } else {
      resp.code = 404;
      resp.body = "{\"error\":\"not found\"}";
    }
    const auto execUs = duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
    publishRaw(req.callbackTopic, buildCmdReply(req.msgId, resp, sessionId, nowUs(), execUs));
  }

  std::map<std::string, NodeRecord> nodesCopy() {
    std::map<std::string, NodeRecord> out;
    withState([&] { out = nodes; });
    return out;
  }

  std::optional<NodeRecord> nodeById(const std::string& nodeId) {
    std::optional<NodeRecord> out;
    withState([&] {
      for (const auto& [guid, n] : nodes) {
        if (n.nodeId && *n.nodeId == nodeId) out = n;
      }
    });
    return out;
  }

  // A reclaim (a new claimed_id) re-creates every node: ids of another claim are not ours.
  void forgetNodeIdsOfOtherClaims() {
    size_t forgotten = 0;
    withState([&] {
      for (auto& [guid, n] : nodes) {
        if (n.nodeId && n.nodeIdClaim != sessionClaimId) {
          n.nodeId.reset();
          ++forgotten;
        }
      }
    });
    if (forgotten) {
      spdlog::info("ACLK: the claimed id changed; {} nodes will be created under the new claim",
                   forgotten);
    }
  }

  // MQTT 5 reason 142, or a clean close by the broker while online: another connection with our
  // client id (the claimed id) took the session. Now and then that is a broker restart or
  // failover; kCloneTakeovers within kCloneWindow means two machines share this claimed id (a
  // copied cloud.d) and keep kicking each other off.
  void noteSessionTakeover() {
    const auto now = Clock::now();
    bool warn = false;
    size_t recent = 0;
    withState([&] {
      ++sessionTakeovers;
      takeoverTimes.push_back(now);
      while (!takeoverTimes.empty() && now - takeoverTimes.front() > kCloneWindow) {
        takeoverTimes.pop_front();
      }
      recent = takeoverTimes.size();
      if (recent >= kCloneTakeovers) {
        cloneSuspected = true;
        warn = !lastCloneWarning || now - *lastCloneWarning >= kCloneWindow;
        if (warn) lastCloneWarning = now;
      }
    });
    if (warn) {
      spdlog::warn("ACLK: the broker gave this gateway's MQTT session to another connection {} "
                   "times in {} minutes: another machine is probably using this claimed id (a "
                   "copied cloud.d); see \"Cloned identity\" in docs/operations.md",
                   recent, duration_cast<std::chrono::minutes>(kCloneWindow).count());
    }
  }

  void sendNodeState(const NodeRecord& node) {
    NodeRecord n = node;
    if (!n.nodeId && nodeIds) {
      // Known from an earlier run: no new CreateNodeInstance (brief §9 step 2).
      if (auto id = nodeIds->nodeIdFor(n.machineGuid, sessionClaimId)) {
        n.nodeId = *id;
        n.nodeIdClaim = sessionClaimId;
        withState([&] {
          auto it = nodes.find(n.machineGuid);
          if (it != nodes.end()) {
            it->second.nodeId = n.nodeId;
            it->second.nodeIdClaim = sessionClaimId;
          }
        });
      }
    }
    if (!n.nodeId) {
      bool asked = false;
      withState([&] {
        auto it = nodes.find(n.machineGuid);
        if (it == nodes.end()) return;
        asked = it->second.createSentInSession == sessionId;
        it->second.createSentInSession = sessionId;
      });
      if (asked) return;  // the answer is on its way; it triggers the rest
      publish(TopicId::kCreateNodeInstance,
              encodeCreateNodeInstance(sessionClaimId, n.machineGuid, n.hostname, n.hops));
      return;
    }
    publish(TopicId::kNodeInstanceConnection,
            encodeUpdateNodeInstanceConnection(sessionClaimId, *n.nodeId, n.liveness, sessionId,
                                               n.hops, n.self, nowUs()));
    NodeInfoFields f;
    f.claimId = sessionClaimId;
    f.nodeId = *n.nodeId;
    f.machineGuid = n.machineGuid;
    f.hostname = n.hostname;
    f.releaseChannel = "stable";
    f.child = !n.self;
    if (n.relayed) {
      f.version = n.relayed->agentVersion;
      f.system = n.relayed->system;
      f.hostLabels = n.relayed->hostLabels;
    } else {
      f.version = opt.agentVersion;
      f.system = systemInfo();
      const auto snap = claims();
      for (const auto& label : aclkHostLabels(snap->proxy.labelValue())) {
        f.hostLabels.push_back(label);
      }
    }
    publish(TopicId::kNodeInstanceInfo, encodeUpdateNodeInfo(f, nowUs()));
  }

  // Brings the node table in line with the relay source. Online, a new node is created at the
  // cloud, a node whose liveness or info changed is updated, and a node that is gone is reported
  // dead before it is forgotten; offline only the table changes (SendNodeInstances after the next
  // connect sends everything).
  void syncNodes(bool online) {
    if (!relaySource) return;
    std::map<std::string, RelayedNode> fresh;
    for (auto& r : relaySource->relayedNodes()) {
      if (r.machineGuid == opt.machineGuid) continue;  // never shadow the gateway itself
      std::string guid = r.machineGuid;
      fresh.emplace(std::move(guid), std::move(r));
    }
    std::vector<NodeRecord> toSend;
    std::vector<NodeRecord> gone;
    withState([&] {
      for (auto it = nodes.begin(); it != nodes.end();) {
        if (!it->second.self && !fresh.count(it->first)) {
          gone.push_back(it->second);
          it = nodes.erase(it);
        } else {
          ++it;
        }
      }
      for (auto& [guid, r] : fresh) {
        auto it = nodes.find(guid);
        if (it == nodes.end()) {
          NodeRecord n;
          n.machineGuid = guid;
          n.hostname = r.hostname;
          n.hops = r.hops;
          n.self = false;
          n.liveness = r.live;
          n.relayed = r;
          nodes[guid] = n;
          toSend.push_back(n);
          continue;
        }
        auto& n = it->second;
        const bool changed = n.liveness != r.live || !n.relayed ||
                             n.relayed->infoVersion != r.infoVersion;
        n.liveness = r.live;
        n.hostname = r.hostname;
        n.hops = r.hops;
        n.relayed = r;
        if (changed) toSend.push_back(n);
      }
    });
    if (!online) return;
    for (const auto& n : toSend) sendNodeState(n);
    // Gone for good (ephemeral cleanup, remove-stale-node): neither live nor queryable, as
    // Netdata's unregister does.
    for (auto n : gone) {
      if (!n.nodeId) continue;
      publish(TopicId::kNodeInstanceConnection,
              encodeUpdateNodeInstanceConnection(sessionClaimId, *n.nodeId, false, sessionId,
                                                 n.hops, false, nowUs(), false));
    }
  }

  // Once a second: the context changes of every streaming child, coalesced by the source.
  void streamContextUpdates() {
    if (!relaySource) return;
    for (const auto& [guid, n] : nodesCopy()) {
      if (n.self || !n.nodeId || !n.contextsStreaming) continue;
      auto batch = relaySource->contextsUpdates(guid);
      if (!batch) continue;
      publish(TopicId::kContextsUpdated,
              encodeContextsUpdated(sessionClaimId, *n.nodeId, batch->versionHash,
                                    static_cast<uint64_t>(nowUs()), batch->contexts));
    }
  }

  const SystemInfo& systemInfo() {
    if (!system) system = probeSystemInfo();
    return *system;
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

  // Link-thread only.
  Backoff backoff;
  std::optional<Clock::time_point> blockUntil;
  std::unique_ptr<MqttSession> session;
  uint64_t sessionNumber = 0;
  int64_t sessionId = 0;
  std::string sessionClaimId;
  unsigned long sessionGeneration = 0;
  TopicMap topics;
  uint32_t maxPacketSize = 0;
  std::optional<SystemInfo> system;
  std::shared_ptr<NodeRelaySource> relaySource;  // set before start, then read-only
  std::shared_ptr<NodeIdMemory> nodeIds;          // set before start, then read-only

  // Shared with readers of the state (control socket, API).
  mutable std::mutex stateMutex;
  AclkStatus status = AclkStatus::kOffline;
  bool online = false;
  bool banned = false;
  uint64_t receivedMessages = 0;
  uint64_t serverReceiveMaximum = 0;
  uint64_t connections = 0;
  std::optional<std::time_t> lastConnect;
  std::optional<std::time_t> lastConnectPuback;
  std::optional<std::time_t> lastDisconnect;
  std::optional<std::time_t> nextAttempt;
  std::optional<double> lastBackoffSeconds;
  OutboundLedger outbound{opt.outboundLimitBytes, opt.pubackTimeout};
  std::map<std::string, NodeRecord> nodes;
  uint64_t attempts = 0;
  uint64_t failedAttempts = 0;
  uint64_t droppedOffline = 0;
  uint64_t droppedTooBig = 0;
  uint64_t malformedInbound = 0;
  uint64_t inboundTooBig = 0;
  uint64_t bans = 0;
  uint64_t sessionTakeovers = 0;
  bool cloneSuspected = false;
  std::deque<Clock::time_point> takeoverTimes;
  std::optional<Clock::time_point> lastCloneWarning;
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
  impl_->relaySource = std::move(source);
}

void Link::setNodeIdMemory(std::shared_ptr<NodeIdMemory> memory) {
  impl_->nodeIds = std::move(memory);
}

void Link::nodesChanged() { impl_->push(Command::kNodesChanged); }

AclkStatus Link::status() const {
  std::lock_guard<std::mutex> lock(impl_->stateMutex);
  return impl_->status;
}

void Link::fillState(AclkStateView* v) const {
  const Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.stateMutex);
  v->online = s.online;
  v->banned = s.banned;
  v->publishLatencyUs = s.outbound.lastLatencyUs();
  v->receivedMessages = s.receivedMessages;
  v->receivedPubacks = s.outbound.pubacks();
  v->pendingPubacks = s.outbound.inflightCount();
  v->timedOutPubacks = s.outbound.timedOut();
  v->serverReceiveMaximum = s.serverReceiveMaximum;
  v->reconnectCount = s.connections > 0 ? s.connections - 1 : 0;
  v->lastConnect = s.lastConnect;
  v->lastConnectPuback = s.lastConnectPuback;
  v->lastDisconnect = s.lastDisconnect;
  v->nextConnectionAttempt = s.online ? std::nullopt : s.nextAttempt;
  v->lastBackoffSeconds = s.online ? std::nullopt : s.lastBackoffSeconds;
  v->aclkStatus = std::string(statusString(s.status));
  for (auto& node : v->nodes) {
    auto it = s.nodes.find(node.machineGuid);
    if (it != s.nodes.end()) {
      node.nodeId = it->second.nodeId;
    }
  }
  for (const auto& [guid, n] : s.nodes) {
    if (n.self) continue;
    NodeInstanceView child;
    child.hostname = n.hostname;
    child.machineGuid = guid;
    child.claimedId = v->claimedId;
    child.nodeId = n.nodeId;
    child.streamingHops = n.hops;
    child.self = false;
    child.streamingOnline = n.liveness;
    v->nodes.push_back(std::move(child));
  }
  v->counters = {
      {"connection-attempts", s.attempts},
      {"failed-connection-attempts", s.failedAttempts},
      {"connections", s.connections},
      {"messages-dropped-offline", s.droppedOffline},
      {"messages-dropped-queue-full", s.outbound.droppedQueueFull()},
      {"messages-dropped-too-big", s.droppedTooBig},
      {"publish-failures", s.outbound.failures()},
      {"malformed-inbound-messages", s.malformedInbound},
      // Refused from the packet header by the transport, or after Paho buffered it (a message
      // just over the limit): one count for the operator either way.
      {"inbound-messages-too-big", s.inboundTooBig + transport::transportCounters().inboundTooBig.load()},
      {"bans", s.bans},
      {"session-takeovers", s.sessionTakeovers},
      {"cloned-identity-suspected", s.cloneSuspected ? 1u : 0u},
      {"outbound-bytes-in-flight", s.outbound.inflightBytes()},
  };
  const auto& t = transport::transportCounters();
  v->counters.emplace_back("local-pipe-strangers-refused", t.localPipeStrangers.load());
  v->counters.emplace_back("transport-pingreqs-injected", t.injectedPingreqs.load());
}

}  // namespace aclkd::aclk
