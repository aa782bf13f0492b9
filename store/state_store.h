#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/context_record.h"

namespace aclkd::store {

class SqliteDb;

// One host the gateway relays for, as remembered across restarts.
struct StoredNode {
  std::string machineGuid;
  std::string hostname;
  int hops = 1;
  std::string path;  // the peer it last streamed from
  std::vector<std::pair<std::string, std::string>> labels;
  std::string nodeInfo;  // the owner's serialised node info; opaque to the store
  int64_t firstSeen = 0;
  int64_t lastSeen = 0;
  bool ephemeral = false;
};


// The cloud's node id for a machine GUID, and the claim it was issued under.
struct NodeIdRecord {
  std::string nodeId;
  std::string claimId;
};

// The last ContextsCheckpoint the cloud sent for a node.
struct CheckpointRecord {
  std::string claimId;
  uint64_t versionHash = 0;
  int64_t receivedAt = 0;
};

// A node's relayed alerts as last sent to the cloud (alerts/): the agent log's cursor of the last
// transition sent and each alert's last transition sent (the relay's JSON, opaque here).
struct StoredAlerts {
  uint64_t sentCursor = 0;
  std::map<std::string, std::string> entries;  // by alert key
};

struct LoadedState {
  std::vector<StoredNode> nodes;
  std::map<std::string, std::vector<ContextRecord>> contexts;  // by machine GUID
  std::map<std::string, NodeIdRecord> nodeIds;
  std::map<std::string, CheckpointRecord> checkpoints;
  std::map<std::string, StoredAlerts> alerts;  // by machine GUID
};

struct StoreStats {
  uint64_t batches = 0;
  uint64_t rowsWritten = 0;
  uint64_t writeErrors = 0;
  uint64_t lastBatchMicros = 0;
  uint64_t loadMicros = 0;
  bool recovered = false;  // the file was unreadable and moved aside at start
};

// The gateway's durable state: one SQLite database in the state dir (WAL mode), owned by this
// class alone. Callers hand changes in and return at once; the store's own thread writes them
// in one transaction per batch window.
//
// Durability: a change reaches the database at most `batchWindow` after it was made (250 ms by
// default); a crash (kill -9) loses at most the changes of that last window, and never leaves
// a half-written batch (each batch is one transaction; WAL with synchronous=NORMAL survives a
// process crash whole, a power loss can drop the last committed batches but not corrupt).
//
// A file SQLite cannot read (garbage, truncated, a newer schema) is moved aside to
// `<file>.unreadable-<UTC time>` (with its -wal and -shm) and a fresh store is started.
class StateStore {
 public:
  static constexpr int kSchemaVersion = 4;
  struct Options {
    std::string path;
    std::chrono::milliseconds batchWindow{250};
  };

  // Opens (creating) the store and loads it. Never throws: a store that cannot be used at all
  // (the directory is not writable) comes back as nullptr with `error` set.
  static std::unique_ptr<StateStore> open(const Options& options, std::string* error);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // What the store held when it was opened; moved out (call once).
  LoadedState takeLoaded();
  // Only the alert rows of what the store held (the alert relay's); call before takeLoaded.
  std::map<std::string, StoredAlerts> takeLoadedAlerts() { return std::move(loaded_.alerts); }
  // Where the unreadable file went, when open() had to move it aside; else empty.
  const std::string& movedAside() const { return movedAside_; }
  const std::string& path() const { return options_.path; }

  // Changes, queued and written by the store's thread. Later calls for the same key replace
  // earlier ones still queued.
  void putNode(StoredNode node);
  // All of a node's contexts, encoded by a ContextSetEncoder (store/context_set.h): they replace
  // the ones the store held for the node.
  void putContexts(const std::string& machineGuid, std::string encodedSet);
  void putNodeId(const std::string& machineGuid, NodeIdRecord record);
  void putCheckpoint(const std::string& machineGuid, CheckpointRecord record);
  void putAlertCursor(const std::string& machineGuid, uint64_t sentCursor);
  void putAlert(const std::string& machineGuid, const std::string& alertKey, std::string entry);
  // A producer that prefers to hand its changes over in batches: `collect` runs on the store's
  // thread at the start of each batch (it calls the put functions), after changed() said there
  // is something. setCollector({}) returns only once a running collection is over.
  void setCollector(std::function<void()> collect);
  void changed();

  // Forgets a node, its contexts, its node id, its checkpoint and its alerts.
  void removeNode(const std::string& machineGuid);

  // The node id remembered for `machineGuid` under `claimId` (in memory; never touches disk).
  std::optional<std::string> nodeIdFor(const std::string& machineGuid,
                                       const std::string& claimId) const;

  // The node id remembered for `machineGuid`, whatever claim it belongs to.
  std::optional<NodeIdRecord> nodeIdOf(const std::string& machineGuid) const;

  // Writes everything queued so far and returns when it is on disk (shutdown, tests).
  void flush();
  StoreStats stats() const;

 private:
  explicit StateStore(Options options);
  void openOrRecover();
  void load();
  void writerLoop();
  void queuedLocked();  // a change was queued; wakes the writer when it waits for one
  struct Pending;
  void write(Pending& batch);

  Options options_;
  std::unique_ptr<SqliteDb> db_;  // the writer thread's once open() returned
  LoadedState loaded_;
  std::string movedAside_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable written_;
  std::unique_ptr<Pending> pending_;  // guarded by mutex_
  std::map<std::string, NodeIdRecord> nodeIds_;  // guarded by mutex_
  uint64_t queuedGeneration_ = 0;   // guarded by mutex_
  uint64_t writtenGeneration_ = 0;  // guarded by mutex_
  bool flushNow_ = false;           // guarded by mutex_
  bool writerWaiting_ = false;      // guarded by mutex_
  bool collectPending_ = false;     // guarded by mutex_
  std::mutex collectorMutex_;       // held while the collector runs
  std::function<void()> collector_;  // guarded by collectorMutex_
  bool stopping_ = false;           // guarded by mutex_
  StoreStats stats_;                // guarded by mutex_
  std::thread writer_;
};

}  // namespace aclkd::store
