#include "aclk/link_state.h"

#include <spdlog/spdlog.h>

#include <string>

#include "aclk/transport/wss_transport.h"

namespace aclkd::aclk {

void LinkState::fill(AclkStateView* v) const {
  v->online = online;
  v->banned = banned;
  v->publishLatencyUs = outbound.lastLatencyUs();
  v->receivedMessages = receivedMessages;
  v->receivedPubacks = outbound.pubacks();
  v->pendingPubacks = outbound.inflightCount();
  v->timedOutPubacks = outbound.timedOut();
  v->serverReceiveMaximum = serverReceiveMaximum;
  v->reconnectCount = connections > 0 ? connections - 1 : 0;
  v->times = times;
  if (online) {
    v->times.nextConnectionAttempt.reset();
    v->times.lastBackoffSeconds.reset();
  }
  v->aclkStatus = std::string(statusString(status));
  const auto& t = transport::transportCounters();
  v->counters = {
      {"connection-attempts", attempts},
      {"failed-connection-attempts", failedAttempts},
      {"connections", connections},
      {"messages-dropped-offline", droppedOffline},
      {"messages-dropped-queue-full", outbound.droppedQueueFull()},
      {"messages-dropped-too-big", droppedTooBig},
      {"publish-failures", outbound.failures()},
      {"malformed-inbound-messages", malformedInbound},
      // Refused from the packet header by the transport, or after Paho buffered it (a message
      // just over the limit): one count for the operator either way.
      {"inbound-messages-too-big", inboundTooBig + t.inboundTooBig.load()},
      {"bans", bans},
      {"session-takeovers", takeovers.total()},
      {"cloned-identity-suspected", takeovers.cloneSuspected(std::chrono::steady_clock::now()) ? 1u : 0u},
      {"outbound-bytes-in-flight", outbound.inflightBytes()},
      {"local-pipe-strangers-refused", t.localPipeStrangers.load()},
      {"transport-pingreqs-injected", t.injectedPingreqs.load()},
  };
}

void SharedLinkState::setStatus(AclkStatus status) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (status == state_.status) {
      return;
    }
    state_.status = status;
  }
  if (status == AclkStatus::kConnected) {
    spdlog::info("Netdata Cloud, ACLK connection status: {}", statusString(status));
  } else {
    spdlog::warn("Netdata Cloud, ACLK connection status: {}", statusString(status));
  }
}

}  // namespace aclkd::aclk
