#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aclk/aclk_status.h"
#include "aclk/transport/wss_transport.h"
#include "common/proxy.h"

namespace aclkd::aclk {

// What the Paho side reports to the link. Produced on Paho's callback thread, consumed on the
// link's thread.
struct MqttEvent {
  enum class Kind {
    kConnected,        // CONNACK accepted
    kConnectFailed,    // TCP/TLS/WebSocket failure or CONNACK refused (`code`)
    kConnectionLost,   // socket gone; `pingTimeout` when Paho saw no PINGRESP in time
    kServerDisconnect, // MQTT DISCONNECT from the broker (`code` = reason)
    kMessage,          // inbound PUBLISH: `text` = topic
    kPublishDone,      // PUBACK (success) or failure of publish `publishId`
    kTlsError,         // certificate problem text from OpenSSL
  } kind = Kind::kConnectionLost;
  uint64_t session = 0;  // the MqttSession attempt that produced it
  int code = 0;
  bool success = false;
  bool pingTimeout = false;
  std::string text;
  std::string payload;
  uint64_t publishId = 0;
  uint32_t serverReceiveMaximum = 0;
  uint32_t maximumPacketSize = 0;
  // kConnectFailed / kConnectionLost: why the transport ended the connection, when it did (ping
  // timeout, no I/O progress, proxy/TLS/WebSocket failure, message too big, cloud closed).
  std::optional<AclkStatus> transportStatus;
};

struct MqttConnectParams {
  transport::TransportParams wire;  // endpoint, CA, insecure, proxy, aliases, limits, timers
  std::string clientId;
  std::string username;
  std::string password;  // secret
  std::string willTopic;
  std::string willPayload;
  std::chrono::seconds keepAlive{60};
  std::chrono::seconds connectTimeout{120};
};

// One MQTT 5 over wss connection attempt: Paho C++ 1.2 speaks MQTT over plain TCP to the link's
// own transport (transport/wss_transport.h), which owns TCP, proxy, TLS and WebSocket. Paho's callbacks run on its one
// process-wide thread under its global lock, so they do nothing but hand an MqttEvent to the sink
// (which must only enqueue). All other calls are made from the link's thread. Automatic
// reconnect is off: the link owns every retry, so a session is used for one connection and then
// destroyed.
class MqttSession {
 public:
  using Sink = std::function<void(MqttEvent&&)>;
  MqttSession(uint64_t sessionNumber, Sink sink);
  ~MqttSession();
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  // Starts the connection; the outcome arrives as kConnected or kConnectFailed. False (with
  // `error`) when Paho refused the parameters outright.
  bool connect(const MqttConnectParams& params, std::string* error);
  // QoS 1, subscription options 0x09 (max QoS 1 + retain-as-published), as the agent does.
  bool subscribe(const std::string& filter, std::string* error);
  // QoS 1, retain off; the PUBACK (or failure) arrives as kPublishDone with `id`.
  bool publish(uint64_t id, const std::string& topic, const std::string& payload,
               std::string* error);
  // MQTT DISCONNECT (reason 0) and close, waiting at most `timeout`.
  void disconnect(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aclkd::aclk
