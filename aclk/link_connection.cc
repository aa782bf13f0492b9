#include "aclk/link_connection.h"

#include <spdlog/spdlog.h>

#include "aclk/mqtt_session.h"

namespace aclkd::aclk {

using Clock = std::chrono::steady_clock;

bool LinkConnection::open(uint64_t number, MqttClient::Sink sink, const MqttConnectParams& params,
                          std::string* error) {
  client_ = factory_ ? factory_(number, std::move(sink))
                     : std::make_unique<MqttSession>(number, std::move(sink));
  if (!client_->connect(params, error)) {
    client_.reset();
    return false;
  }
  return true;
}

void LinkConnection::connected(const MqttEvent& connack) {
  if (connack.maximumPacketSize != 0) {
    spdlog::info("ACLK: MQTT server limits message size to {}", connack.maximumPacketSize);
  }
  if (connack.serverReceiveMaximum != 0) {
    spdlog::info("ACLK: MQTT server receive maximum is {}", connack.serverReceiveMaximum);
  }
  maxPacketSize_ = connack.maximumPacketSize;
  std::string error;
  for (TopicId id : {TopicId::kInboxCmd, TopicId::kInboxCmdV1}) {
    // /password makes both compulsory, but a connection without them (no topics set) must not
    // read an empty optional (ASan: the unit tests' connections have none).
    const auto& topic = topics_.get(id);
    if (!topic) {
      spdlog::warn("ACLK: no {} topic to subscribe to", topicName(id));
      continue;
    }
    if (!client_->subscribe(*topic, &error)) {
      spdlog::warn("ACLK: cannot subscribe to {}: {}", topicName(id), error);
    }
  }
}

void LinkConnection::close(std::chrono::milliseconds timeout) {
  if (client_) {
    client_->disconnect(timeout);
    client_.reset();
  }
}

uint64_t LinkConnection::publish(TopicId topic, const std::string& payload) {
  const auto& name = topics_.get(topic);
  if (!name) {
    spdlog::debug("ACLK: no topic for {}; message dropped", topicName(topic));
    return 0;
  }
  spdlog::debug("ACLK: publishing {} ({} bytes)", topicName(topic), payload.size());
  return publishRaw(*name, payload);
}

uint64_t LinkConnection::publishRaw(const std::string& topic, const std::string& payload) {
  const bool online = state_.with([](const LinkState& s) { return s.online; });
  if (!client_ || !online) {
    state_.with([](LinkState& s) { ++s.droppedOffline; });
    spdlog::debug("MQTT is offline. Can't send message.");
    return 0;
  }
  // 64: room for the PUBLISH header and properties beside the topic and the payload.
  if (maxPacketSize_ != 0 && payload.size() + topic.size() + 64 > maxPacketSize_) {
    state_.with([](LinkState& s) { ++s.droppedTooBig; });
    spdlog::warn("Message too big for server: {}", payload.size());
    return 0;
  }
  const uint64_t id = state_.with([&](LinkState& s) {
    const uint64_t admitted = s.outbound.admit(payload.size(), Clock::now());
    if (admitted == 0 && s.outbound.droppedQueueFull() == 1) {
      spdlog::warn("ACLK: outbound queue is full ({} bytes); dropping messages",
                   s.outbound.limitBytes());
    }
    return admitted;
  });
  if (id == 0) {
    return 0;
  }
  std::string error;
  if (!client_->publish(id, topic, payload, &error)) {
    spdlog::warn("ACLK: publish to \"{}\" failed: {}", topic, error);
    state_.with([&](LinkState& s) {
      s.outbound.cancel(id);
      ++s.droppedOffline;
    });
    return 0;
  }
  return id;
}

bool LinkConnection::acknowledged(const MqttEvent& done) {
  return state_.with([&](LinkState& s) {
    const auto ack = s.outbound.acknowledged(done.publishId, done.success, Clock::now());
    if (ack.stable) s.times.lastConnectPuback = wallClockNow();
    return ack.stable;
  });
}

void LinkConnection::sweep() {
  state_.with([](LinkState& s) {
    const size_t dropped = s.outbound.sweep(Clock::now());
    if (dropped != 0 && s.outbound.timedOut() == dropped) {
      spdlog::warn("ACLK: a message got no PUBACK within {} s; counted as dropped",
                   s.outbound.pubackTimeout().count());
    }
  });
}

}  // namespace aclkd::aclk
