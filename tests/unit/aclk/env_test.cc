#include "aclk/env.h"

#include <gtest/gtest.h>

#include "aclk/status_strings.h"
#include "unit/aclk/step_outcome.h"

namespace aclkd::aclk {
namespace {

test::StepOutcome<CloudEnv> envStep(long code, const std::string& body) {
  return test::runStep<CloudEnv>(interpretEnvResponse, code, body);
}

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
  const auto r = envStep(200, kGoodEnv);
  ASSERT_TRUE(r.value) << r.failure.reason;
  EXPECT_EQ(r.value->mqttEndpoint.host, "mqtt.example.net");
  EXPECT_EQ(r.value->mqttEndpoint.port, 443);
  EXPECT_EQ(r.value->backoff.maxSeconds, 1024);
  EXPECT_EQ(envPath("1.2.3", "abc"), "/api/v1/env?v=1.2.3&cap=proto,ctx&claim_id=abc");
}

TEST(EnvTest, GoodBodyFillsEveryField) {
  const auto body = replace(replace(kGoodEnv, R"("base":2)", R"("base":3)"), R"("minSeconds":0)",
                            R"("minSeconds":5)");
  const auto r = envStep(200, body);
  ASSERT_TRUE(r.value) << r.failure.reason;
  EXPECT_EQ(r.failure.status, AclkStatus::kConnected);
  EXPECT_TRUE(r.failure.reason.empty());
  EXPECT_FALSE(r.failure.cloudError);
  EXPECT_EQ(r.value->authEndpoint.host, "api.example.net");
  EXPECT_EQ(r.value->authEndpoint.port, 443);
  EXPECT_EQ(r.value->authEndpoint.path, "/api/v1/auth");
  EXPECT_EQ(r.value->backoff.base, 3);
  EXPECT_EQ(r.value->backoff.minSeconds, 5);
  EXPECT_EQ(r.value->backoff.maxSeconds, 1024);
  EXPECT_EQ(r.value->capabilities, (std::vector<std::string>{"proto", "ctx"}));
}

TEST(EnvTest, UnknownKeysAreIgnoredAndProtoCapabilityIsCaseInsensitive) {
  auto body = replace(kGoodEnv, R"({"authEndpoint")", R"({"future":{"x":[1,2]},"authEndpoint")");
  body = replace(body, R"(["proto","ctx"])", R"(["PROTO"])");
  const auto r = envStep(200, body);
  ASSERT_TRUE(r.value) << r.failure.reason;
}

TEST(EnvTest, FirstMqttV5TransportWins) {
  const auto body = replace(kGoodEnv, R"("transports":[)",
                            R"("transports":[{"type":"MQTTv3","endpoint":"wss://v3.example.net"},)");
  const auto withSecond =
      replace(body, R"(/mqtt"}])", R"(/mqtt"},{"type":"MQTTv5","endpoint":"wss://b.example.net"}])");
  const auto r = envStep(200, withSecond);
  ASSERT_TRUE(r.value) << r.failure.reason;
  EXPECT_EQ(r.value->mqttEndpoint.host, "mqtt.example.net");
}

// Each malformed variant gives its exact docs/protocol/aclk.md §11.1 status.
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
    const auto r = envStep(c.code, c.body);
    EXPECT_FALSE(r.value) << c.body;
    EXPECT_EQ(statusString(r.failure.status), c.status) << c.body << " -> " << r.failure.reason;
    EXPECT_FALSE(r.failure.reason.empty());
  }
}

