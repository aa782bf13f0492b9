#pragma once

// The registry's per-host tables, shared by node_registry.cc (hosts and the link's side),
// node_registry_stream.cc (the stream's events), node_registry_store.cc (what the state store
// keeps of them) and node_registry_views.cc. Internal to stream_bridge/.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stream_bridge/function_table.h"
#include "stream_bridge/host_table.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/registry_pools.h"

namespace aclkd::stream_bridge::registry {

// The per-host tables hold 32-bit ids instead of views and pointers, and a host keeps only what
// is its own. A fleet repeats the same charts on every node: a chart's id, shape, dimension set
// and label set, and a context's id, latest shape, first chart and priority are the same on
// every host of a kind. Those parts are pooled once per registry as definitions (ChartDef,
// ContextDef, each a 32-bit id in a DefPool), a host table's list of them is a set shared by
// the hosts that have the same rows (HostTable, host_table.h), and a host keeps only what
// differs between hosts: times, versions and flags, 12 bytes a chart and 16 a context (against
// 28 and 32 with every part in every host's row; docs/benchmarks.md, "Memory"). Definitions are
// never freed, as the texts and shapes they refer to; a fleet's are few (one per chart kind and
// revision).

// Times (epoch seconds, enough until 2106) and priorities (Netdata's are ints) as 32 bits: what
// a child sends past the limit is kept as the limit, and anything negative as 0 (for times:
// "nothing seen").
inline uint32_t saturate32(int64_t v) {
  return v <= 0 ? 0 : v >= int64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(v);
}
inline uint32_t saturate32(uint64_t v) {
  return v >= uint64_t{UINT32_MAX} ? UINT32_MAX : static_cast<uint32_t>(v);
}
// A context's next version: strictly above the last one (but at the limit) and at least `now`.
inline uint32_t nextVersion(uint32_t version, uint64_t now) {
  return std::max(version == UINT32_MAX ? version : version + 1, saturate32(now));
}
// A context's part of the version hash the cloud checks, in 64 bits as it always was.
inline uint64_t versionHashOf(uint32_t version, uint32_t first, uint32_t last) {
  return uint64_t{version} + last - first;
}

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;
using DimSet = std::vector<std::string_view>;  // sorted

// What a CHART line defines, interned across hosts: a thousand children of one kind share one
// copy of each definition instead of holding ten views each.
struct ChartShape {
  std::string_view name;
  std::string_view title;
  std::string_view units;
  std::string_view family;
  std::string_view context;
  std::string_view chartType;
  TextId contextId = kNone;  // `context`'s id
  int64_t priority = 0;
  bool operator==(const ChartShape&) const = default;
};

struct ChartShapeHash {
  size_t operator()(const ChartShape& s) const {
    // The views point into the interned strings, so their addresses identify them.
    size_t h = std::hash<int64_t>{}(s.priority);
    for (const auto v : {s.name, s.title, s.units, s.family, s.context, s.chartType}) {
      h = h * 1099511628211ULL ^ std::hash<const void*>{}(v.data());
    }
    return h;
  }
};

// A chart as every host that defines it alike has it (Pools::chartDefs).
struct ChartDef {
  TextId id = kNone;       // the chart id, the host table's key
  uint32_t shape = kNone;  // Pools::shapes
  uint32_t dims = 0;       // Pools::dims; 0 is the empty set
  uint32_t labels = 0;     // Pools::labels; 0 is the empty set
  bool operator==(const ChartDef&) const = default;
};

// A context as every host whose charts make it alike has it (Pools::contextDefs). Its charts:
// nearly always one (a 1.37 child has 324 charts in 312 contexts), kept here; the others of a
// context that has several are in Node::moreCharts, so a context needs no list of its own.
struct ContextDef {
  TextId id = kNone;        // the context id, the host table's key
  uint32_t latest = kNone;  // Pools::shapes: title, units, family and chart type come from it
  TextId chart = kNone;     // its first chart
  uint32_t priority = 0;    // Netdata's priorities are ints; larger ones are kept as the limit
  bool operator==(const ContextDef&) const = default;
};

// One chart of a host: its own times and flags (its definition is in its table's row set).
struct Chart {
  uint32_t first = 0;  // epoch s; 0 = nothing seen yet
  uint32_t last = 0;
  uint32_t definedAt : 31 = 0;  // order of definition, for "the chart defined last"
  uint32_t relayed : 1 = 1;     // matches `send charts matching`
};
static_assert(sizeof(Chart) == 12, "a host holds one per chart: keep it small");

// One context of a host: its own times, version and flags.
struct Context {
  uint32_t first = 0;
  uint32_t last = 0;
  uint32_t version = 0;
  bool hasShape = false;  // its definition's `latest` is set: every walk of the table asks
  bool deleted = false;
  bool dirty = true;  // changed since last handed to the link
  bool defined() const { return hasShape; }
};
static_assert(sizeof(Context) == 16, "a host holds one per context: keep it small");

}  // namespace aclkd::stream_bridge::registry

