#include "daemon/status_page.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace aclkd::daemon {
namespace {

// Hostnames and status strings come from the network: the page shows them as text, never markup.
TEST(StatusPageTest, TablesRenderedWithoutScriptAndEscaped) {
  SurfaceSnapshot s;
  s.state.online = true;
  s.state.aclkStatus = "online <b>";
  aclk::NodeInstanceView child;
  child.hostname = "<script>alert(1)</script>";
  child.machineGuid = "7e5dc348-e657-11f1-8a35-02fc00000001";
  child.nodeId = "node-1";
  s.state.nodes.push_back(child);
  stream_bridge::NodeView r;
  r.machineGuid = child.machineGuid;
  r.charts = 12;
  r.contexts = 5;
  r.functions = 3;
  r.functionsCallable = true;
  s.nodes.push_back(r);
  stream_bridge::NodeView unlisted;  // streaming, not yet a node instance of the link
  unlisted.machineGuid = "7e5dc348-e657-11f1-8a35-02fc00000002";
  unlisted.hostname = "new-child";
  unlisted.live = true;
  s.nodes.push_back(unlisted);
  s.streamsConnected = 1;
  const auto page = renderStatusPage(s, true);
  EXPECT_NE(page.find("<td>new-child</td><td>7e5dc348-e657-11f1-8a35-02fc00000002</td><td>-</td>"
                      "<td>child</td><td>0</td><td>yes</td>"),
            std::string::npos);
  EXPECT_EQ(page.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("online &lt;b&gt;"), std::string::npos);
  EXPECT_NE(page.find("<td>12</td><td>5</td><td>3 (callable)</td>"), std::string::npos);
  EXPECT_NE(page.find(">Online<"), std::string::npos);
  EXPECT_NE(page.find("1 connected"), std::string::npos);
  EXPECT_NE(page.find("src=\"/static/chart.js\""), std::string::npos);
  const auto starting = renderStatusPage({}, false);
  EXPECT_NE(starting.find("starting"), std::string::npos);
}

TEST(StatusPageTest, ChartLibraryFromThePackageOrAClear404) {
  const auto missing = chartLibrary("/nonexistent/chart.min.js");
  EXPECT_EQ(missing.code, 404);
  EXPECT_NE(missing.body.find("libjs-chart.js"), std::string::npos);
  const std::string path = ::testing::TempDir() + "chart-test.js";
  std::ofstream(path) << "/* chart */";
  const auto found = chartLibrary(path);
  EXPECT_EQ(found.code, 200);
  EXPECT_EQ(found.body, "/* chart */");
  EXPECT_NE(found.contentType.find("javascript"), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace aclkd::daemon
