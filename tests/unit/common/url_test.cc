#include "common/url.h"

#include <gtest/gtest.h>

namespace aclkd {
namespace {

struct GoodUrl {
  std::string text;
  std::string scheme;
  std::string host;
  int port;
  std::string path;
};

TEST(UrlTest, ParseGoodUrls) {
  const std::vector<GoodUrl> cases = {
      {"https://app.netdata.cloud", "https", "app.netdata.cloud", 443, "/"},
      {"http://example.com", "http", "example.com", 80, "/"},
      {"wss://mqtt.netdata.cloud/mqtt", "wss", "mqtt.netdata.cloud", 443, "/mqtt"},
      {"ws://h", "ws", "h", 80, "/"},
      {"HTTPS://Host.Example", "https", "Host.Example", 443, "/"},
      {"https://h:8443", "https", "h", 8443, "/"},
      {"https://h:443/", "https", "h", 443, "/"},
      {"http://127.0.0.1:1/x", "http", "127.0.0.1", 1, "/x"},
      {"https://[::1]", "https", "::1", 443, "/"},
      {"https://[2001:db8::5]:9443/api/v1?x=1", "https", "2001:db8::5", 9443, "/api/v1?x=1"},
      {"https://h/a/b?c=d&e=f", "https", "h", 443, "/a/b?c=d&e=f"},
      {"https://h?q=1", "https", "h", 443, "/?q=1"},
      {"https://h:65535/", "https", "h", 65535, "/"},
      {"https://my_host-1.local", "https", "my_host-1.local", 443, "/"},
  };
  for (const auto& c : cases) {
    std::string error;
    const auto url = parseUrl(c.text, &error);
    ASSERT_TRUE(url.has_value()) << c.text << ": " << error;
    EXPECT_EQ(url->scheme, c.scheme) << c.text;
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->port, c.port) << c.text;
    EXPECT_EQ(url->path, c.path) << c.text;
  }
}

struct BadUrl {
  std::string text;
  std::string errorPart;
};

TEST(UrlTest, ParseBadUrls) {
  const std::vector<BadUrl> cases = {
      {"", "no scheme"},
      {"app.netdata.cloud", "no scheme"},
      {"://h", "no scheme"},
      {"ftp://h", "unsupported scheme 'ftp'"},
      {"mqtt://h:1883", "unsupported scheme 'mqtt'"},
      {"https://", "no host"},
      {"https:///path", "no host"},
      {"https://:443", "no host"},
      {"https://h:", "empty port"},
      {"https://h:0", "invalid port '0'"},
      {"https://h:65536", "invalid port '65536'"},
      {"https://h:-1", "invalid port"},
      {"https://h:80x", "invalid port"},
      {"https://h:http", "invalid port"},
      {"https://user:pw@h", "credentials are not allowed"},
      {"https://user@h/", "credentials are not allowed"},
      {"https://[::1", "unterminated IPv6"},
      {"https://[::1]x", "garbage after IPv6"},
      {"https://bad host", "invalid character in host"},
      {"https://h:1:2", "invalid port"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parseUrl(c.text, &error).has_value()) << c.text;
    EXPECT_NE(error.find(c.errorPart), std::string::npos) << c.text << " -> " << error;
  }
}

TEST(UrlTest, ParseWithoutErrorPointer) {
  EXPECT_FALSE(parseUrl("nonsense", nullptr).has_value());
  EXPECT_TRUE(parseUrl("https://h", nullptr).has_value());
}

TEST(UrlTest, CredentialsErrorIsStillAnError) {
  std::string error;
  EXPECT_FALSE(parseUrl("https://u:p@h", &error));
  EXPECT_NE(error, "");
}

TEST(UrlTest, Origin) {
  EXPECT_EQ(parseUrl("https://h/x", nullptr)->origin(), "https://h");
  EXPECT_EQ(parseUrl("https://h:8443/x", nullptr)->origin(), "https://h:8443");
  EXPECT_EQ(parseUrl("http://h:80", nullptr)->origin(), "http://h");
  EXPECT_EQ(parseUrl("http://h:443", nullptr)->origin(), "http://h:443");
  EXPECT_EQ(parseUrl("wss://h:443", nullptr)->origin(), "wss://h");
  EXPECT_EQ(parseUrl("https://[::1]:9443", nullptr)->origin(), "https://[::1]:9443");
  EXPECT_EQ(parseUrl("https://[::1]", nullptr)->origin(), "https://[::1]");
}

TEST(UrlTest, JoinUrl) {
  EXPECT_EQ(joinUrl("https://h", "/api/v1/env"), "https://h/api/v1/env");
  EXPECT_EQ(joinUrl("https://h/", "/api/v1/env"), "https://h/api/v1/env");
  EXPECT_EQ(joinUrl("https://h//", "/api"), "https://h/api");
  EXPECT_EQ(joinUrl("https://h", "api"), "https://h/api");
  EXPECT_EQ(joinUrl("https://h/", "api"), "https://h/api");
  EXPECT_EQ(joinUrl("https://h/base", "api"), "https://h/base/api");
  EXPECT_EQ(joinUrl("https://h", ""), "https://h/");
}

TEST(UrlTest, PercentDecode) {
  EXPECT_EQ(percentDecode(""), "");
  EXPECT_EQ(percentDecode("plain"), "plain");
  EXPECT_EQ(percentDecode("us%40er"), "us@er");
  EXPECT_EQ(percentDecode("%3a%3A"), "::");
  EXPECT_EQ(percentDecode("a%20b"), "a b");
  EXPECT_EQ(percentDecode("%41"), "A");
  EXPECT_EQ(percentDecode("100%"), "100%");
  EXPECT_EQ(percentDecode("%4"), "%4");
  EXPECT_EQ(percentDecode("%zz"), "%zz");
  EXPECT_EQ(percentDecode("%%41"), "%A");
  EXPECT_EQ(percentDecode("+"), "+");
  EXPECT_EQ(percentDecode("%00"), std::string(1, '\0'));
}

TEST(UrlTest, PercentDecodeLeavesInvalidEscapesAlone) {
  // Only two hex digits make an escape; a sign or a space is not a hex digit.
  EXPECT_EQ(percentDecode("%-1"), "%-1");
  EXPECT_EQ(percentDecode("%+1"), "%+1");
  EXPECT_EQ(percentDecode("% 1"), "% 1");
  EXPECT_EQ(percentDecode("%1g"), "%1g");
}

}  // namespace
}  // namespace aclkd
