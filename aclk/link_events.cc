#include "aclk/link_events.h"

namespace aclkd::aclk {

void LinkEvents::push(LinkEvent event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(event));
  }
  cv_.notify_one();
}

std::optional<LinkEvent> LinkEvents::pop(Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!cv_.wait_until(lock, deadline, [&] { return !queue_.empty(); })) {
    return std::nullopt;
  }
  LinkEvent event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

std::function<void(LinkEvent)> LinkEvents::weakPush(const std::shared_ptr<LinkEvents>& events) {
  return [weak = std::weak_ptr<LinkEvents>(events)](LinkEvent event) {
    if (auto queue = weak.lock()) queue->push(std::move(event));
  };
}

}  // namespace aclkd::aclk
