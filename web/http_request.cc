#include "web/http_request.h"

#include <boost/beast/http/error.hpp>

#include "common/text.h"

namespace aclkd::web {
namespace {

namespace http = boost::beast::http;

}  // namespace

std::string HttpRequest::header(const std::string& lowerName) const {
  const auto it = headers.find(lowerName);
  return it == headers.end() ? std::string() : it->second;
}

bool HttpRequest::wantsWebSocket() const {
  return asciiLower(header("upgrade")) == "websocket" && !header("sec-websocket-key").empty();
}

HttpRequest toHttpRequest(const BeastRequest& head) {
  HttpRequest req;
  req.method = std::string(head.method_string());
  req.target = std::string(head.target());
  for (const auto& field : head) {
    req.headers.emplace(asciiLower(field.name_string()), std::string(field.value()));
  }
  return req;
}

int statusOfParseError(const boost::system::error_code& ec, size_t headerLimit,
                       std::string* error) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    *error = "request headers over " + std::to_string(headerLimit) + " bytes";
    return 431;
  }
  *error = "malformed HTTP request: " + ec.message();
  return 400;
}

}  // namespace aclkd::web
