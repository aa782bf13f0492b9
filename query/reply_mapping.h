#pragma once

#include <string>
#include <string_view>

#include "aclk/cmd_handler.h"
#include "query/forward_client.h"
#include "stream_bridge/function_calls.h"

namespace aclkd::query {

// docs/protocol/aclk.md §8.2 error codes the proxy produces.
inline constexpr int kErrorBadNodeId = 1;
inline constexpr int kErrorNodeNotFound = 2;
inline constexpr int kErrorTooBig = 4;
inline constexpr int kErrorTimeout = 6;

// A §8.2 error reply: http-code, error-code and the table's error-description for the code.
aclk::CmdResult errorResult(int httpCode, int errorCode);

// A plain HTTP answer of the gateway itself: `code` with a JSON body {"error": message}.
aclk::CmdResult gatewayAnswer(int code, const std::string& message);

// One header line of the agent's answer as libcurl hands it over (CRLF included): a status line
// starts the headers over (after a 100 Continue only the last response counts) and gives the
// reason phrase (the standard one is used when it has a control character); `Name: value` is
// kept trimmed; anything else, and a header with a control character (a bare CR or LF among
// them), is skipped.
void readAgentHeaderLine(std::string_view line, ForwardResponse* response);

// How the agent's answer (or its absence) reaches the cloud:
//   answered     the agent's status, reason and headers (minus hop-by-hop ones and
//                Content-Length, which is recomputed), its body untouched (gzip stays gzip);
//                a response bigger than `maxReplyBytes` -> 413 + EC 4
//   too large    413 + EC 4            timeout      503 + EC 6
//   unreachable  503 {"error": "agent <agent> is unreachable: <why>"}
//   overloaded   503 {"error": <why>}   cancelled    499 {"error": "cancelled by the cloud"}
aclk::CmdResult mapForwardResponse(const ForwardResponse& response, const std::string& agent,
                                   size_t maxReplyBytes);

// How a function call's end reaches the cloud (docs/protocol/aclk.md §8.3):
//   answered     the node's code, content type and body, with Cache-Control from its `expires`
//                (a content type with anything but token characters becomes
//                application/octet-stream: it is the child's text, and goes into a header)
//   timeout      504 {"error": …}       too large    413 + EC 4
//   stream gone  503 {"error": …}       overloaded   503 {"error": …}
//   cancelled    499                    refused      400 {"error": …}
aclk::CmdResult mapFunctionResult(stream_bridge::FunctionCallResult result,
                                  const std::string& node, size_t maxReplyBytes, int64_t nowSeconds);

}  // namespace aclkd::query
