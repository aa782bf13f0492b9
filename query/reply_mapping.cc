#include "query/reply_mapping.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/text.h"

namespace aclkd::query {
namespace {

// Not end-to-end: they describe the agent's connection, not the reply the cloud receives.
constexpr std::array<std::string_view, 6> kDropped = {"connection",        "keep-alive",
                                                      "transfer-encoding", "content-length",
                                                      "proxy-connection",  "upgrade"};

const char* errorDescription(int code) {
  switch (code) {
    case 1:
      return "URL requests node_id but there is not enough chars following (for it to be valid "
             "uuid).";
    case 2: return "Node with requested node_id not found";
    case 3: return "Error during zlib compression";
    case 4: return "Request reply produces message bigger than allowed maximum";
    case 5: return "Internal Topic Error";
    case 6: return "Timeout sending binpacked message";
    default: return "Unknown error";
  }
}

}  // namespace

aclk::CmdResult errorResult(int httpCode, int errorCode) {
  aclk::CmdResult r;
  r.httpCode = httpCode;
  r.errorCode = errorCode;
  r.errorDescription = errorDescription(errorCode);
  return r;
}

aclk::CmdResult gatewayAnswer(int code, const std::string& message) {
  aclk::LocalHttpResponse local;
  local.code = code;
  local.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                        nlohmann::json::error_handler_t::replace);
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  aclk::CmdResult r;
  r.httpCode = code;
  r.httpResponse = aclk::formatLocalHttpResponse(local, now);
  return r;
}

void readAgentHeaderLine(std::string_view line, ForwardResponse* response) {
  if (line.substr(0, 5) == "HTTP/") {
    response->headers.clear();
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    const auto reason =
        sp2 == std::string_view::npos ? std::string_view() : trimSpace(line.substr(sp2 + 1));
    // A reason with a control character would end the status line early: the standard one is
    // used instead.
    response->reason = hasControlChar(reason) ? "" : std::string(reason);
    return;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const auto name = trimSpace(line.substr(0, colon));
  const auto value = trimSpace(line.substr(colon + 1));
  // A bare CR or LF inside the line would start a header (or a body) of the agent's own in the
  // reply the cloud reads: such a header is dropped.
  if (hasControlChar(name) || hasControlChar(value)) return;
  response->headers.emplace_back(std::string(name), std::string(value));
}

aclk::CmdResult mapForwardResponse(const ForwardResponse& response, const std::string& agent,
                                   size_t maxReplyBytes) {
  switch (response.outcome) {
    case ForwardOutcome::kAnswered: break;
    case ForwardOutcome::kTooLarge: return errorResult(413, kErrorTooBig);
    case ForwardOutcome::kTimeout: return errorResult(503, kErrorTimeout);
    case ForwardOutcome::kCancelled: return gatewayAnswer(499, "cancelled by the cloud");
    case ForwardOutcome::kOverloaded: return gatewayAnswer(503, response.error);
    case ForwardOutcome::kUnreachable:
      return gatewayAnswer(503, "agent " + agent + " is unreachable: " + response.error);
  }
  const int code = static_cast<int>(response.status);
  std::string out = "HTTP/1.1 " + std::to_string(code) + " " +
                    (response.reason.empty() ? aclk::httpReasonPhrase(code) : response.reason) +
                    "\r\n";
  for (const auto& [name, value] : response.headers) {
    const auto l = asciiLower(name);
    if (std::find(kDropped.begin(), kDropped.end(), l) != kDropped.end()) continue;
    out += name + ": " + value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  if (out.size() + response.body.size() > maxReplyBytes) return errorResult(413, kErrorTooBig);
  out += response.body;
  aclk::CmdResult r;
  r.httpCode = code;
  r.httpResponse = std::move(out);
  return r;
}

aclk::CmdResult mapFunctionResult(stream_bridge::FunctionCallResult result,
                                  const std::string& node, size_t maxReplyBytes, int64_t now) {
  using stream_bridge::FunctionOutcome;
  switch (result.outcome) {
    case FunctionOutcome::kAnswered: break;
    case FunctionOutcome::kTooLarge: return errorResult(413, kErrorTooBig);
    case FunctionOutcome::kTimeout:
      return gatewayAnswer(504, "node '" + node + "': " + result.error);
    case FunctionOutcome::kCancelled: return gatewayAnswer(499, "cancelled by the cloud");
    case FunctionOutcome::kRefused: return gatewayAnswer(400, result.error);
    case FunctionOutcome::kOverloaded:
    case FunctionOutcome::kStreamGone:
      return gatewayAnswer(503, "node '" + node + "': " + result.error);
  }
  ForwardResponse r;
  r.outcome = ForwardOutcome::kAnswered;
  r.status = result.code;
  const bool tokenOnly =
      !result.contentType.empty() && result.contentType.size() < 128 &&
      std::all_of(result.contentType.begin(), result.contentType.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/+.;=_- ").find(c) != std::string_view::npos;
      });
  r.headers.emplace_back("Content-Type",
                         tokenOnly ? result.contentType : "application/octet-stream");
  r.headers.emplace_back("Cache-Control",
                         result.expires > now
                             ? "public, max-age=" + std::to_string(result.expires - now)
                             : std::string("no-cache, no-store, must-revalidate"));
  r.body = std::move(result.body);
  return mapForwardResponse(r, node, maxReplyBytes);
}

}  // namespace aclkd::query
