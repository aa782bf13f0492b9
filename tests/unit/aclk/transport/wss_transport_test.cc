// The transport through its public API against tiny local servers: how each way of failing
// before the WebSocket is up ends, and that Paho's side of the pipe is closed then.
#include "aclk/transport/wss_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

namespace aclkd::aclk::transport {
namespace {

using namespace std::chrono_literals;

// A loopback listener whose accepted connections get `answer` (if any) and are then held open.
class TinyServer {
 public:
  explicit TinyServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 4);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      if (!answer_.empty() && read(c, buf, sizeof buf) > 0) {
        (void)!write(c, answer_.data(), answer_.size());
      }
      while (!done_.load()) std::this_thread::sleep_for(10ms);
      close(c);
    });
  }
  ~TinyServer() {
    done_.store(true);
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::string answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Connects as Paho would and waits until the transport closes the pipe. A transport that ended
// before the connection came has closed its listener: refused counts as closed too.
bool pipeClosedWithin(int pipePort, std::chrono::milliseconds limit) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(pipePort));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const bool refused = errno == ECONNREFUSED;
    close(fd);
    return refused;
  }
  pollfd p{fd, POLLIN, 0};
  bool closed = false;
  if (poll(&p, 1, static_cast<int>(limit.count())) == 1) {
    char c;
    closed = read(fd, &c, 1) <= 0;
  }
  close(fd);
  return closed;
}

TransportParams paramsFor(int port) {
  TransportParams p;
  p.host = "127.0.0.1";
  p.port = port;
  p.timers.setup = 400ms;
  p.timers.tcpConnect = 400ms;
  p.timers.proxyTunnel = 400ms;
  return p;
}

TEST(WssTransportTest, SilentServerEndsAtTheSetupBudget) {
  TinyServer silent("");
  WssTransport t(paramsFor(silent.port()), [](const std::string&) {});
  std::string error;
  const int pipePort = t.start(&error);
  ASSERT_NE(pipePort, 0) << error;
  EXPECT_TRUE(pipeClosedWithin(pipePort, 5s));
  EXPECT_EQ(t.endReason(), AclkStatus::kOfflineConnectTimeout);
  t.stop();
}

TEST(WssTransportTest, ProxyRefusalIsProxyNegotiationFailed) {
  TinyServer proxy("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
  auto p = paramsFor(443);
  p.proxy.kind = ProxyKind::kHttp;
  p.proxy.host = "127.0.0.1";
  p.proxy.port = proxy.port();
  WssTransport t(p, [](const std::string&) {});
  std::string error;
  const int pipePort = t.start(&error);
  ASSERT_NE(pipePort, 0) << error;
  EXPECT_TRUE(pipeClosedWithin(pipePort, 5s));
  EXPECT_EQ(t.endReason(), AclkStatus::kHttpsProxyNegotiationFailed);
  EXPECT_NE(t.endDetail().find("407"), std::string::npos) << t.endDetail();
  t.stop();
}

TEST(WssTransportTest, SilentProxyEndsAtTheTunnelBudget) {
  TinyServer proxy("");
  auto p = paramsFor(443);
  p.timers.setup = 5s;
  p.proxy.kind = ProxyKind::kSocks5h;
  p.proxy.host = "127.0.0.1";
  p.proxy.port = proxy.port();
  WssTransport t(p, [](const std::string&) {});
  std::string error;
  const int pipePort = t.start(&error);
  ASSERT_NE(pipePort, 0) << error;
  EXPECT_TRUE(pipeClosedWithin(pipePort, 4s));
  EXPECT_EQ(t.endReason(), AclkStatus::kHttpsProxyNegotiationFailed);
  t.stop();
}

TEST(WssTransportTest, ClosedPortIsConnectionRefused) {
  int port = 0;
  {
    TinyServer gone("");  // a port that was free a moment ago
    port = gone.port();
  }
  WssTransport t(paramsFor(port), [](const std::string&) {});
  std::string error;
  const int pipePort = t.start(&error);
  ASSERT_NE(pipePort, 0) << error;
  EXPECT_TRUE(pipeClosedWithin(pipePort, 5s));
  EXPECT_EQ(t.endReason(), AclkStatus::kConnectionRefused);
  t.stop();
}

}  // namespace
}  // namespace aclkd::aclk::transport
