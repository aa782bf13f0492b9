#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

namespace aclkd::aclk {

// The link's outbound accounting (docs/protocol/aclk.md §5.7, §5.11): messages published and not
// yet acknowledged, their bytes against the outbound limit, the PUBACK latency, the 60 s PUBACK
// timeout (no resend: the message counts as dropped) and the "stable connection" rule (the 3rd
// PUBACK of a connection resets the reconnect backoff). Time comes in as arguments, so unit tests
// drive it with their own clock. Not thread-safe: the link calls it under its state lock.
class OutboundLedger {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  OutboundLedger(size_t limitBytes, std::chrono::seconds pubackTimeout)
      : limitBytes_(limitBytes), pubackTimeout_(pubackTimeout) {}

  // Reserves an id for a message of `bytes`; 0 (and a queue-full drop counted) when it would
  // take the bytes in flight past the limit.
  uint64_t admit(size_t bytes, TimePoint now);
  // The publish call itself failed: the reservation is returned.
  void cancel(uint64_t id);

  struct Ack {
    bool known = false;   // false: unknown id or already timed out
    bool stable = false;  // this was the connection's 3rd PUBACK
  };
  Ack acknowledged(uint64_t id, bool success, TimePoint now);
  // Drops what waited longer than the PUBACK timeout; returns how many.
  size_t sweep(TimePoint now);
  // A new connection: nothing in flight, the per-connection PUBACK count restarts.
  void newConnection();
  // The connection is gone: nothing is in flight any more.
  void clear();

  size_t limitBytes() const { return limitBytes_; }
  std::chrono::seconds pubackTimeout() const { return pubackTimeout_; }
  size_t inflightCount() const { return inflight_.size(); }
  size_t inflightBytes() const { return inflightBytes_; }
  uint64_t pubacks() const { return pubacks_; }  // this connection
  uint64_t failures() const { return failures_; }
  uint64_t timedOut() const { return timedOut_; }
  uint64_t droppedQueueFull() const { return droppedQueueFull_; }
  int64_t lastLatencyUs() const { return lastLatencyUs_; }

 private:
  struct Entry {
    TimePoint sentAt;
    size_t bytes = 0;
  };
  const size_t limitBytes_;
  const std::chrono::seconds pubackTimeout_;
  std::map<uint64_t, Entry> inflight_;
  size_t inflightBytes_ = 0;
  uint64_t nextId_ = 0;
  uint64_t pubacks_ = 0;
  uint64_t failures_ = 0;
  uint64_t timedOut_ = 0;
  uint64_t droppedQueueFull_ = 0;
  int64_t lastLatencyUs_ = 0;
};

}  // namespace aclkd::aclk
