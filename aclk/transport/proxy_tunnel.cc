#include "aclk/transport/proxy_tunnel.h"

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <vector>

#include "common/base64.h"
#include "common/url.h"

namespace aclkd::aclk::transport {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::use_awaitable;

asio::awaitable<void> httpConnect(tcp::socket& s, const ProxySetting& proxy,
                                  const std::string& host, int port) {
  const std::string req = httpConnectRequest(proxy, host, port);
  co_await asio::async_write(s, asio::buffer(req), use_awaitable);
  asio::streambuf answer(16 * 1024);
  try {
    co_await asio::async_read_until(s, answer, "\r\n\r\n", use_awaitable);
  } catch (const boost::system::system_error& e) {
    throw TunnelError("HTTP proxy closed the connection before answering CONNECT (" +
                      e.code().message() + ")");
  }
  const std::string head(asio::buffers_begin(answer.data()),
                         asio::buffers_begin(answer.data()) + 12);
  if (head != "HTTP/1.1 200" && head != "HTTP/1.0 200") {
    const std::string all(asio::buffers_begin(answer.data()), asio::buffers_end(answer.data()));
    throw TunnelError("HTTP proxy refused CONNECT: " + all.substr(0, all.find('\r')));
  }
  // The target speaks only after our ClientHello, so nothing follows the proxy's answer.
}

asio::awaitable<void> readExactly(tcp::socket& s, uint8_t* data, size_t size, const char* what) {
  try {
    co_await asio::async_read(s, asio::buffer(data, size), use_awaitable);
  } catch (const boost::system::system_error& e) {
    throw TunnelError(std::string("SOCKS5 proxy closed the connection during ") + what + " (" +
                      e.code().message() + ")");
  }
}

const char* socksReplyText(uint8_t code) {
  switch (code) {
    case 1: return "general failure";
    case 2: return "connection not allowed by ruleset";
    case 3: return "network unreachable";
    case 4: return "host unreachable";
    case 5: return "connection refused";
    case 6: return "TTL expired";
    case 7: return "command not supported";
    case 8: return "address type not supported";
  }
  return "unknown reply";
}

asio::awaitable<void> socks5(tcp::socket& s, const ProxySetting& proxy, const std::string& host,
                             int port) {
  const bool auth = proxy.hasCredentials();
  std::vector<uint8_t> greet = {5, static_cast<uint8_t>(auth ? 2 : 1), 0};
  if (auth) {
    greet.push_back(2);
  }
  co_await asio::async_write(s, asio::buffer(greet), use_awaitable);
  std::array<uint8_t, 2> method{};
  co_await readExactly(s, method.data(), 2, "the greeting");
  if (method[0] != 5) {
    throw TunnelError("proxy did not answer as a SOCKS5 server");
  }
  if (method[1] == 2 && auth) {
    if (proxy.user.size() > 255 || proxy.password.size() > 255) {
      throw TunnelError("SOCKS5 user name or password longer than 255 bytes");
    }
    std::vector<uint8_t> up = {1, static_cast<uint8_t>(proxy.user.size())};
    up.insert(up.end(), proxy.user.begin(), proxy.user.end());
    up.push_back(static_cast<uint8_t>(proxy.password.size()));
    up.insert(up.end(), proxy.password.begin(), proxy.password.end());
    co_await asio::async_write(s, asio::buffer(up), use_awaitable);
    std::array<uint8_t, 2> status{};
    co_await readExactly(s, status.data(), 2, "authentication");
    if (status[1] != 0) {
      throw TunnelError("SOCKS5 proxy rejected the user name and password");
    }
  } else if (method[1] != 0) {
    throw TunnelError(method[1] == 0xff ? "SOCKS5 proxy accepts none of the offered methods"
                                        : "SOCKS5 proxy chose an unsupported method");
  }

  std::vector<uint8_t> req = {5, 1, 0};
  if (proxy.kind == ProxyKind::kSocks5h) {
    if (host.size() > 255) {
      throw TunnelError("host name too long for SOCKS5");
    }
    req.push_back(3);
    req.push_back(static_cast<uint8_t>(host.size()));
    req.insert(req.end(), host.begin(), host.end());
  } else {
    tcp::resolver resolver(s.get_executor());
    tcp::resolver::results_type results;
    try {
      results = co_await resolver.async_resolve(host, std::to_string(port), use_awaitable);
    } catch (const boost::system::system_error& e) {
      throw TunnelError("cannot resolve " + host + " for the SOCKS5 proxy: " +
                        e.code().message());
    }
    std::optional<asio::ip::address> addr;
    for (const auto& r : results) {  // IPv4 preferred, as the agent does
      if (r.endpoint().address().is_v4()) {
        addr = r.endpoint().address();
        break;
      }
    }
    if (!addr && !results.empty()) {
      addr = results.begin()->endpoint().address();
    }
    if (!addr) {
      throw TunnelError("no address for " + host);
    }
    if (addr->is_v4()) {
      req.push_back(1);
      const auto b = addr->to_v4().to_bytes();
      req.insert(req.end(), b.begin(), b.end());
    } else {
      req.push_back(4);
      const auto b = addr->to_v6().to_bytes();
      req.insert(req.end(), b.begin(), b.end());
    }
  }
  req.push_back(static_cast<uint8_t>(port >> 8));
  req.push_back(static_cast<uint8_t>(port & 0xff));
  co_await asio::async_write(s, asio::buffer(req), use_awaitable);

  std::array<uint8_t, 4> head{};
  co_await readExactly(s, head.data(), 4, "CONNECT");
  if (head[0] != 5) {
    throw TunnelError("SOCKS5 proxy sent a malformed CONNECT reply");
  }
  if (head[1] != 0) {
    throw TunnelError(std::string("SOCKS5 proxy could not connect: ") + socksReplyText(head[1]));
  }
  size_t rest = 0;
  if (head[3] == 1) {
    rest = 4 + 2;
  } else if (head[3] == 4) {
    rest = 16 + 2;
  } else if (head[3] == 3) {
    uint8_t len = 0;
    co_await readExactly(s, &len, 1, "CONNECT");
    rest = len + 2u;
  } else {
    throw TunnelError("SOCKS5 proxy sent an unknown address type");
  }
  std::vector<uint8_t> bound(rest);
  co_await readExactly(s, bound.data(), rest, "CONNECT");
}

}  // namespace

std::string httpConnectRequest(const ProxySetting& proxy, const std::string& host, int port) {
  std::string req = "CONNECT " + bracketedHost(host) + ":" + std::to_string(port) +
                    " HTTP/1.1\r\nHost: " + bracketedHost(host) + "\r\n";
  if (proxy.hasCredentials()) {
    req += "Proxy-Authorization: Basic " + base64Encode(proxy.user + ":" + proxy.password) +
           "\r\n";
  }
  req += "\r\n";
  return req;
}

asio::awaitable<void> openTunnel(tcp::socket& socket, const ProxySetting& proxy,
                                 const std::string& host, int port) {
  if (proxy.kind == ProxyKind::kHttp) {
    co_await httpConnect(socket, proxy, host, port);
  } else {
    co_await socks5(socket, proxy, host, port);
  }
}

}  // namespace aclkd::aclk::transport
