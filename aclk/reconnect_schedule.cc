#include "aclk/reconnect_schedule.h"

namespace aclkd::aclk {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

void ReconnectSchedule::restart() {
  blockUntil_.reset();
  backoff_.reset();
}

milliseconds ReconnectSchedule::next(bool banned, TimePoint now) {
  if (banned) {
    backoff_.reset();
    return duration_cast<milliseconds>(banRetry_);
  }
  if (blockUntil_) {
    const auto until = *blockUntil_;
    blockUntil_.reset();
    if (until > now) {
      backoff_.reset();
      return duration_cast<milliseconds>(until - now) + milliseconds(1);
    }
  }
  return backoff_.next();
}

}  // namespace aclkd::aclk
