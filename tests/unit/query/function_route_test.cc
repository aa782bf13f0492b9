#include "query/function_route.h"

#include <gtest/gtest.h>

namespace aclkd::query {
namespace {

using Kind = FunctionAsk::Kind;

TEST(FunctionRoute, CallsOfEveryVersion) {
  for (const char* v : {"v1", "v2", "v3"}) {
    const auto ask = parseFunctionAsk(std::string("/api/") + v +
                                      "/function?function=systemd-journal%20info+after:1&timeout=20");
    EXPECT_EQ(ask.kind, Kind::kCall) << v;
    EXPECT_EQ(ask.command, "systemd-journal info after:1");
    EXPECT_EQ(ask.timeoutSeconds, 20);
    EXPECT_TRUE(ask.error.empty());
  }
  const auto none = parseFunctionAsk("/api/v3/function?timeout=20");
  EXPECT_EQ(none.kind, Kind::kCall);
  EXPECT_FALSE(none.error.empty());
  EXPECT_FALSE(parseFunctionAsk("/api/v3/function?function=f").timeoutSeconds.has_value());
}

TEST(FunctionRoute, Lists) {
  EXPECT_EQ(parseFunctionAsk("/api/v1/functions").listVersion, 1);
  EXPECT_EQ(parseFunctionAsk("/api/v2/functions").listVersion, 2);
  EXPECT_EQ(parseFunctionAsk("/api/v3/functions?x=1").kind, Kind::kList);
}

TEST(FunctionRoute, OtherPathsAreNotFunctions) {
  for (const char* p : {"/api/v1/data?chart=x", "/api/v3/functionsx", "/api/v4/function",
                        "/api/v1/function/x", "/function"}) {
    EXPECT_EQ(parseFunctionAsk(p).kind, Kind::kNone) << p;
  }
}

TEST(FunctionRoute, DynamicConfigurationAsNetdataMakesIt) {
  auto ask = parseFunctionAsk("/api/v3/config");
  EXPECT_EQ(ask.command, "config tree '/' ''");
  EXPECT_EQ(ask.timeoutSeconds, 120);
  EXPECT_TRUE(ask.dyncfg);
  ask = parseFunctionAsk("/api/v3/config?action=tree&path=%2Fcollectors&id=go.d&timeout=3");
  EXPECT_EQ(ask.command, "config tree '/collectors' 'go.d'");
  EXPECT_EQ(ask.timeoutSeconds, 10);  // Netdata's floor
  EXPECT_EQ(parseFunctionAsk("/api/v3/config?action=get&id=go.d:nginx").command,
            "config go.d:nginx get");
  EXPECT_EQ(parseFunctionAsk("/api/v3/config?action=add&id=go.d:nginx&name=local").command,
            "config go.d:nginx add local");
  // A test without a name takes it from the id, as Netdata's backwards compatibility does.
  EXPECT_EQ(parseFunctionAsk("/api/v3/config?action=test&id=go.d:nginx:local").command,
            "config go.d:nginx test local");
  EXPECT_EQ(parseFunctionAsk("/api/v3/config?action=test&id=nginx").command,
            "config nginx test test");
  EXPECT_FALSE(parseFunctionAsk("/api/v3/config?action=get").error.empty());
  EXPECT_FALSE(parseFunctionAsk("/api/v3/config?action=explode&id=a").error.empty());
  EXPECT_FALSE(parseFunctionAsk("/api/v3/config?action=add&id=a").error.empty());
  // Quotes and spaces would break the words the child splits the command into.
  EXPECT_FALSE(parseFunctionAsk("/api/v3/config?action=get&id=a'b").error.empty());
  EXPECT_FALSE(parseFunctionAsk("/api/v3/config?action=get&id=a%20b").error.empty());
  EXPECT_FALSE(parseFunctionAsk("/api/v3/config?action=tree&path=%27").error.empty());
}

TEST(FunctionRoute, TheCallerAsTheCloudSaysAndNoMore) {
  auto id = callerIdentity({{"X-Netdata-Permissions", "0x7f"},
                            {"x-netdata-role", "admin"},
                            {"X-Netdata-User-Name", "Jane, \"Doe\"\r\nX"},
                            {"X-Netdata-Account-Id", "acc-1"}});
  EXPECT_EQ(id.access, 0x7fu);
  EXPECT_EQ(id.source, "method=NC,role=admin,permissions=0x7f,user=Jane DoeX,account=acc-1");
  id = callerIdentity({});
  EXPECT_EQ(id.access, 0u);
  EXPECT_EQ(id.source, "method=NC,role=member,permissions=0x0");
}

}  // namespace
}  // namespace aclkd::query
