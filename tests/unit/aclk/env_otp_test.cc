#include <gtest/gtest.h>

#include <set>

#include "aclk/aclk_status.h"
#include "aclk/env.h"
#include "aclk/otp.h"
#include "aclk/topics.h"

namespace aclkd::aclk {
namespace {

const std::string kGoodEnv =
    R"({"authEndpoint":"https://api.example.net/api/v1/auth","encoding":"proto",)"
    R"("transports":[{"type":"MQTTv5","endpoint":"wss://mqtt.example.net:443/mqtt"}],)"
    R"("backoff":{"base":2,"minSeconds":0,"maxSeconds":1024},"capabilities":["proto","ctx"]})";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

TEST(EnvTest, GoodBody) {
  const auto r = interpretEnvResponse(200, kGoodEnv);
  ASSERT_TRUE(r.value) << r.error;
  EXPECT_EQ(r.value->mqttEndpoint.host, "mqtt.example.net");
  EXPECT_EQ(r.value->mqttEndpoint.port, 443);
  EXPECT_EQ(r.value->backoff.maxSeconds, 1024);
  EXPECT_EQ(envPath("1.2.3", "abc"), "/api/v1/env?v=1.2.3&cap=proto,ctx&claim_id=abc");
}

// Each malformed variant gives its exact §11.1 status.
TEST(EnvTest, EachBadVariantHasItsStatus) {
  struct Case {
    long code;
    std::string body;
    const char* status;
  };
  const Case cases[] = {
      {500, kGoodEnv, "/env response code is not 200"},
      {200, "", "/env response is empty"},
      {200, "<html>", "/env response is not JSON"},
      {200, replace(kGoodEnv, R"("encoding":"proto",)", ""), "/env response is not JSON"},
      {200, replace(kGoodEnv, R"("base":2)", R"("base":11)"), "/env response is not JSON"},
      {200, replace(kGoodEnv, R"("encoding":"proto")", R"("encoding":"proto","encoding":"proto")"),
       "/env response is not JSON"},
      {200, replace(kGoodEnv, R"("encoding":"proto")", R"("encoding":"json")"),
       "can't connect, old protocol not supported"},
      {200, replace(kGoodEnv, R"(["proto","ctx"])", R"(["ctx"])"),
       "can't connect, protocol capability not supported"},
      {200, replace(kGoodEnv, "https://api.example.net/api/v1/auth", "not a url"),
       "can't connect, invalid /env auth url"},
      {200, replace(kGoodEnv, "MQTTv5", "MQTTv3"), "can't connect, invalid /env transport idx"},
  };
  for (const auto& c : cases) {
    const auto r = interpretEnvResponse(c.code, c.body);
    EXPECT_FALSE(r.value) << c.body;
    EXPECT_EQ(statusString(r.status), c.status) << c.body << " -> " << r.error;
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(EnvTest, UnknownTransportTypesAreSkipped) {
  const auto body = replace(kGoodEnv, R"([{"type":"MQTTv5")",
                            R"([{"type":"QUIC","endpoint":"x"},{"type":"MQTTv5")");
  const auto r = interpretEnvResponse(200, body);
  ASSERT_TRUE(r.value) << r.error;
  EXPECT_EQ(r.value->mqttEndpoint.host, "mqtt.example.net");
}

TEST(EnvTest, CloudErrorBody) {
  const auto e = parseCloudErrorBody(
      R"({"errorCode":"E1","errorMsgKey":"K","errorMessage":"M","errorNonRetryable":true,)"
      R"("errorRetryDelaySeconds":30})");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->nonRetryable);
  EXPECT_EQ(e->retryDelaySeconds, 30);
  EXPECT_EQ(describeCloudError(*e),
            R"(ACLK: Cloud returned EC="E1", Msg-Key:"K", Msg:"M", BlockRetry:true, Backoff:30s )"
            "(-1 unset by cloud)");
  EXPECT_FALSE(parseCloudErrorBody("nope"));
}

TEST(OtpTest, Base64RoundTripAndStrictness) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  const auto text = base64Encode(bytes);
  EXPECT_EQ(text.size(), 344u);
  EXPECT_EQ(base64Decode(text), bytes);
  EXPECT_FALSE(base64Decode("a*b="));
  EXPECT_FALSE(base64Decode("abc"));
}

TEST(OtpTest, ChallengeAnswers) {
  std::string bytes(256, 'x');
  const auto good = interpretChallengeResponse(200, R"({"challenge":")" + base64Encode(bytes) +
                                                        R"("})");
  ASSERT_TRUE(good.value) << good.error;
  EXPECT_EQ(good.value->size(), 256u);
  EXPECT_EQ(statusString(interpretChallengeResponse(500, "{}").status),
            "otp challenge response is not http/200");
  EXPECT_EQ(statusString(interpretChallengeResponse(
                             200, R"({"challenge":")" + base64Encode(std::string(100, 'x')) +
                                      R"("})")
                             .status),
            "otp challenge response is invalid");
  EXPECT_EQ(statusString(interpretChallengeResponse(200, "garbage").status),
            "otp challenge response is invalid");
  EXPECT_EQ(buildPasswordBody("v1.0", "ab"), R"({"agent_version":"v1.0", "response":"YWI="})");
}

