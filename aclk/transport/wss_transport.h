#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aclk/status_strings.h"
#include "aclk/transport/wire_timers.h"
#include "common/proxy.h"

namespace aclkd::aclk::transport {

struct TransportParams {
  std::string host;  // MQTT endpoint: TCP target, SNI, certificate name, WebSocket Host
  int port = 443;
  std::string caFile;  // empty: the system trust store
  bool insecure = false;
  ProxySetting proxy;
  // The `/password` topic list, in order (docs/protocol/aclk.md §5.6).
  std::vector<std::string> aliasTopics;
  size_t inboundLimitBytes = 16u << 20;  // §5.11: one message from the cloud (+ topic allowance)
  // Written into the CONNECT's Keep Alive (§5.4: 60). The MQTT client itself runs without a
  // keepalive: the transport is the only one that pings (see below).
  uint16_t keepAliveSeconds = 60;
  TransportTimers timers;
};

// Process-wide counters (one link per process), shown in /metrics.
struct TransportCounters {
  std::atomic<uint64_t> localPipeStrangers{0};
  std::atomic<uint64_t> inboundTooBig{0};
  std::atomic<uint64_t> injectedPingreqs{0};
  std::atomic<uint64_t> bytesIn{0};
  std::atomic<uint64_t> bytesOut{0};
};
TransportCounters& transportCounters();

// The link's wire: TCP → optional proxy tunnel → TLS → WebSocket, on its own thread (Boost.Asio
// and Boost.Beast). Paho speaks MQTT to it over a loopback "local pipe": start() opens a listener
// on 127.0.0.1 and returns its port for Paho's `tcp://` URI; the first connection that is Paho's
// own socket (see own_socket.h) is bridged to the cloud, strangers are closed and counted.
//
// Why not Paho's own WebSocket/TLS layer: Paho C 1.3.12 keeps received WebSocket frames in a
// process-wide buffer and only looks at it when the socket becomes readable again, so a frame
// holding several MQTT packets left all but the first waiting for the next PINGRESP (up to 44 s).
// Here every byte from the cloud is written to Paho's socket as soon as it is read, and the
// kernel's socket buffer is what Paho polls, so nothing waits out of its sight.
//
// The transport also watches the MQTT byte stream (fixed headers only) for the timers of §5.9.
// Paho's own keepalive cannot give them: it pings after a full keepalive (60 s) of not sending,
// and gives up only 1.5 keepalives after an unanswered PINGREQ. So Paho runs with keepalive 0 (no
// pings of its own), the transport writes Keep Alive 60 into Paho's CONNECT on its way out, sends
// `C0 00` itself after 45 s without an outbound packet (the PINGRESP then reaching Paho is
// harmless: Paho ignores a PINGRESP it did not ask for) and ends the connection 60 s after a
// PINGREQ without a PINGRESP. Were Paho to send a PINGREQ anyway, the same deadline applies to
// it. The transport ends the connection by closing the local pipe: Paho then reports the loss,
// and endReason() says why.
class WssTransport {
 public:
  using TlsErrorSink = std::function<void(const std::string&)>;
  WssTransport(TransportParams params, TlsErrorSink onTlsError);
  ~WssTransport();
  WssTransport(const WssTransport&) = delete;
  WssTransport& operator=(const WssTransport&) = delete;

  // Opens the local listener and starts connecting to the cloud. Returns the listener's port,
  // 0 with *error when no listener could be opened.
  int start(std::string* error);
  // Why the connection ended, when the transport ended it (ping timeout, no progress, cloud
  // closed, TLS/proxy/WebSocket failure); nullopt while running or after Paho closed the pipe.
  std::optional<AclkStatus> endReason() const;
  std::string endDetail() const;
  // The Receive Maximum of the cloud's CONNACK as the cloud sent it (Paho is shown 65535: see
  // liftReceiveMaximum); nullopt before the CONNACK or when it had none.
  std::optional<uint16_t> serverReceiveMaximum() const;
  // Ends everything: a graceful WebSocket CLOSE 1000 if still open (bounded by closeFlush), then
  // the thread is joined. Idempotent.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace aclkd::aclk::transport
