#include "query/query_proxy.h"

#include <gtest/gtest.h>

namespace aclkd::query {
namespace {

constexpr const char* kChildId = "11111111-2222-4333-8444-555555555555";
constexpr const char* kSelfId = "22222222-2222-4333-8444-555555555555";
constexpr const char* kChildGuid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

// Records submissions; completes them when the test says so (as a real client would, later and
// from elsewhere).
class FakeClient : public ForwardClient {
 public:
  uint64_t submit(ForwardRequest request, Completion done) override {
    requests.push_back(std::move(request));
    completions.push_back(std::move(done));
    return requests.size();
  }
  void cancel(uint64_t id) override { cancelled.push_back(id); }
  void complete(size_t i, ForwardResponse r) { completions.at(i)(std::move(r)); }

  std::vector<ForwardRequest> requests;
  std::vector<Completion> completions;
  std::vector<uint64_t> cancelled;
};

class QueryProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NodeFacts self;
    self.machineGuid = "cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    self.hostname = "gateway";
    self.nodeId = kSelfId;
    self.self = true;
    self.live = true;
    NodeFacts child;
    child.machineGuid = kChildGuid;
    child.hostname = "child";
    child.nodeId = kChildId;
    child.live = true;
    child.peer = "127.0.0.1:40000";
    child.keyQueryUrl = "http://127.0.0.1:8080";
    nodes = {self, child};
    makeProxy(ProxyOptions{});
  }

  void makeProxy(ProxyOptions options) {
    client = std::make_shared<FakeClient>();
    proxy = std::make_unique<QueryProxy>(
        options,
        [this](const std::string& method, const std::string& path) {
          localCalls.push_back(method + " " + path);
          aclk::LocalHttpResponse r;
          r.body = "{\"local\":true}";
          return r;
        },
        [this] { return nodes; }, client);
  }

  aclk::CmdResult run(const std::string& method, const std::string& path,
                      std::optional<int64_t> timeoutMs = std::nullopt) {
    aclk::CloudHttpRequest req;
    req.msgId = "m" + std::to_string(++counter);
    req.callbackTopic = "/cb";
    req.method = method;
    req.path = path;
    req.timeoutMs = timeoutMs;
    req.rawRequest = method + " " + path +
                     " HTTP/1.1\r\nHost: x\r\nCookie: c=1\r\nAccept-Encoding: gzip\r\n\r\n";
    results.clear();
    proxy->start(req, [this](aclk::CmdResult r) { results.push_back(std::move(r)); });
    return results.empty() ? aclk::CmdResult{0, "", -1, "pending"} : results.front();
  }

  std::vector<NodeFacts> nodes;
  std::shared_ptr<FakeClient> client;
  std::unique_ptr<QueryProxy> proxy;
  std::vector<std::string> localCalls;
  std::vector<aclk::CmdResult> results;
  int counter = 0;
};

TEST_F(QueryProxyTest, PlainPathAndOwnNodeAreLocal) {
  EXPECT_EQ(run("GET", "/api/v1/info").httpCode, 200);
  EXPECT_EQ(run("GET", std::string("/node/") + kSelfId + "/api/v1/aclk").httpCode, 200);
  EXPECT_EQ(localCalls, (std::vector<std::string>{"GET /api/v1/info", "GET /api/v1/aclk"}));
  EXPECT_TRUE(client->requests.empty());
}

