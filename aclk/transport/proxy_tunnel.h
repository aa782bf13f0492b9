#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <stdexcept>
#include <string>

#include "common/proxy.h"

namespace aclkd::aclk::transport {

// The proxy refused, answered something else, or went away. what() is for the log and never
// holds credentials.
struct TunnelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Negotiates a tunnel to host:port on `socket`, already connected to the proxy
// (docs/protocol/aclk.md §5.1, §12.1): HTTP CONNECT (optionally with Basic auth) or SOCKS5 (no
// auth, or RFC 1929 user/password when credentials are configured) with the target as an IP
// resolved here (`socks5://`, IPv4 preferred) or as a domain name (`socks5h://`). The caller bounds
// the time. Throws TunnelError.
boost::asio::awaitable<void> openTunnel(boost::asio::ip::tcp::socket& socket,
                                        const ProxySetting& proxy, const std::string& host,
                                        int port);

// The HTTP CONNECT request bytes, for the unit test.
std::string httpConnectRequest(const ProxySetting& proxy, const std::string& host, int port);

}  // namespace aclkd::aclk::transport
