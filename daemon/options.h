#pragma once

#include <vector>

#include "common/config_table.h"

namespace aclkd::daemon {

// Every option of aclkd.conf and claim.conf, in one declarative table.
const std::vector<OptionSpec>& optionTable();

}  // namespace aclkd::daemon
