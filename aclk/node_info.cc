#include "aclk/node_info.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace aclkd::aclk {
namespace {

std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    v = v.substr(1, v.size() - 2);
  }
  return v;
}

void readOsRelease(SystemInfo* info) {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const auto key = line.substr(0, eq);
    const auto value = unquote(line.substr(eq + 1));
    if (key == "NAME") info->osName = value;
    if (key == "VERSION_ID") info->osVersion = value;
  }
}

// /proc/meminfo "MemTotal: <kB> kB".
void readMemory(SystemInfo* info) {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  while (in >> key >> kb) {
    if (key == "MemTotal:") {
      info->memory = std::to_string(kb * 1024);
      return;
    }
    in.ignore(256, '\n');
  }
}

// The scaling maximum when cpufreq exists, else the "cpu MHz" of /proc/cpuinfo.
void readCpuFrequency(SystemInfo* info) {
  std::ifstream freq("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
  uint64_t khz = 0;
  if (freq >> khz && khz > 0) {
    info->cpuFrequency = std::to_string(khz * 1000);
    return;
  }
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu MHz", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    try {
      const double mhz = std::stod(line.substr(colon + 1));
      info->cpuFrequency = std::to_string(static_cast<uint64_t>(mhz * 1e6));
    } catch (...) {
    }
    break;
  }
}

void readContainer(SystemInfo* info) {
  std::error_code ec;
  if (std::filesystem::exists("/.dockerenv", ec)) {
    info->container = "docker";
  } else if (std::filesystem::exists("/run/.containerenv", ec)) {
    info->container = "podman";
  } else {
    info->container = "none";
  }
}

}  // namespace

SystemInfo probeSystemInfo() {
  SystemInfo info;
  readOsRelease(&info);
  struct utsname u {};
  if (uname(&u) == 0) {
    info.kernelName = u.sysname;
    info.kernelVersion = u.release;
    info.architecture = u.machine;
  }
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  info.cpus = cpus > 0 ? static_cast<uint32_t>(cpus) : 0;
  readMemory(&info);
  readCpuFrequency(&info);
  struct statvfs fs {};
  if (statvfs("/", &fs) == 0) {
    info.diskSpace = std::to_string(static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize);
  }
  tzset();
  const time_t now = time(nullptr);
  struct tm local {};
  if (localtime_r(&now, &local) != nullptr && local.tm_zone != nullptr) {
    info.timezone = local.tm_zone;
  }
  readContainer(&info);
  return info;
}

std::vector<std::pair<std::string, std::string>> aclkHostLabels(const std::string& proxyKind) {
  return {{"_aclk_available", "true"},
          {"_mqtt_version", "5"},
          {"_aclk_proxy", proxyKind.empty() ? "none" : proxyKind},
          {"_aclk_ng_new_cloud_protocol", "true"}};
}

// The gateway answers a small local API, has no ML, no health engine, no functions of its own
// and no dynamic configuration, so those capabilities are reported off rather than promised.
std::vector<CapabilityValue> agentCapabilities() {
  return {{"json", 2, false},   {"proto", 1, true},       {"ml", 0, false},
          {"mc", 1, false},     {"ctx", 1, true},         {"funcs", 1, false},
          {"http_api_v2", 7, true}, {"health", 2, false}, {"req_cancel", 1, true},
          {"dyncfg", 2, false}};
}

std::vector<CapabilityValue> nodeInstanceCapabilities(bool self) {
  (void)self;  // the gateway runs no functions, for itself or for a relayed child
  return {{"proto", 1, true},  {"ml", 0, false},          {"mc", 1, false},
          {"ctx", 1, true},    {"funcs", 0, false},       {"http_api_v2", 7, true},
          {"health", 2, false}, {"req_cancel", 1, true},  {"dyncfg", 2, false}};
}

}  // namespace aclkd::aclk
