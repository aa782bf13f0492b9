// The stream's events: what a live host's definitions and first samples do to its tables, and
// the per-sample cache that keeps the rest of its samples away from the registry's lock.

#include <algorithm>
#include <tuple>

#include "stream_bridge/node_registry.h"
#include "stream_bridge/registry_types.h"

namespace aclkd::stream_bridge {
namespace {

// What the cloud sees of a context: its latest shape's title, units, family and chart type,
// its priority, first and last entry, and whether it is deleted.
struct ContextContent {
  uint32_t latest = kNone;
  uint32_t priority = 0;
  uint32_t first = 0;
  uint32_t last = 0;
  bool deleted = false;
};

bool sameContent(const NodeRegistry::Pools& pools, const ContextContent& a,
                 const ContextContent& b) {
  const auto shape = [&](const ContextContent& c) {
    const ChartShape& s = pools.shapes[c.latest];
    return std::tie(s.title, s.units, s.family, s.chartType);
  };
  return shape(a) == shape(b) && a.priority == b.priority && a.first == b.first &&
         a.last == b.last && a.deleted == b.deleted;
}

// Recomputes one context from its relayed charts; marks it dirty with a new version when what
// the cloud sees of it changed.
void refreshContext(NodeRegistry::Node& node, NodeRegistry::Pools& pools, TextId ctxId,
                    uint64_t now, size_t& definedTotal) {
  Context& cur = node.contexts.get(ctxId);
  const bool fresh = !cur.defined();
  ContextContent next;
  const Chart* latest = nullptr;
  uint32_t last = 0;
  uint32_t first = 0;
  node.forEachChart(cur, [&](TextId id) {
    const Chart* chart = node.charts.find(id);
    if (!chart || !chart->relayed) return;
    const ChartShape& shape = pools.shapeOf(node.charts.def(*chart));
    if (shape.contextId != ctxId) return;
    const uint32_t prio = saturate32(shape.priority);
    next.priority = latest ? std::min(next.priority, prio) : prio;
    if (!latest || chart->definedAt > latest->definedAt) latest = chart;
    if (chart->first != 0) first = first == 0 ? chart->first : std::min(first, chart->first);
    last = std::max(last, chart->last);
  });
  if (!latest) {
    if (!fresh && !cur.deleted) {
      cur.deleted = true;
      cur.version = nextVersion(cur.version, now);
      markChanged(node, cur);
    }
    return;
  }
  next.latest = node.charts.def(*latest).shape;
  next.first = first != 0 ? first : saturate32(now);
  next.last = node.attached ? 0 : last;
  const auto take = [&] {
    node.contexts.update(cur, [&](ContextDef& d) {
      d.latest = next.latest;
      d.priority = next.priority;
    });
    cur.hasShape = true;
    cur.first = next.first;
    cur.last = next.last;
  };
  if (fresh) {
    ++node.definedContexts;
    ++definedTotal;
    take();
    cur.version = saturate32(now);
    markChanged(node, cur);
    return;
  }
  // Keep the earliest first entry ever seen: history does not shrink while connected.
  if (cur.first != 0 && cur.first < next.first) next.first = cur.first;
  const ContextDef def = node.contexts.def(cur);
  if (sameContent(pools, {def.latest, def.priority, cur.first, cur.last, cur.deleted}, next)) {
    return;
  }
  take();
  cur.deleted = false;
  cur.version = nextVersion(cur.version, now);
  markChanged(node, cur);
}

}  // namespace

NodeRegistry::Stream::~Stream() {
  {
    // The last sample times kept on the stream go back into the table for the disconnect.
    std::lock_guard lock(registry_.mutex_);
    for (const auto& s : sampled_) {
      if (Chart* c = node_.charts.find(s.text())) c->last = std::max(c->last, s.last);
    }
  }
  registry_.detach(node_);
}

void NodeRegistry::Stream::refreshClock() { now_ = saturate32(int64_t{registry_.clock_()}); }

size_t NodeRegistry::Stream::findSampled(std::string_view chartId) const {
  for (size_t i = 0; i < sampled_.size(); ++i) {
    if (sampled_[i].is(chartId)) return i;
  }
  return sampled_.size();
}

const std::string& NodeRegistry::Stream::machineGuid() const { return node_.info.machineGuid; }

void NodeRegistry::Stream::onClaimedId(std::string_view, std::string_view claimId) {
  std::lock_guard lock(registry_.mutex_);
  node_.claimId = std::string(claimId);
}

void NodeRegistry::Stream::onHostLabel(std::string_view name, std::string_view value,
                                       uint32_t) {
  pendingHostLabels_.emplace_back(std::string(name), std::string(value));
}

void NodeRegistry::Stream::settle() {
  if (!node_.awaitingLabels) return;  // written on this stream's thread only
  {
    std::lock_guard lock(registry_.mutex_);
    node_.awaitingLabels = false;
  }
  registry_.notify();
}

void NodeRegistry::Stream::onHostLabelsCommit() {
  bool changed = false;
  {
    std::lock_guard lock(registry_.mutex_);
    Labels labels;
    labels.reserve(pendingHostLabels_.size());  // kept for as long as the host: no slack
    for (const auto& [k, v] : pendingHostLabels_) {
      labels.emplace_back(registry_.intern(k), registry_.intern(v));
    }
    changed = node_.awaitingLabels;  // the node is complete now: the link may see it
    node_.awaitingLabels = false;
    if (labels != node_.hostLabels) {
      node_.hostLabels = std::move(labels);
      node_.info.infoVersion++;
      node_.infoUnsaved = true;
      registry_.queueSave(node_);
      changed = true;
    }
  }
  decltype(pendingHostLabels_)().swap(pendingHostLabels_);  // released: labels are rare
  if (changed) registry_.notify();
}

void NodeRegistry::Stream::onChart(const ChartDefinition& d) {
  settle();  // a child that sends no host labels is complete at its first chart
  std::lock_guard lock(registry_.mutex_);
  auto& r = registry_;
  auto& pools = *r.pools_;
  const TextId id = pools.texts.intern(d.id);
  if (!d.plugin.empty()) {
    const std::pair collector{r.intern(d.plugin), r.intern(d.module)};
    if (std::find(node_.collectors.begin(), node_.collectors.end(), collector) ==
        node_.collectors.end()) {
      node_.collectors.push_back(collector);
    }
  }
  const TextId contextId = pools.texts.intern(d.context);
  ChartShape shape{r.intern(d.name),  r.intern(d.title),   r.intern(d.units),
                   r.intern(d.family), pools.text(contextId), r.intern(d.chartType),
                   contextId,          d.priority};
  Chart& c = node_.charts.get(id);
  const uint32_t oldShape = node_.charts.def(c).shape;
  const TextId oldContext = oldShape != kNone ? pools.shapes[oldShape].contextId : kNone;
  const uint32_t newShape = pools.shapes.id(shape);
  node_.charts.update(c, [&](ChartDef& def) { def.shape = newShape; });
  c.definedAt = ++node_.definitions;
  r.churn_.fetch_add(1, std::memory_order_relaxed);
  // Netdata 1.37's rule: the chart is sent when its id or its name matches.
  c.relayed = node_.sendCharts.matches(d.id) || (!d.name.empty() && node_.sendCharts.matches(d.name));
  const auto now = static_cast<uint64_t>(r.clock_());
  if (oldContext != contextId) {
    if (oldContext != kNone) {
      node_.removeChart(node_.contexts.get(oldContext), id);
      refreshContext(node_, pools, oldContext, now, registry_.definedContexts_);
    }
    node_.addChart(node_.contexts.get(contextId), id);
  }
  refreshContext(node_, pools, contextId, now, registry_.definedContexts_);
  registry_.queueSave(node_);
}

void NodeRegistry::Stream::onChartLabel(std::string_view, std::string_view name,
                                        std::string_view value, uint32_t) {
  pendingChartLabels_.emplace_back(std::string(name), std::string(value));
}

void NodeRegistry::Stream::onChartLabelsCommit(std::string_view chartId) {
  std::lock_guard lock(registry_.mutex_);
  if (Chart* c = node_.charts.find(chartId)) {
    auto& pools = *registry_.pools_;
    node_.chartLabels -=
        std::min(node_.chartLabels, pools.labels[node_.charts.def(*c).labels].size());
    Labels labels;
    for (const auto& [k, v] : pendingChartLabels_) {
      labels.emplace_back(registry_.intern(k), registry_.intern(v));
    }
    const uint32_t labelSet = pools.labels.id(std::move(labels));
    node_.charts.update(*c, [&](ChartDef& def) { def.labels = labelSet; });
    node_.chartLabels += pools.labels[labelSet].size();
  }
  pendingChartLabels_.clear();
}

void NodeRegistry::Stream::onDimension(std::string_view chartId, const DimensionDefinition& dim) {
  std::lock_guard lock(registry_.mutex_);
  Chart* c = node_.charts.find(chartId);
  if (!c) return;
  auto& pools = *registry_.pools_;
  const auto id = registry_.intern(dim.id);
  const DimSet& current = pools.dims[node_.charts.def(*c).dims];
  if (std::binary_search(current.begin(), current.end(), id)) return;
  DimSet dims = current;
  dims.insert(std::lower_bound(dims.begin(), dims.end(), id), id);
  const uint32_t dimSet = pools.dims.id(std::move(dims));
  node_.charts.update(*c, [&](ChartDef& def) { def.dims = dimSet; });
}

void NodeRegistry::Stream::onVariable(std::string_view, std::string_view, std::string_view) {}

void NodeRegistry::Stream::onChartDefinitionEnd(std::string_view chartId, int64_t firstEntry,
                                                int64_t lastEntry, int64_t) {
  std::lock_guard lock(registry_.mutex_);
  Chart* c = node_.charts.find(chartId);
  if (!c) return;
  const uint32_t first = saturate32(firstEntry);
  if (first > 0 && (c->first == 0 || first < c->first)) c->first = first;
  c->last = std::max(c->last, saturate32(lastEntry));
  auto& pools = *registry_.pools_;
  refreshContext(node_, pools, pools.shapeOf(node_.charts.def(*c)).contextId,
                 static_cast<uint64_t>(registry_.clock_()), registry_.definedContexts_);
  registry_.queueSave(node_);
}

void NodeRegistry::Stream::onSamples(std::string_view chartId, int64_t endTime) {
  if (sampleCached(chartId, endTime)) return;
  // A chart's first sample on this stream: the shared table learns it, then the stream keeps it.
  std::lock_guard lock(registry_.mutex_);
  auto& pools = *registry_.pools_;
  now_ = saturate32(int64_t{registry_.clock_()});
  Chart* c = node_.charts.find(chartId);
  if (!c) return;
  const uint32_t t = endTime > 0 ? saturate32(endTime) : now_;
  c->last = std::max(c->last, t);
  if (c->first == 0) {
    c->first = t;
    refreshContext(node_, pools, pools.shapeOf(node_.charts.def(*c)).contextId, now_,
                   registry_.definedContexts_);
    registry_.queueSave(node_);
  }
  if (sampled_.size() == sampled_.capacity()) {
    // Room for every chart the host has defined by now (nearly all of them once samples flow):
    // doubling from the first sample's few left up to half of the list unused for good.
    sampled_.reserve(std::max(node_.charts.size(), sampled_.size() + sampled_.size() / 8 + 4));
  }
  cursor_ = static_cast<uint32_t>(sampled_.size());
  const std::string& id = pools.texts.text(node_.charts.keyOf(*c));  // interned: outlives the stream
  sampled_.push_back({id.data(), static_cast<uint32_t>(id.size()), t});
}

void NodeRegistry::Stream::onReplicationEnd(std::string_view chartId, int64_t firstEntry,
                                            int64_t lastEntry) {
  onChartDefinitionEnd(chartId, firstEntry, lastEntry, 0);
}

}  // namespace aclkd::stream_bridge
