#pragma once

#include <optional>
#include <string>

namespace aclkd::daemon {

// One request line on the control socket (aclkctl, or anyone who may open the socket):
// {"command": "...", ...} with the command's optional string fields and `insecure`. Read apart
// from the Gateway that answers it, so that the reader can be tested and fuzzed without a
// running gateway (tests/fuzz/control_request_fuzz.cc).
struct ControlRequest {
  std::string command;
  // `claim`: token, rooms, url, proxy, insecure; the stale-node commands: node. A field that is
  // absent or not a string is empty.
  std::string token;
  std::string rooms;
  std::string url;
  std::string proxy;
  std::string node;
  bool insecure = false;
};

// nullopt when the line is not a JSON object with a string `command`.
std::optional<ControlRequest> parseControlRequest(const std::string& line);

}  // namespace aclkd::daemon
