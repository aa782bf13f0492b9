#include "stream_bridge/node_registry.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "stream_bridge/registry_types.h"

#include <spdlog/spdlog.h>

namespace aclkd::stream_bridge {
namespace {

bool sameContent(const NodeRegistry::Pools& pools, const Context& a, const Context& b) {
  const auto shape = [&](const Context& c) {
    const ChartShape& s = pools.shapeOf(c);
    return std::tie(s.title, s.units, s.family, s.chartType);
  };
  return shape(a) == shape(b) && a.priority == b.priority && a.first == b.first &&
         a.last == b.last && a.deleted == b.deleted;
}

}  // namespace

ContextRecord contextRecord(const NodeRegistry::Pools& pools, const Context& c) {
  const ChartShape& latest = pools.shapeOf(c);
  ContextRecord e;
  e.id = std::string(pools.text(c.id));
  e.version = c.version;
  e.firstEntry = c.first;
  e.lastEntry = c.last;
  e.deleted = c.deleted;
  e.title = std::string(latest.title);
  e.priority = c.priority;
  e.chartType = std::string(latest.chartType);
  e.units = std::string(latest.units);
  e.family = std::string(latest.family);
  return e;
}

namespace {

std::string value(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

}  // namespace

aclk::SystemInfo systemInfoFromRequest(const StreamRequest& r) {
  const auto& m = r.systemInfo;
  aclk::SystemInfo s;
  s.os = r.os.empty() ? "linux" : r.os;
  s.osName = value(m, "NETDATA_HOST_OS_NAME");
  s.osVersion = value(m, "NETDATA_HOST_OS_VERSION");
  s.kernelName = value(m, "NETDATA_SYSTEM_KERNEL_NAME");
  s.kernelVersion = value(m, "NETDATA_SYSTEM_KERNEL_VERSION");
  s.architecture = value(m, "NETDATA_SYSTEM_ARCHITECTURE");
  // 1.37 sends the frequency unencoded, so "2.596e+09" arrives as "2.596e 09"
  // (docs/protocol/streaming.md §2.3).
  auto freq = value(m, "NETDATA_SYSTEM_CPU_FREQ");
  std::replace(freq.begin(), freq.end(), ' ', '+');
  try {
    if (!freq.empty() && freq != "unknown") {
      s.cpuFrequency = std::to_string(static_cast<uint64_t>(std::stod(freq)));
    }
  } catch (...) {
  }
  s.memory = value(m, "NETDATA_SYSTEM_TOTAL_RAM");
  s.diskSpace = value(m, "NETDATA_SYSTEM_TOTAL_DISK_SIZE");
  s.timezone = r.abbrevTimezone;
  const auto virt = value(m, "NETDATA_SYSTEM_VIRTUALIZATION");
  if (!virt.empty()) s.virtualization = virt;
  const auto container = value(m, "NETDATA_SYSTEM_CONTAINER");
  if (!container.empty()) s.container = container;
  try {
    s.cpus = static_cast<uint32_t>(std::stoul(value(m, "NETDATA_SYSTEM_CPU_LOGICAL_CPU_COUNT")));
  } catch (...) {
  }
  s.mlCapable = r.mlCapable;
  s.mlEnabled = r.mlEnabled;
  return s;
}

NodeRegistry::NodeRegistry(std::function<void()> changed, Clock clock)
    : changed_(std::move(changed)), clock_(std::move(clock)), pools_(std::make_unique<Pools>()) {
  if (!clock_) clock_ = [] { return std::time(nullptr); };
}

NodeRegistry::~NodeRegistry() {
  // The store may outlive the registry: its thread must not call back into a dead one.
  if (store_) store_->setCollector({});
}

std::string_view NodeRegistry::intern(std::string_view text) {
  return pools_->text(pools_->texts.intern(text));
}

void NodeRegistry::notify() {
  if (changed_) changed_();
}

std::unique_ptr<NodeRegistry::Stream> NodeRegistry::attach(const StreamRequest& request,
                                                           const HostPolicy& policy,
                                                           const std::string& peer,
                                                           bool noteDuplicate) {
  std::unique_ptr<Stream> stream;
  {
    std::lock_guard lock(mutex_);
    auto& slot = nodes_[request.machineGuid];
    if (!slot) slot = std::make_unique<Node>(pools_->texts);
    Node& n = *slot;
    if (n.attached) {
      if (noteDuplicate) noteDuplicateStream(n, peer);
      return nullptr;
    }
    n.attached = true;
    n.info.machineGuid = request.machineGuid;
    n.info.hostname = request.hostname;
    n.info.agentVersion = request.version;
    n.info.hops = request.hops;
    if (!n.info.live) ++liveNodes_;
    n.info.live = true;
    n.info.system = systemInfoFromRequest(request);
    n.info.infoVersion++;
    n.os = request.os;
    n.peer = peer;
    n.apiKey = request.apiKey;
    n.ephemeral = policy.ephemeral;
    n.sendCharts = policy.sendChartsMatching;
    n.connectedSince = clock_();
    n.disconnectedAt = 0;
    if (n.firstSeen == 0) n.firstSeen = n.connectedSince;
    n.restored = false;
    n.awaitingLabels = (expandVersion(request.ver, false) & cap::kHLabels) != 0;
    n.collectors.clear();  // the definitions that follow say which collectors run now
    n.infoUnsaved = true;
    // A reconnecting host re-sends its definitions; until then its charts count as collected.
    for (auto& c : n.contexts) {
      if (c.defined() && !c.deleted && c.last != 0) {
        c.last = 0;
        c.version = nextVersion(c.version, static_cast<uint64_t>(clock_()));
        markChanged(n, c);
      }
    }
    // The chart table at its final size at once, from what the host had at its last connection
    // (the state store's count, for a node restored from it): its definitions then leave no
    // chain of smaller tables behind in the heap.
    if (n.charts.size() == 0 && n.chartsHint != 0) n.charts.reserve(n.chartsHint);
    queueSave(n);
    stream = std::make_unique<Stream>(*this, n);
  }
  notify();
  return stream;
}

// One machine GUID from two peers at once is a cloned child (a copied /var/lib/netdata) or two
// parents relaying the same host; either way the second stream is refused, counted, and logged
// once per GUID and 10 minutes.
void NodeRegistry::noteDuplicateStream(const Node& n, const std::string& peer) {
  ++duplicateStreams_;
  const auto now = clock_();
  auto& last = duplicateWarnedAt_[n.info.machineGuid];
  if (last != 0 && now - last < 600) return;
  last = now;
  spdlog::warn("STREAM: machine GUID {} (\"{}\") is streaming from {} and now also from {}: "
               "two hosts share one machine GUID (a cloned child) or two parents relay it; the "
               "second stream is refused; see \"Cloned identity\" in docs/operations.md",
               n.info.machineGuid, n.info.hostname, n.peer, peer);
}

uint64_t NodeRegistry::duplicateStreams() const {
  std::lock_guard lock(mutex_);
  return duplicateStreams_;
}

void NodeRegistry::detach(Node& n) {
  {
    std::lock_guard lock(mutex_);
    n.attached = false;
    n.awaitingLabels = false;
    if (n.info.live) --liveNodes_;
    n.info.live = false;
    n.disconnectedAt = clock_();
    n.functions.clear();  // a stream's functions go with it
    n.streamCapabilities = 0;
    // The host is gone: its contexts stop at the last sample each chart had.
    std::map<TextId, uint32_t> lastOf;
    for (const auto& chart : n.charts) {
      if (!chart.relayed) continue;
      auto& l = lastOf[pools_->shapeOf(chart).contextId];
      l = std::max(l, chart.last);
    }
    for (auto& c : n.contexts) {
      if (!c.defined() || c.deleted || c.last != 0) continue;
      const auto it = lastOf.find(c.id);
      c.last = it != lastOf.end() && it->second ? it->second : saturate32(int64_t{clock_()});
      c.version = nextVersion(c.version, static_cast<uint64_t>(clock_()));
      markChanged(n, c);
    }
    n.infoUnsaved = true;
    queueSave(n);
  }
  notify();
}

void NodeRegistry::cleanupEphemeral(std::time_t after) {
  bool removed = false;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_();
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      const Node& n = *it->second;
      if (n.ephemeral && !n.attached && n.disconnectedAt != 0 && now - n.disconnectedAt >= after) {
        if (store_) store_->removeNode(it->first);
        it = eraseNode(it);
        removed = true;
      } else {
        ++it;
      }
    }
  }
  if (removed) notify();
}

