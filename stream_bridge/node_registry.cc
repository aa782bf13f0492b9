#include "stream_bridge/node_registry.h"

#include <algorithm>
#include <map>

#include "stream_bridge/registry_types.h"

#include <spdlog/spdlog.h>

namespace aclkd::stream_bridge {

ContextRecord contextRecord(const NodeRegistry::Pools& pools, const ContextDef& def,
                            const Context& c) {
  const ChartShape& latest = pools.shapes[def.latest];
  ContextRecord e;
  e.id = std::string(pools.text(def.id));
  e.version = c.version;
  e.firstEntry = c.first;
  e.lastEntry = c.last;
  e.deleted = c.deleted;
  e.title = std::string(latest.title);
  e.priority = def.priority;
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
    if (!slot) slot = std::make_unique<Node>(*pools_);
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
      auto& l = lastOf[pools_->shapeOf(n.charts.def(chart)).contextId];
      l = std::max(l, chart.last);
    }
    for (auto& c : n.contexts) {
      if (!c.defined() || c.deleted || c.last != 0) continue;
      const auto it = lastOf.find(n.contexts.keyOf(c));
      c.last = it != lastOf.end() && it->second ? it->second : saturate32(int64_t{clock_()});
      c.version = nextVersion(c.version, static_cast<uint64_t>(clock_()));
      markChanged(n, c);
    }
    // Offline, its definitions are final until it returns.
    n.charts.share();
    n.contexts.share();
    n.infoUnsaved = true;
    queueSave(n);
  }
  notify();
}

void NodeRegistry::shareTables() {
  std::lock_guard lock(mutex_);
  for (auto& [guid, n] : nodes_) {
    n->charts.share();
    n->contexts.share();
  }
}

NodeRegistry::Sharing NodeRegistry::sharing() const {
  std::lock_guard lock(mutex_);
  Sharing s;
  s.chartSets = pools_->chartSets.size();
  s.contextSets = pools_->contextSets.size();
  for (const auto& [guid, n] : nodes_) {
    s.ownTables += (n->charts.isShared() || n->charts.size() == 0 ? 0 : 1) +
                   (n->contexts.isShared() || n->contexts.size() == 0 ? 0 : 1);
  }
  return s;
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
  const auto& contexts = it->second->contexts;
  for (auto& c : it->second->contexts) {
    c.dirty = false;
    if (!c.defined() || c.deleted) continue;
    batch.contexts.push_back(contextRecord(*pools_, contexts.def(c), c));
    batch.versionHash += versionHashOf(c.version, c.first, c.last);
  }
  return batch;
}

std::optional<aclk::ContextBatch> NodeRegistry::contextsUpdates(const std::string& machineGuid) {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(machineGuid);
  if (it == nodes_.end()) return std::nullopt;
  aclk::ContextBatch batch;
  const auto& contexts = it->second->contexts;
  for (auto& c : it->second->contexts) {
    if (!c.defined()) continue;
    if (c.dirty) {
      batch.contexts.push_back(contextRecord(*pools_, contexts.def(c), c));
      c.dirty = false;
    }
    if (!c.deleted) batch.versionHash += versionHashOf(c.version, c.first, c.last);
  }
  if (batch.contexts.empty()) return std::nullopt;
  return batch;
}

}  // namespace aclkd::stream_bridge
