#include "common/proxy.h"

#include <gtest/gtest.h>
#include <map>

namespace aclkd {
namespace {

ProxySetting explicitOf(const std::string& text) {
  std::string error;
  const auto value = parseProxyValue(text, &error);
  EXPECT_TRUE(value.has_value()) << text << ": " << error;
  if (!value) {
    return {};
  }
  EXPECT_EQ(value->mode, ProxyValue::Mode::kExplicit) << text;
  return value->explicitProxy;
}

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ProxyTest, NoneEmptyAndEnv) {
  for (const std::string text : {"", "none"}) {
    const auto v = parseProxyValue(text, nullptr);
    ASSERT_TRUE(v.has_value()) << text;
    EXPECT_EQ(v->mode, ProxyValue::Mode::kNone) << text;
  }
  const auto env = parseProxyValue("env", nullptr);
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->mode, ProxyValue::Mode::kEnv);
}

struct GoodProxy {
  std::string text;
  ProxyKind kind;
  std::string host;
  int port;
  std::string user;
  std::string password;
};

TEST(ProxyTest, ParseGoodValues) {
  const std::vector<GoodProxy> cases = {
      {"http://proxy", ProxyKind::kHttp, "proxy", 8080, "", ""},
      {"http://proxy:3128", ProxyKind::kHttp, "proxy", 3128, "", ""},
      {"http://proxy:3128/", ProxyKind::kHttp, "proxy", 3128, "", ""},
      {"socks5://s", ProxyKind::kSocks5, "s", 1080, "", ""},
      {"socks5h://s", ProxyKind::kSocks5h, "s", 1080, "", ""},
      {"socks5h://s:9050", ProxyKind::kSocks5h, "s", 9050, "", ""},
      {"http://10.0.0.1:8888", ProxyKind::kHttp, "10.0.0.1", 8888, "", ""},
      {"http://[::1]:3128", ProxyKind::kHttp, "::1", 3128, "", ""},
      {"http://[fd00::2]", ProxyKind::kHttp, "fd00::2", 8080, "", ""},
      {"http://user:pass@proxy:3128", ProxyKind::kHttp, "proxy", 3128, "user", "pass"},
      {"http://user@proxy", ProxyKind::kHttp, "proxy", 8080, "user", ""},
      {"socks5://u:p@s:1081", ProxyKind::kSocks5, "s", 1081, "u", "p"},
      // '@' and ':' in the password, percent-encoded user.
      {"http://us%40er:p@ss:w0rd@host:3128", ProxyKind::kHttp, "host", 3128, "us@er", "p@ss:w0rd"},
      // The same password raw: the userinfo ends at the last '@', the user at the first ':'.
      {"http://user:p@ss:w0rd@host:3128", ProxyKind::kHttp, "host", 3128, "user", "p@ss:w0rd"},
      {"http://a%3Ab:c%25d%20e@h", ProxyKind::kHttp, "h", 8080, "a:b", "c%d e"},
      {"http://u:p%40ss%3Aw@[::1]:1", ProxyKind::kHttp, "::1", 1, "u", "p@ss:w"},
  };
  for (const auto& c : cases) {
    const ProxySetting p = explicitOf(c.text);
    EXPECT_EQ(p.kind, c.kind) << c.text;
    EXPECT_EQ(p.host, c.host) << c.text;
    EXPECT_EQ(p.port, c.port) << c.text;
    EXPECT_EQ(p.user, c.user) << c.text;
    EXPECT_EQ(p.password, c.password) << c.text;
  }
}

TEST(ProxyTest, ParseBadValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://proxy:3128", "'https' is not supported"},
      {"socks4://proxy", "'socks4' is not supported"},
      {"proxy:3128", "none, env or scheme://host"},
      {"direct", "none, env or scheme://host"},
      {"http://", "no host"},
      {"http://:3128", "no host"},
      {"http://user:pw@", "no host"},
      {"http://user:pw@:3128", "no host"},
      {"http://proxy:0", "proxy: invalid port '0'"},
      {"http://proxy:65536", "proxy: invalid port '65536'"},
      {"http://proxy:abc", "proxy: invalid port 'abc'"},
      {"http://proxy:", "proxy: empty port"},
      {"http://proxy/path", "must not have a path"},
      {"http://[::1", "unterminated IPv6"},
  };
  for (const auto& [text, part] : cases) {
    std::string error;
    EXPECT_FALSE(parseProxyValue(text, &error).has_value()) << text;
    EXPECT_TRUE(contains(error, part)) << text << " -> " << error;
  }
}

