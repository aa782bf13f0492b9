#include "aclk/otp.h"

#include <gtest/gtest.h>

#include "aclk/status_strings.h"
#include "aclk/topics.h"
#include "unit/aclk/step_outcome.h"

namespace aclkd::aclk {
namespace {

test::StepOutcome<std::string> challengeStep(long code, const std::string& body) {
  return test::runStep<std::string>(interpretChallengeResponse, code, body);
}

test::StepOutcome<MqttCredentials> passwordStep(long code, const std::string& body,
                                                const std::string& claimedId) {
  return test::runStep<MqttCredentials>(interpretPasswordResponse, code, body, claimedId);
}

std::string challengeBody(const std::string& text) {
  return R"({"challenge":")" + text + R"("})";
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

TEST(OtpTest, Base64KnownVectors) {
  // RFC 4648 §10.
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded) << plain;
    EXPECT_EQ(base64Decode(encoded), std::optional<std::string>(plain)) << encoded;
  }
  // The standard alphabet, with '+' and '/', and no line breaks for long input.
  EXPECT_EQ(base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64Decode("+/8="), std::optional<std::string>("\xfb\xff"));
  EXPECT_EQ(base64Encode(std::string(300, 'x')).find('\n'), std::string::npos);
}

TEST(OtpTest, Base64RoundTripOfEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    EXPECT_EQ(base64Decode(base64Encode(bytes)), std::optional<std::string>(bytes)) << n;
    bytes += static_cast<char>((n * 37 + 11) & 0xff);
  }
}

TEST(OtpTest, Base64RejectsBadInput) {
  for (const std::string& bad : std::vector<std::string>{
           "Zg=",         // length not a multiple of 4
           "Zg",          // missing padding
           "Zm9\n",       // whitespace
           " Zm9",        // leading whitespace
           "Zm9v Zm9v",   // inner space
           "Zm-v",        // URL-safe alphabet
           "Zm_v",        // URL-safe alphabet
           "Z=9v",        // padding in the middle
           "Zg=a",        // data after padding
           "Z===",        // too much padding
           "====",        // padding only
           "Zg==Zm9v",    // padding before more data
           std::string("Zm\0v", 4),
       }) {
    EXPECT_FALSE(base64Decode(bad)) << "accepted \"" << bad << "\"";
  }
}

TEST(OtpTest, Paths) {
  EXPECT_EQ(challengePath("/api/v1/auth", "CID"), "/api/v1/auth/node/CID/challenge");
  EXPECT_EQ(passwordPath("/api/v1/auth", "CID"), "/api/v1/auth/node/CID/password");
}

TEST(OtpTest, ChallengeAnswers) {
  std::string bytes(256, 'x');
  const auto good = challengeStep(200, challengeBody(base64Encode(bytes)));
  ASSERT_TRUE(good.value) << good.failure.reason;
  EXPECT_EQ(good.value->size(), 256u);
  EXPECT_EQ(statusString(challengeStep(500, "{}").failure.status),
            "otp challenge response is not http/200");
  EXPECT_EQ(
      statusString(
          challengeStep(200, challengeBody(base64Encode(std::string(100, 'x')))).failure.status),
      "otp challenge response is invalid");
  EXPECT_EQ(statusString(challengeStep(200, "garbage").failure.status),
            "otp challenge response is invalid");
  EXPECT_EQ(buildPasswordBody("v1.0", "ab"), R"({"agent_version":"v1.0", "response":"YWI="})");
}

TEST(OtpTest, ChallengeKeepsTheExactBytes) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(255 - i);
  const auto r = challengeStep(200, challengeBody(base64Encode(bytes)));
  ASSERT_TRUE(r.value) << r.failure.reason;
  EXPECT_EQ(*r.value, bytes);
  EXPECT_EQ(r.failure.status, AclkStatus::kConnected);
  EXPECT_TRUE(r.failure.reason.empty());
}

