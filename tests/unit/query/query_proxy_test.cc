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

// The status page charts queries and calls with their failures: what the gateway could not
// answer. An agent's own HTTP error is an answer; a cancel is the cloud's choice.
TEST(OutcomeStatsTest, TotalsAndFailures) {
  QueryStats queries;
  for (auto o : {QueryOutcome::kLocal, QueryOutcome::kAnswered, QueryOutcome::kCancelled,
                 QueryOutcome::kTimeout, QueryOutcome::kOffline, QueryOutcome::kOffline}) {
    queries.count(o);
  }
  EXPECT_EQ(queries.total(), 6u);
  EXPECT_EQ(queries.failures(), 3u);
  FunctionStats calls;
  for (auto o : {CallOutcome::kAnswered, CallOutcome::kListed, CallOutcome::kCancelled,
                 CallOutcome::kStreamGone, CallOutcome::kForbidden}) {
    calls.count(o);
  }
  EXPECT_EQ(calls.total(), 5u);
  EXPECT_EQ(calls.failures(), 2u);
}

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


// Records function calls; completes them when the test says so.
class FakeFunctions : public FunctionClient {
 public:
  uint64_t call(const std::string& guid, stream_bridge::FunctionCallRequest request,
                stream_bridge::FunctionDone done) override {
    guids.push_back(guid);
    requests.push_back(std::move(request));
    completions.push_back(std::move(done));
    return requests.size();
  }
  void cancel(uint64_t id) override { cancelled.push_back(id); }
  std::optional<std::string> list(const std::string&, int version) override {
    return "{\"v\":" + std::to_string(version) + "}";
  }
  std::optional<int> declaredTimeout(const std::string&, const std::string& command) override {
    if (command.rfind("slow", 0) == 0) return 45;
    return std::nullopt;
  }
  std::vector<std::string> guids;
  std::vector<stream_bridge::FunctionCallRequest> requests;
  std::vector<stream_bridge::FunctionDone> completions;
  std::vector<uint64_t> cancelled;
};

class QueryProxyFunctionsTest : public QueryProxyTest {
 protected:
  void SetUp() override {
    QueryProxyTest::SetUp();
    nodes[1].functions = true;
    functions = std::make_shared<FakeFunctions>();
    proxy->setFunctionClient(functions);
  }
  aclk::CmdResult runWith(const std::string& method, const std::string& path,
                          const std::string& headers, const std::string& body = "") {
    aclk::CloudHttpRequest req;
    req.msgId = "f" + std::to_string(++counter);
    req.callbackTopic = "/cb";
    req.method = method;
    req.path = path;
    req.timeoutMs = 30000;
    req.rawRequest = method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + headers +
                     "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    results.clear();
    proxy->start(req, [this](aclk::CmdResult r) { results.push_back(std::move(r)); });
    return results.empty() ? aclk::CmdResult{0, "", -1, "pending"} : results.front();
  }
  std::shared_ptr<FakeFunctions> functions;
};

TEST_F(QueryProxyFunctionsTest, ACallGoesDownTheStreamWithTheCallersAccess) {
  const auto r = runWith("GET", std::string("/node/") + kChildId +
                                    "/api/v3/function?function=slow%20arg",
                         "X-Netdata-Permissions: 0x1f\r\nX-Netdata-Role: member\r\n");
  EXPECT_EQ(r.errorCode, -1);  // pending
  EXPECT_TRUE(client->requests.empty());
  ASSERT_EQ(functions->requests.size(), 1u);
  EXPECT_EQ(functions->guids[0], kChildGuid);
  const auto& c = functions->requests[0];
  EXPECT_EQ(c.command, "slow arg");
  EXPECT_EQ(c.timeoutSeconds, 45);  // the declared one
  EXPECT_EQ(c.access, 0x1fu);
  EXPECT_EQ(c.source, "method=NC,role=member,permissions=0x1f");
  EXPECT_TRUE(c.payload.empty());
  stream_bridge::FunctionCallResult answer;
  answer.outcome = stream_bridge::FunctionOutcome::kAnswered;
  answer.code = 200;
  answer.contentType = "application/json\r\nX-Evil: 1";
  answer.body = "{\"rows\":[]}";
  functions->completions[0](answer);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].httpCode, 200);
  // The child's content type goes into a header only when it is a plain token.
  EXPECT_NE(results[0].httpResponse.find("Content-Type: application/octet-stream\r\n"),
            std::string::npos) << results[0].httpResponse;
  EXPECT_EQ(results[0].httpResponse.find("X-Evil"), std::string::npos);
  EXPECT_NE(proxy->functionStats().render().find(
                "aclkd_function_calls_total{outcome=\"answered\"} 1"), std::string::npos);
}