// A body that breaks the key rules is "/env response is not JSON", and the log line names the key.
TEST(EnvTest, MissingOrIllTypedFieldsNameTheField) {
  struct Case {
    std::string body;
    const char* field;
  };
  const Case cases[] = {
      {replace(kGoodEnv, R"("authEndpoint":"https://api.example.net/api/v1/auth",)", ""),
       "authEndpoint"},
      {replace(kGoodEnv, R"("authEndpoint":"https://api.example.net/api/v1/auth")",
               R"("authEndpoint":7)"),
       "authEndpoint"},
      {replace(kGoodEnv, R"("encoding":"proto")", R"("encoding":["proto"])"), "encoding"},
      {replace(kGoodEnv, R"("encoding":"proto",)", ""), "encoding"},
      {replace(kGoodEnv,
               R"("transports":[{"type":"MQTTv5","endpoint":"wss://mqtt.example.net:443/mqtt"}],)",
               ""),
       "transport"},
      {replace(kGoodEnv,
               R"([{"type":"MQTTv5","endpoint":"wss://mqtt.example.net:443/mqtt"}])", "[]"),
       "transport"},
      {replace(kGoodEnv,
               R"([{"type":"MQTTv5","endpoint":"wss://mqtt.example.net:443/mqtt"}])", "{}"),
       "transports"},
      {replace(kGoodEnv, R"({"type":"MQTTv5","endpoint")", R"({"endpoint")"), "transports[0].type"},
      {replace(kGoodEnv, R"("type":"MQTTv5")", R"("type":5)"), "transports[0].type"},
      {replace(kGoodEnv, R"(,"endpoint":"wss://mqtt.example.net:443/mqtt")", ""),
       "transports[0].endpoint"},
      {replace(kGoodEnv, R"([{"type")", R"(["x",{"type")"), "transports[0]"},
      {replace(kGoodEnv, R"("backoff":{"base":2,"minSeconds":0,"maxSeconds":1024},)", ""),
       "backoff"},
      {replace(kGoodEnv, R"({"base":2,"minSeconds":0,"maxSeconds":1024})", "[2,0,1024]"),
       "backoff"},
      {replace(kGoodEnv, R"("base":2,)", ""), "backoff.base"},
      {replace(kGoodEnv, R"("base":2)", R"("base":"2")"), "backoff.base"},
      {replace(kGoodEnv, R"("base":2)", R"("base":2.5)"), "backoff.base"},
      {replace(kGoodEnv, R"("base":2)", R"("base":0)"), "backoff.base"},
      {replace(kGoodEnv, R"("maxSeconds":1024)", R"("maxSeconds":499)"), "backoff.maxSeconds"},
      {replace(kGoodEnv, R"("maxSeconds":1024)", R"("maxSeconds":2147483648)"),
       "backoff.maxSeconds"},
      {replace(kGoodEnv, R"(,"maxSeconds":1024)", ""), "backoff.maxSeconds"},
      {replace(kGoodEnv, R"("minSeconds":0)", R"("minSeconds":-1)"), "backoff.minSeconds"},
      {replace(kGoodEnv, R"("minSeconds":0,)", ""), "backoff.minSeconds"},
      {replace(kGoodEnv, R"(["proto","ctx"])", R"("proto")"), "capabilities"},
      {replace(kGoodEnv, R"(["proto","ctx"])", R"(["proto",1])"), "capabilities"},
  };
  for (const auto& c : cases) {
    const auto r = envStep(200, c.body);
    EXPECT_FALSE(r.value) << c.body;
    EXPECT_EQ(r.failure.status, AclkStatus::kEnvNotJson) << c.body << " -> " << r.failure.reason;
    EXPECT_NE(r.failure.reason.find(c.field), std::string::npos)
        << "error \"" << r.failure.reason << "\" does not name " << c.field;
  }
}

TEST(EnvTest, BackoffBoundsAreInclusive) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {R"("base":2)", R"("base":1)"},
           {R"("base":2)", R"("base":10)"},
           {R"("maxSeconds":1024)", R"("maxSeconds":500)"},
           {R"("maxSeconds":1024)", R"("maxSeconds":2147483647)"},
           {R"("minSeconds":0)", R"("minSeconds":2147483647)"}}) {
    const auto r = envStep(200, replace(kGoodEnv, from, to));
    EXPECT_TRUE(r.value) << to << ": " << r.failure.reason;
  }
}

TEST(EnvTest, NoMqttV5TransportIsTheTransportIdxStatus) {
  const auto r = envStep(200, replace(kGoodEnv, R"("type":"MQTTv5")", R"("type":"mqttv5")"));
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.failure.status, AclkStatus::kInvalidEnvTransportIdx);
  EXPECT_NE(r.failure.reason.find("transport"), std::string::npos) << r.failure.reason;
}

TEST(EnvTest, UnparsableTransportEndpointIsTheTransportUrlStatus) {
  const auto r =
      envStep(200, replace(kGoodEnv, "wss://mqtt.example.net:443/mqtt", "::not a url::"));
  EXPECT_FALSE(r.value);
  EXPECT_EQ(statusString(r.failure.status), "can't connect, invalid /env transport URL");
}

