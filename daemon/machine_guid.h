#pragma once

#include <optional>
#include <string>

namespace aclkd::daemon {

// The gateway's own machine GUID: read from STATE/machine_guid, created once (atomically) when
// absent or unreadable. nullopt with *error only if a new one cannot be stored.
std::optional<std::string> loadOrCreateMachineGuid(const std::string& stateDir, std::string* error);

}  // namespace aclkd::daemon
