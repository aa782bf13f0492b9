#include "query/reply_mapping.h"

#include <gtest/gtest.h>

#include "query/request_parts.h"

namespace aclkd::query {
namespace {

ForwardResponse answered(long status, std::string body) {
  ForwardResponse r;
  r.outcome = ForwardOutcome::kAnswered;
  r.status = status;
  r.reason = status == 200 ? "OK" : "";
  r.headers = {{"Content-Type", "application/json"},
               {"Transfer-Encoding", "chunked"},
               {"Connection", "keep-alive"},
               {"Content-Length", "999"},
               {"Content-Encoding", "gzip"}};
  r.body = std::move(body);
  return r;
}

TEST(ReplyMappingTest, AnswerKeepsStatusHeadersAndBodyButRecomputesLength) {
  const auto r = mapForwardResponse(answered(200, "{\"a\":1}"), "http://a:1", 16u << 20);
  EXPECT_EQ(r.errorCode, 0);
  EXPECT_EQ(r.httpCode, 200);
  EXPECT_EQ(r.httpResponse,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            "Content-Length: 7\r\n\r\n{\"a\":1}");
}

TEST(ReplyMappingTest, AgentErrorStatusPassesThroughWithStandardReason) {
  const auto r = mapForwardResponse(answered(404, "nope"), "http://a:1", 16u << 20);
  EXPECT_EQ(r.httpCode, 404);
  EXPECT_EQ(r.errorCode, 0);
  EXPECT_EQ(r.httpResponse.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
}

TEST(ReplyMappingTest, OverTheReplyCapIs413Ec4) {
  const auto r = mapForwardResponse(answered(200, std::string(100, 'x')), "http://a:1", 120);
  EXPECT_EQ(r.httpCode, 413);
  EXPECT_EQ(r.errorCode, 4);
  EXPECT_EQ(r.errorDescription, "Request reply produces message bigger than allowed maximum");
}

TEST(ReplyMappingTest, FailuresMapToTheBriefsCodes) {
  ForwardResponse f;
  f.outcome = ForwardOutcome::kTooLarge;
  EXPECT_EQ(mapForwardResponse(f, "a", 1).errorCode, 4);
  EXPECT_EQ(mapForwardResponse(f, "a", 1).httpCode, 413);
  f.outcome = ForwardOutcome::kTimeout;
  EXPECT_EQ(mapForwardResponse(f, "a", 1).errorCode, 6);
  EXPECT_EQ(mapForwardResponse(f, "a", 1).httpCode, 503);
  EXPECT_EQ(mapForwardResponse(f, "a", 1).errorDescription, "Timeout sending binpacked message");

  f.outcome = ForwardOutcome::kUnreachable;
  f.error = "Connection refused";
  const auto u = mapForwardResponse(f, "http://10.0.0.7:19999", 1 << 20);
  EXPECT_EQ(u.errorCode, 0);
  EXPECT_EQ(u.httpCode, 503);
  EXPECT_NE(u.httpResponse.find("HTTP/1.1 503 Service Unavailable\r\n"), std::string::npos);
  EXPECT_NE(u.httpResponse.find(
                R"({"error":"agent http://10.0.0.7:19999 is unreachable: Connection refused"})"),
            std::string::npos);

  f.outcome = ForwardOutcome::kCancelled;
  EXPECT_EQ(mapForwardResponse(f, "a", 1 << 20).httpCode, 499);
}

TEST(ReplyMappingTest, ErrorResultCarriesTableText) {
  const auto r = errorResult(404, kErrorNodeNotFound);
  EXPECT_EQ(r.errorDescription, "Node with requested node_id not found");
  EXPECT_EQ(errorResult(400, kErrorBadNodeId).errorDescription.rfind("URL requests node_id", 0),
            0u);
}

TEST(ReplyMappingTest, FullReplyHasJsonHeaderThenResponse) {
  const auto r = mapForwardResponse(answered(200, "{}"), "a", 1 << 20);
  const auto reply = aclk::buildCmdResultReply("m1", r, 5'000'001, 1'700'000'000'000'000, 42);
  const auto sep = reply.find("\r\n\r\n");
  ASSERT_NE(sep, std::string::npos);
  EXPECT_NE(reply.substr(0, sep).find("\"http-code\":200"), std::string::npos);
  EXPECT_NE(reply.substr(0, sep).find("\"t-exec\":42"), std::string::npos);
  EXPECT_EQ(reply.substr(sep + 4), r.httpResponse);
  const auto err = aclk::buildCmdResultReply("m1", errorResult(503, 6), 0, 0, 0);
  EXPECT_EQ(err.find("\r\n\r\n"), std::string::npos);
  EXPECT_NE(err.find("\"error-code\":6"), std::string::npos);
}

// Found by tests/fuzz/reply_mapping_fuzz.cc: a bare CR inside an agent's header line or reason
// phrase reached the head of the reply the cloud reads, where it ends a line.
TEST(ReplyMappingTest, AgentHeaderLinesWithAControlCharacterAreDropped) {
  ForwardResponse r;
  r.outcome = ForwardOutcome::kAnswered;
  r.status = 200;
  for (const char* line : {"HTTP/1.1 200 O\rK\r\n", "Cache-Control: no-cache\r?\r\n",
                           "X-Ok: yes\r\n", "X\x7f: 1\r\n"}) {
    readAgentHeaderLine(line, &r);
  }
  EXPECT_EQ(r.reason, "");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"X-Ok", "yes"}));
  EXPECT_EQ(mapForwardResponse(r, "a", 1 << 20).httpResponse,
            "HTTP/1.1 200 OK\r\nX-Ok: yes\r\nContent-Length: 0\r\n\r\n");
}

TEST(RequestPartsTest, SplitsHeadersAndBodyAndFilters) {
  const auto parts = splitRawRequest(
      "POST /api/v1/function HTTP/1.1\r\nHost: agent\r\nAccept: application/json\r\n"
      "Cookie: s=1\r\nAuthorization: Bearer x\r\nAccept-Encoding: gzip\r\n"
      "Content-Length: 4\r\nbroken line\r\n\r\nbodyEXTRA");
  EXPECT_EQ(parts.body, "body");
  ASSERT_EQ(parts.headers.size(), 6u);
  EXPECT_EQ(filterHeaders(parts.headers, {}),
            (std::vector<std::string>{"Accept: application/json", "Accept-Encoding: gzip"}));
  EXPECT_EQ(filterHeaders(parts.headers, {"authorization"}),
            (std::vector<std::string>{"Accept: application/json", "Authorization: Bearer x",
                                      "Accept-Encoding: gzip"}));
}

// Found by tests/fuzz/cloud_cmd_fuzz.cc: lines end at CRLF only, so a bare CR or LF stayed in a
// header passed on to the agent, where it would end the line and start a header of its own.
TEST(RequestPartsTest, HeadersWithAControlCharacterAreDropped) {
  const auto parts = splitRawRequest(
      "GET /api/v1/info HTTP/1.1\r\nAccept: application/\r\rjns\no\nAuthorization: x\r\n"
      "Accept-Language: de\x01\r\nUser\n-Agent: a\r\nContent-Type: text/plain\tx\r\n\r\n");
  EXPECT_EQ(filterHeaders(parts.headers, {"authorization"}),
            (std::vector<std::string>{"Content-Type: text/plain\tx"}));
}

TEST(RequestPartsTest, NoHeadersNoBody) {
  const auto parts = splitRawRequest("GET / HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(parts.headers.empty());
  EXPECT_TRUE(parts.body.empty());
  EXPECT_TRUE(splitRawRequest("garbage").headers.empty());
}

}  // namespace
}  // namespace aclkd::query
