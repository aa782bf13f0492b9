#pragma once

#include <functional>
#include <string>

#include "aclk/http_command.h"
#include "daemon/surface_snapshot.h"

namespace aclkd::daemon {

// The HTTP side of the operating surface: a route table (path → renderer), GET only. Routes that
// show state answer 503 until `ready` (the start-up claim step is over); unknown paths 404.
// `snapshot` is called once, only for a route that needs it, and as deep as the route needs
// (SurfaceDepth): the stream views only for /metrics (they are read on each stream loop's
// thread, see StreamServer::streams), the node list not for /healthz.
// The renderers: daemon/metrics.h (/metrics), daemon/surface_json.h (info, health, the CLI's
// JSON), daemon/live_channels.h (the WebSocket channels), daemon/status_page.h (the page).
aclk::LocalHttpResponse routeHttp(const std::string& method, const std::string& target,
                                  bool ready,
                                  const std::function<SurfaceSnapshot(SurfaceDepth)>& snapshot);

}  // namespace aclkd::daemon
