#pragma once

// The registry's per-host tables, shared by node_registry.cc (the stream's events) and
// node_registry_store.cc (what the state store keeps of them). Internal to stream_bridge/.

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stream_bridge/function_table.h"
#include "stream_bridge/node_registry.h"

namespace aclkd::stream_bridge::registry {

// The per-host tables hold 32-bit ids instead of views and pointers. A fleet repeats the same
// charts on every node, so what is shared (names, chart definitions, dimension and label sets)
// lives once per registry in the pools below and a host keeps only its ids and its own state
// (times, flags): 28 bytes a chart and 32 a context, against 64 and 72 with views and pointers
// (docs/benchmarks.md, "Memory").
using TextId = uint32_t;
inline constexpr uint32_t kNone = UINT32_MAX;

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

// Every text a stream defines (chart ids, names, titles, label names and values), interned once
// with a 32-bit id. The strings' addresses are stable (map nodes): the views handed out stay
// valid as long as the registry.
class TextTable {
 public:
  TextId intern(std::string_view text) {
    auto it = ids_.find(text);
    if (it != ids_.end()) return it->second;
    const auto id = static_cast<TextId>(texts_.size());
    it = ids_.emplace(std::string(text), id).first;
    texts_.push_back(&it->first);
    return id;
  }
  // The id of a text already interned, else kNone (a look-up adds nothing).
  TextId find(std::string_view text) const {
    auto it = ids_.find(text);
    return it == ids_.end() ? kNone : it->second;
  }
  const std::string& text(TextId id) const { return *texts_[id]; }

 private:
  // Transparent: a string already interned is found without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, TextId, Hash, std::equal_to<>> ids_;
  std::vector<const std::string*> texts_;
};

// Values shared by every host that has them, each with a 32-bit id (stable addresses, as above).
template <typename T, typename Index>
class IdPool {
 public:
  uint32_t id(T value) {
    auto [it, added] = index_.try_emplace(std::move(value), static_cast<uint32_t>(byId_.size()));
    if (added) byId_.push_back(&it->first);
    return it->second;
  }
  const T& operator[](uint32_t id) const { return *byId_[id]; }

 private:
  Index index_;
  std::vector<const T*> byId_;
};

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

// One chart of a host: its id and shared parts by id, its own times and flags.
struct Chart {
  TextId id = kNone;      // the chart id, the table's key
  uint32_t shape = kNone;  // Pools::shapes
  uint32_t dims = 0;       // Pools::dims; 0 is the empty set
  uint32_t labels = 0;     // Pools::labels; 0 is the empty set
  uint32_t first = 0;      // epoch s; 0 = nothing seen yet
  uint32_t last = 0;
  uint32_t definedAt : 31 = 0;  // order of definition, for "the chart defined last"
  uint32_t relayed : 1 = 1;     // matches `send charts matching`
};
static_assert(sizeof(Chart) == 28, "a host holds one per chart: keep it small");

// One context of a host. Its charts: nearly always one (a 1.37 child has 324 charts in 312
// contexts), kept here; the others of a context that has several are in Node::moreCharts, so a
// context needs no list of its own.
struct Context {
  TextId id = kNone;       // the context id, the table's key
  uint32_t latest = kNone;  // Pools::shapes: title, units, family and chart type come from it
  TextId chart = kNone;     // its first chart
  uint32_t priority = 0;    // Netdata's priorities are ints; larger ones are kept as the limit
  uint32_t first = 0;
  uint32_t last = 0;
  uint32_t version = 0;
  bool deleted = false;
  bool dirty = true;     // changed since last handed to the link
  bool unsaved = false;  // changed since last handed to the state store
  bool defined() const { return latest != kNone; }
};
static_assert(sizeof(Context) == 32, "a host holds one per context: keep it small");

// A sorted vector of entries that carry their key as a TextId, in the order of the keys' texts
// (the order the link and the store have always seen): a look-up by text needs no interning,
// and the per-host tables are read far more often than they grow.
template <typename V>
class FlatMap {
 public:
  explicit FlatMap(const TextTable& texts) : texts_(&texts) {}
  V* find(std::string_view key) {
    auto it = lowerBound(key);
    return it != items_.end() && texts_->text(it->id) == key ? &*it : nullptr;
  }
  V* find(TextId id) { return find(std::string_view(texts_->text(id))); }
  V& get(TextId id) {
    const std::string_view key = texts_->text(id);
    auto it = lowerBound(key);
    if (it == items_.end() || it->id != id) {
      if (items_.size() == items_.capacity()) {
        // Grown by an eighth rather than doubled: a host's tables are filled once, by its
        // definition burst, and then kept for as long as the host is known (doubling left up
        // to half of each table unused).
        const auto at = it - items_.begin();
        items_.reserve(items_.size() + items_.size() / 8 + 4);
        it = items_.begin() + at;
      }
      V v;
      v.id = id;
      it = items_.insert(it, v);
    }
    return *it;
  }
  size_t size() const { return items_.size(); }
  void reserve(size_t n) { items_.reserve(n); }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  typename std::vector<V>::iterator lowerBound(std::string_view key) {
    return std::lower_bound(items_.begin(), items_.end(), key,
                            [this](const V& e, std::string_view k) {
                              return std::string_view(texts_->text(e.id)) < k;
                            });
  }
  const TextTable* texts_;
  std::vector<V> items_;
};

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
  std::string_view text(TextId id) const { return texts.text(id); }
  const ChartShape& shapeOf(const Chart& c) const { return shapes[c.shape]; }
  const ChartShape& shapeOf(const Context& c) const { return shapes[c.latest]; }
};

// The context as the cloud gets it (the link's batches) and as the store keeps it. Needs
// `latest`.
ContextRecord contextRecord(const NodeRegistry::Pools& pools, const Context& c);

struct NodeRegistry::Node {
  explicit Node(const TextTable& texts) : charts(texts), contexts(texts) {}
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
  FlatMap<Chart> charts;      // by chart id
  FlatMap<Context> contexts;  // by context id
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
  std::vector<TextId> unsavedContexts;  // for the state store
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

  // The charts of a context: `c.chart`, then its entries in moreCharts.
  template <typename F>
  void forEachChart(const Context& c, F&& f) const {
    if (c.chart == kNone) return;
    f(c.chart);
    auto it = std::lower_bound(moreCharts.begin(), moreCharts.end(), std::pair{c.id, TextId{0}});
    for (; it != moreCharts.end() && it->first == c.id; ++it) f(it->second);
  }
  void addChart(Context& c, TextId chart) {
    if (c.chart == kNone) {
      c.chart = chart;
      return;
    }
    const std::pair entry{c.id, chart};
    moreCharts.insert(std::lower_bound(moreCharts.begin(), moreCharts.end(), entry), entry);
  }
  void removeChart(Context& c, TextId chart) {
    auto it = std::lower_bound(moreCharts.begin(), moreCharts.end(), std::pair{c.id, TextId{0}});
    const bool more = it != moreCharts.end() && it->first == c.id;
    if (c.chart == chart) {
      // The next one, if any, takes its place.
      c.chart = more ? it->second : kNone;
      if (more) moreCharts.erase(it);
      return;
    }
    for (; it != moreCharts.end() && it->first == c.id; ++it) {
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
  if (!c.unsaved) {
    c.unsaved = true;
    node.unsavedContexts.push_back(c.id);
  }
}

}  // namespace aclkd::stream_bridge
