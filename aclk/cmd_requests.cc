#include "aclk/cmd_requests.h"

#include <spdlog/spdlog.h>

#include "aclk/messages.h"
#include "common/untrusted_text.h"

namespace aclkd::aclk {
namespace {

using Clock = std::chrono::steady_clock;

int64_t usSince(Clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
}

}  // namespace

bool CmdRequests::handle(const std::string& payload, int64_t sessionId) {
  const auto started = Clock::now();
  const auto parsed = parseCmd(payload);
  if (!parsed.request) {
    spdlog::error("ACLK: cmd request rejected: {}", parsed.error);
    if (!parsed.callbackTopic.empty()) {
      publish_(parsed.callbackTopic, buildCmdBadRequestReply(parsed.msgId, unixTimeUs()));
    }
    return false;
  }
  const auto& req = *parsed.request;
  if (handler_) {
    handler_->start(req, [post = post_, msgId = req.msgId, topic = req.callbackTopic,
                          started](CmdResult result) {
      post(Answer{msgId, topic, started, std::move(result)});
    });
    return true;
  }
  LocalHttpResponse resp;
  if (localApi_) {
    resp = localApi_(req.method, req.path);
  } else {
    resp.code = 404;
    resp.body = "{\"error\":\"not found\"}";
  }
  publish_(req.callbackTopic, buildCmdReply(req.msgId, resp, sessionId, unixTimeUs(), usSince(started)));
  return true;
}

void CmdRequests::publishAnswer(const Answer& a, int64_t sessionId) {
  publish_(a.callbackTopic,
           buildCmdResultReply(a.msgId, a.result, sessionId, unixTimeUs(), usSince(a.started)));
}

void CmdRequests::cancel(const std::string& requestId) {
  if (handler_) {
    spdlog::debug("ACLK: cloud cancels request \"{}\"", escapeUntrusted(requestId));
    handler_->cancel(requestId);
  } else {
    // Without a handler `cmd` requests run synchronously, so none is ever pending.
    spdlog::info("ACLK: nothing to cancel for request \"{}\"", escapeUntrusted(requestId));
  }
}

}  // namespace aclkd::aclk
