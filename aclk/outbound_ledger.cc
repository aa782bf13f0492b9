#include "aclk/outbound_ledger.h"

namespace aclkd::aclk {

uint64_t OutboundLedger::admit(size_t bytes, TimePoint now) {
  if (inflightBytes_ + bytes > limitBytes_) {
    ++droppedQueueFull_;
    return 0;
  }
  const uint64_t id = ++nextId_;
  inflight_[id] = Entry{now, bytes};
  inflightBytes_ += bytes;
  return id;
}

void OutboundLedger::cancel(uint64_t id) {
  const auto it = inflight_.find(id);
  if (it != inflight_.end()) {
    inflightBytes_ -= it->second.bytes;
    inflight_.erase(it);
  }
}

OutboundLedger::Ack OutboundLedger::acknowledged(uint64_t id, bool success, TimePoint now) {
  Ack ack;
  const auto it = inflight_.find(id);
  if (it == inflight_.end()) {
    return ack;
  }
  ack.known = true;
  inflightBytes_ -= it->second.bytes;
  const auto latency = now - it->second.sentAt;
  inflight_.erase(it);
  if (!success) {
    ++failures_;
    return ack;
  }
  lastLatencyUs_ = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  ack.stable = ++pubacks_ == 3;
  return ack;
}

size_t OutboundLedger::sweep(TimePoint now) {
  const auto limit = now - pubackTimeout_;
  size_t dropped = 0;
  for (auto it = inflight_.begin(); it != inflight_.end();) {
    if (it->second.sentAt < limit) {
      inflightBytes_ -= it->second.bytes;
      it = inflight_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  timedOut_ += dropped;
  return dropped;
}

void OutboundLedger::newConnection() {
  clear();
  pubacks_ = 0;
}

void OutboundLedger::clear() {
  inflight_.clear();
  inflightBytes_ = 0;
}

}  // namespace aclkd::aclk
