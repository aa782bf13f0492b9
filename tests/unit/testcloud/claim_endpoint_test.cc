// Unit tests of the test cloud's transport-free parts: the claim endpoint (docs/protocol/aclk.md
// §3.3-3.4), the route table, the control API and the recorded state.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "common/file_util.h"
#include "testcloud/api_router.h"
#include "testcloud/claim_endpoint.h"
#include "testcloud/cloud_state.h"
#include "testcloud/control_api.h"
#include "testcloud/public_key.h"

namespace aclkd::testcloud {
namespace {

// Throwaway keys made with `openssl genpkey` for these tests only (public halves).
constexpr const char* kAgentKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAiWfiG1pLvBo40bcwms3z\n"
    "AimzsN2YN0b8d1f/Mc1YyKL1mgikwI3i+VSiIjzdM8+lB5O41K8dMLZqU1IuKfww\n"
    "errXmVbFBTPBMyS3BUhwX9/TLIHbRNOwEFigqm/bOAygxJAphx0rqiM7292mGaKh\n"
    "qslvOLEeJ8ACkv7SNoDRiu57ZvEhJP7NVnDf0B/08oE0HYLL7zlb316D7T/xa9eL\n"
    "4O5ajQor/yWqc/7xPzkcw1CwhYS+yV9WU7nncCYHeJYjyH+Dv7SqI18/HQHX3Tto\n"
    "cESUzgtWeiQCBHApOTHpodBTVnAPCIMVkFncpa9DZLaVSUEt6+9D1SXRw5ganyo5\n"
    "SwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

constexpr const char* kOtherKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0pM6Jlqy4ug6T/7ELTC1\n"
    "XIcLtdOUWWmrk9WUzZwhmpTj4HJ/o5LuWorDujAzjFAV6r5eJupK3nuz40kGwWxS\n"
    "53for1Yjr6zLYFl7WTC4IOj8DoK5UZfYZGM8NEAfalOfgRFqJUxjnu9aeht3FsR9\n"
    "VPey9C9H6XjkIU3BlIWOegsj81JSq2mQzVtf82qVcdESw+4euFgdRgkVBJlijVRE\n"
    "FiQ74FWRFHj6wZdTNkN7fnZ9tdP8+wGyh6Tm64fp0N8wMs2Zv11ZXGYeAvcJaRAW\n"
    "kOefsg8J2cV6GU4SHtARySDcds0wqJVgxH07x82n3VjYV72fYyaxhHGRJ7yOhyUo\n"
    "EwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

constexpr const char* kSmallKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC48/mNvv6DaN265jQkIbQbiaRE\n"
    "MXszPnAz7Yki3C9UmngYSf3Y9RtBAxFXV+QQd186x3CF6Xib4fYeJMeZC1vYYi/J\n"
    "ZbVm+u+kwmUlkejVrABjQ4JWrMrxUE6LnGBOwuibX7UXHvWMO5o0MW8p/rW24WPQ\n"
    "JgJ59urSZmmYm/2roQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

constexpr const char* kEcKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAErEPI7c7KxK3maEyqNFhTqxx9yhxb\n"
    "d3bcCCohJk0Bv9rnoyeLYogGQMObhnFwJ4G3ljQ5NZebaGi+FMYOpAKgQQ==\n"
    "-----END PUBLIC KEY-----\n";

constexpr const char* kId = "3f9a1c7e-5b2d-4e8f-9a61-0c2b7d4e8f10";
constexpr const char* kToken = "secret-claim-token";
constexpr const char* kRoom = "0b4c1f0e-1111-4a5b-8c9d-000000000001";
constexpr const char* kGuid = "11111111-2222-4333-8444-555555555555";

nlohmann::json validBody(const std::string& id = kId) {
  return {{"node", {{"id", id}, {"hostname", "parent-1"}}},
          {"token", kToken},
          {"rooms", {kRoom}},
          {"publicKey", kAgentKey},
          {"mGUID", kGuid}};
}

std::string errorKey(const Reply& reply) {
  const auto json = nlohmann::json::parse(reply.body, nullptr, false);
  return json.is_object() ? json.value("errorMsgKey", "") : "";
}

std::string errorMessage(const Reply& reply) {
  const auto json = nlohmann::json::parse(reply.body, nullptr, false);
  return json.is_object() ? json.value("errorMessage", "") : "";
}

class ClaimEndpointTest : public ::testing::Test {
 protected:
  ClaimEndpointTest() : endpoint_(policy(), state_, [] { return fixedTime(); }) {}

