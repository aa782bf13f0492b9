#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "testcloud/api_router.h"
#include "testcloud/cloud_state.h"

namespace aclkd::testcloud {

// What /env hands out besides the auth URL (which follows the Host the agent called).
struct LinkPolicy {
  std::string mqttEndpoint;  // wss://host:port/mqtt, the broker's websocket listener
  int backoffBase = 2;
  int backoffMinSeconds = 0;
  int backoffMaxSeconds = 1024;
  // The port the cloud listens on: an agent sends `Host: <host>` without it (docs/protocol/aclk.md
  // §4.2), and the auth endpoint named in /env must still reach this server.
  int listenPort = 443;
};

// MQTT credentials issued by a successful password step.
struct IssuedSession {
  std::string claimedId;
  std::string clientId;
  std::string username;
  std::string time;  // UTC, ISO 8601; the password itself is never kept or shown
};

// The cloud's side of docs/protocol/aclk.md §4.3-4.5: `GET /api/v1/env`, then
// `GET /api/v1/auth/node/{claimed_id}/challenge` and `POST .../password`.
//
// The challenge is 32 random bytes encrypted (RSA-OAEP, SHA-1) with the public key recorded at
// claim time; the password step must send them back base64-encoded. A challenge is good for one
// password attempt, so a replayed response fails. Topic templates name the protobuf message type
// in their last segment (`/agent/#{claim_id}/outbound/v1/UpdateNodeInfo`), which is how the
// cloud's MQTT side knows what to decode; commands to the agent go to
// `/agent/<claimed_id>/inbound/v1/cmd/<MessageType>` and HTTP requests to
// `/agent/<claimed_id>/inbound/cmd`.
class AgentAuth {
 public:
  AgentAuth(LinkPolicy policy, CloudState& state) : policy_(std::move(policy)), state_(state) {}

  void addRoutes(ApiRouter& router);

  Reply env(const Request& request) const;
  Reply challenge(const std::string& claimedId);
  Reply password(const std::string& claimedId, std::string_view body);

  std::map<std::string, IssuedSession> sessions() const;

 private:
  Reply envError(int status, const Faults& faults) const;

  const LinkPolicy policy_;
  CloudState& state_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> pendingSecrets_;  // claimed_id -> secret; guarded
  std::map<std::string, IssuedSession> sessions_;      // claimed_id -> last issued; guarded
};

// The topic list of the password answer (all compulsory names of §4.5).
nlohmann::ordered_json topicList();

}  // namespace aclkd::testcloud
