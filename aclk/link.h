#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "aclk/aclk_state_view.h"
#include "aclk/alarm_source.h"
#include "aclk/cmd_handler.h"
#include "aclk/http_command.h"
#include "aclk/mqtt_client.h"
#include "aclk/node_relay.h"
#include "aclk/status_strings.h"
#include "aclk/transport/wss_transport.h"
#include "claim/claim_manager.h"

namespace aclkd::aclk {

struct LinkOptions {
  std::string hostname;
  std::string machineGuid;
  std::string agentVersion;  // with the leading 'v'
  std::string caFile;        // empty: the system trust store
  size_t outboundLimitBytes = 32u << 20;
  size_t inboundLimitBytes = 16u << 20;  // docs/protocol/aclk.md §5.11
  // Keep Alive in CONNECT (§5.4). The PINGREQ after 45 s idle and the 60 s PINGRESP deadline are
  // the transport's (transport/wss_transport.h), not Paho's.
  std::chrono::seconds keepAlive{60};
  transport::TransportTimers transportTimers;
  std::chrono::seconds connackTimeout{120};
  std::chrono::seconds pubackTimeout{60};
  std::chrono::seconds banRetry{60};
  uint64_t seed = 0;  // 0: random
  // What the gateway relays at all (agent-level capabilities, docs/protocol/aclk.md §7.3); each
  // node's own come with it from the relay source.
  NodeFeatures gatewayFeatures;
  // Answers `cmd` HTTP requests from the cloud (docs/protocol/aclk.md §8). Runs on the link's
  // thread.
  std::function<LocalHttpResponse(const std::string& method, const std::string& path)> localApi;
  // When set, answers `cmd` requests instead of localApi, asynchronously: its completions are
  // queued and published by the link's thread (a completion after the link is gone is dropped).
  std::shared_ptr<CmdHandler> cmdHandler;
  // Seams for the state machine's unit tests: the HTTPS client of the login steps (empty:
  // libcurl) and the MQTT session (empty: MqttSession, Paho over the link's own transport).
  HttpSend http;
  MqttClientFactory mqttFactory;
};

using ClaimSource = std::function<std::shared_ptr<const claim::ClaimSnapshot>()>;

// The Agent-Cloud Link: one state machine on its own thread, fed by one event queue. Paho
// callbacks, the control socket and the daemon only enqueue; every retry, wait and timeout of the
// link lives here, so no other part retries anything on the link's behalf.
//
// States and their bounds: waiting for a claim (re-checked every second), waiting out a backoff
// or a cloud block (the delay itself), the HTTPS steps /env, challenge and password (libcurl,
// 10 s connect and 30 s total each), MQTT connect (connackTimeout, 120 s), online (the
// transport's ping deadline and no-progress watchdog detect a dead peer, see
// transport/wss_transport.h; a PUBACK older than pubackTimeout counts as dropped), graceful
// disconnect (2 s for the reachable=false PUBACK, then 4 s for DISCONNECT).
class Link {
 public:
  Link(LinkOptions options, ClaimSource claims);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // The owner of relayed nodes (the stream bridge); set before start(). Without one the link
  // speaks for the gateway's own node only.
  void setRelaySource(std::shared_ptr<NodeRelaySource> source);
  // Node ids remembered across restarts; set before start(). Without it every start creates
  // every node anew.
  void setNodeIdMemory(std::shared_ptr<NodeIdMemory> memory);
  // The part that relays nodes' own alerts (alarm_source.h); set before start(). Without one the
  // cloud's alert requests get no snapshots and empty configurations.
  void setAlarmSource(std::shared_ptr<AlarmSource> source);
  // The relayed nodes changed (a child came, went or changed its info): the link re-reads them.
  void nodesChanged();

  void start();
  // Graceful disconnect when online, then the thread ends. Idempotent.
  void stop();
  // After `reload-claiming-state` or a claim: re-read the identity. A changed identity while
  // online is `disconnected, to reload config`; a ban is lifted and the backoff restarts.
  void reloadIdentity();

  // The link's part of `aclk-state` (online, counters, times, backoff, ban, node ids).
  // `withNodes` false leaves out the node table (a row per node: the status page's
  // once-a-second history needs only the link's own figures).
  void fillState(AclkStateView* view, bool withNodes = true) const;
  // Machine GUID → node id of every node the cloud gave one (see NodeSync::nodeIds); any thread.
  std::map<std::string, std::string> nodeIds() const;
  AclkStatus status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aclkd::aclk