  static ClaimPolicy policy() {
    ClaimPolicy p;
    p.tokens = {kToken, "second-token"};
    p.rooms = {kRoom, "0b4c1f0e-2222-4a5b-8c9d-000000000002"};
    return p;
  }
  static std::chrono::system_clock::time_point fixedTime() {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  }

  Reply claim(const nlohmann::json& body, const std::string& id = kId) {
    return endpoint_.claim(id, body.dump());
  }

  void expectRejected(const nlohmann::json& body, int status, const std::string& key,
                      const std::string& id = kId) {
    const Reply reply = claim(body, id);
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(errorKey(reply), key) << reply.body;
    EXPECT_EQ(reply.contentType, "application/json");
    EXPECT_TRUE(state_.claims().empty()) << "a rejected claim must not be recorded";
  }

  CloudState state_;
  ClaimEndpoint endpoint_;
};

TEST_F(ClaimEndpointTest, ValidClaimAnswers204AndRecordsEverythingButTheToken) {
  const Reply reply = claim(validBody());
  EXPECT_EQ(reply.status, 204);
  EXPECT_TRUE(reply.body.empty());

  const auto record = state_.findClaim(kId);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->claimedId, kId);
  EXPECT_EQ(record->hostname, "parent-1");
  EXPECT_EQ(record->machineGuid, kGuid);
  EXPECT_EQ(record->rooms, std::vector<std::string>{kRoom});
  EXPECT_EQ(record->publicKey, kAgentKey);
  EXPECT_TRUE(record->tokenAccepted);
  EXPECT_EQ(record->time, "2023-11-14T22:13:20Z");

  const std::string rendered = state_.claimsJson().dump();
  EXPECT_EQ(rendered.find(kToken), std::string::npos) << "the token must never be recorded";
  const auto json = claimToJson(*record);
  for (const char* field : {"claimed_id", "hostname", "machine_guid", "rooms", "public_key",
                            "token_accepted", "time"}) {
    EXPECT_TRUE(json.contains(field)) << field;
  }
}

TEST_F(ClaimEndpointTest, SameIdAndSameKeyAgainIsIdempotent) {
  ASSERT_EQ(claim(validBody()).status, 204);
  // The same key with different line breaks is still the same key.
  auto body = validBody();
  std::string crlf;
  for (const char c : std::string(kAgentKey)) {
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  }
  body["publicKey"] = crlf;
  body["node"]["hostname"] = "renamed";
  EXPECT_EQ(claim(body).status, 204);
  ASSERT_EQ(state_.claims().size(), 1u);
  EXPECT_EQ(state_.claims()[0].hostname, "parent-1") << "a repeated claim changes nothing";
}

TEST_F(ClaimEndpointTest, SameIdWithAnotherKeyIs409) {
  ASSERT_EQ(claim(validBody()).status, 204);
  auto body = validBody();
  body["publicKey"] = kOtherKey;
  const Reply reply = claim(body);
  EXPECT_EQ(reply.status, 409);
  EXPECT_EQ(errorKey(reply), "ErrAlreadyClaimed");
  EXPECT_EQ(state_.findClaim(kId)->publicKey, kAgentKey);
}

TEST_F(ClaimEndpointTest, ANewIdWithTheSameKeyIsANewClaim) {
  ASSERT_EQ(claim(validBody()).status, 204);
  const std::string second = "3f9a1c7e-5b2d-4e8f-9a61-0c2b7d4e8f11";
  EXPECT_EQ(claim(validBody(second), second).status, 204);
  EXPECT_EQ(state_.claims().size(), 2u);
}

TEST_F(ClaimEndpointTest, MalformedBodiesAreInvalidRequestsNamingTheField) {
  EXPECT_EQ(errorKey(endpoint_.claim(kId, "not json")), "ErrInvalidRequest");
  EXPECT_EQ(endpoint_.claim(kId, "not json").status, 422);
  EXPECT_EQ(errorKey(endpoint_.claim(kId, "[1,2]")), "ErrInvalidRequest");
  EXPECT_EQ(errorKey(endpoint_.claim(kId, "")), "ErrInvalidRequest");

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/node", "node"},         {"/node/id", "node.id"},     {"/node/hostname", "node.hostname"},
      {"/token", "token"},       {"/rooms", "rooms"},         {"/publicKey", "publicKey"},
      {"/mGUID", "mGUID"},
  };
  for (const auto& [pointer, field] : cases) {
    const nlohmann::json::json_pointer at(pointer);
    auto missing = validBody();
    missing[at.parent_pointer()].erase(at.back());
    const Reply reply = claim(missing);
    EXPECT_EQ(reply.status, 422) << pointer;
    EXPECT_EQ(errorKey(reply), "ErrInvalidRequest") << pointer;
    EXPECT_NE(errorMessage(reply).find("'" + field + "'"), std::string::npos)
        << pointer << ": " << errorMessage(reply);

    auto wrongType = validBody();
    wrongType[at] = 42;
    EXPECT_EQ(errorKey(claim(wrongType)), "ErrInvalidRequest") << pointer;
  }
  auto roomNotString = validBody();
  roomNotString["rooms"] = {kRoom, 7};
  EXPECT_EQ(errorKey(claim(roomNotString)), "ErrInvalidRequest");
  EXPECT_TRUE(state_.claims().empty());
}