TEST(OtpTest, ChallengeInvalidVariants) {
  const std::string good = base64Encode(std::string(256, 'q'));
  std::string badChar = good;
  badChar[10] = '*';
  const std::string bodies[] = {
      "",
      "garbage",
      "[]",
      R"({})",
      R"({"challenge":42})",
      R"({"challenge":null})",
      challengeBody(good.substr(0, 340)),      // too short
      challengeBody(good + "AAAA"),            // too long
      challengeBody(badChar),                  // 344 chars but not base64
      challengeBody(base64Encode(std::string(254, 'q')) + "AAAA"),  // padding inside
      // 344 characters without padding decode to 258 bytes, not 256.
      challengeBody(base64Encode(std::string(258, 'q'))),
  };
  for (const auto& body : bodies) {
    const auto r = challengeStep(200, body);
    EXPECT_FALSE(r.value) << body;
    EXPECT_EQ(r.failure.status, AclkStatus::kOtpChallengeInvalid) << body;
    EXPECT_FALSE(r.failure.reason.empty()) << body;
  }
}

TEST(OtpTest, ChallengeLengthErrorSaysTheLength) {
  const auto r = challengeStep(200, challengeBody(base64Encode(std::string(255, 'q'))));
  EXPECT_EQ(r.failure.status, AclkStatus::kOtpChallengeInvalid);
  // 255 bytes encode to 340 characters.
  EXPECT_NE(r.failure.reason.find("340"), std::string::npos) << r.failure.reason;
}

TEST(OtpTest, ChallengeNon200KeepsTheCloudError) {
  const auto r = challengeStep(
      404, R"({"errorCode":"E","errorMsgKey":"K","errorMessage":"M","errorRetryDelaySeconds":9})");
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.failure.status, AclkStatus::kOtpChallengeNot200);
  EXPECT_NE(r.failure.reason.find("404"), std::string::npos) << r.failure.reason;
  ASSERT_TRUE(r.failure.cloudError);
  EXPECT_EQ(r.failure.cloudError->retryDelaySeconds, 9);
}

TEST(OtpTest, PasswordBodyIsByteExact) {
  EXPECT_EQ(buildPasswordBody("v2.11.0", ""), R"({"agent_version":"v2.11.0", "response":""})");
  // A version with characters that need escaping stays valid JSON.
  EXPECT_EQ(buildPasswordBody("v\"1\\", "foobar"),
            R"({"agent_version":"v\"1\\", "response":"Zm9vYmFy"})");
  const std::string secret(214, '\x01');
  const auto body = buildPasswordBody("v1", secret);
  const std::string prefix = R"({"agent_version":"v1", "response":")";
  ASSERT_EQ(body.rfind(prefix, 0), 0u);
  const auto b64 = body.substr(prefix.size(), body.size() - prefix.size() - 2);
  EXPECT_EQ(body.substr(body.size() - 2), "\"}");
  EXPECT_EQ(base64Decode(b64), std::optional<std::string>(secret));
}

std::string topicEntry(const std::string& name, const std::string& tmpl) {
  return R"({"name":")" + name + R"(","topic":")" + tmpl + R"("})";
}

std::string passwordBody(const std::string& dropName = "", const std::string& badName = "") {
  std::string topics;
  for (size_t i = 0; i < static_cast<size_t>(TopicId::kCount); ++i) {
    const auto name = std::string(topicName(static_cast<TopicId>(i)));
    if (name == dropName || !topicIsCompulsory(static_cast<TopicId>(i))) continue;
    const std::string tmpl = name == badName ? "/agent/no-placeholder/" + name
                                             : "/agent/#{claim_id}/out/" + name;
    topics += (topics.empty() ? "" : ",") + topicEntry(name, tmpl);
  }
  return R"({"clientID":"c","username":"u","password":"p","topics":[)" + topics + "]}";
}

// Inserts `entry` as the first element of the topic list of `body`.
std::string withFirstTopic(const std::string& body, const std::string& entry) {
  std::string out = body;
  const std::string key = R"("topics":[)";
  const auto at = out.find(key);
  EXPECT_NE(at, std::string::npos);
  out.insert(at + key.size(), entry + ",");
  return out;
}

