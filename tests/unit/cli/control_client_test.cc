#include "cli/control_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "unit/test_util.h"

namespace aclkd::cli {
namespace {

// A daemon stand-in that answers one request after `delay`.
class SlowServer {
 public:
  SlowServer(const std::string& path, std::chrono::milliseconds delay) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    thread_ = std::thread([this, delay] {
      const int c = ::accept(fd_, nullptr, nullptr);
      char buf[256];
      (void)::recv(c, buf, sizeof buf, 0);
      std::this_thread::sleep_for(delay);
      const char reply[] = "{\"code\":0,\"text\":\"done\"}\n";
      (void)::send(c, reply, sizeof reply - 1, MSG_NOSIGNAL);  // the client may be gone
      ::close(c);
    });
  }
  ~SlowServer() {
    thread_.join();
    ::close(fd_);
  }

 private:
  int fd_ = -1;
  std::thread thread_;
};

// `aclkctl claim` and `reload-claiming-state` wait up to 120 s: the client reports progress while
// it waits, and still gets the reply.
TEST(ControlClientTest, ReportsProgressWhileWaiting) {
  test::TempDir dir;
  const std::string path = dir.file("aclkd.sock");
  SlowServer server(path, std::chrono::milliseconds(2300));
  std::vector<int> waited;
  std::string error;
  const auto reply = sendControlRequest(
      path, "{\"command\":\"claim\"}", 10, &error, [&](int s) { waited.push_back(s); }, 1);
  ASSERT_TRUE(reply) << error;
  EXPECT_EQ(*reply, "{\"code\":0,\"text\":\"done\"}");
  EXPECT_EQ(waited, (std::vector<int>{1, 2}));
}

TEST(ControlClientTest, TimesOutWithProgress) {
  test::TempDir dir;
  const std::string path = dir.file("aclkd.sock");
  SlowServer server(path, std::chrono::milliseconds(2500));
  std::vector<int> waited;
  std::string error;
  EXPECT_FALSE(sendControlRequest(path, "{}", 2, &error, [&](int s) { waited.push_back(s); }, 1));
  EXPECT_EQ(error, "no reply from aclkd within 2 s");
  EXPECT_EQ(waited, (std::vector<int>{1}));
}

}  // namespace
}  // namespace aclkd::cli
