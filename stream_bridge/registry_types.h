#pragma once

// The registry's per-host tables, shared by node_registry.cc (the stream's events) and
// node_registry_store.cc (what the state store keeps of them). Internal to stream_bridge/.

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
#include "stream_bridge/node_registry.h"

namespace aclkd::stream_bridge::registry {

// The per-host tables hold 32-bit ids instead of views and pointers, and a host keeps only what
// is its own. A fleet repeats the same charts on every node: a chart's id, shape, dimension set
// and label set, and a context's id, latest shape, first chart and priority are the same on
// every host of a kind. Those parts are pooled once per registry as definitions (ChartDef,
// ContextDef, each a 32-bit id in a DefPool), and a host's row holds its definition's id next to
// what differs between hosts (times, versions, flags): 16 bytes a chart and 20 a context,
// against 28 and 32 with the shared parts in every row (docs/benchmarks.md, "Memory"). A host
// that diverges (a chart only it has, another label set) simply points at another definition:
// nothing another host uses changes. Definitions are never freed, as the texts and shapes they
// refer to; a fleet's definitions are few (one per chart kind and revision).
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

// One chart of a host: its definition by id, its own times and flags.
struct Chart {
  uint32_t def = kNone;  // Pools::chartDefs
  uint32_t first = 0;    // epoch s; 0 = nothing seen yet
  uint32_t last = 0;
  uint32_t definedAt : 31 = 0;  // order of definition, for "the chart defined last"
  uint32_t relayed : 1 = 1;     // matches `send charts matching`
};
static_assert(sizeof(Chart) == 16, "a host holds one per chart: keep it small");

// One context of a host: its definition by id, its own times, version and flags.
struct Context {
  uint32_t def = kNone;  // Pools::contextDefs
  uint32_t first = 0;
  uint32_t last = 0;
  uint32_t version = 0;
  bool hasShape = false;  // its definition's `latest` is set: every walk of the table asks
  bool deleted = false;
  bool dirty = true;     // changed since last handed to the link
  bool unsaved = false;  // changed since last handed to the state store
  bool defined() const { return hasShape; }
};
static_assert(sizeof(Context) == 20, "a host holds one per context: keep it small");

// Definitions shared by every host that has them, each with a 32-bit id. Held by value in one
// array (a look-up by id is one index, as hot as the rows that point at it); a reference into
// it is therefore valid only until the next id().
template <typename Def>
class DefPool {
 public:
  static_assert(sizeof(Def) == 16, "hashed as two words");
  uint32_t id(const Def& def) {
    auto [it, added] = index_.try_emplace(def, static_cast<uint32_t>(defs_.size()));
    if (added) defs_.push_back(def);
    return it->second;
  }
  const Def& operator[](uint32_t id) const { return defs_[id]; }
  size_t size() const { return defs_.size(); }

 private:
  struct Hash {
    size_t operator()(const Def& d) const {
      uint64_t w[2];
      std::memcpy(w, &d, sizeof w);
      return std::hash<uint64_t>{}(w[0] * 0x9E3779B97F4A7C15ULL ^ w[1]);
    }
  };
  std::unordered_map<Def, uint32_t, Hash> index_;
  std::vector<Def> defs_;
};

// A host's rows, sorted by the text of their definitions' ids (the order the link and the store
// have always seen): a look-up by text needs no interning, and the per-host tables are read far
// more often than they grow. A row's definition changes through update(), never its key.
template <typename V, typename Def>
class FlatMap {
 public:
  FlatMap(const TextTable& texts, DefPool<Def>& defs) : texts_(&texts), defs_(&defs) {}
  TextId keyOf(const V& v) const { return (*defs_)[v.def].id; }
  // A copy: the pool may grow while the caller holds it.
  Def def(const V& v) const { return (*defs_)[v.def]; }
  template <typename F>
  void update(V& v, F&& change) {
    Def d = def(v);
    change(d);
    v.def = defs_->id(d);
  }
  V* find(std::string_view key) {
    auto it = lowerBound(key);
    return it != items_.end() && texts_->text(keyOf(*it)) == key ? &*it : nullptr;
  }
  V* find(TextId id) { return find(std::string_view(texts_->text(id))); }
  V& get(TextId id) {
    const std::string_view key = texts_->text(id);
    auto it = lowerBound(key);
    if (it == items_.end() || keyOf(*it) != id) {
      if (items_.size() == items_.capacity()) {
        // Grown by an eighth rather than doubled: a host's tables are filled once, by its
        // definition burst, and then kept for as long as the host is known (doubling left up
        // to half of each table unused).
        const auto at = it - items_.begin();
        items_.reserve(items_.size() + items_.size() / 8 + 4);
        it = items_.begin() + at;
      }
      Def d;
      d.id = id;
      V v;
      v.def = defs_->id(d);
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
                              return std::string_view(texts_->text(keyOf(e))) < k;
                            });
  }
  const TextTable* texts_;
  DefPool<Def>* defs_;
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
  DefPool<ChartDef> chartDefs;
  DefPool<ContextDef> contextDefs;
  std::string_view text(TextId id) const { return texts.text(id); }
  const ChartShape& shapeOf(const Chart& c) const { return shapes[chartDefs[c.def].shape]; }
  const ChartShape& shapeOf(const Context& c) const { return shapes[contextDefs[c.def].latest]; }
  const DimSet& dimsOf(const Chart& c) const { return dims[chartDefs[c.def].dims]; }
  const Labels& labelsOf(const Chart& c) const { return labels[chartDefs[c.def].labels]; }
};

// The context as the cloud gets it (the link's batches) and as the store keeps it. Needs
// `latest`.
ContextRecord contextRecord(const NodeRegistry::Pools& pools, const Context& c);

struct NodeRegistry::Node {
  explicit Node(Pools& pools)
      : charts(pools.texts, pools.chartDefs), contexts(pools.texts, pools.contextDefs) {}
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
  FlatMap<Chart, ChartDef> charts;        // by chart id
  FlatMap<Context, ContextDef> contexts;  // by context id
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
  if (!c.unsaved) {
    c.unsaved = true;
    node.unsavedContexts.push_back(node.contexts.keyOf(c));
  }
}

}  // namespace aclkd::stream_bridge
