#include "daemon/local_api.h"

#include "daemon/metrics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace aclkd::daemon {
namespace {

// routeHttp asks for the per-stream views (a wait on every stream loop) only for a route that
// shows them, and for the node list (a walk of the registry under its lock) not for a health
// probe; the probe and the status JSON get their counts without them.
class RouteHttpTest : public ::testing::Test {
 protected:
  aclk::LocalHttpResponse get(const std::string& path, bool ready = true) {
    return routeHttp("GET", path, ready, [this](SurfaceDepth depth) {
      asked.push_back(depth);
      SurfaceSnapshot s;
      s.streamsConnected = 3;
      if (depth == SurfaceDepth::kCountsAndStreams) {
        s.streamSeries = streamSeriesOf(std::vector<stream_bridge::StreamView>(3));
      }
      return s;
    });
  }
  std::vector<SurfaceDepth> asked;
};

TEST_F(RouteHttpTest, OnlyTheMetricsAskForTheStreamViewsAndHealthForNoNodes) {
  const auto health = get("/healthz");
  EXPECT_EQ(health.code, 200);
  EXPECT_EQ(nlohmann::json::parse(health.body)["streams"], 3) << "the exact count, no views";
  EXPECT_EQ(get("/api/v1/aclk").code, 200);
  EXPECT_EQ(get("/api/v3/info").code, 200);
  EXPECT_EQ(asked, (std::vector<SurfaceDepth>{SurfaceDepth::kHealth, SurfaceDepth::kNodes,
                                              SurfaceDepth::kNodes}));
  const auto metrics = get("/metrics?x=1");
  EXPECT_EQ(metrics.code, 200);
  EXPECT_NE(metrics.body.find("aclkd_streams 3"), std::string::npos);
  EXPECT_EQ(asked.back(), SurfaceDepth::kCountsAndStreams) << "counts, not the node list";
}

TEST_F(RouteHttpTest, RefusalsTakeNoSnapshotThePageNoStreamViews) {
  EXPECT_EQ(get("/healthz", false).code, 503) << "state while starting";
  EXPECT_EQ(get("/nowhere").code, 404);
  EXPECT_TRUE(asked.empty());
  const auto starting = get("/", false);
  EXPECT_EQ(starting.code, 200) << "the page answers while starting, without state";
  EXPECT_TRUE(asked.empty());
  const auto page = get("/");
  EXPECT_EQ(page.code, 200);
  EXPECT_EQ(asked, (std::vector<SurfaceDepth>{SurfaceDepth::kNodes}))
      << "the page never waits on the stream loops";
  EXPECT_NE(page.body.find("3 connected"), std::string::npos);
}

// Found by tests/fuzz/web_request_fuzz.cc: a path that is not UTF-8 made the 404's JSON throw
// (json::dump), which ended the web thread and the daemon.
TEST_F(RouteHttpTest, APathThatIsNotUtf8IsAnsweredNotThrownOn) {
  const auto r = get("/api/v3/HH\xAC\xACz?x=\xFF");
  EXPECT_EQ(r.code, 404);
  EXPECT_EQ(nlohmann::json::parse(r.body)["path"], "/api/v3/HH\uFFFD\uFFFDz");
}

}  // namespace
}  // namespace aclkd::daemon
