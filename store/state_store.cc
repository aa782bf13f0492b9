#include "store/state_store.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/thread_priority.h"
#include "store/context_set.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace aclkd::store {
namespace {

using Micros = std::chrono::microseconds;

// SQLite integers are signed; versions and hashes are uint64 and go through bit for bit.
int64_t toDb(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t fromDb(int64_t v) { return static_cast<uint64_t>(v); }

std::string labelsToJson(const std::vector<std::pair<std::string, std::string>>& labels) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [k, v] : labels) j.push_back({k, v});
  return j.dump();
}

std::vector<std::pair<std::string, std::string>> labelsFromJson(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& p : j) {
    if (p.is_array() && p.size() == 2 && p[0].is_string() && p[1].is_string()) {
      out.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
    }
  }
  return out;
}

std::string utcStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

struct StateStore::Pending {
  std::set<std::string> removed;
  std::map<std::string, StoredNode> nodes;
  std::map<std::string, std::string> contextSets;  // by machine GUID, encoded (context_set.h)
  std::map<std::string, NodeIdRecord> nodeIds;
  std::map<std::string, CheckpointRecord> checkpoints;
  std::map<std::string, uint64_t> alertCursors;
  std::map<std::pair<std::string, std::string>, std::string> alerts;
  bool empty() const {
    return removed.empty() && nodes.empty() && contextSets.empty() && nodeIds.empty() &&
           checkpoints.empty() && alertCursors.empty() && alerts.empty();
  }
  size_t rows() const {
    return removed.size() + nodes.size() + contextSets.size() + nodeIds.size() +
           checkpoints.size() + alertCursors.size() + alerts.size();
  }
};

StateStore::StateStore(Options options)
    : options_(std::move(options)), pending_(std::make_unique<Pending>()) {}

