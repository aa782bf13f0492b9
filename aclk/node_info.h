#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aclkd::aclk {

// The machine facts UpdateNodeInfo carries for the gateway's own node (docs/protocol/aclk.md §7.1
// NodeInfo).
struct SystemInfo {
  std::string os = "linux";
  std::string osName;
  std::string osVersion;
  std::string kernelName;
  std::string kernelVersion;
  std::string architecture;
  std::string cpuFrequency = "0";  // Hz, "0" when unknown
  std::string memory;              // bytes
  std::string diskSpace;           // bytes of the root file system
  std::string timezone;            // abbreviation
  std::string virtualization = "unknown";
  std::string container = "unknown";
  uint32_t cpus = 0;
  // UpdateNodeInfo's ml_info: the gateway has no ML; a relayed child's come from its STREAM
  // request (ml_capable, ml_enabled), as a v2 parent relays them.
  bool mlCapable = false;
  bool mlEnabled = false;
};

// Reads /etc/os-release, uname(2), sysconf, /proc/meminfo, statvfs("/"), /proc/cpuinfo and the
// container marker files. Never fails: unknown facts keep their defaults.
SystemInfo probeSystemInfo();

// The host labels the agent adds for the link (docs/protocol/aclk.md §11.6). `proxyKind`: HTTP,
// SOCKS5, SOCKS5H or none.
std::vector<std::pair<std::string, std::string>> aclkHostLabels(const std::string& proxyKind);

struct CapabilityValue {
  std::string name;
  uint32_t version = 0;
  bool enabled = false;
};

// What a node can be asked for beyond its metadata. These capabilities are promises: each is on
// only while it works for that node, and `aclkctl nodes` says why one is off.
struct NodeFeatures {
  bool functions = false;  // `funcs`: function calls reach the node (down its stream)
  bool dyncfg = false;     // `dyncfg`: the node declares the `config` function
  bool health = false;     // `health`: the node's own alerts are relayed
  bool operator==(const NodeFeatures&) const = default;
};

// Agent-level capabilities (UpdateAgentConnection, UpdateNodeInfo.node_info): `gateway` says
// what the gateway relays at all (its configuration); no ML, no metric correlations.
std::vector<CapabilityValue> agentCapabilities(const NodeFeatures& gateway = {});
// Node-instance capabilities of one node (UpdateNodeInstanceConnection,
// UpdateNodeInfo.node_instance_info).
std::vector<CapabilityValue> nodeInstanceCapabilities(const NodeFeatures& node = {});

}  // namespace aclkd::aclk
