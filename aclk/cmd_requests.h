#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "aclk/cmd_handler.h"
#include "aclk/http_command.h"

namespace aclkd::aclk {

// The cloud's `cmd` requests (docs/protocol/aclk.md §8): parsed, answered by the CmdHandler
// (asynchronously) or the local API (synchronously, on the link's thread), and replied to on the
// request's callback topic. The one inbound kind that carries HTTP rather than protobuf, so it sits
// apart from inbound_handlers.h. Link thread only, except what the CmdHandler's completion does:
// `post`.
class CmdRequests {
 public:
  // A CmdHandler's answer on its way back to the link's thread.
  struct Answer {
    std::string msgId;
    std::string callbackTopic;
    std::chrono::steady_clock::time_point started;
    CmdResult result;
  };
  using LocalApi =
      std::function<LocalHttpResponse(const std::string& method, const std::string& path)>;
  // Returns the publish id, 0 when the reply was not sent.
  using Publish = std::function<uint64_t(const std::string& topic, const std::string& payload)>;
  // Hands an answer to the link's thread (any thread; must only enqueue).
  using Post = std::function<void(Answer&&)>;

  CmdRequests(LocalApi localApi, std::shared_ptr<CmdHandler> handler, Publish publish, Post post)
      : localApi_(std::move(localApi)), handler_(std::move(handler)),
        publish_(std::move(publish)), post_(std::move(post)) {}

  // False when the request was malformed (answered 400 when it had a callback topic).
  bool handle(const std::string& payload, int64_t sessionId);
  // Publishes an answer that came back through `post`.
  void publishAnswer(const Answer& answer, int64_t sessionId);
  // CancelPendingRequest from the cloud.
  void cancel(const std::string& requestId);

 private:
  const LocalApi localApi_;
  const std::shared_ptr<CmdHandler> handler_;
  const Publish publish_;
  const Post post_;
};

}  // namespace aclkd::aclk
