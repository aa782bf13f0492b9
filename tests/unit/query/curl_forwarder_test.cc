#include "query/curl_forwarder.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

#include "unit/loopback_listener.h"

namespace aclkd::query {
namespace {

using namespace std::chrono_literals;

// A real HTTP/1.1 server on 127.0.0.1, one thread per connection: `/hang…` never answers (until
// the server goes away), `/big` answers 4096 bytes, anything else answers its own request line.
class LoopbackServer {
 public:
  LoopbackServer() {
    fd_ = test::listenLoopback(&port_);
    acceptor_ = std::thread([this] {
      while (true) {
        const int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++connections;
        std::thread([stopping = stopping_, c] { serve(c, *stopping); }).detach();
      }
    });
  }
  ~LoopbackServer() {
    *stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    acceptor_.join();
    std::this_thread::sleep_for(150ms);  // hanging connections notice stopping_
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::atomic<int> connections{0};

 private:
  // Static, with the stop flag shared: a connection thread may outlive the server object.
  static void serve(int c, const std::atomic<bool>& stopping) {
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      const auto n = read(c, buf, sizeof buf);
      if (n <= 0) return (void)close(c);
      in.append(buf, static_cast<size_t>(n));
    }
    const auto line = in.substr(0, in.find("\r\n"));
    if (line.find(" /hang") != std::string::npos) {
      while (!stopping) std::this_thread::sleep_for(20ms);
      return (void)close(c);
    }
    const std::string body = line.find(" /big") != std::string::npos ? std::string(4096, 'x')
                                                                      : line;
    const std::string out = "HTTP/1.1 201 Made Here\r\nX-Test: yes\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    (void)!write(c, out.data(), out.size());
    close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  std::thread acceptor_;
};

ForwardRequest get(const std::string& url, std::chrono::milliseconds budget = 5000ms) {
  ForwardRequest r;
  r.url = url;
  r.agentKey = "agent";
  r.deadline = Clock::now() + budget;
  r.headers = {"Accept: application/json"};
  return r;
}

std::future<ForwardResponse> submit(CurlForwarder& f, ForwardRequest r, uint64_t* id = nullptr) {
  auto p = std::make_shared<std::promise<ForwardResponse>>();
  auto fut = p->get_future();
  const auto i = f.submit(std::move(r), [p](ForwardResponse resp) { p->set_value(resp); });
  if (id) *id = i;
  return fut;
}

TEST(CurlForwarderTest, AnswerKeepsStatusReasonHeadersAndBody) {
  LoopbackServer server;
  CurlForwarder f({});
  const auto r = submit(f, get(server.url() + "/api/v1/info?x=1")).get();
  EXPECT_EQ(r.outcome, ForwardOutcome::kAnswered);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.reason, "Made Here");
  EXPECT_EQ(r.body, "GET /api/v1/info?x=1 HTTP/1.1");
  EXPECT_NE(std::find(r.headers.begin(), r.headers.end(),
                      std::pair<std::string, std::string>{"X-Test", "yes"}),
            r.headers.end());
}

TEST(CurlForwarderTest, PostCarriesBody) {
  LoopbackServer server;
  CurlForwarder f({});
  auto req = get(server.url() + "/api/v1/function");
  req.method = "POST";
  req.body = "{}";
  EXPECT_EQ(submit(f, req).get().body, "POST /api/v1/function HTTP/1.1");
}

TEST(CurlForwarderTest, TimeoutTooLargeUnreachable) {
  LoopbackServer server;
  CurlForwarder f({});
  EXPECT_EQ(submit(f, get(server.url() + "/hang", 300ms)).get().outcome,
            ForwardOutcome::kTimeout);
  auto big = get(server.url() + "/big");
  big.maxResponseBytes = 1000;
  EXPECT_EQ(submit(f, big).get().outcome, ForwardOutcome::kTooLarge);
  const auto closed = get("http://127.0.0.1:1/api/v1/info");
  const auto r = submit(f, closed).get();
  EXPECT_EQ(r.outcome, ForwardOutcome::kUnreachable);
  EXPECT_FALSE(r.error.empty());
}

TEST(CurlForwarderTest, PerAgentLimitQueuesAndCancelWorksAnywhere) {
  LoopbackServer server;
  CurlForwarder::Options o;
  o.perAgentLimit = 1;
  CurlForwarder f(o);
  uint64_t first = 0;
  auto hanging = submit(f, get(server.url() + "/hang", 10s), &first);
  // The second waits for the first's slot; its deadline runs out in line.
  const auto waited = submit(f, get(server.url() + "/api/v1/info", 400ms)).get();
  EXPECT_EQ(waited.outcome, ForwardOutcome::kTimeout);
  EXPECT_NE(waited.error.find("free slot"), std::string::npos);
  EXPECT_EQ(server.connections.load(), 1);
  // Another agent is not held up.
  auto other = get(server.url() + "/api/v1/info");
  other.agentKey = "other";
  EXPECT_EQ(submit(f, other).get().outcome, ForwardOutcome::kAnswered);
  // Cancel a waiting one, then the running one.
  uint64_t queued = 0;
  auto waiting = submit(f, get(server.url() + "/api/v1/info", 10s), &queued);
  f.cancel(queued);
  EXPECT_EQ(waiting.get().outcome, ForwardOutcome::kCancelled);
  f.cancel(first);
  EXPECT_EQ(hanging.get().outcome, ForwardOutcome::kCancelled);
  f.cancel(first);  // already done: ignored
}

TEST(CurlForwarderTest, OverloadAndShutdownComplete) {
  LoopbackServer server;
  CurlForwarder::Options o;
  o.perAgentLimit = 1;
  o.maxWaiting = 1;
  auto f = std::make_unique<CurlForwarder>(o);
  auto a = submit(*f, get(server.url() + "/hang", 10s));
  std::this_thread::sleep_for(100ms);  // a is running, the line is empty
  auto b = submit(*f, get(server.url() + "/hang", 10s));
  std::this_thread::sleep_for(100ms);  // b waits
  EXPECT_EQ(submit(*f, get(server.url() + "/hang", 10s)).get().outcome,
            ForwardOutcome::kOverloaded);
  f.reset();
  EXPECT_EQ(a.get().outcome, ForwardOutcome::kCancelled);
  EXPECT_EQ(b.get().outcome, ForwardOutcome::kCancelled);
}

}  // namespace
}  // namespace aclkd::query
