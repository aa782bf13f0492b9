#include "alerts/alert_relay.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <variant>

#include "alerts/alert_log_parser.h"
#include "alerts/node_alerts.h"
#include "common/log_limiter.h"
#include "common/untrusted_text.h"

namespace aclkd::alerts {
namespace {

using Clock = std::chrono::steady_clock;
using aclk::AlarmConfig;
using aclk::AlarmEntry;
using query::ForwardOutcome;
using query::ForwardResponse;

constexpr auto kRefreshEvery = std::chrono::seconds(2);
// A burst of stream changes (thousands of children reconnecting) re-reads the node list at most
// this often: each read copies every node's facts.
constexpr auto kRefreshGap = std::chrono::milliseconds(250);
// v2 reads times below three years as relative to now (docs/protocol/alerts.md §2): the first
// read of a v2 log starts at an absolute time before any agent ran.
constexpr uint64_t kV2LogStart = 946684800;  // 2000-01-01
constexpr size_t kConfigCacheLimit = 10000;

enum class Step { kProbe, kLog, kConfig };
enum class Api { kUnknown, kV1, kV2 };

struct PollDone {
  std::string machineGuid;
  Step step;
  Api api;
  ForwardResponse response;
  std::string configHash;  // Step::kConfig: the hash asked for
};

struct ConfigRequest {
  std::string configHash;
  std::function<void(std::optional<AlarmConfig>)> done;
};

using Event = std::variant<PollDone, ConfigRequest>;

// What completions push into; held weakly by them, so a completion after the relay is gone is
// dropped (as LinkEvents::weakPush).
struct Inbox {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Event> events;
  bool nodesDirty = true;
  bool stopping = false;
  void push(Event e) {
    {
      std::lock_guard lock(mutex);
      events.push_back(std::move(e));
    }
    cv.notify_one();
  }
};

struct Node {
  // Guarded by Impl::mutex.
  std::string nodeId;
  std::string hostname;
  NodeAlerts alerts;
  bool relayed = false;
  std::string reason = "not checked yet";
  // The relay's thread only.
  bool live = false;
  bool known = false;  // in the last node list
  std::optional<query::AgentTarget> target;
  Step phase = Step::kProbe;
  Api api = Api::kUnknown;
  Clock::time_point due{};
  bool queued = false;  // in Impl::schedule under `due`
  bool inFlight = false;
  int failures = 0;
  int pollsSinceProbe = 0;
};

}  // namespace

struct AlertRelay::Impl {
  Impl(RelayOptions o, NodeList n, std::shared_ptr<query::ForwardClient> c, PersistAlerts p,
       std::function<void()> r)
      : opt(o), nodeList(std::move(n)), client(std::move(c)), persist(std::move(p)),
        relayedChanged(std::move(r)), rng(o.seed ? o.seed : std::random_device{}()) {}

  const RelayOptions opt;
  const NodeList nodeList;
  const std::shared_ptr<query::ForwardClient> client;
  const PersistAlerts persist;
  const std::function<void()> relayedChanged;
  const std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();
  std::thread thread;
  AlertStats stats;
  LogLimiter limiter;

  mutable std::mutex mutex;
  std::map<std::string, Node> nodes;                 // by machine GUID; guarded by mutex
  std::map<std::string, std::string> guidByNodeId;   // guarded by mutex
  std::map<std::string, std::string> hashOwner;      // config hash -> machine GUID; guarded

  // The relay's thread only.
  std::mt19937_64 rng;
  std::map<std::string, AlarmConfig> configs;  // by hash
  std::map<std::string, std::vector<std::function<void(std::optional<AlarmConfig>)>>> waiting;
  size_t inFlight = 0;
  Clock::time_point nextRefresh{};
  Clock::time_point lastRefresh{};
  bool refreshWanted = false;  // the node list changed since the last read
  // Idle live nodes by when their next poll is due: a wake looks at the due ones only (the loop
  // wakes once per completed poll, a scan of every node each time cost 20 % of a core at 10,000).
  std::set<std::pair<Clock::time_point, std::string>> schedule;
  bool relayedFlipped = false;

  Clock::duration jittered() {
    std::uniform_real_distribution<double> d(0.9, 1.1);
    return std::chrono::duration_cast<Clock::duration>(opt.pollEvery * d(rng));
  }

