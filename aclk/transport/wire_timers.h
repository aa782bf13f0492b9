#pragma once

#include <chrono>
#include <optional>

namespace aclkd::aclk::transport {

// docs/protocol/aclk.md §5.1 and §5.9. Tests shorten them; the daemon uses the defaults.
struct TransportTimers {
  std::chrono::milliseconds tcpConnect{10'000};
  std::chrono::milliseconds proxyTunnel{10'000};
  std::chrono::milliseconds setup{120'000};       // TCP + proxy + TLS + WebSocket
  std::chrono::milliseconds pingIdle{45'000};     // send PINGREQ after this long without sending
  std::chrono::milliseconds pingResponse{60'000}; // PINGRESP deadline after a PINGREQ
  std::chrono::milliseconds noProgress{120'000};  // no byte moved on the wss socket
  std::chrono::milliseconds closeFlush{4'000};    // Paho's DISCONNECT + WebSocket CLOSE
};

// The decisions behind the §5.9 timers of an established connection: the PINGREQ after
// `pingIdle` without an outbound packet, the PINGRESP deadline, and the no-I/O-progress watchdog.
// Time comes in as arguments (the transport passes steady_clock::now() from its ticker), so unit
// tests drive a 120 s watchdog with their own clock. Not thread-safe: the transport's io thread
// owns it.
class WireTimers {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  WireTimers(const TransportTimers& timers, TimePoint now)
      : t_(timers), lastSent_(now), lastProgress_(now) {}

  // The WebSocket is up: both clocks start from here.
  void started(TimePoint now) { lastSent_ = lastProgress_ = now; }
  // Bytes moved on the wss socket, either way.
  void progress(TimePoint now) { lastProgress_ = now; }
  // A packet left for the cloud; a PINGREQ (from the MQTT client) arms the PINGRESP deadline.
  void packetSent(bool pingreq, TimePoint now);
  void pingrespReceived() { pingSentAt_.reset(); }

  enum class Verdict {
    kNone,
    kPingTimeout,  // no PINGRESP within pingResponse of the PINGREQ
    kNoProgress,   // no byte moved for noProgress
    kSendPing,     // idle for pingIdle: send PINGREQ now (already recorded as sent)
  };
  // `mqttUp`: CONNACK seen (no PINGREQ before it).
  Verdict check(TimePoint now, bool mqttUp);
  // How long the connection had been idle when check() last said kSendPing.
  std::chrono::milliseconds idleBeforePing() const { return idleBeforePing_; }

 private:
  const TransportTimers t_;
  TimePoint lastSent_;
  TimePoint lastProgress_;
  std::optional<TimePoint> pingSentAt_;
  std::chrono::milliseconds idleBeforePing_{0};
};

}  // namespace aclkd::aclk::transport
