#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "aclk/link_state.h"
#include "aclk/mqtt_client.h"
#include "aclk/topics.h"

namespace aclkd::aclk {

// The link's MQTT connection and what goes out through it: the client of the current attempt
// (made by the factory, used once), the topics /password granted, the inbox subscriptions, and
// every publish, accounted in the shared state's OutboundLedger (bytes in flight against the
// outbound limit, PUBACKs, the PUBACK timeout, the drops). The state machine in link.cc decides
// when to open, wait and close; this decides whether a message may go and counts what became of
// it. Link-thread only; the shared state is taken under its lock.
//
// The ledger stays in LinkState rather than here because readers of `aclk-state` see its
// counters beside the rest, under the one lock; this class holds only what the link's thread
// alone touches (the client, the topics, the server's packet limit).
class LinkConnection {
 public:
  // An empty factory makes MqttSession (Paho over the link's own transport).
  LinkConnection(SharedLinkState& state, MqttClientFactory factory)
      : state_(state), factory_(std::move(factory)) {}
  LinkConnection(const LinkConnection&) = delete;
  LinkConnection& operator=(const LinkConnection&) = delete;

  // The topics of a login. They outlive the connection: a publish before the next login still
  // finds its topic, and counts as dropped offline rather than as unknown.
  void setTopics(TopicMap topics) { topics_ = std::move(topics); }
  const TopicMap& topics() const { return topics_; }

  // Makes the client of attempt `number` and sends its CONNECT; the outcome reaches `sink` as
  // kConnected or kConnectFailed. False (with `error`, no client kept) when the client refused
  // the parameters outright.
  bool open(uint64_t number, MqttClient::Sink sink, const MqttConnectParams& params,
            std::string* error);
  // CONNACK accepted: the server's limits are logged (its maximum packet size is kept for
  // publish) and both inbox topics subscribed.
  void connected(const MqttEvent& connack);
  // DISCONNECT and close, waiting at most `timeout`; nothing when no client is open.
  void close(std::chrono::milliseconds timeout);
  bool isOpen() const { return client_ != nullptr; }

  // Returns the publish id, 0 when the message was not sent: no topic for it, offline, too big
  // for the server, the outbound queue full, or the client refused it (each counted but the
  // first).
  uint64_t publish(TopicId topic, const std::string& payload);
  // The same to a topic by name (a `cmd` reply goes to the request's callback topic).
  uint64_t publishRaw(const std::string& topic, const std::string& payload);
  // A kPublishDone. True when it was the connection's 3rd PUBACK: the connection is stable and
  // the caller resets its reconnect backoff.
  bool acknowledged(const MqttEvent& done);
  // Once a second while online: what waited past the PUBACK timeout counts as dropped.
  void sweep();

 private:
  SharedLinkState& state_;
  const MqttClientFactory factory_;
  std::unique_ptr<MqttClient> client_;
  TopicMap topics_;
  uint32_t maxPacketSize_ = 0;  // the last CONNACK's; 0: no limit
};

}  // namespace aclkd::aclk
