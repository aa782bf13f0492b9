#pragma once

#include <string>

#include "common/config_table.h"
#include "daemon/options.h"
#include "stream_bridge/stream_conf.h"

namespace aclkd::daemon {

// aclkd.conf and claim.conf of one config dir, validated against the option table.
struct DaemonConfig {
  std::string configDir;
  ConfigValues aclkd;  // as read, with each value's file:line (messages, reload diffs)
  ConfigValues claim;
  Options options;     // the same values, typed: what the code reads
  bool claimConfPresent = false;
  stream_bridge::StreamConf stream;  // DIR/stream.conf; empty (every key refused) when absent
};

// Reads DIR/aclkd.conf, DIR/claim.conf and DIR/stream.conf (any may be absent). Never touches anything else, so
// --check-config has no side effects.
DaemonConfig loadDaemonConfig(const std::string& configDir, ConfigDiagnostics& diag);

// Re-reads only claim.conf (reload-claiming-state).
ConfigValues loadClaimConf(const std::string& configDir, ConfigDiagnostics& diag);

}  // namespace aclkd::daemon
