#include "web/web_server.h"

#include "web/web_shared.h"

namespace aclkd::web {

std::optional<std::string> ChannelCache::render(const ChannelData& data,
                                                const std::string& channel) {
  const auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(channel);
    if (it != entries_.end() && now - it->second.renderedAt < kFresh) return it->second.json;
  }
  std::string error;
  auto json = data(channel, ChannelRender::kPush, &error);
  std::lock_guard lock(mutex_);
  if (entries_.size() > 1024) {
    std::erase_if(entries_, [now](const auto& e) { return now - e.second.renderedAt >= kFresh; });
  }
  entries_[channel] = Entry{now, json};
  return json;
}

WebServer::WebServer(WebOptions options)
    : shared_(std::make_shared<Shared>(std::move(options))) {}

WebServer::~WebServer() = default;

void WebServer::serve(PortConnection connection) {
  if (connection.tls) {
    startHttpSession(shared_, std::move(*connection.tls), std::move(connection.received));
  } else if (connection.plain) {
    startHttpSession(shared_, std::move(*connection.plain), std::move(connection.received));
  }
}

const WebCounters& WebServer::counters() const { return shared_->counters; }

}  // namespace aclkd::web
