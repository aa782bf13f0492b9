#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace aclkd {

// Rate limit for warnings about a degraded mode, per key (a peer and a reason): the first event
// of a key in each window is logged, later ones in the window are only counted, and the next
// logged line says how many were suppressed. So a flood from one peer costs one line a minute,
// while a new peer or a new reason is never hidden behind an old one (unlike "log once").
// Thread-safe. At most `maxKeys` keys are remembered; past that, expired keys are forgotten
// first, then the whole table (a flood of distinct peers then logs one line per key again).
class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogLimiter(std::chrono::seconds window = std::chrono::seconds(60),
                      size_t maxKeys = 4096);

  // nullopt: suppress this event. Otherwise log it; the value is how many events of this key
  // were suppressed since the last logged one.
  std::optional<uint64_t> admit(const std::string& key, Clock::time_point now = Clock::now());
  // A degraded mode of one peer: "<part>: <text>" at warning, at most once a window per peer and
  // reason (with how many were suppressed meanwhile), else at debug.
  void warn(std::string_view part, const std::string& peer, const std::string& reason,
            const std::string& text);

 private:
  struct Entry {
    Clock::time_point loggedAt;
    uint64_t suppressed = 0;
  };
  std::chrono::seconds window_;
  size_t maxKeys_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// " (N similar suppressed)" for N > 0, else "".
std::string suppressedSuffix(uint64_t suppressed);

}  // namespace aclkd