  // Under mutex.
  void setRelayed(Node& n, bool relayed, std::string reason) {
    if (n.relayed != relayed) {
      stats.nodesRelayed += relayed ? 1 : -1;
      relayedFlipped = true;
      if (relayed) {
        spdlog::info("ALERTS: node '{}': its alerts are relayed (health enabled)",
                     escapeUntrusted(n.hostname));
      } else {
        spdlog::info("ALERTS: node '{}': its alerts are not relayed (health disabled): {}",
                     escapeUntrusted(n.hostname), reason);
      }
    }
    n.relayed = relayed;
    n.reason = std::move(reason);
  }

  void scheduleAt(const std::string& guid, Node& n, Clock::time_point due) {
    if (n.queued) schedule.erase({n.due, guid});
    n.due = due;
    n.queued = true;
    schedule.insert({due, guid});
  }

  void unschedule(const std::string& guid, Node& n) {
    if (n.queued) schedule.erase({n.due, guid});
    n.queued = false;
  }

  Node* byNodeId(const std::string& nodeId) {
    const auto it = guidByNodeId.find(nodeId);
    if (it == guidByNodeId.end()) return nullptr;
    const auto n = nodes.find(it->second);
    return n == nodes.end() ? nullptr : &n->second;
  }

  // ---- the relay's thread --------------------------------------------------------------------

  void run() {
    std::unique_lock lock(inbox->mutex);
    Clock::time_point wake = Clock::now();
    while (true) {
      inbox->cv.wait_until(lock, wake, [&] {
        return inbox->stopping || inbox->nodesDirty || !inbox->events.empty();
      });
      if (inbox->stopping) return;
      std::deque<Event> events;
      events.swap(inbox->events);
      const bool dirty = inbox->nodesDirty;
      inbox->nodesDirty = false;
      lock.unlock();
      for (auto& e : events) {
        if (auto* p = std::get_if<PollDone>(&e)) {
          onPollDone(*p);
        } else {
          onConfigRequest(std::get<ConfigRequest>(e));
        }
      }
      const auto now = Clock::now();
      refreshWanted = refreshWanted || dirty;
      if ((refreshWanted && now >= lastRefresh + kRefreshGap) || now >= nextRefresh) {
        refresh(now);
        lastRefresh = now;
        nextRefresh = now + kRefreshEvery;
        refreshWanted = false;
      }
      wake = dispatch(Clock::now());
      if (refreshWanted) wake = std::min(wake, lastRefresh + kRefreshGap);
      if (relayedFlipped) {
        relayedFlipped = false;
        if (relayedChanged) relayedChanged();
      }
      lock.lock();
    }
  }

  void refresh(Clock::time_point now) {
    std::vector<query::NodeFacts> facts = nodeList();
    std::lock_guard lock(mutex);
    for (auto& [guid, n] : nodes) n.known = false;
    for (const auto& f : facts) {
      if (f.self) continue;
      Node& n = nodes[f.machineGuid];
      n.known = true;
      n.hostname = f.hostname;
      if (n.nodeId != f.nodeId) {
        if (!n.nodeId.empty()) guidByNodeId.erase(n.nodeId);
        n.nodeId = f.nodeId;
        if (!n.nodeId.empty()) guidByNodeId[n.nodeId] = f.machineGuid;
      }
      std::string error;
      n.target = query::targetFor(f, opt.defaultPort, &error);
      if (!f.allowQueries) {
        n.target.reset();
        error = "stream.conf says `allow queries = no` for this node";
      }
      if (!f.live) {
        n.live = false;
        unschedule(f.machineGuid, n);
        setRelayed(n, false, "the node's stream is not connected");
        continue;
      }
      if (!n.target) {
        n.live = false;
        unschedule(f.machineGuid, n);
        setRelayed(n, false, "no agent to ask: " + error);
        continue;
      }
      if (!n.live) {  // it just connected: check its health at once
        n.live = true;
        n.phase = Step::kProbe;
        n.failures = 0;
        scheduleAt(f.machineGuid, n, now);
      }
    }
    for (auto it = nodes.begin(); it != nodes.end();) {
      if (it->second.known || it->second.inFlight) {
        ++it;
        continue;
      }
      setRelayed(it->second, false, "");
      unschedule(it->first, it->second);
      if (!it->second.nodeId.empty()) guidByNodeId.erase(it->second.nodeId);
      it = nodes.erase(it);
    }
  }

