// What the node registry holds per host: N hosts each replay the 1.37 capture (handshake,
// definitions, first samples) through the parser, the escaping layer and a registry stream, as
// the stream bridge does, without sockets, the hosts' texts interleaved in pieces of a read as
// when they connect together. Prints the heap in use (mallinfo2) per host and the resident
// memory per host after malloc_trim (what the holes between the tables cost), while every
// stream is live and again once they are all offline, so a change of the registry's layout can
// be measured in seconds instead of a 1,000-socket run (bench/stream_load.py). The live figure is
// taken after NodeRegistry::shareTables(), as aclkd's stream server calls it once a burst of
// definitions is over (a quiet second); `--no-share` measures before it.
//
//   build/bin/registry_memory --hosts 1000

#include <malloc.h>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "stream_bridge/escaping_events.h"
#include "stream_bridge/handshake.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_parser.h"
#include "store/state_store.h"
#include "unit/fixtures.h"

namespace {

using namespace aclkd::stream_bridge;

// The escaping layer in front of one registry stream, as a connection has it.
class Forwarder : public EscapingEvents {
 public:
  explicit Forwarder(StreamEvents* next) { forwardTo(next); }
};

size_t heapInUse() { return mallinfo2().uordblks; }

size_t residentBytes() {
  malloc_trim(0);
  size_t pages = 0;
  size_t resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// One host's replay: its registry stream, the escaping layer and a parser, as a connection.
struct Host {
  std::unique_ptr<NodeRegistry::Stream> stream;
  std::unique_ptr<Forwarder> escaping;
  std::unique_ptr<StreamParser> parser;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"per-host memory of the node registry"};
  size_t hosts = 1000;
  size_t piece = 16384;
  app.add_option("--hosts", hosts, "hosts to replay the capture as");
  app.add_option("--piece", piece, "bytes each host is fed at a time, in turn");
  bool noShare = false;
  app.add_flag("--no-share", noShare, "measure the live hosts before their tables are shared");
  std::string storePath;
  app.add_option("--store", storePath, "a state store file to mirror the registry into, as aclkd");
  CLI11_PARSE(app, argc, argv);

  const std::string all = testing_support::readFixture("netdata-1.37-child-stream.txt");
  const auto end = handshakeEnd(all);
  if (!end) {
    std::fprintf(stderr, "fixture not found under %s\n", ACLKD_FIXTURES_DIR);
    return 1;
  }
  std::string error;
  auto request = parseStreamRequest(all.substr(0, *end), &error);
  if (!request) {
    std::fprintf(stderr, "fixture request: %s\n", error.c_str());
    return 1;
  }
  const std::string body = all.substr(*end);

  auto registry = std::make_shared<NodeRegistry>(nullptr, [] { return std::time_t{1764000000}; });
  if (!storePath.empty()) {
    std::shared_ptr<aclkd::store::StateStore> store =
        aclkd::store::StateStore::open({storePath}, &error);
    if (!store) {
      std::fprintf(stderr, "store: %s\n", error.c_str());
      return 1;
    }
    registry->restoreFrom(store);
  }
  // The store's thread writes at its batch window: measured once it has caught up.
  const auto settle = [&] {
    if (!storePath.empty()) std::this_thread::sleep_for(std::chrono::seconds(3));
  };
  HostPolicy policy;
  policy.sendChartsMatching = SimplePattern::parse("*");
  auto attach = [&](size_t i) {
    StreamRequest r = *request;
    char guid[40];
    std::snprintf(guid, sizeof guid, "00000000-0000-0000-0000-%012zx", i);
    r.machineGuid = guid;
    r.hostname = "load-" + std::to_string(i);
    Host h;
    h.stream = registry->attach(r, policy, "127.0.0.1:1");
    h.escaping = std::make_unique<Forwarder>(h.stream.get());
    h.parser = std::make_unique<StreamParser>(*h.escaping);
    return h;
  };
  // One host first: the strings and shapes every later host shares are then in place.
  std::vector<Host> fleet;
  fleet.push_back(attach(0));
  fleet[0].parser->feed(body, &error);
  fleet[0].parser.reset();
  fleet[0].escaping.reset();
  const size_t before = heapInUse();
  const size_t residentBefore = residentBytes();
  for (size_t i = 1; i <= hosts; ++i) fleet.push_back(attach(i));
  // Each host at its own pace, as sockets deliver: a piece of 1 to 2 x `piece` bytes in turn.
  std::vector<size_t> fed(hosts + 1, 0);
  uint64_t seed = 88172645463325252ULL;
  for (size_t done = 0; done < hosts;) {
    for (size_t i = 1; i <= hosts; ++i) {
      if (fed[i] >= body.size()) continue;
      seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;  // xorshift
      const size_t n = piece + seed % (piece + 1);
      fleet[i].parser->feed(std::string_view(body).substr(fed[i], n), &error);
      fed[i] += n;
      if (fed[i] >= body.size()) ++done;
    }
  }
  for (auto& h : fleet) {
    h.parser.reset();
    h.escaping.reset();
  }
  // How long the registry's lock is held for it (the streams' definitions wait that long).
  const auto shareStart = std::chrono::steady_clock::now();
  if (!noShare) registry->shareTables();
  const double shareMs = std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - shareStart).count();
  settle();
  const size_t live = heapInUse();
  const auto sharing = registry->sharing();
  const size_t residentLive = residentBytes();
  fleet.clear();
  settle();
  const size_t offline = heapInUse();
  const size_t residentOffline = residentBytes();
  std::printf("{\"hosts\": %zu, \"heap_per_live_host_bytes\": %zu, "
              "\"heap_per_offline_host_bytes\": %zu, \"rss_per_live_host_bytes\": %zu, "
              "\"rss_per_offline_host_bytes\": %zu, \"chart_sets\": %zu, \"context_sets\": %zu, "
              "\"own_tables\": %zu, \"share_tables_ms\": %.2f}\n",
              hosts, (live - before) / hosts, (offline - before) / hosts,
              (residentLive - residentBefore) / hosts, (residentOffline - residentBefore) / hosts,
              sharing.chartSets, sharing.contextSets, sharing.ownTables, shareMs);
  return 0;
}
