// What the state store keeps of the registry, and the node lifecycle commands that act on both.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "store/context_set.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/registry_types.h"

namespace aclkd::stream_bridge {
namespace {

// Contexts the store's collector encodes per batch (a node counts its defined contexts, plus one
// for its own row). The registry already holds every change (the node's `contextsUnsaved`
// mark), so a batch is only a copy on its way to SQLite; converting every queued node at once
// made that copy the largest thing in the process while a thousand children sent their
// definitions together (76 MB at 1,000 children when a context was a row of ~250 bytes, most of
// it left fragmented in the heap once written). A node's contexts are now one compressed value
// of ~17 bytes a context (store/context_set.h), encoded and written in ~0.35 µs a context, so a
// batch of 65,536 is ~1.1 MB and ~25 ms of the store's thread: a burst of 10,000 children
// (3.1 million contexts) reaches the disk in ~12 s instead of the ~48 s that 16,384 rows a batch
// took. At a graceful stop detachStore() still saves everything at once.
constexpr size_t kContextsPerBatch = 65536;

// The node info UpdateNodeInfo carries, as the store keeps it (JSON, opaque to the store). One
// table for both directions, so a field added here is written and read back.
using aclk::SystemInfo;
constexpr std::pair<const char*, std::string SystemInfo::*> kSystemFields[] = {
    {"os", &SystemInfo::os},
    {"os-name", &SystemInfo::osName},
    {"os-version", &SystemInfo::osVersion},
    {"kernel-name", &SystemInfo::kernelName},
    {"kernel-version", &SystemInfo::kernelVersion},
    {"architecture", &SystemInfo::architecture},
    {"cpu-frequency", &SystemInfo::cpuFrequency},
    {"memory", &SystemInfo::memory},
    {"disk-space", &SystemInfo::diskSpace},
    {"timezone", &SystemInfo::timezone},
    {"virtualization", &SystemInfo::virtualization},
    {"container", &SystemInfo::container},
};

// `charts`: the host's chart count, so that its next connection sizes the chart table once
// (NodeRegistry::Node::chartsHint); the store keeps the JSON as it is, so no schema change.
std::string encodeNodeInfo(const aclk::RelayedNode& info, const std::string& os, size_t charts) {
  nlohmann::ordered_json j;
  j["version"] = info.agentVersion;
  j["stream-os"] = os;
  for (const auto& [key, field] : kSystemFields) j[key] = info.system.*field;
  j["cpus"] = info.system.cpus;
  if (charts != 0) j["charts"] = charts;
  return j.dump();
}

void decodeNodeInfo(const std::string& text, aclk::RelayedNode* info, std::string* os,
                    uint32_t* charts) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return;
  auto str = [&](const char* key, std::string* out) {
    if (j.contains(key) && j[key].is_string()) *out = j[key].get<std::string>();
  };
  str("version", &info->agentVersion);
  str("stream-os", os);
  for (const auto& [key, field] : kSystemFields) str(key, &(info->system.*field));
  if (j.contains("cpus") && j["cpus"].is_number_unsigned()) {
    info->system.cpus = j["cpus"].get<uint32_t>();
  }
  // A hint, so bounded: a damaged store must not make a restored host reserve gigabytes.
  constexpr uint64_t kMaxChartsHint = 65536;
  if (j.contains("charts") && j["charts"].is_number_unsigned()) {
    *charts = static_cast<uint32_t>(std::min(j["charts"].get<uint64_t>(), kMaxChartsHint));
  }
}

}  // namespace

