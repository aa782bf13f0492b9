#include "aclk/mqtt_session.h"

#include <MQTTAsync.h>

#include <atomic>
#include <cstring>
#include <mqtt/async_client.h>
#include <mutex>

namespace aclkd::aclk {

struct MqttSession::Impl : public mqtt::iaction_listener {
  Impl(uint64_t number, Sink sink) : number(number), sink(std::move(sink)) {}

  // Publish completions: the user context carries the link's message id.
  void on_success(const mqtt::token& tok) override { done(tok, true); }
  void on_failure(const mqtt::token& tok) override { done(tok, false); }

  void done(const mqtt::token& tok, bool ok) {
    MqttEvent e;
    e.kind = MqttEvent::Kind::kPublishDone;
    e.session = number;
    e.success = ok;
    e.code = ok ? 0 : tok.get_return_code();
    e.publishId = reinterpret_cast<uintptr_t>(tok.get_user_context());
    emit(std::move(e));
  }

  void emit(MqttEvent&& e) {
    if (!closed.load()) {
      sink(std::move(e));
    }
  }

  struct ConnectListener : public mqtt::iaction_listener {
    explicit ConnectListener(Impl* impl) : impl(impl) {}
    void on_success(const mqtt::token& tok) override {
      MqttEvent e;
      e.kind = MqttEvent::Kind::kConnected;
      e.session = impl->number;
      e.success = true;
      try {
        // Paho was shown a Receive Maximum of 65535 (see liftReceiveMaximum): the cloud's own
        // value is the transport's.
        if (const auto server = impl->transport ? impl->transport->serverReceiveMaximum()
                                                : std::nullopt) {
          e.serverReceiveMaximum = *server;
        }
        const auto rsp = tok.get_connect_response();
        const auto& props = rsp.get_properties();
        if (props.contains(mqtt::property::MAXIMUM_PACKET_SIZE)) {
          e.maximumPacketSize = mqtt::get<uint32_t>(props, mqtt::property::MAXIMUM_PACKET_SIZE);
        }
      } catch (const std::exception&) {
        // No CONNACK properties: nothing to record.
      }
      impl->emit(std::move(e));
    }
    void on_failure(const mqtt::token& tok) override {
      MqttEvent e;
      e.kind = MqttEvent::Kind::kConnectFailed;
      e.session = impl->number;
      e.code = tok.get_reason_code() != mqtt::ReasonCode::SUCCESS
                   ? static_cast<int>(tok.get_reason_code())
                   : tok.get_return_code();
      e.text = tok.get_reason_code() != mqtt::ReasonCode::SUCCESS ? "connack" : "transport";
      impl->addTransportReason(&e);
      impl->emit(std::move(e));
    }
    Impl* impl;
  };

  // Why the transport ended, for the event that reports the end.
  void addTransportReason(MqttEvent* e) {
    if (transport) {
      e->transportStatus = transport->endReason();
      if (e->transportStatus && e->text.empty()) {
        e->text = transport->endDetail();
      }
      e->pingTimeout = e->transportStatus == AclkStatus::kOfflinePingTimeout;
    }
  }

