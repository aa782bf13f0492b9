#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aclk/alarm_source.h"

namespace aclkd::alerts {

// Readers of the agents' alert API answers (docs/protocol/alerts.md §1-§3). The answers are
// untrusted: anything that is not the documented shape is an error text, never a crash; a field
// of the wrong type reads as absent. Entries come back oldest first (by their log cursor).

// 1.37 `/api/v1/alarm_log?after=<unique_id>`: an array, newest first.
bool parseV1AlarmLog(std::string_view body, std::vector<aclk::AlarmEntry>* out,
                     std::string* error);

// v2 `/api/v2/alert_transitions`: {"transitions": [...]} (each with gi, new{}, old{}, …).
bool parseV2Transitions(std::string_view body, std::vector<aclk::AlarmEntry>* out,
                        std::string* error);

// One alert of `/api/v1/alarms?all` (1.37 and v2): its definition and configuration hash.
struct AgentAlarm {
  std::string key;         // "<chart>.<name>"
  std::string configHash;  // the agent's, or derived (1.37 gives zeros)
  bool agentHash = false;  // the agent gave a real config_hash_id
  aclk::AlarmConfig config;
};
bool parseAlarmsAll(std::string_view body, std::vector<AgentAlarm>* out, std::string* error);

// v2 `/api/v2/alert_config?config=<hash>`.
bool parseV2AlertConfig(std::string_view body, aclk::AlarmConfig* out, std::string* error);

// Netdata's status names (UPPER case) as docs/protocol/alerts.md §4's AlarmStatus.
aclk::AlarmStatus statusFromName(std::string_view name);

// Netdata 1.37 reports every config_hash_id as zeros. The gateway derives a stable one (docs/
// protocol/alerts.md §5): a name-based (SHA-256) UUID of the fields that the log entries and
// `/api/v1/alarms` both carry and that identify the definition: name, source (line@file), units,
// info, class, component, type, exec and recipient. The same definition gives the same hash on
// every poll and after a gateway restart; a changed expression on the same line does not
// change it (those fields are not in the log).
std::string derivedConfigHash(const std::vector<std::string_view>& fields);
bool isZeroHash(std::string_view hash);

}  // namespace aclkd::alerts