void NodeRegistry::restoreFrom(std::shared_ptr<store::StateStore> store) {
  if (!store) return;
  auto state = store->takeLoaded();
  size_t contexts = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& sn : state.nodes) {
      auto& slot = nodes_[sn.machineGuid];
      if (slot) continue;
      slot = std::make_unique<Node>(*pools_);
      Node& n = *slot;
      n.info.machineGuid = sn.machineGuid;
      n.info.hostname = sn.hostname;
      n.info.hops = sn.hops;
      n.info.live = false;
      decodeNodeInfo(sn.nodeInfo, &n.info, &n.os, &n.chartsHint);
      n.info.infoVersion = 1;
      n.peer = sn.path;
      n.ephemeral = sn.ephemeral;
      n.firstSeen = sn.firstSeen;
      n.disconnectedAt = sn.lastSeen;
      n.restored = true;
      for (const auto& [k, v] : sn.labels) n.hostLabels.emplace_back(intern(k), intern(v));
      // Contexts exactly as the cloud last saw them, so that its checkpoint hash matches; a
      // context still being collected when the gateway stopped stays open until the stream
      // returns or the node is removed.
      const auto& stored = state.contexts[sn.machineGuid];
      n.contexts.reserve(stored.size());
      for (const auto& sc : stored) {
        const TextId id = pools_->texts.intern(sc.id);
        const ChartShape shape{{},
                               intern(sc.title),
                               intern(sc.units),
                               intern(sc.family),
                               pools_->text(id),
                               intern(sc.chartType),
                               id,
                               static_cast<int64_t>(saturate32(sc.priority))};
        ContextDef def;
        def.id = id;
        def.latest = pools_->shapes.id(shape);
        def.priority = saturate32(sc.priority);
        Context& c = n.contexts.get(id);
        if (!c.defined()) {
          ++n.definedContexts;
          ++definedContexts_;
        }
        n.contexts.update(c, [&](ContextDef& d) { d = def; });
        c.hasShape = true;
        c.first = saturate32(sc.firstEntry);
        c.last = saturate32(sc.lastEntry);
        c.version = saturate32(sc.version);
        c.deleted = sc.deleted;
        c.dirty = false;
        ++contexts;
      }
      n.contexts.share();
    }
    store_ = store;
  }
  // Changes are converted for the store on its own thread, once per batch window: a context
  // that changes three times while a child connects is copied once, and never by the stream.
  store->setCollector([this] { saveQueued(kContextsPerBatch); });
  spdlog::info("STORE: {} known nodes and {} contexts restored from {}{}", state.nodes.size(),
               contexts, store->path(),
               store->movedAside().empty() ? "" : " (a fresh store; the old one is at " +
                                                      store->movedAside() + ")");
  notify();
}

void NodeRegistry::detachStore() {
  std::shared_ptr<store::StateStore> store;
  {
    std::lock_guard lock(mutex_);
    if (!store_) return;
    store = store_;
  }
  store->setCollector({});  // returns once a running collection is over
  {
    std::lock_guard lock(mutex_);
    // Live nodes were seen until now.
    for (auto& [guid, n] : nodes_) {
      if (n->attached) {
        n->infoUnsaved = true;
        queueSave(*n);
      }
    }
  }
  saveQueued();
  {
    std::lock_guard lock(mutex_);
    store_.reset();
  }
  store->flush();
}

void NodeRegistry::queueSave(Node& n) {
  if (!store_) {
    saveLocked(n, nullptr);  // only clears the marks
    return;
  }
  if (n.saveQueued) return;
  n.saveQueued = true;
  queuedSaves_.push_back(n.info.machineGuid);
  store_->changed();
}

void NodeRegistry::saveQueued(size_t contextBudget) {
  std::vector<std::string> guids;
  {
    std::lock_guard lock(mutex_);
    guids.swap(queuedSaves_);
  }
  // A node at a time: streams wait for one node's conversion at most, and not for its
  // compression, which runs between two holds of the lock. Only this function hands context sets
  // to the store (on the store's thread, or in detachStore once the collector is gone), so a set
  // compressed outside the lock cannot overtake a newer one of the same node; and it is handed
  // over under the lock, after checking that the node is still there, so that a node removed
  // meanwhile (remove-stale-node) does not get its contexts back in the file.
  size_t contexts = 0;
  size_t done = 0;
  store::ContextSetEncoder set;
  for (; done < guids.size() && contexts < contextBudget; ++done) {
    {
      std::lock_guard lock(mutex_);
      auto it = nodes_.find(guids[done]);
      if (it == nodes_.end() || !it->second->saveQueued) continue;
      it->second->saveQueued = false;
      const Node& n = *it->second;
      contexts += 1 + (n.contextsUnsaved ? n.definedContexts : 0);
      churn_.fetch_add(1, std::memory_order_relaxed);
      if (!saveLocked(*it->second, &set)) continue;
    }
    std::string encoded = set.finish();
    std::lock_guard lock(mutex_);
    if (store_ && nodes_.count(guids[done]) != 0) {
      store_->putContexts(guids[done], std::move(encoded));
    }
  }
  if (done == guids.size()) return;
  // Over budget: the rest wait, first in line, for the store's next batch. Their changes stay
  // marked in the registry, which costs nothing more.
  std::lock_guard lock(mutex_);
  queuedSaves_.insert(queuedSaves_.begin(), std::make_move_iterator(guids.begin() + done),
                      std::make_move_iterator(guids.end()));
  if (store_) store_->changed();
}