TEST_F(ClaimEndpointTest, NodeIdMustBeAUuidMatchingTheUrl) {
  expectRejected(validBody("not-a-uuid"), 422, "ErrInvalidNodeID", "not-a-uuid");
  expectRejected(validBody("3f9a1c7e-5b2d-4e8f-9a61-000000000000"), 422, "ErrInvalidNodeID");
}

TEST_F(ClaimEndpointTest, UuidCaseDoesNotMatterAndIsStoredLowerCase) {
  const std::string upper = "3F9A1C7E-5B2D-4E8F-9A61-0C2B7D4E8F10";
  EXPECT_EQ(claim(validBody(kId), upper).status, 204);
  EXPECT_TRUE(state_.findClaim(kId).has_value());
}

TEST_F(ClaimEndpointTest, EmptyHostnameIsInvalidNodeName) {
  auto body = validBody();
  body["node"]["hostname"] = "";
  expectRejected(body, 422, "ErrInvalidNodeName");
}

TEST_F(ClaimEndpointTest, UnknownTokenIsForbiddenWithTheCloudsMessage) {
  auto body = validBody();
  body["token"] = "wrong";
  const Reply reply = claim(body);
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body, R"({"errorMsgKey":"ErrForbidden",)"
                        R"("errorMessage":"token is expired, not found, or invalid"})");
  body["token"] = "second-token";
  EXPECT_EQ(claim(body).status, 204) << "every --token is accepted";
}

TEST_F(ClaimEndpointTest, UnknownRoomIsInvalidRoomId) {
  auto body = validBody();
  body["rooms"] = {kRoom, "0b4c1f0e-9999-4a5b-8c9d-000000000009"};
  expectRejected(body, 422, "ErrInvalidRoomID");
  body["rooms"] = nlohmann::json::array();
  EXPECT_EQ(claim(body).status, 204) << "no rooms means the space's default room";
}

TEST_F(ClaimEndpointTest, WithoutConfiguredRoomsAnyRoomIsAccepted) {
  CloudState state;
  ClaimPolicy open;
  open.tokens = {kToken};
  ClaimEndpoint endpoint(open, state);
  auto body = validBody();
  body["rooms"] = {"anything", "else"};
  EXPECT_EQ(endpoint.claim(kId, body.dump()).status, 204);
}

TEST_F(ClaimEndpointTest, PublicKeyMustBeRsaOfAtLeast2048Bits) {
  const char* truncated = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  for (const char* key : {"", "garbage", truncated, kSmallKey, kEcKey}) {
    auto body = validBody();
    body["publicKey"] = key;
    expectRejected(body, 422, "ErrInvalidPublicKey");
  }
  auto body = validBody();
  body["publicKey"] = kSmallKey;
  EXPECT_NE(errorMessage(claim(body)).find("1024 bits"), std::string::npos);
}

