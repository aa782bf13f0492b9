#include "cli/aclk_state_text.h"

#include <ctime>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unit/test_util.h"

namespace aclkd::cli {
namespace {

using Json = nlohmann::json;

const std::string kErrorLine = "error: aclkd answered with an unexpected state object\n";

// The text form shows local time: every test pins the zone, UTC unless it says otherwise.
class AclkStateTextTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("TZ");
    hadTz_ = old != nullptr;
    savedTz_ = hadTz_ ? old : "";
    setZone("UTC");
  }
  void TearDown() override {
    if (hadTz_) {
      ::setenv("TZ", savedTz_.c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  static void setZone(const char* zone) {
    ::setenv("TZ", zone, 1);
    ::tzset();
  }

 private:
  bool hadTz_ = false;
  std::string savedTz_;
};

// The daemon side's golden output is the input here, so the two renderers are checked against
// each other as well as against docs/protocol/aclk.md §11.3.
std::string stateJson(const std::string& name) {
  return test::readText(test::sourcePath("tests/unit/aclk/golden/" + name + ".json"));
}
std::string expectedText(const std::string& name) {
  return test::readText(test::sourcePath("tests/unit/cli/golden/" + name + ".txt"));
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(AclkStateTextTest, UnclaimedGolden) {
  EXPECT_EQ(renderAclkStateText(stateJson("aclk_state_unclaimed")),
            expectedText("aclk_state_unclaimed"));
}

TEST_F(AclkStateTextTest, ClaimedOfflineGolden) {
  EXPECT_EQ(renderAclkStateText(stateJson("aclk_state_claimed")),
            expectedText("aclk_state_claimed"));
}

TEST_F(AclkStateTextTest, TimesAreShownInLocalTime) {
  setZone("XXX-1");  // POSIX form, UTC+1, needs no zoneinfo files
  const std::string text = renderAclkStateText(stateJson("aclk_state_claimed"));
  EXPECT_TRUE(contains(text, "Last Connection Time: 2025-01-01 11:00:00\n")) << text;
  EXPECT_TRUE(contains(text, "Last Connection Time + 3 PUBACKs received: 2025-01-01 11:00:01\n"));
  EXPECT_TRUE(contains(text, "Last Disconnect Time: 2025-01-01 12:30:00\n"));
  EXPECT_TRUE(contains(text, "Next Connection Attempt At: 2025-01-01 12:30:05\n"));
}

TEST_F(AclkStateTextTest, UnparsableTimeIsShownAsGiven) {
  Json j = Json::parse(stateJson("aclk_state_claimed"));
  j["last-connect-time-utc"] = "yesterday";
  EXPECT_TRUE(contains(renderAclkStateText(j.dump()), "Last Connection Time: yesterday\n"));
}

TEST_F(AclkStateTextTest, OnlineBlock) {
  Json j = Json::parse(stateJson("aclk_state_claimed"));
  j["online"] = true;
  j["pending-mqtt-pubacks"] = 3;
  j["timed-out-mqtt-pubacks-since-start"] = 2;
  j["server-receive-maximum"] = 32;
  const std::string text = renderAclkStateText(j.dump());
  EXPECT_TRUE(contains(text, "Online: Yes\n"));
  EXPECT_TRUE(contains(text,
                       "Last Disconnect Time: 2025-01-01 11:30:00\n"
                       "Received Cloud MQTT Messages: 12\n"
                       "MQTT Messages Confirmed by Remote Broker (PUBACKs): 57\n"
                       "Pending PUBACKS: 3\n"
                       "MQTT Messages Dropped Without a PUBACK (since start): 2\n"
                       "Server Receive Maximum: 32\n"
                       "\n> Node Instance"))
      << text;
  // Offline-only lines are not shown while online, even if the object carries them.
  EXPECT_FALSE(contains(text, "Next Connection Attempt At"));
  EXPECT_FALSE(contains(text, "Last Backoff"));
}

TEST_F(AclkStateTextTest, OfflineHasNoOnlineBlock) {
  const std::string text = renderAclkStateText(stateJson("aclk_state_claimed"));
  EXPECT_FALSE(contains(text, "Received Cloud MQTT Messages"));
  EXPECT_FALSE(contains(text, "Pending PUBACKS"));
  EXPECT_FALSE(contains(text, "Server Receive Maximum"));
}

TEST_F(AclkStateTextTest, PublishLatencyForms) {
  Json j = Json::parse(stateJson("aclk_state_claimed"));
  const std::vector<std::pair<long long, std::string>> cases = {
      {0, "0us"}, {999, "999us"}, {1000, "1ms 0us"}, {11444, "11ms 444us"},
      {2000001, "2000ms 1us"}};
  for (const auto& [us, shown] : cases) {
    j["publish_latency_us"] = us;
    EXPECT_TRUE(contains(renderAclkStateText(j.dump()), "Publish Latency: " + shown + "\n"))
        << us;
  }
}

// Found by tests/fuzz/control_request_fuzz.cc: a float out of long long's range was converted
// (undefined behaviour). A number that is not an integer is a wrong type, as a string is.
TEST_F(AclkStateTextTest, ANumberThatIsNotAnIntegerIsAnErrorLine) {
  for (const double bad : {8.2e86, -1.5}) {
    Json j = Json::parse(stateJson("aclk_state_claimed"));
    j["publish_latency_us"] = bad;
    EXPECT_EQ(renderAclkStateText(j.dump()), kErrorLine) << bad;
  }
}

TEST_F(AclkStateTextTest, ClaimedWithNullUrl) {
  Json j = Json::parse(stateJson("aclk_state_claimed"));
  j["cloud-url"] = nullptr;
  EXPECT_TRUE(contains(renderAclkStateText(j.dump()), "Cloud URL: null\n"));
}

TEST_F(AclkStateTextTest, BannedAndBackoffFormat) {
  Json j = Json::parse(stateJson("aclk_state_claimed"));
  j["banned-by-cloud"] = true;
  j["last-backoff-value"] = 64;
  const std::string text = renderAclkStateText(j.dump());
  EXPECT_TRUE(contains(text, "Banned By Cloud: Yes\n"));
  EXPECT_TRUE(contains(text, "Last Backoff: 64.000\n"));
}

TEST_F(AclkStateTextTest, NodeInstanceBlockUsesTabs) {
  const std::string text = renderAclkStateText(stateJson("aclk_state_claimed"));
  EXPECT_TRUE(contains(text,
                       "\n\n> Node Instance for mGUID: \"33333333-4444-4555-8666-777777777777\" "
                       "hostname \"child1\"\n"
                       "\tClaimed ID: 44444444-5555-4666-8777-888888888888\n"
                       "\tNode ID: null\n"
                       "\tStreaming Hops: 1\n"
                       "\tRelationship: child\n"
                       "\tStreaming Connection Live: false\n"
                       "\tAlert Streaming Status:\n"))
      << text;
}

TEST_F(AclkStateTextTest, LiveChild) {
  Json j = Json::parse(stateJson("aclk_state_claimed"));
  j["node-instances"][1]["streaming-online"] = true;
  EXPECT_TRUE(contains(renderAclkStateText(j.dump()), "\tStreaming Connection Live: true\n"));
}

TEST_F(AclkStateTextTest, CloudStatusLinesComeLast) {
  const std::string text = renderAclkStateText(stateJson("aclk_state_claimed"));
  const std::string tail =
      "\n\nCloud Status: offline\nCloud Status Reason: disconnected, ping timed out\n";
  ASSERT_GE(text.size(), tail.size());
  EXPECT_EQ(text.substr(text.size() - tail.size()), tail);
}

TEST_F(AclkStateTextTest, EmptyCloudReasonHasNoReasonLine) {
  Json j = Json::parse(stateJson("aclk_state_claimed"));
  j["online"] = true;
  j["cloud-status"] = "online";
  j["cloud-reason"] = "";
  const std::string text = renderAclkStateText(j.dump());
  EXPECT_TRUE(contains(text, "\nCloud Status: online\n")) << text;
  EXPECT_FALSE(contains(text, "Cloud Status Reason"));
}

TEST_F(AclkStateTextTest, NetdatasOwnObjectHasNoCloudStatusLines) {
  // A plain Netdata object (no extension keys) renders Netdata's lines only.
  Json j = Json::parse(stateJson("aclk_state_unclaimed"));
  j.erase("aclk-status");
  j.erase("cloud-status");
  j.erase("cloud-reason");
  const std::string text = renderAclkStateText(j.dump());
  EXPECT_FALSE(contains(text, "Cloud Status"));
  const std::string tail = "\tAlert Streaming Status:\n";
  ASSERT_GE(text.size(), tail.size());
  EXPECT_EQ(text.substr(text.size() - tail.size()), tail);
}

TEST_F(AclkStateTextTest, GarbageIsAnErrorLine) {
  for (const std::string garbage :
       {"", "not json", "{", "[]", "42", "null", R"("text")", R"({"online":true})"}) {
    EXPECT_EQ(renderAclkStateText(garbage), kErrorLine) << garbage;
  }
}

TEST_F(AclkStateTextTest, MinimalObjectDoesNotCrash) {
  // A daemon of another version may send fewer keys; missing ones render as absent or null.
  const std::string text = renderAclkStateText(R"({"agent-claimed":true})");
  EXPECT_TRUE(contains(text, "Claimed: Yes\nClaimed Id: null\nCloud URL: null\n")) << text;
  EXPECT_TRUE(contains(text, "ACLK Proxy: none\n")) << text;
  EXPECT_TRUE(contains(text, "Online: No\n")) << text;
  EXPECT_FALSE(contains(text, "Last Connection Time")) << text;
}

TEST_F(AclkStateTextTest, NodeWithoutFieldsDoesNotCrash) {
  const std::string text =
      renderAclkStateText(R"({"agent-claimed":false,"node-instances":[{}]})");
  EXPECT_TRUE(contains(text, "> Node Instance for mGUID: \"\" hostname \"\"\n"
                             "\tClaimed ID: null\n\tNode ID: null\n"))
      << text;
}

TEST_F(AclkStateTextTest, WrongTypesAreAnErrorLine) {
  for (const std::string bad : {R"({"agent-claimed":"yes"})",
                                R"({"agent-claimed":true,"publish_latency_us":"fast"})",
                                R"({"agent-claimed":false,"reconnect-count":null})",
                                R"({"agent-claimed":false,"node-instances":[1,2]})"}) {
    EXPECT_EQ(renderAclkStateText(bad), kErrorLine) << bad;
  }
}

}  // namespace
}  // namespace aclkd::cli