  const uint64_t number;
  Sink sink;
  std::unique_ptr<transport::WssTransport> transport;
  std::atomic<bool> closed{false};
  // Paho C++ 1.2 signals a token's condition variable after it marked the token complete, from
  // its own thread: a waiter that wakes on "complete" and drops the last reference destroys the
  // condition variable under Paho's broadcast (ThreadSanitizer shows it; docs/dependencies.md).
  // A token we wait for is therefore kept until the client is gone: destroying the client takes
  // Paho's global mutex, which its thread held across the broadcast. Declared before `client`,
  // so it is destroyed after it.
  mqtt::token_ptr waitedToken;
  std::unique_ptr<mqtt::async_client> client;
  ConnectListener connectListener{this};
  mqtt::connect_options options;  // kept alive across connect() (Paho 1.2 property bug)
};

MqttSession::MqttSession(uint64_t sessionNumber, Sink sink)
    : impl_(std::make_unique<Impl>(sessionNumber, std::move(sink))) {}

MqttSession::~MqttSession() {
  impl_->closed.store(true);
  if (impl_->client) {
    try {
      impl_->client->disable_callbacks();
    } catch (const std::exception&) {
    }
  }
  impl_->client.reset();
  if (impl_->transport) {
    impl_->transport->stop();
  }
}

bool MqttSession::connect(const MqttConnectParams& p, std::string* error) {
  Impl* impl = impl_.get();
  transport::TransportParams tp = p.wire;
  tp.keepAliveSeconds = static_cast<uint16_t>(p.keepAlive.count());
  impl->transport = std::make_unique<transport::WssTransport>(
      std::move(tp), [impl](const std::string& text) {
        MqttEvent e;
        e.kind = MqttEvent::Kind::kTlsError;
        e.session = impl->number;
        e.text = text;
        impl->emit(std::move(e));
      });
  const int pipePort = impl->transport->start(error);
  if (pipePort == 0) {
    return false;
  }
  const std::string uri = "tcp://127.0.0.1:" + std::to_string(pipePort);
  try {
    // Paho refuses a publish while 100 (its default) are queued and not yet written, even when
    // connected: a reconnect's node-sync burst or a big cmd burst would lose messages there. The
    // link's outbound ledger already bounds what is in flight (by bytes), so Paho's count is
    // lifted to its message-id space.
    constexpr int kPahoQueueLimit = 65535;
    impl->client = std::make_unique<mqtt::async_client>(
        uri, p.clientId, mqtt::create_options(MQTTVERSION_5, kPahoQueueLimit));
    impl->client->set_connection_lost_handler([impl](const std::string& cause) {
      MqttEvent e;
      e.kind = MqttEvent::Kind::kConnectionLost;
      e.session = impl->number;
      e.text = cause;
      impl->addTransportReason(&e);
      impl->emit(std::move(e));
    });
    impl->client->set_disconnected_handler([impl](const mqtt::properties&, mqtt::ReasonCode rc) {
      MqttEvent e;
      e.kind = MqttEvent::Kind::kServerDisconnect;
      e.session = impl->number;
      e.code = static_cast<int>(rc);
      impl->emit(std::move(e));
    });
    impl->client->set_message_callback([impl](mqtt::const_message_ptr msg) {
      MqttEvent e;
      e.kind = MqttEvent::Kind::kMessage;
      e.session = impl->number;
      e.text = msg->get_topic();
      e.payload = msg->get_payload_str();
      e.code = msg->get_qos();
      impl->emit(std::move(e));
    });

    const mqtt::properties connectProps{{mqtt::property::TOPIC_ALIAS_MAXIMUM, uint16_t{65535}}};
    mqtt::will_options will(p.willTopic, p.willPayload.data(), p.willPayload.size(), 2, false);
    auto builder = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_5)
                       .clean_start(true)
                       // The transport owns keepalive (wss_transport.h) and writes
                       // p.keepAlive into the CONNECT; Paho itself never pings.
                       .keep_alive_interval(std::chrono::seconds(0))
                       .connect_timeout(p.connectTimeout)
                       .user_name(p.username)
                       .password(p.password)
                       .will(std::move(will))
                       .automatic_reconnect(false);
    impl->options = builder.finalize();
    // Paho 1.2 leaves connectProperties pointing into the builder after finalize(): re-apply.
    impl->options.set_properties(connectProps);
    impl->client->connect(impl->options, nullptr, impl->connectListener);
    return true;
  } catch (const mqtt::exception& e) {
    *error = std::string("MQTT client refused the connection parameters: ") + e.what();
  } catch (const std::exception& e) {
    *error = e.what();
  }
  return false;
}

bool MqttSession::subscribe(const std::string& filter, std::string* error) {
  try {
    impl_->client->subscribe(filter, 1,
                             mqtt::subscribe_options(false, true,
                                                     mqtt::subscribe_options::SEND_RETAINED_ON_SUBSCRIBE));
    return true;
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

bool MqttSession::publish(uint64_t id, const std::string& topic, const std::string& payload,
                          std::string* error) {
  try {
    auto msg = mqtt::make_message(topic, payload.data(), payload.size(), 1, false);
    impl_->client->publish(msg, reinterpret_cast<void*>(static_cast<uintptr_t>(id)), *impl_);
    return true;
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

void MqttSession::disconnect(std::chrono::milliseconds timeout) {
  if (!impl_->client) {
    return;
  }
  try {
    impl_->waitedToken = impl_->client->disconnect(static_cast<int>(timeout.count()));
    impl_->waitedToken->wait_for(timeout);
  } catch (const std::exception&) {
    // Not connected (any more): nothing to close.
  }
}

}  // namespace aclkd::aclk
