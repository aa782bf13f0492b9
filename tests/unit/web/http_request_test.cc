#include "web/http_request.h"

#include <gtest/gtest.h>

namespace aclkd::web {
namespace {

TEST(HttpRequestTest, ParsesTheHeadOnce) {
  const auto p = parseHttpRequest(
      "GET /live?x=1 HTTP/1.1\r\nHost: a\r\nUPGRADE: WebSocket\r\nSec-WebSocket-Key: k==\r\n\r\n",
      16384);
  ASSERT_TRUE(p.request) << p.error;
  EXPECT_EQ(p.status, 0);
  EXPECT_EQ(p.request->method, "GET");
  EXPECT_EQ(p.request->target, "/live?x=1");
  EXPECT_EQ(p.request->header("upgrade"), "WebSocket");
  EXPECT_FALSE(p.request->wantsWebSocket()) << "the target has a query";
  const auto live = parseHttpRequest(
      "GET /live HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k==\r\n\r\n", 16384);
  ASSERT_TRUE(live.request);
  EXPECT_TRUE(live.request->wantsWebSocket());
}

TEST(HttpRequestTest, IncompleteMalformedAndOversized) {
  auto p = parseHttpRequest("GET /healthz HTTP/1.1\r\nHost: a\r\n", 16384);
  EXPECT_FALSE(p.request);
  EXPECT_EQ(p.status, 0) << "more bytes needed";
  p = parseHttpRequest(std::string("\x00\x01garbage\r\n\r\n", 13), 16384);
  EXPECT_EQ(p.status, 400);
  p = parseHttpRequest("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 16384);
  EXPECT_EQ(p.status, 431) << p.error;
  p = parseHttpRequest("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'), 16384);
  EXPECT_EQ(p.status, 431) << "over the limit without an end: 431 too";
}

}  // namespace
}  // namespace aclkd::web