TEST(OtpTest, PasswordAnswerAndTopicRules) {
  const auto good = passwordStep(201, passwordBody(), "CID");
  ASSERT_TRUE(good.value) << good.failure.reason;
  EXPECT_EQ(good.value->topics.get(TopicId::kAgentConnection),
            std::optional<std::string>("/agent/CID/out/agent-connection"));
  EXPECT_FALSE(good.value->topics.get(TopicId::kNodeInstanceManifest)) << "optional topic";

  EXPECT_EQ(statusString(passwordStep(401, passwordBody(), "CID").failure.status),
            "otp password response is not http/201");
  EXPECT_EQ(statusString(passwordStep(201, "", "CID").failure.status),
            "otp password response is empty");
  EXPECT_EQ(statusString(passwordStep(201, "{x", "CID").failure.status),
            "otp password response is not JSON");
  const auto noChart = passwordStep(201, passwordBody("chart"), "CID");
  EXPECT_EQ(statusString(noChart.failure.status), "otp password response is not JSON");
  EXPECT_EQ(noChart.failure.reason,
            R"(missing compulsory topic "chart" in password response from cloud)");
  EXPECT_EQ(statusString(passwordStep(201, passwordBody("agent-connection"), "CID").failure.status),
            "can't connect, no LWT topic");
  EXPECT_EQ(statusString(passwordStep(201, passwordBody("", "meta"), "CID").failure.status),
            "otp password response is not JSON")
      << "a compulsory topic without #{claim_id} is unusable";
}

TEST(OtpTest, PasswordGoodAnswerFillsCredentialsAndOrder) {
  const auto r = passwordStep(201, passwordBody(), "CID");
  ASSERT_TRUE(r.value) << r.failure.reason;
  EXPECT_EQ(r.failure.status, AclkStatus::kConnected);
  EXPECT_EQ(r.value->clientId, "c");
  EXPECT_EQ(r.value->username, "u");
  EXPECT_EQ(r.value->password, "p");
  const size_t compulsory = static_cast<size_t>(TopicId::kCount) - 1;
  ASSERT_EQ(r.value->topics.ordered.size(), compulsory);
  for (size_t i = 0; i < compulsory; ++i) {
    const auto id = static_cast<TopicId>(i);
    const std::string expected = "/agent/CID/out/" + std::string(topicName(id));
    EXPECT_EQ(r.value->topics.ordered[i], expected);
    EXPECT_EQ(r.value->topics.get(id), std::optional<std::string>(expected));
  }
}