std::unique_ptr<StateStore> StateStore::open(const Options& options, std::string* error) {
  std::unique_ptr<StateStore> store(new StateStore(options));
  try {
    store->openOrRecover();
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
  for (const auto& [guid, rec] : store->loaded_.nodeIds) store->nodeIds_[guid] = rec;
  store->writer_ = std::thread([s = store.get()] {
    runAsBulkThread();  // bulk work: common/thread_priority.h
    s->writerLoop();
  });
  return store;
}

void StateStore::openOrRecover() {
  const auto started = std::chrono::steady_clock::now();
  auto prepare = [this] {
    db_ = std::make_unique<SqliteDb>(options_.path);
    db_->exec("PRAGMA journal_mode=WAL");
    db_->exec("PRAGMA synchronous=NORMAL");
    db_->exec("PRAGMA busy_timeout=2000");
    migrateSchema(*db_, kSchemaVersion);
  };
  try {
    prepare();
    load();
  } catch (const SqliteError& e) {
    db_.reset();
    loaded_ = {};
    namespace fs = std::filesystem;
    if (!fs::exists(options_.path)) throw;  // nothing to move aside: the directory is the problem
    const std::string aside = options_.path + ".unreadable-" + utcStamp();
    spdlog::error("STORE: the state store {} is unreadable ({}); moving it aside to {} and "
                  "starting with an empty store: known nodes and their node ids are forgotten",
                  options_.path, e.what(), aside);
    fs::rename(options_.path, aside);
    for (const char* suffix : {"-wal", "-shm"}) {
      std::error_code ec;
      if (fs::exists(options_.path + suffix)) fs::rename(options_.path + suffix, aside + suffix, ec);
    }
    movedAside_ = aside;
    prepare();
    load();
  }
  std::error_code ec;
  std::filesystem::permissions(options_.path, std::filesystem::perms(0600),
                               std::filesystem::perm_options::replace, ec);
  stats_.recovered = !movedAside_.empty();
  stats_.loadMicros = static_cast<uint64_t>(
      std::chrono::duration_cast<Micros>(std::chrono::steady_clock::now() - started).count());
}

void StateStore::load() {
  LoadedState s;
  {
    auto st = db_->prepare(
        "SELECT machine_guid, hostname, hops, path, labels, node_info, first_seen, last_seen, "
        "ephemeral FROM nodes");
    while (st.step()) {
      StoredNode n;
      n.machineGuid = st.text(0);
      n.hostname = st.text(1);
      n.hops = static_cast<int>(st.integer(2));
      n.path = st.text(3);
      n.labels = labelsFromJson(st.text(4));
      n.nodeInfo = st.text(5);
      n.firstSeen = st.integer(6);
      n.lastSeen = st.integer(7);
      n.ephemeral = st.integer(8) != 0;
      s.nodes.push_back(std::move(n));
    }
  }
  {
    auto st = db_->prepare("SELECT machine_guid, contexts FROM node_contexts");
    std::string error;
    while (st.step()) {
      // A value that does not decode is a damaged file, as a page SQLite cannot read is: the
      // file is moved aside (openOrRecover). Its GUID is not named: the bytes are the file's.
      if (!decodeContextSet(st.blob(1), &s.contexts[st.text(0)], &error)) {
        throw SqliteError(SQLITE_CORRUPT, db_->path() + ": a node's contexts do not decode (" +
                                              error + ")");
      }
    }
  }
  {
    auto st = db_->prepare("SELECT machine_guid, node_id, claim_id FROM node_ids");
    while (st.step()) s.nodeIds[st.text(0)] = NodeIdRecord{st.text(1), st.text(2)};
  }
  {
    auto st =
        db_->prepare("SELECT machine_guid, claim_id, version_hash, received_at FROM checkpoints");
    while (st.step()) {
      s.checkpoints[st.text(0)] =
          CheckpointRecord{st.text(1), fromDb(st.integer(2)), st.integer(3)};
    }
  }
  {
    auto st = db_->prepare("SELECT machine_guid, sent_cursor FROM alert_cursors");
    while (st.step()) s.alerts[st.text(0)].sentCursor = fromDb(st.integer(1));
  }
  {
    auto st = db_->prepare("SELECT machine_guid, alert_key, entry FROM alerts");
    while (st.step()) s.alerts[st.text(0)].entries[st.text(1)] = st.text(2);
  }
  loaded_ = std::move(s);
}

StateStore::~StateStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

LoadedState StateStore::takeLoaded() { return std::move(loaded_); }

void StateStore::putNode(StoredNode node) {
  std::lock_guard lock(mutex_);
  std::string guid = node.machineGuid;
  pending_->nodes[std::move(guid)] = std::move(node);
  queuedLocked();
}

void StateStore::putContexts(const std::string& machineGuid, std::string encodedSet) {
  std::lock_guard lock(mutex_);
  pending_->contextSets[machineGuid] = std::move(encodedSet);
  queuedLocked();
}

void StateStore::putNodeId(const std::string& machineGuid, NodeIdRecord record) {
  std::lock_guard lock(mutex_);
  nodeIds_[machineGuid] = record;
  pending_->nodeIds[machineGuid] = std::move(record);
  queuedLocked();
}

void StateStore::putCheckpoint(const std::string& machineGuid, CheckpointRecord record) {
  std::lock_guard lock(mutex_);
  pending_->checkpoints[machineGuid] = std::move(record);
  queuedLocked();
}

void StateStore::putAlertCursor(const std::string& machineGuid, uint64_t sentCursor) {
  std::lock_guard lock(mutex_);
  pending_->alertCursors[machineGuid] = sentCursor;
  queuedLocked();
}

void StateStore::putAlert(const std::string& machineGuid, const std::string& alertKey,
                          std::string entry) {
  std::lock_guard lock(mutex_);
  pending_->alerts[{machineGuid, alertKey}] = std::move(entry);
  queuedLocked();
}

void StateStore::removeNode(const std::string& machineGuid) {
  std::lock_guard lock(mutex_);
  auto& p = *pending_;
  p.removed.insert(machineGuid);
  p.nodes.erase(machineGuid);
  p.nodeIds.erase(machineGuid);
  p.checkpoints.erase(machineGuid);
  p.contextSets.erase(machineGuid);
  p.alertCursors.erase(machineGuid);
  for (auto it = p.alerts.lower_bound({machineGuid, ""});
       it != p.alerts.end() && it->first.first == machineGuid;) {
    it = p.alerts.erase(it);
  }
  nodeIds_.erase(machineGuid);
  queuedLocked();
}

void StateStore::setCollector(std::function<void()> collect) {
  std::lock_guard lock(collectorMutex_);
  collector_ = std::move(collect);
}

void StateStore::changed() {
  std::lock_guard lock(mutex_);
  collectPending_ = true;
  if (writerWaiting_) {
    writerWaiting_ = false;
    wake_.notify_one();
  }
}

void StateStore::queuedLocked() {
  ++queuedGeneration_;
  if (writerWaiting_) {
    writerWaiting_ = false;
    wake_.notify_one();
  }
}

std::optional<std::string> StateStore::nodeIdFor(const std::string& machineGuid,
                                                 const std::string& claimId) const {
  std::lock_guard lock(mutex_);
  auto it = nodeIds_.find(machineGuid);
  if (it == nodeIds_.end() || it->second.claimId != claimId) return std::nullopt;
  return it->second.nodeId;
}

std::optional<NodeIdRecord> StateStore::nodeIdOf(const std::string& machineGuid) const {
  std::lock_guard lock(mutex_);
  auto it = nodeIds_.find(machineGuid);
  if (it == nodeIds_.end()) return std::nullopt;
  return it->second;
}

void StateStore::flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = queuedGeneration_;
  flushNow_ = true;
  wake_.notify_all();
  written_.wait(lock, [&] { return writtenGeneration_ >= target || !writer_.joinable(); });
}

