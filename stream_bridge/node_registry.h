#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aclk/node_relay.h"
#include "store/state_store.h"
#include "stream_bridge/function_table.h"
#include "stream_bridge/handshake.h"
#include "stream_bridge/stream_conf.h"
#include "stream_bridge/stream_parser.h"

namespace aclkd::store {
class ContextSetEncoder;
}  // namespace aclkd::store

namespace aclkd::stream_bridge {

// What `aclkctl nodes` shows of one streamed host.
struct NodeView {
  std::string machineGuid;
  std::string hostname;
  std::string version;
  std::string os;
  int hops = 0;
  bool live = false;
  bool restored = false;  // known from the state store; its stream has not returned since
  std::string nodeId;     // the cloud's, when known
  bool ephemeral = false;
  std::string peer;
  std::string apiKey;  // of the last stream; for the query proxy's settings, never displayed
  std::time_t connectedSince = 0;
  std::time_t disconnectedAt = 0;
  size_t charts = 0;
  size_t relayedCharts = 0;
  size_t dimensions = 0;
  size_t contexts = 0;
  size_t hostLabels = 0;
  size_t chartLabels = 0;
  uint64_t contextsVersionHash = 0;
  // Functions: how many the live stream declared, and whether the cloud may call them (`funcs`)
  // and configure the node (`dyncfg`); when not, the reason, for `aclkctl nodes`.
  size_t functions = 0;
  bool functionsCallable = false;
  std::string functionsOff;
  bool dyncfg = false;
  std::string dyncfgOff;
  uint64_t streamCapabilities = 0;
};

// Every streamed host and its metadata, shared by all streams (one per host at a time) and the
// link, which pulls nodes and contexts through aclk::NodeRelaySource.
//
// Contexts are derived from charts as Netdata does: one context per `context` value of a relayed
// chart; title, units, family and chart type from the chart defined last, the lowest priority,
// first entry = the earliest of its charts, last entry = 0 while any chart is collected, else the
// latest; version = the epoch second of the context's last change (strictly increasing, so the
// version hash always moves). A context whose charts all went away is `deleted`.
//
// Strings that repeat across hosts (titles, units, contexts, dimension ids, label names) are
// interned once per process: a thousand children of one kind then share one copy of them.
class NodeRegistry : public aclk::NodeRelaySource {
 public:
  using Clock = std::function<std::time_t()>;
  // `changed` runs (outside the registry's lock) when the node list or a node's info changed.
  explicit NodeRegistry(std::function<void()> changed, Clock clock = {});
  ~NodeRegistry() override;

  class Stream;
  // A host starts streaming. nullptr when the host is already live (Netdata's "already
  // streaming"); the caller then replies kReplyAlreadyStreaming. `noteDuplicate`: count and warn
  // about it as a second live stream (false while the caller still waits for the previous
  // stream's close).
  std::unique_ptr<Stream> attach(const StreamRequest& request, const HostPolicy& policy,
                                 const std::string& peer, bool noteDuplicate = true);

  // Gives every host's chart and context tables whose definitions are its own (a host copies
  // them while it defines, or diverges) back to the shared sets: a host then holds only its own
  // times and flags. The stream server calls it once a burst of definitions is over (a quiet
  // second); a host's disconnect does it for that host. See stream_bridge/host_table.h.
  void shareTables();
  // How the hosts' tables share their definitions: the distinct chart and context row sets held,
  // and the tables that are their host's own copy (not shared yet).
  struct Sharing {
    size_t chartSets = 0;
    size_t contextSets = 0;
    size_t ownTables = 0;
  };
  Sharing sharing() const;

  // Ephemeral hosts that have been offline longer than `after` are forgotten (here, in the
  // store, and, through the link, in the cloud).
  void cleanupEphemeral(std::time_t after);

  // Durable state: restores what `store` remembers (nodes offline until their stream returns,
  // their contexts as the cloud last saw them) and mirrors every later change into it. Call once,
  // before the first stream.
  void restoreFrom(std::shared_ptr<store::StateStore> store);
  // Stops mirroring: at a graceful stop, before the streams close, so that the store keeps the
  // contexts as the cloud last saw them (the cloud's checkpoint after the restart then matches).
  void detachStore();

  // Netdata's `remove-stale-node` (unregister = true: the node is forgotten here, in the store
  // and in the cloud) and `mark-stale-nodes-ephemeral` (unregister = false). `which` is a machine
  // GUID, a node id, a hostname, or ALL / ALL_NODES. One line per node acted on, or the reason
  // nothing was done.
  std::vector<std::string> removeStaleNodes(const std::string& which, bool unregister);

