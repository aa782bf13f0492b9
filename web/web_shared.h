#pragma once

// Internal to web/: what every session of a WebServer shares.

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/log_limiter.h"
#include "web/http_request.h"
#include "web/web_server.h"

namespace aclkd::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
using error_code = boost::system::error_code;

// The live channels' JSON, rendered at most once per channel per `fresh` window however many
// clients hold the channel (every live session pushes once a second).
class ChannelCache {
 public:
  std::optional<std::string> render(const ChannelData& data, const std::string& channel);

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kFresh = std::chrono::milliseconds(500);
  struct Entry {
    Clock::time_point renderedAt;
    std::optional<std::string> json;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

struct WebServer::Shared {
  explicit Shared(WebOptions o) : options(std::move(o)) {}

  // Degraded modes of one peer: a warning per peer and reason, at most once a minute.
  void warnLimited(const std::string& peerIp, const std::string& reason, const std::string& text) {
    limiter.warn("WEB", peerIp, reason, text);
  }

  const WebOptions options;
  WebCounters counters;
  LogLimiter limiter;
  ChannelCache channels;
};

// The sessions, for the two kinds of stream the port hands over (plain and TLS).
template <class Stream>
void startHttpSession(std::shared_ptr<WebServer::Shared> shared, Stream stream,
                      std::string received);
template <class Stream>
void startLiveSession(std::shared_ptr<WebServer::Shared> shared, Stream stream,
                      BeastRequest request, ChannelData channels, std::string peer,
                      std::string peerIp);

}  // namespace aclkd::web
