#include "web/http_request.h"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cctype>

namespace aclkd::web {
namespace {

namespace http = boost::beast::http;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string HttpRequest::header(const std::string& lowerName) const {
  const auto it = headers.find(lowerName);
  return it == headers.end() ? std::string() : it->second;
}

bool HttpRequest::wantsWebSocket() const {
  return lower(header("upgrade")) == "websocket" && !header("sec-websocket-key").empty();
}

HttpRequest toHttpRequest(const BeastRequest& head) {
  HttpRequest req;
  req.method = std::string(head.method_string());
  req.target = std::string(head.target());
  for (const auto& field : head) {
    req.headers.emplace(lower(field.name_string()), std::string(field.value()));
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