namespace aclkd::stream_bridge {

using namespace registry;

struct NodeRegistry::Pools {
  Pools() {
    dims.id(DimSet{});     // id 0: no dimensions
    labels.id(Labels{});   // id 0: no labels
  }
  TextTable texts;
  IdPool<ChartShape, std::unordered_map<ChartShape, uint32_t, ChartShapeHash>> shapes;
  IdPool<DimSet, std::map<DimSet, uint32_t>> dims;
  IdPool<Labels, std::map<Labels, uint32_t>> labels;
  DefPool<ChartDef> chartDefs;
  DefPool<ContextDef> contextDefs;
  SetPool chartSets;    // the hosts' chart tables' rows
  SetPool contextSets;  // ... and context tables'
  std::string_view text(TextId id) const { return texts.text(id); }
  const ChartShape& shapeOf(const ChartDef& d) const { return shapes[d.shape]; }
};

// The context as the cloud gets it (the link's batches) and as the store keeps it. Needs
// `latest`.
ContextRecord contextRecord(const NodeRegistry::Pools& pools, const ContextDef& def,
                            const Context& c);

struct NodeRegistry::Node {
  explicit Node(Pools& pools)
      : charts(pools.texts, pools.chartDefs, pools.chartSets),
        contexts(pools.texts, pools.contextDefs, pools.contextSets) {}
  aclk::RelayedNode info;
  std::string os;
  std::string claimId;
  std::string peer;
  std::string apiKey;
  bool ephemeral = false;
  bool attached = false;
  std::time_t connectedSince = 0;
  std::time_t disconnectedAt = 0;
  SimplePattern sendCharts;
  uint32_t definitions = 0;
  uint32_t chartsHint = 0;    // charts at the host's last connection, from the state store
  HostTable<ChartDef, Chart> charts;        // by chart id
  HostTable<ContextDef, Context> contexts;  // by context id
  uint32_t definedContexts = 0;  // of `contexts`: defined() (NodeRegistry::definedContexts_)
  // (context, chart) for each chart of a context after its first (Context::chart), sorted: a
  // few per host.
  std::vector<std::pair<TextId, TextId>> moreCharts;
  Labels hostLabels;
  // (plugin, module) of the charts defined since the stream connected, interned, each once
  // (UpdateNodeCollectors); a few per node.
  std::vector<std::pair<std::string_view, std::string_view>> collectors;
  size_t chartLabels = 0;
  std::time_t firstSeen = 0;
  bool restored = false;  // loaded from the state store; its stream has not returned since
  // A context changed since the node's contexts were last handed to the state store, which
  // keeps them as one value per node (store/context_set.h): a flag, not a list of which.
  bool contextsUnsaved = false;
  bool infoUnsaved = false;
  bool saveQueued = false;  // in NodeRegistry::queuedSaves_
  // Node info goes to the cloud once per change and complete: from a connect until the child's
  // host labels (or its first chart, if it sends none), the link sees the node as it last saw
  // it (a new node not at all), so it is not sent once without labels and again with them.
  bool awaitingLabels = false;
  bool exposed = false;  // the link has seen this node
  bool exposedLive = false;
  uint64_t exposedInfoVersion = 0;
  // What the live stream negotiated and the functions it declared (node_registry_functions.cc).
  uint64_t streamCapabilities = 0;
  FunctionTable functions;
  bool functionsFullWarned = false;  // this stream's table overflowed, and it was said

  // The charts of a context: its definition's `chart`, then its entries in moreCharts.
  template <typename F>
  void forEachChart(const Context& c, F&& f) const {
    const ContextDef d = contexts.def(c);
    if (d.chart == kNone) return;
    f(d.chart);
    auto it = std::lower_bound(moreCharts.begin(), moreCharts.end(), std::pair{d.id, TextId{0}});
    for (; it != moreCharts.end() && it->first == d.id; ++it) f(it->second);
  }
  void addChart(Context& c, TextId chart) {
    const ContextDef d = contexts.def(c);
    if (d.chart == kNone) {
      contexts.update(c, [&](ContextDef& e) { e.chart = chart; });
      return;
    }
    const std::pair entry{d.id, chart};
    moreCharts.insert(std::lower_bound(moreCharts.begin(), moreCharts.end(), entry), entry);
  }
  void removeChart(Context& c, TextId chart) {
    const ContextDef d = contexts.def(c);
    auto it = std::lower_bound(moreCharts.begin(), moreCharts.end(), std::pair{d.id, TextId{0}});
    const bool more = it != moreCharts.end() && it->first == d.id;
    if (d.chart == chart) {
      // The next one, if any, takes its place.
      contexts.update(c, [&](ContextDef& e) { e.chart = more ? it->second : kNone; });
      if (more) moreCharts.erase(it);
      return;
    }
    for (; it != moreCharts.end() && it->first == d.id; ++it) {
      if (it->second == chart) {
        moreCharts.erase(it);
        return;
      }
    }
  }
};

// The cloud and the state store both have to hear of this context's new state.
inline void markChanged(NodeRegistry::Node& node, Context& c) {
  c.dirty = true;
  node.contextsUnsaved = true;
}

}  // namespace aclkd::stream_bridge
