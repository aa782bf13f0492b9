#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/token.h>
#include <nlohmann/json.hpp>

#include "testcloud/alert_view.h"
#include "testcloud/api_router.h"

namespace mqtt {
class async_client;
}

namespace aclkd::testcloud {

// The cloud's end of the link: one MQTT client on the broker's plain listener that subscribes to
// every agent's outbound topics, records what arrives (decoded to JSON, for tests) and answers
// as Netdata Cloud does (docs/protocol/aclk.md §9):
//   UpdateAgentConnection reachable      -> SendNodeInstances
//   CreateNodeInstance                   -> CreateNodeInstanceResult (node id stable per
//                                           claimed_id + machine GUID)
//   UpdateNodeInstanceConnection live    -> ContextsCheckpoint (version hash 1), and with
//                                           `health` enabled StartAlarmStreaming (the alert
//                                           version the cloud holds, alert_view.h)
// Paho callbacks only enqueue; a worker thread decodes, records and answers, so nothing blocks
// on Paho's shared callback thread.
//
// Control surface (tests and scripts):
//   GET  /testcloud/api/messages?claim_id=&type=&after=
//                                                  recorded messages, oldest first (after: only
//                                                  those with a larger seq, so pollers stay cheap)
//   GET  /testcloud/api/nodes                      node instances the cloud created
//   GET  /testcloud/api/nodes/{node_id}/alerts     the node's alerts (alert_view.h)
//   POST /testcloud/api/agents/{id}/send           {type, size | payload_b64 | message}
//   POST /testcloud/api/agents/{id}/cmd            {method, path, timeout_ms (null: none),
//                                                  headers: ["Name: value"], body, msg_id}
//                                                  -> {msg_id, published: the time the request
//                                                  was handed to the broker}; the reply is recorded as
//                                                  type cmd-reply {header, http, http_b64}
//   POST /testcloud/api/agents/{id}/disconnect     DisconnectReq fields
//   POST /testcloud/api/agents/{id}/checkpoint     {node_id, version_hash}
//   POST /testcloud/api/agents/{id}/drop           takes the agent's MQTT session over
// and, as the cloud's Functions and Configuration tabs (function_api.cc):
//   POST /testcloud/api/nodes/{node_id}/function   {function, timeout (s), payload, permissions,
//                                                  role, user} -> {msg_id}
//   POST /testcloud/api/nodes/{node_id}/config     {action, path, id, name, payload, …} -> {msg_id}
//   GET  /testcloud/api/nodes/{node_id}/functions  the node's functions list -> {msg_id}
//   GET  /testcloud/api/replies/{msg_id}           the agent's reply, decoded: {http_code,
//                                                  content_type, headers, body (JSON when it
//                                                  parses)}; 202 while none arrived
class MqttCloud {
 public:
  // `brokerUri`: tcp://host:port of the broker's plain MQTT listener.
  explicit MqttCloud(std::string brokerUri);
  ~MqttCloud();
  MqttCloud(const MqttCloud&) = delete;
  MqttCloud& operator=(const MqttCloud&) = delete;

  // Connects (waiting up to 10 s) and subscribes; afterwards Paho reconnects on its own and the
  // subscription is renewed on every reconnect. False with *error when it cannot connect.
  bool start(std::string* error);
  void stop();

  void addRoutes(ApiRouter& router);

 private:
  struct Inbound {
    std::string topic;
    std::string payload;
  };

  void work();
  void handle(const Inbound& in);
  bool publish(const std::string& topic, const std::string& payload, std::string* error);
  bool sendToAgent(const std::string& claimedId, const std::string& type,
                   const std::string& payload, std::string* error);
  void record(nlohmann::ordered_json entry);

  Reply messagesReply(const Request& request) const;
  Reply sendReply(const std::string& claimedId, const nlohmann::json& body);
  Reply cmdReply(const std::string& claimedId, const nlohmann::json& body);
  Reply disconnectReply(const std::string& claimedId, const nlohmann::json& body);
  Reply checkpointReply(const std::string& claimedId, const nlohmann::json& body);
  Reply dropReply(const std::string& claimedId);
  // function_api.cc
  void addFunctionRoutes(ApiRouter& router);
  // The claimed id whose agent announced `nodeId`, or "".
  std::string claimOfNode(const std::string& nodeId) const;
  Reply nodeCmd(const std::string& nodeId, const std::string& method, const std::string& path,
                const nlohmann::json& body);
  Reply replyOf(const std::string& msgId) const;

  const std::string brokerUri_;
  // The last connect/disconnect token waited for, kept until client_ is destroyed: Paho C++ 1.2
  // signals a token after marking it complete, so the waiter must not destroy it at once
  // (aclk/mqtt_session.cc explains; docs/dependencies.md). Declared before client_.
  mqtt::token_ptr waitedToken_;
  std::unique_ptr<mqtt::async_client> client_;

  std::mutex queueMutex_;
  std::condition_variable queueCv_;
  std::deque<Inbound> queue_;  // guarded by queueMutex_
  bool stopping_ = false;      // guarded by queueMutex_
  std::thread worker_;

  mutable std::mutex recordMutex_;
  std::deque<nlohmann::ordered_json> messages_;  // guarded by recordMutex_
  uint64_t nextSeq_ = 1;                         // guarded by recordMutex_
  // claimed_id -> machine GUID -> {node_id, hostname}; guarded by recordMutex_
  std::map<std::string, std::map<std::string, nlohmann::ordered_json>> nodes_;
  AlertView alerts_;  // thread-safe on its own
};

// The node id the cloud gives `machineGuid`: a UUID derived from it, so a restarted test cloud
// hands out the same ids. The test cloud is one Space (every token it accepts claims into it),
// and the real cloud keys a node by Space and machine GUID: a child that moves from one gateway
// (claim) to another in the same Space keeps its node id, which failover relies on.
std::string stableNodeId(const std::string& machineGuid);

}  // namespace aclkd::testcloud
