#pragma once

#include <string>

namespace aclkd::cli {

// Renders the `aclk-state json` object as Netdata's text form (docs/protocol/aclk.md §11.3), times
// in local time. Returns an error line when the JSON is not such an object.
std::string renderAclkStateText(const std::string& stateJson);

}  // namespace aclkd::cli
