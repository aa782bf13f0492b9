#include "common/http_client.h"

#include <arpa/inet.h>
#include <cstdlib>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace aclkd {
namespace {

// Only what needs no network beyond the loopback: nothing listens on port 1, so connecting is
// refused at once. Real HTTPS exchanges are the integration tests' job.
class HttpClientTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                             "no_proxy", "NO_PROXY"}) {
      ::unsetenv(name);
    }
  }
  void TearDown() override { ::unsetenv("https_proxy"); }
};

// A one-shot HTTP proxy on 127.0.0.1: takes one CONNECT, records its head, answers `reply`.
class FakeProxy {
 public:
  explicit FakeProxy(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on the loopback";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serveOne(); });
  }
  ~FakeProxy() {
    if (thread_.joinable()) {
      thread_.join();
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  int port() const { return port_; }
  // Valid once the client is done (the thread has answered or given up).
  const std::string& requestHead() {
    if (thread_.joinable()) {
      thread_.join();
    }
    return head_;
  }

 private:
  void serveOne() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) {
      return;
    }
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) {
      return;
    }
    char buf[4096];
    while (head_.find("\r\n\r\n") == std::string::npos) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 10000) != 1) {
        break;
      }
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      head_.append(buf, static_cast<size_t>(n));
    }
    (void)!::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
    ::close(c);
  }

  std::string reply_;
  int fd_ = -1;
  int port_ = 0;
  std::string head_;
  std::thread thread_;
};

TEST_F(HttpClientTest, ConnectionRefusedIsCloudUnreachable) {
  HttpClientRequest request;
  request.url = "https://127.0.0.1:1/api/v1/env";
  const HttpClientResponse response = httpPerform(request);
  EXPECT_EQ(response.failure, HttpFailure::kConnect) << response.error;
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.body, "");
  EXPECT_EQ(response.error.rfind("cloud unreachable", 0), 0u) << response.error;
}

TEST_F(HttpClientTest, PutWithBodyConnectionRefused) {
  HttpClientRequest request;
  request.method = "PUT";
  request.url = "http://127.0.0.1:1/api/v1/spaces/nodes/x";
  request.headers = {"Content-Type: application/json"};
  request.body = R"({"token":"t"})";
  const HttpClientResponse response = httpPerform(request);
  EXPECT_EQ(response.failure, HttpFailure::kConnect) << response.error;
}

TEST_F(HttpClientTest, ExplicitProxyRefusedIsProxyConnect) {
  HttpClientRequest request;
  request.url = "https://127.0.0.1:1/api/v1/env";
  request.proxyMode = HttpClientRequest::ProxyMode::kExplicit;
  request.proxy.kind = ProxyKind::kHttp;
  request.proxy.host = "127.0.0.1";
  request.proxy.port = 1;
  request.proxy.user = "alice";
  request.proxy.password = "s3cr3t";
  const HttpClientResponse response = httpPerform(request);
  EXPECT_EQ(response.failure, HttpFailure::kProxyConnect) << response.error;
  EXPECT_EQ(response.status, 0);
  EXPECT_NE(response.error.find("proxy http://127.0.0.1:1 is unreachable"), std::string::npos)
      << response.error;
  EXPECT_EQ(response.error.find("s3cr3t"), std::string::npos) << response.error;
  EXPECT_EQ(response.error.find("alice"), std::string::npos) << response.error;
}

TEST_F(HttpClientTest, ExplicitProxyAnswering407IsProxyAuth) {
  FakeProxy proxy("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
  HttpClientRequest request;
  request.url = "https://cloud.invalid:443/api/v1/env";
  request.proxyMode = HttpClientRequest::ProxyMode::kExplicit;
  request.proxy.kind = ProxyKind::kHttp;
  request.proxy.host = "127.0.0.1";
  request.proxy.port = proxy.port();
  request.proxy.user = "us@er";
  request.proxy.password = "p@ss:w0rd";
  const HttpClientResponse response = httpPerform(request);
  EXPECT_EQ(response.failure, HttpFailure::kProxyAuth) << response.error;
  EXPECT_NE(response.error.find("407"), std::string::npos) << response.error;
  EXPECT_EQ(response.error.find("w0rd"), std::string::npos) << response.error;
  const std::string& head = proxy.requestHead();
  EXPECT_EQ(head.rfind("CONNECT cloud.invalid:443 ", 0), 0u) << head;
  // base64("us@er:p@ss:w0rd"): the decoded credentials go to the proxy, and only there.
  EXPECT_NE(head.find("Proxy-Authorization: Basic dXNAZXI6cEBzczp3MHJk"), std::string::npos)
      << head;
}

TEST_F(HttpClientTest, ExplicitProxyRefusingTunnelIsProxyTunnel) {
  FakeProxy proxy("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
  HttpClientRequest request;
  request.url = "https://cloud.invalid/";
  request.proxyMode = HttpClientRequest::ProxyMode::kExplicit;
  request.proxy.kind = ProxyKind::kHttp;
  request.proxy.host = "127.0.0.1";
  request.proxy.port = proxy.port();
  const HttpClientResponse response = httpPerform(request);
  EXPECT_EQ(response.failure, HttpFailure::kProxyTunnel) << response.error;
  EXPECT_NE(response.error.find("502"), std::string::npos) << response.error;
  EXPECT_EQ(proxy.requestHead().find("Proxy-Authorization"), std::string::npos);
}

TEST_F(HttpClientTest, EnvModeLetsLibcurlUseHttpsProxy) {
  FakeProxy proxy("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
  ::setenv("https_proxy", ("http://127.0.0.1:" + std::to_string(proxy.port())).c_str(), 1);
  HttpClientRequest request;
  request.url = "https://cloud.invalid/";
  request.proxyMode = HttpClientRequest::ProxyMode::kEnv;
  const HttpClientResponse response = httpPerform(request);
  EXPECT_EQ(response.failure, HttpFailure::kProxyTunnel) << response.error;
  EXPECT_EQ(proxy.requestHead().rfind("CONNECT cloud.invalid:443 ", 0), 0u);
}

TEST_F(HttpClientTest, NoneModeIgnoresProxyVariables) {
  // A listener that is never accepted from: a connection attempt would show as readable.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::setenv("https_proxy", ("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))).c_str(),
           1);
  HttpClientRequest request;
  request.url = "https://127.0.0.1:1/";
  request.proxyMode = HttpClientRequest::ProxyMode::kNone;
  const HttpClientResponse response = httpPerform(request);
  EXPECT_EQ(response.failure, HttpFailure::kConnect) << response.error;
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "the proxy from the environment was contacted";
  ::close(fd);
}

TEST_F(HttpClientTest, UnsupportedSchemeIsRefused) {
  HttpClientRequest request;
  request.url = "file:///etc/passwd";
  const HttpClientResponse response = httpPerform(request);
  EXPECT_EQ(response.failure, HttpFailure::kOther) << response.error;
  EXPECT_EQ(response.body, "");
}

}  // namespace
}  // namespace aclkd
