#include "daemon/service_notify.h"

#include <systemd/sd-daemon.h>

#include <string>

namespace aclkd::daemon {

ServiceNotify::ServiceNotify() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_ = std::chrono::microseconds(usec);
  lastPing_ = std::chrono::steady_clock::now();
}

void ServiceNotify::ready(const char* status) {
  sd_notify(0, ("READY=1\nSTATUS=" + std::string(status)).c_str());
}

void ServiceNotify::reloading() { sd_notify(0, "RELOADING=1"); }

void ServiceNotify::stopping() { sd_notify(0, "STOPPING=1"); }

void ServiceNotify::tick() {
  if (watchdog_.count() == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - lastPing_ >= watchdog_ / 2) {
    sd_notify(0, "WATCHDOG=1");
    lastPing_ = now;
  }
}

}  // namespace aclkd::daemon
