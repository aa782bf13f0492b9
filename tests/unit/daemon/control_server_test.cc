#include "daemon/control_server.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <future>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "cli/control_client.h"
#include "unit/test_util.h"

namespace aclkd::daemon {
namespace {

// A raw client for what sendControlRequest never does (partial lines, oversized requests).
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  bool connected() const { return connected_; }
  bool sendAll(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      done += static_cast<size_t>(n);
    }
    return true;
  }
  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  // Everything until the server closes (bounded so that a broken server fails the test instead of
  // hanging it).
  std::string readAll() {
    std::string out;
    char buf[4096];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) {
        break;
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string echoHandler(const std::string& line) { return R"({"code":0,"text":")" + line + "\"}"; }

std::optional<std::string> request(const std::string& path, const std::string& line,
                                   std::string* error) {
  return cli::sendControlRequest(path, line, 10, error);
}

class ControlServerTest : public testing::Test {
 protected:
  test::TempDir dir_;
  std::string path_ = dir_.file("aclkd.sock");
  std::string error_;  // why a start() failed
};

TEST_F(ControlServerTest, RoundTrip) {
  ControlServer server(path_, echoHandler);
  ASSERT_TRUE(server.start(&error_)) << error_;
  std::string error;
  const auto reply = request(path_, "aclk-state", &error);
  ASSERT_TRUE(reply.has_value()) << error;
  EXPECT_EQ(*reply, R"({"code":0,"text":"aclk-state"})");
  // The server keeps serving: one connection per request.
  for (int i = 0; i < 5; ++i) {
    const auto again = request(path_, "n" + std::to_string(i), &error);
    ASSERT_TRUE(again.has_value()) << error;
    EXPECT_EQ(*again, R"({"code":0,"text":"n)" + std::to_string(i) + "\"}");
  }
  server.stop();
}

TEST_F(ControlServerTest, SocketMode0660) {
  const mode_t old = ::umask(0);
  ControlServer server(path_, echoHandler);
  const bool started = server.start(&error_);
  ::umask(old);
  ASSERT_TRUE(started) << error_;
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(ControlServerTest, UmaskDoesNotLeak) {
  const mode_t old = ::umask(022);
  {
    ControlServer server(path_, echoHandler);
    ASSERT_TRUE(server.start(&error_)) << error_;
  }
  EXPECT_EQ(::umask(old), 022u);
}

TEST_F(ControlServerTest, SecondServerOnSamePathFails) {
  ControlServer first(path_, echoHandler);
  ASSERT_TRUE(first.start(&error_)) << error_;
  ControlServer second(path_, [](const std::string&) { return std::string("second"); });
  std::string error;
  EXPECT_FALSE(second.start(&error));
  EXPECT_NE(error.find("already serving"), std::string::npos) << error;
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  second.stop();
  // The first one is untouched, socket file included.
  EXPECT_TRUE(std::filesystem::exists(path_));
  std::string e;
  const auto reply = request(path_, "still-first", &e);
  ASSERT_TRUE(reply.has_value()) << e;
  EXPECT_EQ(*reply, R"({"code":0,"text":"still-first"})");
}

TEST_F(ControlServerTest, StaleSocketFileIsReplaced) {
  {
    // What a killed daemon leaves: a bound socket file that nobody listens on.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path_));
  ControlServer server(path_, echoHandler);
  ASSERT_TRUE(server.start(&error_)) << error_;
  std::string error;
  const auto reply = request(path_, "hello", &error);
  ASSERT_TRUE(reply.has_value()) << error;
  EXPECT_EQ(*reply, R"({"code":0,"text":"hello"})");
}

TEST_F(ControlServerTest, RestartAfterStop) {
  {
    ControlServer server(path_, echoHandler);
    ASSERT_TRUE(server.start(&error_)) << error_;
    server.stop();
  }
  ControlServer again(path_, echoHandler);
  ASSERT_TRUE(again.start(&error_)) << error_;
  std::string error;
  EXPECT_TRUE(request(path_, "x", &error).has_value()) << error;
}

TEST_F(ControlServerTest, LateStopLeavesTheSuccessorsSocket) {
  ControlServer old(path_, echoHandler);
  ASSERT_TRUE(old.start(&error_)) << error_;
  // Someone removed the old file and a new daemon bound the path while the old one still ran.
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  ControlServer successor(path_, [](const std::string&) { return std::string("successor"); });
  ASSERT_TRUE(successor.start(&error_)) << error_;
  old.stop();
  EXPECT_TRUE(std::filesystem::exists(path_));
  std::string error;
  const auto reply = request(path_, "who", &error);
  ASSERT_TRUE(reply.has_value()) << error;
  EXPECT_EQ(*reply, "successor");
}

TEST_F(ControlServerTest, OversizedRequestGetsErrorReply) {
  std::atomic<int> calls{0};
  ControlServer server(path_, [&](const std::string& line) {
    ++calls;
    return echoHandler(line);
  });
  ASSERT_TRUE(server.start(&error_)) << error_;
  RawClient client(path_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.sendAll(std::string(kMaxControlRequestBytes + 1, 'a')));
  const std::string reply = client.readAll();
  EXPECT_EQ(reply, "{\"code\":1,\"text\":\"request too large\"}\n");
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(ControlServerTest, RequestAtTheLimitIsServed) {
  ControlServer server(path_, [](const std::string& line) { return std::to_string(line.size()); });
  ASSERT_TRUE(server.start(&error_)) << error_;
  RawClient client(path_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.sendAll(std::string(kMaxControlRequestBytes - 1, 'a') + "\n"));
  EXPECT_EQ(client.readAll(), std::to_string(kMaxControlRequestBytes - 1) + "\n");
}

TEST_F(ControlServerTest, OnlyTheFirstLineIsTheRequest) {
  ControlServer server(path_, echoHandler);
  ASSERT_TRUE(server.start(&error_)) << error_;
  RawClient client(path_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.sendAll("first\nsecond\n"));
  EXPECT_EQ(client.readAll(), "{\"code\":0,\"text\":\"first\"}\n");
}

TEST_F(ControlServerTest, RequestEndedByCloseInsteadOfNewline) {
  ControlServer server(path_, echoHandler);
  ASSERT_TRUE(server.start(&error_)) << error_;
  RawClient client(path_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.sendAll("no-newline"));
  client.shutdownWrite();
  EXPECT_EQ(client.readAll(), "{\"code\":0,\"text\":\"no-newline\"}\n");
}

TEST_F(ControlServerTest, SlowCommandDoesNotBlockOthers) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> slowEntered;
  ControlServer server(path_, [&](const std::string& line) {
    if (line == "slow") {
      slowEntered.set_value();
      released.wait();
    }
    return echoHandler(line);
  });
  ASSERT_TRUE(server.start(&error_)) << error_;
  auto slow = std::async(std::launch::async, [&] {
    std::string error;
    return request(path_, "slow", &error);
  });
  slowEntered.get_future().wait();
  std::string error;
  const auto fast = request(path_, "fast", &error);
  ASSERT_TRUE(fast.has_value()) << error;
  EXPECT_EQ(*fast, R"({"code":0,"text":"fast"})");
  release.set_value();
  const auto slowReply = slow.get();
  ASSERT_TRUE(slowReply.has_value());
  EXPECT_EQ(*slowReply, R"({"code":0,"text":"slow"})");
}

TEST_F(ControlServerTest, TooManyConnectionsAreTurnedAway) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> waiting{0};
  ControlServer server(path_, [&](const std::string& line) {
    ++waiting;
    released.wait();
    return echoHandler(line);
  });
  ASSERT_TRUE(server.start(&error_)) << error_;
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < kMaxControlConnections; ++i) {
    held.push_back(std::make_unique<RawClient>(path_));
    ASSERT_TRUE(held.back()->connected());
    ASSERT_TRUE(held.back()->sendAll("hold\n"));
  }
  // Connections are accepted in order, so this one comes after every held one.
  RawClient extra(path_);
  ASSERT_TRUE(extra.connected());
  EXPECT_EQ(extra.readAll(),
            "{\"code\":1,\"text\":\"aclkd is busy: too many control connections\"}\n");
  release.set_value();
  for (auto& client : held) {
    EXPECT_EQ(client->readAll(), "{\"code\":0,\"text\":\"hold\"}\n");
  }
  // Capacity is back once they are done.
  std::string error;
  EXPECT_TRUE(request(path_, "after", &error).has_value()) << error;
}

