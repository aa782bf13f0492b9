#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aclk/aclk_state_view.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_server.h"

namespace aclkd::web {
struct WebCounters;  // web/web_server.h
}
namespace aclkd::store {
struct StoreStats;  // store/state_store.h
}

namespace aclkd::daemon {

struct SurfaceSnapshot;  // daemon/surface_snapshot.h

enum class StatisticType { kCounter, kGauge };

// One statistic: one sample of /metrics (one of a family's when `labels` is set), and its key
// under `counters` in `aclk-state json` (so in /api/v1/aclk and the live channel `aclk/status`,
// which render the same state) when it has one. Every statistic the gateway shows is declared
// once, in gatewayStatistics(), with where its value is read: at most one reader is set; none
// for a link counter (the link fills it into the state under `stateKey`: aclk::LinkState::fill).
// docs/counters.md says how to add one.
struct Statistic {
  // The members have initialisers so that a declaration names only what it has.
  std::string_view metric = {};  // the Prometheus family; "" for an `aclk-state` counter only
  std::string_view labels = {};  // this sample's, in a family of several; "" for a family of one
  StatisticType type = StatisticType::kCounter;
  std::string_view help = {};      // the family's HELP: on its first sample only
  std::string_view stateKey = {};  // "" for a /metrics figure only
  // The parts' counters (readParts).
  std::atomic<uint64_t> stream_bridge::BridgeCounters::*fromBridge = nullptr;
  std::atomic<uint64_t> web::WebCounters::*fromWeb = nullptr;
  uint64_t (stream_bridge::NodeRegistry::*fromRegistry)() const = nullptr;
  uint64_t (*fromStore)(const store::StoreStats&) = nullptr;
  // A figure of the snapshot's views (the link state, the node and stream lists).
  double (*fromSurface)(const SurfaceSnapshot&) = nullptr;
  // A per-stream family: one sample per connected stream, labelled machine_guid and hostname.
  uint64_t stream_bridge::StreamView::*perStream = nullptr;
};

// Every statistic, in /metrics order.
std::span<const Statistic> gatewayStatistics();

// Where a statistic's value is read (docs/counters.md's "from" column).
enum class StatisticSource { kLink, kBridge, kWeb, kRegistry, kStore, kSurface };
StatisticSource sourceOf(const Statistic& stat);

// The parts the gateway composes, as they are at one moment; null: not running (no bridge
// started, no store).
struct PartSources {
  const stream_bridge::BridgeCounters* bridge = nullptr;
  const web::WebCounters* web = nullptr;
  const stream_bridge::NodeRegistry* registry = nullptr;
  const store::StoreStats* store = nullptr;
};

// The parts' statistics read once, for one answer: plain values, so that the renderers and their
// tests need no running part.
struct PartReadings {
  std::vector<uint64_t> values;  // by row of gatewayStatistics(); 0 for a part not running
  bool bridgeRunning = false;
  bool registryRunning = false;
  bool storeOpen = false;
};

PartReadings readParts(const PartSources& parts);

// Adds the parts' counters (every statistic with a `stateKey` of a running part) to `view`'s
// `counters`, after the link's: part by part (bridge, registry, store), each in the table's order.
void addPartCounters(const PartReadings& parts, aclk::AclkStateView* view);

// The value of row `row` of gatewayStatistics() in `s`. A statistic with a `stateKey` is read
// from the state, the link's and the parts' alike, so /metrics and `aclk-state` agree (0 for a
// key the state lacks: the cloud link is off).
double statisticValue(size_t row, const SurfaceSnapshot& s);

// docs/counters.md's table of every statistic (`aclkd --counter-docs`).
std::string renderStatisticsMarkdown();

}  // namespace aclkd::daemon
