#include "claim/claim_request.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"

namespace aclkd::claim {
namespace {

const char* kPem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";

HttpClientResponse answer(long status, std::string body = "") {
  HttpClientResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(ClaimRequestTest, BodyFieldOrderAndValues) {
  const std::string text =
      buildClaimBody("0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f", "gw1", "tok", {"r1", "r2"}, kPem,
                     "11111111-2222-4333-8444-555555555555");
  // Minified: no newline except the escaped ones inside the key.
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const auto body = nlohmann::ordered_json::parse(text);
  std::vector<std::string> keys;
  for (const auto& [key, value] : body.items()) {
    keys.push_back(key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"node", "token", "rooms", "publicKey", "mGUID"}));
  std::vector<std::string> nodeKeys;
  for (const auto& [key, value] : body["node"].items()) {
    nodeKeys.push_back(key);
  }
  EXPECT_EQ(nodeKeys, (std::vector<std::string>{"id", "hostname"}));
  EXPECT_EQ(body["node"]["id"], "0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f");
  EXPECT_EQ(body["node"]["hostname"], "gw1");
  EXPECT_EQ(body["token"], "tok");
  EXPECT_EQ(body["rooms"], nlohmann::ordered_json({"r1", "r2"}));
  EXPECT_EQ(body["publicKey"], kPem);
  EXPECT_EQ(body["mGUID"], "11111111-2222-4333-8444-555555555555");
}

TEST(ClaimRequestTest, BodyExactText) {
  EXPECT_EQ(buildClaimBody("id", "h", "t", {}, "K\n", "m"),
            R"({"node":{"id":"id","hostname":"h"},"token":"t","rooms":[],"publicKey":"K\n",)"
            R"("mGUID":"m"})");
}

TEST(ClaimRequestTest, BodyEmptyRoomsIsAnArray) {
  const auto body = nlohmann::json::parse(buildClaimBody("i", "h", "t", {}, kPem, "m"));
  ASSERT_TRUE(body["rooms"].is_array());
  EXPECT_TRUE(body["rooms"].empty());
}

TEST(ClaimRequestTest, BodyEscapesSpecialCharacters) {
  const auto body =
      nlohmann::json::parse(buildClaimBody("i", "host \"quoted\"\\", "t\n", {}, kPem, "m"));
  EXPECT_EQ(body["node"]["hostname"], "host \"quoted\"\\");
  EXPECT_EQ(body["token"], "t\n");
}

TEST(ClaimRequestTest, ClaimUrl) {
  const std::string id = "0f3c9a52-7d1e-4b8a-9c2e-5a6b7c8d9e0f";
  EXPECT_EQ(claimUrl("https://app.netdata.cloud", id),
            "https://app.netdata.cloud/api/v1/spaces/nodes/" + id);
  EXPECT_EQ(claimUrl("https://app.netdata.cloud/", id),
            "https://app.netdata.cloud/api/v1/spaces/nodes/" + id);
  EXPECT_EQ(claimUrl("https://h:8443/prefix", id),
            "https://h:8443/prefix/api/v1/spaces/nodes/" + id);
}

TEST(ClaimRequestTest, Success204) {
  const ClaimOutcome out = interpretClaimResponse(answer(204, "ignored"));
  EXPECT_TRUE(out.ok);
  EXPECT_FALSE(out.retryable);
  EXPECT_EQ(out.reason, "");
}

TEST(ClaimRequestTest, Every422Key) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ErrInvalidNodeID", "Failed: the node id is invalid"},
      {"ErrInvalidNodeName", "Failed: the node name is invalid"},
      {"ErrInvalidRoomID", "Failed: one or more room ids are invalid"},
      {"ErrInvalidPublicKey", "Failed: the public key is invalid"},
      {"ErrSomethingNew", "Failed with description 'ErrSomethingNew'"},
  };
  for (const auto& [key, reason] : cases) {
    const ClaimOutcome out =
        interpretClaimResponse(answer(422, R"({"errorMsgKey":")" + key + R"(","x":1})"));
    EXPECT_FALSE(out.ok) << key;
    EXPECT_FALSE(out.retryable) << key;
    EXPECT_EQ(out.reason, reason) << key;
  }
}

TEST(ClaimRequestTest, Unusable422Bodies) {
  for (const std::string body :
       {"", "not json", "[1,2]", R"({"errorMsgKey":42})", R"({"other":"x"})", "{"}) {
    const ClaimOutcome out = interpretClaimResponse(answer(422, body));
    EXPECT_FALSE(out.ok) << body;
    EXPECT_FALSE(out.retryable) << body;
    EXPECT_EQ(out.reason, "Failed with description ''") << body;
  }
}

TEST(ClaimRequestTest, FinalFailures) {
  const std::vector<std::pair<long, std::string>> cases = {
      {102, "Claiming is in progress"},
      {403, "Failed: token is expired, not found, or invalid"},
      {409, "Failed: agent is already claimed"},
  };
  for (const auto& [status, reason] : cases) {
    const ClaimOutcome out = interpretClaimResponse(answer(status));
    EXPECT_FALSE(out.ok) << status;
    EXPECT_FALSE(out.retryable) << status;
    EXPECT_EQ(out.reason, reason) << status;
  }
}

TEST(ClaimRequestTest, RetryableFailures) {
  const std::vector<std::pair<long, std::string>> cases = {
      {500, "Failed: received Internal Server Error"},
      {503, "Failed: Netdata Cloud is unavailable"},
      {504, "Failed: Gateway Timeout"},
      {200, "Failed with response code 200"},
      {404, "Failed with response code 404"},
      {502, "Failed with response code 502"},
  };
  for (const auto& [status, reason] : cases) {
    const ClaimOutcome out = interpretClaimResponse(answer(status));
    EXPECT_FALSE(out.ok) << status;
    EXPECT_TRUE(out.retryable) << status;
    EXPECT_EQ(out.reason, reason) << status;
  }
}

TEST(ClaimRequestTest, TransportFailureIsRetryableWithItsText) {
  HttpClientResponse r;
  r.failure = HttpFailure::kConnect;
  r.error = "cloud unreachable: Failed to connect to 127.0.0.1 port 1";
  const ClaimOutcome out = interpretClaimResponse(r);
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(out.retryable);
  EXPECT_EQ(out.reason, "Failed: cloud unreachable: Failed to connect to 127.0.0.1 port 1");
}

TEST(ClaimRequestTest, TlsFailureIsRetryable) {
  HttpClientResponse r;
  r.failure = HttpFailure::kTlsVerify;
  r.error = "TLS certificate verification failed: self-signed certificate";
  const ClaimOutcome out = interpretClaimResponse(r);
  EXPECT_TRUE(out.retryable);
  EXPECT_EQ(out.reason, "Failed: TLS certificate verification failed: self-signed certificate");
}

}  // namespace
}  // namespace aclkd::claim
