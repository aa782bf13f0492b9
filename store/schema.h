#pragma once

namespace aclkd::store {

class SqliteDb;

// Brings a database to the current schema (PRAGMA user_version), one step per version, each
// step in its own transaction. Throws SqliteError for a schema newer than this build reads.
void migrateSchema(SqliteDb& db, int targetVersion);

// The version-1 schema, for the migration test: what aclkd 0.1 would have left on disk.
void createSchemaV1(SqliteDb& db);

}  // namespace aclkd::store
