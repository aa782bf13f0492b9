#include "daemon/surface_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aclkd::daemon {
namespace {

stream_bridge::StreamView stream(const std::string& hostname, const std::string& guid) {
  stream_bridge::StreamView s;
  s.hostname = hostname;
  s.machineGuid = guid;
  return s;
}

TEST(SurfaceJsonTest, StreamsAreListedByHostNameThenGuid) {
  const auto j = nlohmann::json::parse(
      streamsArrayJson({stream("b", "1"), stream("a", "2"), stream("a", "1")}));
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["hostname"], "a");
  EXPECT_EQ(j[0]["machine-guid"], "1");
  EXPECT_EQ(j[1]["machine-guid"], "2");
  EXPECT_EQ(j[2]["hostname"], "b");
  EXPECT_EQ(streamsArrayJson({}), "[]");
}

TEST(SurfaceJsonTest, NodesGetTheFieldsOtherPartsAdd) {
  stream_bridge::NodeView n;
  n.machineGuid = "g";
  const auto j = nlohmann::json::parse(nodesArrayJson({n}, [](const std::string& guid) {
    return guid == "g" ? std::string(R"({"alerts":"relayed"})") : std::string();
  }));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["alerts"], "relayed");
  EXPECT_EQ(j[0]["machine-guid"], "g");
  EXPECT_FALSE(nlohmann::json::parse(nodesArrayJson({n}, {}))[0].contains("alerts"));
}

TEST(SurfaceJsonTest, HealthSaysTheLinkAndTheStreams) {
  SurfaceSnapshot s;
  s.state.aclkStatus = "connected";
  s.state.cloudStatus = "online";
  s.state.online = true;
  s.streamsConnected = 2;
  EXPECT_EQ(renderHealthJson(s),
            R"({"status":"ok","link":"connected","cloud":"online","online":true,"streams":2})");
}

TEST(SurfaceJsonTest, InfoShowsTheConfiguredUrlWhileUnclaimed) {
  SurfaceSnapshot s;
  s.configuredUrl = "https://cloud.example";
  s.state.cloudStatus = "available";
  const auto cloud = nlohmann::json::parse(renderInfoJson(s))["agents"][0]["cloud"];
  EXPECT_EQ(cloud["url"], "https://cloud.example");
  EXPECT_EQ(cloud["reason"], "Agent is not claimed yet");
  EXPECT_FALSE(cloud.contains("claim_id"));
}

}  // namespace
}  // namespace aclkd::daemon
