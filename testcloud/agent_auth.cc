#include "testcloud/agent_auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "claim/rsa_key.h"
#include "common/base64.h"
#include "testcloud/claim_endpoint.h"

namespace aclkd::testcloud {
namespace {

using nlohmann::ordered_json;

constexpr size_t kSecretBytes = 32;

// Topic name -> last segment of its template: the protobuf message the agent publishes there.
// `chart`, `alarms` and `meta` belong to the retired JSON protocol and keep their old shape.
constexpr std::pair<const char*, const char*> kOutboundTopics[] = {
    {"chart", "/agent/#{claim_id}/outbound/meta"},
    {"alarms", "/agent/#{claim_id}/outbound/alarms"},
    {"meta", "/agent/#{claim_id}/outbound/meta"},
    {"agent-connection", "UpdateAgentConnection"},
    {"create-node-instance", "CreateNodeInstance"},
    {"node-instance-connection", "UpdateNodeInstanceConnection"},
    {"chart-and-dims-updated", "ChartsAndDimensionsUpdated"},
    {"chart-configs-updated", "ChartConfigsUpdated"},
    {"reset-charts", "ResetChartMessages"},
    {"chart-retention-updated", "RetentionUpdated"},
    {"node-instance-info", "UpdateNodeInfo"},
    {"alarm-log-v2", "AlarmLogEntry"},
    {"alarm-checkpoint", "AlarmCheckpoint"},
    {"alarm-config", "ProvideAlarmConfiguration"},
    {"alarm-snapshot-v2", "AlarmSnapshot"},
    {"node-instance-collectors", "UpdateNodeCollectors"},
    {"contexts-snapshot", "ContextsSnapshot"},
    {"contexts-updated", "ContextsUpdated"},
};

std::string randomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Reply cloudError(int status, std::string_view code, std::string_view key,
                 std::string_view message) {
  ordered_json body;
  body["errorCode"] = code;
  body["errorMsgKey"] = key;
  body["errorMessage"] = message;
  return jsonReply(status, body);
}

}  // namespace

ordered_json topicList() {
  ordered_json topics = ordered_json::array();
  for (const auto& [name, last] : kOutboundTopics) {
    const std::string suffix = last;
    topics.push_back({{"name", name},
                      {"topic", suffix[0] == '/' ? suffix
                                                 : "/agent/#{claim_id}/outbound/v1/" + suffix}});
  }
  topics.push_back({{"name", "inbox-cmd"}, {"topic", "/agent/#{claim_id}/inbound/cmd"}});
  topics.push_back({{"name", "inbox-cmd-v1"}, {"topic", "/agent/#{claim_id}/inbound/v1/cmd/+"}});
  return topics;
}

void AgentAuth::addRoutes(ApiRouter& router) {
  router.add("GET", "/api/v1/env", [this](const Request& r) { return env(r); });
  router.add("GET", "/api/v1/auth/node/{claimed_id}/challenge",
             [this](const Request& r) { return challenge(r.param("claimed_id")); });
  router.add("POST", "/api/v1/auth/node/{claimed_id}/password",
             [this](const Request& r) { return password(r.param("claimed_id"), r.body); });
  router.add("GET", "/testcloud/api/sessions", [this](const Request&) {
    ordered_json out = ordered_json::array();
    for (const auto& [id, s] : sessions()) {
      out.push_back({{"claimed_id", s.claimedId}, {"client_id", s.clientId},
                     {"username", s.username}, {"time", s.time}});
    }
    return jsonReply(200, out);
  });
}

Reply AgentAuth::envError(int status, const Faults& faults) const {
  ordered_json body;
  body["errorCode"] = "injected-" + std::to_string(status);
  body["errorMsgKey"] = "ErrInjectedFault";
  body["errorMessage"] = "fault injected by the test";
  if (faults.envNonRetryable) body["errorNonRetryable"] = true;
  if (faults.envRetryDelay > 0) body["errorRetryDelaySeconds"] = faults.envRetryDelay;
  return jsonReply(status, body);
}

Reply AgentAuth::env(const Request& request) const {
  const Faults faults = state_.faults();
  if (faults.envStatus != 0) return envError(faults.envStatus, faults);
  const auto claimId = request.query.count("claim_id") ? request.query.at("claim_id") : "";
  if (!state_.findClaim(claimId)) {
    return cloudError(404, "agent-not-claimed", "ErrNotFound", "unknown claim_id");
  }
  // The host the agent asked for, with this server's port when it named none (the agent's
  // HTTPS client sends the host alone).
  std::string host = request.header("host");
  const auto bracket = host.rfind(']');
  const auto colon = host.rfind(':');
  const bool hasPort = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (!hasPort && policy_.listenPort != 443) host += ":" + std::to_string(policy_.listenPort);
  ordered_json body;
  body["authEndpoint"] = "https://" + host + "/api/v1/auth";
  body["encoding"] = "proto";
  body["transports"] = {{{"type", "MQTTv5"}, {"endpoint", policy_.mqttEndpoint}}};
  body["backoff"] = {{"base", policy_.backoffBase},
                     {"minSeconds", policy_.backoffMinSeconds},
                     {"maxSeconds", policy_.backoffMaxSeconds}};
  body["capabilities"] = {"proto", "ctx"};
  const auto& broken = faults.envBody;
  if (broken == "nonjson") return textReply(200, "<html>not json</html>");
  if (broken == "empty") return textReply(200, "");
  if (broken == "noproto") body["capabilities"] = {"ctx"};
  if (broken == "json_encoding") body["encoding"] = "json";
  if (broken == "nomqttv5") body["transports"][0]["type"] = "MQTTv3";
  if (broken == "badauthurl") body["authEndpoint"] = "not a url";
  if (broken == "badtransporturl") body["transports"][0]["endpoint"] = "wss://:bad";
  return jsonReply(200, body);
}

Reply AgentAuth::challenge(const std::string& claimedId) {
  const auto claim = state_.findClaim(claimedId);
  if (!claim) return cloudError(404, "agent-not-claimed", "ErrNotFound", "unknown claim_id");
  const auto broken = state_.faults().challenge;
  if (broken == "status500") {
    return cloudError(500, "injected-500", "ErrInternalServerError", "fault injected");
  }
  if (broken == "garbage") return textReply(200, "this is not a challenge");
  if (broken == "shortb64") {
    return jsonReply(200, {{"challenge", base64Encode(randomBytes(100))}});
  }
  if (broken == "undecryptable") {
    return jsonReply(200, {{"challenge", base64Encode(randomBytes(256))}});
  }

  const auto secret = randomBytes(kSecretBytes);
  std::string error;
  const auto cipher = claim::RsaKey::encryptOaepSha1ForPublicPem(claim->publicKey, secret, &error);
  if (!cipher) {
    return cloudError(500, "bad-key", "ErrInternalServerError", "cannot encrypt: " + error);
  }
  {
    std::lock_guard lock(mutex_);
    pendingSecrets_[claimedId] = secret;
  }
  return jsonReply(200, {{"challenge", base64Encode(*cipher)}});
}

Reply AgentAuth::password(const std::string& claimedId, std::string_view body) {
  std::optional<std::string> expected;
  {
    std::lock_guard lock(mutex_);
    if (auto it = pendingSecrets_.find(claimedId); it != pendingSecrets_.end()) {
      expected = it->second;
      pendingSecrets_.erase(it);
    }
  }
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || !json.contains("response") || !json["response"].is_string()) {
    return cloudError(400, "bad-request", "ErrInvalidRequest",
                      "field 'response' is missing or not a string");
  }
  const auto answer = base64Decode(json["response"].get<std::string>());
  if (!expected || !answer || *answer != *expected) {
    spdlog::warn("password step for {} failed: wrong or replayed challenge response", claimedId);
    return cloudError(401, "wrong-response", "ErrUnauthorized", "challenge response mismatch");
  }
  const auto broken = state_.faults().password;
  if (broken == "status401") {
    return cloudError(401, "injected-401", "ErrUnauthorized", "fault injected");
  }
  if (broken == "garbage") return Reply{201, "application/json", "{not json", {}};
  if (broken == "empty") return Reply{201, "application/json", "", {}};

  IssuedSession session{claimedId, claimedId, claimedId, formatUtc(std::chrono::system_clock::now())};
  ordered_json out;
  out["clientID"] = session.clientId;
  out["username"] = session.username;
  out["password"] = hex(randomBytes(16));
  auto topics = topicList();
  if (!broken.empty()) {
    const std::string drop = broken == "nolwt" ? "agent-connection" : "chart";
    ordered_json kept = ordered_json::array();
    for (auto& t : topics) {
      if (t["name"] != drop) kept.push_back(t);
    }
    topics = kept;
  }
  out["topics"] = topics;
  {
    std::lock_guard lock(mutex_);
    sessions_[claimedId] = session;
  }
  spdlog::info("issued MQTT credentials to {}", claimedId);
  return jsonReply(201, out);
}

std::map<std::string, IssuedSession> AgentAuth::sessions() const {
  std::lock_guard lock(mutex_);
  return sessions_;
}

}  // namespace aclkd::testcloud