std::map<std::string, std::unique_ptr<NodeRegistry::Node>>::iterator NodeRegistry::eraseNode(
    std::map<std::string, std::unique_ptr<Node>>::iterator it) {
  const Node& n = *it->second;
  definedContexts_ -= n.definedContexts;
  if (n.info.live) --liveNodes_;
  return nodes_.erase(it);
}

std::vector<aclk::RelayedNode> NodeRegistry::relayedNodes() {
  std::lock_guard lock(mutex_);
  std::vector<aclk::RelayedNode> out;
  for (const auto& [guid, n] : nodes_) {
    if (n->awaitingLabels && !n->exposed) continue;
    auto info = n->info;
    if (n->awaitingLabels) {
      info.live = n->exposedLive;
      info.infoVersion = n->exposedInfoVersion;
    } else {
      n->exposed = true;
      n->exposedLive = info.live;
      n->exposedInfoVersion = info.infoVersion;
    }
    info.hostLabels.clear();
    for (const auto& [k, v] : n->hostLabels) info.hostLabels.emplace_back(k, v);
    info.features = functionState(*n).features;
    out.push_back(std::move(info));
  }
  return out;
}

aclk::Collectors NodeRegistry::collectors(const std::string& machineGuid) {
  std::lock_guard lock(mutex_);
  aclk::Collectors out;
  auto it = nodes_.find(machineGuid);
  if (it == nodes_.end()) return out;
  for (const auto& [plugin, module] : it->second->collectors) out.emplace_back(plugin, module);
  std::sort(out.begin(), out.end());
  return out;
}

