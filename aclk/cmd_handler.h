#pragma once

#include <functional>
#include <string>

#include "aclk/http_command.h"

namespace aclkd::aclk {

// What answers one cloud `cmd` request (docs/protocol/aclk.md §8.2): either a complete HTTP/1.1
// response, or an error reply from the §8.2 table.
struct CmdResult {
  int httpCode = 200;
  // When errorCode is 0: the complete HTTP/1.1 response (status line, headers, blank line, body)
  // that follows the JSON header.
  std::string httpResponse;
  int errorCode = 0;  // §8.2 error-code; non-zero makes an error reply
  std::string errorDescription;
};

// Answers the cloud's `cmd` requests asynchronously, so that a slow agent never holds up the
// link's thread. `start` returns at once; `done` is called exactly once per started request
// (possibly from another thread, possibly before `start` returns), except after `cancelAll`.
// `done` must only hand the result over (the link enqueues it and publishes on its own thread).
class CmdHandler {
 public:
  using Completion = std::function<void(CmdResult)>;
  virtual ~CmdHandler() = default;
  virtual void start(const CloudHttpRequest& request, Completion done) = 0;
  // CancelPendingRequest: the request with this msg-id is abandoned; its completion reports it.
  // Unknown ids are ignored.
  virtual void cancel(const std::string& msgId) = 0;
};

// The complete HTTP/1.1 response of the gateway's own API, as buildCmdReply writes it.
std::string formatLocalHttpResponse(const LocalHttpResponse& response, int64_t nowUs);
// The reason phrase of a status code ("OK", "Not Found", …).
const char* httpReasonPhrase(int code);

// The §8.2 reply for a CmdResult: the JSON header, then (unless an error) the HTTP response.
std::string buildCmdResultReply(const std::string& msgId, const CmdResult& result,
                                int64_t sessionIdUs, int64_t nowUs, int64_t execUs);

}  // namespace aclkd::aclk
