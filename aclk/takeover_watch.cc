#include "aclk/takeover_watch.h"

namespace aclkd::aclk {

size_t TakeoverWatch::note(TimePoint now) {
  ++total_;
  recent_.push_back(now);
  while (!recent_.empty() && now - recent_.front() > kWindow) {
    recent_.pop_front();
  }
  if (recent_.size() < kTakeovers) {
    return 0;
  }
  lastBurst_ = now;
  if (lastWarning_ && now - *lastWarning_ < kWindow) {
    return 0;
  }
  lastWarning_ = now;
  return recent_.size();
}

}  // namespace aclkd::aclk
