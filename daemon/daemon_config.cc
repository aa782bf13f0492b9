#include "daemon/daemon_config.h"

#include "daemon/config_checks.h"
#include "daemon/options.h"

namespace aclkd::daemon {

DaemonConfig loadDaemonConfig(const std::string& configDir, ConfigDiagnostics& diag) {
  DaemonConfig cfg;
  cfg.configDir = configDir;
  cfg.aclkd = loadConfig(optionTable(), "aclkd.conf", readIniFile(configDir + "/aclkd.conf"), diag);
  const auto claimDoc = readIniFile(configDir + "/claim.conf");
  cfg.claimConfPresent = claimDoc.has_value();
  cfg.claim = loadConfig(optionTable(), "claim.conf", claimDoc, diag);
  if (auto stream = stream_bridge::StreamConf::load(configDir + "/stream.conf", &diag.warnings,
                                                    &diag.errors)) {
    cfg.stream = std::move(*stream);
  }
  cfg.options = typedOptions(cfg.aclkd, cfg.claim);
  checkDaemonConfig(cfg, diag);
  return cfg;
}

ConfigValues loadClaimConf(const std::string& configDir, ConfigDiagnostics& diag) {
  return loadConfig(optionTable(), "claim.conf", readIniFile(configDir + "/claim.conf"), diag);
}

}  // namespace aclkd::daemon
