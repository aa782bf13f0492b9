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

const std::string kGoodHeader =
    R"({"type":"http","msg-id":"m1","callback-topic":"/agent/x/cb","version":2})";

TEST(HttpCommandTest, EveryMethodAndTheRawRequestIsKept) {
  for (const std::string method : {"GET", "POST", "PUT", "DELETE"}) {
    const std::string raw = method + " /api/v3/info HTTP/1.1\r\nHost: x\r\n\r\nbody";
    const auto p = parseCmd(cmd(kGoodHeader, raw));
    ASSERT_TRUE(p.request) << method << ": " << p.error;
    EXPECT_TRUE(p.error.empty());
    EXPECT_EQ(p.request->method, method);
    EXPECT_EQ(p.request->path, "/api/v3/info");
    EXPECT_EQ(p.request->rawRequest, raw);
    EXPECT_EQ(p.request->msgId, "m1");
    EXPECT_EQ(p.request->callbackTopic, "/agent/x/cb");
    EXPECT_FALSE(p.request->timeoutMs) << "no timeout key";
    EXPECT_EQ(p.msgId, "m1");
    EXPECT_EQ(p.callbackTopic, "/agent/x/cb");
  }
}

TEST(HttpCommandTest, UnusedKeysAreAcceptedAndHigherVersions) {
  const auto p = parseCmd(cmd(
      R"({"type":"http","msg-id":"m","callback-topic":"/t","version":3,"min-version":2,)"
      R"("max-version":3,"payload":"x","future":{"a":1}})",
      "GET /node/abc/api/v1/info HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(p.request) << p.error;
  EXPECT_EQ(p.request->path, "/node/abc/api/v1/info");
}

TEST(HttpCommandTest, MissingOrBadHeaderFieldsAreNamedAndTheReplyAddressKept) {
  struct Case {
    std::string header;
    const char* field;
    const char* msgId;
    const char* topic;
  };
  const Case cases[] = {
      {R"({"msg-id":"m","callback-topic":"/t","version":2})", "'type'", "m", "/t"},
      {R"({"type":"HTTP","msg-id":"m","callback-topic":"/t","version":2})", "'type'", "m", "/t"},
      {R"({"type":7,"msg-id":"m","callback-topic":"/t","version":2})", "'type'", "m", "/t"},
      {R"({"type":"http","callback-topic":"/t","version":2})", "'msg-id'", "", "/t"},
      {R"({"type":"http","msg-id":"","callback-topic":"/t","version":2})", "'msg-id'", "", "/t"},
      {R"({"type":"http","msg-id":5,"callback-topic":"/t","version":2})", "'msg-id'", "", "/t"},
      {R"({"type":"http","msg-id":"m","version":2})", "'callback-topic'", "m", ""},
      {R"({"type":"http","msg-id":"m","callback-topic":"","version":2})", "'callback-topic'", "m",
       ""},
      {R"({"type":"http","msg-id":"m","callback-topic":["/t"],"version":2})", "'callback-topic'",
       "m", ""},
      {R"({"type":"http","msg-id":"m","callback-topic":"/t"})", "'version'", "m", "/t"},
      {R"({"type":"http","msg-id":"m","callback-topic":"/t","version":1})", "'version'", "m", "/t"},
      {R"({"type":"http","msg-id":"m","callback-topic":"/t","version":"2"})", "'version'", "m",
       "/t"},
      {R"({"type":"http","msg-id":"m","callback-topic":"/t","version":2.5})", "'version'", "m",
       "/t"},
      {R"({"type":"http","msg-id":"m","callback-topic":"/t","version":2,"timeout":"5"})",
       "'timeout'", "m", "/t"},
  };
  for (const auto& c : cases) {
    const auto p = parseCmd(cmd(c.header, "GET / HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(p.request) << c.header;
    EXPECT_NE(p.error.find(c.field), std::string::npos) << c.header << " -> " << p.error;
    EXPECT_EQ(p.msgId, c.msgId) << c.header;
    EXPECT_EQ(p.callbackTopic, c.topic) << c.header;
  }
}

TEST(HttpCommandTest, BadRequestLinesAreNamedAndTheReplyAddressKept) {
  const std::string raws[] = {
      "",
      "PATCH / HTTP/1.1\r\n\r\n",
      "get / HTTP/1.1\r\n\r\n",
      "GET api HTTP/1.1\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.1",
      "GET /\r\nX: HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1 \r\n\r\n",
      "GET /a b HTTP/1.1\r\n\r\n",
  };
  for (const auto& raw : raws) {
    const auto p = parseCmd(cmd(kGoodHeader, raw));
    EXPECT_FALSE(p.request) << raw;
    EXPECT_NE(p.error.find("raw request"), std::string::npos) << raw << " -> " << p.error;
    EXPECT_EQ(p.msgId, "m1") << raw;
    EXPECT_EQ(p.callbackTopic, "/agent/x/cb") << raw;
  }
}

TEST(HttpCommandTest, HeaderThatIsNotAnObject) {
  for (const std::string header : {"", "nope", "[1]", "\"http\"", "{"}) {
    const auto p = parseCmd(cmd(header, "GET / HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(p.request) << header;
    EXPECT_FALSE(p.error.empty()) << header;
    EXPECT_TRUE(p.msgId.empty());
    EXPECT_TRUE(p.callbackTopic.empty());
  }
}

TEST(HttpCommandTest, NoSeparatorStillReadsTheReplyAddress) {
  const auto p = parseCmd(kGoodHeader);
  EXPECT_FALSE(p.request);
  EXPECT_NE(p.error.find("separator"), std::string::npos) << p.error;
  EXPECT_EQ(p.msgId, "m1");
  EXPECT_EQ(p.callbackTopic, "/agent/x/cb");
}

TEST(HttpCommandTest, TimeoutIsMilliseconds) {
  const auto p = parseCmd(cmd(
      R"({"type":"http","msg-id":"m","callback-topic":"/t","version":2,"timeout":60000})",
      "GET / HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(p.request) << p.error;
  EXPECT_EQ(p.request->timeoutMs, std::optional<int64_t>(60000));
  EXPECT_EQ(p.request->path, "/");
}

std::vector<std::string> keysOf(const std::string& jsonText) {
  // Keep the parsed object alive: items() of a temporary would dangle in the loop.
  const auto parsed = nlohmann::ordered_json::parse(jsonText);
  std::vector<std::string> keys;
  for (const auto& [k, v] : parsed.items()) keys.push_back(k);
  return keys;
}

TEST(HttpCommandTest, ReplyIsByteExactForAFixedClock) {
  LocalHttpResponse r;
  r.code = 404;
  r.contentType = "text/plain";
  r.body = "missing";
  // 2023-11-14 22:13:20 UTC.
  const auto out = buildCmdReply("id-1", r, 1699999999000001, 1700000000000002, 7);
  EXPECT_EQ(out,
            R"({"type":"http","msg-id":"id-1","timestamp":1700000000,"timestamp-offset-usec":2,)"
            R"("connect":1699999999,"connect-offset-usec":1,"version":2,"t-exec":7,"t-rx":0,)"
            R"("http-code":404})"
            "\r\n\r\n"
            "HTTP/1.1 404 Not Found\r\n"
            "Connection: close\r\n"
            "Content-Type: text/plain\r\n"
            "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
            "Cache-Control: no-cache, no-store, must-revalidate\r\n"
            "Content-Length: 7\r\n"
            "\r\n"
            "missing");
}

TEST(HttpCommandTest, ReplyContentLengthMatchesTheBody) {
  for (const std::string& body : {std::string(), std::string("x"), std::string(70000, 'y'),
                                  std::string("a\0b\r\n\r\nc", 8)}) {
    LocalHttpResponse r;
    r.body = body;
    const auto out = buildCmdReply("m", r, 0, 1700000000000000, 0);
    const auto sep = out.find("\r\n\r\n");
    ASSERT_NE(sep, std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(out.substr(0, sep))["http-code"], 200);
    const auto http = out.substr(sep + 4);
    EXPECT_EQ(http.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
    EXPECT_NE(http.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos);
    const auto headEnd = http.find("\r\n\r\n");
    ASSERT_NE(headEnd, std::string::npos);
    EXPECT_EQ(http.substr(headEnd + 4), body);
  }
}

TEST(HttpCommandTest, ReplyStatusLines) {
  for (const auto& [code, line] : std::vector<std::pair<int, std::string>>{
           {200, "HTTP/1.1 200 OK\r\n"},
           {400, "HTTP/1.1 400 Bad Request\r\n"},
           {500, "HTTP/1.1 500 Internal Server Error\r\n"},
           {503, "HTTP/1.1 503 Service Unavailable\r\n"}}) {
    LocalHttpResponse r;
    r.code = code;
    const auto out = buildCmdReply("m", r, 0, 0, 0);
    const auto sep = out.find("\r\n\r\n");
    ASSERT_NE(sep, std::string::npos);
    EXPECT_EQ(out.substr(sep + 4, line.size()), line);
    EXPECT_EQ(nlohmann::json::parse(out.substr(0, sep))["http-code"], code);
  }
}

TEST(HttpCommandTest, BadRequestReplyIsTheHeaderAlone) {
  const auto bad = buildCmdBadRequestReply("m2", 1700000000250000);
  EXPECT_EQ(bad.find("\r\n"), std::string::npos);
  EXPECT_EQ(keysOf(bad), (std::vector<std::string>{"type", "msg-id", "timestamp",
                                                   "timestamp-offset-usec", "version",
                                                   "http-code"}));
  const auto j = nlohmann::json::parse(bad);
  EXPECT_EQ(j["type"], "http");
  EXPECT_EQ(j["msg-id"], "m2");
  EXPECT_EQ(j["timestamp"], 1700000000);
  EXPECT_EQ(j["timestamp-offset-usec"], 250000);
  EXPECT_EQ(j["version"], 2);
  EXPECT_EQ(j["http-code"], 400);
}

TEST(HttpCommandTest, ErrorReplyCarriesCodeAndDescription) {
  const auto err = buildCmdErrorReply("m3", 413, 4,
                                      "Request reply produces message bigger than allowed maximum",
                                      1700000000000001);
  EXPECT_EQ(err.find("\r\n"), std::string::npos);
  EXPECT_EQ(keysOf(err), (std::vector<std::string>{"type", "msg-id", "timestamp",
                                                   "timestamp-offset-usec", "version",
                                                   "http-code", "error-code",
                                                   "error-description"}));
  const auto j = nlohmann::json::parse(err);
  EXPECT_EQ(j["http-code"], 413);
  EXPECT_EQ(j["error-code"], 4);
  EXPECT_EQ(j["error-description"],
            "Request reply produces message bigger than allowed maximum");
  EXPECT_EQ(j["timestamp-offset-usec"], 1);
}

TEST(HttpCommandTest, MsgIdIsEscapedInTheHeader) {
  const auto bad = buildCmdBadRequestReply("a\"b\\c", 0);
  EXPECT_EQ(nlohmann::json::parse(bad)["msg-id"], "a\"b\\c");
}

}  // namespace
}  // namespace aclkd::aclk
