#include "daemon/live_channels.h"

#include <nlohmann/json.hpp>

#include <cctype>

#include "common/fail_with.h"
#include "common/untrusted_text.h"
#include "daemon/surface_json.h"

namespace aclkd::daemon {
namespace {

using nlohmann::ordered_json;

bool checkChannelName(const std::string& channel, std::string* error) {
  constexpr size_t kMaxChannel = 160;
  if (channel.empty()) return failWith(error, "channel name is empty");
  if (channel.size() > kMaxChannel) {
    return failWith(
        error, "channel name has " + std::to_string(channel.size()) + " characters; at most 160");
  }
  for (const char c : channel) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                    c == '=' || c == '.' || c == '/';
    // Escaped: one byte of a multi-byte character is not UTF-8, and the message goes into JSON.
    if (!ok) {
      return failWith(error, "channel name has the character '" +
                                 escapeUntrusted(std::string_view(&c, 1)) +
                                 "'; allowed are A-Z a-z 0-9 _ - = . and /");
    }
  }
  if (channel.front() == '/' || channel.back() == '/' ||
      channel.find("//") != std::string::npos) {
    return failWith(error, "channel name has an empty segment; expected scope/namespace[/path]");
  }
  if (channel.find('/') == std::string::npos) {
    return failWith(error, "channel name has no namespace; expected scope/namespace[/path]");
  }
  return true;
}

}  // namespace

std::optional<std::string> renderChannel(const std::string& channel, const SurfaceSnapshot& s,
                                         std::string* error) {
  if (!checkChannelName(channel, error)) {
    return std::nullopt;
  }
  const auto slash = channel.find('/');
  const std::string scope = channel.substr(0, slash);
  const std::string rest = channel.substr(slash + 1);
  if (scope == "aclk") {
    if (rest != "status") {
      *error = "unknown channel '" + channel + "'; the aclk scope has aclk/status and " +
               std::string(kHistoryChannel);
      return std::nullopt;
    }
    ordered_json j;
    j["state"] = ordered_json::parse(aclk::renderAclkStateJson(s.state));
    j["nodes"] = ordered_json::array();
    for (const auto& n : s.nodes) {
      j["nodes"].push_back(ordered_json::parse(nodeJson(n, s.nodeExtras)));
    }
    j["streams"] = ordered_json::array();
    for (const auto& st : s.streams) j["streams"].push_back(ordered_json::parse(streamJson(st)));
    return j.dump();
  }
  if (scope == "nodes" || scope == "streams") {
    if (rest.find('/') != std::string::npos || rest.size() != 36) {
      *error = "channel '" + channel + "': expected " + scope + "/<machine_guid>";
      return std::nullopt;
    }
    if (scope == "nodes") {
      for (const auto& n : s.nodes) {
        if (n.machineGuid == rest) return nodeJson(n, s.nodeExtras);
      }
      *error = "no node with machine GUID " + rest;
      return std::nullopt;
    }
    for (const auto& st : s.streams) {
      if (st.machineGuid == rest) return streamJson(st);
    }
    return std::string(R"({"connected":false})");
  }
  *error = "unknown scope '" + scope + "'; the scopes are aclk, nodes and streams";
  return std::nullopt;
}

}  // namespace aclkd::daemon
