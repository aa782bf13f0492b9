#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "aclk/aclk_state.h"
#include "aclk/http_command.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_server.h"

namespace aclkd::daemon {

// Everything the operating surface renders, gathered once per request by the gateway.
// A JSON object of fields to add to a node's JSON, by machine GUID ("" or unset: none).
using NodeExtras = std::function<std::string(const std::string& machineGuid)>;

struct SurfaceSnapshot {
  aclk::AclkStateView state;
  std::vector<stream_bridge::NodeView> nodes;
  // Fields other parts add to a node's JSON (the alert relay's `alerts…`). Asked only where a
  // node's JSON is rendered (the live channels), not for every snapshot (/metrics, /healthz).
  NodeExtras nodeExtras;
  std::vector<stream_bridge::StreamView> streams;  // empty unless asked for (routeHttp)
  uint64_t streamsAccepted = 0;
  uint64_t streamsRefused = 0;
  uint64_t streamsDropped = 0;
  uint64_t streamsOverLimit = 0;
  uint64_t streamAcceptFailures = 0;  // accept() errors on the stream port (out of descriptors)
  uint64_t streamHandshakesLate = 0;  // handshakes unread at their timeout (busy loop): extended
  // Streams connected now: exact even when `streams` lacks a busy loop's (streamViewsLate).
  uint64_t streamsConnected = 0;
  uint64_t streamViewsLate = 0;
  uint64_t functionResultsStray = 0;         // results for no call in flight
  uint64_t functionDeclarationsRefused = 0;  // past a node's table limit
  // Monotonic over every stream since start, disconnected ones included.
  uint64_t streamBytesTotal = 0;
  uint64_t samplesTotal = 0;
  uint64_t malformedLinesTotal = 0;
  // The web side of the stream port (web::WebCounters).
  uint64_t webRequests = 0;
  uint64_t webBadRequests = 0;
  uint64_t webTimeouts = 0;
  uint64_t liveProtocolErrors = 0;
  uint64_t liveNoPong = 0;
  uint64_t liveUnread = 0;
  uint64_t liveClients = 0;
  std::string machineGuid;
  std::string hostname;
  std::string version;
  std::string configuredUrl;
  std::time_t started = 0;
  std::time_t now = 0;
  std::string queryMetrics;  // the query proxy's families, Prometheus text
  std::string alertMetrics;  // the alert relay's families, Prometheus text
};

// `GET /api/v3/info`: {"agents":[{mg, nd, nm, now, ai, application, cloud, nodes, …}]} with the
// `cloud` object of docs/protocol/aclk.md §11.5.
std::string renderInfoJson(const SurfaceSnapshot& s);

// `GET /healthz`: a one-line JSON naming the link state.
std::string renderHealthJson(const SurfaceSnapshot& s);

// `GET /metrics`: Prometheus text exposition format 0.0.4. Every family has HELP and TYPE;
// counters end in _total.
std::string renderMetrics(const SurfaceSnapshot& s);

// The HTTP side of the operating surface: a route table (path → renderer), GET only. Routes that
// show state answer 503 until `ready` (the start-up claim step is over); unknown paths 404.
// `snapshot` is called once, only for a route that needs it, and with `withStreams` only for one
// that shows every stream (/metrics): the views are read on each stream loop's thread (up to 2 s
// behind a busy loop, see StreamServer::streams), which a health probe must not wait for.
aclk::LocalHttpResponse routeHttp(const std::string& method, const std::string& target,
                                  bool ready,
                                  const std::function<SurfaceSnapshot(bool withStreams)>& snapshot);

// One node / one stream as the CLI tables and the live channels show them.
std::string nodeJson(const stream_bridge::NodeView& n);
// nodeJson with the fields `extras` adds for that node.
std::string nodeJson(const stream_bridge::NodeView& n, const NodeExtras& extras);
std::string streamJson(const stream_bridge::StreamView& s);

// Live channels, on Grafana Live's model: `scope/namespace[/path]`, at most 160 characters of
// [A-Za-z0-9_=.-] and '/', no empty segment. Known: `aclk/status` (the link state with the node
// and stream lists: what the status page shows), `nodes/<machine_guid>`, `streams/<machine_guid>`;
// and `aclk/history`, which the gateway answers itself (kHistoryChannel below).
// The current JSON of `channel`, or nullopt with `error` saying what is wrong with the name.
std::optional<std::string> renderChannel(const std::string& channel, const SurfaceSnapshot& s,
                                         std::string* error);

// The last hour of the gateway's own figures (History::json), served by the gateway itself rather
// than renderChannel: it needs no snapshot. A subscribe gets the hour; a push the newest points,
// several rather than one so that a session whose once-a-second tick drifts past a point still
// gets it (the page keeps points by time).
inline constexpr std::string_view kHistoryChannel = "aclk/history";
inline constexpr size_t kHistoryPushPoints = 5;

}  // namespace aclkd::daemon
