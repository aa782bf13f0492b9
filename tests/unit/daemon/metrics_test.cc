// /metrics is read by operators' dashboards: its text must not change by accident. The snapshot
// below gives every statistic a value of its own, so that a family reading the wrong source, or
// moved, shows in the golden file's diff.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "daemon/local_api.h"
#include "unit/test_util.h"

namespace aclkd::daemon {
namespace {

SurfaceSnapshot everyStatisticSet() {
  SurfaceSnapshot s;
  auto& v = s.state;
  v.online = true;
  v.banned = false;
  v.reconnectCount = 3;
  v.publishLatencyUs = 1500;
  v.pendingPubacks = 4;
  v.receivedPubacks = 5;
  v.receivedMessages = 6;
  v.timedOutPubacks = 7;
  uint64_t n = 100;
  for (const char* key :
       {"connection-attempts", "failed-connection-attempts", "connections",
        "messages-dropped-offline", "messages-dropped-queue-full", "messages-dropped-too-big",
        "publish-failures", "malformed-inbound-messages", "inbound-messages-too-big", "bans",
        "session-takeovers", "cloned-identity-suspected", "outbound-bytes-in-flight",
        "local-pipe-strangers-refused", "transport-pingreqs-injected"}) {
    v.counters.emplace_back(key, n++);
  }
  // The daemon's counters, as the gateway adds them to the state.
  n = 200;
  for (const char* key :
       {"streams-accepted", "streams-refused", "streams-dropped", "streams-over-connection-limit",
        "stream-handshakes-late", "stream-views-late", "function-results-stray",
        "duplicate-guid-streams", "function-declarations-refused", "store-batches",
        "store-rows-written", "store-write-errors", "store-recovered"}) {
    v.counters.emplace_back(key, n++);
  }
  s.streamsAccepted = 200;
  s.streamsRefused = 201;
  s.streamsDropped = 202;
  s.streamsOverLimit = 203;
  s.streamHandshakesLate = 204;
  s.streamViewsLate = 205;
  s.functionResultsStray = 206;
  s.functionDeclarationsRefused = 208;
  s.streamAcceptFailures = 300;
  s.streamBytesTotal = 301;
  s.samplesTotal = 302;
  s.malformedLinesTotal = 303;
  s.streamsConnected = 2;
  s.webRequests = 400;
  s.webBadRequests = 401;
  s.webTimeouts = 402;
  s.liveProtocolErrors = 403;
  s.liveNoPong = 404;
  s.liveUnread = 405;
  s.liveClients = 406;
  stream_bridge::NodeView live;
  live.live = true;
  live.contexts = 11;
  stream_bridge::NodeView stale;
  stale.contexts = 12;
  s.nodes = {live, stale, stale};
  stream_bridge::StreamView a;
  a.machineGuid = "11111111-2222-3333-4444-555555555555";
  a.hostname = "child \"one\"\\\n";
  a.wireBytes = 500;
  a.samples = 501;
  a.samplesPerSecond = 2.5;
  stream_bridge::StreamView b;
  b.machineGuid = "66666666-2222-3333-4444-555555555555";
  b.hostname = "child-two";
  b.wireBytes = 502;
  b.samples = 503;
  b.samplesPerSecond = 0.25;
  s.streams = {a, b};
  s.queryMetrics = "# the query proxy's families\n";
  s.alertMetrics = "# the alert relay's families\n";
  return s;
}

TEST(MetricsTest, TextIsTheGoldenOne) {
  const std::string path = test::sourcePath("tests/unit/daemon/golden/metrics.txt");
  const std::string text = renderMetrics(everyStatisticSet());
  if (std::getenv("ACLKD_UPDATE_GOLDEN") != nullptr) test::writeText(path, text);
  ASSERT_TRUE(std::filesystem::exists(path)) << "generate it: ACLKD_UPDATE_GOLDEN=1";
  EXPECT_EQ(test::readText(path), text);
}

}  // namespace
}  // namespace aclkd::daemon
