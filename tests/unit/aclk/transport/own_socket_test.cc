// The local pipe's guard against other processes, with a real second process.
#include "aclk/transport/own_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace aclkd::aclk::transport {
namespace {

int listenLoopback(sockaddr_in* addr) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  addr->sin_family = AF_INET;
  addr->sin_port = 0;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *addr;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(addr), sizeof *addr), 0);
  EXPECT_EQ(listen(fd, 4), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len), 0);
  return fd;
}

int connectTo(const sockaddr_in& addr) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A loopback connection made and accepted by this process: the local pipe's normal case.
struct OwnPair {
  OwnPair() {
    sockaddr_in addr{};
    listener = listenLoopback(&addr);
    client = connectTo(addr);
    accepted = client >= 0 ? accept(listener, nullptr, nullptr) : -1;
  }
  ~OwnPair() {
    for (const int fd : {accepted, client, listener}) {
      if (fd >= 0) close(fd);
    }
  }
  int listener = -1;
  int client = -1;
  int accepted = -1;
};

TEST(OwnSocketTest, AConnectionFromThisProcessIsOwn) {
  OwnPair pair;
  ASSERT_GE(pair.accepted, 0);
  EXPECT_EQ(ownPeerSocket(pair.accepted), pair.client);
}

int noDelay(int fd) {
  int on = -1;
  socklen_t len = sizeof on;
  EXPECT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
  return on;
}

// Paho's end keeps Nagle on unless the pipe turns it off: a reply PUBLISH behind the request's
// PUBACK then waited for a delayed ACK (40 ms per cmd reply).
TEST(OwnSocketTest, AdoptingTheOwnPipeTurnsNagleOffOnBothEnds) {
  OwnPair pair;
  ASSERT_GE(pair.accepted, 0);
  ASSERT_EQ(noDelay(pair.client), 0);
  EXPECT_TRUE(adoptOwnPipe(pair.accepted));
  EXPECT_NE(noDelay(pair.client), 0);
  EXPECT_NE(noDelay(pair.accepted), 0);
}

TEST(OwnSocketTest, AConnectionFromAnotherProcessIsAStranger) {
  sockaddr_in addr{};
  const int listener = listenLoopback(&addr);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = connectTo(addr);
    const char ok = fd >= 0 ? 'y' : 'n';
    (void)!write(ready[1], &ok, 1);
    pause();  // keep the connection open until the parent is done
    _exit(0);
  }
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  const int accepted = accept(listener, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  EXPECT_EQ(ownPeerSocket(accepted), -1);
  EXPECT_FALSE(adoptOwnPipe(accepted));
  EXPECT_EQ(noDelay(accepted), 0);  // a stranger's connection is left as it came
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(accepted);
  close(listener);
  close(ready[0]);
  close(ready[1]);
}

}  // namespace
}  // namespace aclkd::aclk::transport
