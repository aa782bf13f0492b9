#include "aclk/transport/wire_timers.h"

namespace aclkd::aclk::transport {

void WireTimers::packetSent(bool pingreq, TimePoint now) {
  lastSent_ = now;
  if (pingreq && !pingSentAt_) {
    pingSentAt_ = now;
  }
}

WireTimers::Verdict WireTimers::check(TimePoint now, bool mqttUp) {
  if (pingSentAt_ && now - *pingSentAt_ >= t_.pingResponse) {
    return Verdict::kPingTimeout;
  }
  if (now - lastProgress_ >= t_.noProgress) {
    return Verdict::kNoProgress;
  }
  if (mqttUp && !pingSentAt_ && now - lastSent_ >= t_.pingIdle) {
    idleBeforePing_ = std::chrono::duration_cast<std::chrono::milliseconds>(now - lastSent_);
    pingSentAt_ = now;
    lastSent_ = now;
    return Verdict::kSendPing;
  }
  return Verdict::kNone;
}

}  // namespace aclkd::aclk::transport
