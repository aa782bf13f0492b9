#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>

#include "aclk/aclk_state.h"
#include "aclk/aclk_status.h"
#include "aclk/outbound_ledger.h"
#include "aclk/takeover_watch.h"

namespace aclkd::aclk {

// What the link shares with readers of its state (control socket, API, /metrics): status, times
// and the degraded-mode counters. The link's thread writes it and readers copy it out, both under
// the link's state lock; this struct itself has no lock.
struct LinkState {
  LinkState(size_t outboundLimitBytes, std::chrono::seconds pubackTimeout)
      : outbound(outboundLimitBytes, pubackTimeout) {}

  AclkStatus status = AclkStatus::kOffline;
  bool online = false;
  bool banned = false;
  uint64_t receivedMessages = 0;
  uint64_t serverReceiveMaximum = 0;
  uint64_t connections = 0;
  std::optional<std::time_t> lastConnect;
  std::optional<std::time_t> lastConnectPuback;
  std::optional<std::time_t> lastDisconnect;
  std::optional<std::time_t> nextAttempt;
  std::optional<double> lastBackoffSeconds;
  OutboundLedger outbound;
  uint64_t attempts = 0;
  uint64_t failedAttempts = 0;
  uint64_t droppedOffline = 0;
  uint64_t droppedTooBig = 0;
  uint64_t malformedInbound = 0;
  uint64_t inboundTooBig = 0;
  uint64_t bans = 0;
  TakeoverWatch takeovers;

  // The link's part of `aclk-state` (without the node table) and its counters, with the
  // transport's process-wide ones.
  void fill(AclkStateView* view) const;
};

}  // namespace aclkd::aclk