  // Starts the polls that are due, as many as maxInFlight allows; returns when the loop is to
  // wake next (the earliest due poll, the next refresh; at the limit a completion wakes it).
  Clock::time_point dispatch(Clock::time_point now) {
    std::lock_guard lock(mutex);
    while (inFlight < opt.maxInFlight && !schedule.empty() && schedule.begin()->first <= now) {
      const std::string guid = schedule.begin()->second;
      schedule.erase(schedule.begin());
      const auto it = nodes.find(guid);
      if (it == nodes.end()) continue;
      Node& n = it->second;
      n.queued = false;
      if (!n.live || !n.target || n.inFlight) continue;
      std::string path;
      if (n.phase == Step::kProbe) {
        path = "/api/v1/alarms?all";
      } else if (n.api == Api::kV2) {
        const uint64_t after = n.alerts.firstContact() ? kV2LogStart : n.alerts.pollWhen();
        path = "/api/v2/alert_transitions?after=" + std::to_string(after) + "&last=1000";
      } else {
        path = "/api/v1/alarm_log?after=" + std::to_string(n.alerts.pollCursor());
      }
      n.inFlight = true;
      ++inFlight;
      ++stats.pollsInFlight;
      submit(guid, n, path, n.phase, n.api);
    }
    if (inFlight >= opt.maxInFlight || schedule.empty()) return nextRefresh;
    return std::min(nextRefresh, schedule.begin()->first);
  }

  void submit(const std::string& guid, const Node& n, const std::string& path, Step step,
              Api api, const std::string& configHash = "") {
    query::ForwardRequest r;
    r.url = n.target->baseUrl + path;
    r.headers = {"Accept: application/json"};
    r.caFile = n.target->caFile;
    r.insecure = n.target->insecure;
    r.agentKey = n.target->agentKey;
    r.deadline = Clock::now() + opt.requestTimeout;
    r.maxResponseBytes = opt.maxResponseBytes;
    r.cacheDns = false;  // thousands of agents polled in turn: see ForwardRequest::cacheDns
    client->submit(std::move(r), [weak = std::weak_ptr<Inbox>(inbox), guid, step, api,
                                  configHash](ForwardResponse response) {
      if (auto box = weak.lock()) {
        box->push(PollDone{guid, step, api, std::move(response), configHash});
      }
    });
  }

  // Why a poll failed, in a few words (the limiter's reason key) and in full; "" when it did not.
  static PollOutcome outcomeOf(const ForwardResponse& r) {
    switch (r.outcome) {
      case ForwardOutcome::kAnswered: return r.status == 200 ? PollOutcome::kOk : PollOutcome::kHttpError;
      case ForwardOutcome::kTimeout: return PollOutcome::kTimeout;
      case ForwardOutcome::kTooLarge: return PollOutcome::kBadAnswer;
      case ForwardOutcome::kOverloaded: return PollOutcome::kOverloaded;
      default: return PollOutcome::kUnreachable;
    }
  }

  void onPollDone(PollDone& p) {
    if (p.step == Step::kConfig) {
      onConfigDone(p);
      return;
    }
    // The answer is read before the lock is taken: the link's thread waits on that lock, never
    // on an agent's JSON (up to 8 MiB).
    PollOutcome outcome = outcomeOf(p.response);
    std::string error;
    std::vector<AgentAlarm> alarms;
    std::vector<AlarmEntry> entries;
    bool read = false;
    if (outcome == PollOutcome::kOk) {
      read = p.step == Step::kProbe ? parseAlarmsAll(p.response.body, &alarms, &error)
             : p.api == Api::kV2    ? parseV2Transitions(p.response.body, &entries, &error)
                                    : parseV1AlarmLog(p.response.body, &entries, &error);
      if (!read) outcome = PollOutcome::kBadAnswer;
    }
    std::unique_lock lock(mutex);
    --inFlight;
    --stats.pollsInFlight;
    const auto it = nodes.find(p.machineGuid);
    if (it == nodes.end()) return;
    Node& n = it->second;
    n.inFlight = false;
    const auto now = Clock::now();
    // An agent without the v2 API (1.37 answers 404 "Unsupported API version") reads the v1 log.
    if (p.step == Step::kLog && p.api == Api::kV2 && outcome == PollOutcome::kHttpError &&
        p.response.status == 404) {
      n.api = Api::kV1;
      scheduleAt(p.machineGuid, n, now);
      return;
    }
    if (read) {
      if (p.step == Step::kProbe) {
        onProbe(n, p.machineGuid, alarms);
      } else {
        onLog(n, p.machineGuid, entries);
        scheduleAt(p.machineGuid, n, now + jittered());
      }
    } else if (error.empty()) {
      error = p.response.outcome == ForwardOutcome::kAnswered
                  ? "HTTP " + std::to_string(p.response.status)
                  : p.response.error.empty() ? pollOutcomeName(outcome) : p.response.error;
    }
    stats.count(outcome);
    if (outcome == PollOutcome::kOk) return;
    scheduleAt(p.machineGuid, n, now + jittered());
    ++n.failures;
    // The node's target may have gone meanwhile (stream.conf reloaded): no dereference.
    const std::string base = n.target ? n.target->baseUrl : "node " + n.hostname + "'s agent";
    const std::string what = std::string(p.step == Step::kProbe ? "health check" : "alert log") +
                             " of " + base + " failed: " + escapeUntrusted(error);
    if (p.step == Step::kProbe || n.failures >= opt.failuresBeforeOff) {
      setRelayed(n, false, what);
      n.phase = Step::kProbe;
    }
    const std::string agent = n.target ? n.target->agentKey : base;
    const bool stillRelayed = n.relayed;
    lock.unlock();
    limiter.warn("ALERTS", agent, pollOutcomeName(outcome),
                 what + " (the node's alerts " +
                     (stillRelayed ? "stay relayed for now)" : "are not relayed)"));
  }

