#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aclkd::aclk {

// An HTTP request the cloud sends over the link on the `cmd` topic (docs/protocol/aclk.md §8.1).
struct CloudHttpRequest {
  std::string msgId;
  std::string callbackTopic;
  std::string method;  // GET, POST, PUT or DELETE
  std::string path;    // with the query string
  std::optional<int64_t> timeoutMs;
  std::string rawRequest;
};

// The outcome of reading one `cmd` payload. When `request` is empty, `error` names the offending
// field, and `msgId`/`callbackTopic` hold whatever could be read so that a 400 reply can still go
// back to the caller.
struct CmdParse {
  std::optional<CloudHttpRequest> request;
  std::string msgId;
  std::string callbackTopic;
  std::string error;
};

CmdParse parseCmd(std::string_view payload);

// What the gateway's local API answers to a cloud request.
struct LocalHttpResponse {
  int code = 200;
  std::string contentType = "application/json";
  std::string body;
};

// The reply of docs/protocol/aclk.md §8.2: a JSON header, "\r\n\r\n", then the full HTTP/1.1
// response.
std::string buildCmdReply(const std::string& msgId, const LocalHttpResponse& response,
                          int64_t sessionIdUs, int64_t nowUs, int64_t execUs);
// An error reply with `error-code` and `error-description` (docs/protocol/aclk.md §8.2 table).
std::string buildCmdErrorReply(const std::string& msgId, int httpCode, int errorCode,
                               const std::string& description, int64_t nowUs);
// The reply to an invalid request: the JSON header alone with http-code 400.
std::string buildCmdBadRequestReply(const std::string& msgId, int64_t nowUs);

}  // namespace aclkd::aclk
