#include "daemon/control_commands.h"

#include <nlohmann/json.hpp>

#include "daemon/control_request.h"

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
  const auto req = parseControlRequest(requestLine);
  if (!req) return reply(1, "malformed request: expected {\"command\": \"...\"}");
  const std::string& command = req->command;
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
    ClaimRequest request{req->token, req->rooms, req->url, req->proxy, req->insecure};
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
    const std::string& which = req->node;
    if (which.empty()) return reply(1, "Please specify a machine or node UUID or hostname");
    return staleNodesReply(target.staleNodes(which, command == "remove-stale-node"));
  }
  if (command == "ping") {
    return reply(0, "pong");
  }
  return reply(1, "unknown command '" + command + "'");
}

}  // namespace aclkd::daemon