  // Under mutex.
  void onProbe(Node& n, const std::string& guid, std::vector<AgentAlarm>& alarms) {
    n.failures = 0;
    if (alarms.empty()) {
      setRelayed(n, false, "health is off on the agent (it defines no alerts)");
      scheduleAt(guid, n, Clock::now() + jittered());
      return;
    }
    bool agentHashes = false;
    for (auto& a : alarms) {
      agentHashes = agentHashes || a.agentHash;
      if (configs.size() < kConfigCacheLimit) configs[a.configHash] = std::move(a.config);
    }
    // Agents with their own configuration hashes (v2) have the v2 log; 1.37 has the v1 one.
    if (n.api == Api::kUnknown) n.api = agentHashes ? Api::kV2 : Api::kV1;
    n.phase = Step::kLog;
    n.pollsSinceProbe = 0;
    scheduleAt(guid, n, Clock::now());  // the log at once
  }

  // Under mutex.
  void onLog(Node& n, const std::string& guid, const std::vector<AlarmEntry>& entries) {
    n.failures = 0;
    const uint64_t collapsedBefore = n.alerts.collapsed();
    stats.transitionsRead += n.alerts.add(entries);
    stats.pendingCollapsed += n.alerts.collapsed() - collapsedBefore;
    for (const auto& e : entries) {
      if (!e.configHash.empty() && hashOwner.size() < kConfigCacheLimit) hashOwner[e.configHash] = guid;
    }
    setRelayed(n, true, "");
    if (++n.pollsSinceProbe >= opt.reprobeEvery) n.phase = Step::kProbe;
  }

  void onConfigRequest(ConfigRequest& r) {
    if (const auto it = configs.find(r.configHash); it != configs.end()) {
      ++stats.configsAnswered;
      r.done(it->second);
      return;
    }
    auto& queue = waiting[r.configHash];
    queue.push_back(std::move(r.done));
    if (queue.size() > 1) return;  // already being fetched
    std::lock_guard lock(mutex);
    const auto owner = hashOwner.find(r.configHash);
    const auto n = owner == hashOwner.end() ? nodes.end() : nodes.find(owner->second);
    if (n == nodes.end() || !n->second.target) {
      finishConfig(r.configHash);
      return;
    }
    const Api api = n->second.api;
    const std::string path = api == Api::kV2 ? "/api/v2/alert_config?config=" + r.configHash
                                             : "/api/v1/alarms?all";
    submit(n->first, n->second, path, Step::kConfig, api, r.configHash);
  }

  void onConfigDone(const PollDone& p) {
    std::string error;
    if (outcomeOf(p.response) == PollOutcome::kOk) {
      if (p.api == Api::kV2) {
        AlarmConfig c;
        if (parseV2AlertConfig(p.response.body, &c, &error)) configs[p.configHash] = std::move(c);
      } else {  // 1.37 answers every definition at once, each under its derived hash
        std::vector<AgentAlarm> alarms;
        if (parseAlarmsAll(p.response.body, &alarms, &error)) {
          for (auto& a : alarms) configs[a.configHash] = std::move(a.config);
        }
      }
    }
    if (!error.empty()) {
      limiter.warn("ALERTS", p.machineGuid, "config",
                   "alert configuration " + p.configHash + " unreadable: " + escapeUntrusted(error));
    }
    finishConfig(p.configHash);
  }