TEST_F(QueryProxyTest, ChildQueryIsForwardedWithFilteredHeaders) {
  const auto r = run("GET", std::string("/node/") + kChildId + "/api/v1/data?chart=system.cpu",
                     2500);
  EXPECT_EQ(r.errorCode, -1);  // pending
  ASSERT_EQ(client->requests.size(), 1u);
  const auto& f = client->requests[0];
  EXPECT_EQ(f.url, "http://127.0.0.1:8080/api/v1/data?chart=system.cpu");
  EXPECT_EQ(f.agentKey, "http://127.0.0.1:8080");
  EXPECT_EQ(f.headers, std::vector<std::string>{"Accept-Encoding: gzip"});
  const auto left = f.deadline - Clock::now();
  EXPECT_GT(left, std::chrono::milliseconds(2000));
  EXPECT_LE(left, std::chrono::milliseconds(2500));

  ForwardResponse answer;
  answer.outcome = ForwardOutcome::kAnswered;
  answer.status = 200;
  answer.body = "{}";
  client->complete(0, answer);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].httpCode, 200);
  EXPECT_NE(proxy->stats().render().find("aclkd_query_total{outcome=\"answered\"} 1"),
            std::string::npos);
}

TEST_F(QueryProxyTest, HostPrefixByHostnameAndScopeRewrite) {
  run("GET", "/host/child/api/v1/info");
  ASSERT_EQ(client->requests.size(), 1u);
  EXPECT_EQ(client->requests[0].url, "http://127.0.0.1:8080/api/v1/info");
  run("GET", std::string("/api/v3/data?scope_nodes=") + kChildId + "&contexts=system.cpu");
  ASSERT_EQ(client->requests.size(), 2u);
  EXPECT_EQ(client->requests[1].url, std::string("http://127.0.0.1:8080/api/v3/data?scope_nodes=") +
                                         kChildGuid + "&contexts=system.cpu");
}

TEST_F(QueryProxyTest, UnknownAndBadNodeIds) {
  auto r = run("GET", "/node/99999999-2222-4333-8444-555555555555/api/v1/info");
  EXPECT_EQ(r.httpCode, 404);
  EXPECT_EQ(r.errorCode, 2);
  r = run("GET", "/node/1234/api/v1/info");
  EXPECT_EQ(r.httpCode, 400);
  EXPECT_EQ(r.errorCode, 1);
  EXPECT_TRUE(client->requests.empty());
}

TEST_F(QueryProxyTest, OfflineRefusedAndDisabled) {
  nodes[1].live = false;
  auto r = run("GET", std::string("/node/") + kChildId + "/api/v1/info");
  EXPECT_EQ(r.httpCode, 503);
  EXPECT_NE(r.httpResponse.find("offline"), std::string::npos);
  nodes[1].live = true;
  makeProxy(ProxyOptions{});
  EXPECT_EQ(run("PUT", std::string("/node/") + kChildId + "/api/v1/info").httpCode, 405);
  EXPECT_EQ(run("GET", std::string("/node/") + kChildId + "/index.html").httpCode, 403);
  nodes[1].allowQueries = false;
  makeProxy(ProxyOptions{});
  EXPECT_EQ(run("GET", std::string("/node/") + kChildId + "/api/v1/info").httpCode, 403);
  nodes[1].allowQueries = true;
  ProxyOptions off;
  off.enabled = false;
  makeProxy(off);
  EXPECT_EQ(run("GET", std::string("/node/") + kChildId + "/api/v1/info").httpCode, 403);
  EXPECT_EQ(run("GET", "/api/v1/info").httpCode, 200);  // the gateway itself still answers
  EXPECT_TRUE(client->requests.empty());
}

TEST_F(QueryProxyTest, CancelReachesTheClientAndTimeoutMapsToEc6) {
  run("GET", std::string("/node/") + kChildId + "/api/v1/info");
  proxy->cancel("m1");
  proxy->cancel("unknown");
  EXPECT_EQ(client->cancelled, std::vector<uint64_t>{1});
  ForwardResponse cancelled;
  cancelled.outcome = ForwardOutcome::kCancelled;
  client->complete(0, cancelled);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].httpCode, 499);

  run("GET", std::string("/node/") + kChildId + "/api/v1/info");
  ForwardResponse timeout;
  timeout.outcome = ForwardOutcome::kTimeout;
  client->complete(1, timeout);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].httpCode, 503);
  EXPECT_EQ(results[0].errorCode, 6);
}

}  // namespace
}  // namespace aclkd::query
