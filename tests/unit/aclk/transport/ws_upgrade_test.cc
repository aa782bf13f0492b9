// The exact bytes of the WebSocket upgrade request (docs/protocol/aclk.md §5.3), as Beast writes
// them on a real socket with the decorator the transport installs.
#include "aclk/transport/ws_upgrade.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket.hpp>
#include <regex>
#include <thread>

#include "common/base64.h"

namespace aclkd::aclk::transport {
namespace {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

TEST(WsUpgradeTest, RequestBytesAreExactlyTheBriefs) {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  std::string request;
  std::thread server([&] {
    asio::io_context sioc;
    tcp::socket s(sioc);
    acceptor.accept(s);
    asio::streambuf buf;
    const size_t n = asio::read_until(s, buf, "\r\n\r\n");
    request.assign(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + n);
    s.close();  // no answer: the client's handshake fails, the request is what matters
  });
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const std::string host = "mqtt.example.net";
  ws.set_option(websocket::stream_base::decorator(
      [host](websocket::request_type& req) { shapeUpgradeRequest(req, host); }));
  boost::system::error_code ec;
  ws.handshake(host + ":8443", "/ignored", ec);  // host and path here must not leak through
  server.join();
  EXPECT_TRUE(ec);

  const std::regex keyLine("Sec-WebSocket-Key: ([A-Za-z0-9+/=]+)\r\n");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(request, m, keyLine)) << request;
  const auto key = base64Decode(m[1].str());
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 16u);
  const std::string expected =
      "GET /mqtt HTTP/1.1\r\n"
      "Host: mqtt.example.net\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: " + m[1].str() + "\r\n"
      "Origin: \r\n"
      "Sec-WebSocket-Protocol: mqtt\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "\r\n";
  EXPECT_EQ(request, expected);
}

}  // namespace
}  // namespace aclkd::aclk::transport
