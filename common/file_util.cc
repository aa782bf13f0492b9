#include "common/file_util.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fail_with.h"

namespace aclkd {
namespace {

std::string dirOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool syncDir(const std::string& dir, std::string* error) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return failWith(error, "cannot open folder " + dir + ": " + std::strerror(errno));
  }
  const bool synced = ::fsync(fd) == 0;
  const int fsyncErrno = errno;
  ::close(fd);
  if (!synced) {
    return failWith(error, "cannot fsync folder " + dir + ": " + std::strerror(fsyncErrno));
  }
  return true;
}

std::optional<std::string> readFile(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) {
      *error = errno == ENOENT ? "" : std::strerror(errno);
    }
    return std::nullopt;
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      if (error) {
        *error = std::strerror(errno);
      }
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (error) {
    error->clear();
  }
  return out;
}

bool writeFileAtomic(const std::string& path, const std::string& data, mode_t mode,
                     std::string* error) {
  std::random_device rd;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return failWith(error, "cannot create " + tmp + ": " + std::strerror(errno));
  }
  // open() applies the umask; the identity files must end up with exactly `mode`.
  if (::fchmod(fd, mode) != 0) {
    const std::string reason = "cannot chmod " + tmp + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return failWith(error, reason);
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const std::string reason = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return failWith(error, reason);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string reason = "cannot fsync " + tmp + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return failWith(error, reason);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return failWith(error, reason);
  }
  return syncDir(dirOf(path), error);
}

bool removeFileDurable(const std::string& path, std::string* error) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) {
      return true;
    }
    return failWith(error, "cannot remove " + path + ": " + std::strerror(errno));
  }
  return syncDir(dirOf(path), error);
}

bool makeDirs(const std::string& path, mode_t mode, std::string* error) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) {
      continue;
    }
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return failWith(error, "cannot create folder " + partial + ": " + std::strerror(errno));
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return failWith(error, path + " is not a folder");
  }
  return true;
}

}  // namespace aclkd
