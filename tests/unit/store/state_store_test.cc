#include "store/state_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "store/context_set.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "unit/context_records.h"
#include "unit/test_util.h"

namespace aclkd::store {
namespace {

using aclkd::test::contextRecord;

namespace fs = std::filesystem;
using aclkd::test::TempDir;

std::unique_ptr<StateStore> openStore(const std::string& path) {
  std::string error;
  StateStore::Options o;
  o.path = path;
  o.batchWindow = std::chrono::milliseconds(20);
  auto s = StateStore::open(o, &error);
  EXPECT_TRUE(s) << error;
  return s;
}

StoredNode node(const std::string& guid, const std::string& host) {
  StoredNode n;
  n.machineGuid = guid;
  n.hostname = host;
  n.hops = 1;
  n.path = "127.0.0.1:5555";
  n.labels = {{"_os", "linux"}, {"role", "db"}};
  n.nodeInfo = R"({"version":"v1.37.1"})";
  n.firstSeen = 100;
  n.lastSeen = 200;
  return n;
}

TEST(StateStore, EmptyStoreOpensAndCreatesTheFile) {
  TempDir dir;
  auto s = openStore(dir.file("state.db"));
  auto loaded = s->takeLoaded();
  EXPECT_TRUE(loaded.nodes.empty());
  EXPECT_TRUE(s->movedAside().empty());
  EXPECT_TRUE(fs::exists(dir.file("state.db")));
  EXPECT_EQ(fs::status(dir.file("state.db")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST(StateStore, ChangesSurviveAReopen) {
  TempDir dir;
  {
    auto s = openStore(dir.file("state.db"));
    s->putNode(node("g1", "child-1"));
    s->putNode(node("g2", "child-2"));
    s->putContexts("g1", encodeContextSet({contextRecord("system.cpu", 5)}));
    // A node's later set replaces its earlier one whole.
    s->putContexts("g1", encodeContextSet({contextRecord("system.cpu", 7),
                                           contextRecord("system.load", 6)}));
    s->putNodeId("g1", {"node-1", "claim-a"});
    s->putCheckpoint("g1", {"claim-a", 12345678901234567890ULL, 42});
    s->flush();
    EXPECT_GE(s->stats().batches, 1u);
  }
  auto s = openStore(dir.file("state.db"));
  auto loaded = s->takeLoaded();
  ASSERT_EQ(loaded.nodes.size(), 2u);
  EXPECT_EQ(loaded.nodes[0].hostname, "child-1");
  EXPECT_EQ(loaded.nodes[0].path, "127.0.0.1:5555");
  EXPECT_EQ(loaded.nodes[0].labels.size(), 2u);
  EXPECT_EQ(loaded.nodes[0].nodeInfo, R"({"version":"v1.37.1"})");
  EXPECT_EQ(loaded.nodes[0].lastSeen, 200);
  ASSERT_EQ(loaded.contexts["g1"].size(), 2u);
  EXPECT_EQ(loaded.contexts["g1"][0].id, "system.cpu");
  EXPECT_EQ(loaded.contexts["g1"][0].version, 7u);
  EXPECT_EQ(loaded.contexts["g1"][0].units, "percentage");
  EXPECT_EQ(loaded.nodeIds["g1"].nodeId, "node-1");
  EXPECT_EQ(loaded.checkpoints["g1"].versionHash, 12345678901234567890ULL);
  EXPECT_EQ(s->nodeIdFor("g1", "claim-a"), "node-1");
  EXPECT_EQ(s->nodeIdFor("g1", "claim-b"), std::nullopt);  // another claim: not ours
}

TEST(StateStore, ChangesAreBatchedIntoFewTransactions) {
  TempDir dir;
  StateStore::Options o;
  o.path = dir.file("state.db");
  o.batchWindow = std::chrono::milliseconds(200);
  std::string error;
  auto s = StateStore::open(o, &error);
  ASSERT_TRUE(s);
  for (int i = 0; i < 1000; ++i) {
    const std::string guid = "g" + std::to_string(i);
    s->putNode(node(guid, "child"));
    s->putContexts(guid, encodeContextSet({contextRecord("ctx." + std::to_string(i), 1)}));
  }
  s->flush();
  EXPECT_LE(s->stats().batches, 2u);
  EXPECT_EQ(s->stats().rowsWritten, 2000u);
}

TEST(StateStore, ChangesReachTheDiskWithinTheBatchWindowWithoutAFlush) {
  TempDir dir;
  auto s = openStore(dir.file("state.db"));
  s->putNode(node("g1", "child-1"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (s->stats().batches == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(s->stats().batches, 1u);
  // Another connection (another process, after a crash) sees it.
  SqliteDb other(dir.file("state.db"));
  EXPECT_EQ(other.queryInt("SELECT count(*) FROM nodes"), 1);
}

TEST(StateStore, RemoveNodeForgetsEverythingOfIt) {
  TempDir dir;
  {
    auto s = openStore(dir.file("state.db"));
    s->putNode(node("g1", "child-1"));
    s->putContexts("g1", encodeContextSet({contextRecord("system.cpu", 5)}));
    s->putNodeId("g1", {"node-1", "claim-a"});
    s->flush();
    s->removeNode("g1");
    EXPECT_EQ(s->nodeIdOf("g1"), std::nullopt);
    s->flush();
  }
  auto s = openStore(dir.file("state.db"));
  auto loaded = s->takeLoaded();
  EXPECT_TRUE(loaded.nodes.empty());
  EXPECT_TRUE(loaded.contexts.empty());
  EXPECT_TRUE(loaded.nodeIds.empty());
}

TEST(StateStore, RemoveThenPutInOneWindowKeepsOnlyTheNewNode) {
  TempDir dir;
  {
    auto s = openStore(dir.file("state.db"));
    s->putNode(node("g1", "old"));
    s->putContexts("g1", encodeContextSet({contextRecord("old.ctx", 1)}));
    s->flush();
    s->removeNode("g1");
    s->putNode(node("g1", "new"));
    s->putContexts("g1", encodeContextSet({contextRecord("new.ctx", 1)}));
    s->flush();
  }
  auto loaded = openStore(dir.file("state.db"))->takeLoaded();
  ASSERT_EQ(loaded.nodes.size(), 1u);
  EXPECT_EQ(loaded.nodes[0].hostname, "new");
  ASSERT_EQ(loaded.contexts["g1"].size(), 1u);
  EXPECT_EQ(loaded.contexts["g1"][0].id, "new.ctx");
}

void expectMovedAside(const std::string& path, const std::string& content) {
  std::unique_ptr<StateStore> s;
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    s = openStore(path);
  }
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->movedAside().empty());
  EXPECT_TRUE(s->stats().recovered);
  // Never deleted: the bad file is kept, byte for byte.
  std::ifstream in(s->movedAside(), std::ios::binary);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, content);
  // And the fresh store works.
  s->putNode(node("g1", "child-1"));
  s->flush();
  EXPECT_EQ(s->stats().writeErrors, 0u);
}

TEST(StateStore, GarbageFileIsMovedAsideAndAFreshStoreStarts) {
  TempDir dir;
  expectMovedAside(dir.file("state.db"), std::string(5000, 'x') + "not a database");
}

TEST(StateStore, TruncatedFileIsMovedAsideAndAFreshStoreStarts) {
  TempDir dir;
  const auto path = dir.file("full.db");
  {
    auto s = openStore(path);
    s->putNode(node("g1", "child-1"));
    // Distinct text in every context, so that the compressed sets still fill pages.
    std::vector<ContextRecord> set;
    for (int i = 0; i < 2000; ++i) {
      const std::string id = "ctx." + std::to_string(i * 7919) + ".of." + std::to_string(i);
      set.push_back(contextRecord(id, 1));
    }
    s->putContexts("g1", encodeContextSet(set));
    s->flush();
  }
  // Checkpoint the WAL into the main file, then cut it.
  { SqliteDb db(path); db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 20000u);
  expectMovedAside(dir.file("state.db"), bytes.substr(0, bytes.size() / 3));
}

TEST(StateStore, EmptyZeroByteFileIsAFreshStore) {
  TempDir dir;
  std::ofstream(dir.file("state.db")) << "";
  auto s = openStore(dir.file("state.db"));
  EXPECT_TRUE(s->movedAside().empty());
}

TEST(StateStore, AlertRowsSurviveAReopenAndGoWithTheirNode) {
  TempDir dir;
  {
    auto s = openStore(dir.file("state.db"));
    s->putAlertCursor("g1", 1796507743);
    s->putAlert("g1", "system.cpu.a", R"({"key":"system.cpu.a"})");
    s->putAlert("g1", "system.cpu.b", "b1");
    s->putAlert("g1", "system.cpu.b", "b2");  // the later one wins
    s->putAlertCursor("g2", 3);
    s->flush();
  }
  {
    auto s = openStore(dir.file("state.db"));
    auto alerts = s->takeLoadedAlerts();
    ASSERT_EQ(alerts.size(), 2u);
    EXPECT_EQ(alerts["g1"].sentCursor, 1796507743u);
    ASSERT_EQ(alerts["g1"].entries.size(), 2u);
    EXPECT_EQ(alerts["g1"].entries["system.cpu.b"], "b2");
    EXPECT_TRUE(s->takeLoaded().alerts.empty());  // taken once
    s->removeNode("g1");
    s->flush();
  }
  auto s = openStore(dir.file("state.db"));
  auto alerts = s->takeLoadedAlerts();
  EXPECT_EQ(alerts.count("g1"), 0u);
  EXPECT_EQ(alerts["g2"].sentCursor, 3u);
}

TEST(StateStore, VersionOneSchemaIsMigrated) {
  TempDir dir;
  {
    SqliteDb db(dir.file("state.db"));
    createSchemaV1(db);
    db.exec("INSERT INTO nodes VALUES('g1', 'old-child', 1, '[]', '{}', 10, 20, 0)");
    db.exec("INSERT INTO node_ids VALUES('g1', 'node-1', 'claim-a')");
    // Context rows, as versions 1 to 3 kept them: v4 turns them into one set per node.
    db.exec("INSERT INTO contexts VALUES('g1', 'system.load', 3, 10, 0, 0, 'Load', 100, "
            "'line', 'load', 'load')");
    db.exec("INSERT INTO contexts VALUES('g1', 'system.cpu', -1, 10, 20, 1, 'CPU', 90, "
            "'stacked', 'percentage', 'cpu')");
    db.exec("INSERT INTO contexts VALUES('g2', 'disk.io', 1, 5, 6, 0, 'Disk', 7, 'area', "
            "'KiB/s', 'sda')");
  }
  auto s = openStore(dir.file("state.db"));
  EXPECT_TRUE(s->movedAside().empty());
  auto loaded = s->takeLoaded();
  ASSERT_EQ(loaded.contexts["g1"].size(), 2u);
  const ContextRecord& cpu = loaded.contexts["g1"][0];  // the set is in id order
  EXPECT_EQ(cpu.id, "system.cpu");
  EXPECT_EQ(cpu.version, UINT64_MAX) << "uint64 goes through SQLite's int64 bit for bit";
  EXPECT_EQ(cpu.lastEntry, 20u);
  EXPECT_TRUE(cpu.deleted);
  EXPECT_EQ(cpu.title, "CPU");
  EXPECT_EQ(cpu.priority, 90u);
  EXPECT_EQ(cpu.chartType, "stacked");
  EXPECT_EQ(cpu.units, "percentage");
  EXPECT_EQ(cpu.family, "cpu");
  EXPECT_EQ(loaded.contexts["g1"][1].id, "system.load");
  ASSERT_EQ(loaded.contexts["g2"].size(), 1u);
  EXPECT_EQ(loaded.contexts["g2"][0].units, "KiB/s");
  ASSERT_EQ(loaded.nodes.size(), 1u);
  EXPECT_EQ(loaded.nodes[0].hostname, "old-child");
  EXPECT_EQ(loaded.nodes[0].path, "");
  EXPECT_EQ(s->nodeIdFor("g1", "claim-a"), "node-1");
  s->putCheckpoint("g1", {"claim-a", 5, 1});  // the v2 table exists
  s->putAlertCursor("g1", 7);                 // and the v3 ones
  s->putAlert("g1", "system.cpu.a", "{}");
  s->flush();
  EXPECT_EQ(s->stats().writeErrors, 0u);
  SqliteDb db(dir.file("state.db"));
  EXPECT_EQ(db.queryInt("PRAGMA user_version"), StateStore::kSchemaVersion);
}

TEST(StateStore, AContextSetThatDoesNotDecodeMovesTheFileAside) {
  TempDir dir;
  {
    auto s = openStore(dir.file("state.db"));
    s->putNode(node("g1", "child-1"));
    s->putContexts("g1", encodeContextSet({contextRecord("system.cpu", 5)}));
    s->flush();
  }
  {
    SqliteDb db(dir.file("state.db"));
    db.exec("UPDATE node_contexts SET contexts = x'01280000' WHERE machine_guid = 'g1'");
  }
  auto s = openStore(dir.file("state.db"));
  ASSERT_FALSE(s->movedAside().empty()) << "a damaged value is a damaged file";
  EXPECT_TRUE(s->stats().recovered);
  EXPECT_TRUE(s->takeLoaded().nodes.empty());
  SqliteDb aside(s->movedAside());
  EXPECT_EQ(aside.queryInt("SELECT count(*) FROM nodes"), 1) << "kept as it was";
}

TEST(StateStore, NewerSchemaIsMovedAsideNotOverwritten) {
  TempDir dir;
  {
    SqliteDb db(dir.file("state.db"));
    db.exec("CREATE TABLE future(x); PRAGMA user_version = 99");
  }
  auto s = openStore(dir.file("state.db"));
  EXPECT_FALSE(s->movedAside().empty());
  SqliteDb aside(s->movedAside());
  EXPECT_EQ(aside.queryInt("PRAGMA user_version"), 99);
}

TEST(StateStore, UnwritableDirectoryIsAClearError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  std::string error;
  StateStore::Options o;
  o.path = dir.file("state.db");
  EXPECT_FALSE(StateStore::open(o, &error));
  EXPECT_NE(error.find(o.path), std::string::npos) << error;
  fs::permissions(dir.path(), fs::perms::owner_all);
}

TEST(StateStore, MissingDirectoryIsAClearError) {
  TempDir dir;
  std::string error;
  StateStore::Options o;
  o.path = dir.file("no/such/dir/state.db");
  EXPECT_FALSE(StateStore::open(o, &error));
  EXPECT_NE(error.find(o.path), std::string::npos) << error;
}

}  // namespace
}  // namespace aclkd::store