TEST_F(QueryProxyFunctionsTest, APostCarriesItsBody) {
  runWith("POST", std::string("/node/") + kChildId + "/api/v3/config?action=update&id=go.d:x",
          "Content-Type: application/json\r\n", "{\"a\":1}");
  ASSERT_EQ(functions->requests.size(), 1u);
  EXPECT_EQ(functions->requests[0].command, "config go.d:x update");
  EXPECT_EQ(functions->requests[0].payload, "{\"a\":1}");
  EXPECT_EQ(functions->requests[0].timeoutSeconds, 120);
}

TEST_F(QueryProxyFunctionsTest, TheListIsAnsweredFromTheTable) {
  auto r = runWith("GET", std::string("/node/") + kChildId + "/api/v1/functions", "");
  EXPECT_EQ(r.httpCode, 200);
  EXPECT_NE(r.httpResponse.find("{\"v\":1}"), std::string::npos);
  r = runWith("GET", std::string("/node/") + kChildId + "/api/v3/functions", "");
  EXPECT_NE(r.httpResponse.find("{\"v\":2}"), std::string::npos);
}

TEST_F(QueryProxyFunctionsTest, RefusalsSayWhy) {
  nodes[1].functionsForbidden = true;
  nodes[1].functionsOff = "stream.conf allow functions = no for the node";
  auto r = runWith("GET", std::string("/node/") + kChildId + "/api/v3/function?function=f", "");
  EXPECT_EQ(r.httpCode, 403);
  EXPECT_NE(r.httpResponse.find("allow functions = no"), std::string::npos);
  nodes[1].functionsForbidden = false;
  nodes[1].live = false;
  makeProxy(ProxyOptions{});  // a new proxy reads the nodes afresh
  proxy->setFunctionClient(functions);
  r = runWith("GET", std::string("/node/") + kChildId + "/api/v3/function?function=f", "");
  EXPECT_EQ(r.httpCode, 503);
  nodes[1].live = true;
  makeProxy(ProxyOptions{});
  proxy->setFunctionClient(functions);
  r = runWith("GET", std::string("/node/") + kChildId + "/api/v3/function", "");
  EXPECT_EQ(r.httpCode, 400);
  EXPECT_TRUE(functions->requests.empty());
}

TEST_F(QueryProxyFunctionsTest, ANodeWhoseStreamCannotCarryThemKeepsTheHttpWay) {
  nodes[1].functions = false;
  nodes[1].functionsOff = "its stream did not negotiate FUNCTIONS";
  runWith("GET", std::string("/node/") + kChildId + "/api/v1/function?function=processes", "");
  EXPECT_TRUE(functions->requests.empty());
  ASSERT_EQ(client->requests.size(), 1u);
  EXPECT_EQ(client->requests[0].url, "http://127.0.0.1:8080/api/v1/function?function=processes");
}

TEST_F(QueryProxyFunctionsTest, CancelReachesTheStreamAndEveryEndIsMapped) {
  runWith("GET", std::string("/node/") + kChildId + "/api/v3/function?function=f", "");
  proxy->cancel("f" + std::to_string(counter));
  EXPECT_EQ(functions->cancelled, std::vector<uint64_t>{1});
  using stream_bridge::FunctionOutcome;
  const std::vector<std::pair<FunctionOutcome, int>> ends = {
      {FunctionOutcome::kCancelled, 499}, {FunctionOutcome::kTimeout, 504},
      {FunctionOutcome::kStreamGone, 503}, {FunctionOutcome::kOverloaded, 503},
      {FunctionOutcome::kRefused, 400}, {FunctionOutcome::kTooLarge, 413}};
  for (const auto& [outcome, code] : ends) {
    results.clear();
    stream_bridge::FunctionCallResult end;
    end.outcome = outcome;
    end.error = "why";
    functions->completions.back()(end);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].httpCode, code);
    runWith("GET", std::string("/node/") + kChildId + "/api/v3/function?function=f", "");
  }
  EXPECT_EQ(results.size(), 0u);  // the last one is pending
}

}  // namespace
}  // namespace aclkd::query
