#include "testcloud/mqtt_cloud.h"

#include <openssl/evp.h>

#include <google/protobuf/util/json_util.h>
#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <ctime>

#include "agent/v1/cmds.pb.h"
#include "agent/v1/connection.pb.h"
#include "alarms/v1/alarm.pb.h"
#include "common/base64.h"
#include "common/fail_with.h"
#include "common/uuid.h"
#include "context/v1/context.pb.h"
#include "nodeinstance/connection/v1/connection.pb.h"
#include "nodeinstance/create/v1/creation.pb.h"
#include "nodeinstance/info/v1/info.pb.h"

namespace aclkd::testcloud {
namespace {

using nlohmann::ordered_json;
using namespace std::chrono_literals;

constexpr size_t kMaxRecorded = 20000;
constexpr auto kWait = 10s;

// Every message type that crosses the link, by the name used in topics. Naming the default
// instances also keeps the linker from dropping the generated descriptors.
const google::protobuf::Message* prototypeOf(const std::string& type) {
  static const std::map<std::string, const google::protobuf::Message*> kTypes = {
      {"UpdateAgentConnection", &agent::v1::UpdateAgentConnection::default_instance()},
      {"SendNodeInstances", &agent::v1::SendNodeInstances::default_instance()},
      {"DisconnectReq", &agent::v1::DisconnectReq::default_instance()},
      {"CancelPendingRequest", &agent::v1::CancelPendingRequest::default_instance()},
      {"CreateNodeInstance", &nodeinstance::create::v1::CreateNodeInstance::default_instance()},
      {"CreateNodeInstanceResult",
       &nodeinstance::create::v1::CreateNodeInstanceResult::default_instance()},
      {"UpdateNodeInstanceConnection",
       &nodeinstance::v1::UpdateNodeInstanceConnection::default_instance()},
      {"UpdateNodeInfo", &nodeinstance::info::v1::UpdateNodeInfo::default_instance()},
      {"UpdateNodeCollectors", &nodeinstance::info::v1::UpdateNodeCollectors::default_instance()},
      {"ContextsSnapshot", &context::v1::ContextsSnapshot::default_instance()},
      {"ContextsUpdated", &context::v1::ContextsUpdated::default_instance()},
      {"ContextsCheckpoint", &context::v1::ContextsCheckpoint::default_instance()},
      {"StopStreamingContexts", &context::v1::StopStreamingContexts::default_instance()},
      {"StartAlarmStreaming", &alarms::v1::StartAlarmStreaming::default_instance()},
      {"SendAlarmCheckpoint", &alarms::v1::SendAlarmCheckpoint::default_instance()},
      {"SendAlarmConfiguration", &alarms::v1::SendAlarmConfiguration::default_instance()},
      {"SendAlarmSnapshot", &alarms::v1::SendAlarmSnapshot::default_instance()},
      {"AlarmLogEntry", &alarms::v1::AlarmLogEntry::default_instance()},
      {"AlarmSnapshot", &alarms::v1::AlarmSnapshot::default_instance()},
      {"ProvideAlarmConfiguration", &alarms::v1::ProvideAlarmConfiguration::default_instance()},
  };
  const auto it = kTypes.find(type);
  return it == kTypes.end() ? nullptr : it->second;
}

// Protobuf's JSON mapping with the .proto field names, so tests read `update_source`, not
// `updateSource`; enums come out as their names.
std::optional<ordered_json> toJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
    return std::nullopt;
  }
  return ordered_json::parse(text, nullptr, false);
}

std::string nowIso() {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      now.time_since_epoch()).count();
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>(us % 1000000));
  return out;
}

// "/agent/<claimed_id>/outbound/..." -> claimed_id and the rest after "outbound/".
bool splitOutbound(const std::string& topic, std::string* claimedId, std::string* rest) {
  static constexpr std::string_view kPrefix = "/agent/";
  if (topic.rfind(kPrefix, 0) != 0) return false;
  const auto idEnd = topic.find('/', kPrefix.size());
  if (idEnd == std::string::npos) return false;
  static constexpr std::string_view kOutbound = "/outbound/";
  if (topic.compare(idEnd, kOutbound.size(), kOutbound) != 0) return false;
  *claimedId = topic.substr(kPrefix.size(), idEnd - kPrefix.size());
  *rest = topic.substr(idEnd + kOutbound.size());
  return true;
}

