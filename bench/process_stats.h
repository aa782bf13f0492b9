#pragma once

// What a benchmark reads of its own process: CPU seconds (user + system, every thread) and RSS.
#include <sys/resource.h>

#include <fstream>
#include <string>

namespace aclkd::bench {

// `who`: RUSAGE_SELF, or RUSAGE_THREAD for the calling thread alone.
inline double cpuSeconds(int who = RUSAGE_SELF) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

inline long rssKiB() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

}  // namespace aclkd::bench
