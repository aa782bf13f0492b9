#pragma once

#include <string>

#include "common/config_table.h"

namespace aclkd::daemon {

// aclkd.conf and claim.conf of one config dir, validated against the option table.
struct DaemonConfig {
  std::string configDir;
  ConfigValues aclkd;
  ConfigValues claim;
  bool claimConfPresent = false;
};

// Reads DIR/aclkd.conf and DIR/claim.conf (either may be absent). Never touches anything else, so
// --check-config has no side effects.
DaemonConfig loadDaemonConfig(const std::string& configDir, ConfigDiagnostics& diag);

// Re-reads only claim.conf (reload-claiming-state).
ConfigValues loadClaimConf(const std::string& configDir, ConfigDiagnostics& diag);

}  // namespace aclkd::daemon