  std::vector<NodeView> nodes() const;
  // How many hosts are live, without building their views (the status page's once-a-second
  // history: nodes() walks every context of every host).
  size_t liveCount() const;
  // The counts /metrics shows, without building the views (nodes() copies every host's strings:
  // ~100 ms at 10,000 hosts, under the lock the streams' definitions wait for).
  struct Totals {
    size_t nodes = 0;
    size_t live = 0;
    size_t contexts = 0;  // as NodeView::contexts, summed
  };
  Totals totals() const;
  // What `GET /api/v3/stream_info` tells a child of its own host, without building the views.
  struct HostStatus {
    bool known = false;
    bool live = false;
    std::time_t firstSeen = 0;
    std::time_t lastSeen = 0;  // the last disconnect; 0 while live
    size_t hosts = 0;          // every host the registry knows
  };
  HostStatus hostStatus(const std::string& machineGuid) const;
  // Streams refused because their machine GUID was already streaming (a cloned identity).
  uint64_t duplicateStreams() const;
  // CHART definitions received and nodes handed to the state store so far: what allocates and
  // frees the most while children connect. Read without the lock (the stream server's trim
  // after a definition burst).
  uint64_t churn() const { return churn_.load(std::memory_order_relaxed); }

  // Functions (node_registry_functions.cc). `allowed` says whether the cloud may call a node's
  // functions (aclkd.conf `[cloud] functions` and stream.conf `allow functions`), asked again
  // at every look, so a reload takes effect at once; unset: always.
  using FunctionsAllowed =
      std::function<std::string(const std::string& apiKey, const std::string& machineGuid)>;
  void setFunctionsPolicy(FunctionsAllowed allowed);
  // The node's declared functions, when its stream is live; nullopt otherwise.
  struct NodeFunctions {
    std::string hostname;
    FunctionTable table;
  };
  std::optional<NodeFunctions> functionsOf(const std::string& machineGuid) const;
  // Declarations dropped because a node's table was full (FunctionTable::kMaxFunctions).
  uint64_t functionsRefused() const;

  // aclk::NodeRelaySource
  std::vector<aclk::RelayedNode> relayedNodes() override;
  aclk::ContextBatch contextsSnapshot(const std::string& machineGuid) override;
  aclk::Collectors collectors(const std::string& machineGuid) override;
  std::optional<aclk::ContextBatch> contextsUpdates(const std::string& machineGuid) override;

  struct Node;
  struct Pools;  // texts, chart shapes, dimension sets and label sets shared by all hosts

 private:
  friend class Stream;
  std::string_view intern(std::string_view text);  // under mutex_
  void detach(Node& node);
  void notify();
  // Hands the node's own row to the store if it changed; if its contexts changed, adds them to
  // `contexts` (when given) and returns true: the caller compresses them and hands them over
  // after releasing mutex_ (saveQueued). Under mutex_.
  bool saveLocked(Node& node, store::ContextSetEncoder* contexts);
  void queueSave(Node& node);   // saveLocked on the store's thread, at its next batch; under mutex_
  // The store's collector: saves the queued nodes, at most about `contextBudget` contexts; the
  // rest stay queued for its next batch (see node_registry_store.cc).
  void saveQueued(size_t contextBudget = SIZE_MAX);
  void noteDuplicateStream(const Node& node, const std::string& peer);  // under mutex_
  // The node's function features and, when off, why (under mutex_).
  struct FunctionState {
    aclk::NodeFeatures features;
    std::string functionsOff;
    std::string dyncfgOff;
  };
  FunctionState functionState(const Node& node) const;
  FunctionsAllowed functionsAllowed_;  // guarded by mutex_
  uint64_t functionsRefused_ = 0;      // guarded by mutex_

