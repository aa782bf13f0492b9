#include "aclk/transport/own_socket.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

int ownPeerSocket(int acceptedFd) {
  sockaddr_storage listener{};
  sockaddr_storage peer{};
  socklen_t listenerLen = sizeof listener;
  socklen_t peerLen = sizeof peer;
  if (getsockname(acceptedFd, reinterpret_cast<sockaddr*>(&listener), &listenerLen) != 0 ||
      getpeername(acceptedFd, reinterpret_cast<sockaddr*>(&peer), &peerLen) != 0) {
    return -1;
  }
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return -1;
  }
  const int dirFd = dirfd(dir);
  int found = -1;
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
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(dir);
  return found;
}

bool adoptOwnPipe(int acceptedFd) {
  const int pahoFd = ownPeerSocket(acceptedFd);
  if (pahoFd < 0) {
    return false;
  }
  const int on = 1;
  setsockopt(acceptedFd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  setsockopt(pahoFd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return true;
}

}  // namespace aclkd::aclk::transport
