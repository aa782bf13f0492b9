// What the node registry holds per host: N hosts each replay the 1.37 capture (handshake,
// definitions, first samples) through the parser, the escaping layer and a registry stream, as
// the stream bridge does, without sockets. Prints the heap in use (mallinfo2) per host while
// every stream is live and again once they are all offline, so a change of the registry's
// layout can be measured in seconds instead of a 1,000-socket run (bench/stream_load.py).
//
//   build/bin/registry_memory --hosts 1000

#include <malloc.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "stream_bridge/escaping_events.h"
#include "stream_bridge/handshake.h"
#include "stream_bridge/node_registry.h"
#include "stream_bridge/stream_parser.h"
#include "unit/fixtures.h"

namespace {

using namespace aclkd::stream_bridge;

// The escaping layer in front of one registry stream, as a connection has it.
class Forwarder : public EscapingEvents {
 public:
  explicit Forwarder(StreamEvents* next) { forwardTo(next); }
};

size_t heapInUse() { return mallinfo2().uordblks; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"per-host memory of the node registry"};
  size_t hosts = 1000;
  app.add_option("--hosts", hosts, "hosts to replay the capture as");
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
  HostPolicy policy;
  policy.sendChartsMatching = SimplePattern::parse("*");
  // One host first: the strings and shapes every later host shares are then in place.
  std::vector<std::unique_ptr<NodeRegistry::Stream>> streams;
  auto replay = [&](size_t i) {
    StreamRequest r = *request;
    char guid[40];
    std::snprintf(guid, sizeof guid, "00000000-0000-0000-0000-%012zx", i);
    r.machineGuid = guid;
    r.hostname = "load-" + std::to_string(i);
    auto stream = registry->attach(r, policy, "127.0.0.1:1");
    Forwarder escaping(stream.get());
    StreamParser parser(escaping);
    parser.feed(body, &error);
    streams.push_back(std::move(stream));
  };
  replay(0);
  malloc_trim(0);
  const size_t before = heapInUse();
  for (size_t i = 1; i <= hosts; ++i) replay(i);
  const size_t live = heapInUse();
  streams.clear();
  const size_t offline = heapInUse();
  std::printf("{\"hosts\": %zu, \"heap_per_live_host_bytes\": %zu, "
              "\"heap_per_offline_host_bytes\": %zu}\n",
              hosts, (live - before) / hosts, (offline - before) / hosts);
  return 0;
}