TEST_F(ClaimEndpointTest, ChecksRunInTheDocumentedOrder) {
  // Every check fails at once: each answer is the earliest check in the documented order.
  auto body = validBody("3f9a1c7e-5b2d-4e8f-9a61-000000000000");
  body["node"]["hostname"] = "";
  body["token"] = "wrong";
  body["rooms"] = {"unknown"};
  body["publicKey"] = "garbage";
  EXPECT_EQ(errorKey(claim(body)), "ErrInvalidNodeID");
  body["node"]["id"] = kId;
  EXPECT_EQ(errorKey(claim(body)), "ErrInvalidNodeName");
  body["node"]["hostname"] = "h";
  EXPECT_EQ(errorKey(claim(body)), "ErrForbidden");
  body["token"] = kToken;
  EXPECT_EQ(errorKey(claim(body)), "ErrInvalidRoomID");
  body["rooms"] = {kRoom};
  EXPECT_EQ(errorKey(claim(body)), "ErrInvalidPublicKey");
  body["publicKey"] = kAgentKey;
  EXPECT_EQ(claim(body).status, 204);
}

TEST_F(ClaimEndpointTest, InjectedFaultAnswersUntilCleared) {
  Faults faults;
  faults.claimStatus = 503;
  state_.setFaults(faults);
  Reply reply = claim(validBody());
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, R"({"errorMsgKey":"ErrServiceUnavailable"})");
  EXPECT_EQ(claim(validBody()).status, 503) << "the fault holds for every claim";

  faults.claimStatus = 500;
  state_.setFaults(faults);
  reply = claim(validBody());
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body, R"({"errorMsgKey":"ErrInternalServerError"})");
  EXPECT_TRUE(state_.claims().empty());

  state_.setFaults(Faults{});
  EXPECT_EQ(claim(validBody()).status, 204);
}

TEST(RouterTest, MatchesPathsCapturesParamsAndAnswers404And405) {
  ApiRouter router;
  router.add("GET", "/a/{id}",
             [](const Request& r) { return textReply(200, "get " + r.param("id")); });
  router.add("PUT", "/a/{id}",
             [](const Request& r) { return textReply(201, "put " + r.param("id")); });
  router.add("GET", "/boom", [](const Request&) -> Reply { throw std::runtime_error("bug"); });

  Request request;
  request.method = "GET";
  request.path = "/a/x1";
  EXPECT_EQ(router.dispatch(request).body, "get x1");
  request.method = "PUT";
  EXPECT_EQ(router.dispatch(request).status, 201);

  request.method = "DELETE";
  const Reply notAllowed = router.dispatch(request);
  EXPECT_EQ(notAllowed.status, 405);
  ASSERT_EQ(notAllowed.headers.size(), 1u);
  EXPECT_EQ(notAllowed.headers[0].first, "Allow");
  EXPECT_EQ(notAllowed.headers[0].second, "GET, PUT");

  for (const char* path : {"/a", "/a/", "/a/x/y", "/", "/nothing"}) {
    request.method = "GET";
    request.path = path;
    const Reply reply = router.dispatch(request);
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_EQ(reply.body, R"({"errorMsgKey":"ErrNotFound"})") << path;
  }

  request.path = "/boom";
  EXPECT_EQ(router.dispatch(request).status, 500);
}

class ControlApiTest : public ::testing::Test {
 protected:
  ControlApiTest() : control_(state_) { control_.addRoutes(router_); }

  Reply call(const std::string& method, const std::string& path, const std::string& body = "") {
    Request request;
    request.method = method;
    request.path = path;
    request.body = body;
    return router_.dispatch(request);
  }

  CloudState state_;
  ControlApi control_;
  ApiRouter router_;
};

TEST_F(ControlApiTest, HealthzAnswersOk) {
  const Reply reply = call("GET", "/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok");
}

