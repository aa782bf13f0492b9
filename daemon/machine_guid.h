#pragma once

#include <string>

namespace aclkd::daemon {

// The gateway's own machine GUID: read from STATE/machine_guid, created once (atomically) when
// absent or unreadable. Returns an empty string and sets `error` only if it cannot be stored.
std::string loadOrCreateMachineGuid(const std::string& stateDir, std::string* error);

}  // namespace aclkd::daemon
