#pragma once

#include <optional>
#include <string>

#include "aclk/alarm_source.h"

namespace aclkd::alerts {

// An alert's last transition sent, as the state store keeps it (a JSON text, opaque to the
// store), so a restarted gateway can answer a snapshot before its first poll.
std::string entryToJson(const aclk::AlarmEntry& entry);
// nullopt when `text` is not what entryToJson wrote (a damaged row is dropped, not trusted).
std::optional<aclk::AlarmEntry> entryFromJson(const std::string& text);

}  // namespace aclkd::alerts
