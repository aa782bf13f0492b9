// libFuzzer target: the live channel protocol (web/live_channels.h), the text messages a local
// WebSocket client sends on /live, one per input line, answered with the gateway's real channel
// names and renderers (daemon/local_api.h renderChannel on an empty snapshot).
// Besides "never crash": every reply is a JSON object that echoes the command's id and holds
// either a result or an error, at most 64 subscriptions are kept, and pushes are JSON too.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/live_channels.h"
#include "daemon/surface_snapshot.h"
#include "web/live_channels.h"

using namespace aclkd;

namespace {

std::optional<std::string> channelData(const std::string& channel, web::ChannelRender,
                                       std::string* error) {
  if (channel == daemon::kHistoryChannel) return std::string("{\"points\":[]}");
  static const daemon::SurfaceSnapshot empty;
  return daemon::renderChannel(channel, empty, error);
}

void checkJson(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  web::LiveChannels live(channelData);
  std::map<std::string, std::string> current;
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    const std::string command(input.substr(0, nl));
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);

    const auto reply = nlohmann::json::parse(live.onCommand(command), nullptr, false);
    if (!reply.is_object() || !reply.contains("id") ||
        reply.contains("result") == reply.contains("error")) {
      __builtin_trap();
    }
    if (live.subscriptions().size() > 64) __builtin_trap();
    for (const auto& [channel, hash] : live.subscriptions()) {
      current[channel] = "{\"n\":" + std::to_string(command.size() + hash % 3) + "}";
    }
    for (const auto& push : live.pushChanged(current)) checkJson(push);
  }
  return 0;
}