StoreStats StateStore::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void StateStore::writerLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    // Wait for the first change, then let the window fill: one transaction per window.
    writerWaiting_ = true;
    wake_.wait(lock, [&] {
      return stopping_ || flushNow_ || collectPending_ || !pending_->empty();
    });
    writerWaiting_ = false;
    if (!stopping_ && !flushNow_) {
      wake_.wait_for(lock, options_.batchWindow, [&] { return stopping_ || flushNow_; });
    }
    flushNow_ = false;
    collectPending_ = false;
    lock.unlock();
    {
      std::lock_guard collecting(collectorMutex_);
      if (collector_) collector_();
    }
    lock.lock();
    auto batch = std::make_unique<Pending>();
    std::swap(batch, pending_);
    const uint64_t generation = queuedGeneration_;
    const bool stop = stopping_;
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    bool ok = true;
    if (!batch->empty()) {
      try {
        write(*batch);
      } catch (const std::exception& e) {
        ok = false;
        spdlog::error("STORE: writing {} changes to {} failed: {}; they are lost",
                      batch->rows(), options_.path, e.what());
      }
    }
    const auto took = std::chrono::duration_cast<Micros>(std::chrono::steady_clock::now() - started);
    lock.lock();
    if (!batch->empty()) {
      ++stats_.batches;
      if (ok) stats_.rowsWritten += batch->rows();
      if (!ok) ++stats_.writeErrors;
      stats_.lastBatchMicros = static_cast<uint64_t>(took.count());
    }
    writtenGeneration_ = generation;
    written_.notify_all();
    if (stop && pending_->empty()) return;
  }
}

void StateStore::write(Pending& b) {
  SqliteDb& db = *db_;
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const char* table :
         {"nodes", "node_ids", "node_contexts", "checkpoints", "alert_cursors", "alerts"}) {
      if (b.removed.empty()) break;
      auto del = db.prepare(std::string("DELETE FROM ") + table + " WHERE machine_guid = ?1");
      for (const auto& guid : b.removed) del.bind(1, guid).run();
    }
    if (!b.nodes.empty()) {
      auto st = db.prepare(
          "INSERT OR REPLACE INTO nodes(machine_guid, hostname, hops, path, labels, node_info, "
          "first_seen, last_seen, ephemeral) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      for (const auto& [guid, n] : b.nodes) {
        st.bind(1, guid).bind(2, n.hostname).bind(3, int64_t{n.hops}).bind(4, n.path);
        st.bind(5, labelsToJson(n.labels)).bind(6, n.nodeInfo).bind(7, n.firstSeen);
        st.bind(8, n.lastSeen).bind(9, int64_t{n.ephemeral ? 1 : 0}).run();
      }
    }
    if (!b.contextSets.empty()) {
      auto st = db.prepare(
          "INSERT OR REPLACE INTO node_contexts(machine_guid, contexts) VALUES(?1, ?2)");
      for (const auto& [guid, set] : b.contextSets) st.bind(1, guid).bindBlob(2, set).run();
    }
    if (!b.nodeIds.empty()) {
      auto st = db.prepare(
          "INSERT OR REPLACE INTO node_ids(machine_guid, node_id, claim_id) VALUES(?1, ?2, ?3)");
      for (const auto& [guid, r] : b.nodeIds) st.bind(1, guid).bind(2, r.nodeId).bind(3, r.claimId).run();
    }
    if (!b.checkpoints.empty()) {
      auto st = db.prepare(
          "INSERT OR REPLACE INTO checkpoints(machine_guid, claim_id, version_hash, received_at) "
          "VALUES(?1, ?2, ?3, ?4)");
      for (const auto& [guid, r] : b.checkpoints) {
        st.bind(1, guid).bind(2, r.claimId).bind(3, toDb(r.versionHash)).bind(4, r.receivedAt).run();
      }
    }
    if (!b.alertCursors.empty()) {
      auto st = db.prepare(
          "INSERT OR REPLACE INTO alert_cursors(machine_guid, sent_cursor) VALUES(?1, ?2)");
      for (const auto& [guid, c] : b.alertCursors) st.bind(1, guid).bind(2, toDb(c)).run();
    }
    if (!b.alerts.empty()) {
      auto st = db.prepare(
          "INSERT OR REPLACE INTO alerts(machine_guid, alert_key, entry) VALUES(?1, ?2, ?3)");
      for (const auto& [key, entry] : b.alerts) {
        st.bind(1, key.first).bind(2, key.second).bind(3, entry).run();
      }
    }
    db.exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace aclkd::store
