#include "web/live_channels.h"

#include <nlohmann/json.hpp>

namespace aclkd::web {

std::string LiveChannels::onCommand(const std::string& text) {
  const auto cmd = nlohmann::json::parse(text, nullptr, false);
  nlohmann::json reply;
  reply["id"] = cmd.is_object() && cmd.contains("id") ? cmd["id"] : nlohmann::json(nullptr);
  auto fail = [&](int code, const std::string& message) {
    reply["error"] = {{"code", code}, {"message", message}};
    return reply.dump();
  };
  if (!cmd.is_object()) return fail(400, "the command is not a JSON object");
  const bool sub = cmd.contains("subscribe");
  const bool unsub = cmd.contains("unsubscribe");
  if (sub == unsub) return fail(400, "expected exactly one of 'subscribe' or 'unsubscribe'");
  const auto& body = cmd[sub ? "subscribe" : "unsubscribe"];
  if (!body.is_object() || !body.contains("channel") || !body["channel"].is_string()) {
    return fail(400, "field 'channel' is missing or not a string");
  }
  const auto channel = body["channel"].get<std::string>();
  if (unsub) {
    subscriptions_.erase(channel);
    reply["result"] = nlohmann::json::object();
    return reply.dump();
  }
  std::string error;
  const auto data = data_(channel, ChannelRender::kSubscribe, &error);
  if (!data) return fail(400, error);
  if (subscriptions_.size() >= 64 && !subscriptions_.count(channel)) {
    return fail(429, "at most 64 subscriptions per connection");
  }
  subscriptions_[channel] = std::hash<std::string>{}(*data);
  return "{\"id\":" + reply["id"].dump() + ",\"result\":{\"data\":" + *data + "}}";
}

std::vector<std::string> LiveChannels::pushChanged(
    const std::map<std::string, std::string>& current) {
  std::vector<std::string> out;
  for (auto& [channel, lastHash] : subscriptions_) {
    const auto it = current.find(channel);
    if (it == current.end()) continue;
    const size_t h = std::hash<std::string>{}(it->second);
    if (h == lastHash) continue;
    lastHash = h;
    out.push_back("{\"push\":{\"channel\":" + nlohmann::json(channel).dump() +
                  ",\"data\":" + it->second + "}}");
  }
  return out;
}

}  // namespace aclkd::web