Reply badRequest(const std::string& why) { return errorReply(422, "ErrInvalidRequest", why); }

}  // namespace

std::string stableNodeId(const std::string& machineGuid) {
  const std::string input = "space/" + machineGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  std::array<unsigned char, 16> bytes{};
  std::copy(digest, digest + bytes.size(), bytes.begin());
  return uuidFromBytes(bytes, 4);  // the version 4 layout, as the test cloud always gave
}

MqttCloud::MqttCloud(std::string brokerUri) : brokerUri_(std::move(brokerUri)) {}

MqttCloud::~MqttCloud() { stop(); }

bool MqttCloud::start(std::string* error) {
  try {
    client_ = std::make_unique<mqtt::async_client>(brokerUri_, "aclk-testcloud-" + newUuid(),
                                                   mqtt::create_options(MQTTVERSION_5));
    client_->set_message_callback([this](mqtt::const_message_ptr msg) {
      {
        std::lock_guard lock(queueMutex_);
        queue_.push_back({msg->get_topic(), msg->get_payload_str()});
      }
      queueCv_.notify_one();
    });
    // Runs on Paho's thread after every (re)connect: subscribe() only queues the request.
    client_->set_connected_handler([this](const std::string&) {
      try {
        client_->subscribe("/agent/+/outbound/#", 1);
      } catch (const std::exception& e) {
        spdlog::error("cannot subscribe to agent topics: {}", e.what());
      }
    });
    client_->set_connection_lost_handler([](const std::string& cause) {
      spdlog::warn("lost the broker ({}); reconnecting", cause.empty() ? "no cause" : cause);
    });
    auto options = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_5)
                       .clean_start(true)
                       .keep_alive_interval(20s)
                       .automatic_reconnect(1s, 2s)
                       .finalize();
    worker_ = std::thread([this] { work(); });
    // The broker may still be starting: try for a while before giving up.
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    for (;;) {
      try {
        waitedToken_ = client_->connect(options);
        if (waitedToken_->wait_for(kWait)) break;
      } catch (const mqtt::exception& e) {
        if (std::chrono::steady_clock::now() > deadline) {
          return failWith(error, "cannot connect to the broker at " + brokerUri_ + ": " + e.what());
        }
        std::this_thread::sleep_for(200ms);
      }
    }
    spdlog::info("cloud side connected to the broker at {}", brokerUri_);
    return true;
  } catch (const std::exception& e) {
    return failWith(error, "cannot start the cloud's MQTT client: " + std::string(e.what()));
  }
}

