// libFuzzer target: the agents' alert API answers (alerts/alert_log_parser.h), untrusted JSON
// from every relayed child. Any input must parse or fail with a message, never crash; parsed
// transitions come oldest first and name an alert.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "alerts/alert_log_parser.h"

using namespace aclkd::alerts;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  std::vector<aclkd::aclk::AlarmEntry> entries;
  for (const bool v2 : {false, true}) {
    error.clear();
    const bool ok = v2 ? parseV2Transitions(input, &entries, &error)
                       : parseV1AlarmLog(input, &entries, &error);
    if (!ok) {
      if (error.empty()) __builtin_trap();
      continue;
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].name.empty() || entries[i].chart.empty() || entries[i].cursor == 0) {
        __builtin_trap();
      }
      if (i > 0 && entries[i - 1].cursor > entries[i].cursor) __builtin_trap();
    }
  }
  std::vector<AgentAlarm> alarms;
  error.clear();
  if (!parseAlarmsAll(input, &alarms, &error) && error.empty()) __builtin_trap();
  for (const auto& a : alarms) {
    if (a.configHash.size() != 36 && !a.agentHash) __builtin_trap();
  }
  aclkd::aclk::AlarmConfig config;
  error.clear();
  if (!parseV2AlertConfig(input, &config, &error) && error.empty()) __builtin_trap();
  return 0;
}
