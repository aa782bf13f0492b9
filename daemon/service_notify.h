#pragma once

#include <chrono>

namespace aclkd::daemon {

// systemd's notify protocol through libsystemd (Type=notify, WatchdogSec=). Every call is a no-op
// when the daemon does not run under systemd ($NOTIFY_SOCKET unset).
class ServiceNotify {
 public:
  ServiceNotify();
  void ready(const char* status);
  void reloading();
  void stopping();
  // Called from the main loop (every second); pings the watchdog at half its interval.
  void tick();

 private:
  std::chrono::microseconds watchdog_{0};
  std::chrono::steady_clock::time_point lastPing_;
};

}  // namespace aclkd::daemon