void MqttCloud::stop() {
  {
    std::lock_guard lock(queueMutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  queueCv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (client_) {
    try {
      client_->disable_callbacks();
      if (client_->is_connected()) {
        waitedToken_ = client_->disconnect();
        waitedToken_->wait_for(2s);
      }
    } catch (const std::exception&) {
    }
  }
}

void MqttCloud::work() {
  for (;;) {
    Inbound in;
    {
      std::unique_lock lock(queueMutex_);
      queueCv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      in = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      handle(in);
    } catch (const std::exception& e) {
      spdlog::error("handling {}: {}", in.topic, e.what());
    }
  }
}

void MqttCloud::record(ordered_json entry) {
  std::lock_guard lock(recordMutex_);
  ordered_json full;
  full["seq"] = nextSeq_++;
  full["time"] = nowIso();
  full.update(entry);
  messages_.push_back(std::move(full));
  if (messages_.size() > kMaxRecorded) messages_.pop_front();
}

void MqttCloud::handle(const Inbound& in) {
  std::string claimedId;
  std::string rest;
  if (!splitOutbound(in.topic, &claimedId, &rest)) {
    spdlog::warn("message on unexpected topic {}", in.topic);
    return;
  }
  ordered_json entry;
  entry["claim_id"] = claimedId;
  entry["topic"] = in.topic;
  entry["size"] = in.payload.size();

  if (rest.rfind("cmd-reply/", 0) == 0) {
    entry["type"] = "cmd-reply";
    const auto sep = in.payload.find("\r\n\r\n");
    entry["header"] = ordered_json::parse(in.payload.substr(0, sep), nullptr, false);
    const std::string http = sep == std::string::npos ? "" : in.payload.substr(sep + 4);
    // A gzip body is not UTF-8: the exact bytes are in http_b64, `http` replaces what is not.
    entry["http"] = ordered_json(http).dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace);
    entry["http"] = ordered_json::parse(entry["http"].get<std::string>());
    entry["http_b64"] = base64Encode(http);
    record(std::move(entry));
    return;
  }
  const auto slash = rest.rfind('/');
  const std::string type = slash == std::string::npos ? rest : rest.substr(slash + 1);
  entry["type"] = type;
  const auto* prototype = prototypeOf(type);
  if (!prototype) {
    entry["error"] = "unknown message type";
    record(std::move(entry));
    return;
  }
  std::unique_ptr<google::protobuf::Message> message(prototype->New());
  const bool parsed = message->ParseFromString(in.payload);
  auto json = parsed ? toJson(*message) : std::nullopt;
  if (!json) {
    entry["error"] = "payload does not parse as " + type;
    spdlog::warn("{} from {} does not parse", type, claimedId);
    record(std::move(entry));
    return;
  }
  entry["message"] = *json;
  alerts_.observe(type, *json);
  record(std::move(entry));

  std::string error;
  if (type == "UpdateAgentConnection") {
    const auto& m = static_cast<const agent::v1::UpdateAgentConnection&>(*message);
    if (m.reachable()) {
      agent::v1::SendNodeInstances reply;
      reply.set_claim_id(claimedId);
      sendToAgent(claimedId, "SendNodeInstances", reply.SerializeAsString(), &error);
    }
  } else if (type == "CreateNodeInstance") {
    const auto& m = static_cast<const nodeinstance::create::v1::CreateNodeInstance&>(*message);
    nodeinstance::create::v1::CreateNodeInstanceResult reply;
    reply.set_machine_guid(m.machine_guid());
    reply.set_node_id(stableNodeId(m.machine_guid()));
    {
      std::lock_guard lock(recordMutex_);
      nodes_[claimedId][m.machine_guid()] = {{"node_id", reply.node_id()},
                                             {"hostname", m.hostname()},
                                             {"hops", m.hops()}};
    }
    sendToAgent(claimedId, "CreateNodeInstanceResult", reply.SerializeAsString(), &error);
  } else if (type == "UpdateNodeInstanceConnection") {
    const auto& m = static_cast<const nodeinstance::v1::UpdateNodeInstanceConnection&>(*message);
    if (m.liveness()) {
      context::v1::ContextsCheckpoint reply;
      reply.set_claim_id(claimedId);
      reply.set_node_id(m.node_id());
      reply.set_version_hash(1);
      sendToAgent(claimedId, "ContextsCheckpoint", reply.SerializeAsString(), &error);
      const bool health = std::any_of(m.capabilities().begin(), m.capabilities().end(),
                                      [](const auto& c) { return c.name() == "health" && c.enabled(); });
      if (health) {
        alarms::v1::StartAlarmStreaming start;
        start.set_node_id(m.node_id());
        start.set_version(alerts_.version(m.node_id()));
        sendToAgent(claimedId, "StartAlarmStreaming", start.SerializeAsString(), &error);
      }
    }
  }
  if (!error.empty()) spdlog::warn("answer to {} of {} not sent: {}", type, claimedId, error);
}

bool MqttCloud::publish(const std::string& topic, const std::string& payload,
                        std::string* error) {
  try {
    auto token = client_->publish(mqtt::make_message(topic, payload, 1, false));
    if (!token->wait_for(kWait)) {
      *error = "no PUBACK from the broker within 10 s";
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

bool MqttCloud::sendToAgent(const std::string& claimedId, const std::string& type,
                            const std::string& payload, std::string* error) {
  return publish("/agent/" + claimedId + "/inbound/v1/cmd/" + type, payload, error);
}

Reply MqttCloud::messagesReply(const Request& request) const {
  const auto claim = request.query.count("claim_id") ? request.query.at("claim_id") : "";
  const auto type = request.query.count("type") ? request.query.at("type") : "";
  uint64_t after = 0;
  if (request.query.count("after")) {
    const auto& text = request.query.at("after");
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), after);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return badRequest("query 'after': not a sequence number");
    }
  }
  ordered_json out = ordered_json::array();
  {
    // Recording waits on this lock: the reply is serialised after it is released.
    std::lock_guard lock(recordMutex_);
    // Sequence numbers rise by one per record, so the first one wanted is found by arithmetic.
    const uint64_t first = messages_.empty() ? 0 : messages_.front()["seq"].get<uint64_t>();
    const size_t skip = after < first ? 0 : std::min<uint64_t>(after - first + 1, messages_.size());
    for (auto it = messages_.begin() + static_cast<std::ptrdiff_t>(skip); it != messages_.end(); ++it) {
      const auto& m = *it;
      if (!claim.empty() && m["claim_id"] != claim) continue;
      if (!type.empty() && m["type"] != type) continue;
      out.push_back(m);
    }
  }
  return jsonReply(200, out);
}

Reply MqttCloud::sendReply(const std::string& claimedId, const nlohmann::json& body) {
  if (!body.contains("type") || !body["type"].is_string()) {
    return badRequest("field 'type' is missing or not a string");
  }
  const auto type = body["type"].get<std::string>();
  std::string payload;
  if (body.contains("size")) {
    if (!body["size"].is_number_unsigned()) return badRequest("field 'size' is not a size");
    payload.assign(body["size"].get<size_t>(), '\x01');
  } else if (body.contains("payload_b64")) {
    const auto decoded =
        body["payload_b64"].is_string() ? base64Decode(body["payload_b64"].get<std::string>())
                                        : std::nullopt;
    if (!decoded) return badRequest("field 'payload_b64' is not base64");
    payload = *decoded;
  } else {
    const auto* prototype = prototypeOf(type);
    if (!prototype) return badRequest("field 'type': unknown message type");
    std::unique_ptr<google::protobuf::Message> message(prototype->New());
    const auto text = body.contains("message") ? body["message"].dump() : "{}";
    if (!google::protobuf::util::JsonStringToMessage(text, message.get()).ok()) {
      return badRequest("field 'message' does not fit " + type);
    }
    payload = message->SerializeAsString();
  }
  std::string error;
  if (!sendToAgent(claimedId, type, payload, &error)) {
    return errorReply(503, "ErrServiceUnavailable", error);
  }
  return jsonReply(200, {{"sent", payload.size()}});
}

Reply MqttCloud::cmdReply(const std::string& claimedId, const nlohmann::json& body) {
  const auto method = body.value("method", std::string("GET"));
  const auto path = body.value("path", std::string("/api/v1/info"));
  const auto msgId = body.value("msg_id", newUuid());
  ordered_json header;
  header["type"] = "http";
  header["msg-id"] = msgId;
  header["callback-topic"] = "/agent/" + claimedId + "/outbound/cmd-reply/" + msgId;
  if (!body.contains("timeout_ms") || !body["timeout_ms"].is_null()) {
    header["timeout"] = body.value("timeout_ms", 30000);
  }
  header["version"] = 2;
  std::string headers = "Host: agent\r\nAccept: application/json\r\n";
  for (const auto& h : body.value("headers", nlohmann::json::array())) {
    headers += h.get<std::string>() + "\r\n";
  }
  const auto requestBody = body.value("body", std::string());
  if (!requestBody.empty()) {
    headers += "Content-Length: " + std::to_string(requestBody.size()) + "\r\n";
  }
  const std::string payload = header.dump() + "\r\n\r\n" + method + " " + path +
                              " HTTP/1.1\r\n" + headers + "\r\n" + requestBody;
  std::string error;
  const auto published = nowIso();
  if (!publish("/agent/" + claimedId + "/inbound/cmd", payload, &error)) {
    return errorReply(503, "ErrServiceUnavailable", error);
  }
  return jsonReply(200, {{"msg_id", msgId}, {"published", published}});
}

Reply MqttCloud::disconnectReply(const std::string& claimedId, const nlohmann::json& body) {
  agent::v1::DisconnectReq req;
  req.set_reconnect_after_seconds(body.value("reconnect_after_seconds", 0));
  req.set_permaban(body.value("permaban", false));
  req.set_error_code(body.value("error_code", 0));
  req.set_error_description(body.value("error_description", std::string()));
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  req.mutable_created_at()->set_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(now).count());
  std::string error;
  if (!sendToAgent(claimedId, "DisconnectReq", req.SerializeAsString(), &error)) {
    return errorReply(503, "ErrServiceUnavailable", error);
  }
  return jsonReply(200, {{"sent", "DisconnectReq"}});
}