TEST(ProxyTest, ErrorsNeverEchoCredentials) {
  for (const std::string text : {"http://alice:s3cr3t@proxy:0", "http://alice:s3cr3t@",
                                 "http://alice:s3cr3t@proxy/x"}) {
    std::string error;
    EXPECT_FALSE(parseProxyValue(text, &error).has_value()) << text;
    EXPECT_FALSE(contains(error, "s3cr3t")) << error;
    EXPECT_FALSE(contains(error, "alice")) << error;
  }
}

TEST(ProxyTest, DisplayNeverShowsCredentials) {
  ProxySetting p = explicitOf("http://us%40er:p@ss:w0rd@host:3128");
  p.source = "aclkd.conf [cloud]";
  const std::string shown = p.display();
  EXPECT_EQ(shown, "http://host:3128 (with credentials, from aclkd.conf [cloud])");
  for (const std::string secret : {"us@er", "us%40er", "p@ss", "w0rd", "@"}) {
    EXPECT_EQ(shown.find(secret), std::string::npos) << secret;
  }
  EXPECT_EQ(p.urlWithoutCredentials(), "http://host:3128");
  EXPECT_EQ(p.urlWithoutCredentials().find("w0rd"), std::string::npos);
}

TEST(ProxyTest, DisplayWithoutCredentials) {
  ProxySetting p = explicitOf("socks5h://s");
  p.source = "claim.conf";
  EXPECT_EQ(p.display(), "socks5h://s:1080 (without credentials, from claim.conf)");
  p.source.clear();
  EXPECT_EQ(p.display(), "socks5h://s:1080 (without credentials, from unknown)");
}

TEST(ProxyTest, DisplayUserOnlyCountsAsCredentials) {
  ProxySetting p = explicitOf("http://bob@h:1");
  p.source = "claim.conf";
  EXPECT_EQ(p.display(), "http://h:1 (with credentials, from claim.conf)");
  EXPECT_EQ(p.display().find("bob"), std::string::npos);
}

TEST(ProxyTest, DisplayIpv6AndNone) {
  ProxySetting p = explicitOf("http://[::1]:3128");
  p.source = "x";
  EXPECT_EQ(p.display(), "http://[::1]:3128 (without credentials, from x)");
  EXPECT_EQ(ProxySetting{}.display(), "none");
  EXPECT_EQ(ProxySetting{}.urlWithoutCredentials(), "");
}

TEST(ProxyTest, CredentialsAreDecodedAndPortDefaults) {
  const auto p = explicitOf("http://us%40er:p@ss:w0rd@host:3128");
  EXPECT_EQ(p.user, "us@er");
  EXPECT_EQ(p.password, "p@ss:w0rd");
  EXPECT_EQ(p.host, "host");
  EXPECT_EQ(p.port, 3128);
  EXPECT_EQ(explicitOf("http://proxy").port, 8080);
}

TEST(ProxyTest, SchemeAndLabel) {
  EXPECT_EQ(explicitOf("http://h").schemeName(), "http");
  EXPECT_EQ(explicitOf("http://h").labelValue(), "HTTP");
  EXPECT_EQ(explicitOf("socks5://h").schemeName(), "socks5");
  EXPECT_EQ(explicitOf("socks5://h").labelValue(), "SOCKS5");
  EXPECT_EQ(explicitOf("socks5h://h").schemeName(), "socks5h");
  EXPECT_EQ(explicitOf("socks5h://h").labelValue(), "SOCKS5H");
  EXPECT_EQ(ProxySetting{}.schemeName(), "none");
  EXPECT_EQ(ProxySetting{}.labelValue(), "none");
}

TEST(ProxyTest, ResolveNoneIgnoresEnvironment) {
  std::string warning;
  const ProxySetting p = resolveProxy(ProxyValue{}, "aclkd.conf [cloud]",
                                      fakeEnv({{"http_proxy", "http://h:1"}}), &warning);
  EXPECT_EQ(p.kind, ProxyKind::kNone);
  EXPECT_EQ(warning, "");
}

TEST(ProxyTest, ResolveExplicitWinsOverEnvironment) {
  const auto value = parseProxyValue("socks5://s:1081", nullptr);
  ASSERT_TRUE(value.has_value());
  std::string warning;
  const ProxySetting p = resolveProxy(*value, "aclkd.conf [cloud]",
                                      fakeEnv({{"http_proxy", "http://env:1"}}), &warning);
  EXPECT_EQ(p.kind, ProxyKind::kSocks5);
  EXPECT_EQ(p.host, "s");
  EXPECT_EQ(p.source, "aclkd.conf [cloud]");
  EXPECT_EQ(warning, "");
}

