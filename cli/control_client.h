#pragma once

#include <functional>
#include <optional>
#include <string>

namespace aclkd::cli {

// Sends one request line to the daemon's control socket and returns its reply line. nullopt with
// `error` set when the daemon cannot be reached. `onWait`, when set, is called with the seconds
// waited so far every `waitInterval` seconds without a reply (progress for slow commands).
std::optional<std::string> sendControlRequest(const std::string& socketPath,
                                              const std::string& request, int timeoutSeconds,
                                              std::string* error,
                                              const std::function<void(int)>& onWait = {},
                                              int waitInterval = 5);

// --socket, else $ACLKD_SOCKET, else /run/aclkd/aclkd.sock.
std::string resolveSocketPath(const std::string& flag);

}  // namespace aclkd::cli