TEST_F(ControlApiTest, FaultsAreSetValidatedAndCleared) {
  Reply reply = call("POST", "/testcloud/api/faults", R"({"claim_status": 503})");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["claim_status"], 503);
  EXPECT_EQ(state_.faults().claimStatus, 503);

  for (const char* bad : {"{", "[]", R"({"claim_status": "503"})", R"({"claim_status": 42})",
                          R"({"claim_status": 700})", R"({"unknown_fault": 1})",
                          R"({"env_body": "bogus"})", R"({"password": 1})"}) {
    reply = call("POST", "/testcloud/api/faults", bad);
    EXPECT_EQ(reply.status, 422) << bad;
    EXPECT_EQ(errorKey(reply), "ErrInvalidRequest") << bad;
    EXPECT_EQ(state_.faults().claimStatus, 503) << "a rejected patch changes nothing: " << bad;
  }

  EXPECT_EQ(nlohmann::json::parse(call("GET", "/testcloud/api/faults").body)["claim_status"], 503);
  EXPECT_EQ(call("POST", "/testcloud/api/faults", R"({"env_body": "noproto"})").status, 200);
  EXPECT_EQ(state_.faults().envBody, "noproto");
  EXPECT_EQ(state_.faults().claimStatus, 503) << "POST patches";
  EXPECT_EQ(call("PUT", "/testcloud/api/faults", R"({"password": "nolwt"})").status, 200);
  EXPECT_EQ(state_.faults().claimStatus, 0) << "PUT replaces";
  EXPECT_EQ(state_.faults().envBody, "");
  EXPECT_EQ(state_.faults().password, "nolwt");
}

TEST_F(ControlApiTest, ClaimsAreListedAndLookedUp) {
  EXPECT_EQ(call("GET", "/testcloud/api/claims").body, "[]");
  ClaimRecord record;
  record.claimedId = kId;
  record.hostname = "h";
  record.publicKey = kAgentKey;
  record.rooms = {kRoom};
  ASSERT_EQ(state_.registerClaim(record, [](const ClaimRecord&) { return true; }),
            RegisterResult::kRegistered);

  const auto list = nlohmann::json::parse(call("GET", "/testcloud/api/claims").body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["claimed_id"], kId);
  EXPECT_EQ(list[0]["public_key"], kAgentKey);

  const Reply one = call("GET", std::string("/testcloud/api/claims/") + kId);
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(nlohmann::json::parse(one.body)["hostname"], "h");

  const Reply missing = call("GET", "/testcloud/api/claims/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(errorKey(missing), "ErrNotFound");
  EXPECT_EQ(call("DELETE", "/testcloud/api/claims").status, 405);
}

TEST(PublicKeyTest, ReportsBitsAndTellsKeysApart) {
  std::string error;
  const auto key = parseRsaPublicKey(kAgentKey, &error);
  ASSERT_TRUE(key.has_value()) << error;
  EXPECT_EQ(key->bits, 2048);
  const auto other = parseRsaPublicKey(kOtherKey, &error);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(key->der, other->der);
  EXPECT_FALSE(parseRsaPublicKey(kEcKey, &error).has_value());
  EXPECT_EQ(error, "not an RSA key");
}

class CloudStateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("testcloud-state-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    file_ = (dir_ / "state.json").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string file_;
};

TEST_F(CloudStateFileTest, ClaimsSurviveARestart) {
  {
    CloudState state(file_);
    std::string error;
    ASSERT_TRUE(state.load(&error)) << "a missing file is an empty cloud: " << error;
    ClaimEndpoint endpoint(ClaimPolicy{{kToken}, {}, 2048}, state);
    ASSERT_EQ(endpoint.claim(kId, validBody().dump()).status, 204);
  }
  const auto text = readFile(file_);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->find(kToken), std::string::npos) << "the token must never reach the file";

  CloudState restarted(file_);
  std::string error;
  ASSERT_TRUE(restarted.load(&error)) << error;
  const auto record = restarted.findClaim(kId);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->publicKey, kAgentKey);
  EXPECT_EQ(record->machineGuid, kGuid);

  // The restarted cloud still knows the key: another key for the id is a conflict.
  ClaimEndpoint endpoint(ClaimPolicy{{kToken}, {}, 2048}, restarted);
  auto body = validBody();
  body["publicKey"] = kOtherKey;
  EXPECT_EQ(endpoint.claim(kId, body.dump()).status, 409);
}

TEST_F(CloudStateFileTest, AnUnreadableStateFileIsAnError) {
  ASSERT_TRUE(writeFileAtomic(file_, "{\"claims\": [{\"claimed_id\": 1}]}", 0600, nullptr));
  CloudState state(file_);
  std::string error;
  EXPECT_FALSE(state.load(&error));
  EXPECT_NE(error.find("claimed_id"), std::string::npos) << error;
  ASSERT_TRUE(writeFileAtomic(file_, "not json", 0600, nullptr));
  EXPECT_FALSE(state.load(&error));
  EXPECT_NE(error.find("not a test cloud state file"), std::string::npos) << error;
}

}  // namespace
}  // namespace aclkd::testcloud
