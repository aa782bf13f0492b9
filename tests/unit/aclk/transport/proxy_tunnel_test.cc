#include "aclk/transport/proxy_tunnel.h"

#include <gtest/gtest.h>

namespace aclkd::aclk::transport {
namespace {

TEST(ProxyTunnelTest, HttpConnectWithoutCredentials) {
  ProxySetting p;
  p.kind = ProxyKind::kHttp;
  EXPECT_EQ(httpConnectRequest(p, "mqtt.example.net", 443),
            "CONNECT mqtt.example.net:443 HTTP/1.1\r\nHost: mqtt.example.net\r\n\r\n");
}

TEST(ProxyTunnelTest, HttpConnectWithBasicAuth) {
  ProxySetting p;
  p.kind = ProxyKind::kHttp;
  p.user = "user";
  p.password = "pa:ss";
  EXPECT_EQ(httpConnectRequest(p, "::1", 8443),
            "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]\r\n"
            "Proxy-Authorization: Basic dXNlcjpwYTpzcw==\r\n\r\n");
}

}  // namespace
}  // namespace aclkd::aclk::transport
