#include "aclk/transport/own_socket.h"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>

namespace aclkd::aclk::transport {
namespace {

bool sameAddress(const sockaddr_storage& a, socklen_t alen, const sockaddr_storage& b,
                 socklen_t blen) {
  return alen == blen && std::memcmp(&a, &b, alen) == 0;
}

}  // namespace

bool isOwnSocket(int acceptedFd) {
  sockaddr_storage listener{};
  sockaddr_storage peer{};
  socklen_t listenerLen = sizeof listener;
  socklen_t peerLen = sizeof peer;
  if (getsockname(acceptedFd, reinterpret_cast<sockaddr*>(&listener), &listenerLen) != 0 ||
      getpeername(acceptedFd, reinterpret_cast<sockaddr*>(&peer), &peerLen) != 0) {
    return false;
  }
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return false;
  }
  const int dirFd = dirfd(dir);
  bool found = false;
  while (const dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == acceptedFd || fd == dirFd) {
      continue;
    }
    sockaddr_storage local{};
    sockaddr_storage remote{};
    socklen_t localLen = sizeof local;
    socklen_t remoteLen = sizeof remote;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &localLen) != 0 ||
        getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&remote), &remoteLen) != 0) {
      continue;
    }
    if (sameAddress(local, localLen, peer, peerLen) &&
        sameAddress(remote, remoteLen, listener, listenerLen)) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace aclkd::aclk::transport