  void finishConfig(const std::string& hash) {
    const auto found = configs.find(hash);
    auto done = std::move(waiting[hash]);
    waiting.erase(hash);
    for (auto& d : done) {
      if (found != configs.end()) {
        ++stats.configsAnswered;
        d(found->second);
      } else {
        ++stats.configsUnknown;
        d(std::nullopt);
      }
    }
  }
};

AlertRelay::AlertRelay(RelayOptions options, NodeList nodes,
                       std::shared_ptr<query::ForwardClient> client, PersistAlerts persist,
                       std::function<void()> relayedChanged)
    : impl_(std::make_unique<Impl>(options, std::move(nodes), std::move(client),
                                   std::move(persist), std::move(relayedChanged))) {}

AlertRelay::~AlertRelay() { stop(); }

void AlertRelay::restore(const std::string& machineGuid, uint64_t sentCursor,
                         std::vector<AlarmEntry> lastSent) {
  std::lock_guard lock(impl_->mutex);
  impl_->nodes[machineGuid].alerts.restore(sentCursor, std::move(lastSent));
}

void AlertRelay::start() {
  if (!impl_->thread.joinable()) impl_->thread = std::thread([this] { impl_->run(); });
}

void AlertRelay::stop() {
  {
    std::lock_guard lock(impl_->inbox->mutex);
    impl_->inbox->stopping = true;
  }
  impl_->inbox->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void AlertRelay::nodesChanged() {
  {
    std::lock_guard lock(impl_->inbox->mutex);
    impl_->inbox->nodesDirty = true;
  }
  impl_->inbox->cv.notify_one();
}

bool AlertRelay::relayed(const std::string& machineGuid) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->nodes.find(machineGuid);
  return it != impl_->nodes.end() && it->second.relayed;
}

std::optional<AlertNodeStatus> AlertRelay::status(const std::string& machineGuid,
                                                  bool withCurrent) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->nodes.find(machineGuid);
  if (it == impl_->nodes.end()) return std::nullopt;
  const Node& n = it->second;
  AlertNodeStatus s;
  s.relayed = n.relayed;
  s.reason = n.reason;
  s.raised = n.alerts.raised();
  s.lastTransition = n.alerts.lastTransition();
  s.version = n.alerts.version();
  s.pending = n.alerts.pendingCount();
  if (withCurrent) s.current = n.alerts.current();
  return s;
}

const AlertStats& AlertRelay::stats() const { return impl_->stats; }

bool AlertRelay::relays(const std::string& nodeId) {
  std::lock_guard lock(impl_->mutex);
  const Node* n = impl_->byNodeId(nodeId);
  return n && n->relayed;
}

uint64_t AlertRelay::version(const std::string& nodeId) {
  std::lock_guard lock(impl_->mutex);
  const Node* n = impl_->byNodeId(nodeId);
  return n ? n->alerts.version() : 0;
}

std::vector<AlarmEntry> AlertRelay::snapshot(const std::string& nodeId) {
  std::lock_guard lock(impl_->mutex);
  Node* n = impl_->byNodeId(nodeId);
  if (!n) return {};
  std::vector<AlarmEntry> changed;
  auto out = n->alerts.snapshot(&changed);
  if (!out.empty()) ++impl_->stats.snapshots;
  impl_->stats.transitionsSent += changed.size();
  if (impl_->persist && (!changed.empty() || n->alerts.sentCursor() != 0)) {
    impl_->persist(impl_->guidByNodeId[nodeId], n->alerts.sentCursor(), changed);
  }
  return out;
}

std::vector<AlarmEntry> AlertRelay::pending(const std::string& nodeId, size_t limit) {
  std::lock_guard lock(impl_->mutex);
  const Node* n = impl_->byNodeId(nodeId);
  return n ? n->alerts.pending(limit) : std::vector<AlarmEntry>{};
}

void AlertRelay::sent(const std::string& nodeId, uint64_t throughCursor) {
  std::lock_guard lock(impl_->mutex);
  Node* n = impl_->byNodeId(nodeId);
  if (!n) return;
  std::vector<AlarmEntry> changed;
  n->alerts.sent(throughCursor, &changed);
  impl_->stats.transitionsSent += changed.size();
  if (impl_->persist) impl_->persist(impl_->guidByNodeId[nodeId], n->alerts.sentCursor(), changed);
}

void AlertRelay::configuration(const std::string& configHash,
                               std::function<void(std::optional<AlarmConfig>)> done) {
  impl_->inbox->push(ConfigRequest{configHash, std::move(done)});
}

}  // namespace aclkd::alerts
