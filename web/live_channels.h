#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aclkd::web {

// What a channel is rendered for. Most channels are the same JSON both ways; a history answers a
// subscribe with all it keeps and pushes only its newest points (the hour once, then a second at
// a time, rather than the hour every second).
enum class ChannelRender { kSubscribe, kPush };

// A channel's current JSON, or nullopt with `error` saying what is wrong with its name.
using ChannelData = std::function<std::optional<std::string>(
    const std::string& channel, ChannelRender purpose, std::string* error)>;

// The live channel protocol of one WebSocket client, without the socket: text messages in,
// text messages out.
//   {"id":1,"subscribe":{"channel":"aclk/status"}}   → {"id":1,"result":{"data":…}}
//   {"id":2,"unsubscribe":{"channel":"aclk/status"}} → {"id":2,"result":{}}
//   errors                                           → {"id":…,"error":{"code":400,"message":…}}
//   a changed channel                                → {"push":{"channel":…,"data":…}}
// At most 64 subscriptions per client (429 beyond).
class LiveChannels {
 public:
  explicit LiveChannels(ChannelData data) : data_(std::move(data)) {}

  // The reply to one command.
  std::string onCommand(const std::string& text);

  // Pushes for the subscribed channels whose JSON in `current` changed since the last one sent.
  std::vector<std::string> pushChanged(const std::map<std::string, std::string>& current);

  // channel → hash of the JSON last sent
  const std::map<std::string, size_t>& subscriptions() const { return subscriptions_; }

 private:
  ChannelData data_;
  std::map<std::string, size_t> subscriptions_;
};

}  // namespace aclkd::web
