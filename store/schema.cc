#include "store/schema.h"

#include <sqlite3.h>

#include <functional>
#include <string>

#include "store/context_set.h"
#include "store/sqlite_db.h"

namespace aclkd::store {
namespace {

// Every table is WITHOUT ROWID with its natural key and no secondary index, so loading the
// tables at start reads every page of the file: a damaged page shows up then, not later.
constexpr const char* kV1 = R"(
CREATE TABLE nodes(
  machine_guid TEXT PRIMARY KEY, hostname TEXT NOT NULL, hops INTEGER NOT NULL,
  labels TEXT NOT NULL, node_info TEXT NOT NULL, first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL, ephemeral INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE node_ids(
  machine_guid TEXT PRIMARY KEY, node_id TEXT NOT NULL, claim_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE contexts(
  machine_guid TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
  first_entry INTEGER NOT NULL, last_entry INTEGER NOT NULL, deleted INTEGER NOT NULL,
  title TEXT NOT NULL, priority INTEGER NOT NULL, chart_type TEXT NOT NULL, units TEXT NOT NULL,
  family TEXT NOT NULL, PRIMARY KEY(machine_guid, id)) WITHOUT ROWID;
)";

// v2: the peer a node streamed from, and the cloud's last checkpoint per node.
constexpr const char* kV1ToV2 = R"(
ALTER TABLE nodes ADD COLUMN path TEXT NOT NULL DEFAULT '';
CREATE TABLE checkpoints(
  machine_guid TEXT PRIMARY KEY, claim_id TEXT NOT NULL, version_hash INTEGER NOT NULL,
  received_at INTEGER NOT NULL) WITHOUT ROWID;
)";

// v3: the alert relay's durable state per node (alerts/): the cursor of the last transition sent
// in the agent's log, and each alert's last transition sent (the relay's JSON).
constexpr const char* kV2ToV3 = R"(
CREATE TABLE alert_cursors(
  machine_guid TEXT PRIMARY KEY, sent_cursor INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE alerts(
  machine_guid TEXT NOT NULL, alert_key TEXT NOT NULL, entry TEXT NOT NULL,
  PRIMARY KEY(machine_guid, alert_key)) WITHOUT ROWID;
)";

// v4: a node's contexts as one value (context_set.h explains why) instead of a row per context.
// The rows of a v3 file are converted by contextRowsToSets, in the same transaction.
constexpr const char* kV3ToV4 = R"(
CREATE TABLE node_contexts(
  machine_guid TEXT PRIMARY KEY, contexts BLOB NOT NULL) WITHOUT ROWID;
)";

void contextRowsToSets(SqliteDb& db) {
  {
    auto insert = db.prepare("INSERT INTO node_contexts(machine_guid, contexts) VALUES(?1, ?2)");
    auto rows = db.prepare(
        "SELECT machine_guid, id, version, first_entry, last_entry, deleted, title, priority, "
        "chart_type, units, family FROM contexts ORDER BY machine_guid, id");
    ContextSetEncoder set;
    std::string guid;
    auto flush = [&] {
      if (set.count() == 0) return;
      const std::string encoded = set.finish();
      insert.bind(1, guid).bindBlob(2, encoded).run();
    };
    while (rows.step()) {
      std::string rowGuid = rows.text(0);
      if (rowGuid != guid) {
        flush();
        guid = std::move(rowGuid);
      }
      set.add(rows.text(1), static_cast<uint64_t>(rows.integer(2)),
              static_cast<uint64_t>(rows.integer(3)), static_cast<uint64_t>(rows.integer(4)),
              rows.integer(5) != 0, rows.text(6), static_cast<uint64_t>(rows.integer(7)),
              rows.text(8), rows.text(9), rows.text(10));
    }
    flush();
  }  // both statements finalized: a table with a statement open on it cannot be dropped
  db.exec("DROP TABLE contexts");
}

void step(SqliteDb& db, const char* sql, int to,
          const std::function<void(SqliteDb&)>& convert = {}) {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(sql);
    if (convert) convert(db);
    db.exec("PRAGMA user_version = " + std::to_string(to));
    db.exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace

void createSchemaV1(SqliteDb& db) { step(db, kV1, 1); }

void migrateSchema(SqliteDb& db, int targetVersion) {
  auto version = static_cast<int>(db.queryInt("PRAGMA user_version"));
  if (version > targetVersion) {
    throw SqliteError(SQLITE_ERROR, db.path() + ": schema version " + std::to_string(version) +
                                        " is newer than this aclkd reads (" +
                                        std::to_string(targetVersion) + ")");
  }
  if (version == 0) {
    // A brand-new file, or one from something else entirely.
    if (db.queryInt("SELECT count(*) FROM sqlite_master") != 0) {
      throw SqliteError(SQLITE_ERROR, db.path() + ": not an aclkd state store (tables present, "
                                                  "no schema version)");
    }
    step(db, kV1, 1);
    version = 1;
  }
  if (version == 1 && targetVersion >= 2) {
    step(db, kV1ToV2, 2);
    version = 2;
  }
  if (version == 2 && targetVersion >= 3) {
    step(db, kV2ToV3, 3);
    version = 3;
  }
  if (version == 3 && targetVersion >= 4) step(db, kV3ToV4, 4, contextRowsToSets);
}

}  // namespace aclkd::store
