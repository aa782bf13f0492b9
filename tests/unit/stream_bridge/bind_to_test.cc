// `[web] bind to`: the address and port forms Netdata's web server takes, and clear refusals.
#include <gtest/gtest.h>

#include "stream_bridge/stream_server.h"

namespace aclkd::stream_bridge {
namespace {

struct Parsed {
  bool ok = false;
  std::string error, address;
  int port = -1;
  TlsMode tls = TlsMode::kNone;
};

Parsed parse(const std::string& text) {
  Parsed p;
  p.ok = parseBindTo(text, &p.address, &p.port, &p.tls, &p.error);
  return p;
}

TEST(BindToTest, AcceptedForms) {
  EXPECT_EQ(parse("127.0.0.1:19999").address, "127.0.0.1");
  EXPECT_EQ(parse("127.0.0.1:19999").port, 19999);
  EXPECT_EQ(parse("127.0.0.1:0").port, 0);  // any free port (tests)
  EXPECT_EQ(parse("*:19999").address, "0.0.0.0");
  EXPECT_EQ(parse("localhost:19999").address, "127.0.0.1");
  EXPECT_EQ(parse("[::1]:19999").address, "::1");
  EXPECT_TRUE(parse("[::1]:19999").ok);
  EXPECT_EQ(parse("[::1]:19999").error, "");
  EXPECT_EQ(parse("127.0.0.1:19999^SSL=optional").tls, TlsMode::kOptional);
  EXPECT_EQ(parse("127.0.0.1:19999^SSL=force").tls, TlsMode::kForce);
}

TEST(BindToTest, Refusals) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"127.0.0.1", "is not address:port"},
      {":19999", "is not address:port"},
      {"127.0.0.1:", "empty port"},
      {"127.0.0.1:99999", "invalid port '99999' (expected 0..65535)"},
      {"127.0.0.1:-1", "invalid port '-1' (expected 0..65535)"},
      {"::1:19999", "more than one ':' (an IPv6 address goes in brackets"},
      {"[::1:19999", "unterminated IPv6 literal"},
      {"[::1]x", "garbage after IPv6 literal"},
      {"not-an-ip:19999", "'not-an-ip' is not an IP address"},
      {"127.0.0.1:1^SSL=maybe", "must be SSL=optional or SSL=force"},
  };
  for (const auto& [text, part] : cases) {
    const auto parsed = parse(text);
    EXPECT_FALSE(parsed.ok) << text;
    const auto& error = parsed.error;
    EXPECT_NE(error.find(part), std::string::npos) << text << " -> " << error;
  }
}

}  // namespace
}  // namespace aclkd::stream_bridge
