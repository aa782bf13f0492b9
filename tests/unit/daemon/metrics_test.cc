// /metrics is read by operators' dashboards: its text must not change by accident. The snapshot
// below gives every statistic a value of its own, so that a family reading the wrong source, or
// moved, shows in the golden file's diff.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "daemon/metrics.h"
#include "daemon/statistics.h"
#include "unit/test_util.h"

namespace aclkd::daemon {
namespace {

// A stream whose sample count follows its byte count, so that the two families differ.
stream_bridge::StreamView stream(const std::string& guid, const std::string& hostname,
                                 uint64_t wireBytes, double samplesPerSecond) {
  stream_bridge::StreamView st;
  st.machineGuid = guid;
  st.hostname = hostname;
  st.wireBytes = wireBytes;
  st.samples = wireBytes + 1;
  st.samplesPerSecond = samplesPerSecond;
  return st;
}

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
  // The parts' statistics, read as readParts does; the gateway adds those with a key to the
  // state.
  auto& p = s.parts;
  p.bridgeRunning = p.registryRunning = p.storeOpen = true;
  p.values.assign(gatewayStatistics().size(), 0);
  auto set = [&](std::string_view metric, std::string_view labels, uint64_t value) {
    const auto stats = gatewayStatistics();
    for (size_t row = 0; row < stats.size(); ++row) {
      if (stats[row].metric == metric && stats[row].labels == labels) p.values[row] = value;
    }
  };
  set("aclkd_streams_total", "outcome=\"accepted\"", 200);
  set("aclkd_streams_total", "outcome=\"refused\"", 201);
  set("aclkd_streams_total", "outcome=\"dropped\"", 202);
  set("aclkd_streams_total", "outcome=\"over_limit\"", 203);
  set("aclkd_stream_handshakes_late_total", "", 204);
  set("aclkd_stream_views_late_total", "", 205);
  set("aclkd_function_results_stray_total", "", 206);
  set("aclkd_duplicate_guid_streams_total", "", 207);
  set("aclkd_function_declarations_refused_total", "", 208);
  set("aclkd_store_batches_total", "", 209);
  set("aclkd_store_rows_written_total", "", 210);
  set("aclkd_store_write_errors_total", "", 211);
  set("aclkd_store_recovered", "", 212);
  set("aclkd_stream_accept_failures_total", "", 300);
  set("aclkd_stream_bytes_received_total", "", 301);
  set("aclkd_samples_dropped_total", "", 302);
  set("aclkd_stream_malformed_lines_total", "", 303);
  set("aclkd_web_requests_total", "", 400);
  set("aclkd_web_dropped_total", "reason=\"bad_request\"", 401);
  set("aclkd_web_dropped_total", "reason=\"timeout\"", 402);
  set("aclkd_web_dropped_total", "reason=\"live_protocol\"", 403);
  set("aclkd_web_dropped_total", "reason=\"live_no_pong\"", 404);
  set("aclkd_web_dropped_total", "reason=\"live_unread\"", 405);
  set("aclkd_live_clients", "", 406);
  addPartCounters(p, &v);
  s.streamsConnected = 2;
  s.nodeTotals = {.nodes = 3, .live = 1, .contexts = 35};  // one live (11), two stale (12 each)
  s.streamSeries =
      streamSeriesOf({stream("11111111-2222-3333-4444-555555555555", "child \"one\"\\\n", 500, 2.5),
                      stream("66666666-2222-3333-4444-555555555555", "child-two", 502, 0.25)});
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
