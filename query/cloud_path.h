#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace aclkd::query {

// Where a cloud `cmd` request's path points (docs/protocol/aclk.md §8.1). The cloud selects a node
// by a path prefix (`/node/<node_id>/…`, `/host/<machine_guid|hostname>/…`) or, for v2/v3 queries,
// by node ids in `scope_nodes=` / `nodes=`; anything else is for the gateway itself.
struct CloudPathTarget {
  enum class Kind {
    kLocal,      // no node selected: the gateway's own API
    kNode,       // /node/<node_id>/…
    kHost,       // /host/<machine_guid|hostname|node_id>/…
    kScope,      // /api/v2|v3/…?scope_nodes=…|nodes=… naming UUIDs
    kBadNodeId,  // /node/ without a valid UUID after it (§8.2 error code 1)
  };
  Kind kind = Kind::kLocal;
  std::string selector;             // kNode/kHost: the node id, GUID or hostname
  std::vector<std::string> scopeIds;  // kScope: every UUID named in scope_nodes= / nodes=
  std::string rest;                 // the path after the prefix ("/api/…?…"), or the whole path
};

CloudPathTarget routeCloudPath(std::string_view path);

// `rest` with every UUID of `scope_nodes=` / `nodes=` found in `replace` swapped for its value
// (node ids become machine GUIDs: the agent does not know the ids the cloud gave its nodes).
std::string rewriteScopeIds(std::string_view rest,
                            const std::map<std::string, std::string>& replace);

// True for a path (query string ignored) under /api/.
bool isApiPath(std::string_view rest);

}  // namespace aclkd::query
