#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <condition_variable>

#include <sys/types.h>

namespace aclkd::daemon {

// The local control socket: one JSON request line in, one JSON reply line out, then close (the
// netdatacli model). Each connection is served on its own short-lived thread so that a slow
// command (a claim waits on HTTPS) never blocks `aclk-state`; their number is bounded.
// Hand-written on poll()/accept(): a few dozen lines, where libwebsockets' unix-socket support
// would bring its whole event loop for one request per connection.
class ControlServer {
 public:
  // Takes the request line, returns the reply line (without the newline).
  using Handler = std::function<std::string(const std::string&)>;

  ControlServer(std::string socketPath, Handler handler);
  ~ControlServer();

  // Binds (replacing a stale socket file) and starts serving; false with *error when it cannot.
  bool start(std::string* error);
  void stop();

 private:
  void acceptLoop();
  void serve(int fd);

  std::string path_;
  Handler handler_;
  int listenFd_ = -1;
  // The socket file we bound: stop() removes the path only while it is still this file, so a
  // daemon stopping late never deletes the socket of the one that replaced it.
  dev_t boundDev_ = 0;
  ino_t boundIno_ = 0;
  int wakePipe_[2] = {-1, -1};
  std::thread acceptThread_;
  std::mutex mutex_;
  std::condition_variable idle_;
  int active_ = 0;
  std::atomic<bool> stopping_{false};
};

inline constexpr int kMaxControlConnections = 32;
inline constexpr size_t kMaxControlRequestBytes = 64 * 1024;

}  // namespace aclkd::daemon
