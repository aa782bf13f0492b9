#include "daemon/control_commands.h"

#include <nlohmann/json.hpp>

namespace aclkd::daemon {
namespace {

using nlohmann::ordered_json;

std::string reply(int code, const std::string& text) {
  ordered_json j;
  j["code"] = code;
  j["text"] = text;
  return j.dump();
}

// The text has one line per node acted on, `results` the same lines for the JSON form.
std::string staleNodesReply(const std::vector<std::string>& lines) {
  ordered_json j;
  j["code"] = 0;
  std::string text;
  j["results"] = ordered_json::array();
  for (const auto& line : lines) {
    text += (text.empty() ? "" : "\n") + line;
    j["results"].push_back(line);
  }
  j["text"] = text;
  return j.dump();
}

}  // namespace

std::string dispatchControl(const std::string& requestLine, ControlTarget& target) {
  const auto req = nlohmann::json::parse(requestLine, nullptr, false);
  if (!req.is_object() || !req.contains("command") || !req["command"].is_string()) {
    return reply(1, "malformed request: expected {\"command\": \"...\"}");
  }
  auto text = [&](const char* key) -> std::string {
    return req.contains(key) && req[key].is_string() ? req[key].get<std::string>() : "";
  };
  const std::string command = req["command"].get<std::string>();
  if (command == "aclk-state") {
    ordered_json j;
    j["code"] = 0;
    j["state"] = ordered_json::parse(target.aclkStateJson());
    return j.dump();
  }
  if (command == "reload-claiming-state") {
    return reply(0, target.reloadClaimingState());
  }
  if (command == "claim") {
    ClaimRequest request{text("token"), text("rooms"), text("url"), text("proxy"),
                         req.contains("insecure") && req["insecure"].is_boolean() &&
                             req["insecure"].get<bool>()};
    bool failed = false;
    const std::string out = target.claim(request, &failed);
    return reply(failed ? 1 : 0, out);
  }
  if (command == "streams" || command == "nodes") {
    ordered_json j;
    j["code"] = 0;
    j[command] =
        ordered_json::parse(command == "streams" ? target.streamsJson() : target.nodesJson());
    return j.dump();
  }
  if (command == "reload") {
    return reply(0, target.reloadConfig());
  }
  if (command == "remove-stale-node" || command == "mark-stale-nodes-ephemeral") {
    const std::string which = text("node");
    if (which.empty()) return reply(1, "Please specify a machine or node UUID or hostname");
    return staleNodesReply(target.staleNodes(which, command == "remove-stale-node"));
  }
  if (command == "ping") {
    return reply(0, "pong");
  }
  return reply(1, "unknown command '" + command + "'");
}

}  // namespace aclkd::daemon
