#pragma once

#include <string>
#include <vector>

#include "daemon/surface_snapshot.h"

namespace aclkd::daemon {

// `GET /api/v3/info`: {"agents":[{mg, nd, nm, now, ai, application, cloud, nodes, …}]} with the
// `cloud` object of docs/protocol/aclk.md §11.5.
std::string renderInfoJson(const SurfaceSnapshot& s);

// `GET /healthz`: a one-line JSON naming the link state.
std::string renderHealthJson(const SurfaceSnapshot& s);

// One node / one stream as the CLI tables and the live channels show them.
std::string nodeJson(const stream_bridge::NodeView& n);
// nodeJson with the fields `extras` adds for that node.
std::string nodeJson(const stream_bridge::NodeView& n, const NodeExtras& extras);
std::string streamJson(const stream_bridge::StreamView& s);

// `aclkctl streams` / `aclkctl nodes`: JSON arrays of the above; streams by host name, then
// machine GUID, nodes in the registry's order.
std::string streamsArrayJson(std::vector<stream_bridge::StreamView> streams);
std::string nodesArrayJson(const std::vector<stream_bridge::NodeView>& nodes,
                           const NodeExtras& extras);

}  // namespace aclkd::daemon