aclk::ContextBatch NodeRegistry::contextsSnapshot(const std::string& machineGuid) {
  std::lock_guard lock(mutex_);
  aclk::ContextBatch batch;
  auto it = nodes_.find(machineGuid);
  if (it == nodes_.end()) return batch;
  for (auto& c : it->second->contexts) {
    c.dirty = false;
    if (!c.defined() || c.deleted) continue;
    batch.contexts.push_back(contextRecord(*pools_, c));
    batch.versionHash += versionHashOf(c.version, c.first, c.last);
  }
  return batch;
}

std::optional<aclk::ContextBatch> NodeRegistry::contextsUpdates(const std::string& machineGuid) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(machineGuid);
  if (it == nodes_.end()) return std::nullopt;
  aclk::ContextBatch batch;
  for (auto& c : it->second->contexts) {
    if (!c.defined()) continue;
    if (c.dirty) {
      batch.contexts.push_back(contextRecord(*pools_, c));
      c.dirty = false;
    }
    if (!c.deleted) batch.versionHash += versionHashOf(c.version, c.first, c.last);
  }
  if (batch.contexts.empty()) return std::nullopt;
  return batch;
}

// ---- Stream ---------------------------------------------------------------------------------

namespace {

// Recomputes one context from its relayed charts; marks it dirty with a new version when what
// the cloud sees of it changed.
void refreshContext(NodeRegistry::Node& node, const NodeRegistry::Pools& pools, TextId ctxId,
                    uint64_t now, size_t& definedTotal) {
  Context& cur = node.contexts.get(ctxId);
  const bool fresh = !cur.defined();
  Context next;
  const Chart* latest = nullptr;
  uint32_t last = 0;
  uint32_t first = 0;
  node.forEachChart(cur, [&](TextId id) {
    const Chart* chart = node.charts.find(id);
    if (!chart || !chart->relayed) return;
    const ChartShape& shape = pools.shapeOf(*chart);
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
  next.latest = latest->shape;
  next.first = first != 0 ? first : saturate32(now);
  next.last = node.attached ? 0 : last;
  if (fresh) {
    ++node.definedContexts;
    ++definedTotal;
    cur.latest = next.latest;
    cur.priority = next.priority;
    cur.first = next.first;
    cur.last = next.last;
    cur.version = saturate32(now);
    markChanged(node, cur);
    return;
  }
  // Keep the earliest first entry ever seen: history does not shrink while connected.
  if (cur.first != 0 && cur.first < next.first) next.first = cur.first;
  if (sameContent(pools, cur, next)) return;
  cur.latest = next.latest;
  cur.priority = next.priority;
  cur.first = next.first;
  cur.last = next.last;
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
  const TextId oldContext = c.shape != kNone ? pools.shapeOf(c).contextId : kNone;
  c.shape = pools.shapes.id(shape);
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
    node_.chartLabels -= std::min(node_.chartLabels, pools.labels[c->labels].size());
    Labels labels;
    for (const auto& [k, v] : pendingChartLabels_) {
      labels.emplace_back(registry_.intern(k), registry_.intern(v));
    }
    c->labels = pools.labels.id(std::move(labels));
    node_.chartLabels += pools.labels[c->labels].size();
  }
  pendingChartLabels_.clear();
}

void NodeRegistry::Stream::onDimension(std::string_view chartId, const DimensionDefinition& dim) {
  std::lock_guard lock(registry_.mutex_);
  Chart* c = node_.charts.find(chartId);
  if (!c) return;
  auto& pools = *registry_.pools_;
  const auto id = registry_.intern(dim.id);
  const DimSet& current = pools.dims[c->dims];
  if (std::binary_search(current.begin(), current.end(), id)) return;
  DimSet dims = current;
  dims.insert(std::lower_bound(dims.begin(), dims.end(), id), id);
  c->dims = pools.dims.id(std::move(dims));
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
  refreshContext(node_, pools, pools.shapeOf(*c).contextId,
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
    refreshContext(node_, pools, pools.shapeOf(*c).contextId, now_, registry_.definedContexts_);
    registry_.queueSave(node_);
  }
  if (sampled_.size() == sampled_.capacity()) {
    // Room for every chart the host has defined by now (nearly all of them once samples flow):
    // doubling from the first sample's few left up to half of the list unused for good.
    sampled_.reserve(std::max(node_.charts.size(), sampled_.size() + sampled_.size() / 8 + 4));
  }
  cursor_ = static_cast<uint32_t>(sampled_.size());
  const std::string& id = pools.texts.text(c->id);  // interned: outlives the stream
  sampled_.push_back({id.data(), static_cast<uint32_t>(id.size()), t});
}

void NodeRegistry::Stream::onReplicationEnd(std::string_view chartId, int64_t firstEntry,
                                            int64_t lastEntry) {
  onChartDefinitionEnd(chartId, firstEntry, lastEntry, 0);
}

}  // namespace aclkd::stream_bridge
