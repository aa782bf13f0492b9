#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace aclkd::web {

// The head of one HTTP/1.1 request on the stream port (the operating surface and /live), parsed
// once with Boost.Beast's parser rather than by hand: request line, header fields (names
// lower-cased), limits. No bodies: the surface is read-only.
struct HttpRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case name → value

  std::string header(const std::string& lowerName) const;
  // GET /live with `Upgrade: websocket` and a Sec-WebSocket-Key (RFC 6455 §4.2.1).
  bool wantsWebSocket() const;
};

struct HttpParse {
  std::optional<HttpRequest> request;  // set when the head is complete and valid
  int status = 0;      // 0: complete or more bytes needed; else the error reply (400, 431)
  std::string error;   // why, for the log
};

// Parses `bytes` (everything read so far). Neither request nor status: more bytes are needed.
// Headers past `headerLimit` bytes give 431 (Request Header Fields Too Large), a malformed head
// 400.
HttpParse parseHttpRequest(std::string_view bytes, size_t headerLimit);

}  // namespace aclkd::web