TEST_F(ControlServerTest, StopReturnsAndRemovesSocket) {
  ControlServer server(path_, echoHandler);
  ASSERT_TRUE(server.start(&error_)) << error_;
  server.stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
  std::string error;
  EXPECT_FALSE(request(path_, "x", &error).has_value());
  EXPECT_NE(error, "");
  // A second stop (the destructor's) is harmless.
  server.stop();
}

// A server that never started owns no socket: stopping it must leave whatever is at its path
// (another instance's live socket) alone.
TEST_F(ControlServerTest, StopWithoutStartLeavesThePathAlone) {
  test::writeText(path_, "another instance's socket");
  ControlServer server(path_, echoHandler);
  server.stop();
  EXPECT_TRUE(std::filesystem::exists(path_));
}

TEST_F(ControlServerTest, PathTooLong) {
  ControlServer server(dir_.file(std::string(200, 's')), echoHandler);
  std::string error;
  EXPECT_FALSE(server.start(&error));
  EXPECT_NE(error.find("too long"), std::string::npos) << error;
}

TEST_F(ControlServerTest, MissingFolderIsAnError) {
  ControlServer server(dir_.file("no/such/dir/aclkd.sock"), echoHandler);
  std::string error;
  EXPECT_FALSE(server.start(&error));
  EXPECT_NE(error.find("cannot listen on control socket"), std::string::npos) << error;
}

TEST_F(ControlServerTest, ClientReportsMissingDaemon) {
  std::string error;
  EXPECT_FALSE(request(path_, "x", &error).has_value());
  EXPECT_NE(error, "");
}

TEST_F(ControlServerTest, ResolveSocketPath) {
  ::unsetenv("ACLKD_SOCKET");
  EXPECT_EQ(cli::resolveSocketPath("/x/flag.sock"), "/x/flag.sock");
  EXPECT_EQ(cli::resolveSocketPath(""), "/run/aclkd/aclkd.sock");
  ::setenv("ACLKD_SOCKET", "/env/aclkd.sock", 1);
  EXPECT_EQ(cli::resolveSocketPath(""), "/env/aclkd.sock");
  EXPECT_EQ(cli::resolveSocketPath("/x/flag.sock"), "/x/flag.sock");
  ::unsetenv("ACLKD_SOCKET");
}

}  // namespace
}  // namespace aclkd::daemon
