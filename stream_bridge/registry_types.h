#pragma once

// The registry's per-host tables, shared by node_registry.cc (the stream's events) and
// node_registry_store.cc (what the state store keeps of them). Internal to stream_bridge/.

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "stream_bridge/function_table.h"
#include "stream_bridge/node_registry.h"

namespace aclkd::stream_bridge::registry {

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

struct Chart {
  const ChartShape* shape = nullptr;
  const DimSet* dims = nullptr;
  const Labels* labels = nullptr;
  int64_t first = 0;  // epoch s; 0 = nothing seen yet
  int64_t last = 0;
  uint32_t definedAt = 0;  // order of definition, for "the chart defined last"
  bool relayed = true;     // matches `send charts matching`
};

// The charts of one context: nearly always one (a 1.37 child has 324 charts in 312 contexts).
// One word: the chart id's interned string while there is one chart, else (low bit set) a heap
// vector of them all; both are at least 2-aligned, so the bit is free. A view plus a vector
// pointer made it three words (5 KB a host); a vector per context was ~17 KB a host.
class ChartList {
 public:
  ChartList() = default;
  ChartList(ChartList&& o) noexcept : bits_(std::exchange(o.bits_, 0)) {}
  ChartList& operator=(ChartList&& o) noexcept {
    if (this != &o) {
      clear();
      bits_ = std::exchange(o.bits_, 0);
    }
    return *this;
  }
  ~ChartList() { clear(); }

  void add(const std::string* id) {  // interned: outlives the list
    if (bits_ == 0) {
      bits_ = reinterpret_cast<uintptr_t>(id);
      return;
    }
    if (!many()) {
      auto* all = new std::vector<std::string_view>{*one()};
      bits_ = reinterpret_cast<uintptr_t>(all) | 1;
    }
    list()->push_back(*id);
  }
  void remove(std::string_view id) {
    if (bits_ == 0) return;
    if (!many()) {
      if (*one() == id) bits_ = 0;
      return;
    }
    auto* all = list();
    all->erase(std::remove(all->begin(), all->end(), id), all->end());
    if (all->empty()) clear();
  }
  template <typename F>
  void forEach(F&& f) const {
    if (bits_ == 0) return;
    if (!many()) return f(std::string_view(*one()));
    for (const auto id : *list()) f(id);
  }

 private:
  bool many() const { return (bits_ & 1) != 0; }
  const std::string* one() const { return reinterpret_cast<const std::string*>(bits_); }
  std::vector<std::string_view>* list() const {
    return reinterpret_cast<std::vector<std::string_view>*>(bits_ & ~uintptr_t{1});
  }
  void clear() {
    if (many()) delete list();
    bits_ = 0;
  }
  uintptr_t bits_ = 0;
};

struct Context {
  const ChartShape* latest = nullptr;  // title, units, family and chart type come from it
  uint64_t priority = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t version = 0;
  bool deleted = false;
  bool dirty = true;     // changed since last handed to the link
  bool unsaved = false;  // changed since last handed to the state store
  ChartList charts;  // the context's charts, relayed or not
};

// The context as the cloud gets it (the link's batches) and as the store keeps it. Needs
// `latest`.
ContextRecord contextRecord(std::string_view id, const Context& c);

// A sorted vector keyed by interned views: a third of a std::map's memory per entry, and the
// per-host tables are read far more often than they grow.
template <typename V>
class FlatMap {
 public:
  using Entry = std::pair<std::string_view, V>;
  V* find(std::string_view key) {
    auto it = lowerBound(key);
    return it != items_.end() && it->first == key ? &it->second : nullptr;
  }
  V& get(std::string_view key) {
    auto it = lowerBound(key);
    if (it == items_.end() || it->first != key) {
      if (items_.size() == items_.capacity()) {
        // Grown by an eighth rather than doubled: a host's tables are filled once, by its
        // definition burst, and then kept for as long as the host is known (doubling left up
        // to half of each table unused: ~38 KB per child of 1.37 with 324 charts).
        const auto at = it - items_.begin();
        items_.reserve(items_.size() + items_.size() / 8 + 4);
        it = items_.begin() + at;
      }
      it = items_.insert(it, Entry{key, V{}});
    }
    return it->second;
  }
  size_t size() const { return items_.size(); }
  void reserve(size_t n) { items_.reserve(n); }
  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  typename std::vector<Entry>::iterator lowerBound(std::string_view key) {
    return std::lower_bound(items_.begin(), items_.end(), key,
                            [](const Entry& e, std::string_view k) { return e.first < k; });
  }
  std::vector<Entry> items_;
};

}  // namespace aclkd::stream_bridge::registry

namespace aclkd::stream_bridge {

using namespace registry;

struct NodeRegistry::Pools {
  std::unordered_set<ChartShape, ChartShapeHash> shapes;
  std::set<DimSet> dimSets;
  std::set<Labels> labelSets;
  const ChartShape* shape(const ChartShape& s) { return &*shapes.insert(s).first; }
  const DimSet* dims(DimSet d) { return &*dimSets.insert(std::move(d)).first; }
  const Labels* labels(Labels l) { return &*labelSets.insert(std::move(l)).first; }
};

struct NodeRegistry::Node {
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
  FlatMap<Chart> charts;      // by interned chart id
  FlatMap<Context> contexts;  // by interned context id
  Labels hostLabels;
  // (plugin, module) of the charts defined since the stream connected, interned, each once
  // (UpdateNodeCollectors); a few per node.
  std::vector<std::pair<std::string_view, std::string_view>> collectors;
  size_t chartLabels = 0;
  std::time_t firstSeen = 0;
  bool restored = false;  // loaded from the state store; its stream has not returned since
  std::vector<std::string_view> unsavedContexts;  // for the state store
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
};

// The cloud and the state store both have to hear of this context's new state.
inline void markChanged(NodeRegistry::Node& node, std::string_view id, Context& c) {
  c.dirty = true;
  if (!c.unsaved) {
    c.unsaved = true;
    node.unsavedContexts.push_back(id);
  }
}

}  // namespace aclkd::stream_bridge