TEST(ProxyTest, ResolveEnvHttpProxyBeforeHttpsProxy) {
  const ProxyValue env{ProxyValue::Mode::kEnv, {}};
  std::string warning;
  const ProxySetting p =
      resolveProxy(env, "x", fakeEnv({{"http_proxy", "http://first:1"},
                                      {"https_proxy", "http://second:2"}}),
                   &warning);
  EXPECT_EQ(p.host, "first");
  EXPECT_EQ(p.port, 1);
  EXPECT_EQ(p.source, "environment variable 'http_proxy'");
  EXPECT_EQ(warning, "");
}

TEST(ProxyTest, ResolveEnvFallsBackToHttpsProxy) {
  const ProxyValue env{ProxyValue::Mode::kEnv, {}};
  for (const auto& vars : std::vector<std::map<std::string, std::string>>{
           {{"https_proxy", "http://u:p@second:2"}},
           {{"http_proxy", ""}, {"https_proxy", "http://u:p@second:2"}}}) {
    std::string warning;
    const ProxySetting p = resolveProxy(env, "x", fakeEnv(vars), &warning);
    EXPECT_EQ(p.kind, ProxyKind::kHttp);
    EXPECT_EQ(p.host, "second");
    EXPECT_EQ(p.user, "u");
    EXPECT_EQ(p.source, "environment variable 'https_proxy'");
    EXPECT_EQ(p.display(), "http://second:2 (with credentials, from environment variable "
                           "'https_proxy')");
    EXPECT_EQ(warning, "");
  }
}

TEST(ProxyTest, ResolveEnvIgnoresUppercaseVariables) {
  const ProxyValue env{ProxyValue::Mode::kEnv, {}};
  std::string warning;
  const ProxySetting p = resolveProxy(
      env, "x", fakeEnv({{"HTTP_PROXY", "http://h:1"}, {"HTTPS_PROXY", "http://h:2"}}), &warning);
  EXPECT_EQ(p.kind, ProxyKind::kNone);
  EXPECT_EQ(warning, "");
}

TEST(ProxyTest, ResolveEnvUnusableValueIsNoneWithWarning) {
  const ProxyValue env{ProxyValue::Mode::kEnv, {}};
  for (const std::string bad : {"https://proxy:3128", "proxy:3128", "env", "none"}) {
    std::string warning;
    const ProxySetting p = resolveProxy(env, "x", fakeEnv({{"http_proxy", bad},
                                                           {"https_proxy", "http://ok:1"}}),
                                        &warning);
    EXPECT_EQ(p.kind, ProxyKind::kNone) << bad;
    EXPECT_TRUE(contains(warning, "environment variable 'http_proxy'")) << warning;
    EXPECT_TRUE(contains(warning, "not a usable proxy")) << warning;
  }
}

TEST(ProxyTest, ResolveEnvWarningHidesCredentials) {
  const ProxyValue env{ProxyValue::Mode::kEnv, {}};
  std::string warning;
  resolveProxy(env, "x", fakeEnv({{"https_proxy", "https://alice:s3cr3t@p:1"}}), &warning);
  EXPECT_NE(warning, "");
  EXPECT_FALSE(contains(warning, "s3cr3t")) << warning;
}

TEST(ProxyTest, ResolveEnvNothingSet) {
  const ProxyValue env{ProxyValue::Mode::kEnv, {}};
  std::string warning;
  const ProxySetting p = resolveProxy(env, "x", fakeEnv({}), &warning);
  EXPECT_EQ(p.kind, ProxyKind::kNone);
  EXPECT_EQ(warning, "");
  // The warning pointer is optional.
  EXPECT_EQ(resolveProxy(env, "x", fakeEnv({{"http_proxy", "bad"}}), nullptr).kind,
            ProxyKind::kNone);
}

TEST(ProxyTest, ProcessEnvironmentReadsRealVariables) {
  ::setenv("ACLKD_UNIT_PROXY_TEST", "value", 1);
  ::unsetenv("ACLKD_UNIT_PROXY_ABSENT");
  const EnvLookup env = processEnvironment();
  EXPECT_EQ(env("ACLKD_UNIT_PROXY_TEST"), "value");
  EXPECT_EQ(env("ACLKD_UNIT_PROXY_ABSENT"), std::nullopt);
  ::unsetenv("ACLKD_UNIT_PROXY_TEST");
}

}  // namespace
}  // namespace aclkd
