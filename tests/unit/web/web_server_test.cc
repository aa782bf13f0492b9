// WebServer over real loopback sockets: the bridge's hand-off (a socket plus the bytes already
// read), the route table, the error replies, and RFC 6455 behaviour of the live session on
// Boost.Beast, with raw client frames. The server's io_context runs on two threads, as the
// bridge's may.

#include "web/web_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

namespace aclkd::web {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using error_code = boost::system::error_code;

class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  WebOptions options(bool allowed = true) {
    WebOptions o;
    o.routes
        .add({"GET", "/healthz",
              [](const HttpRequest& r) {
                return HttpResponse{200, "text/plain", "health " + r.target};
              },
              {}})
        .add({"GET", "/live", {}, [this](const std::string& channel, ChannelRender, std::string* error) {
                if (channel != "c") {
                  *error = "unknown channel";
                  return std::optional<std::string>();
                }
                return std::optional<std::string>("{\"v\":" + std::to_string(value_.load()) + "}");
              }});
    o.allowed = [allowed](const std::string&) { return allowed; };
    return o;
  }

  // A client connected to `web`: the server side is handed over with `alreadyRead`, as the
  // bridge does after reading the first bytes.
  tcp::socket connect(WebServer& web, const std::string& alreadyRead) {
    tcp::socket client(clientIo_);
    client.connect(acceptor_.local_endpoint());
    PortConnection c;
    c.plain = std::make_unique<tcp::socket>(acceptor_.accept(io_));
    c.received = alreadyRead;
    web.serve(std::move(c));
    return client;
  }

  static std::string readAll(tcp::socket& s) {
    std::string out;
    char buf[4096];
    error_code ec;
    while (!ec) {
      const size_t n = s.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
    }
    return out;
  }

