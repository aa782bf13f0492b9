#include "stream_bridge/node_registry.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_set>

#include "stream_bridge/registry_types.h"

#include <spdlog/spdlog.h>

namespace aclkd::stream_bridge {
namespace {

bool sameContent(const Context& a, const Context& b) {
  const auto shape = [](const Context& c) {
    return std::tie(c.latest->title, c.latest->units, c.latest->family, c.latest->chartType);
  };
  return shape(a) == shape(b) && a.priority == b.priority && a.first == b.first &&
         a.last == b.last && a.deleted == b.deleted;
}

}  // namespace

ContextRecord registry::contextRecord(std::string_view id, const Context& c) {
  ContextRecord e;
  e.id = std::string(id);
  e.version = c.version;
  e.firstEntry = c.first;
  e.lastEntry = c.last;
  e.deleted = c.deleted;
  e.title = std::string(c.latest->title);
  e.priority = c.priority;
  e.chartType = std::string(c.latest->chartType);
  e.units = std::string(c.latest->units);
  e.family = std::string(c.latest->family);
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

std::string_view NodeRegistry::intern(std::string_view text) { return internText(text); }

const std::string& NodeRegistry::internText(std::string_view text) {
  auto it = strings_.find(text);
  return it != strings_.end() ? *it : *strings_.emplace(text).first;
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
    if (!slot) slot = std::make_unique<Node>();
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
    for (auto& [id, c] : n.contexts) {
      if (c.latest && !c.deleted && c.last != 0) {
        c.last = 0;
        c.version = std::max<uint64_t>(c.version + 1, static_cast<uint64_t>(clock_()));
        markChanged(n, id, c);
      }
    }
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

NodeRegistry::HostStatus NodeRegistry::hostStatus(const std::string& machineGuid) const {
  std::lock_guard lock(mutex_);
  HostStatus s;
  s.hosts = nodes_.size();
  if (const auto it = nodes_.find(machineGuid); it != nodes_.end()) {
    s.known = true;
    s.live = it->second->info.live;
    s.firstSeen = it->second->firstSeen;
    s.lastSeen = s.live ? 0 : it->second->disconnectedAt;
  }
  return s;
}

void NodeRegistry::detach(Node& n) {
  {
    std::lock_guard lock(mutex_);
    n.attached = false;
    n.awaitingLabels = false;
    n.info.live = false;
    n.disconnectedAt = clock_();
    n.functions.clear();  // a stream's functions go with it
    n.streamCapabilities = 0;
    // The host is gone: its contexts stop at the last sample each chart had.
    std::map<std::string_view, uint64_t> lastOf;
    for (const auto& [id, chart] : n.charts) {
      if (!chart.relayed) continue;
      auto& l = lastOf[chart.shape->context];
      l = std::max<uint64_t>(l, static_cast<uint64_t>(chart.last));
    }
    for (auto& [id, c] : n.contexts) {
      if (!c.latest || c.deleted || c.last != 0) continue;
      c.last = lastOf.count(id) && lastOf[id] ? lastOf[id] : static_cast<uint64_t>(clock_());
      c.version = std::max<uint64_t>(c.version + 1, static_cast<uint64_t>(clock_()));
      markChanged(n, id, c);
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
        it = nodes_.erase(it);
        removed = true;
      } else {
        ++it;
      }
    }
  }
  if (removed) notify();
}

std::vector<NodeView> NodeRegistry::nodes() const {
  std::lock_guard lock(mutex_);
  std::vector<NodeView> out;
  for (const auto& [guid, np] : nodes_) {
    const Node& n = *np;
    NodeView v;
    v.machineGuid = guid;
    v.hostname = n.info.hostname;
    v.version = n.info.agentVersion;
    v.os = n.os;
    v.hops = n.info.hops;
    v.live = n.info.live;
    v.ephemeral = n.ephemeral;
    v.peer = n.peer;
    v.apiKey = n.apiKey;
    v.connectedSince = n.connectedSince;
    v.disconnectedAt = n.disconnectedAt;
    v.restored = n.restored;
    if (store_) {
      if (auto id = store_->nodeIdOf(guid)) v.nodeId = id->nodeId;
    }
    v.charts = n.charts.size();
    for (const auto& [id, c] : n.charts) {
      v.relayedCharts += c.relayed ? 1 : 0;
      v.dimensions += c.dims ? c.dims->size() : 0;
    }
    for (const auto& [id, c] : n.contexts) v.contexts += c.latest ? 1 : 0;
    v.hostLabels = n.hostLabels.size();
    v.chartLabels = n.chartLabels;
    for (const auto& [id, c] : n.contexts) {
      if (c.latest && !c.deleted) v.contextsVersionHash += c.version + c.last - c.first;
    }
    const auto fs = functionState(n);
    v.functions = n.functions.size();
    v.functionsCallable = fs.features.functions;
    v.functionsOff = fs.functionsOff;
    v.dyncfg = fs.features.dyncfg;
    v.dyncfgOff = fs.dyncfgOff;
    v.streamCapabilities = n.streamCapabilities;
    out.push_back(std::move(v));
  }
  return out;
}

size_t NodeRegistry::liveCount() const {
  std::lock_guard lock(mutex_);
  size_t live = 0;
  for (const auto& [guid, n] : nodes_) live += n->info.live ? 1 : 0;
  return live;
}

NodeRegistry::Totals NodeRegistry::totals() const {
  std::lock_guard lock(mutex_);
  Totals t;
  t.nodes = nodes_.size();
  for (const auto& [guid, n] : nodes_) {
    t.live += n->info.live ? 1 : 0;
    for (const auto& [id, c] : n->contexts) t.contexts += c.latest ? 1 : 0;
  }
  return t;
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
  for (auto& [id, c] : it->second->contexts) {
    c.dirty = false;
    if (!c.latest || c.deleted) continue;
    batch.contexts.push_back(contextRecord(id, c));
    batch.versionHash += c.version + c.last - c.first;
  }
  return batch;
}

std::optional<aclk::ContextBatch> NodeRegistry::contextsUpdates(const std::string& machineGuid) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(machineGuid);
  if (it == nodes_.end()) return std::nullopt;
  aclk::ContextBatch batch;
  for (auto& [id, c] : it->second->contexts) {
    if (!c.latest) continue;
    if (c.dirty) {
      batch.contexts.push_back(contextRecord(id, c));
      c.dirty = false;
    }
    if (!c.deleted) batch.versionHash += c.version + c.last - c.first;
  }
  if (batch.contexts.empty()) return std::nullopt;
  return batch;
}

// ---- Stream ---------------------------------------------------------------------------------

namespace {

// Recomputes one context from its relayed charts; marks it dirty with a new version when what
// the cloud sees of it changed.
void refreshContext(NodeRegistry::Node& node, std::string_view ctxId, uint64_t now) {
  Context& cur = node.contexts.get(ctxId);
  const bool fresh = cur.latest == nullptr;
  Context next;
  const Chart* latest = nullptr;
  uint64_t last = 0;
  uint64_t first = 0;
  cur.charts.forEach([&](std::string_view id) {
    const Chart* chart = node.charts.find(id);
    if (!chart || !chart->relayed || chart->shape->context != ctxId) return;
    const auto prio = static_cast<uint64_t>(std::max<int64_t>(chart->shape->priority, 0));
    next.priority = latest ? std::min(next.priority, prio) : prio;
    if (!latest || chart->definedAt > latest->definedAt) latest = chart;
    if (chart->first != 0) {
      first = first == 0 ? static_cast<uint64_t>(chart->first)
                         : std::min(first, static_cast<uint64_t>(chart->first));
    }
    last = std::max(last, static_cast<uint64_t>(chart->last));
  });
  if (!latest) {
    if (!fresh && !cur.deleted) {
      cur.deleted = true;
      cur.version = std::max(cur.version + 1, now);
      markChanged(node, ctxId, cur);
    }
    return;
  }
  next.latest = latest->shape;
  next.first = first != 0 ? first : now;
  next.last = node.attached ? 0 : last;
  if (fresh) {
    cur.latest = next.latest;
    cur.priority = next.priority;
    cur.first = next.first;
    cur.last = next.last;
    cur.version = now;
    markChanged(node, ctxId, cur);
    return;
  }
  // Keep the earliest first entry ever seen: history does not shrink while connected.
  if (cur.first != 0 && cur.first < next.first) next.first = cur.first;
  if (sameContent(cur, next)) return;
  cur.latest = next.latest;
  cur.priority = next.priority;
  cur.first = next.first;
  cur.last = next.last;
  cur.deleted = false;
  cur.version = std::max(cur.version + 1, now);
  markChanged(node, ctxId, cur);
}

}  // namespace

NodeRegistry::Stream::~Stream() {
  {
    // The last sample times kept on the stream go back into the table for the disconnect.
    std::lock_guard lock(registry_.mutex_);
    for (const auto& s : sampled_) {
      if (Chart* c = node_.charts.find(s.id)) c->last = std::max(c->last, s.last);
    }
  }
  registry_.detach(node_);
}

void NodeRegistry::Stream::refreshClock() { now_ = static_cast<int64_t>(registry_.clock_()); }

size_t NodeRegistry::Stream::findSampled(std::string_view chartId) const {
  for (size_t i = 0; i < sampled_.size(); ++i) {
    if (sampled_[i].id == chartId) return i;
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
  const std::string& idText = r.internText(d.id);
  const std::string_view id = idText;
  if (!d.plugin.empty()) {
    const std::pair collector{r.intern(d.plugin), r.intern(d.module)};
    if (std::find(node_.collectors.begin(), node_.collectors.end(), collector) ==
        node_.collectors.end()) {
      node_.collectors.push_back(collector);
    }
  }
  ChartShape shape{r.intern(d.name),  r.intern(d.title),   r.intern(d.units),
                   r.intern(d.family), r.intern(d.context), r.intern(d.chartType),
                   d.priority};
  Chart& c = node_.charts.get(id);
  const std::string_view oldContext = c.shape ? c.shape->context : std::string_view{};
  c.shape = r.pools_->shape(shape);
  c.definedAt = ++node_.definitions;
  r.churn_.fetch_add(1, std::memory_order_relaxed);
  // Netdata 1.37's rule: the chart is sent when its id or its name matches.
  c.relayed = node_.sendCharts.matches(d.id) || (!d.name.empty() && node_.sendCharts.matches(d.name));
  const auto now = static_cast<uint64_t>(r.clock_());
  if (oldContext != c.shape->context) {
    if (!oldContext.empty()) {
      node_.contexts.get(oldContext).charts.remove(id);
      refreshContext(node_, oldContext, now);
    }
    node_.contexts.get(c.shape->context).charts.add(&idText);
  }
  refreshContext(node_, c.shape->context, now);
  registry_.queueSave(node_);
}

void NodeRegistry::Stream::onChartLabel(std::string_view, std::string_view name,
                                        std::string_view value, uint32_t) {
  pendingChartLabels_.emplace_back(std::string(name), std::string(value));
}

void NodeRegistry::Stream::onChartLabelsCommit(std::string_view chartId) {
  std::lock_guard lock(registry_.mutex_);
  if (Chart* c = node_.charts.find(chartId)) {
    node_.chartLabels -= std::min(node_.chartLabels, c->labels ? c->labels->size() : 0);
    Labels labels;
    for (const auto& [k, v] : pendingChartLabels_) {
      labels.emplace_back(registry_.intern(k), registry_.intern(v));
    }
    c->labels = registry_.pools_->labels(std::move(labels));
    node_.chartLabels += c->labels->size();
  }
  pendingChartLabels_.clear();
}

void NodeRegistry::Stream::onDimension(std::string_view chartId, const DimensionDefinition& dim) {
  std::lock_guard lock(registry_.mutex_);
  Chart* c = node_.charts.find(chartId);
  if (!c) return;
  const auto id = registry_.intern(dim.id);
  if (c->dims && std::binary_search(c->dims->begin(), c->dims->end(), id)) return;
  DimSet dims = c->dims ? *c->dims : DimSet{};
  dims.insert(std::lower_bound(dims.begin(), dims.end(), id), id);
  c->dims = registry_.pools_->dims(std::move(dims));
}

void NodeRegistry::Stream::onVariable(std::string_view, std::string_view, std::string_view) {}

void NodeRegistry::Stream::onChartDefinitionEnd(std::string_view chartId, int64_t firstEntry,
                                                int64_t lastEntry, int64_t) {
  std::lock_guard lock(registry_.mutex_);
  Chart* c = node_.charts.find(chartId);
  if (!c) return;
  if (firstEntry > 0 && (c->first == 0 || firstEntry < c->first)) c->first = firstEntry;
  if (lastEntry > c->last) c->last = lastEntry;
  refreshContext(node_, c->shape->context, static_cast<uint64_t>(registry_.clock_()));
  registry_.queueSave(node_);
}

void NodeRegistry::Stream::onSamples(std::string_view chartId, int64_t endTime) {
  if (sampleCached(chartId, endTime)) return;
  // A chart's first sample on this stream: the shared table learns it, then the stream keeps it.
  std::lock_guard lock(registry_.mutex_);
  now_ = static_cast<int64_t>(registry_.clock_());
  Chart* c = node_.charts.find(chartId);
  if (!c) return;
  const int64_t t = endTime > 0 ? endTime : now_;
  c->last = std::max(c->last, t);
  if (c->first == 0) {
    c->first = t;
    refreshContext(node_, c->shape->context, static_cast<uint64_t>(now_));
    registry_.queueSave(node_);
  }
  if (sampled_.size() == sampled_.capacity()) {
    // Room for every chart the host has defined by now (nearly all of them once samples flow):
    // doubling from the first sample's few left up to half of the list unused for good.
    sampled_.reserve(std::max(node_.charts.size(), sampled_.size() + sampled_.size() / 8 + 4));
  }
  cursor_ = static_cast<uint32_t>(sampled_.size());
  sampled_.push_back({registry_.intern(chartId), t});
}

void NodeRegistry::Stream::onReplicationEnd(std::string_view chartId, int64_t firstEntry,
                                            int64_t lastEntry) {
  onChartDefinitionEnd(chartId, firstEntry, lastEntry, 0);
}

}  // namespace aclkd::stream_bridge
