#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "aclk/aclk_state_view.h"
#include "daemon/statistics.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_server.h"

namespace aclkd::daemon {

// A JSON object of fields to add to a node's JSON, by machine GUID ("" or unset: none).
using NodeExtras = std::function<std::string(const std::string& machineGuid)>;

// How much of the surface one answer needs. The node list copies every node's strings and walks
// its charts and contexts under the registry's lock (~100 ms at 10,000 nodes, while the stream
// loops wait for that lock); the stream views are a hop to every stream loop. A health probe
// needs neither; /metrics needs the node counts (NodeRegistry::totals) and its per-stream
// series, which the stream loops write (StreamServer::streamText).
enum class SurfaceDepth { kHealth, kNodes, kNodesAndStreams, kCountsAndStreams };

// Everything the operating surface renders, gathered once per request by the gateway: plain
// values, so that every renderer is a pure function of it.
struct SurfaceSnapshot {
  aclk::AclkStateView state;  // its `counters`: the link's, then the parts' (addPartCounters)
  std::vector<stream_bridge::NodeView> nodes;  // only at SurfaceDepth::kNodes…
  stream_bridge::NodeRegistry::Totals nodeTotals;  // all but SurfaceDepth::kHealth
  // Fields other parts add to a node's JSON (the alert relay's `alerts…`). Asked only where a
  // node's JSON is rendered (the live channels), not for every snapshot (/metrics, /healthz).
  NodeExtras nodeExtras;
  std::vector<stream_bridge::StreamView> streams;  // only at SurfaceDepth::kNodesAndStreams
  // /metrics' per-stream series, written on the stream loops (writeStreamSeries): only at
  // SurfaceDepth::kCountsAndStreams.
  stream_bridge::StreamServer::StreamTextParts streamSeries;
  // Streams connected now: exact even when `streams` lacks a busy loop's (stream-views-late).
  uint64_t streamsConnected = 0;
  PartReadings parts;  // the parts' statistics (readParts), those `state` lacks among them
  std::string machineGuid;
  std::string hostname;
  std::string version;
  std::string configuredUrl;
  std::time_t started = 0;
  std::time_t now = 0;
  std::string queryMetrics;  // the query proxy's families, Prometheus text
  std::string alertMetrics;  // the alert relay's families, Prometheus text
};

}  // namespace aclkd::daemon
