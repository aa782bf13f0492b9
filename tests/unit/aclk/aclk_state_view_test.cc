#include "aclk/aclk_state_view.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unit/test_util.h"

namespace aclkd::aclk {
namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr const char* kClaimedId = "0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f";
constexpr const char* kMachineGuid = "11111111-2222-4333-8444-555555555555";

// 2025-01-01 10:00:00 UTC.
constexpr std::time_t kTen = 1735725600;

std::string golden(const std::string& name) {
  std::string text = test::readText(test::sourcePath("tests/unit/aclk/golden/" + name));
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

NodeInstanceView selfNode(std::optional<std::string> claimedId,
                          std::optional<std::string> nodeId) {
  NodeInstanceView n;
  n.hostname = "gw1";
  n.machineGuid = kMachineGuid;
  n.claimedId = std::move(claimedId);
  n.nodeId = std::move(nodeId);
  return n;
}

AclkStateView unclaimedView() {
  AclkStateView v;
  v.nodes.push_back(selfNode(std::nullopt, std::nullopt));
  v.cloudReason = "Agent is not claimed yet";
  return v;
}

// Claimed and offline after one connection, with counters left over from it: the offline-only
// zeroing has something to zero.
AclkStateView claimedOfflineView() {
  AclkStateView v;
  v.claimed = true;
  v.claimedId = kClaimedId;
  v.cloudUrl = "https://app.netdata.cloud";
  v.proxyDisplay = "http://proxy.example:3128 (with credentials, from aclkd.conf [cloud])";
  v.publishLatencyUs = 11444;
  v.online = false;
  v.receivedMessages = 12;
  v.receivedPubacks = 57;
  v.pendingPubacks = 3;
  v.timedOutPubacks = 2;
  v.serverReceiveMaximum = 32;
  v.reconnectCount = 1;
  v.times.lastConnect = kTen;
  v.times.lastConnectPuback = kTen + 1;
  v.times.lastDisconnect = kTen + 5400;
  v.times.nextConnectionAttempt = kTen + 5405;
  v.times.lastBackoffSeconds = 5.25;
  v.nodes.push_back(selfNode(kClaimedId, "22222222-3333-4444-8555-666666666666"));
  NodeInstanceView child;
  child.hostname = "child1";
  child.machineGuid = "33333333-4444-4555-8666-777777777777";
  child.claimedId = "44444444-5555-4666-8777-888888888888";
  child.streamingHops = 1;
  child.self = false;
  child.streamingOnline = false;
  v.nodes.push_back(child);
  v.aclkStatus = "disconnected, ping timed out";
  v.cloudStatus = "offline";
  v.cloudReason = "disconnected, ping timed out";
  return v;
}

std::vector<std::string> keysOf(const OrderedJson& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) {
    keys.push_back(key);
  }
  return keys;
}

TEST(AclkStateTest, KeyOrderIsNetdatasThenExtensions) {
  const OrderedJson j = OrderedJson::parse(renderAclkStateJson(claimedOfflineView()));
  // docs/protocol/aclk.md §11.4, in order, then aclkd's own three keys at the end.
  const std::vector<std::string> expected = {
      "aclk-available",
      "aclk-version",
      "protocols-supported",
      "agent-claimed",
      "claimed-id",
      "cloud-url",
      "aclk_proxy",
      "publish_latency_us",
      "online",
      "used-cloud-protocol",
      "mqtt-version",
      "received-app-layer-msgs",
      "received-mqtt-pubacks",
      "pending-mqtt-pubacks",
      "timed-out-mqtt-pubacks-since-start",
      "server-receive-maximum",
      "reconnect-count",
      "last-connect-time-utc",
      "last-connect-time-puback-utc",
      "last-disconnect-time-utc",
      "next-connection-attempt-utc",
      "last-backoff-value",
      "banned-by-cloud",
      "node-instances",
      "aclk-status",
      "cloud-status",
      "cloud-reason",
  };
  EXPECT_EQ(keysOf(j), expected);
  ASSERT_EQ(j["node-instances"].size(), 2u);
  for (const auto& node : j["node-instances"]) {
    EXPECT_EQ(keysOf(node),
              (std::vector<std::string>{"hostname", "mguid", "claimed_id", "node-id",
                                        "streaming-hops", "relationship", "streaming-online",
                                        "alert-sync-status"}));
  }
}

TEST(AclkStateTest, UnclaimedGolden) {
  EXPECT_EQ(renderAclkStateJson(unclaimedView()), golden("aclk_state_unclaimed.json"));
}

TEST(AclkStateTest, ClaimedOfflineGolden) {
  EXPECT_EQ(renderAclkStateJson(claimedOfflineView()), golden("aclk_state_claimed.json"));
}

TEST(AclkStateTest, SingleLine) {
  EXPECT_EQ(renderAclkStateJson(claimedOfflineView()).find('\n'), std::string::npos);
}

TEST(AclkStateTest, FixedValues) {
  const auto j = nlohmann::json::parse(renderAclkStateJson(AclkStateView{}));
  EXPECT_EQ(j["aclk-available"], true);
  EXPECT_EQ(j["aclk-version"], 2);
  EXPECT_EQ(j["protocols-supported"], nlohmann::json::array({"Protobuf"}));
  EXPECT_EQ(j["used-cloud-protocol"], "Protobuf");
  EXPECT_EQ(j["mqtt-version"], 5);
  EXPECT_EQ(j["aclk_proxy"], "none");
  EXPECT_TRUE(j["node-instances"].is_array());
  EXPECT_TRUE(j["node-instances"].empty());
  EXPECT_EQ(j["aclk-status"], "offline");
  EXPECT_EQ(j["cloud-status"], "available");
  EXPECT_EQ(j["cloud-reason"], "");
}

TEST(AclkStateTest, NullsWhenUnset) {
  const auto j = nlohmann::json::parse(renderAclkStateJson(unclaimedView()));
  for (const char* key : {"claimed-id", "cloud-url", "last-connect-time-utc",
                          "last-connect-time-puback-utc", "last-disconnect-time-utc",
                          "next-connection-attempt-utc", "last-backoff-value"}) {
    EXPECT_TRUE(j[key].is_null()) << key;
  }
  EXPECT_TRUE(j["node-instances"][0]["claimed_id"].is_null());
  EXPECT_TRUE(j["node-instances"][0]["node-id"].is_null());
  EXPECT_TRUE(j["node-instances"][0]["alert-sync-status"].is_object());
  EXPECT_TRUE(j["node-instances"][0]["alert-sync-status"].empty());
}

TEST(AclkStateTest, OnlineKeepsCountersAndNullsOfflineOnlyFields) {
  AclkStateView v = claimedOfflineView();
  v.online = true;
  v.aclkStatus = "connected";
  v.cloudStatus = "online";
  v.cloudReason = "";
  const auto j = nlohmann::json::parse(renderAclkStateJson(v));
  EXPECT_EQ(j["online"], true);
  EXPECT_EQ(j["pending-mqtt-pubacks"], 3);
  EXPECT_EQ(j["timed-out-mqtt-pubacks-since-start"], 2);
  EXPECT_EQ(j["server-receive-maximum"], 32);
  EXPECT_EQ(j["received-app-layer-msgs"], 12);
  EXPECT_EQ(j["received-mqtt-pubacks"], 57);
  // While online there is no next attempt and no backoff, whatever the last values were.
  EXPECT_TRUE(j["next-connection-attempt-utc"].is_null());
  EXPECT_TRUE(j["last-backoff-value"].is_null());
  EXPECT_EQ(j["last-connect-time-utc"], "2025-01-01 10:00:00");
}

TEST(AclkStateTest, OfflineZeroesPerConnectionGauges) {
  const auto j = nlohmann::json::parse(renderAclkStateJson(claimedOfflineView()));
  EXPECT_EQ(j["pending-mqtt-pubacks"], 0);
  EXPECT_EQ(j["timed-out-mqtt-pubacks-since-start"], 0);
  EXPECT_EQ(j["server-receive-maximum"], 0);
  // Message counters of the last connection stay visible.
  EXPECT_EQ(j["received-app-layer-msgs"], 12);
  EXPECT_EQ(j["received-mqtt-pubacks"], 57);
  EXPECT_EQ(j["next-connection-attempt-utc"], "2025-01-01 11:30:05");
  EXPECT_EQ(j["last-backoff-value"], 5.25);
}

TEST(AclkStateTest, ZeroBackoffIsNull) {
  AclkStateView v = claimedOfflineView();
  v.times.lastBackoffSeconds = 0.0;
  const auto j = nlohmann::json::parse(renderAclkStateJson(v));
  EXPECT_TRUE(j["last-backoff-value"].is_null());
}

TEST(AclkStateTest, BannedFlag) {
  AclkStateView v = claimedOfflineView();
  v.banned = true;
  const auto j = nlohmann::json::parse(renderAclkStateJson(v));
  EXPECT_EQ(j["banned-by-cloud"], true);
}

TEST(AclkStateTest, TextIsEscaped) {
  AclkStateView v;
  v.cloudReason = "Failed with description 'a\"b\\c'\n";
  NodeInstanceView n;
  n.hostname = "h\"x";
  v.nodes.push_back(n);
  const std::string text = renderAclkStateJson(v);
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["cloud-reason"], "Failed with description 'a\"b\\c'\n");
  EXPECT_EQ(j["node-instances"][0]["hostname"], "h\"x");
  EXPECT_EQ(text.find('\n'), std::string::npos);
}

TEST(AclkStateTest, FormatUtc) {
  EXPECT_EQ(formatUtc(0), "1970-01-01 00:00:00");
  EXPECT_EQ(formatUtc(kTen), "2025-01-01 10:00:00");
  EXPECT_EQ(formatUtc(951782400), "2000-02-29 00:00:00");
  EXPECT_EQ(formatUtc(1767225599), "2025-12-31 23:59:59");
}

TEST(AclkStateTest, FormatUtcIgnoresLocalTimeZone) {
  const char* old = std::getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TZ", "XXX-5", 1);  // POSIX form: needs no zoneinfo files
  ::tzset();
  EXPECT_EQ(formatUtc(kTen), "2025-01-01 10:00:00");
  if (old != nullptr) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
}

}  // namespace
}  // namespace aclkd::aclk