Reply MqttCloud::checkpointReply(const std::string& claimedId, const nlohmann::json& body) {
  context::v1::ContextsCheckpoint req;
  req.set_claim_id(claimedId);
  req.set_node_id(body.value("node_id", std::string()));
  req.set_version_hash(body.value("version_hash", uint64_t{1}));
  std::string error;
  if (!sendToAgent(claimedId, "ContextsCheckpoint", req.SerializeAsString(), &error)) {
    return errorReply(503, "ErrServiceUnavailable", error);
  }
  return jsonReply(200, {{"sent", "ContextsCheckpoint"}});
}

// A second client with the agent's client id takes the session over: the broker closes the
// agent's connection, as a cloud-side broker restart or failover would.
Reply MqttCloud::dropReply(const std::string& claimedId) {
  // The tokens outlive the client (declared first): see waitedToken_.
  mqtt::token_ptr connected, disconnected;
  try {
    mqtt::async_client taker(brokerUri_, claimedId, mqtt::create_options(MQTTVERSION_5));
    auto options = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_5)
                       .clean_start(true)
                       .finalize();
    connected = taker.connect(options);
    if (!connected->wait_for(kWait)) {
      return errorReply(503, "ErrServiceUnavailable", "takeover connect timed out");
    }
    disconnected = taker.disconnect();
    disconnected->wait_for(kWait);
  } catch (const std::exception& e) {
    return errorReply(503, "ErrServiceUnavailable", e.what());
  }
  return jsonReply(200, {{"dropped", claimedId}});
}

