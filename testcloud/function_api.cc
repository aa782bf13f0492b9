// The test cloud's Functions and Configuration tabs: what the real cloud does when a user opens
// Top, Logs or a node's configuration. Each call is a `cmd` request for /node/<node_id>/api/…
// carrying the caller's access as the cloud sends it (X-Netdata-Permissions, -Role,
// -User-Name); the reply is read back by msg_id. Asynchronous on purpose: the HTTPS front end
// is one lws thread that also serves the agents' /env and OTP steps, so nothing here waits.

#include <cctype>
#include <cstdio>
#include <string>

#include "common/base64.h"
#include "common/uuid.h"
#include "testcloud/mqtt_cloud.h"

namespace aclkd::testcloud {
namespace {

using nlohmann::ordered_json;

// Space admin: signed in, same space, commercial, anonymous and sensitive data, view and edit
// agent configuration (docs/protocol/aclk.md §8.3): what the Configuration tab needs.
constexpr const char* kAdminPermissions = "0x7f";

std::string urlEncode(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

Reply badRequest(const std::string& why) { return errorReply(422, "ErrInvalidRequest", why); }

std::string text(const nlohmann::json& body, const char* name, const std::string& fallback) {
  const auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// The request body of a call: a JSON value is sent as its text, a string as it is.
std::string payloadOf(const nlohmann::json& body) {
  const auto it = body.find("payload");
  if (it == body.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::string MqttCloud::claimOfNode(const std::string& nodeId) const {
  std::lock_guard lock(recordMutex_);
  for (const auto& [claim, nodes] : nodes_) {
    for (const auto& [guid, node] : nodes) {
      if (node.value("node_id", "") == nodeId) return claim;
    }
  }
  return "";
}

Reply MqttCloud::nodeCmd(const std::string& nodeId, const std::string& method,
                         const std::string& path, const nlohmann::json& body) {
  const std::string claim = claimOfNode(nodeId);
  if (claim.empty()) {
    return errorReply(404, "ErrNotFound", "no agent announced node " + nodeId);
  }
  nlohmann::json cmd;
  cmd["method"] = method;
  cmd["path"] = "/node/" + nodeId + path;
  cmd["msg_id"] = newUuid();
  if (body.contains("timeout") && body["timeout"].is_number()) {
    cmd["timeout_ms"] = (body["timeout"].get<int>() + 5) * 1000;
  }
  cmd["headers"] = nlohmann::json::array(
      {"X-Netdata-Permissions: " + text(body, "permissions", kAdminPermissions),
       "X-Netdata-Role: " + text(body, "role", "admin"),
       "X-Netdata-User-Name: " + text(body, "user", "testcloud-user")});
  const std::string payload = payloadOf(body);
  if (!payload.empty()) {
    cmd["headers"].push_back("Content-Type: application/json");
    cmd["body"] = payload;
  }
  return cmdReply(claim, cmd);
}

Reply MqttCloud::replyOf(const std::string& msgId) const {
  ordered_json found;
  {
    std::lock_guard lock(recordMutex_);
    for (auto it = messages_.rbegin(); it != messages_.rend(); ++it) {
      if ((*it)["type"] != "cmd-reply" || !(*it)["header"].is_object()) continue;
      if ((*it)["header"].value("msg-id", "") == msgId) {
        found = *it;
        break;
      }
    }
  }
  if (found.is_null()) return jsonReply(202, {{"msg_id", msgId}, {"pending", true}});
  ordered_json out;
  out["msg_id"] = msgId;
  out["header"] = found["header"];
  out["http_code"] = found["header"].value("http-code", 0);
  const auto http = base64Decode(found.value("http_b64", ""));
  const std::string raw = http ? *http : "";
  const size_t headEnd = raw.find("\r\n\r\n");
  ordered_json headers = ordered_json::object();
  std::string bodyText = headEnd == std::string::npos ? raw : raw.substr(headEnd + 4);
  if (headEnd != std::string::npos) {
    size_t at = raw.find("\r\n");  // after the status line
    while (at != std::string::npos && at < headEnd) {
      const size_t next = raw.find("\r\n", at + 2);
      const std::string line = raw.substr(at + 2, next - at - 2);
      if (const size_t colon = line.find(':'); colon != std::string::npos) {
        headers[line.substr(0, colon)] = line.substr(colon + 1 + (line[colon + 1] == ' '));
      }
      at = next == headEnd ? std::string::npos : next;
    }
  }
  out["content_type"] = headers.value("Content-Type", "");
  out["headers"] = headers;
  const auto parsed = ordered_json::parse(bodyText, nullptr, false);
  out["body"] = parsed.is_discarded()
                    ? ordered_json(ordered_json(bodyText).dump(
                          -1, ' ', false, nlohmann::json::error_handler_t::replace))
                    : parsed;
  return jsonReply(200, out);
}

void MqttCloud::addFunctionRoutes(ApiRouter& router) {
  const auto withBody = [](auto handler) {
    return [handler](const Request& r) {
      const auto body = r.body.empty() ? nlohmann::json::object()
                                       : nlohmann::json::parse(r.body, nullptr, false);
      if (!body.is_object()) return badRequest("the request body is not a JSON object");
      return handler(r.param("node_id"), body);
    };
  };
  router.add("POST", "/testcloud/api/nodes/{node_id}/function",
             withBody([this](const std::string& node, const nlohmann::json& body) {
               const std::string fn = text(body, "function", "");
               if (fn.empty()) return badRequest("field 'function' is missing or not a string");
               std::string path = "/api/v3/function?function=" + urlEncode(fn);
               if (body.contains("timeout") && body["timeout"].is_number()) {
                 path += "&timeout=" + std::to_string(body["timeout"].get<int>());
               }
               return nodeCmd(node, payloadOf(body).empty() ? "GET" : "POST", path, body);
             }));
  router.add("POST", "/testcloud/api/nodes/{node_id}/config",
             withBody([this](const std::string& node, const nlohmann::json& body) {
               std::string path = "/api/v3/config?action=" + urlEncode(text(body, "action", "tree"));
               for (const char* name : {"path", "id", "name"}) {
                 if (const std::string v = text(body, name, ""); !v.empty()) {
                   path += std::string("&") + name + "=" + urlEncode(v);
                 }
               }
               if (body.contains("timeout") && body["timeout"].is_number()) {
                 path += "&timeout=" + std::to_string(body["timeout"].get<int>());
               }
               return nodeCmd(node, payloadOf(body).empty() ? "GET" : "POST", path, body);
             }));
  router.add("GET", "/testcloud/api/nodes/{node_id}/functions", [this](const Request& r) {
    return nodeCmd(r.param("node_id"), "GET", "/api/v3/functions", nlohmann::json::object());
  });
  router.add("GET", "/testcloud/api/replies/{msg_id}",
             [this](const Request& r) { return replyOf(r.param("msg_id")); });
}

}  // namespace aclkd::testcloud
