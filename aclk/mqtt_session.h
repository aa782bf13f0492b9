#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aclk/mqtt_client.h"

namespace aclkd::aclk {

// One MQTT 5 over wss connection attempt: Paho C++ 1.2 speaks MQTT over plain TCP to the link's
// own transport (transport/wss_transport.h), which owns TCP, proxy, TLS and WebSocket. Paho's callbacks run on its one
// process-wide thread under its global lock, so they do nothing but hand an MqttEvent to the sink
// (which must only enqueue). All other calls are made from the link's thread. Automatic
// reconnect is off: the link owns every retry, so a session is used for one connection and then
// destroyed.
class MqttSession : public MqttClient {
 public:
  MqttSession(uint64_t sessionNumber, Sink sink);
  ~MqttSession() override;
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  bool connect(const MqttConnectParams& params, std::string* error) override;
  bool subscribe(const std::string& filter, std::string* error) override;
  bool publish(uint64_t id, const std::string& topic, const std::string& payload,
               std::string* error) override;
  void disconnect(std::chrono::milliseconds timeout) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aclkd::aclk