TEST(OtpTest, PasswordTopicTemplateRules) {
  // Optional manifest, an unknown name and a nameless topic are kept in order; only the first
  // placeholder is replaced; a placeholder-less unknown topic is dropped silently.
  std::string body = passwordBody();
  body = withFirstTopic(body, topicEntry("node-instance-manifest", "/m/#{claim_id}/#{claim_id}"));
  body = withFirstTopic(body, R"({"topic":"/nameless/#{claim_id}"})");
  body = withFirstTopic(body, topicEntry("future-topic", "/f/#{claim_id}"));
  body = withFirstTopic(body, topicEntry("other-future", "/no-placeholder"));
  const auto r = passwordStep(201, body, "CID");
  ASSERT_TRUE(r.value) << r.failure.reason;
  EXPECT_EQ(r.value->topics.get(TopicId::kNodeInstanceManifest),
            std::optional<std::string>("/m/CID/#{claim_id}"));
  ASSERT_GE(r.value->topics.ordered.size(), 3u);
  EXPECT_EQ(r.value->topics.ordered[0], "/f/CID");
  EXPECT_EQ(r.value->topics.ordered[1], "/nameless/CID");
  EXPECT_EQ(r.value->topics.ordered[2], "/m/CID/#{claim_id}");
  EXPECT_EQ(r.value->topics.ordered.size(), static_cast<size_t>(TopicId::kCount) - 1 + 3);
}

TEST(OtpTest, PasswordMissingCredentialsNameTheKey) {
  const std::string topics = passwordBody().substr(passwordBody().find(R"("topics")"));
  struct Case {
    std::string body;
    const char* key;
  };
  const Case cases[] = {
      {R"({"username":"u","password":"p",)" + topics, "clientID"},
      {R"({"clientID":"c","password":"p",)" + topics, "username"},
      {R"({"clientID":"c","username":"u",)" + topics, "password"},
      {R"({"clientID":"","username":"u","password":"p",)" + topics, "clientID"},
      {R"({"clientID":"c","username":7,"password":"p",)" + topics, "username"},
      {R"({"clientID":"c","username":"u","password":"p"})", "topics"},
      {R"({"clientID":"c","username":"u","password":"p","topics":{}})", "topics"},
      {R"({"clientID":"c","username":"u","password":"p","topics":[1]})", "topics[0].topic"},
      {R"({"clientID":"c","username":"u","password":"p","topics":[{"name":"chart"}]})",
       "topics[0].topic"},
      {R"({"clientID":"c","username":"u","password":"p","topics":[{"name":1,"topic":"/x"}]})",
       "topics[0].name"},
  };
  for (const auto& c : cases) {
    const auto r = passwordStep(201, c.body, "CID");
    EXPECT_FALSE(r.value) << c.body;
    EXPECT_EQ(r.failure.status, AclkStatus::kOtpPasswordNotJson) << c.body;
    EXPECT_NE(r.failure.reason.find(c.key), std::string::npos)
        << r.failure.reason << " does not name " << c.key;
  }
  EXPECT_EQ(passwordStep(201, "[]", "CID").failure.status, AclkStatus::kOtpPasswordNotJson);
}

TEST(OtpTest, PasswordMissingTopicsNameTheFirstMissing) {
  // Every compulsory topic gives the exact message; only agent-connection alone is "no LWT".
  for (size_t i = 0; i < static_cast<size_t>(TopicId::kCount); ++i) {
    const auto id = static_cast<TopicId>(i);
    if (!topicIsCompulsory(id)) continue;
    const std::string name(topicName(id));
    for (const bool drop : {true, false}) {
      const auto r = passwordStep(201, drop ? passwordBody(name) : passwordBody("", name), "CID");
      EXPECT_FALSE(r.value) << name;
      EXPECT_EQ(r.failure.reason,
                "missing compulsory topic \"" + name + "\" in password response from cloud");
      EXPECT_EQ(r.failure.status, id == TopicId::kAgentConnection ? AclkStatus::kNoLwtTopic
                                                                  : AclkStatus::kOtpPasswordNotJson)
          << name;
    }
  }
  // Empty topic list: the first compulsory topic is named; not the LWT status.
  const auto none =
      passwordStep(201, R"({"clientID":"c","username":"u","password":"p","topics":[]})", "CID");
  EXPECT_EQ(none.failure.status, AclkStatus::kOtpPasswordNotJson);
  EXPECT_EQ(none.failure.reason,
            R"(missing compulsory topic "chart" in password response from cloud)");
}

TEST(OtpTest, MissingAgentConnectionTogetherWithAnotherIsNotJson) {
  // Only "agent-connection" missing alone gives the LWT status.
  std::string body = passwordBody("agent-connection");
  const auto dropChart = body.find(topicEntry("chart", "/agent/#{claim_id}/out/chart") + ",");
  ASSERT_NE(dropChart, std::string::npos);
  body.erase(dropChart, topicEntry("chart", "/agent/#{claim_id}/out/chart").size() + 1);
  const auto r = passwordStep(201, body, "CID");
  EXPECT_EQ(r.failure.status, AclkStatus::kOtpPasswordNotJson);
  EXPECT_EQ(r.failure.reason,
            R"(missing compulsory topic "chart" in password response from cloud)");
}

TEST(OtpTest, PasswordNon201KeepsTheCloudError) {
  const auto r = passwordStep(
      403, R"({"errorCode":"E","errorMsgKey":"K","errorMessage":"M","errorNonRetryable":true})",
      "CID");
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.failure.status, AclkStatus::kOtpPasswordNot201);
  EXPECT_NE(r.failure.reason.find("403"), std::string::npos) << r.failure.reason;
  ASSERT_TRUE(r.failure.cloudError);
  EXPECT_TRUE(r.failure.cloudError->nonRetryable);
  EXPECT_EQ(passwordStep(200, passwordBody(), "CID").failure.status, AclkStatus::kOtpPasswordNot201)
      << "only 201 is accepted";
}

}  // namespace
}  // namespace aclkd::aclk
