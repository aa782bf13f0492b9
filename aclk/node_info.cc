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

// The gateway answers a small local API and has no ML and no health engine of its own: what it
// offers is what it relays for its nodes, so every capability past the metadata follows a
// NodeFeatures (docs/protocol/aclk.md §7.3 lists the names, versions and order).
std::vector<CapabilityValue> agentCapabilities(const NodeFeatures& gateway) {
  return {{"json", 2, false},
          {"proto", 1, true},
          {"ml", 0, false},
          {"mc", 1, false},
          {"ctx", 1, true},
          {"funcs", 1, gateway.functions},
          {"http_api_v2", 7, true},
          {"health", 2, gateway.health},
          {"req_cancel", 1, true},
          {"dyncfg", 2, gateway.dyncfg}};
}

// `funcs` keeps version 0 while off, as an agent reports a host without functions.
std::vector<CapabilityValue> nodeInstanceCapabilities(const NodeFeatures& node) {
  return {{"proto", 1, true},
          {"ml", 0, false},
          {"mc", 1, false},
          {"ctx", 1, true},
          {"funcs", node.functions ? 1u : 0u, node.functions},
          {"http_api_v2", 7, true},
          {"health", 2, node.health},
          {"req_cancel", 1, true},
          {"dyncfg", 2, node.dyncfg}};
}

}  // namespace aclkd::aclk
