#include "common/log_limiter.h"

#include <spdlog/spdlog.h>

namespace aclkd {

LogLimiter::LogLimiter(std::chrono::seconds window, size_t maxKeys)
    : window_(window), maxKeys_(maxKeys) {}

std::optional<uint64_t> LogLimiter::admit(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (now - it->second.loggedAt < window_) {
      ++it->second.suppressed;
      return std::nullopt;
    }
    const uint64_t suppressed = it->second.suppressed;
    it->second = Entry{now, 0};
    return suppressed;
  }
  if (entries_.size() >= maxKeys_) {
    for (auto e = entries_.begin(); e != entries_.end();) {
      e = now - e->second.loggedAt >= window_ ? entries_.erase(e) : std::next(e);
    }
    if (entries_.size() >= maxKeys_) entries_.clear();
  }
  entries_.emplace(key, Entry{now, 0});
  return 0;
}

void LogLimiter::warn(std::string_view part, const std::string& peer, const std::string& reason,
                      const std::string& text) {
  if (const auto suppressed = admit(peer + " " + reason)) {
    spdlog::warn("{}: {}{}", part, text, suppressedSuffix(*suppressed));
  } else {
    spdlog::debug("{}: {}", part, text);
  }
}

std::string suppressedSuffix(uint64_t suppressed) {
  if (suppressed == 0) return "";
  return " (" + std::to_string(suppressed) + " similar suppressed)";
}

}  // namespace aclkd
