#include "web/router.h"

#include <gtest/gtest.h>

namespace aclkd::web {
namespace {

HttpRequest request(const std::string& method, const std::string& target) {
  HttpRequest r;
  r.method = method;
  r.target = target;
  return r;
}

HttpHandler answer(const std::string& body) {
  return [body](const HttpRequest&) { return HttpResponse{200, "text/plain", body}; };
}

Router table() {
  Router r;
  r.add({"GET", "/live", {}, [](const std::string&, ChannelRender, std::string*) { return std::string("{}"); }})
      .add({"GET", "/healthz", answer("health"), {}})
      .add({"POST", "/healthz", answer("posted"), {}})
      .add({"GET", "*", answer("fallback"), {}});
  return r;
}

TEST(RouterTest, ExactPathThenWildcardQueryIgnored) {
  const auto r = table();
  auto m = r.match(request("GET", "/healthz?verbose=1"));
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->http(request("GET", "/healthz")).body, "health");
  m = r.match(request("POST", "/healthz"));
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->http(request("POST", "/healthz")).body, "posted");
  m = r.match(request("GET", "/api/v1/aclk"));
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->http(request("GET", "/")).body, "fallback");
  m = r.match(request("GET", "/live"));
  ASSERT_TRUE(m.route);
  EXPECT_TRUE(m.route->live);
  EXPECT_FALSE(m.route->http);
}

TEST(RouterTest, HeadIsServedByGet) {
  const auto r = table();  // the match points into it: it must outlive the match
  const auto m = r.match(request("HEAD", "/healthz"));
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->method, "GET");
}

TEST(RouterTest, WrongMethodIs405UnknownPathIs404) {
  const auto r = table();
  auto m = r.match(request("DELETE", "/live"));
  EXPECT_FALSE(m.route);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.error, "only GET and HEAD");
  m = r.match(request("PUT", "/anything"));
  EXPECT_EQ(m.status, 405) << "the wildcard row knows every path, for GET";
  Router bare;
  bare.add({"GET", "/only", answer("x"), {}});
  m = bare.match(request("GET", "/other"));
  EXPECT_FALSE(m.route);
  EXPECT_EQ(m.status, 404);
}

// A message may quote a client's bytes: what is not UTF-8 is replaced, never thrown on.
TEST(RouterTest, JsonErrorReplacesWhatIsNotUtf8) {
  EXPECT_EQ(jsonError("bad \xAC"), "{\"error\":\"bad \xEF\xBF\xBD\"}");
}

TEST(RouterTest, JsonErrorEscapes) {
  EXPECT_EQ(jsonError("a \"b\"\n"), R"({"error":"a \"b\"\n"})");
}

}  // namespace
}  // namespace aclkd::web