  std::function<void()> changed_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::unique_ptr<Pools> pools_;                          // guarded by mutex_
  std::map<std::string, std::unique_ptr<Node>> nodes_;    // by machine GUID; guarded by mutex_
  std::shared_ptr<store::StateStore> store_;              // guarded by mutex_
  std::vector<std::string> queuedSaves_;                  // machine GUIDs; guarded by mutex_
  uint64_t duplicateStreams_ = 0;                         // guarded by mutex_
  // totals() and liveCount() without a walk: /metrics at 10,000 nodes walked 3 million contexts
  // under the lock on every scrape. Kept where a node goes live or not, a context becomes
  // defined (refreshContext, the store's restore) and a node is erased (eraseNode).
  size_t liveNodes_ = 0;        // guarded by mutex_
  size_t definedContexts_ = 0;  // guarded by mutex_
  std::map<std::string, std::unique_ptr<Node>>::iterator eraseNode(
      std::map<std::string, std::unique_ptr<Node>>::iterator it);
  std::atomic<uint64_t> churn_{0};
  std::map<std::string, std::time_t> duplicateWarnedAt_;  // guarded by mutex_
};

// One live stream's view into the registry: the parser's events land here. Destroying it marks
// the host offline (liveness false, contexts get their last entry).
class NodeRegistry::Stream : public StreamEvents {
 public:
  Stream(NodeRegistry& registry, Node& node) : registry_(registry), node_(node) {}
  ~Stream() override;

  void onClaimedId(std::string_view machineGuid, std::string_view claimId) override;
  void onHostLabel(std::string_view name, std::string_view value, uint32_t source) override;
  void onHostLabelsCommit() override;
  void onChart(const ChartDefinition& chart) override;
  void onChartLabel(std::string_view chartId, std::string_view name, std::string_view value,
                    uint32_t source) override;
  void onChartLabelsCommit(std::string_view chartId) override;
  void onDimension(std::string_view chartId, const DimensionDefinition& dim) override;
  void onFunction(std::string_view chartId, const FunctionDeclaration& f) override;
  void onFunctionDel(std::string_view chartId, std::string_view name) override;
  // What the stream negotiated (after the handshake): whether calls may go down it.
  void setCapabilities(uint64_t negotiated);
  void onVariable(std::string_view chartId, std::string_view name,
                  std::string_view value) override;
  void onChartDefinitionEnd(std::string_view chartId, int64_t firstEntry, int64_t lastEntry,
                            int64_t childNow) override;
  void onSamples(std::string_view chartId, int64_t endTime) override;
  void onReplicationEnd(std::string_view chartId, int64_t firstEntry,
                        int64_t lastEntry) override;

  const std::string& machineGuid() const;

  // The per-sample path, without the registry's lock: true when `chartId` has had a sample on
  // this stream before (its time is then kept here). A chart id that is not clean text never
  // matches (the ids kept here are the registry's, escaped), so the caller may pass it raw.
  bool sampleCached(std::string_view chartId, int64_t endTime) {
    const size_t n = sampled_.size();
    if (n == 0) return false;
    // Children send their sample blocks in the same order every second: the successor of the
    // previous chart is the one to try first.
    size_t i = cursor_ + 1 < n ? cursor_ + 1 : 0;
    if (!sampled_[i].is(chartId)) {
      i = findSampled(chartId);
      if (i == n) return false;
    }
    cursor_ = static_cast<uint32_t>(i);
    // 32-bit seconds (registry::saturate32): enough until 2106, later times kept as the limit.
    const uint32_t t =
        endTime > 0 ? static_cast<uint32_t>(std::min<int64_t>(endTime, UINT32_MAX)) : now_;
    if (t > sampled_[i].last) sampled_[i].last = t;
    return true;
  }
  // The time a BEGIN without its own (1.37) is stamped with; the owner calls it once per read.
  void refreshClock();

 private:
  size_t findSampled(std::string_view chartId) const;

  void settle();  // the host's info is complete: the link may see it (Node::awaitingLabels)
  NodeRegistry& registry_;
  Node& node_;
  // Charts sampled on this stream, in the order of their first sample, with their last sample
  // time: the shared registry is touched on a chart's first sample and at disconnect only. 16
  // bytes: the id's interned text as pointer and length (compared without a look-up), and the
  // time as 32-bit seconds.
  struct Sampled {
    const char* id = nullptr;
    uint32_t size = 0;
    uint32_t last = 0;
    bool is(std::string_view chartId) const {
      return size == chartId.size() && std::memcmp(id, chartId.data(), size) == 0;
    }
    std::string_view text() const { return {id, size}; }
  };
  std::vector<Sampled> sampled_;
  uint32_t cursor_ = 0;
  uint32_t now_ = 0;
  std::vector<std::pair<std::string, std::string>> pendingHostLabels_;
  std::vector<std::pair<std::string, std::string>> pendingChartLabels_;
};

// Netdata's system-info parameters of a STREAM request as the link's SystemInfo.
aclk::SystemInfo systemInfoFromRequest(const StreamRequest& request);

}  // namespace aclkd::stream_bridge