TEST(EnvTest, NonJsonAndNonObjectBodies) {
  for (const std::string body : {"<html></html>", "{", "[1,2]", "\"proto\"", "42", "null",
                                 R"({"authEndpoint":"x"} trailing)"}) {
    const auto r = envStep(200, body);
    EXPECT_FALSE(r.value) << body;
    EXPECT_EQ(r.failure.status, AclkStatus::kEnvNotJson) << body;
    EXPECT_FALSE(r.failure.reason.empty());
  }
}

TEST(EnvTest, DuplicateKeysAreRejectedAtAnyDepthAndNamed) {
  const auto top = envStep(
      200, replace(kGoodEnv, R"("encoding":"proto")", R"("encoding":"proto","encoding":"json")"));
  EXPECT_FALSE(top.value);
  EXPECT_EQ(top.failure.status, AclkStatus::kEnvNotJson);
  EXPECT_NE(top.failure.reason.find("\"encoding\""), std::string::npos) << top.failure.reason;

  const auto nested = envStep(200, replace(kGoodEnv, R"("base":2)", R"("base":2,"base":3)"));
  EXPECT_FALSE(nested.value);
  EXPECT_EQ(nested.failure.status, AclkStatus::kEnvNotJson);
  EXPECT_NE(nested.failure.reason.find("\"base\""), std::string::npos) << nested.failure.reason;

  // The same key in two sibling objects is not a duplicate.
  const auto siblings = envStep(
      200, replace(kGoodEnv, R"(/mqtt"}])", R"(/mqtt"},{"type":"MQTTv3","endpoint":"wss://x"}])"));
  EXPECT_TRUE(siblings.value) << siblings.failure.reason;
}

TEST(EnvTest, Non200KeepsTheCloudErrorBody) {
  const auto r = envStep(
      403, R"({"errorCode":"E","errorMsgKey":"K","errorMessage":"M","errorNonRetryable":true})");
  EXPECT_FALSE(r.value);
  EXPECT_EQ(r.failure.status, AclkStatus::kEnvNot200);
  EXPECT_NE(r.failure.reason.find("403"), std::string::npos) << r.failure.reason;
  ASSERT_TRUE(r.failure.cloudError);
  EXPECT_EQ(r.failure.cloudError->errorCode, "E");
  EXPECT_TRUE(r.failure.cloudError->nonRetryable);
  EXPECT_FALSE(envStep(500, "oops").failure.cloudError);
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

TEST(EnvTest, CloudErrorBodyOptionalKeysAndRequiredKeys) {
  const std::string base = R"({"errorCode":"E","errorMsgKey":"K","errorMessage":"M")";
  const auto minimal = parseCloudErrorBody(base + "}");
  ASSERT_TRUE(minimal);
  EXPECT_FALSE(minimal->nonRetryable);
  EXPECT_EQ(minimal->retryDelaySeconds, -1);
  EXPECT_EQ(describeCloudError(*minimal),
            R"(ACLK: Cloud returned EC="E", Msg-Key:"K", Msg:"M", BlockRetry:false, )"
            "Backoff:-1s (-1 unset by cloud)");

  // Ill-typed or non-positive optional keys keep their defaults.
  for (const std::string extra :
       {R"(,"errorNonRetryable":"true"})", R"(,"errorRetryDelaySeconds":0})",
        R"(,"errorRetryDelaySeconds":-5})", R"(,"errorRetryDelaySeconds":"30"})"}) {
    const auto e = parseCloudErrorBody(base + extra);
    ASSERT_TRUE(e) << extra;
    EXPECT_FALSE(e->nonRetryable) << extra;
    EXPECT_EQ(e->retryDelaySeconds, -1) << extra;
  }

  // Each of the three string keys is required.
  EXPECT_FALSE(parseCloudErrorBody(R"({"errorMsgKey":"K","errorMessage":"M"})"));
  EXPECT_FALSE(parseCloudErrorBody(R"({"errorCode":"E","errorMessage":"M"})"));
  EXPECT_FALSE(parseCloudErrorBody(R"({"errorCode":"E","errorMsgKey":"K"})"));
  EXPECT_FALSE(parseCloudErrorBody(R"({"errorCode":1,"errorMsgKey":"K","errorMessage":"M"})"));
  EXPECT_FALSE(parseCloudErrorBody("[]"));
  EXPECT_FALSE(parseCloudErrorBody(""));
}

}  // namespace
}  // namespace aclkd::aclk