void MqttCloud::addRoutes(ApiRouter& router) {
  alerts_.addRoutes(router);
  router.add("GET", "/testcloud/api/messages",
             [this](const Request& r) { return messagesReply(r); });
  router.add("GET", "/testcloud/api/nodes", [this](const Request&) {
    std::lock_guard lock(recordMutex_);
    ordered_json out = ordered_json::object();
    for (const auto& [claim, nodes] : nodes_) {
      for (const auto& [guid, node] : nodes) out[claim][guid] = node;
    }
    return jsonReply(200, out);
  });
  const auto withBody = [](auto handler) {
    return [handler](const Request& r) {
      const auto body = r.body.empty() ? nlohmann::json::object()
                                       : nlohmann::json::parse(r.body, nullptr, false);
      if (!body.is_object()) return badRequest("the request body is not a JSON object");
      try {
        return handler(r.param("claimed_id"), body);
      } catch (const nlohmann::json::exception& e) {
        return badRequest(std::string("a field has the wrong type: ") + e.what());
      }
    };
  };
  router.add("POST", "/testcloud/api/agents/{claimed_id}/send",
             withBody([this](const std::string& id, const nlohmann::json& b) {
               return sendReply(id, b);
             }));
  router.add("POST", "/testcloud/api/agents/{claimed_id}/cmd",
             withBody([this](const std::string& id, const nlohmann::json& b) {
               return cmdReply(id, b);
             }));
  router.add("POST", "/testcloud/api/agents/{claimed_id}/disconnect",
             withBody([this](const std::string& id, const nlohmann::json& b) {
               return disconnectReply(id, b);
             }));
  router.add("POST", "/testcloud/api/agents/{claimed_id}/checkpoint",
             withBody([this](const std::string& id, const nlohmann::json& b) {
               return checkpointReply(id, b);
             }));
  router.add("POST", "/testcloud/api/agents/{claimed_id}/drop",
             [this](const Request& r) { return dropReply(r.param("claimed_id")); });
  addFunctionRoutes(router);
}

}  // namespace aclkd::testcloud
