#pragma once

#include "common/config_table.h"

namespace aclkd::daemon {

struct DaemonConfig;

// The checks of aclkd.conf that one row alone cannot make: the listening address, TLS on the
// stream port (certificate and key set, readable, parseable and matching) and the CA file the
// link verifies the cloud with. Errors name the option's file:line. loadDaemonConfig runs them,
// so --check-config, the start and a reload refuse the same configurations.
void checkDaemonConfig(const DaemonConfig& config, ConfigDiagnostics& diag);

}  // namespace aclkd::daemon
