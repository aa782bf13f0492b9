#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>

#include "aclk/alarm_source.h"
#include "aclk/cmd_requests.h"
#include "aclk/mqtt_client.h"

namespace aclkd::aclk {

// What the daemon and the control socket ask of the link (link.h: stop, reloadIdentity,
// nodesChanged).
enum class LinkCommand { kStop, kReload, kNodesChanged };

// Everything that reaches the link's thread: the MQTT session's reports, the owner's commands and
// the CmdHandler's answers and the alert relay's configuration answers (which the link's thread
// publishes).
using LinkEvent = std::variant<MqttEvent, LinkCommand, CmdRequests::Answer, AlarmConfigAnswer>;

// The link's one event queue, first in first out. Any thread pushes (Paho's callback thread, the
// daemon, the CmdHandler's workers); only the link's thread pops, and every wait of the state
// machine is a pop with a deadline, so a command never waits behind a timer.
class LinkEvents {
 public:
  using Clock = std::chrono::steady_clock;

  void push(LinkEvent event);
  // The next event, waiting until `deadline` at the most; nullopt when none came by then.
  std::optional<LinkEvent> pop(Clock::time_point deadline);

  // A push for threads that may outlive the link (the CmdHandler's completions). It holds the
  // queue weakly: once the link (the queue's one owner) is gone, what arrives is dropped. A weak
  // pointer rather than a cleared back-pointer under a lock of its own: the queue is all such a
  // thread needs, and the standard library already does "is it still there" without a race.
  static std::function<void(LinkEvent)> weakPush(const std::shared_ptr<LinkEvents>& events);

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<LinkEvent> queue_;
};

}  // namespace aclkd::aclk
