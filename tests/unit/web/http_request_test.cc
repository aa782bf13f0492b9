#include "web/http_request.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

namespace aclkd::web {
namespace {

namespace http = boost::beast::http;

// Feeds `bytes` to Beast's parser as the session does; the error, if any.
boost::system::error_code parse(const std::string& bytes, BeastRequest* out = nullptr) {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(16384);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(bytes), ec);
  if (!ec && out) *out = parser.release();
  return ec;
}

TEST(HttpRequestTest, HeadFieldsLowerCased) {
  BeastRequest head;
  ASSERT_FALSE(parse("GET /live?x=1 HTTP/1.1\r\nHost: a\r\nUPGRADE: WebSocket\r\n"
                     "Sec-WebSocket-Key: k==\r\n\r\n",
                     &head));
  const auto req = toHttpRequest(head);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/live?x=1");
  EXPECT_EQ(req.header("upgrade"), "WebSocket");
  EXPECT_TRUE(req.wantsWebSocket());
  ASSERT_FALSE(parse("GET /live HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", &head));
  EXPECT_FALSE(toHttpRequest(head).wantsWebSocket()) << "no Sec-WebSocket-Key";
}

TEST(HttpRequestTest, ParseErrorsMapTo400And431) {
  std::string why;
  EXPECT_EQ(parse("GET /healthz HTTP/1.1\r\nHost: a\r\n"), http::error::need_more);
  auto ec = parse(std::string("\x00\x01garbage\r\n\r\n", 13));
  ASSERT_TRUE(ec);
  EXPECT_EQ(statusOfParseError(ec, 16384, &why), 400);
  EXPECT_NE(why.find("malformed"), std::string::npos);
  ec = parse("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(statusOfParseError(ec, 16384, &why), 431) << ec.message();
  ec = parse("GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'));
  EXPECT_EQ(statusOfParseError(ec, 16384, &why), 431) << "over the limit without an end: 431 too";
  EXPECT_EQ(why, "request headers over 16384 bytes");
}

}  // namespace
}  // namespace aclkd::web
