// The state store at scale: N nodes x M contexts written, reloaded and restored into the
// registry. Prints the file size, the start-up load time (open + read, then the registry's
// restore), the cost of encoding a node's contexts and handing them over on the caller's thread
// (what the store's collector pays in aclkd) and the writer's disk cost per context.
//
//   build/bin/store_bench [--nodes 1000] [--contexts 300] [--dir /tmp]
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "store/context_set.h"
#include "store/state_store.h"
#include "stream_bridge/node_registry.h"

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::unique_ptr<aclkd::store::StateStore> open(const std::string& path) {
  std::string error;
  aclkd::store::StateStore::Options o;
  o.path = path;
  auto s = aclkd::store::StateStore::open(o, &error);
  if (!s) {
    std::fprintf(stderr, "store_bench: %s\n", error.c_str());
    std::exit(1);
  }
  return s;
}

std::string guidOf(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "aaaaaaaa-bbbb-4ccc-8ddd-%012d", i);
  return buf;
}

// A node's contexts, all of them, as the registry hands them over (one value per node).
std::string contextSet(int contexts, uint64_t version) {
  aclkd::store::ContextSetEncoder set;
  for (int c = 0; c < contexts; ++c) {
    const std::string id = "bench.context." + std::to_string(c);
    const std::string title = "Bench context " + std::to_string(c);
    set.add(id, version + c, 1700000000, 0, false, title, 1000 + c, "line", "things/s", "bench");
  }
  return set.finish();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"store_bench: the state store at N nodes x M contexts"};
  int nodes = 1000;
  int contexts = 300;
  std::string dir = std::filesystem::temp_directory_path();
  app.add_option("--nodes", nodes);
  app.add_option("--contexts", contexts);
  app.add_option("--dir", dir);
  CLI11_PARSE(app, argc, argv);

  const std::string path = dir + "/store-bench-" + std::to_string(::getpid()) + ".db";
  {
    auto store = open(path);
    const auto t = Clock::now();
    for (int n = 0; n < nodes; ++n) {
      aclkd::store::StoredNode sn;
      sn.machineGuid = guidOf(n);
      sn.hostname = "bench-host-" + std::to_string(n);
      sn.labels = {{"_os", "linux"}, {"_architecture", "x86_64"}, {"role", "bench"}};
      sn.nodeInfo = R"({"version":"v1.37.1","os":"linux","cpus":4})";
      sn.firstSeen = sn.lastSeen = 1700000000;
      store->putNode(std::move(sn));
      store->putNodeId(guidOf(n), {guidOf(n + 100000000), "claim"});
      store->putContexts(guidOf(n), contextSet(contexts, 1700000000));
    }
    const double handoff = msSince(t);
    const auto f = Clock::now();
    store->flush();
    const double write = msSince(f);
    const auto st = store->stats();
    const double rows = static_cast<double>(nodes) * contexts;
    std::printf("write: %d nodes x %d contexts: encode + hand-off %.0f ns per context (caller's "
                "thread), disk %.2f us per context (%.0f ms for the last flush, %llu batches)\n",
                nodes, contexts, handoff * 1e6 / rows, write * 1e3 / rows, write,
                static_cast<unsigned long long>(st.batches));
    // Steady state: one context change per node, as a burst of reconnecting children makes.
    const auto u = Clock::now();
    // A node's contexts are kept as one value: a change to one is its node's whole set again.
    for (int n = 0; n < nodes; ++n) store->putContexts(guidOf(n), contextSet(contexts, 1800000000));
    const double burstHandoff = msSince(u);
    const auto w = Clock::now();
    store->flush();
    const double burstWrite = msSince(w);
    std::printf("update burst: %d changes: encode + hand-off %.0f ns each, one transaction "
                "%.1f ms (%.1f us per node)\n",
                nodes, burstHandoff * 1e6 / nodes, burstWrite, burstWrite * 1e3 / nodes);
  }
  {
    // Checkpointed, as after a graceful stop plus the next start's first checkpoint.
    auto store = open(path);
    store->flush();
  }
  uintmax_t size = std::filesystem::file_size(path);
  for (const char* suffix : {"-wal", "-shm"}) {
    std::error_code ec;
    const auto extra = std::filesystem::file_size(path + suffix, ec);
    if (!ec) size += extra;
  }
  const auto t = Clock::now();
  std::shared_ptr<aclkd::store::StateStore> store = open(path);
  const double load = msSince(t);
  const auto r = Clock::now();
  aclkd::stream_bridge::NodeRegistry registry({});
  registry.restoreFrom(store);
  const double restore = msSince(r);
  std::printf("size: %.1f MiB (%.0f bytes per context)\n", static_cast<double>(size) / 1048576.0,
              static_cast<double>(size) / (static_cast<double>(nodes) * contexts));
  std::printf("start-up: open + load %.0f ms, registry restore %.0f ms, total %.0f ms "
              "(%zu nodes)\n", load, restore, load + restore, registry.nodes().size());
  registry.detachStore();
  store.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return 0;
}
