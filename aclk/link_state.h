#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <optional>

#include "aclk/aclk_state_view.h"
#include "aclk/outbound_ledger.h"
#include "aclk/status_strings.h"
#include "aclk/takeover_watch.h"

namespace aclkd::aclk {

// What the link shares with readers of its state (control socket, API, /metrics): status, times
// and the degraded-mode counters. The link's thread writes it and readers copy it out, both under
// the lock of SharedLinkState (below); this struct itself has no lock.
//
// Three names, three things: LinkState (here) is the link's own mutable record, with the ledger
// and takeover watch that produce some of its numbers; AclkStateView (aclk_state_view.h) is the
// plain copy that renderers of `aclk-state` read, filled by fill() below (the one place a field is
// derived: reconnects from connections, the next attempt hidden while online) plus the claim and
// the nodes; AclkStatus (status_strings.h) is the status code of docs/protocol/aclk.md §11.1 that
// both carry. What both hold as it is (LinkTimes) is one struct in both; a field that means the
// same in both has the same name.
struct LinkState {
  LinkState(size_t outboundLimitBytes, std::chrono::seconds pubackTimeout)
      : outbound(outboundLimitBytes, pubackTimeout) {}

  AclkStatus status = AclkStatus::kOffline;
  bool online = false;
  bool banned = false;
  uint64_t receivedMessages = 0;
  uint64_t serverReceiveMaximum = 0;
  uint64_t connections = 0;
  LinkTimes times;
  OutboundLedger outbound;
  uint64_t attempts = 0;
  uint64_t failedAttempts = 0;
  uint64_t droppedOffline = 0;
  uint64_t droppedTooBig = 0;
  uint64_t malformedInbound = 0;
  uint64_t inboundTooBig = 0;
  uint64_t bans = 0;
  TakeoverWatch takeovers;

  // A DisconnectReq permaban or a non-retryable cloud error: no attempt but every banRetry until
  // the identity is reloaded. Counted once per ban, however often the cloud repeats it.
  void ban() {
    if (!banned) ++bans;
    banned = true;
  }

  // The link's part of `aclk-state` (without the node table) and its counters, with the
  // transport's process-wide ones.
  void fill(AclkStateView* view) const;
};

// The state's times are wall-clock seconds: `aclk-state` shows them as dates.
inline std::time_t wallClockNow() {
  return std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
}

// LinkState behind the one lock that the link's thread and the state's readers share. The link's
// parts (the state machine, its connection) each take it for a short step and never across a
// wait, so a reader of `aclk-state` never waits on the network.
class SharedLinkState {
 public:
  SharedLinkState(size_t outboundLimitBytes, std::chrono::seconds pubackTimeout)
      : state_(outboundLimitBytes, pubackTimeout) {}

  // Runs f(state) under the lock; returns what f returns.
  template <typename F>
  auto with(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    return f(state_);
  }
  template <typename F>
  auto with(F&& f) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return f(static_cast<const LinkState&>(state_));
  }

  // Sets the docs/protocol/aclk.md §11.1 status and logs a change (info for connected, a warning
  // for the rest); the same status again is neither set nor logged.
  void setStatus(AclkStatus status);
  AclkStatus status() const {
    return with([](const LinkState& s) { return s.status; });
  }

 private:
  mutable std::mutex mutex_;
  LinkState state_;
};

}  // namespace aclkd::aclk
