#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aclk/status_strings.h"
#include "aclk/transport/wss_transport.h"

namespace aclkd::aclk {

// What the MQTT session reports to the link. Produced on Paho's callback thread, consumed on the
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

// The link's MQTT session, as the link sees it: one connection attempt, used once and then
// destroyed (the link owns every retry). Events come back through the Sink given to the factory,
// from any thread; the sink only enqueues. Every call is made from the link's thread. The daemon
// uses MqttSession (Paho over the link's own transport); unit tests of the link's state machine
// use a fake.
class MqttClient {
 public:
  using Sink = std::function<void(MqttEvent&&)>;
  virtual ~MqttClient() = default;
  // Starts the connection; the outcome arrives as kConnected or kConnectFailed. False (with
  // `error`) when the parameters were refused outright.
  virtual bool connect(const MqttConnectParams& params, std::string* error) = 0;
  // QoS 1, subscription options 0x09 (max QoS 1 + retain-as-published), as the agent does.
  virtual bool subscribe(const std::string& filter, std::string* error) = 0;
  // QoS 1, retain off; the PUBACK (or failure) arrives as kPublishDone with `id`.
  virtual bool publish(uint64_t id, const std::string& topic, const std::string& payload,
                       std::string* error) = 0;
  // MQTT DISCONNECT (reason 0) and close, waiting at most `timeout`.
  virtual void disconnect(std::chrono::milliseconds timeout) = 0;
};

// Makes the session for attempt `sessionNumber` (stamped on its events).
using MqttClientFactory =
    std::function<std::unique_ptr<MqttClient>(uint64_t sessionNumber, MqttClient::Sink sink)>;

}  // namespace aclkd::aclk