  std::string exchange(WebServer& web, const std::string& first, const std::string& rest) {
    auto s = connect(web, first);
    asio::write(s, asio::buffer(rest));
    return readAll(s);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::io_context clientIo_;
  tcp::acceptor acceptor_{clientIo_};
  std::vector<std::thread> threads_;
  std::atomic<int> value_{1};
};

TEST_F(WebServerTest, RoutesTheHandedOverRequest) {
  WebServer web(options());
  const auto reply = exchange(web, "GET /he", "althz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
  EXPECT_NE(reply.find("Cache-Control: no-cache"), std::string::npos);
  EXPECT_EQ(reply.substr(reply.find("\r\n\r\n") + 4), "health /healthz?x=1");
  const auto head = exchange(web, "", "HEAD /healthz HTTP/1.1\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 15"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "") << "HEAD: no body";
  EXPECT_EQ(web.counters().requests.load(), 2u);
}

TEST_F(WebServerTest, ErrorReplies) {
  WebServer web(options());
  auto status = [&](const std::string& request) {
    const auto r = exchange(web, request.substr(0, 3), request.substr(3));
    return r.substr(0, r.find("\r\n"));
  };
  EXPECT_EQ(status("GET /h HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(status(std::string("GE\x01 garbage\r\n\r\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status("DELETE /healthz HTTP/1.1\r\n\r\n"), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(status("GET /nope HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(status("GET /live HTTP/1.1\r\n\r\n"), "HTTP/1.1 426 Upgrade Required");
  EXPECT_EQ(web.counters().badRequests.load(), 2u);
  EXPECT_EQ(web.counters().requests.load(), 5u);
  WebServer closed(options(false));
  const auto r = exchange(closed, "", "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 403 Forbidden", 0), 0u) << r;
  EXPECT_NE(r.find("allow connections from"), std::string::npos);
}

TEST_F(WebServerTest, AHeadNotCompleteInTimeIsClosedAndCounted) {
  auto o = options();
  o.headTimeout = std::chrono::seconds(1);
  WebServer web(std::move(o));
  auto s = connect(web, "GET /healthz HTTP/1.1\r\n");
  EXPECT_EQ(readAll(s), "") << "closed without an answer";
  EXPECT_EQ(web.counters().timeouts.load(), 1u);
  EXPECT_EQ(web.counters().requests.load(), 0u);
}

// ---- the live WebSocket, with raw frames -------------------------------------------------

std::string frame(uint8_t first, const std::string& payload) {
  std::string out(1, static_cast<char>(first));
  const size_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(0x80 | n);
  } else {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
  }
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  out.append(mask, 4);
  for (size_t i = 0; i < n; ++i) out += static_cast<char>(payload[i] ^ mask[i % 4]);
  return out;
}

struct ServerFrame {
  int opcode = -1;  // -1: the connection ended
  std::string payload;
};

ServerFrame readFrame(tcp::socket& s) {
  unsigned char hdr[2];
  error_code ec;
  asio::read(s, asio::buffer(hdr), ec);
  if (ec) return {};
  size_t n = hdr[1] & 0x7F;
  if (n == 126) {
    unsigned char ext[2];
    asio::read(s, asio::buffer(ext), ec);
    n = (ext[0] << 8) | ext[1];
  }
  ServerFrame f{hdr[0] & 0x0F, std::string(n, '\0')};
  asio::read(s, asio::buffer(f.payload), ec);
  return ec ? ServerFrame{} : f;
}

int closeCode(const ServerFrame& f) {
  if (f.opcode != 8 || f.payload.size() < 2) return -1;
  return (static_cast<uint8_t>(f.payload[0]) << 8) | static_cast<uint8_t>(f.payload[1]);
}

class LiveTest : public WebServerTest {
 protected:
  tcp::socket upgraded(WebServer& web) {
    auto s = connect(web, "GET /li");
    asio::write(s, asio::buffer(std::string(
                       "ve HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n")));
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && asio::read(s, asio::buffer(&c, 1))) {
      head += c;
    }
    EXPECT_EQ(head.rfind("HTTP/1.1 101 ", 0), 0u) << head;
    EXPECT_NE(head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << head;
    return s;
  }
  static void send(tcp::socket& s, const std::string& bytes) { asio::write(s, asio::buffer(bytes)); }
};

TEST_F(LiveTest, SubscribeAndPush) {
  WebServer web(options());
  auto s = upgraded(web);
  EXPECT_EQ(web.counters().liveClients.load(), 1u);
  send(s, frame(0x81, R"({"id":1,"subscribe":{"channel":"c"}})"));
  auto f = readFrame(s);
  EXPECT_EQ(f.opcode, 1);
  EXPECT_EQ(f.payload, R"({"id":1,"result":{"data":{"v":1}}})");
  value_ = 2;
  f = readFrame(s);
  EXPECT_EQ(f.payload, R"({"push":{"channel":"c","data":{"v":2}}})");
  send(s, frame(0x81, R"({"id":2,"subscribe":{"channel":"x"}})"));
  EXPECT_NE(readFrame(s).payload.find("unknown channel"), std::string::npos);
  s.close();
  for (int i = 0; i < 200 && web.counters().liveClients.load() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(web.counters().liveClients.load(), 0u);
}

TEST_F(LiveTest, FragmentsReassembledWithAPingBetween) {
  WebServer web(options());
  auto s = upgraded(web);
  const std::string text = R"({"id":7,"subscribe":{"channel":"c"}})";
  send(s, frame(0x01, text.substr(0, 10)) + frame(0x89, "between") +
              frame(0x00, text.substr(10, 10)) + frame(0x80, text.substr(20)));
  auto f = readFrame(s);
  EXPECT_EQ(f.opcode, 10);
  EXPECT_EQ(f.payload, "between");
  f = readFrame(s);
  EXPECT_EQ(f.opcode, 1);
  EXPECT_EQ(f.payload.rfind(R"({"id":7,"result")", 0), 0u) << f.payload;
}

TEST_F(LiveTest, ProtocolErrorsCloseWith1002) {
  WebServer web(options());
  for (const auto& bad : {frame(0x80, "stray continuation"), frame(0x83, ""), frame(0x8B, ""),
                          frame(0x89, std::string(200, 'p')), frame(0x09, "fragmented ping"),
                          frame(0x01, "a") + frame(0x81, "b"), frame(0xC1, "rsv1")}) {
    auto s = upgraded(web);
    send(s, bad);
    const auto f = readFrame(s);
    EXPECT_EQ(closeCode(f), 1002) << "opcode " << f.opcode << " payload " << f.payload.size();
    EXPECT_EQ(readFrame(s).opcode, -1) << "then the server closes";
  }
  // Counted when the server's side of each close is over, just after the client saw it.
  for (int i = 0; i < 200 && web.counters().liveProtocol.load() < 7; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(web.counters().liveProtocol.load(), 7u);
}

TEST_F(LiveTest, TooBigBinaryAndCloseHandshake) {
  WebServer web(options());
  auto s = upgraded(web);
  send(s, frame(0x81, std::string(5000, 'x')));
  EXPECT_EQ(closeCode(readFrame(s)), 1009);
  s = upgraded(web);
  send(s, frame(0x82, "bin"));
  EXPECT_EQ(closeCode(readFrame(s)), 1003);
  s = upgraded(web);
  send(s, frame(0x89, std::string(125, 'x')));
  auto f = readFrame(s);
  EXPECT_EQ(f.opcode, 10);
  EXPECT_EQ(f.payload, std::string(125, 'x'));
  send(s, frame(0x88, std::string("\x03\xe8" "bye", 5)));
  f = readFrame(s);
  EXPECT_EQ(f.opcode, 8);
  EXPECT_EQ(f.payload, std::string("\x03\xe8", 2)) << "the code echoed, no reason";
  EXPECT_EQ(readFrame(s).opcode, -1) << "the server closes after the close handshake";
}

// A client whose answers pile up past maxLiveUnsent is dropped and counted (an answer bigger than
// the limit stands in for a client that sends subscribes and never reads).
TEST_F(LiveTest, AnswersLeftUnreadPastTheLimitDropTheClient) {
  auto o = options();
  o.maxLiveUnsent = 10;
  WebServer web(std::move(o));
  auto s = upgraded(web);
  send(s, frame(0x81, R"({"id":1,"subscribe":{"channel":"c"}})"));
  EXPECT_EQ(readFrame(s).opcode, -1) << "closed, the answer not sent";
  for (int i = 0; i < 200 && web.counters().liveUnread.load() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(web.counters().liveUnread.load(), 1u);
}

}  // namespace
}  // namespace aclkd::web
