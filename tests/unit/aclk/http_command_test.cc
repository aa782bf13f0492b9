#include "aclk/http_command.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aclkd::aclk {
namespace {

std::string cmd(const std::string& header, const std::string& raw) {
  return header + "\r\n\r\n" + raw;
}

TEST(HttpCommandTest, AGoodRequest) {
  const auto p = parseCmd(cmd(
      R"({"type":"http","msg-id":"m1","callback-topic":"/agent/x/cb","version":2,"timeout":500})",
      "GET /api/v1/aclk?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_TRUE(p.request) << p.error;
  EXPECT_EQ(p.request->method, "GET");
  EXPECT_EQ(p.request->path, "/api/v1/aclk?x=1");
  EXPECT_EQ(p.request->timeoutMs, 500);
}

TEST(HttpCommandTest, EachBadFieldIsNamedAndTheReplyAddressKept) {
  struct Case {
    std::string header;
    std::string raw;
    const char* field;
  };
  const std::string raw = "GET / HTTP/1.1\r\n\r\n";
  const Case cases[] = {
      {R"({"type":"ws","msg-id":"m","callback-topic":"/t","version":2})", raw, "'type'"},
      {R"({"type":"http","callback-topic":"/t","version":2})", raw, "'msg-id'"},
      {R"({"type":"http","msg-id":"m","callback-topic":"t","version":2})", raw, "'callback-topic'"},
      {R"({"type":"http","msg-id":"m","callback-topic":"/t","version":1})", raw, "'version'"},
      {R"({"type":"http","msg-id":"m","callback-topic":"/t","version":2})", "PATCH / HTTP/1.1\r\n",
       "request line"},
      {R"({"type":"http","msg-id":"m","callback-topic":"/t","version":2})", "GET / HTTP/1.0\r\n",
       "HTTP/1.1"},
  };
  for (const auto& c : cases) {
    const auto p = parseCmd(cmd(c.header, c.raw));
    EXPECT_FALSE(p.request) << c.header;
    EXPECT_NE(p.error.find(c.field), std::string::npos) << p.error;
  }
  const auto p = parseCmd(cmd(R"({"type":"http","msg-id":"m","callback-topic":"/t","version":1})",
                              raw));
  EXPECT_EQ(p.msgId, "m");
  EXPECT_EQ(p.callbackTopic, "/t");
  EXPECT_FALSE(parseCmd("no separator").request);
}

TEST(HttpCommandTest, ReplyHeaderOrderAndHttpResponse) {
  LocalHttpResponse r;
  r.body = R"({"ok":true})";
  const auto out = buildCmdReply("m1", r, 1700000000123456, 1700000001654321, 42);
  const auto sep = out.find("\r\n\r\n");
  ASSERT_NE(sep, std::string::npos);
  const auto header = nlohmann::ordered_json::parse(out.substr(0, sep));
  std::vector<std::string> keys;
  for (const auto& [k, v] : header.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"type", "msg-id", "timestamp",
                                            "timestamp-offset-usec", "connect",
                                            "connect-offset-usec", "version", "t-exec", "t-rx",
                                            "http-code"}));
  EXPECT_EQ(header["connect"], 1700000000);
  EXPECT_EQ(header["connect-offset-usec"], 123456);
  EXPECT_EQ(header["t-rx"], 0);
  const auto http = out.substr(sep + 4);
  EXPECT_EQ(http.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(http.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_EQ(http.substr(http.size() - 11), r.body);

  const auto bad = buildCmdBadRequestReply("m2", 1700000000000000);
  EXPECT_EQ(bad.find("\r\n\r\n"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(bad)["http-code"], 400);
  const auto err = nlohmann::json::parse(buildCmdErrorReply("m3", 503, 6, "timeout", 0));
  EXPECT_EQ(err["error-code"], 6);
}

}  // namespace
}  // namespace aclkd::aclk