bool NodeRegistry::saveLocked(Node& n, store::ContextSetEncoder* contexts) {
  if (!store_) {
    n.contextsUnsaved = false;
    n.infoUnsaved = false;
    return false;
  }
  if (n.infoUnsaved) {
    store::StoredNode s;
    s.machineGuid = n.info.machineGuid;
    s.hostname = n.info.hostname;
    s.hops = n.info.hops;
    s.path = n.peer;
    for (const auto& [k, v] : n.hostLabels) s.labels.emplace_back(k, v);
    s.nodeInfo =
        encodeNodeInfo(n.info, n.os, n.charts.size() != 0 ? n.charts.size() : n.chartsHint);
    s.firstSeen = n.firstSeen;
    s.lastSeen = n.attached ? clock_() : n.disconnectedAt;
    s.ephemeral = n.ephemeral;
    store_->putNode(std::move(s));
    n.infoUnsaved = false;
  }
  if (!n.contextsUnsaved || !contexts) return false;
  // The whole set, straight from the pooled strings (no record copies on the way).
  for (const Context& c : n.contexts) {
    if (!c.defined()) continue;
    const ContextDef def = n.contexts.def(c);
    const ChartShape& latest = pools_->shapes[def.latest];
    contexts->add(pools_->text(def.id), c.version, c.first, c.last, c.deleted, latest.title,
                  def.priority, latest.chartType, latest.units, latest.family);
  }
  n.contextsUnsaved = false;
  return true;
}

std::vector<std::string> NodeRegistry::removeStaleNodes(const std::string& which,
                                                        bool unregister) {
  std::vector<std::string> out;
  if (which.empty()) return {"Please specify a machine or node UUID or hostname"};
  const bool all = which == "ALL" || which == "ALL_NODES";
  bool removed = false;
  {
    std::lock_guard lock(mutex_);
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      Node& n = *it->second;
      const auto& guid = it->first;
      std::string nodeId;
      if (store_) {
        if (auto rec = store_->nodeIdOf(guid)) nodeId = rec->nodeId;
      }
      const bool named = guid == which || n.info.hostname == which ||
                         (!nodeId.empty() && nodeId == which);
      if (!all && !named) {
        ++it;
        continue;
      }
      const std::string who = "Node '" + n.info.hostname + "' (machine guid: " + guid + ")";
      if (n.attached) {
        if (!all) out.push_back(who + " is online - not changing it");
        ++it;
        continue;
      }
      if (unregister) {
        spdlog::info("STREAM: {} removed by remove-stale-node", who);
        if (store_) store_->removeNode(guid);
        it = eraseNode(it);
        removed = true;
        out.push_back(who + " has been unregistered");
        continue;
      }
      if (!n.ephemeral) {
        n.ephemeral = true;
        n.infoUnsaved = true;
        saveLocked(n, nullptr);  // its row now; changed contexts, if any, stay queued
        out.push_back(who + " has been marked ephemeral");
      } else if (!all) {
        out.push_back(who + " is already ephemeral - not changing it");
      }
      ++it;
    }
  }
  if (removed) notify();
  if (out.empty()) out.push_back(all ? "No stale nodes found" : "No match for \"" + which + "\"");
  return out;
}

}  // namespace aclkd::stream_bridge
