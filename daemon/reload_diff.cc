#include "daemon/reload_diff.h"

#include "daemon/options.h"

namespace aclkd::daemon {

ReloadDiff diffReload(const ConfigValues& started, const std::string& runningLogLevel,
                      const ConfigValues& fresh) {
  ReloadDiff diff;
  for (const auto& spec : optionTable()) {
    if (spec.file != "aclkd.conf") continue;
    const bool live = spec.section == "global" && spec.name == "log level";
    const auto before = live ? runningLogLevel : started.getString(spec.section, spec.name);
    const auto after = fresh.getString(spec.section, spec.name);
    if (before == after) continue;
    const std::string name = "[" + std::string(spec.section) + "] " + std::string(spec.name);
    if (live) {
      diff.logLevel = after;
      diff.applied.push_back(name);
    } else {
      diff.restart.push_back(name);
    }
  }
  return diff;
}

std::string reloadSummary(const std::vector<std::string>& applied,
                          const std::vector<std::string>& restart) {
  std::string out = "reloaded";
  for (size_t i = 0; i < applied.size(); ++i) out += (i ? ", " : ": applied ") + applied[i];
  for (size_t i = 0; i < restart.size(); ++i) {
    out += (i ? ", " : "; needs a restart: ") + restart[i];
  }
  return out;
}

}  // namespace aclkd::daemon
