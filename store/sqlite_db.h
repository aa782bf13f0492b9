#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aclkd::store {

// A failed SQLite call: the message carries SQLite's own text and the file.
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class Statement;

// A thin owner of one sqlite3 connection. Hand-written rather than libsqlitecpp-dev: the store
// needs a dozen calls (open, exec, prepare, bind, step), and a 100-line RAII layer over the C API
// keeps the dependency list to libsqlite3 alone.
class SqliteDb {
 public:
  // Opens (creating) `path`; throws SqliteError naming the file.
  explicit SqliteDb(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  void exec(const std::string& sql);
  Statement prepare(const std::string& sql);
  int64_t queryInt(const std::string& sql);
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }
  [[noreturn]] void fail(int rc, std::string_view what) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// One prepared statement; reset and re-bound for every row of a batch.
class Statement {
 public:
  Statement(SqliteDb& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, int64_t value);
  // Not copied: `bytes` must stay as they are until the row has run.
  Statement& bindBlob(int index, std::string_view bytes);
  // True while a row is available; false when done. Throws on an error.
  bool step();
  // step() once for a statement without rows, then reset for the next use.
  void run();
  void reset();
  std::string text(int column) const;
  int64_t integer(int column) const;
  // Valid until the next step() or reset().
  std::string_view blob(int column) const;

 private:
  SqliteDb* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace aclkd::store
