#pragma once

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <map>
#include <string>

namespace aclkd::web {

// The head of one HTTP/1.1 request on the stream port (the operating surface and /live), as
// Boost.Beast's parser read it: request line, header fields (names lower-cased). No bodies: the
// surface is read-only.
struct HttpRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case name → value

  std::string header(const std::string& lowerName) const;
  // `Upgrade: websocket` with a Sec-WebSocket-Key (RFC 6455 §4.2.1).
  bool wantsWebSocket() const;
};

using BeastRequest = boost::beast::http::request<boost::beast::http::empty_body>;

HttpRequest toHttpRequest(const BeastRequest& head);

// The reply to a head Beast's parser refused: 431 (Request Header Fields Too Large) past the
// header limit, else 400; `error` says why, for the log.
int statusOfParseError(const boost::system::error_code& ec, size_t headerLimit, std::string* error);

}  // namespace aclkd::web
