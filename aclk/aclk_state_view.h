#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace aclkd::aclk {

struct NodeInstanceView {
  std::string hostname;
  std::string machineGuid;
  std::optional<std::string> claimedId;
  std::optional<std::string> nodeId;
  int streamingHops = 0;
  bool self = true;  // relationship self|child
  bool streamingOnline = true;
};

// When the link connected, got the first PUBACK, disconnected and will try next (wall-clock
// seconds, shown as dates), and the backoff behind the next try. One struct for the link's record
// (LinkState, link_state.h) and for what `aclk-state` shows of it, so that the two cannot drift.
struct LinkTimes {
  std::optional<std::time_t> lastConnect;
  std::optional<std::time_t> lastConnectPuback;
  std::optional<std::time_t> lastDisconnect;
  std::optional<std::time_t> nextConnectionAttempt;
  std::optional<double> lastBackoffSeconds;
};

// Everything `aclk-state` shows (docs/protocol/aclk.md §11.3/§11.4), as plain values: the daemon
// fills it from the claim snapshot and the link's status (LinkState::fill, link_state.h, which
// says how the two differ), renderers never reach into either.
struct AclkStateView {
  bool claimed = false;
  std::optional<std::string> claimedId;
  std::optional<std::string> cloudUrl;
  std::string proxyDisplay = "none";
  int64_t publishLatencyUs = 0;
  bool online = false;
  uint64_t receivedMessages = 0;
  uint64_t receivedPubacks = 0;
  uint64_t pendingPubacks = 0;
  uint64_t timedOutPubacks = 0;
  uint64_t serverReceiveMaximum = 0;
  uint64_t reconnectCount = 0;
  LinkTimes times;  // the next attempt and its backoff: unset while online
  bool banned = false;
  std::vector<NodeInstanceView> nodes;
  // Beyond Netdata's keys: the ACLK status string (§11.1) and the cloud status/reason (§11.2,
  // §11.5), so an operator sees *why* the gateway is offline without reading the log.
  std::string aclkStatus = "offline";
  std::string cloudStatus = "available";
  std::string cloudReason;
  // Degraded-mode counters (failed attempts, drops, bans, …), shown under "counters" when set.
  std::vector<std::pair<std::string, uint64_t>> counters;
};

// The single-line JSON object of §11.4, keys in Netdata's order, then the extension keys.
std::string renderAclkStateJson(const AclkStateView& view);

// `YYYY-MM-DD HH:MM:SS` in UTC.
std::string formatUtc(std::time_t t);

}  // namespace aclkd::aclk
