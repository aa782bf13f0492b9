#pragma once

#include <string>

#include "daemon/surface_snapshot.h"

namespace aclkd::daemon {

// `GET /metrics`: Prometheus text exposition format 0.0.4, every statistic of
// gatewayStatistics() in its order, then the query proxy's and the alert relay's families. Every
// family has HELP and TYPE; counters end in _total.
std::string renderMetrics(const SurfaceSnapshot& s);

}  // namespace aclkd::daemon