std::string passwordBody(const std::string& dropName = "", const std::string& badName = "") {
  std::string topics;
  for (size_t i = 0; i < static_cast<size_t>(TopicId::kCount); ++i) {
    const auto name = std::string(topicName(static_cast<TopicId>(i)));
    if (name == dropName || !topicIsCompulsory(static_cast<TopicId>(i))) continue;
    const std::string tmpl = name == badName ? "/agent/no-placeholder/" + name
                                             : "/agent/#{claim_id}/out/" + name;
    topics += (topics.empty() ? "" : ",") + std::string(R"({"name":")") + name +
              R"(","topic":")" + tmpl + R"("})";
  }
  return R"({"clientID":"c","username":"u","password":"p","topics":[)" + topics + "]}";
}

TEST(OtpTest, PasswordAnswerAndTopicRules) {
  const auto good = interpretPasswordResponse(201, passwordBody(), "CID");
  ASSERT_TRUE(good.value) << good.error;
  EXPECT_EQ(good.value->topics.get(TopicId::kAgentConnection),
            std::optional<std::string>("/agent/CID/out/agent-connection"));
  EXPECT_FALSE(good.value->topics.get(TopicId::kNodeInstanceManifest)) << "optional topic";

  EXPECT_EQ(statusString(interpretPasswordResponse(401, passwordBody(), "CID").status),
            "otp password response is not http/201");
  EXPECT_EQ(statusString(interpretPasswordResponse(201, "", "CID").status),
            "otp password response is empty");
  EXPECT_EQ(statusString(interpretPasswordResponse(201, "{x", "CID").status),
            "otp password response is not JSON");
  const auto noChart = interpretPasswordResponse(201, passwordBody("chart"), "CID");
  EXPECT_EQ(statusString(noChart.status), "otp password response is not JSON");
  EXPECT_EQ(noChart.error, R"(missing compulsory topic "chart" in password response from cloud)");
  EXPECT_EQ(statusString(interpretPasswordResponse(201, passwordBody("agent-connection"), "CID")
                             .status),
            "can't connect, no LWT topic");
  EXPECT_EQ(statusString(interpretPasswordResponse(201, passwordBody("", "meta"), "CID").status),
            "otp password response is not JSON")
      << "a compulsory topic without #{claim_id} is unusable";
}

TEST(TopicsTest, NamesRoundTripAndTypes) {
  for (size_t i = 0; i < static_cast<size_t>(TopicId::kCount); ++i) {
    const auto id = static_cast<TopicId>(i);
    EXPECT_EQ(topicIdByName(topicName(id)), id);
  }
  EXPECT_FALSE(topicIdByName("nope"));
  EXPECT_EQ(messageTypeOfTopic("/agent/x/inbound/v1/cmd/DisconnectReq"), "DisconnectReq");
  EXPECT_EQ(messageTypeOfTopic("nosl"), "");
}

TEST(StatusTest, EveryStringIsDistinctAndHttpFailuresMap) {
  std::set<std::string_view> seen;
  for (int i = 0; i <= static_cast<int>(AclkStatus::kOfflineMessageTooBig); ++i) {
    const auto s = statusString(static_cast<AclkStatus>(i));
    EXPECT_FALSE(s.empty()) << i;
    // The brief's table has "unknown error" twice (socket and HTTPS client); nothing else repeats.
    EXPECT_TRUE(seen.insert(s).second || s == "unknown error") << "duplicate status string " << s;
  }
  EXPECT_EQ(statusString(AclkStatus::kOfflinePingTimeout), "disconnected, ping timed out");
  EXPECT_EQ(statusString(AclkStatus::kConnected), "connected");
  EXPECT_EQ(statusString(statusForHttpFailure(HttpFailure::kTimeout)), "https client timeout");
}

}  // namespace
}  // namespace aclkd::aclk
