#include "cli/control_client.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace aclkd::cli {

std::string resolveSocketPath(const std::string& flag) {
  if (!flag.empty()) {
    return flag;
  }
  if (const char* env = std::getenv("ACLKD_SOCKET"); env != nullptr && *env != '\0') {
    return env;
  }
  return "/run/aclkd/aclkd.sock";
}

std::optional<std::string> sendControlRequest(const std::string& socketPath,
                                              const std::string& request, int timeoutSeconds,
                                              std::string* error,
                                              const std::function<void(int)>& onWait,
                                              int waitInterval) {
  sockaddr_un addr{};
  if (socketPath.size() >= sizeof addr.sun_path) {
    *error = "socket path too long";
    return std::nullopt;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socketPath.c_str(), socketPath.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = std::strerror(errno);
    if (fd >= 0) {
      ::close(fd);
    }
    return std::nullopt;
  }
  const std::string line = request + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    *error = std::string("cannot send the request: ") + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  std::string replyText;
  char buf[8192];
  int waited = 0;
  for (;;) {
    // Waits in slices of `waitInterval` seconds so that a slow command can show progress.
    pollfd p{fd, POLLIN, 0};
    const int slice = onWait ? std::min(waitInterval, timeoutSeconds - waited) : timeoutSeconds;
    const int ready = slice > 0 ? ::poll(&p, 1, slice * 1000) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0 && onWait && waited + slice < timeoutSeconds) {
      waited += slice;
      onWait(waited);
      continue;
    }
    if (ready <= 0) {
      *error = "no reply from aclkd within " + std::to_string(timeoutSeconds) + " s";
      ::close(fd);
      return std::nullopt;
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    replyText.append(buf, static_cast<size_t>(n));
    if (replyText.find('\n') != std::string::npos) {
      break;
    }
  }
  ::close(fd);
  if (const auto nl = replyText.find('\n'); nl != std::string::npos) {
    replyText.resize(nl);
  }
  if (replyText.empty()) {
    *error = "aclkd closed the connection without a reply";
    return std::nullopt;
  }
  return replyText;
}

}  // namespace aclkd::cli
