#include "daemon/control_server.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fail_with.h"

namespace aclkd::daemon {
namespace {

bool writeAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

ControlServer::ControlServer(std::string socketPath, Handler handler)
    : path_(std::move(socketPath)), handler_(std::move(handler)) {}

ControlServer::~ControlServer() { stop(); }

bool ControlServer::start(std::string* error) {
  sockaddr_un addr{};
  if (path_.size() >= sizeof(addr.sun_path)) {
    return failWith(error, "control socket path is too long: " + path_);
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  listenFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) {
    return failWith(error, std::string("cannot create control socket: ") + std::strerror(errno));
  }
  // A socket file left by a killed daemon is stale only if nobody answers on it.
  if (::connect(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ::close(listenFd_);
    listenFd_ = -1;
    return failWith(error, "another aclkd is already serving " + path_);
  }
  ::unlink(path_.c_str());
  const mode_t old = ::umask(0117);
  const int rc = ::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0 || ::chmod(path_.c_str(), 0660) != 0 || ::listen(listenFd_, 64) != 0) {
    const std::string reason =
        "cannot listen on control socket " + path_ + ": " + std::strerror(errno);
    ::close(listenFd_);
    listenFd_ = -1;
    return failWith(error, reason);
  }
  struct stat bound {};
  if (::stat(path_.c_str(), &bound) == 0) {
    boundDev_ = bound.st_dev;
    boundIno_ = bound.st_ino;
  }
  if (::pipe2(wakePipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return failWith(error, std::string("cannot create pipe: ") + std::strerror(errno));
  }
  acceptThread_ = std::thread([this] { acceptLoop(); });
  return true;
}

void ControlServer::stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  if (wakePipe_[1] >= 0) {
    const char c = 'x';
    (void)!::write(wakePipe_[1], &c, 1);
  }
  if (acceptThread_.joinable()) {
    acceptThread_.join();
  }
  {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return active_ == 0; });
  }
  if (listenFd_ >= 0) {
    ::close(listenFd_);
    struct stat now {};
    if (::stat(path_.c_str(), &now) == 0 && now.st_dev == boundDev_ && now.st_ino == boundIno_) {
      ::unlink(path_.c_str());
    }
  }
  for (int& fd : wakePipe_) {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
}

void ControlServer::acceptLoop() {
  while (!stopping_) {
    pollfd fds[2] = {{listenFd_, POLLIN, 0}, {wakePipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      spdlog::error("control socket poll failed: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      if (active_ >= kMaxControlConnections) {
        writeAll(fd, R"({"code":1,"text":"aclkd is busy: too many control connections"})"
                     "\n");
        ::close(fd);
        continue;
      }
      ++active_;
    }
    std::thread([this, fd] {
      serve(fd);
      ::close(fd);
      std::lock_guard lock(mutex_);
      --active_;
      idle_.notify_all();
    }).detach();
  }
}

void ControlServer::serve(int fd) {
  std::string request;
  char buf[4096];
  while (request.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) {
      return;  // silent client: drop it, never hang a thread
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    request.append(buf, static_cast<size_t>(n));
    if (request.size() > kMaxControlRequestBytes) {
      writeAll(fd, R"({"code":1,"text":"request too large"})"
                   "\n");
      return;
    }
  }
  const auto nl = request.find('\n');
  if (nl != std::string::npos) {
    request.resize(nl);
  }
  writeAll(fd, handler_(request) + "\n");
}

}  // namespace aclkd::daemon
