#include "daemon/control_request.h"

#include <nlohmann/json.hpp>

namespace aclkd::daemon {

std::optional<ControlRequest> parseControlRequest(const std::string& line) {
  const auto req = nlohmann::json::parse(line, nullptr, false);
  if (!req.is_object() || !req.contains("command") || !req["command"].is_string()) {
    return std::nullopt;
  }
  auto text = [&](const char* key) -> std::string {
    return req.contains(key) && req[key].is_string() ? req[key].get<std::string>() : "";
  };
  ControlRequest out;
  out.command = text("command");
  out.token = text("token");
  out.rooms = text("rooms");
  out.url = text("url");
  out.proxy = text("proxy");
  out.node = text("node");
  out.insecure = req.contains("insecure") && req["insecure"].is_boolean() &&
                 req["insecure"].get<bool>();
  return out;
}

}  // namespace aclkd::daemon
