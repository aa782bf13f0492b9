#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config_table.h"

namespace aclkd::daemon {

// What a reload of aclkd.conf changes. Only `[global] log level` applies live; every other option
// takes effect after a restart.
struct ReloadDiff {
  std::vector<std::string> applied;  // "[section] name", in the option table's order
  std::vector<std::string> restart;
  std::optional<std::string> logLevel;  // the new level, when it changed
};

// Compares aclkd.conf's options, as read now (`fresh`), with the running ones: the log level in
// force (`runningLogLevel`) and, for the rest, the values the gateway started with (`started`):
// until a restart, every reload that finds a restart-only option changed says so again.
ReloadDiff diffReload(const ConfigValues& started, const std::string& runningLogLevel,
                      const ConfigValues& fresh);

// The reply of `aclkctl reload`: "reloaded", then ": applied a, b" and "; needs a restart: c, d".
std::string reloadSummary(const std::vector<std::string>& applied,
                          const std::vector<std::string>& restart);

}  // namespace aclkd::daemon
